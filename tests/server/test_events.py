"""test_events.py — GET /api/events (Server-Sent Events) on a real `trident serve`, the live
events' fields the original React front end reads, and the caller of a live call.

usage: test_events.py TRIDENT_BINARY SHARED_DIR [PG_URL]

One server on loopback without API tokens (open: every request acts as "local"; fixture model
tiny-random-v2, a temporary SQLite database): a stream
reader (stdlib sockets) sees `retry: 2000`, then one `event: call` per change — an upload
(created), a live call of jfk.wav (created, triage after each utterance, ended) and every
dispatch action — each with the call's state and queue as the API shows them; the live call's
WebSocket events carry the original front end's fields; keepalive comments arrive; the stream
cap answers 503 and /metrics counts the streams; SIGTERM ends open streams and the server
exits 0. With PG_URL (tests/store/run_postgres.sh): two servers on one PostgreSQL, a live call
started on A reaches a stream on B (the latency is printed, not asserted), also after the
relay's connection was killed.
"""
import array
import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import (Server, WebSocket, Refused, check_servers_exit_cleanly, run_server_tests,  # noqa: E402
                            wav_float32)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, test, tests, fixture_paths  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
PG_URL = sys.argv[3] if len(sys.argv) > 3 else None
MODEL, LORA, AUDIO_DIR, _ = fixture_paths(SHARED)
TMP = tempfile.mkdtemp(prefix="trident-events-test-")
CHANGES = {"created", "triage", "claimed", "released", "dispatched", "resolved", "cancelled", "duplicate",
           "override", "note", "ended"}
servers = []


def start(name, db=None, extra=()):
    args = ["--db", db or os.path.join(TMP, name + ".db"), "--model", MODEL, "--lora", LORA] + list(extra)
    s = Server(BINARY, args, {}, os.path.join(TMP, name + ".log")).start(wait_ready=True)
    servers.append(s)
    return s


def instance_of(s):
    return re.search(r"instance=([0-9a-f]+)", s.log_text()).group(1)


class EventStream:
    """A Server-Sent Events client over a plain socket: a thread parses the stream into
    ("retry", n), ("comment", text) and ("call", data dict) items on a queue."""

    def __init__(self, port, path="/api/events", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n%s\r\n"
                           % (path, port, extra)).encode())
        self.items = queue.Queue()
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        self.ended = threading.Event()
        self.sock.settimeout(None)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        event, data = None, []
        try:
            while True:
                while b"\n" not in self.buf:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise EOFError
                    self.buf += chunk
                line, _, self.buf = self.buf.partition(b"\n")
                line = line.decode("utf-8")
                if line == "":
                    if data:
                        self.items.put((event or "message", json.loads("\n".join(data)), time.monotonic()))
                    event, data = None, []
                elif line.startswith(":"):
                    self.items.put(("comment", line[1:].strip(), time.monotonic()))
                elif line.startswith("retry:"):
                    self.items.put(("retry", int(line[6:]), time.monotonic()))
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except (EOFError, OSError):
            pass
        self.ended.set()

    def next(self, kind, pred=lambda d: True, timeout=60):
        """The next item of kind satisfying pred (others are skipped); (data, monotonic time)."""
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                k, d, t = self.items.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            if k == kind and pred(d):
                return d, t
            seen.append((k, d))
        raise AssertionError("no %s item matching within %ss; saw %s" % (kind, timeout, seen[-10:]))

    def call(self, cid, change, timeout=60):
        return self.next("call", lambda d: d["id"] == cid and d["change"] == change, timeout)[0]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def post(s, path, who, body=None):
    """A lifecycle request; who only names the step in the test (loopback without tokens acts as "local")."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, resp = s.request("POST", path, data, headers)
    return status, (json.loads(resp) if resp else None)



SPEECH = wav_float32(os.path.join(AUDIO_DIR, "jfk.wav")) + array.array("f", [0.0] * 16000 * 2).tobytes()
STEP = 1600 * 4  # 100-ms messages


def ws_events(ws, until, timeout=120):
    out, deadline = [], time.time() + timeout
    while time.time() < deadline:
        ev = ws.recv_event(timeout=max(0.1, deadline - time.time()))
        if ev is None:
            break
        out.append(ev)
        if ev["type"] == until:
            return out
    raise AssertionError("no %s event; got %s" % (until, [e["type"] for e in out]))


def live_call(s, pace=8.0, path="/ws/live"):
    """A live call of jfk.wav + 2 s of silence, sent in 100-ms messages at pace × real time, ended
    with {"type": "end"}; returns (call id, every event received, messages sent)."""
    ws = WebSocket(s.port, path)
    events = [ws.recv_event(timeout=30)]
    check(events[0]["type"] == "connected", events[0])
    sent = 0
    for off in range(0, len(SPEECH), STEP):
        ws.send_binary(SPEECH[off:off + STEP])
        sent += 1
        time.sleep(0.1 / pace)
    ws.send_text(json.dumps({"type": "end"}))
    events += ws_events(ws, "call_ended")
    ws.close()
    return events[0]["call_id"], events, sent


state = {}


@test
def the_stream_opens_with_retry_and_sends_uploads():
    s = state["s"] = start("one")
    ev = state["ev"] = EventStream(s.port)
    check(ev.status == 200 and ev.headers.get("content-type") == "text/event-stream", (ev.status, ev.headers))
    check(ev.next("retry", timeout=10)[0] == 2000, "the stream opens with retry: 2000")
    wav = open(os.path.join(AUDIO_DIR, "jfk.wav"), "rb").read()
    status, _, a = s.upload(wav, "jfk.wav")
    check(status == 200, a)
    d = ev.call(a["call_id"], "created")
    check(set(d) == {"id", "change", "state", "queue", "server", "at"}, d)
    check(d["state"] == "waiting" and d["queue"] == a["triage"]["queue"] and d["server"] == instance_of(s), d)
    check(isinstance(d["at"], float) and abs(d["at"] - time.time()) < 60, d)
    state["upload"] = a["call_id"]


@test
def a_live_call_is_streamed_with_the_original_front_ends_fields():
    s, ev = state["s"], state["ev"]
    cid, events, sent = live_call(s)
    created = ev.call(cid, "created")
    check(created["state"] == "waiting" and created["queue"] is None, "a live call waits untriaged: %s" % created)
    completes = [e for e in events if e["type"] == "processing_complete"]
    check(completes, "no utterance analysed: %s" % [e["type"] for e in events])
    triage = [ev.call(cid, "triage") for _ in completes]
    check(all(t["queue"] in ("Q1-IMMEDIATE", "Q2-ELEVATED", "Q3-MONITOR", "Q5-REVIEW", "Q5-ROUTINE") for t in triage),
          triage)
    check(triage[-1]["queue"] == completes[-1]["triage"]["queue"], (triage[-1], completes[-1]["triage"]))
    ended = ev.call(cid, "ended")
    status, c = s.get_json("/api/calls/" + cid)
    check(ended["state"] == c["dispatch"]["state"] and ended["queue"] == c["dispatch"]["queue"], (ended, c["dispatch"]))
    # The original React front end (LiveCall.jsx) reads these fields (docs/api.md, compatibility).
    check(events[0].get("call_id") == cid and "message" in events[0], events[0])
    updates = [e for e in events if e["type"] == "buffer_update"]
    check(len(updates) == sent, "one buffer_update per message: %d of %d" % (len(updates), sent))
    check([u["chunks_received"] for u in updates] == list(range(1, sent + 1)), "chunks_received counts messages")
    check(all(isinstance(u["duration"], float) and u["duration"] == u["buffer_duration"] for u in updates),
          updates[:3])
    for pc in completes:
        for k in ("transcript", "confidence", "distress_score", "bio_acoustic", "triage"):
            check(k in pc, "processing_complete lacks %s" % k)
        check(pc["distress_score"] == pc["distress"], pc)
        bio = pc["bio_acoustic"]
        check(all(isinstance(bio[k], float) for k in ("f0_mean", "distress_score", "energy", "instability")), bio)
        check(all(k in pc["triage"] for k in ("queue", "priority_level", "dispatcher_action")), pc["triage"])
    fin = events[-1]
    an = fin.get("analysis")
    check(an and an["call_id"] == cid and an["chunks_processed"] == sent, fin)
    check(an["transcript"] == completes[-1]["transcript"] and an["triage"] == fin["final_analysis"]["triage"], an)
    check(abs(an["duration"] - fin["call_duration"]) < 1e-9 and an["confidence"] == completes[-1]["confidence"], an)
    check(an["distress_score"] == completes[-1]["distress"], an)
    state["live"] = cid


@test
def every_dispatch_action_is_streamed():
    s, ev = state["s"], state["ev"]
    up, live = state["upload"], state["live"]
    steps = [(up, "claim", "alice", None, "claimed", "claimed"),
             (up, "release", "alice", None, "released", "waiting"),
             (up, "claim", "bob", None, "claimed", "claimed"),
             (up, "override", "bob", {"queue": "Q1-IMMEDIATE", "reason": "caller screaming"}, "override", "claimed"),
             (up, "notes", "bob", {"note": "units on the way"}, "note", "claimed"),
             (up, "dispatch", "bob", None, "dispatched", "dispatched"),
             (up, "resolve", "bob", None, "resolved", "resolved"),
             (live, "duplicate", "alice", {"of": up}, "duplicate", "duplicate")]
    for cid, action, who, body, change, st in steps:
        status, resp = post(s, "/api/calls/%s/%s" % (cid, action), who, body)
        check(status == 200, "%s: %s %s" % (action, status, resp))
        d = ev.call(cid, change)
        check(d["state"] == st, "%s → %s" % (action, d))
        if action == "override":
            check(d["queue"] == "Q1-IMMEDIATE", d)
    status, _, a = s.upload(open(os.path.join(AUDIO_DIR, "jfk.wav"), "rb").read(), "jfk.wav")
    ev.call(a["call_id"], "created")
    status, body = post(s, "/api/queue/next", "alice")
    check(status == 200 and body["id"] == a["call_id"], (status, body))
    check(ev.call(a["call_id"], "claimed")["state"] == "claimed")
    status, body = post(s, "/api/calls/%s/cancel" % a["call_id"], "alice")
    check(status == 200 and ev.call(a["call_id"], "cancelled")["state"] == "cancelled", body)
    # A refused action changes nothing and publishes nothing.
    status, _ = post(s, "/api/calls/%s/claim" % a["call_id"], "bob")
    check(status == 409)
    status, _ = post(s, "/api/calls/%s/notes" % a["call_id"], "bob", {"note": "after the 409"})
    check(status == 200)
    d = ev.next("call", timeout=10)[0]
    check(d["change"] == "note" and d["id"] == a["call_id"], "the 409 published nothing: %s" % d)


@test
def a_live_call_keeps_its_caller():
    s, ev = state["s"], state["ev"]
    for query, want in (("?caller=%2B1%20876-555-0100", "+1 876-555-0100"), ("?caller=+18765550100", "+18765550100"),
                        ("?other=1&caller=Ana%20Mar%C3%ADa", "Ana Mar\u00eda")):
        ws = WebSocket(s.port, "/ws/live" + query)
        cid = ws.recv_event(timeout=30)["call_id"]
        ev.call(cid, "created")
        status, c = s.get_json("/api/calls/" + cid)
        check(status == 200 and c["caller"] == want, "%s → %r" % (query, c.get("caller")))
        status, q = s.get_json("/api/queue")
        check([x["caller"] for x in q["calls"] if x["id"] == cid] == [want], "the queue shows the caller")
        ws.send_text(json.dumps({"type": "end"}))
        ws_events(ws, "call_ended")
        ws.close()
    status, c = s.get_json("/api/calls/" + state["live"])
    check(c["caller"] is None, "no caller given: null")
    status, page = s.get_json("/api/calls?limit=1000")
    before = page["total"]
    for query in ("?caller=", "?caller=" + "1" * 65, "?caller=line%0Abreak", "?caller=nul%00", "?caller=%FF%FE",
                  "?caller=tab%09", "?caller=%C2%85"):
        try:
            WebSocket(s.port, "/ws/live" + query).close()
            check(False, "%s was accepted" % query)
        except Refused as e:
            body = json.loads(e.head.split(b"\r\n\r\n", 1)[1] or b"{}")
            check(e.status == 400 and "caller" in body.get("detail", ""), "%s: %s %s" % (query, e.status, body))
    status, page = s.get_json("/api/calls?limit=1000")
    check(status == 200 and page["total"] == before, "refused callers store nothing")


@test
def keepalive_comments_arrive():
    ev = state["ev"]
    text, _ = ev.next("comment", timeout=30)
    check(text == "keepalive", text)


@test
def streams_are_capped_counted_and_refused_methods():
    s = start("cap", extra=["--max-event-streams", "2"])
    a, b = EventStream(s.port), EventStream(s.port)
    a.next("retry", timeout=10)
    b.next("retry", timeout=10)
    c = EventStream(s.port)
    check(c.status == 503 and c.headers.get("retry-after"), (c.status, c.headers))
    c.ended.wait(10)
    c.close()
    m = s.metrics()
    check(m["trident_event_streams"] == 2 and m["trident_event_streams_max"] == 2, m.get("trident_event_streams"))
    check(m['trident_connections_refused_total{reason="event_streams_cap"}'] == 1)
    status, _, body = s.request("POST", "/api/events", b"")
    check(status == 405, (status, body))
    # /health and the API still answer while the streams are held.
    status, h = s.get_json("/health")
    check(status == 200, h)
    state["cap"] = (s, a, b)


@test
def with_tokens_a_stream_needs_read_access():
    db = os.path.join(TMP, "tokens.db")
    tokens = {}
    for name, role in (("vic", "viewer"), ("ingo", "ingest")):
        out = subprocess.run([BINARY, "token", "add", "--db", db, "--name", name, "--role", role],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, out.stderr)
        tokens[name] = {"Authorization": "Bearer " + out.stdout.strip()}
    s = Server(BINARY, ["--db", db], {}, os.path.join(TMP, "tokens.log")).start()
    servers.append(s)
    for headers, want in (({}, 401), (tokens["ingo"], 403), (tokens["vic"], 200)):
        ev = EventStream(s.port, headers=headers)
        check(ev.status == want, "%s: %s, want %s" % (headers and "token" or "none", ev.status, want))
        if want == 200:
            check(ev.next("retry", timeout=10)[0] == 2000)
        ev.close()


@test
def sigterm_ends_open_streams():
    s, a, b = state["cap"]
    rc = s.stop()
    check(rc == 0, "exit status %s" % rc)
    check(a.ended.wait(30) and b.ended.wait(30), "the streams ended with the server")


if PG_URL:
    def psql(sql):
        r = subprocess.run(["psql", PG_URL, "-Atc", sql], capture_output=True, text=True)
        check(r.returncode == 0, r.stderr)
        return r.stdout.strip()

    @test
    def a_live_call_on_a_reaches_a_stream_on_b():
        a = start("pg-a", db=PG_URL)
        b = start("pg-b", db=PG_URL)
        for s in (a, b):
            s.wait_log("relaying changes between servers", 30)
        ev = EventStream(b.port)
        ev.next("retry", timeout=10)
        t0 = time.monotonic()
        ws = WebSocket(a.port)
        cid = ws.recv_event(timeout=30)["call_id"]
        d, t = ev.call(cid, "created", timeout=30), time.monotonic()
        print("  B saw A's live call %.1f ms after A's WebSocket handshake began" % ((t - t0) * 1000))
        check(d["server"] == instance_of(a) and d["server"] != instance_of(b) and d["state"] == "waiting", d)
        ws.send_text(json.dumps({"type": "end"}))
        ws_events(ws, "call_ended")
        ws.close()
        check(ev.call(cid, "ended")["state"] == "cancelled", "no speech: abandoned, cancelled")
        # B's own changes reach its stream once (the relay skips its own notifications).
        status, _, up = b.upload(open(os.path.join(AUDIO_DIR, "jfk.wav"), "rb").read(), "jfk.wav")
        ev.call(up["call_id"], "created")
        status, _ = post(a, "/api/calls/%s/claim" % up["call_id"], "alice")
        check(status == 200 and ev.call(up["call_id"], "claimed")["server"] == instance_of(a))
        check(b.metrics()['trident_events_total{origin="relayed"}'] == 3)
        state["pg"] = (a, b, ev)

    @test
    def the_relay_reconnects_after_its_connection_is_killed():
        a, b, ev = state["pg"]
        killed = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE application_name = 'trident_events'")
        check(killed == "2", "both servers' listeners killed: %s" % killed)
        for s in (a, b):
            s.wait_log("the change relay lost its connection", 30)
        deadline = time.time() + 30
        while time.time() < deadline and b.log_text().count("relaying changes between servers") < 2:
            time.sleep(0.1)
        check(b.log_text().count("relaying changes between servers") >= 2, "B's relay reconnected")
        t0 = time.monotonic()
        ws = WebSocket(a.port)
        cid = ws.recv_event(timeout=30)["call_id"]
        ev.call(cid, "created", timeout=30)
        print("  after the reconnection: %.1f ms" % ((time.monotonic() - t0) * 1000))
        ws.send_text(json.dumps({"type": "end"}))
        ws_events(ws, "call_ended")
        ws.close()
        check(b.metrics()["trident_event_relay_up"] == 1)
        ev.close()


@test
def servers_exit_cleanly():
    check_servers_exit_cleanly(servers)


if __name__ == "__main__":
    if PG_URL:  # the SQLite tests ran in server_events already: only the two servers here
        tests[:] = [a_live_call_on_a_reaches_a_stream_on_b, the_relay_reconnects_after_its_connection_is_killed,
                    servers_exit_cleanly]
    sys.exit(run_server_tests("events", lambda: servers, TMP))
