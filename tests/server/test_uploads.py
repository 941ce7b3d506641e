"""test_uploads.py — POST /api/analyze against hostile and broken uploads, sent as exact bytes.

usage: test_uploads.py TRIDENT_BINARY SHARED_DIR

Drives a real `trident serve` (fixture model tiny-random-v2, a temporary SQLite database) over raw
sockets (Python standard library only): the WAV that hangs libsndfile, a FLAC declaring one hour,
float samples of magnitude 1e20, bodies cut short by a half-close or a reset, a multipart body
without its closing boundary, short and parameterised boundaries, and admission before decoding.
After each: a clear status, nothing stored, the server still answering. Short enough to run in the
ASan build too (label asan).
"""
import array
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import Server, run_server_tests  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, fixture_paths, test  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, _ = fixture_paths(SHARED)
HANG_WAV = os.path.join(SHARED, "repro", "libsndfile-hang.wav")
TMP = tempfile.mkdtemp(prefix="trident-upload-test-")
servers = []


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def start(args, env=None, name="s"):
    s = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", os.path.join(TMP, name + ".db")] + args, env or {},
               os.path.join(TMP, name + ".log")).start(wait_ready=env is None)
    servers.append(s)
    return s


def speech_wav(seconds=2.0):
    """The first seconds of jfk.wav (16-kHz PCM16 mono) as a WAV file."""
    data = read_file(os.path.join(AUDIO_DIR, "jfk.wav"))
    pcm = data[44:44 + int(16000 * seconds) * 2]
    return wav_bytes(1, 16000, 16, pcm)


def wav_bytes(tag, rate, bits, payload):
    block = bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, tag, 1, rate, rate * block, block, bits) + b"data" +
            struct.pack("<I", len(payload)) + payload)


def form(boundary, filename, data, closing=True):
    body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
            b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n")
    return body + (b"--" + boundary + b"--\r\n" if closing else b"")


def raw_request(port, content_type, body, send=None, how="complete", timeout=60):
    """POSTs /api/analyze over a raw socket. send: how many body bytes to send (default all);
    how: "complete", "half-close" (shutdown SHUT_WR after them) or "reset" (close with RST).
    Returns (status, parsed JSON body) or (None, None) after a reset."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = ("POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (content_type, len(body))).encode()
    s.sendall(head + body[:len(body) if send is None else send])
    if how == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return None, None
    if how == "half-close":
        s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload) if payload else None


def total_calls(srv):
    return srv.get_json("/health")[1]["total_calls"]


def expect(status, body, want, words, not_words=()):
    check(status == want, "expected %d, got %s %s" % (want, status, body))
    detail = body["detail"].lower()
    check(any(w in detail for w in words), "unclear detail %r (wanted one of %s)" % (body["detail"], words))
    for w in not_words:
        check(w not in detail, "detail %r mentions %r" % (body["detail"], w))


def still_serving(srv, calls_before):
    status, h = srv.get_json("/health")
    check(status == 200 and h["total_calls"] == calls_before, (status, h))


# ---------------------------------------------------------------------------------------------

@test
def the_libsndfile_hang_wav_is_refused_before_decoding():
    # room for 40 uploads at once from one address, so each is answered on its merits (400), not
    # refused by admission (503) when the machine is slow and they overlap
    srv = start(["--queue", "64", "--max-client-connections", "64"], name="main")
    before = total_calls(srv)
    data = read_file(HANG_WAV)
    check(len(data) == 153)
    body = form(b"trident-hang", b"hang.wav", data)
    status, b = raw_request(srv.port, "multipart/form-data; boundary=trident-hang", body)
    expect(status, b, 400, ["malformed wav", "list"])
    # 40 of them at once: every one answered, no worker left stuck
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(40) as ex:
        res = list(ex.map(lambda i: raw_request(srv.port, "multipart/form-data; boundary=trident-hang", body)[0],
                          range(40)))
    check(res == [400] * 40, res)
    still_serving(srv, before)


@test
def a_flac_declaring_one_hour_is_refused_from_its_header():
    srv = start(["--max-call-s", "60"], name="short")
    flac = os.path.join(TMP, "silence_1h.flac")
    subprocess.run(["sox", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", flac, "trim", "0", "3600"], check=True)
    data = read_file(flac)
    check(len(data) < 400 * 1024, len(data))  # an hour of silence compresses to ~180 KB
    before = total_calls(srv)
    status, _, b = srv.upload(data, "silence_1h.flac")
    expect(status, b, 413, ["declares 3600.0 s"])
    check("--max-call-s" in b["detail"], b)
    still_serving(srv, before)
    srv.stop()


@test
def huge_finite_samples_get_a_400_about_the_samples():
    srv = servers[0]
    before = total_calls(srv)
    samples = array.array("f", [0.01] * 16000)
    samples[8000] = 1e20
    status, _, b = srv.upload(wav_bytes(3, 16000, 32, samples.tobytes()), "huge.wav")
    expect(status, b, 400, ["sample"], not_words=["confidence"])
    check("1e+20" in b["detail"] and "frame 8000" in b["detail"], b)
    still_serving(srv, before)


@test
def a_body_cut_by_a_half_close_is_400_truncated_and_not_stored():
    srv = servers[0]
    before = total_calls(srv)
    body = form(b"cut", b"cut.wav", speech_wav(2.0))
    status, b = raw_request(srv.port, "multipart/form-data; boundary=cut", body, send=len(body) // 2,
                            how="half-close")
    expect(status, b, 400, ["truncated"])
    check("%d of its %d bytes" % (len(body) // 2, len(body)) in b["detail"], b)
    still_serving(srv, before)


@test
def a_body_cut_by_a_reset_is_not_stored():
    srv = servers[0]
    before = total_calls(srv)
    key = 'trident_http_requests_total{route="/api/analyze",code="4xx"}'
    answered = srv.metrics().get(key, 0)
    body = form(b"reset", b"reset.wav", speech_wav(2.0))
    raw_request(srv.port, "multipart/form-data; boundary=reset", body, send=len(body) // 2, how="reset")
    deadline = time.time() + 60
    while srv.metrics().get(key, 0) == answered and time.time() < deadline:
        time.sleep(0.05)
    check(srv.metrics().get(key, 0) == answered + 1, "the reset upload was not answered with a 4xx")
    still_serving(srv, before)


@test
def a_body_without_its_closing_boundary_is_refused():
    srv = servers[0]
    before = total_calls(srv)
    body = form(b"open", b"open.wav", speech_wav(1.0), closing=False)
    status, b = raw_request(srv.port, "multipart/form-data; boundary=open", body)
    expect(status, b, 400, ["closing boundary"])
    # cut inside the closing delimiter itself
    body = form(b"open", b"open.wav", speech_wav(1.0))[:-5]
    status, b = raw_request(srv.port, "multipart/form-data; boundary=open", body)
    expect(status, b, 400, ["closing boundary"])
    still_serving(srv, before)


@test
def short_quoted_and_parameterised_boundaries_are_accepted():
    srv = servers[0]
    wav = speech_wav(1.0)
    for ctype, boundary in (("multipart/form-data; boundary=X", b"X"),
                            ("multipart/form-data; boundary=ab", b"ab"),
                            ("multipart/form-data; boundary=X; charset=utf-8", b"X"),
                            ("multipart/form-data; charset=utf-8; boundary=\"a b:c\"", b"a b:c"),
                            ("Multipart/Form-Data; BOUNDARY=" + "b" * 70, b"b" * 70)):
        before = total_calls(srv)
        status, b = raw_request(srv.port, ctype, form(boundary, b"one.wav", wav))
        check(status == 200 and b["call_id"] and b["filename"] == "one.wav", (ctype, status, b))
        check(total_calls(srv) == before + 1)
        status, c = srv.get_json("/api/calls/" + b["call_id"])
        check(status == 200 and c["status"] == "completed" and abs(c["duration"] - 1.0) < 1e-3, c)
    for ctype in ("multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + "b" * 71,
                  "multipart/form-data; boundary=\"unterminated"):
        before = total_calls(srv)
        status, b = raw_request(srv.port, ctype, form(b"b" * 71, b"one.wav", wav))
        expect(status, b, 400, ["boundary"])
        still_serving(srv, before)
    srv.stop()


@test
def admission_comes_before_decoding():
    # --queue 1 and a slow model load: the first upload holds the one queue place while it waits
    # for the model, so the next upload -- here the WAV that hangs libsndfile -- gets 503 before
    # anything looks at its bytes.
    srv = start(["--queue", "1", "--slots", "1"], {"TRIDENT_TEST_LOAD_DELAY_MS": "4000"}, name="admit")
    srv.wait_log("Preloading ASR model (Whisper + LoRA)...")
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        first = ex.submit(srv.upload, speech_wav(1.0), "first.wav")
        deadline = time.time() + 30
        while srv.metrics()["trident_inference_reserved"] < 1 and time.time() < deadline:
            time.sleep(0.01)
        check(srv.metrics()["trident_inference_reserved"] == 1, "the first upload did not take the queue place")
        status, headers, b = srv.upload(read_file(HANG_WAV), "hang.wav")
        check(status == 503 and headers.get("retry-after") and "queue" in b["detail"], (status, b))
        status, _, b = first.result()
        check(status == 200 and b["call_id"], (status, b))
    m = srv.metrics()
    check(m["trident_inference_reserved"] == 0 and m["trident_inference_rejected_total"] == 1, m)
    srv.stop()


def main():
    return run_server_tests("upload", lambda: servers, TMP)


if __name__ == "__main__":
    sys.exit(main())
