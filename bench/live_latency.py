#!/usr/bin/env python3
"""live_latency.py — how long a live caller waits: end of speech → processing_complete.

Starts a real `trident serve` (model preloaded), opens WS /ws/live and streams
each recording in real time (100-ms float32 chunks), followed by 2 s of
silence. The server's VAD cuts it into utterances; for the clip's last one,
end of speech is when the client sent the chunk holding the utterance's end
(as processing_started reports it: speech plus the VAD's short post-roll), and
the latency runs from then to its processing_complete — so it includes the
VAD's silence hangover (0.6 s by default) and any earlier utterance still being
processed. The next clip starts when every utterance cut so far has completed.

usage: bench/live_latency.py --model DIR [--model DIR ...] [--threads 2] [--q8]
                             [--audio-ctx-fit both|on|off] [--audio FILE ...] [--json]
Prints a Markdown row per clip: model, encoder context (30 s or fitted), clip,
seconds of speech, utterances the VAD cut, latency, and the processing time of
the last utterance (processing_started → processing_complete).
Real-size random-weight models: trident model-gen --arch small --out /tmp/small
(random weights decode every utterance to the 224-token cap, a real model stops
after a few tokens per second of speech: their decode share is the worst case).
A benchmark: it asserts nothing.
"""
import argparse
import array
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "server"))
from trident_client import Server, WebSocket  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("TRIDENT_SHARED", os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=os.path.join(here, "..", "build", "trident"))
ap.add_argument("--model", action="append", required=True)
ap.add_argument("--threads", default="2")
ap.add_argument("--q8", action="store_true")
ap.add_argument("--audio-ctx-fit", default="both", choices=["both", "on", "off"])
ap.add_argument("--audio", action="append", help="recording (16-bit mono, 16 or 48 kHz); FILE@A-B: seconds A to B")
ap.add_argument("--json", action="store_true", help="also print one JSON object per run")
args = ap.parse_args()
# two single utterances (as the VAD cuts them): 2.8 s of jfk.wav, 6.7 s of call_1_calm.wav
clips = args.audio or [os.path.join(shared, "audio", f) for f in ("jfk.wav@0-3", "call_1_calm.wav@0-7.1")]


def float32_16k(spec):
    """A PCM16 WAV (16 or 48 kHz, mono; FILE@A-B: seconds A to B) as float32 16-kHz bytes (48 kHz: mean of 3)."""
    path, _, span = spec.partition("@")
    with wave.open(path) as w:
        rate, ch = w.getframerate(), w.getnchannels()
        if w.getsampwidth() != 2 or ch != 1 or rate not in (16000, 48000):
            sys.exit("%s: need 16-bit mono 16 or 48 kHz" % path)
        pcm = array.array("h", w.readframes(w.getnframes()))
    if rate == 48000:
        pcm = [(pcm[i] + pcm[i + 1] + pcm[i + 2]) / 3 for i in range(0, len(pcm) - 2, 3)]
    if span:
        a, b = (float(v) for v in span.split("-"))
        pcm = pcm[int(a * 16000):int(b * 16000)]
    return array.array("f", (x / 32768.0 for x in pcm)).tobytes()


def stream(ws, pcm, sent_at, chunk_s=0.1):
    """Sends pcm in real time, appending (call seconds sent so far, wall time) per chunk; returns the chunk count."""
    step = int(16000 * chunk_s) * 4
    t0, n = time.time(), 0
    for i, off in enumerate(range(0, len(pcm), step)):
        ws.send_binary(pcm[off:off + step])
        sent_at.append(((sent_at[-1][0] if sent_at else 0.0) + len(pcm[off:off + step]) / 4 / 16000, time.time()))
        n += 1
        wait = t0 + (i + 1) * chunk_s - time.time()
        if wait > 0:
            time.sleep(wait)
    return n


def run(model, fit):
    tmp = tempfile.mkdtemp(prefix="trident-live-")
    srv_args = ["--model", model, "--db", os.path.join(tmp, "live.db"), "--threads", args.threads]
    if args.q8:
        srv_args.append("--q8")
    if fit:
        srv_args.append("--audio-ctx-fit")
    server = Server(args.binary, srv_args, {}, os.path.join(tmp, "server.log")).start(wait_ready=True, timeout=1800)
    ws = WebSocket(server.port, timeout=1800)
    ws.recv_event(timeout=30)  # connected
    events = queue.Queue()  # (arrival time, event), read while the audio streams

    def reader():
        while True:
            try:
                ev = ws.recv_event(timeout=3600)
            except (OSError, EOFError):
                ev = None
            events.put((time.time(), ev))
            if ev is None:
                return

    threading.Thread(target=reader, daemon=True).start()
    silence = array.array("f", [0.0] * 16000 * 2).tobytes()
    rows, completed, sent, updates, cut, sent_at = [], 0, 0, 0, 0, []
    for clip in clips:
        pcm = float32_16k(clip)
        sent += stream(ws, pcm, sent_at)
        sent += stream(ws, silence, sent_at)
        last, proc, t_start, end_s, spans = None, [], {}, {}, []
        # done when every chunk has been acknowledged and every utterance cut so far has completed
        while updates < sent or completed < cut:
            t, ev = events.get(timeout=3600)
            if ev is None:
                sys.exit("the server closed the call")
            if ev["type"] == "buffer_update":
                updates += 1
                cut = max(cut, ev["utterances"])
            elif ev["type"] == "processing_started":
                t_start[ev["utterance_index"]] = t
                end_s[ev["utterance_index"]] = ev["end"]
                spans.append((round(ev["start"], 2), round(ev["end"], 2)))
            elif ev["type"] == "processing_complete":
                completed += 1
                i = ev["utterance_index"]
                # the utterance's end (speech + the VAD's post-roll) left the client with the chunk holding it
                speech_end = next(w for c, w in sent_at if c >= end_s[i] - 1e-6)
                last = t - speech_end
                proc.append(t - t_start[i])
            elif ev["type"] == "error":
                sys.exit("server error: %s" % ev)
        rows.append({"clip": os.path.basename(clip).replace("@", " "), "speech_s": round(len(pcm) / 4 / 16000, 2),
                     "latency_s": round(last, 3), "last_processing_s": round(proc[-1], 3),
                     "utterances": len(proc), "spans_s": spans})
    ws.send_text('{"type": "end"}')
    server.stop()
    ws.close()
    return rows


results = []
for model in args.model:
    for fit in ([False, True] if args.audio_ctx_fit == "both" else [args.audio_ctx_fit == "on"]):
        rows = run(model, fit)
        name = os.path.basename(os.path.normpath(model))
        for r in rows:
            print("| %s%s | %s | %s | %.1f | %d | %.2f | %.2f |" % (
                name, " q8" if args.q8 else "", "fit" if fit else "30 s", r["clip"], r["speech_s"],
                r["utterances"], r["latency_s"], r["last_processing_s"]), flush=True)
        results.append({"model": name, "q8": args.q8, "audio_ctx_fit": fit, "threads": int(args.threads),
                        "clips": rows, "median_latency_s": statistics.median(r["latency_s"] for r in rows)})
        if args.json:
            print(json.dumps(results[-1]), flush=True)
