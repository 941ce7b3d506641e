"""test_dispatch.py — the dispatch floor over HTTP: identities, the lifecycle routes, the queue and
concurrent claim-next.

usage: test_dispatch.py TRIDENT_BINARY [PG_URL]

Drives a real `trident serve` (no model: uploads are stored without ASR, fast) on a temporary
SQLite database, seeded through POST /api/analyze only; the dispatchers are API tokens made with
`trident token add` (the token's name is who the history names). Checks 401/403 for missing,
unknown and viewer tokens, an override by a dispatcher (supervisors only), and a loopback server
without tokens (auth off: the history says "local"); every lifecycle route; 409 with the current
state; 400 for bad bodies (override without a reason, JSON bombs); the queue order and overdue
flags; and 4 dispatcher threads claiming 200 waiting calls as fast as they can — every call claimed
exactly once, none lost. With PG_URL (tests/store/run_postgres.sh starts a throw-away PostgreSQL),
only the claim race runs, on 2 servers sharing that database.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import Server, WebSocket, check_servers_exit_cleanly, run_server_tests, tone_wav  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, test, tests  # noqa: E402

BINARY = sys.argv[1]
PG_URL = sys.argv[2] if len(sys.argv) > 2 else None
TMP = tempfile.mkdtemp(prefix="trident-dispatch-test-")
ROLES = {"alice": "dispatcher", "bob": "dispatcher", "carol": "dispatcher", "dan": "dispatcher", "vera": "viewer",
         "sue": "supervisor"}
TOKENS = {}  # db -> name -> token
servers = []


def add_tokens(db):
    """The test's people as API tokens in db (trident token add); their names capitalised, as the history shows."""
    TOKENS[db] = {}
    for name, role in ROLES.items():
        out = subprocess.run([BINARY, "token", "add", "--db", db, "--name", name.capitalize(), "--role", role],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0 and out.stdout.startswith("trd_"), "token add %s: %s" % (name, out.stderr))
        TOKENS[db][name] = out.stdout.strip()


def start(name, db=None, extra=None, tokens=True):
    db = db or os.path.join(TMP, name + ".db")
    if tokens and db not in TOKENS:
        add_tokens(db)
    s = Server(BINARY, ["--db", db] + (extra or []), {}, os.path.join(TMP, name + ".log")).start()
    s.tokens = TOKENS.get(db, {})
    servers.append(s)
    return s


def auth(s, who="vera"):
    return {"Authorization": "Bearer " + s.tokens[who]} if s.tokens else {}


WAV = tone_wav()


def seed(s, n):
    """n uploads (by a dispatcher); returns their ids."""
    ids = []
    for _ in range(n):
        status, _, body = s.upload(WAV, headers=auth(s, "alice"))
        check(status == 200 and body and body.get("call_id"), "upload: %s %s" % (status, body))
        ids.append(body["call_id"])
    return ids


def post(s, path, who=None, body=None, token=None):
    headers = {}
    if who or token:
        headers["Authorization"] = "Bearer " + (token or s.tokens[who])
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, resp = s.request("POST", path, data, headers)
    return status, (json.loads(resp) if resp else None)


@test
def identities_are_required():
    # Loopback without tokens: auth is off, and the history names the one local user.
    s = start("noauth", tokens=False)
    [cid] = seed(s, 1)
    status, body = post(s, "/api/calls/%s/claim" % cid)
    check(status == 200 and body["dispatch"]["claimed_by"] == "local", "auth off: claimed by local: %s %s" %
          (status, body))
    check("auth is off" in s.log_text(), "the log says auth is off")
    s.stop()

    s = start("auth")
    [cid] = seed(s, 1)
    status, _ = post(s, "/api/queue/next")
    check(status == 401, "no token: %s" % status)
    status, _ = post(s, "/api/queue/next", token="not-a-known-token-123")
    check(status == 401, "unknown token: %s" % status)
    status, body = post(s, "/api/calls/%s/claim" % cid, "vera")
    check(status == 403 and "viewer" in body["detail"], "viewer: %s %s" % (status, body))
    status, body = post(s, "/api/calls/%s/override" % cid, "alice", {"queue": "Q1-IMMEDIATE", "reason": "x"})
    check(status == 403 and "supervisor" in body["detail"], "a dispatcher cannot override: %s %s" % (status, body))
    status, q = s.get_json("/api/queue", auth(s))
    check(q["calls"][0]["dispatch"]["state"] == "waiting" and q["calls"][0]["dispatch"]["queue_override"] is None,
          "nothing changed by refused requests")


@test
def lifecycle_over_http():
    s = start("life")
    a, b, c = seed(s, 3)
    status, body = post(s, "/api/calls/%s/claim" % a, "alice", {"note": "on it"})
    check(status == 200 and body["dispatch"]["state"] == "claimed" and body["dispatch"]["claimed_by"] == "Alice",
          "claim: %s %s" % (status, body))
    status, body = post(s, "/api/calls/%s/claim" % a, "bob")
    check(status == 409 and body["dispatch"]["state"] == "claimed" and body["dispatch"]["claimed_by"] == "Alice"
          and "Alice" in body["detail"], "409 with the current state: %s %s" % (status, body))
    status, body = post(s, "/api/calls/%s/release" % a, "alice")
    check(status == 200 and body["dispatch"]["state"] == "waiting", "release: %s" % body)
    status, body = post(s, "/api/calls/%s/claim" % a, "bob")
    check(status == 200 and body["dispatch"]["claimed_by"] == "Bob", "bob claims")
    status, body = post(s, "/api/calls/%s/dispatch" % a, "bob", {"note": "ambulance 12"})
    check(status == 200 and body["dispatch"]["state"] == "dispatched", "dispatch: %s" % body)
    status, body = post(s, "/api/calls/%s/resolve" % a, "alice")
    check(status == 409 and body["dispatch"]["state"] == "dispatched", "alice cannot resolve bob's call")
    status, body = post(s, "/api/calls/%s/resolve" % a, "bob")
    check(status == 200 and body["dispatch"]["state"] == "resolved", "resolve")
    status, body = post(s, "/api/calls/%s/notes" % a, "carol", {"note": "caller thanked us"})
    check(status == 200 and body["dispatch"]["state"] == "resolved", "note: %s %s" % (status, body))
    status, body = post(s, "/api/calls/%s/notes" % a, "carol", {})
    check(status == 400, "a note needs text: %s" % status)
    # Override: 400 without a reason or with an unknown queue.
    status, body = post(s, "/api/calls/%s/override" % b, "sue", {"queue": "Q1-IMMEDIATE"})
    check(status == 400 and "reason" in body["detail"], "override without reason: %s %s" % (status, body))
    status, body = post(s, "/api/calls/%s/override" % b, "sue", {"queue": "Q0-NOW", "reason": "x"})
    check(status == 400, "override to an unknown queue: %s" % status)
    status, body = post(s, "/api/calls/%s/override" % b, "sue", {"queue": "Q1-IMMEDIATE", "reason": "smoke"})
    check(status == 200 and body["dispatch"]["queue_override"] == "Q1-IMMEDIATE", "override: %s" % body)
    status, q = s.get_json("/api/queue", auth(s))
    check(q["calls"][0]["id"] == b, "the overridden call leads the queue")
    # Duplicate and cancel.
    status, body = post(s, "/api/calls/%s/duplicate" % c, "alice", {})
    check(status == 400, "duplicate without of: %s" % status)
    status, body = post(s, "/api/calls/%s/duplicate" % c, "alice", {"of": "00000000-0000-4000-8000-000000000000"})
    check(status == 404, "duplicate of an unknown call: %s" % status)
    status, body = post(s, "/api/calls/%s/duplicate" % c, "alice", {"of": b, "note": "same address"})
    check(status == 200 and body["dispatch"]["state"] == "duplicate" and body["dispatch"]["duplicate_of"] == b,
          "duplicate: %s" % body)
    status, body = post(s, "/api/calls/%s/cancel" % b, "alice", {"note": "hoax"})
    check(status == 200 and body["dispatch"]["state"] == "cancelled", "cancel")
    status, body = post(s, "/api/calls/%s/cancel" % b, "alice")
    check(status == 409 and body["dispatch"]["state"] == "cancelled", "cancel twice: %s" % status)
    # The call carries its dispatch state and history.
    status, call = s.get_json("/api/calls/%s" % a, auth(s))
    check(status == 200 and call["dispatch"]["state"] == "resolved", "GET call: dispatch")
    steps = [(h["action"], h["by"], h["from"], h["to"]) for h in call["history"]]
    check(steps == [("claim", "Alice", "waiting", "claimed"), ("release", "Alice", "claimed", "waiting"),
                    ("claim", "Bob", "waiting", "claimed"), ("dispatch", "Bob", "claimed", "dispatched"),
                    ("resolve", "Bob", "dispatched", "resolved"), ("note", "Carol", "resolved", "resolved")],
          "history: %s" % steps)
    check(call["history"][0]["note"] == "on it" and call["history"][3]["note"] == "ambulance 12", "notes in history")
    # Bad input: clear errors, nothing changed, the server still answering.
    for bad in [b"{", b"[1,2]", b"{\"note\": 5}", b"[" * 1000 + b"]" * 1000, b"{\"note\": \"x\", \"note\": \"y\"}"]:
        status, body = post(s, "/api/calls/%s/notes" % a, "carol", bad)
        check(status == 400 and body and body.get("detail"), "bad body %r: %s %s" % (bad[:20], status, body))
    status, body = post(s, "/api/calls/%s/notes" % a, "carol", b"x" * 20000)
    check(status == 413, "oversized body: %s" % status)
    for path in ["/api/calls/not-an-id/claim", "/api/calls/00000000-0000-4000-8000-000000000000/claim"]:
        status, _ = post(s, path, "alice")
        check(status == 404, "%s: %s" % (path, status))
    status, _ = post(s, "/api/calls/%s/explode" % a, "alice")
    check(status == 404, "unknown action: %s" % status)
    status, _, _ = s.request("GET", "/api/queue/next", headers=auth(s, "alice"))
    check(status == 405, "GET on claim-next: %s" % status)
    for q in ["limit=abc", "limit=-1", "limit=1001", "limit="]:
        status, _, _ = s.request("GET", "/api/queue?" + q, headers=auth(s))
        check(status == 400, "/api/queue?%s: %s" % (q, status))
    status, call = s.get_json("/api/calls/%s" % a, auth(s))
    check(len(call["history"]) == 6, "refused requests left no history")


@test
def queue_order_and_overdue():
    s = start("order", extra=["--overdue-s", "1"])
    ids = seed(s, 3)
    # Without a model every upload lands in one queue: the order is then the longest waiting first.
    status, q = s.get_json("/api/queue", auth(s))
    check(status == 200 and [c["id"] for c in q["calls"]] == ids, "longest waiting first: %s" % q)
    post(s, "/api/calls/%s/override" % ids[2], "sue", {"queue": "Q2-ELEVATED", "reason": "caller distressed"})
    post(s, "/api/calls/%s/override" % ids[1], "sue", {"queue": "Q1-IMMEDIATE", "reason": "fire"})
    status, q = s.get_json("/api/queue", auth(s))
    check([c["id"] for c in q["calls"]][:2] == [ids[1], ids[2]], "Q1, then Q2: %s" % [c["id"] for c in q["calls"]])
    time.sleep(1.5)
    status, q = s.get_json("/api/queue", auth(s))
    flags = {c["id"]: c["dispatch"]["overdue"] for c in q["calls"]}
    check(flags[ids[2]] is True and flags[ids[1]] is False and q["overdue"] >= 1,
          "a Q2 call waiting past --overdue-s is overdue, a Q1 call is not flagged: %s" % flags)
    status, body = post(s, "/api/queue/next", "alice")
    check(status == 200 and body["id"] == ids[1] and body["dispatch"]["state"] == "claimed", "next is the Q1 call")
    status, q = s.get_json("/api/queue", auth(s))
    check(q["calls"][0]["dispatch"]["state"] == "claimed" and q["total"] == 3, "claimed calls stay listed")


@test
def held_by_lists_the_calls_a_dispatcher_holds():
    s = start("held")
    ids = seed(s, 5)
    post(s, "/api/calls/%s/claim" % ids[0], "alice")
    post(s, "/api/calls/%s/claim" % ids[1], "alice")
    post(s, "/api/calls/%s/dispatch" % ids[1], "alice", {"note": "2 units"})
    post(s, "/api/calls/%s/claim" % ids[2], "alice")
    post(s, "/api/calls/%s/resolve" % ids[2], "alice")
    post(s, "/api/calls/%s/claim" % ids[3], "bob")
    post(s, "/api/calls/%s/override" % ids[0], "sue", {"queue": "Q1-IMMEDIATE", "reason": "fire"})
    status, q = s.get_json("/api/queue?held_by=Alice", auth(s))
    check(status == 200 and [c["id"] for c in q["calls"]] == [ids[0], ids[1]] and q["total"] == 2,
          "Alice holds her claimed Q1 call and her dispatched one, in queue order, not the resolved one: %s %s" %
          (status, q))
    check([c["dispatch"]["state"] for c in q["calls"]] == ["claimed", "dispatched"], "their states: %s" % q)
    status, q = s.get_json("/api/queue?held_by=Bob", auth(s))
    check(status == 200 and [c["id"] for c in q["calls"]] == [ids[3]], "Bob holds his claimed call: %s" % q)
    status, q = s.get_json("/api/queue?held_by=Nobody", auth(s))
    check(status == 200 and q["calls"] == [] and q["total"] == 0, "nobody holds nothing: %s" % q)
    status, q = s.get_json("/api/queue?held_by=Alice&limit=1", auth(s))
    check(status == 200 and len(q["calls"]) == 1 and q["total"] == 2, "a page of one: %s" % q)
    for bad in ("", "x" * 129, "%00"):
        status, _, body = s.request("GET", "/api/queue?held_by=" + bad, None, auth(s))
        check(status == 400 and b"held_by" in body, "held_by=%r: %s %s" % (bad[:10], status, body))
    status, q = s.get_json("/api/queue", auth(s))
    check(status == 200 and q["total"] == 3, "the open queue: two claimed calls and one waiting: %s" % q["total"])


@test
def live_call_waits_from_its_start():
    s = start("live")
    ws = WebSocket(s.port, headers=auth(s, "alice"))
    cid = ws.recv_event(timeout=10)["call_id"]
    status, q = s.get_json("/api/queue", auth(s))
    mine = [c for c in q["calls"] if c["id"] == cid]
    check(mine and mine[0]["status"] == "in_progress" and mine[0]["dispatch"]["state"] == "waiting",
          "a live call waits from its start: %s" % q)
    # Silence only: the call ends abandoned and leaves the queue, cancelled.
    ws.send_binary(struct.pack("<1600f", *([0.0] * 1600)))
    ws.recv_event(timeout=10)
    ws.close()
    for _ in range(100):
        status, c = s.get_json("/api/calls/" + cid, auth(s))
        if c["status"] != "in_progress":
            break
        time.sleep(0.05)
    check(c["status"] == "abandoned" and c["dispatch"]["state"] == "cancelled", "abandoned → cancelled: %s" % c)
    status, q = s.get_json("/api/queue", auth(s))
    check(all(x["id"] != cid for x in q["calls"]), "an abandoned call is not in the queue")
    status, body = post(s, "/api/calls/%s/claim" % cid, "alice")
    check(status == 409 and body["dispatch"]["state"] == "cancelled", "an abandoned call cannot be claimed")


def claim_race(urls_servers, calls):
    """4 dispatcher threads (spread over the servers) claim until the queue is empty."""
    got = {name: [] for name in ["alice", "bob", "carol", "dan"]}
    errors = []

    def run(name, srv):
        while True:
            try:
                status, body = post(srv, "/api/queue/next", name)
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append("%s: %r" % (name, e))
                return
            if status == 204:
                return
            if status != 200 or body["dispatch"]["claimed_by"] != name.capitalize():
                errors.append("%s: %s %s" % (name, status, body))
                return
            got[name].append(body["id"])

    threads = [threading.Thread(target=run, args=(name, urls_servers[i % len(urls_servers)]))
               for i, name in enumerate(got)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "claim errors: %s" % errors[:5])
    claimed = [cid for ids in got.values() for cid in ids]
    check(len(claimed) == len(calls) and sorted(claimed) == sorted(calls),
          "every call claimed exactly once: %d claims, %d distinct, %d calls" %
          (len(claimed), len(set(claimed)), len(calls)))
    print("  claims per dispatcher: %s" % {k: len(v) for k, v in got.items()})
    return got


@test
def four_dispatchers_claim_200_calls():
    s = start("race")
    calls = seed(s, 200)
    got = claim_race([s], calls)
    status, q = s.get_json("/api/queue?limit=1000", auth(s))
    check(q["total"] == 200 and all(c["dispatch"]["state"] == "claimed" for c in q["calls"]), "all claimed, none lost")
    owner = {cid: name.capitalize() for name, ids in got.items() for cid in ids}
    check(all(c["dispatch"]["claimed_by"] == owner[c["id"]] for c in q["calls"]), "each held by who got it")


if PG_URL:
    @test
    def two_servers_on_postgresql_claim_200_calls():
        a = start("pg-a", db=PG_URL)
        b = start("pg-b", db=PG_URL)
        calls = seed(a, 100) + seed(b, 100)
        claim_race([a, b], calls)
        status, q = b.get_json("/api/queue?limit=1000", auth(b))
        check(q["total"] == 200 and all(c["dispatch"]["state"] == "claimed" for c in q["calls"]),
              "all claimed, none lost (seen from server b)")


@test
def servers_exit_cleanly():
    check_servers_exit_cleanly(servers)


if __name__ == "__main__":
    if PG_URL:  # the SQLite tests ran in server_dispatch already: only the PostgreSQL race here
        tests[:] = [two_servers_on_postgresql_claim_200_calls, servers_exit_cleanly]
    sys.exit(run_server_tests("dispatch", lambda: servers, TMP))
