"""test_live_abuse.py — one client cannot take `trident serve` down, and every live call
ends in a true final state (issue 15's WebSocket, capacity, smuggling and live-call cases).

usage: test_live_abuse.py TRIDENT_BINARY SHARED_DIR

Drives the real server (fixture model, a temporary SQLite database, a free loopback
port, small limits: 3 live calls, 4 connections per client address) with Python's
standard library, plus Debian's python3-websockets as a real-world client. Every
case sends the exact input of the attack campaign; /health is probed from another
loopback address (127.0.0.2, another client) with a 1-s timeout while it runs.
"""
import array
import http.client
import json
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import (Refused, Server, WebSocket, connect, raw_exchange, read_wav_pcm16_mono,  # noqa: E402
                            run_server_tests)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, fixture_paths, test  # noqa: E402
import trident_testing  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, _ = fixture_paths(SHARED)
TMP = tempfile.mkdtemp(prefix="trident-abuse-test-")
DB = os.path.join(TMP, "calls.db")
OTHER = "127.0.0.2"  # another client: a loopback source address of its own
MAX_LIVE, MAX_CLIENT = 3, 4


def speech():
    """jfk.wav (11 s, 16-kHz mono PCM16) as float32 little-endian bytes."""
    with wave.open(os.path.join(AUDIO_DIR, "jfk.wav")) as w:
        check(w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2)
        pcm = array.array("h", w.readframes(w.getnframes()))
    return array.array("f", (x / 32768.0 for x in pcm)).tobytes()


SPEECH = speech()
CHUNK = 1600 * 4  # 100 ms


def start_server(extra=(), name="server"):
    return Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", DB, "--max-live-calls", str(MAX_LIVE),
                           "--max-client-connections", str(MAX_CLIENT), "--max-call-s", "6",
                           "--request-timeout-s", "3", "--max-ws-message-kb", "256"] + list(extra), {},
                  os.path.join(TMP, name + ".log")).start(wait_ready=True)


server = start_server()


def health_from_elsewhere():
    """GET /health from another client address; it must answer 200 within 1 s."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1, source_address=(OTHER, 0))
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        body = r.read()
        check(r.status == 200, (r.status, body))
        return json.loads(body)
    finally:
        conn.close()


def get_call(cid):
    status, c = server.get_json("/api/calls/" + cid)
    check(status == 200, (status, c))
    return c


def wait_final(cid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = get_call(cid)
        if c["status"] != "in_progress":
            return c
        time.sleep(0.05)
    raise AssertionError("call %s still in progress: %s" % (cid, c))


def open_call(source=None):
    ws = WebSocket(server.port, source=source, timeout=30)
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "connected", ev)
    return ws, ev["call_id"]


def feed(ws, audio):
    """Sends audio in 100-ms chunks, reading the events as they come; returns them."""
    events = []
    for i in range(0, len(audio), CHUNK):
        ws.send_binary(audio[i:i + CHUNK])
        while True:
            ev = ws.recv_event(timeout=30)
            events.append(ev)
            if ev["type"] == "buffer_update":
                break
    return events


def end_call(ws):
    """{"type":"end"}: every event up to call_ended, then the server's close frame (code)."""
    ws.send_text(json.dumps({"type": "end"}))
    events = []
    while True:
        op, data = ws.recv(timeout=120)
        if op == 8:
            ws.close()
            return events, struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
        events.append(json.loads(data))


def close_code(ws, timeout=30):
    """Reads to the server's close frame; returns its status code."""
    while True:
        op, data = ws.recv(timeout=timeout)
        if op == 8:
            return struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None


class Prober:
    """Probes /health from another client address every 100 ms while a case runs."""

    def __init__(self):
        self.failures, self.count, self.stop = [], 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                health_from_elsewhere()
                self.count += 1
            except Exception as e:  # noqa: BLE001 — a timeout or refusal is the failure
                self.failures.append(repr(e))
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        check(not self.failures, "/health did not answer within 1 s: %s" % self.failures[:3])
        check(self.count >= 1, "no /health probe ran")


# ---------------------------------------------------------------------------------------------


@test
def json_nested_1000_deep_refused_while_another_call_goes_on():
    with Prober():
        json_bomb_case()


def json_bomb_case():
    a, a_id = open_call()
    feed(a, SPEECH[:CHUNK * 10])
    b, b_id = open_call()
    b.send_text("[" * 1000 + "]" * 1000)  # the campaign's crashing message
    ev = b.recv_event(timeout=10)
    check(ev["type"] == "error" and "nested deeper than 32" in ev["message"], ev)
    for bomb in ('{"a":' * 1000 + "1" + "}" * 1000, "[" * 100000):
        b.send_text(bomb)
        ev = b.recv_event(timeout=10)
        check(ev["type"] == "error" and "nested deeper" in ev["message"], ev)
    b.send_text('{"type": "hello", "x": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"]]]"}')  # brackets in a string
    ev = b.recv_event(timeout=10)
    check(ev["type"] == "error" and "not audio" in ev["message"], ev)
    feed(b, SPEECH[:CHUNK * 5])  # b's own call goes on too
    events = feed(a, SPEECH[CHUNK * 10:CHUNK * 30])
    check(events[-1]["type"] == "buffer_update" and abs(events[-1]["call_duration"] - 3.0) < 1e-6, events[-1])
    events, code = end_call(a)
    check(code == 1000 and events[-1]["type"] == "call_ended" and events[-1]["status"] == "completed", (code, events[-1]))
    check(get_call(a_id)["status"] == "completed")
    b.close()
    check(wait_final(b_id)["status"] in ("completed", "abandoned"))
    health_from_elsewhere()


@test
def ambiguous_request_framing_is_refused_400_and_the_rest_never_runs():
    smuggled = b"GET /api/calls HTTP/1.1\r\nHost: x\r\n\r\n"
    cases = [
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: %d\r\n\r\nabcd" % (
            4 + len(smuggled)) + smuggled,
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
        b"0\r\n\r\n" + smuggled,
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" + smuggled,
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" + smuggled,
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd" + smuggled,
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n" + smuggled,
    ]
    for raw in cases:
        out = raw_exchange(server.port, raw)
        check(out.startswith(b"HTTP/1.1 400 "), (raw[:120], out[:200]))
        check(out.count(b"HTTP/1.1 ") == 1, "a second response: the smuggled request ran: %r" % out)
        check(b"ambiguous" in out, out)
    # A well-formed keep-alive pipeline still works: two responses.
    out = raw_exchange(server.port, b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n"
                                    b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(out.count(b"HTTP/1.1 200 ") == 2, out)
    health_from_elsewhere()


@test
def thirty_two_idle_connections_do_not_block_health_or_other_clients():
    with Prober():
        idle = [connect(server.port, timeout=10) for _ in range(32)]
        time.sleep(0.5)
        # All but MAX_CLIENT are refused at once with 503 and closed; none of them sent a byte.
        refused = 0
        for s in idle:
            s.settimeout(0.05)
            try:
                data = s.recv(4096)
                if data == b"" or data.startswith(b"HTTP/1.1 503 "):
                    refused += 1
            except socket.timeout:
                pass
            except ConnectionResetError:
                refused += 1
        check(refused == 32 - MAX_CLIENT, "refused %d of 32" % refused)
        # Another client gets the dashboard and /ready meanwhile.
        for path in ("/ready", "/dashboard/"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1, source_address=(OTHER, 0))
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            check(r.status == 200, (path, r.status))
        # The held ones end after the request timeout (3 s here) with nothing sent.
        for s in idle:
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            s.close()
    status, _ = server.get_json("/health")  # the same address is welcome again
    check(status == 200)
    check(server.metrics()['trident_connections_refused_total{reason="client_limit"}'] >= 32 - MAX_CLIENT)


@test
def forty_websockets_at_once_the_cap_answers_503_and_calls_go_on():
    with Prober():
        socks, refusals = [], []
        lock = threading.Lock()

        def attempt():
            try:
                ws = WebSocket(server.port, timeout=10)
                with lock:
                    socks.append(ws)
            except Refused as r:
                with lock:
                    refusals.append(r)
            except OSError as e:  # refused at accept: reset before the handshake completed
                with lock:
                    refusals.append(e)

        threads = [threading.Thread(target=attempt) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(len(socks) == MAX_LIVE and len(socks) + len(refusals) == 40, (len(socks), len(refusals)))
        statuses = {r.status for r in refusals if isinstance(r, Refused)}
        check(statuses <= {503}, statuses)
        # The accepted calls work.
        for ws in socks:
            check(ws.recv_event(timeout=10)["type"] == "connected")
            ev = feed(ws, SPEECH[:CHUNK * 3])[-1]
            check(ev["type"] == "buffer_update", ev)
        # The next call, from another address, is refused with 503 + Retry-After naming the flag.
        try:
            WebSocket(server.port, source=OTHER, timeout=10)
            check(False, "a call beyond --max-live-calls was accepted")
        except Refused as r:
            check(r.status == 503 and b"Retry-After:" in r.head and b"--max-live-calls" in r.head, r.head)
        for ws in socks:
            ws.close()
    check(server.metrics()['trident_connections_refused_total{reason="live_cap"}'] >= 1)
    # Slots come back: a new call is accepted.
    deadline = time.time() + 10
    while True:
        try:
            ws, cid = open_call()
            break
        except Refused:
            check(time.time() < deadline, "live-call slots were not released")
            time.sleep(0.1)
    ws.close()
    wait_final(cid)


@test
def ping_gets_pong_and_close_handshakes_follow_rfc_6455():
    ws, cid = open_call()
    ws.send_frame(0x9, b"are you there")
    op, data = ws.recv(timeout=10, control=True)
    check(op == 0xA and data == b"are you there", (op, data))
    feed(ws, SPEECH[:CHUNK * 20])
    ws.send_frame(0x8, struct.pack(">H", 1000) + b"bye")  # the client closes
    events = []
    while True:
        op, data = ws.recv(timeout=60)
        if op == 8:
            break
        events.append(json.loads(data))
    check(struct.unpack(">H", data[:2])[0] == 1000, data)  # the close is answered with its code
    check(events and events[-1]["type"] == "call_ended" and events[-1]["status"] == "completed", events[-1:])
    ws.sock.close()
    c = wait_final(cid)
    check(c["status"] == "completed" and c["utterance_count"] >= 1, c)
    # Reserved bits without an extension: close 1002, the call ends truncated.
    ws, cid = open_call()
    feed(ws, SPEECH[:CHUNK * 20])
    ws.send_frame(0x2, SPEECH[:CHUNK], rsv=0x40)
    check(close_code(ws, timeout=60) == 1002)
    ws.sock.close()
    c = wait_final(cid)
    check(c["status"] == "truncated" and "reserved bits" in c["status_reason"], c)
    # A close frame with a status code that may not be sent: 1002.
    ws, cid = open_call()
    ws.send_frame(0x8, struct.pack(">H", 1005))
    check(close_code(ws) == 1002)
    ws.sock.close()
    check(wait_final(cid)["status"] == "abandoned")
    # A continuation frame with no message to continue: 1002.
    ws, cid = open_call()
    ws.send_frame(0x0, SPEECH[:CHUNK])
    check(close_code(ws) == 1002)
    ws.sock.close()
    wait_final(cid)
    health_from_elsewhere()


FRAME_GUARD_TEST = "a_frame_declaring_gigabytes_is_cut_before_the_server_holds_them"


@test
def a_frame_declaring_gigabytes_is_cut_before_the_server_holds_them():
    # civetweb allocates a frame's declared length and reads it all before any handler
    # sees it: without the frame guard one connection fills 1.2 GB in 2.5 s.
    ws, cid = open_call()
    feed(ws, SPEECH[:CHUNK * 10])
    ws.sock.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", 1900 << 20) + b"\0\0\0\0")
    chunk, sent = b"\0" * (1 << 20), 0
    try:
        while sent < 2048:
            ws.sock.sendall(chunk)
            sent += 1
    except OSError:
        pass
    print("  cut after %d MB sent (limit 256 kB + slack)" % sent)
    check(sent < 512, "the server read %d MB of one frame" % sent)
    ws.sock.close()
    c = wait_final(cid)
    check(c["status"] == "truncated", c)
    server.wait_log("live call cut: a WebSocket frame of more than 262144 bytes", timeout=10)
    check(server.metrics().get('trident_connections_refused_total{reason="frame_too_large"}') == 1, "metric")
    health_from_elsewhere()


@test
def python3_websockets_client_keeps_its_call_through_keepalive_pings():
    import asyncio
    import websockets  # Debian's python3-websockets (scripts/setup.sh)

    async def call():
        # Pings every 0.5 s and gives up after 2 s without a pong (its defaults: 20 s / 20 s;
        # the campaign's client: 5 s / 10 s), also while the last utterance is analysed
        # after "end".
        async with websockets.connect("ws://127.0.0.1:%d/ws/live" % server.port, ping_interval=0.5,
                                      ping_timeout=2, max_size=None) as ws:
            connected = json.loads(await ws.recv())
            for i in range(0, CHUNK * 40, CHUNK):  # 4 s of speech in real time: 8 pings
                await ws.send(SPEECH[i:i + CHUNK])
                await asyncio.sleep(0.1)
            await ws.send(json.dumps({"type": "end"}))
            while True:
                ev = json.loads(await ws.recv())
                if ev["type"] == "call_ended":
                    return connected["call_id"], ev

    cid, ended = asyncio.run(call())
    check(ended["status"] == "completed" and abs(ended["call_duration"] - 4.0) < 1e-6, ended)
    check(wait_final(cid)["status"] == "completed")


@test
def poisoned_samples_are_refused_and_the_call_ends_true():
    with Prober():
        poisoned_case()


def poisoned_case():
    ws, cid = open_call()
    feed(ws, SPEECH[:CHUNK * 15])
    for poison, name in ((1e18, "1e+18"), (-3e38, "-3e+38"), (12000.0, "12000")):
        ws.send_binary(array.array("f", [0.0, 0.1, poison, 0.2]).tobytes())
        ev = ws.recv_event(timeout=30)
        while ev["type"] != "error":  # utterance events from the speech may come first
            ev = ws.recv_event(timeout=30)
        check("sample 2 is " + name in ev["message"] and "[-1, 1]" in ev["message"], ev)
    events = feed(ws, SPEECH[CHUNK * 15:CHUNK * 40])
    check(abs(events[-1]["call_duration"] - 4.0) < 1e-6, events[-1])  # nothing of the poison was kept
    events, code = end_call(ws)
    done = [e for e in events if e["type"] == "processing_complete"]
    ended = events[-1]
    check(ended["type"] == "call_ended" and ended["status"] == "completed", ended)
    check(ended["utterance_count"] >= 1 and all(0 <= e["confidence"] <= 1 for e in done), ended)
    c = wait_final(cid)
    check(c["status"] == "completed" and c["utterance_count"] == ended["utterance_count"], (c, ended))
    check(0 <= c["confidence"] <= 1 and c["queue"], c)
    status, _, wav = server.request("GET", ended["audio_url"])
    check(status == 200 and read_wav_pcm16_mono(wav)[1] == 16000 * 4, status)


@test
def every_live_call_ends_in_a_true_final_state():
    # Silence only: abandoned, in no queue.
    ws, cid = open_call()
    feed(ws, array.array("f", [0.0] * 16000 * 2).tobytes())
    events, code = end_call(ws)
    check(events[-1]["status"] == "abandoned" and code == 1000, events[-1])
    c = wait_final(cid)
    check(c["status"] == "abandoned" and c["queue"] is None and "no speech" in c["status_reason"], c)
    # Speech, then the connection drops without a close handshake: truncated, with how much arrived.
    ws, cid = open_call()
    feed(ws, SPEECH[:CHUNK * 25])
    ws.sock.shutdown(socket.SHUT_RDWR)
    ws.sock.close()
    c = wait_final(cid)
    check(c["status"] == "truncated" and "connection was lost" in c["status_reason"] and
          abs(c["duration"] - 2.5) < 1e-6 and c["audio_url"], c)
    # Speech up to the length limit (6 s here): truncated, closed by the server.
    ws, cid = open_call()
    for i in range(0, CHUNK * 70, CHUNK):
        ws.send_binary(SPEECH[i:i + CHUNK])
    check(close_code(ws, timeout=120) == 1000)
    ws.sock.close()
    c = wait_final(cid)
    check(c["status"] == "truncated" and "length limit" in c["status_reason"] and abs(c["duration"] - 6.0) < 1e-6, c)
    status, page = server.get_json("/api/live-calls?status=truncated")
    check(status == 200 and cid in {x["id"] for x in page["calls"]}, page)


@test
def kill_9_mid_call_leaves_an_interrupted_call_with_its_recording():
    global server
    ws, cid = open_call()
    events = feed(ws, SPEECH[:CHUNK * 40])
    while not any(e["type"] == "processing_complete" for e in events):
        events.append(ws.recv_event(timeout=60))
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    server.log.close()
    ws.sock.close()
    server = start_server(name="after-kill")
    check("marked calls interrupted" in server.log_text())
    c = get_call(cid)
    check(c["status"] == "interrupted" and c["utterance_count"] >= 1 and c["status_reason"], c)
    check(c["audio_url"] == "/api/calls/%s/audio" % cid, c)
    status, _, wav = server.request("GET", c["audio_url"])
    check(status == 200 and read_wav_pcm16_mono(wav)[1] == 16000 * 4, status)
    health_from_elsewhere()


@test
def shutdown_mid_call_interrupts_it_with_its_recording():
    global server
    ws, cid = open_call()
    feed(ws, SPEECH[:CHUNK * 20])
    check(server.stop() == 0)
    ws.sock.close()
    server = start_server(name="after-stop")
    c = get_call(cid)
    check(c["status"] == "interrupted" and "shut down" in c["status_reason"] and c["audio_url"], c)
    status, counts = server.get_json("/health")
    check(status == 200 and counts["database"]["calls_in_progress"] == 0, counts)


def main():
    # The frame guard's test runs as a ctest of its own (server_frame_guard, not under ASan):
    # civetweb logs the cut connection with vsnprintf on its 100-KB worker stack, which
    # ASan's interceptor overflows (civetweb's code, not ours; the plain build has room).
    only_frame = sys.argv[3:] == ["frame-guard"]
    trident_testing.tests[:] = [t for t in trident_testing.tests if (t.__name__ == FRAME_GUARD_TEST) == only_frame]
    return run_server_tests("frame-guard" if only_frame else "live-abuse", lambda: [server], TMP, tail=4000)


if __name__ == "__main__":
    sys.exit(main())
