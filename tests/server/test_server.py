"""test_server.py — integration tests of `trident serve` over real HTTP and WebSocket.

usage: test_server.py TRIDENT_BINARY SHARED_DIR

Starts the real server (fixture model tiny-random-v2 + LoRA tiny-random-v2-lora-r8,
a temporary SQLite database, a free loopback port) and drives it with Python's
standard library only: start-up order, /health while loading, /ready, lazy loading
with one load for 8 concurrent first requests, /api/analyze on every recording and
on espeak-ng speech in several formats and rates, a live call over WebSocket, a
restart, 503 on a full queue, and bad inputs of every kind.
"""
import array
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import Server, WebSocket, multipart, read_wav_pcm16_mono, wav_container, wav_float32  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import BIO_KEYS, QUEUES, TRIAGE_KEYS, check, fixture_paths, test, run_tests  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, RECORDINGS = fixture_paths(SHARED)
TMP = tempfile.mkdtemp(prefix="trident-server-test-")


def read_file(path):
    with open(path, "rb") as f:
        return f.read()



def check_analysis(a, expect_asr=True, model_name="tiny-random-v2"):
    for k in ("transcript", "confidence", "nlp", "bio_acoustic", "triage", "asr"):
        check(k in a, "analysis lacks %r: %s" % (k, a))
    check(isinstance(a["transcript"], str))
    check("entities" in a["nlp"] and "content_score" in a["nlp"], a["nlp"])
    check(0 <= a["nlp"]["content_score"] <= 1)
    check(BIO_KEYS <= set(a["bio_acoustic"]), a["bio_acoustic"])
    check(0 <= a["bio_acoustic"]["distress_score"] <= 1)
    check(TRIAGE_KEYS <= set(a["triage"]), a["triage"])
    check(a["triage"]["queue"] in QUEUES, a["triage"])
    if expect_asr:
        check(a["asr"]["status"] == "ok", a["asr"])
        check(a["transcript"].strip() != "", "empty transcript from the fixture model")
        check(0 < a["confidence"] <= 1, a["confidence"])
        check(a["asr"]["model"] == model_name and a["asr"]["lora"] == "tiny-random-v2-lora-r8", a["asr"])
    else:
        check(a["asr"]["status"] in ("failed", "skipped") and a["asr"]["reason"], a["asr"])
        check(a["confidence"] == 0 and a["transcript"] == "", a)
        check(a["triage"]["flag_audio_review"] is True, "low confidence must flag audio review")


def espeak_variants():
    """espeak-ng speech converted by sox to several formats, rates and channel counts."""
    src = os.path.join(TMP, "espeak.wav")
    subprocess.run(["espeak-ng", "-w", src, "Help! There is a fire at twelve King Street in Kingston, "
                    "my granny is not breathing."], check=True)
    variants = [
        ("s16_8k.wav", ["-r", "8000", "-e", "signed-integer", "-b", "16"]),
        ("ulaw_8k.wav", ["-r", "8000", "-e", "u-law"]),
        ("alaw_8k.wav", ["-r", "8000", "-e", "a-law"]),
        ("u8_11k.wav", ["-r", "11025", "-e", "unsigned-integer", "-b", "8"]),
        ("s24_32k_stereo.wav", ["-r", "32000", "-b", "24", "-c", "2"]),
        ("s32_48k.wav", ["-r", "48000", "-e", "signed-integer", "-b", "32"]),
        ("float_44k.wav", ["-r", "44100", "-e", "floating-point", "-b", "32"]),
        ("flac_44k.flac", ["-r", "44100"]),
        ("flac_16k_stereo.flac", ["-r", "16000", "-c", "2"]),
        ("vorbis_48k.ogg", ["-r", "48000"]),
        ("vorbis_22k.ogg", ["-r", "22050"]),
    ]
    with wave.open(src) as w:
        duration = w.getnframes() / w.getframerate()
    out = []
    for name, opts in variants:
        path = os.path.join(TMP, name)
        subprocess.run(["sox", src] + opts + [path], check=True)
        out.append((name, path))
    return duration, out


# ---------------------------------------------------------------------------------------------
# Server A: fixture model, slow load (TRIDENT_TEST_LOAD_DELAY_MS) to observe the loading state.

DB_A = os.path.join(TMP, "a", "calls.db")
os.makedirs(os.path.dirname(DB_A))
server = None
stored = {}  # id -> (kind, duration)


@test
def serve_help_lists_every_option_and_env_var():
    r = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    for env in ("TRIDENT_MODEL", "TRIDENT_LORA", "TRIDENT_DB", "TRIDENT_PORT", "TRIDENT_HOST", "TRIDENT_SLOTS",
                "TRIDENT_THREADS", "TRIDENT_QUEUE", "TRIDENT_MAX_UPLOAD_MB", "TRIDENT_MAX_WS_MESSAGE_KB",
                "TRIDENT_MAX_HEADER_KB", "TRIDENT_MAX_CALL_S", "TRIDENT_VAD_HANGOVER_S",
                "TRIDENT_TEST_LOAD_DELAY_MS", "TRIDENT_TRIAGE_RULES", "TRIDENT_MAX_LIVE_CALLS",
                "TRIDENT_MAX_CLIENT_CONNECTIONS", "TRIDENT_REQUEST_TIMEOUT_S", "TRIDENT_HTTP_THREADS"):
        check(env in r.stdout, "--help does not list " + env)
    r = subprocess.run([BINARY, "serve", "--slots", "zero"], capture_output=True, text=True)
    check(r.returncode == 2 and "--slots" in r.stderr, r.stderr)
    r = subprocess.run([BINARY, "serve", "--triage-rules", "matrix"], capture_output=True, text=True)
    check(r.returncode == 2 and "--triage-rules" in r.stderr and "paper or critical" in r.stderr, r.stderr)
    r = subprocess.run([BINARY, "serve"], capture_output=True, text=True,
                       env=dict(os.environ, TRIDENT_TRIAGE_RULES="strict"))
    check(r.returncode == 2 and "TRIDENT_TRIAGE_RULES" in r.stderr, r.stderr)


@test
def health_answers_while_the_model_loads_and_ready_flips():
    global server
    server = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", DB_A, "--max-upload-mb", "4",
                             "--max-ws-message-kb", "256"],
                    {"TRIDENT_TEST_LOAD_DELAY_MS": "2000"}, os.path.join(TMP, "a.log")).start()
    server.wait_log("Preloading ASR model (Whisper + LoRA)...")
    status, h = server.get_json("/health")
    check(status == 200, status)
    check(h["model"]["state"] == "loading", h)
    check(h["status"] == "loading" and h["model_loaded"] is False, h)
    status, r = server.get_json("/ready")
    check(status == 503 and r["ready"] is False, (status, r))
    server.wait_log("TRIDENT backend ready")
    status, r = server.get_json("/ready")
    check(status == 200 and r["ready"] is True, (status, r))
    status, h = server.get_json("/health")
    m = h["model"]
    check(m["state"] == "loaded" and m["name"] == "tiny-random-v2" and m["lora"] == "tiny-random-v2-lora-r8", m)
    check(m["load_ms"] > 0 and m["error"] is None, m)
    check(h["database"]["status"] == "connected" and h["database"]["backend"] == "sqlite", h["database"])
    for k in ("total_calls", "live_calls_saved", "uptime_s"):
        check(k in h, "health lacks " + k)


@test
def startup_order_and_log_lines():
    log = server.log_text()
    order = ["Initializing database...", "Database initialized successfully",
             "Preloading ASR model (Whisper + LoRA)...", "ASR model preloaded successfully", "TRIDENT backend ready"]
    pos = [log.find(s) for s in order]
    check(all(p >= 0 for p in pos), "missing start-up lines: %s\n%s" % (pos, log))
    check(pos == sorted(pos), "start-up lines out of order: %s\n%s" % (pos, log))
    for line in log.splitlines():
        if any(s in line for s in order):
            check(line.split(" ", 1)[0] in ("INFO", "WARN", "ERROR", "DEBUG") and ": " in line,
                  "log line not in the `LEVEL module: message` form: " + line)


@test
def root_info_cors_and_metrics():
    # same origin only by default (no --cors-origin): no CORS header for another site (test_access.py has the list)
    status, headers, data = server.request("GET", "/", headers={"Origin": "http://localhost:3000"})
    check(status == 200 and "access-control-allow-origin" not in headers and
          headers.get("x-content-type-options") == "nosniff", headers)
    check("endpoints" in json.loads(data))
    status, headers, _ = server.request("OPTIONS", "/api/analyze", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    check(status == 204 and "access-control-allow-origin" not in headers, (status, headers))
    status, headers, data = server.request("GET", "/metrics")
    check(status == 200 and headers["content-type"].startswith("text/plain"), headers)
    m = server.metrics()
    for name in ('trident_model_state{state="loaded"}', "trident_inference_queue_depth", "trident_live_sessions",
                 'trident_stored_calls{kind="upload"}', 'trident_http_requests_total{route="/health",code="2xx"}',
                 'trident_http_request_duration_seconds_count{route="/health"}',
                 "trident_inference_queue_wait_seconds_count"):
        check(name in m, "metric missing: " + name)
    check(m['trident_model_state{state="loaded"}'] == 1)
    check(m['trident_model_loads_total{outcome="started"}'] == 1 and
          m['trident_model_loads_total{outcome="succeeded"}'] == 1)


@test
def analyze_every_shared_recording():
    for name in RECORDINGS:
        data = read_file(os.path.join(AUDIO_DIR, name))
        status, headers, a = server.upload(data, name)
        check(status == 200, "%s: %s %s" % (name, status, a))
        check_analysis(a)
        with wave.open(os.path.join(AUDIO_DIR, name)) as w:
            dur = w.getnframes() / w.getframerate()
        check(abs(a["duration"] - dur) < 0.01, (name, a["duration"], dur))
        cid = a["call_id"]
        stored[cid] = ("upload", dur)
        status, c = server.get_json("/api/calls/" + cid)
        check(status == 200 and c["id"] == cid and c["kind"] == "upload" and c["status"] == "completed", c)
        check(c["transcript"] == a["transcript"] and abs(c["confidence"] - a["confidence"]) < 1e-9, c)
        check(c["queue"] == a["triage"]["queue"] and c["filename"] == name, c)
        status, headers, wav = server.request("GET", "/api/calls/%s/audio" % cid)
        check(status == 200 and headers["content-type"] == "audio/wav", (status, headers))
        rate, n = read_wav_pcm16_mono(wav)
        check(rate == 16000 and abs(n / 16000 - dur) < 0.01, (rate, n, dur))


@test
def analyze_matches_the_cli_pipeline():
    path = os.path.join(AUDIO_DIR, "jfk.wav")
    status, _, a = server.upload(read_file(path), "jfk.wav")
    check(status == 200)
    stored[a["call_id"]] = ("upload", 11.0)
    r = subprocess.run([BINARY, "analyze", "--model", MODEL, "--lora", LORA, "--json", path],
                       capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    cli = json.loads(r.stdout)
    check(cli["transcript"] == a["transcript"], (cli["transcript"], a["transcript"]))
    check(abs(cli["confidence"] - a["confidence"]) < 1e-9)
    check(cli["triage"] == a["triage"] and cli["nlp"] == a["nlp"] and cli["bio_acoustic"] == a["bio_acoustic"])


@test
def analyze_espeak_speech_in_many_formats_and_rates():
    duration, variants = espeak_variants()
    for name, path in variants:
        status, _, a = server.upload(read_file(path), name)
        check(status == 200, "%s: %s %s" % (name, status, a))
        check_analysis(a)
        check(abs(a["duration"] - duration) < 0.05, (name, a["duration"], duration))
        check(a["bio_acoustic"]["voiced_frames"] > 0, (name, a["bio_acoustic"]))
        stored[a["call_id"]] = ("upload", duration)


def stream_live_call(ws, pcm_bytes, chunk_s=0.1, pace=1.0):
    """Streams float32 PCM in chunk_s chunks at `pace` × real time; returns the events received so far."""
    events, step = [], int(16000 * chunk_s) * 4
    t0 = time.time()
    for i, off in enumerate(range(0, len(pcm_bytes), step)):
        ws.send_binary(pcm_bytes[off:off + step])
        wait = t0 + (i + 1) * chunk_s / pace - time.time()
        if wait > 0:
            time.sleep(wait)
    return events


def drain(ws, until_type, timeout=60):
    events = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        ev = ws.recv_event(timeout=max(0.1, deadline - time.time()))
        if ev is None:
            break
        events.append(ev)
        if ev["type"] == until_type:
            return events
    raise AssertionError("no %r event; got %s" % (until_type, [e["type"] for e in events]))


@test
def live_call_over_websocket():
    speech = wav_float32(os.path.join(AUDIO_DIR, "jfk.wav"))
    silence = array.array("f", [0.0] * 16000 * 2).tobytes()
    ws = WebSocket(server.port)
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "connected" and len(ev["call_id"]) == 36, ev)
    cid = ev["call_id"]
    status, c = server.get_json("/api/live-calls/" + cid)
    check(status == 200 and c["status"] == "in_progress", c)
    # Real-time-sized chunks (100 ms), sent at 4× real time to keep the test short.
    stream_live_call(ws, speech + silence, chunk_s=0.1, pace=4.0)
    events = drain(ws, "processing_complete", timeout=60)
    check(any(e["type"] == "buffer_update" for e in events), "no buffer_update")
    check(any(e["type"] == "processing_started" for e in events), "no processing_started")
    pc = events[-1]
    for k in ("transcript", "transcript_chunk", "confidence", "distress", "content_score", "bio_acoustic", "triage",
              "call_duration"):
        check(k in pc, "processing_complete lacks " + k)
    check(pc["transcript_chunk"] and pc["transcript_chunk"] in pc["transcript"], pc)
    check(0 < pc["confidence"] <= 1 and 0 <= pc["distress"] <= 1, pc)
    check(pc["triage"]["queue"] in QUEUES)
    # The record is written as each utterance completes, before the call ends.
    status, c = server.get_json("/api/live-calls/" + cid)
    check(status == 200 and c["status"] == "in_progress" and c["utterance_count"] >= 1, c)
    check(c["transcript"] != "", c)
    ws.send_text(json.dumps({"type": "end"}))
    events += drain(ws, "call_ended", timeout=60)
    ws.close()
    completes = [e for e in events if e["type"] == "processing_complete"]
    ended = events[-1]
    check(ended["final_analysis"] and ended["utterance_count"] == len(completes), ended)
    check(abs(ended["call_duration"] - (len(speech) + len(silence)) / 4 / 16000) < 0.01, ended["call_duration"])
    # Duration-weighted aggregates: the final confidence is the last event's.
    check(abs(ended["final_analysis"]["confidence"] - completes[-1]["confidence"]) < 1e-9)
    status, c = server.get_json("/api/live-calls/" + cid)
    check(status == 200 and c["status"] == "completed" and c["kind"] == "live", c)
    check(c["utterance_count"] == len(completes) and c["transcript"] == completes[-1]["transcript"], c)
    check(c["queue"] == completes[-1]["triage"]["queue"], c)
    status, headers, wav = server.request("GET", "/api/calls/%s/audio" % cid)
    check(status == 200 and headers["content-type"] == "audio/wav")
    rate, n = read_wav_pcm16_mono(wav)
    check(rate == 16000 and n == (len(speech) + len(silence)) // 4, (rate, n))
    status, page = server.get_json("/api/live-calls?limit=10&offset=0")
    check(status == 200 and any(x["id"] == cid for x in page["calls"]), page)
    check(all(x["kind"] == "live" for x in page["calls"]))
    q = c["queue"]
    status, page = server.get_json("/api/live-calls?queue=" + q)
    check(status == 200 and all(x["queue"] == q for x in page["calls"]) and page["total"] >= 1, page)
    stored[cid] = ("live", n / 16000)
    m = server.metrics()
    check(m["trident_live_sessions_total"] >= 1 and m["trident_live_sessions"] == 0, m)


def count_calls():
    status, h = server.get_json("/health")
    return h["total_calls"]


def assert_stored_intact():
    for cid, (kind, dur, *final) in stored.items():
        status, c = server.get_json("/api/calls/" + cid)
        check(status == 200 and c["kind"] == kind and c["status"] == (final[0] if final else "completed"),
              (cid, status, c))
        status, _, wav = server.request("GET", "/api/calls/%s/audio" % cid)
        check(status == 200 and abs(read_wav_pcm16_mono(wav)[1] / 16000 - dur) < 0.06, (cid, dur))


def expect_error(status, body, want_status, words):
    check(status == want_status, "expected %d, got %d %s" % (want_status, status, body))
    check(isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], body)
    low = body["detail"].lower()
    check(any(w in low for w in words), "unclear detail %r (wanted one of %s)" % (body["detail"], words))


@test
def bad_uploads_get_clear_4xx_and_the_server_keeps_serving():
    before = count_calls()
    jfk = read_file(os.path.join(AUDIO_DIR, "jfk.wav"))
    status, _, b = server.upload(b"this is not audio at all, just text\n" * 20, "notes.txt")
    expect_error(status, b, 400, ["audio", "format", "recogni", "decode"])
    status, _, b = server.upload(jfk[:30], "truncated.wav")
    expect_error(status, b, 400, ["truncat", "format", "decode", "audio", "header", "short"])
    status, _, b = server.upload(jfk[:1000] + b"\x00" * 0, "truncated2.wav")
    check(status in (200, 400), status)  # a header + a few samples is short audio or a clear error
    if status == 200:
        stored[b["call_id"]] = ("upload", b["duration"])
        before += 1
    status, headers, data = server.request("POST", "/api/analyze", b"", {"Content-Type": "multipart/form-data; boundary=x"})
    expect_error(status, json.loads(data), 400, ["empty"])
    status, _, b = server.upload(b"", "empty.wav")
    expect_error(status, b, 400, ["empty"])
    big = os.urandom(5 * 1024 * 1024)
    body, ctype = multipart({"file": ("big.wav", big)})
    status, headers, data = server.request("POST", "/api/analyze", body, {"Content-Type": ctype})
    expect_error(status, json.loads(data), 413, ["limit", "exceed", "large"])
    status, headers, data = server.request("POST", "/api/analyze", json.dumps({"file": "x"}),
                                           {"Content-Type": "application/json"})
    expect_error(status, json.loads(data), 415, ["multipart"])
    status, _, b = server.upload(jfk, "jfk.wav", field="audio")
    expect_error(status, b, 422, ["file", "required"])
    # A float WAV with NaN and Inf samples.
    for bad in (float("nan"), float("inf"), float("-inf")):
        samples = array.array("f", [0.1 * math.sin(i / 10) for i in range(16000)])
        samples[5000] = bad
        path = os.path.join(TMP, "bad.wav")
        with open(path, "wb") as f:
            f.write(wav_container(samples.tobytes(), float32=True))
        status, _, b = server.upload(read_file(path), "nan.wav")
        expect_error(status, b, 400, ["nan", "inf", "finite"])
    status, _, data = server.request("GET", "/api/analyze")
    check(status == 405)
    check(count_calls() == before, "bad uploads changed the number of stored calls")
    status, _, a = server.upload(jfk, "jfk.wav")
    check(status == 200)
    stored[a["call_id"]] = ("upload", 11.0)
    assert_stored_intact()


@test
def unknown_and_malicious_call_ids_are_404():
    ids = [str(uuid.uuid4()), "not-a-uuid", "..%2F..%2Fetc%2Fpasswd", "%27%20OR%201%3D1%20--",
           "x" * 5000, "%00", "1;DROP%20TABLE%20calls", "%2e%2e", str(uuid.uuid4()).upper()]
    for cid in ids:
        for path in ("/api/calls/%s", "/api/live-calls/%s", "/api/calls/%s/audio"):
            status, _, data = server.request("GET", path % cid)
            check(status in (404, 400), "%s -> %d" % (path % cid, status))
            body = json.loads(data)
            check(body.get("detail"), body)
    upload_id = next(cid for cid, (k, _) in stored.items() if k == "upload")
    status, _, _ = server.request("GET", "/api/live-calls/" + upload_id)
    check(status == 404, "an upload is not a live call")
    for q in ("limit=-1", "limit=abc", "offset=-5", "limit=100000", "status=bogus"):
        status, _, data = server.request("GET", "/api/calls?" + q)
        check(status == 400 and json.loads(data)["detail"], (q, status))
    status, _, _ = server.request("GET", "/no/such/route")
    check(status == 404)
    assert_stored_intact()


@test
def bad_websocket_messages_get_error_events():
    before = count_calls()
    ws = WebSocket(server.port)
    cid = ws.recv_event(timeout=10)["call_id"]
    ws.send_text("hello")
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "error" and "binary" in ev["message"], ev)
    ws.send_binary(b"\x00\x00\x80\x3f\x00\x00")  # 6 bytes
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "error" and "multiple of 4" in ev["message"], ev)
    for bad in (float("nan"), float("inf")):
        ws.send_binary(array.array("f", [0.0, 0.5, bad, 0.1]).tobytes())
        ev = ws.recv_event(timeout=10)
        check(ev["type"] == "error" and ("nan" in ev["message"].lower() or "inf" in ev["message"].lower()), ev)
    # The call goes on after the bad messages.
    ws.send_binary(array.array("f", [0.0] * 1600).tobytes())
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "buffer_update" and abs(ev["call_duration"] - 0.1) < 1e-6, ev)
    # An oversized message (limit 256 kB): error, then the server closes the connection.
    ws.send_binary(b"\x00" * (300 * 1024))
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "error" and "limit" in ev["message"], ev)
    ws.close()
    time.sleep(0.3)
    status, c = server.get_json("/api/live-calls/" + cid)  # silence only: no speech, abandoned
    check(status == 200 and c["status"] == "abandoned" and abs(c["duration"] - 0.1) < 1e-6, c)
    stored[cid] = ("live", 0.1, "abandoned")
    check(count_calls() == before + 1)
    status, h = server.get_json("/health")
    check(status == 200 and h["model"]["state"] == "loaded")
    assert_stored_intact()


@test
def records_survive_a_restart():
    global server
    total = count_calls()
    rc = server.stop()
    check(rc == 0, "exit status %s" % rc)
    log = server.log_text()
    check("Shutting down" in log and "Shutdown complete" in log, log[-2000:])
    server = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", DB_A, "--max-call-s", "2",
                             "--max-header-kb", "8"], {}, os.path.join(TMP, "a2.log")).start(wait_ready=True)
    check(count_calls() == total)
    status, page = server.get_json("/api/calls?limit=1000")
    check(status == 200 and page["total"] == total and {c["id"] for c in page["calls"]} >= set(stored), page["total"])
    assert_stored_intact()


@test
def call_length_and_header_size_limits():
    before = count_calls()
    status, headers, data = server.request("GET", "/health", headers={"X-Padding": "a" * 20000})
    check(400 <= status < 500, status)
    check("--max-header-kb" in json.loads(data)["detail"], data)
    status, _, b = server.upload(read_file(os.path.join(AUDIO_DIR, "jfk.wav")), "jfk.wav")  # 11 s > 2 s
    expect_error(status, b, 413, ["--max-call-s"])
    check(count_calls() == before)
    ws = WebSocket(server.port)
    cid = ws.recv_event(timeout=10)["call_id"]
    chunk = array.array("f", [0.0] * 8000).tobytes()  # 0.5 s
    events = []
    for _ in range(6):
        ws.send_binary(chunk)
    while not events or events[-1]["type"] != "call_ended":
        ev = ws.recv_event(timeout=30)
        if ev is None:
            break
        events.append(ev)
    ws.close()
    errors = [e for e in events if e["type"] == "error"]
    check(errors and "length limit" in errors[0]["message"], [e["type"] for e in events])
    check(events[-1]["type"] == "call_ended" and abs(events[-1]["call_duration"] - 2.0) < 1e-6, events[-1])
    status, c = server.get_json("/api/live-calls/" + cid)  # silence only: no speech, abandoned
    check(status == 200 and c["status"] == "abandoned" and abs(c["duration"] - 2.0) < 1e-6, c)
    stored[cid] = ("live", 2.0, "abandoned")
    assert_stored_intact()


@test
def live_call_is_finalised_on_shutdown():
    global server
    ws = WebSocket(server.port)
    cid = ws.recv_event(timeout=10)["call_id"]
    ws.send_binary(wav_float32(os.path.join(AUDIO_DIR, "jfk.wav"))[:16000 * 4 * 2])
    ws.recv_event(timeout=10)
    rc = server.stop(timeout=60)
    check(rc == 0)
    ws.close()
    server = Server(BINARY, ["--db", DB_A], {}, os.path.join(TMP, "a3.log")).start(wait_ready=True)
    status, c = server.get_json("/api/live-calls/" + cid)  # cut by the shutdown: interrupted, recording kept
    check(status == 200 and c["status"] == "interrupted" and abs(c["duration"] - 2.0) < 1e-6, c)
    status, _, wav = server.request("GET", "/api/calls/%s/audio" % cid)
    check(status == 200 and read_wav_pcm16_mono(wav)[1] == 32000)
    stored[cid] = ("live", 2.0, "interrupted")
    # Without a model the server still analyses: the distress path triages.
    status, _, a = server.upload(read_file(os.path.join(AUDIO_DIR, "jfk.wav")), "jfk.wav")
    check(status == 200, a)
    check_analysis(a, expect_asr=False)
    stored[a["call_id"]] = ("upload", 11.0)
    server.stop()


# ---------------------------------------------------------------------------------------------
# Lazy loading: the model directory is broken at start-up and repaired later.

@test
def preload_failure_lazy_mode_and_exactly_one_load_for_8_concurrent_requests():
    global server
    model_dir = os.path.join(TMP, "model-later")
    os.makedirs(model_dir)
    for f in os.listdir(MODEL):
        if f != "model.safetensors":
            shutil.copy(os.path.join(MODEL, f), model_dir)
    with open(os.path.join(model_dir, "model.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{corrupt")
    server = Server(BINARY, ["--model", model_dir, "--lora", LORA, "--db", os.path.join(TMP, "lazy.db")],
                    {"TRIDENT_TEST_LOAD_DELAY_MS": "1500"}, os.path.join(TMP, "lazy.log")).start(wait_ready=True)
    log = server.log_text()
    check("ASR model will be loaded on first request (lazy loading)" in log, log)
    check("ASR model preloaded successfully" not in log)
    status, h = server.get_json("/health")
    check(status == 200 and h["model"]["state"] == "lazy" and h["model"]["error"], h)
    status, _, _ = server.request("GET", "/ready")
    check(status == 503)
    jfk = read_file(os.path.join(AUDIO_DIR, "jfk.wav"))

    def burst():
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            return list(ex.map(lambda i: server.upload(jfk, "jfk%d.wav" % i), range(8)))

    # Still corrupt: one lazy load, its failure reported to all 8 waiting requests,
    # each still triaged on the distress path.
    started = server.metrics()['trident_model_loads_total{outcome="started"}']
    for status, _, a in burst():
        check(status == 200, (status, a))
        check_analysis(a, expect_asr=False)
        check(a["asr"]["status"] == "failed" and "load" in a["asr"]["reason"], a["asr"])
    m = server.metrics()
    check(m['trident_model_loads_total{outcome="started"}'] == started + 1, m)
    status, h = server.get_json("/health")
    check(h["model"]["state"] == "failed" and h["model"]["error"], h["model"])
    # Repaired: the next burst loads it exactly once, every request gets a transcript.
    shutil.copy(os.path.join(MODEL, "model.safetensors"), os.path.join(model_dir, "model.safetensors"))
    for status, _, a in burst():
        check(status == 200, (status, a))
        check_analysis(a, model_name="model-later")
    m = server.metrics()
    check(m['trident_model_loads_total{outcome="started"}'] == started + 2, m)
    check(m['trident_model_loads_total{outcome="succeeded"}'] == 1, m)
    status, _, _ = server.request("GET", "/ready")
    check(status == 200)
    check(server.log_text().count("ASR model loaded successfully") == 1)
    server.stop()


@test
def full_queue_answers_503_with_retry_after():
    global server
    server = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", os.path.join(TMP, "busy.db"), "--queue", "1",
                             "--slots", "1", "--threads", "1"], {}, os.path.join(TMP, "busy.log")).start(wait_ready=True)
    long_wav = read_file(os.path.join(SHARED, "whisper-ref/calls_long_16k.wav"))
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        res = list(ex.map(lambda i: server.upload(long_wav, "long%d.wav" % i), range(12)))
    codes = [r[0] for r in res]
    check(200 in codes and 503 in codes, codes)
    for status, headers, body in res:
        if status == 503:
            check(headers.get("retry-after") and "queue" in body["detail"], (headers, body))
    m = server.metrics()
    check(m["trident_inference_rejected_total"] == codes.count(503), m)
    status, h = server.get_json("/health")
    check(h["total_calls"] == codes.count(200), h)


@test
def a_short_upload_is_not_stuck_behind_a_long_one():
    # 106 s (calls_long twice, 4+ windows of 30 s) on one slot; a short upload sent while
    # the long one's first window runs is decoded before the long one's later windows.
    with wave.open(os.path.join(SHARED, "whisper-ref/calls_long_16k.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    path = os.path.join(TMP, "very_long.wav")
    with wave.open(path, "wb") as w:
        w.setparams(params)
        w.writeframes(frames * 2)
    long_wav, short_wav = read_file(path), read_file(os.path.join(AUDIO_DIR, "jfk.wav"))
    done = []
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fut_long = ex.submit(lambda: (server.upload(long_wav, "long.wav"), done.append("long")))
        deadline = time.time() + 60
        while server.metrics()["trident_inference_slots_busy"] < 1 and time.time() < deadline:
            time.sleep(0.005)
        fut_short = ex.submit(lambda: (server.upload(short_wav, "short.wav"), done.append("short")))
        (s_status, _, s_body), _ = fut_short.result()
        (l_status, _, l_body), _ = fut_long.result()
    check(s_status == 200 and l_status == 200, (s_status, l_status))
    check(done == ["short", "long"], done)
    # One long-form transcription, not fixed 30-s slices: the transcript and the number of
    # windows are those of `trident transcribe` with the pipeline's parameters
    # (pipeline_asr_params: language en, timestamps, temperature 0 only, no conditioning).
    for wav_path, body in ((path, l_body), (os.path.join(AUDIO_DIR, "jfk.wav"), s_body)):
        r = subprocess.run([BINARY, "transcribe", "--model", MODEL, "--lora", LORA, "--json", "--language", "en",
                            "--timestamps", "--temperature", "0", "--condition-on-previous-text", "off",
                            wav_path],
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, r.stderr)
        cli = json.loads(r.stdout)
        check(body["transcript"] == cli["text"].strip(), (wav_path, body["transcript"], cli["text"]))
        check(abs(body["confidence"] - cli["confidence"]) < 1e-9, (wav_path, body["confidence"], cli["confidence"]))
        seeks = [w["seek"] for w in cli["windows"]]
        n_windows = sum(1 for i, sk in enumerate(seeks) if i == 0 or sk != seeks[i - 1])
        check(body["asr"]["windows"] == n_windows, (wav_path, body["asr"], n_windows))
    check(l_body["asr"]["windows"] >= 4, l_body["asr"])  # 106 s: at least 4 windows, each a scheduling turn
    server.stop()


# Tests after which their server is not used again (a failure must not leave it running).
LAST_USE = {"live_call_is_finalised_on_shutdown", "preload_failure_lazy_mode_and_exactly_one_load_for_8_concurrent_requests",
            "a_short_upload_is_not_stuck_behind_a_long_one"}


def main():
    def on_failure(fn):
        if server and server.proc:
            print("---- server log (tail) ----\n" + server.log_text()[-4000:], flush=True)
            if server.proc.poll() is None and fn.__name__ in LAST_USE:
                server.stop()  # the test owning this server failed before stopping it

    def finish(failed):
        if server and server.proc and server.proc.poll() is None:
            server.stop()
        if not failed:
            shutil.rmtree(TMP, ignore_errors=True)

    return run_tests("server", on_failure, finish)


if __name__ == "__main__":
    sys.exit(main())
