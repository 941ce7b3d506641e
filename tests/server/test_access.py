"""test_access.py — access control over a real `trident serve`: API tokens, roles, the dashboard's
cookie sign-in, the WebSocket's credential and Origin, CORS, the bind rule, the audit log, retention.

usage: test_access.py TRIDENT_BINARY [PG_URL]

Tokens are made, listed and revoked with `trident token` on real SQLite files; the servers run
without a model (uploads are stored without ASR, with their recordings). Nothing is mocked: the
retention test stores calls, closes one through the API and restarts the server with --retain-days.
With PG_URL (tests/store/run_postgres.sh starts a throw-away PostgreSQL) only the shared-database
test runs: two servers on one PostgreSQL accept the same tokens and sessions, a revocation made with
the CLI stops both, and both write one audit log.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import (Refused, Server, WebSocket, check_servers_exit_cleanly, run_server_tests,  # noqa: E402
                            tone_wav)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, test, tests  # noqa: E402

BINARY = sys.argv[1]
PG_URL = sys.argv[2] if len(sys.argv) > 2 else None
TMP = tempfile.mkdtemp(prefix="trident-access-test-")
ROLES = {"sue": "supervisor", "dora": "dispatcher", "vic": "viewer", "ingo": "ingest"}
servers = []


def token_cli(*args):
    return subprocess.run([BINARY, "token"] + list(args), capture_output=True, text=True, timeout=60)


def add_tokens(db):
    tokens = {}
    for name, role in ROLES.items():
        out = token_cli("add", "--db", db, "--name", name, "--role", role)
        check(out.returncode == 0 and out.stdout.startswith("trd_") and len(out.stdout.strip()) == 68,
              "token add %s: %r %r" % (name, out.stdout, out.stderr))
        tokens[name] = out.stdout.strip()
    return tokens


def start(name, extra=None, tokens=True, db=None):
    db = db or os.path.join(TMP, name + ".db")
    toks = add_tokens(db) if tokens is True else (tokens or {})
    s = Server(BINARY, ["--db", db] + (extra or []), {}, os.path.join(TMP, name + ".log")).start()
    s.db, s.tokens = db, toks
    servers.append(s)
    return s


def bearer(s, who):
    return {"Authorization": "Bearer " + s.tokens[who]}


WAV = tone_wav()


def upload(s, who="ingo"):
    status, _, body = s.upload(WAV, headers=bearer(s, who))
    check(status == 200 and body and body.get("call_id"), "upload by %s: %s %s" % (who, status, body))
    return body["call_id"]


def post_json(s, path, body=None, headers=None):
    h = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    status, hdrs, resp = s.request("POST", path, data, h)
    try:
        parsed = json.loads(resp) if resp else None
    except ValueError:
        parsed = None
    return status, hdrs, parsed


def alive(s):
    status, _ = s.get_json("/health")
    check(status == 200, "the server still answers: %s" % status)


@test
def token_cli_add_list_revoke():
    db = os.path.join(TMP, "cli.db")
    toks = add_tokens(db)
    check(len(set(toks.values())) == 4, "every token differs")
    out = token_cli("list", "--db", db)
    check(out.returncode == 0, "list: %s" % out.stderr)
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    check(sorted((r[0], r[1]) for r in rows) == sorted(ROLES.items()), "names and roles listed: %s" % out.stdout)
    check(all(r[3] == "never" and r[4] == "-" for r in rows), "never used, none revoked: %s" % out.stdout)
    check(not any(t in out.stdout or t[4:] in out.stdout for t in toks.values()), "list never shows a secret")
    with open(db, "rb") as f:
        raw = f.read()
    check(not any(t.encode() in raw for t in toks.values()), "the database holds no secret (only hashes)")
    out = token_cli("add", "--db", db, "--name", "sue", "--role", "viewer")
    check(out.returncode == 1 and "exists" in out.stderr, "a taken name: %s %r" % (out.returncode, out.stderr))
    out = token_cli("add", "--db", db, "--name", "x", "--role", "admin")
    check(out.returncode == 2 and "--role" in out.stderr, "an unknown role: %s %r" % (out.returncode, out.stderr))
    out = token_cli("add", "--db", db, "--name", "bad\x01name", "--role", "viewer")
    check(out.returncode == 1 and "printable" in out.stderr, "a control character in a name: %r" % out.stderr)
    out = token_cli("revoke", "vic", "--db", db)
    check(out.returncode == 0, "revoke: %s" % out.stderr)
    out = token_cli("revoke", "vic", "--db", db)
    check(out.returncode == 1 and "already" in out.stderr, "revoke twice: %r" % out.stderr)
    out = token_cli("revoke", "nobody", "--db", db)
    check(out.returncode == 1 and "no token" in out.stderr, "revoke an unknown name: %r" % out.stderr)
    out = token_cli("list", "--db", db)
    vic = [line.split() for line in out.stdout.splitlines() if line.startswith("vic ")]
    check(vic and vic[0][4] != "-", "vic listed as revoked: %s" % out.stdout)
    out = token_cli("frobnicate", "--db", db)
    check(out.returncode == 2, "an unknown subcommand: %s" % out.returncode)


@test
def loopback_without_tokens_runs_open_until_one_exists():
    s = start("open", tokens=False)
    check("auth is off" in s.log_text(), "the log says auth is off")
    status, me = s.get_json("/api/session")
    check(status == 200 and me == {"name": "local", "role": "supervisor", "auth": False}, "who: %s" % me)
    status, _ = s.get_json("/api/calls")
    check(status == 200, "open: %s" % status)
    # a foreign name pointed at 127.0.0.1 (DNS rebinding) is not served
    for host, want in [("evil.example:%d" % s.port, 403), ("localhost:%d" % s.port, 200), ("[::1]:%d" % s.port, 200)]:
        status, _, _ = s.request("GET", "/api/calls", headers={"Host": host})
        check(status == want, "Host %s: %s, want %s" % (host, status, want))
    # the first token turns auth on, without a restart
    out = token_cli("add", "--db", s.db, "--name", "sue", "--role", "supervisor")
    check(out.returncode == 0, out.stderr)
    s.tokens = {"sue": out.stdout.strip()}
    status, _ = s.get_json("/api/calls")
    check(status == 401, "auth on after the first token: %s" % status)
    status, _ = s.get_json("/api/calls", bearer(s, "sue"))
    check(status == 200, "with the token: %s" % status)
    check("auth is on" in s.log_text(), "the change is logged")


@test
def roles_401_403_and_headers():
    s = start("roles")
    status, hdrs, body = s.request("GET", "/api/calls")
    check(status == 401 and "bearer" in hdrs.get("www-authenticate", "").lower(), "no token: %s %s" % (status, hdrs))
    cid = upload(s, "ingo")
    for who, path, want in [("ingo", "/api/calls", 403), ("ingo", "/api/calls/" + cid, 403),
                            ("ingo", "/api/calls/%s/audio" % cid, 403), ("ingo", "/api/queue", 403),
                            ("vic", "/api/calls", 200), ("vic", "/api/queue", 200), ("vic", "/api/audit", 403),
                            ("dora", "/api/audit", 403), ("sue", "/api/audit", 200), ("vic", "/metrics", 403),
                            ("dora", "/api/tokens", 403), ("sue", "/api/tokens", 200)]:
        status, _, _ = s.request("GET", path, headers=bearer(s, who))
        check(status == want, "%s GET %s: %s, want %s" % (who, path, status, want))
    # under /v1 the refusals take OpenAI's error shape, which its clients read
    status, _, body = s.request("GET", "/v1/models")
    e = json.loads(body)["error"]
    check(status == 401 and e["code"] == "invalid_api_key" and e["type"] == "invalid_request_error", (status, e))
    status, _, body = s.request("GET", "/v1/models", headers=bearer(s, "vic"))
    e = json.loads(body)["error"]
    check(status == 403 and e["code"] == "insufficient_permissions" and "viewer" in e["message"], (status, e))
    status, _, _ = s.request("GET", "/v1/models", headers=bearer(s, "ingo"))
    check(status == 200, "ingest lists the models: %s" % status)
    status, _, body = s.upload(WAV, headers=bearer(s, "vic"))
    check(status == 403 and "viewer" in body["detail"], "a viewer cannot upload: %s %s" % (status, body))
    status, _, body = post_json(s, "/api/calls/%s/claim" % cid, headers=bearer(s, "vic"))
    check(status == 403, "a viewer cannot claim: %s" % status)
    status, _, body = post_json(s, "/api/queue/next", headers=bearer(s, "ingo"))
    check(status == 403, "ingest cannot claim: %s" % status)
    status, _, body = post_json(s, "/api/calls/%s/claim" % cid, headers=bearer(s, "dora"))
    check(status == 200 and body["dispatch"]["claimed_by"] == "dora", "a dispatcher claims as its token's name: %s" %
          body)
    # the token list: names and roles, never a secret
    status, tl = s.get_json("/api/tokens", bearer(s, "sue"))
    check(sorted((t["name"], t["role"]) for t in tl["tokens"]) == sorted(ROLES.items()), "token list: %s" % tl)
    check(not any(v in json.dumps(tl) for v in s.tokens.values()), "no secret in /api/tokens")
    used = {t["name"]: t["last_used_at"] for t in tl["tokens"]}
    check(used["dora"] and used["sue"], "last use recorded: %s" % used)
    # /metrics: a supervisor's
    status, _, _ = s.request("GET", "/metrics")
    check(status == 401, "metrics without a token: %s" % status)
    m = s.metrics(bearer(s, "sue"))
    check(m['trident_auth_refused_total{code="401"}'] >= 2 and m['trident_auth_refused_total{code="403"}'] >= 8,
          "refusals counted: %s" % {k: v for k, v in m.items() if "auth" in k})
    # bad credentials: 401 each, the server unharmed
    for h in [{"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
              {"Authorization": "Bearer " + "x" * 8000}, {"Authorization": "Bearer trd_" + "0" * 64},
              {"Authorization": "Bearer " + s.tokens["sue"][:-1] + "\u00e9".encode().decode("latin-1")},
              {"Cookie": "trident_session=trs_" + "f" * 64}, {"Cookie": "trident_session=" + "%00" * 50}]:
        status, _, body = s.request("GET", "/api/calls", headers=h)
        check(status == 401 and json.loads(body)["detail"], "bad credential %r: %s" % (list(h.values())[0][:40], status))
    alive(s)
    # public: health (no absolute path), readiness, the API's description, the dashboard's files
    status, h = s.get_json("/health")
    check(status == 200 and h["database"]["location"] == "roles.db", "health shows the file name only: %s" %
          h["database"])
    for path in ["/", "/ready", "/dashboard/", "/dashboard/signin.html"]:
        status, _, _ = s.request("GET", path)
        check(status in (200, 503), "%s is public: %s" % (path, status))
    # security headers on API JSON and on the recording; no CORS header for a foreign origin
    for path in ["/api/calls", "/api/calls/%s/audio" % cid]:
        status, hdrs, _ = s.request("GET", path, headers=dict(bearer(s, "sue"), Origin="https://evil.example"))
        check(status == 200, "%s: %s" % (path, status))
        check(hdrs.get("x-content-type-options") == "nosniff" and "no-store" in hdrs.get("cache-control", "") and
              hdrs.get("referrer-policy") == "no-referrer" and hdrs.get("x-frame-options") == "DENY" and
              "frame-ancestors 'none'" in hdrs.get("content-security-policy", ""),
              "%s security headers: %s" % (path, hdrs))
        check("access-control-allow-origin" not in hdrs, "%s: no CORS header for a foreign origin: %s" % (path, hdrs))


@test
def revoked_token_is_refused():
    s = start("revoke")
    status, hdrs, _ = post_json(s, "/api/session", {"token": s.tokens["dora"]})
    cookie = hdrs["set-cookie"].split(";")[0]
    for h in [bearer(s, "dora"), {"Cookie": cookie}]:
        status, _, _ = s.request("GET", "/api/calls", headers=h)
        check(status == 200, "before revocation: %s" % status)
    out = token_cli("revoke", "dora", "--db", s.db)
    check(out.returncode == 0, "revoke: %s" % out.stderr)
    for h in [bearer(s, "dora"), {"Cookie": cookie}]:
        status, _, _ = s.request("GET", "/api/calls", headers=h)
        check(status == 401, "a revoked token (and its session) is refused at once: %s" % status)
    status, _, _ = post_json(s, "/api/session", {"token": s.tokens["dora"]})
    check(status == 401, "a revoked token cannot sign in: %s" % status)


@test
def cookie_sign_in():
    s = start("cookie")
    cid = upload(s)
    status, hdrs, body = post_json(s, "/api/session", {"token": s.tokens["vic"]})
    check(status == 200 and body["name"] == "vic" and body["role"] == "viewer", "sign in: %s %s" % (status, body))
    attrs = [a.strip().lower() for a in hdrs["set-cookie"].split(";")]
    check(attrs[0].startswith("trident_session=trs_") and "httponly" in attrs and "samesite=strict" in attrs and
          "path=/" in attrs and any(a.startswith("max-age=") for a in attrs), "cookie attributes: %s" % attrs)
    check(s.tokens["vic"] not in hdrs["set-cookie"], "the cookie is a session id, not the token")
    cookie = {"Cookie": hdrs["set-cookie"].split(";")[0]}
    status, who = s.get_json("/api/session", cookie)
    check(status == 200 and who["name"] == "vic" and who["auth"] is True, "who am I: %s" % who)
    status, page = s.get_json("/api/calls", cookie)
    check(status == 200 and page["total"] == 1, "the cookie reads calls: %s" % status)
    status, _, _ = s.request("GET", "/api/calls/%s/audio" % cid, headers=cookie)
    check(status == 200, "the cookie opens a recording (the dashboard's player): %s" % status)
    status, _, _ = post_json(s, "/api/calls/%s/claim" % cid, headers=cookie)
    check(status == 403, "a viewer's cookie cannot claim: %s" % status)
    # sign out: the session ends on the server, the cookie is cleared
    status, hdrs, _ = s.request("DELETE", "/api/session", headers=cookie)
    check(status == 200 and "max-age=0" in hdrs.get("set-cookie", "").lower(), "sign out: %s %s" % (status, hdrs))
    status, _, _ = s.request("GET", "/api/calls", headers=cookie)
    check(status == 401, "the old cookie after sign-out: %s" % status)
    # from another site's page: no sign-in, and a dispatcher's cookie changes nothing (beside SameSite=Strict)
    own = "http://127.0.0.1:%d" % s.port
    status, hdrs, _ = post_json(s, "/api/session", {"token": s.tokens["dora"]}, {"Origin": "https://evil.example"})
    check(status == 403 and "set-cookie" not in hdrs, "sign-in from another site: %s" % status)
    status, hdrs, _ = post_json(s, "/api/session", {"token": s.tokens["dora"]}, {"Origin": own})
    check(status == 200, "sign-in from the server's own page: %s" % status)
    dora = {"Cookie": hdrs["set-cookie"].split(";")[0]}
    status, _, _ = post_json(s, "/api/calls/%s/claim" % cid, headers=dict(dora, Origin="https://evil.example"))
    check(status == 403, "a cookie claim from another site's page: %s" % status)
    status, c = s.get_json("/api/calls/" + cid, dora)
    check(c["dispatch"]["state"] == "waiting", "nothing changed")
    status, _, body = post_json(s, "/api/calls/%s/claim" % cid, headers=dict(dora, Origin=own))
    check(status == 200 and body["dispatch"]["claimed_by"] == "dora", "the dashboard's own claim: %s" % status)
    # bad sign-ins: clear errors, no cookie
    for body, want in [({"token": "trd_" + "1" * 64}, 401), ({"token": 5}, 400), ({}, 400), (b"{", 400),
                       (b"[" * 100 + b"]" * 100, 400), (b"x" * 5000, 413), ({"token": "\u00e9" * 40}, 401)]:
        status, hdrs, resp = post_json(s, "/api/session", body)
        check(status == want and "set-cookie" not in hdrs and resp and resp.get("detail"),
              "sign-in with %r: %s %s" % (body if isinstance(body, dict) else body[:20], status, resp))
    alive(s)


def ws_status(port, headers):
    try:
        ws = WebSocket(port, headers=headers, timeout=20)
    except Refused as e:
        return e.status
    ev = ws.recv_event(timeout=10)
    ws.send_text('{"type": "end"}')
    ws.close()
    return 101 if ev.get("type") == "connected" else ev


@test
def websocket_credential_and_origin():
    s = start("ws", extra=["--cors-origin", "https://cad.example.org"])
    own = "http://127.0.0.1:%d" % s.port
    _, hdrs, _ = post_json(s, "/api/session", {"token": s.tokens["dora"]})
    cookie = hdrs["set-cookie"].split(";")[0]
    for headers, want, what in [
            ({}, 401, "no credential"),
            ({"Origin": own}, 401, "own origin without a credential"),
            (dict(bearer(s, "ingo"), Origin="https://evil.example"), 403, "a foreign origin with a token"),
            ({"Cookie": cookie, "Origin": "http://127.0.0.1.evil.example"}, 403, "a look-alike origin"),
            (bearer(s, "vic"), 403, "a viewer"),
            (bearer(s, "ingo"), 101, "a bridge's token, no Origin"),
            ({"Cookie": cookie, "Origin": own}, 101, "the dashboard: own origin and its cookie"),
            (dict(bearer(s, "sue"), Origin="https://cad.example.org"), 101, "an allow-listed origin")]:
        got = ws_status(s.port, headers)
        check(got == want, "WebSocket with %s: %s, want %s" % (what, got, want))
    alive(s)


@test
def cors_allow_list():
    s = start("cors", extra=["--cors-origin", "https://cad.example.org", "--cors-origin", "http://wall:9000"])
    for origin, allowed in [("https://cad.example.org", True), ("http://wall:9000", True),
                            ("https://evil.example", False), ("null", False)]:
        status, hdrs, _ = s.request("GET", "/api/calls", headers=dict(bearer(s, "vic"), Origin=origin))
        got = hdrs.get("access-control-allow-origin")
        check(status == 200 and (got == origin if allowed else got is None), "Origin %s: %s" % (origin, got))
        if allowed:
            check("origin" in hdrs.get("vary", "").lower(), "Vary: Origin")
        status, hdrs, _ = s.request("OPTIONS", "/api/calls", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        got = hdrs.get("access-control-allow-origin")
        check(status == 204 and (got == origin if allowed else got is None), "preflight from %s: %s %s" %
              (origin, status, got))
        check("*" not in (got or ""), "never *")
    # a wildcard or a path is not an origin: the server does not start
    bad = Server(BINARY, ["--db", s.db, "--cors-origin", "*"], {}, os.path.join(TMP, "cors-bad.log"))
    try:
        bad.start(timeout=20)
        bad.stop()
        check(False, "--cors-origin * was accepted")
    except RuntimeError as e:
        check("not an origin" in str(e), "the refusal says why: %s" % str(e)[-300:])


def network_address():
    """A non-loopback address of this machine (hostname -I), else 0.0.0.0."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except OSError:
        out = []
    for a in out:
        if "." in a and not a.startswith("127."):
            try:
                socket.socket().bind((a, 0))
                return a
            except OSError:
                continue
    return "0.0.0.0"


@test
def network_bind_needs_tokens_or_insecure():
    host = network_address()
    print("  binding to %s" % host)
    db = os.path.join(TMP, "net.db")
    srv = Server(BINARY, ["--db", db, "--host", host], {}, os.path.join(TMP, "net-refused.log"))
    try:
        srv.start(timeout=30)
        srv.stop()
        check(False, "a network bind without tokens started")
    except RuntimeError as e:
        check("refusing to listen" in str(e) and "--insecure" in str(e), "the log says why: %s" % str(e)[-400:])
    s = Server(BINARY, ["--db", db, "--host", host, "--insecure"], {}, os.path.join(TMP, "net-insecure.log")).start()
    servers.append(s)
    check("auth is OFF" in s.log_text() and "--insecure" in s.log_text(), "the log warns: %s" % s.log_text()[-500:])
    conn = http.client.HTTPConnection(host if host != "0.0.0.0" else "127.0.0.1", s.port, timeout=20)
    conn.request("GET", "/api/calls")
    r = conn.getresponse()
    r.read()
    check(r.status == 200, "--insecure serves without a token: %s" % r.status)
    s.stop()
    toks = add_tokens(db)
    s = Server(BINARY, ["--db", db, "--host", host], {}, os.path.join(TMP, "net-tokens.log")).start()
    servers.append(s)
    check("auth is on" in s.log_text(), "with tokens the network bind starts, auth on")
    for headers, want in [({}, 401), ({"Authorization": "Bearer " + toks["vic"]}, 200)]:
        conn = http.client.HTTPConnection(host if host != "0.0.0.0" else "127.0.0.1", s.port, timeout=20)
        conn.request("GET", "/api/calls", headers=headers)
        r = conn.getresponse()
        r.read()
        check(r.status == want, "network bind, %s: %s" % (headers and "token" or "no token", r.status))


@test
def audit_log_records_who_opened_what():
    s = start("audit")
    cid = upload(s)
    other = upload(s)
    status, _, _ = s.request("GET", "/api/calls/%s/audio" % cid, headers=bearer(s, "dora"))
    check(status == 200, "recording: %s" % status)
    status, _ = s.get_json("/api/calls/" + cid, bearer(s, "vic"))
    check(status == 200, "call: %s" % status)
    status, _ = s.get_json("/api/live-calls/" + other, bearer(s, "vic"))  # an upload: 404, nothing opened
    status, _, _ = s.request("GET", "/api/calls/%s/audio" % "00000000-0000-4000-8000-000000000000",
                             headers=bearer(s, "dora"))
    check(status == 404, "unknown recording: %s" % status)
    status, log = s.get_json("/api/audit", bearer(s, "sue"))
    check(status == 200 and log["total"] == 2, "two rows: %s" % log)
    rows = [(e["by"], e["role"], e["action"], e["call_id"], e["address"]) for e in log["entries"]]
    check(rows == [("vic", "viewer", "call", cid, "127.0.0.1"), ("dora", "dispatcher", "recording", cid, "127.0.0.1")],
          "who, what, which call, from where, newest first: %s" % rows)
    check(all(e["at"].endswith("Z") for e in log["entries"]), "when (ISO-8601)")
    status, log = s.get_json("/api/audit?call_id=" + other, bearer(s, "sue"))
    check(status == 200 and log["total"] == 0, "per call: %s" % log)
    for q in ["call_id=../../etc", "limit=-1", "limit=x", "offset=-5"]:
        status, body = s.get_json("/api/audit?" + q, bearer(s, "sue"))
        check(status == 400 and body["detail"], "/api/audit?%s: %s" % (q, status))


@test
def retention_deletes_closed_calls():
    db = os.path.join(TMP, "keep.db")
    s = start("keep-1", db=db)
    old, waiting = upload(s), upload(s)
    for step in ["claim", "resolve"]:
        status, _, _ = post_json(s, "/api/calls/%s/%s" % (old, step), headers=bearer(s, "dora"))
        check(status == 200, "%s: %s" % (step, status))
    rec = os.path.join(db + "-recordings", old + ".wav")
    check(os.path.exists(rec) and os.path.exists(os.path.join(db + "-recordings", waiting + ".wav")),
          "both recordings stored")
    s.stop()
    # a day's retention keeps calls made now
    s = start("keep-2", db=db, tokens=s.tokens, extra=["--retain-days", "1"])
    status, _ = s.get_json("/api/calls/" + old, bearer(s, "vic"))
    check(status == 200 and os.path.exists(rec), "within retention: kept (%s)" % status)
    s.stop()
    # no retention left: the closed call goes, the waiting one stays
    s = start("keep-3", db=db, tokens=s.tokens, extra=["--retain-days", "0"])
    s.wait_log("retain_days=0")
    status, _ = s.get_json("/api/calls/" + old, bearer(s, "vic"))
    check(status == 404 and not os.path.exists(rec), "the resolved call and its recording are deleted (%s)" % status)
    status, c = s.get_json("/api/calls/" + waiting, bearer(s, "vic"))
    check(status == 200 and c["dispatch"]["state"] == "waiting" and
          os.path.exists(os.path.join(db + "-recordings", waiting + ".wav")), "the waiting call is kept")
    check("deleted calls past retention count=1" in s.log_text(), "the deletion is logged")
    m = s.metrics(bearer(s, "sue"))
    check(m.get("trident_retention_deleted_calls_total") == 1, "and counted: %s" % m.get(
        "trident_retention_deleted_calls_total"))


if PG_URL:
    @test
    def two_servers_on_postgresql_share_tokens_sessions_and_audit():
        a = start("pg-a", db=PG_URL)
        b = start("pg-b", db=PG_URL, tokens=a.tokens)
        cid = upload(a)
        _, hdrs, _ = post_json(a, "/api/session", {"token": a.tokens["dora"]})
        cookie = {"Cookie": hdrs["set-cookie"].split(";")[0]}
        for srv in (a, b):
            for h in (bearer(srv, "vic"), cookie):
                status, _ = srv.get_json("/api/calls/" + cid, h)
                check(status == 200, "server %s accepts the token and the session: %s" % (srv.log_path, status))
        status, log = b.get_json("/api/audit?call_id=" + cid, bearer(b, "sue"))
        check(status == 200 and log["total"] == 4 and {e["by"] for e in log["entries"]} == {"vic", "dora"},
              "one audit log for both servers: %s" % log)
        out = token_cli("revoke", "dora", "--db", PG_URL)
        check(out.returncode == 0, out.stderr)
        for srv in (a, b):
            for h in (bearer(srv, "dora"), cookie):
                status, _ = srv.get_json("/api/calls", h)
                check(status == 401, "revoked on every server at once: %s" % status)


@test
def servers_exit_cleanly():
    check_servers_exit_cleanly(servers)


if __name__ == "__main__":
    if PG_URL:  # the SQLite tests ran in server_access already
        tests[:] = [two_servers_on_postgresql_share_tokens_sessions_and_audit, servers_exit_cleanly]
    sys.exit(run_server_tests("access", lambda: servers, TMP))
