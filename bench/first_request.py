#!/usr/bin/env python3
"""first_request.py — is the first request after start-up as fast as later ones?

Starts `trident serve` (the model is preloaded at start-up), waits for "TRIDENT
backend ready", then times the first POST /api/analyze and N more on the same
recording, and prints the first time, the median of the later ones and their
ratio. The original Python prototype paid 15–20 s on its first request before it
preloaded; with the preload the ratio should be ~1.

usage: bench/first_request.py [--binary build/trident] [--model DIR] [--lora DIR]
                              [--audio FILE] [-n N] [--slots N] [--threads N]
A real-size random-weight model: trident model-gen --arch base --out /tmp/base
(This is a benchmark, not a test: it asserts nothing.)
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "server"))
from trident_client import Server  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("TRIDENT_SHARED", os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=os.path.join(here, "..", "build", "trident"))
ap.add_argument("--model", default=os.path.join(shared, "whisper-ref/models/tiny-random-v2"))
ap.add_argument("--lora", default=os.path.join(shared, "whisper-ref/lora/tiny-random-v2-lora-r8"))
ap.add_argument("--audio", default=os.path.join(shared, "audio/jfk.wav"))
ap.add_argument("-n", type=int, default=10)
ap.add_argument("--slots", default="1")
ap.add_argument("--threads", default="0")
args = ap.parse_args()

tmp = tempfile.mkdtemp(prefix="trident-bench-")
srv_args = ["--model", args.model, "--db", os.path.join(tmp, "bench.db"), "--slots", args.slots,
            "--threads", args.threads]
if args.lora:
    srv_args += ["--lora", args.lora]
t0 = time.time()
server = Server(args.binary, srv_args, {}, os.path.join(tmp, "server.log")).start(wait_ready=True, timeout=600)
startup = time.time() - t0
audio = open(args.audio, "rb").read()


def timed():
    t = time.perf_counter()
    status, _, body = server.upload(audio, os.path.basename(args.audio))
    dt = time.perf_counter() - t
    if status != 200 or body["asr"]["status"] != "ok":
        sys.exit("request failed: %s %s" % (status, body))
    return dt


first = timed()
later = [timed() for _ in range(args.n)]
server.stop()
med = statistics.median(later)
print("model:        %s%s" % (os.path.basename(args.model.rstrip("/")),
                              " + " + os.path.basename(args.lora.rstrip("/")) if args.lora else ""))
print("audio:        %s" % os.path.basename(args.audio))
print("start-up:     %.2f s (to 'TRIDENT backend ready', model preloaded)" % startup)
print("first:        %.3f s" % first)
print("later (n=%d): median %.3f s, min %.3f s, max %.3f s" % (args.n, med, min(later), max(later)))
print("first/later:  %.2f" % (first / med))
