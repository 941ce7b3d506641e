"""test_tls.py — `trident serve --tls-cert FILE --tls-key FILE`: HTTPS and WSS on one port.

usage: test_tls.py TRIDENT_BINARY SHARED_DIR

Makes a self-signed certificate with the openssl CLI in a temporary directory,
then: start-up refuses missing, garbage and mismatched files with a message naming
the file; /health, an upload, an OpenAI-style transcription and a live call
(WebSocket) work over TLS with the certificate verified by Python's ssl module;
then, with the first tokens made (auth on), access control over TLS: 401/403, no
CORS header for a foreign page, the session cookie Secure + HttpOnly +
SameSite=Strict, the audit row of an opened recording, WSS refused without a
credential and from a foreign Origin; plain HTTP to the TLS port gets no HTTP
answer (its handshake fails) and the server keeps serving.
"""
import array
import json
import os
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import (Refused, Server, WebSocket, multipart, raw_exchange, run_server_tests,  # noqa: E402
                            wav_float32)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import QUEUES, check, fixture_paths, test  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, _ = fixture_paths(SHARED)
TMP = tempfile.mkdtemp(prefix="trident-tls-test-")
CERT, KEY = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
OTHER_CERT, OTHER_KEY = os.path.join(TMP, "other-cert.pem"), os.path.join(TMP, "other-key.pem")
server = None


def make_certificate(cert, key, cn, san):
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san],
                       capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)


def client_context():
    """Verifies the server against the test's own certificate (hostname localhost)."""
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.check_hostname = True
    return ctx


def start_fails(args, *words):
    r = subprocess.run([BINARY, "serve", "--port", "0", "--db", os.path.join(TMP, "refused.db")] + args,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1, (r.returncode, r.stderr))
    last = r.stderr.strip().splitlines()[-1]
    for w in words:
        check(w in last, "%r not in %r" % (w, last))


@test
def bad_certificate_files_stop_the_start_with_the_file_named():
    make_certificate(CERT, KEY, "localhost", "DNS:localhost,IP:127.0.0.1")
    make_certificate(OTHER_CERT, OTHER_KEY, "other", "DNS:other")
    missing = os.path.join(TMP, "missing.pem")
    garbage = os.path.join(TMP, "garbage.pem")
    with open(garbage, "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    start_fails(["--tls-cert", CERT], "needs both --tls-cert FILE and --tls-key FILE")
    start_fails(["--tls-key", KEY], "needs both --tls-cert FILE and --tls-key FILE")
    start_fails(["--tls-cert", missing, "--tls-key", KEY], "--tls-cert " + missing, "cannot be read")
    start_fails(["--tls-cert", CERT, "--tls-key", missing], "--tls-key " + missing, "cannot be read")
    start_fails(["--tls-cert", garbage, "--tls-key", KEY], "--tls-cert " + garbage, "no usable PEM certificate")
    start_fails(["--tls-cert", KEY, "--tls-key", KEY], "--tls-cert " + KEY, "no usable PEM certificate")
    start_fails(["--tls-cert", CERT, "--tls-key", CERT], "--tls-key " + CERT, "no usable unencrypted PEM private key")
    start_fails(["--tls-cert", CERT, "--tls-key", OTHER_KEY], "--tls-key " + OTHER_KEY,
                "is not the private key of the certificate")


@test
def health_and_ready_over_https():
    global server
    server = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", os.path.join(TMP, "calls.db"),
                             "--tls-cert", CERT, "--tls-key", KEY],
                    log_path=os.path.join(TMP, "server.log"), ssl_context=client_context()).start(wait_ready=True)
    check("Listening url=https://127.0.0.1:%d" % server.port in server.log_text(), server.log_text())
    check("tls=on" in server.log_text())
    status, h = server.get_json("/health")
    check(status == 200 and h["status"] == "healthy", h)
    status, r = server.get_json("/ready")
    check(status == 200 and r["ready"] is True, r)
    # the certificate is what the client verified (a client trusting another certificate refuses)
    other = ssl.create_default_context(cafile=OTHER_CERT)
    try:
        WebSocket(server.port, timeout=10, ssl_context=other)
        check(False, "a client trusting another certificate connected")
    except ssl.SSLCertVerificationError:
        pass


@test
def upload_over_https():
    with open(os.path.join(AUDIO_DIR, "jfk.wav"), "rb") as f:
        data = f.read()
    status, _, a = server.upload(data, "jfk.wav")
    check(status == 200 and a["asr"]["status"] == "ok" and a["triage"]["queue"] in QUEUES, (status, a))
    status, c = server.get_json("/api/calls/" + a["call_id"])
    check(status == 200 and c["status"] == "completed" and c["transcript"] == a["transcript"], c)
    status, headers, wav = server.request("GET", "/api/calls/%s/audio" % a["call_id"])
    check(status == 200 and headers["content-type"] == "audio/wav" and wav[:4] == b"RIFF")
    # an OpenAI client with base_url https://host:port/v1
    body, ctype = multipart({"model": "whisper-1", "temperature": "1", "response_format": "text",
                             "file": ("jfk.wav", data)})
    status, headers, text = server.request("POST", "/v1/audio/transcriptions", body, {"Content-Type": ctype})
    check(status == 200 and headers["content-type"].startswith("text/plain") and text.strip(), (status, text[:200]))



def events_until(ws, kind, limit=2000):
    out = []
    for _ in range(limit):
        ev = ws.recv_event(timeout=60)
        check(ev is not None, "closed before %s: %s" % (kind, [e["type"] for e in out]))
        out.append(ev)
        if ev["type"] == kind:
            return out
    raise AssertionError("no %s event" % kind)


@test
def live_call_over_wss():
    ws = WebSocket(server.port, ssl_context=client_context())
    ev = ws.recv_event(timeout=10)
    check(ev["type"] == "connected" and len(ev["call_id"]) == 36, ev)
    speech = wav_float32(os.path.join(AUDIO_DIR, "jfk.wav")) + array.array("f", [0.0] * 32000).tobytes()
    step = 1600 * 4
    for off in range(0, len(speech), step):
        ws.send_binary(speech[off:off + step])
    events = events_until(ws, "processing_complete")
    check(events[-1]["transcript"] and events[-1]["triage"]["queue"] in QUEUES, events[-1])
    ws.send_text(json.dumps({"type": "end"}))
    events = events_until(ws, "call_ended")
    ended = events[-1]
    check(ended["status"] == "completed" and ended["utterance_count"] >= 1, ended)
    check(abs(ended["call_duration"] - len(speech) / 4 / 16000) < 0.01, ended)
    op, _ = ws.recv(timeout=10)
    check(op == 8, "expected the close frame, got opcode %d" % op)
    ws.close()
    status, c = server.get_json("/api/live-calls/" + ev["call_id"])
    check(status == 200 and c["status"] == "completed" and c["kind"] == "live", c)


@test
def access_control_over_https_and_wss():
    # the first tokens turn auth on (no restart); every check below runs over TLS
    tokens = {}
    for name, role in (("sue", "supervisor"), ("ingo", "ingest")):
        r = subprocess.run([BINARY, "token", "add", "--db", os.path.join(TMP, "calls.db"), "--name", name, "--role",
                            role], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stdout.startswith("trd_"), r.stderr)
        tokens[name] = {"Authorization": "Bearer " + r.stdout.strip()}
    status, _, _ = server.request("GET", "/api/calls")
    check(status == 401, "no credential over HTTPS: %s" % status)
    status, _, data = server.request("GET", "/api/calls", headers=tokens["sue"])
    check(status == 200 and json.loads(data)["calls"], status)
    cid = json.loads(data)["calls"][0]["id"]
    status, _, _ = server.request("GET", "/api/calls", headers=tokens["ingo"])
    check(status == 403, "ingest reads no calls: %s" % status)
    # a foreign page gets no CORS header
    status, headers, _ = server.request("GET", "/api/calls", headers=dict(tokens["sue"], Origin="https://evil.example"))
    check(status == 200 and "access-control-allow-origin" not in headers, headers)
    # sign-in: the session cookie is Secure over TLS, HttpOnly and SameSite=Strict
    status, headers, _ = server.request("POST", "/api/session", json.dumps({"token": tokens["sue"]["Authorization"][7:]}),
                                        {"Content-Type": "application/json"})
    cookie = headers.get("set-cookie", "")
    check(status == 200 and all(a in cookie for a in ("HttpOnly", "SameSite=Strict", "Secure")), (status, cookie))
    session = {"Cookie": cookie.split(";", 1)[0]}
    status, headers, wav = server.request("GET", "/api/calls/%s/audio" % cid, headers=session)
    check(status == 200 and wav[:4] == b"RIFF" and headers.get("cache-control") == "no-store", (status, headers))
    # the audit log names who opened the recording
    status, _, data = server.request("GET", "/api/audit?call_id=" + cid, headers=tokens["sue"])
    entries = json.loads(data)["entries"]
    check(status == 200 and any(e["by"] == "sue" and e["action"] == "recording" for e in entries), entries)
    # WSS: a credential allowing ingest is needed, and a foreign Origin is refused
    for headers, want in (({}, 401), (dict(tokens["ingo"], Origin="https://evil.example"), 403)):
        try:
            WebSocket(server.port, timeout=10, headers=headers, ssl_context=client_context())
            check(False, "a WebSocket opened with %s" % list(headers))
        except Refused as e:
            check(e.status == want, (e.status, want))
    ws = WebSocket(server.port, timeout=10, headers=tokens["ingo"], ssl_context=client_context())
    check(ws.recv_event(timeout=10)["type"] == "connected")
    ws.send_text(json.dumps({"type": "end"}))
    events_until(ws, "call_ended")
    ws.close()


@test
def plain_http_to_the_tls_port_gets_no_answer_and_the_server_keeps_serving():
    for request in (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                    b"GET /ws/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    b"\x00" * 64):
        answer = raw_exchange(server.port, request, timeout=10)
        check(not answer.startswith(b"HTTP/"), answer[:80])
    status, h = server.get_json("/health")
    check(status == 200 and h["status"] == "healthy", h)
    check("sslize error" in server.log_text(), "the failed handshakes are not logged")
    check(server.stop() == 0, server.log_text()[-2000:])


def main():
    return run_server_tests("tls", lambda: [server], TMP, tail=4000)


if __name__ == "__main__":
    sys.exit(main())
