"""test_openai.py — the OpenAI-compatible audio API of a real `trident serve`.

usage: test_openai.py TRIDENT_BINARY SHARED_DIR [hostile]

Requests are built as OpenAI's official Python SDK sends them (httpx's
multipart/form-data: text fields first, then the file part with its filename
and content type; `timestamp_granularities[]` repeated), with the standard
library only. Checked: the text equals `trident transcribe` of the same file
with the same options (the CLI is run here); every response_format's
structure; translations, prompt, temperature and language reach the engine;
GET /v1/models; bad requests and hostile audio get OpenAI-style errors
({"error": {"message", "type", "param", "code"}}), nothing is stored, and the
server keeps serving. With "hostile" only the bad requests run (short enough
for the ASan build; the others decode with the full temperature fallback).
"""
import array
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import Server, run_server_tests, wav_container  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, fixture_paths, test  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, _ = fixture_paths(SHARED)
JFK = os.path.join(AUDIO_DIR, "jfk.wav")
HANG = os.path.join(SHARED, "repro", "libsndfile-hang.wav")
TMP = tempfile.mkdtemp(prefix="trident-openai-test-")
FALLBACK = "0,0.2,0.4,0.6,0.8,1.0"  # OpenAI's temperature 0: the official fallback schedule
HOSTILE = len(sys.argv) > 3 and sys.argv[3] == "hostile"
server = None
plain = None  # the json text of jfk.wav at the defaults


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def sdk_multipart(fields, file_name, file_data, file_type="audio/wav"):
    """The body and Content-Type of an SDK request: fields is a list of (name, value) text
    fields, in order (a list value repeats the field, as the SDK does for arrays)."""
    boundary = uuid.uuid4().hex
    out = []
    for name, value in fields:
        for v in value if isinstance(value, list) else [value]:
            out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                       % (boundary.encode(), name.encode(), str(v).encode()))
    if file_data is not None:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                   b"Content-Type: %s\r\n\r\n" % (boundary.encode(), file_name.encode(), file_type.encode())
                   + file_data + b"\r\n")
    out.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def openai_post(path, fields, file_name="jfk.wav", file_data=None, srv=None):
    body, ctype = sdk_multipart(fields, file_name, file_data)
    headers = {"Content-Type": ctype, "Accept": "application/json", "User-Agent": "OpenAI/Python 1.54.0",
               "Authorization": "Bearer sk-not-checked", "X-Stainless-Lang": "python"}
    return (srv or server).request("POST", path, body, headers)


def transcribe(fields, data=None, path="/v1/audio/transcriptions", srv=None):
    return openai_post(path, fields, file_data=read_file(JFK) if data is None else data, srv=srv)


def cli_text(*args):
    r = subprocess.run([BINARY, "transcribe", "--model", MODEL, "--lora", LORA, "--timestamps"] + list(args) + [JFK],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, r.stderr)
    return r.stdout.strip()


def json_ok(status, headers, data):
    check(status == 200, (status, data[:500]))
    check(headers["content-type"].startswith("application/json"), headers)
    return json.loads(data)


def expect_openai_error(resp, want_status, param, code, words):
    status, headers, data = resp
    check(status == want_status, "expected %d, got %d %s" % (want_status, status, data[:300]))
    body = json.loads(data)
    check(set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body)
    e = body["error"]
    check(e["type"] == ("server_error" if want_status >= 500 else "invalid_request_error"), e)
    check(e["param"] == param and e["code"] == code, e)
    check(any(w in e["message"].lower() for w in words), "unclear message %r (wanted one of %s)" % (e["message"], words))


def stored_calls():
    status, h = server.get_json("/health")
    check(status == 200, h)
    return h["total_calls"]


@test
def start_server():
    global server
    server = Server(BINARY, ["--model", MODEL, "--lora", LORA, "--db", os.path.join(TMP, "calls.db"),
                             "--max-call-s", "60", "--max-upload-mb", "3"],
                    log_path=os.path.join(TMP, "server.log")).start(wait_ready=True)


def sdk_request_gets_the_text_of_trident_transcribe():
    global plain
    before = stored_calls()
    a = json_ok(*transcribe([("model", "whisper-1")]))
    check(set(a) == {"text", "usage"} and a["usage"] == {"type": "duration", "seconds": 11}, a)
    want = cli_text("--language", "en", "--temperature", FALLBACK)
    check(want and a["text"] == want, (a["text"], want))
    plain = a["text"]
    status, headers, data = transcribe([("model", "whisper-1"), ("response_format", "text")])
    check(status == 200 and headers["content-type"].startswith("text/plain"), headers)
    check(data.decode() == plain + "\n", data[:200])
    check(stored_calls() == before, "a transcription was stored as a call")


def every_response_format_has_its_structure():
    # temperature 1: one sampled pass (the fallback schedule from 1.0), the same text each time (seed 0)
    one = json_ok(*transcribe([("model", "whisper-1"), ("temperature", "1")]))["text"]
    check(one == cli_text("--language", "en", "--temperature", "1"), one)
    # the served model's own id works as the alias does
    v = json_ok(*transcribe([("model", "tiny-random-v2"), ("temperature", "1"), ("response_format", "verbose_json"),
                             ("timestamp_granularities[]", ["segment"])]))
    check(set(v) == {"task", "language", "duration", "text", "segments"}, v.keys())
    check(v["task"] == "transcribe" and v["language"] == "english" and abs(v["duration"] - 11.0) < 0.01, v)
    check(v["text"] == one)
    segs = v["segments"]
    check(len(segs) >= 1)
    keys = {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio",
            "no_speech_prob"}
    for i, s in enumerate(segs):
        check(set(s) == keys and s["id"] == i, s)
        check(0 <= s["start"] <= s["end"] and isinstance(s["seek"], int), s)
        check(s["tokens"] and all(isinstance(t, int) for t in s["tokens"]), s)
        check(0 <= s["temperature"] <= 1 and s["avg_logprob"] <= 0 and 0 <= s["no_speech_prob"] <= 1, s)
        check(isinstance(s["text"], str), s)

    def ms(h, m, s, f):
        return ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)

    status, headers, data = transcribe([("model", "whisper-1"), ("temperature", "1"), ("response_format", "srt")])
    check(status == 200 and headers["content-type"].startswith("text/plain"), headers)
    cues = data.decode().strip().split("\n\n")
    check(len(cues) == len(segs), (len(cues), len(segs)))
    for i, (cue, s) in enumerate(zip(cues, segs)):
        lines = cue.split("\n")
        check(lines[0] == str(i + 1), cue)
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})", lines[1])
        check(m, lines[1])
        check(ms(*m.groups()[:4]) == round(s["start"] * 1000) and ms(*m.groups()[4:]) == round(s["end"] * 1000),
              (lines[1], s["start"], s["end"]))

    status, headers, data = transcribe([("model", "whisper-1"), ("temperature", "1"), ("response_format", "vtt")])
    check(status == 200 and headers["content-type"].startswith("text/vtt"), headers)
    text = data.decode()
    check(text.startswith("WEBVTT\n\n"), text[:40])
    cues = text[len("WEBVTT\n\n"):].strip().split("\n\n")
    check(len(cues) == len(segs), (len(cues), len(segs)))
    for cue, s in zip(cues, segs):
        m = re.fullmatch(r"(?:(\d\d):)?(\d\d):(\d\d)\.(\d{3}) --> (?:(\d\d):)?(\d\d):(\d\d)\.(\d{3})", cue.split("\n")[0])
        check(m, cue)
        check(ms(*m.groups()[:4]) == round(s["start"] * 1000), (cue, s["start"]))


def translation_prompt_temperature_and_language_reach_the_engine():
    t = json_ok(*transcribe([("model", "whisper-1"), ("temperature", "1"), ("response_format", "verbose_json")],
                            path="/v1/audio/translations"))
    check(t["task"] == "translate", t)
    check(t["text"] == cli_text("--language", "en", "--task", "translate", "--temperature", "1"), t["text"])
    prompt = "Half Way Tree, Spanish Town, Mandeville"
    v = json_ok(*transcribe([("model", "whisper-1"), ("language", "es"), ("prompt", prompt), ("temperature", "0.9"),
                             ("response_format", "verbose_json")]))
    check(v["language"] == "spanish", v["language"])
    want = cli_text("--language", "es", "--prompt", prompt, "--temperature", "0.9")
    check(v["text"] == want, (v["text"], want))
    check(all(abs(s["temperature"] - 0.9) < 1e-6 for s in v["segments"]), [s["temperature"] for s in v["segments"]])


def models_are_listed():
    status, m = server.get_json("/v1/models")
    check(status == 200 and m["object"] == "list", m)
    check([x["id"] for x in m["data"]] == ["whisper-1", "tiny-random-v2"], m)
    for x in m["data"]:
        check(x["object"] == "model" and x["owned_by"] == "trident" and isinstance(x["created"], int), x)
    status, one = server.get_json("/v1/models/whisper-1")
    check(status == 200 and one["id"] == "whisper-1", one)
    expect_openai_error(server.request("GET", "/v1/models/gpt-4o"), 404, "model", "model_not_found", ["does not exist"])
    expect_openai_error(server.request("GET", "/v1/chat/completions"), 404, None, "unknown_url", ["unknown"])
    expect_openai_error(server.request("DELETE", "/v1/models"), 405, None, "method_not_allowed", ["not allowed"])



def bad_requests_get_openai_errors_and_the_server_keeps_serving():
    before = stored_calls()
    jfk = read_file(JFK)
    expect_openai_error(openai_post("/v1/audio/transcriptions", [("model", "whisper-1")]), 400, "file",
                        "missing_required_parameter", ["file"])
    expect_openai_error(transcribe([]), 400, "model", "missing_required_parameter", ["model"])
    expect_openai_error(transcribe([("model", "whisper-2")]), 400, "model", "model_not_found", ["does not exist"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("response_format", "xml")]), 400, "response_format",
                        "invalid_value", ["response_format"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("response_format", "verbose_json"),
                                    ("timestamp_granularities[]", ["segment", "word"])]),
                        400, "timestamp_granularities[]", "unsupported_value", ["word"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("timestamp_granularities[]", ["phoneme"])]),
                        400, "timestamp_granularities[]", "invalid_value", ["phoneme"])
    for t in ("2", "-0.1", "hot", "nan"):
        expect_openai_error(transcribe([("model", "whisper-1"), ("temperature", t)]), 400, "temperature",
                            "invalid_value", ["temperature"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("language", "klingon")]), 400, "language",
                        "invalid_value", ["language"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("stream", "true")]), 400, "stream", "unsupported_value",
                        ["stream"])
    expect_openai_error(transcribe([("model", "whisper-1"), ("prompt", "x" * 5000)]), 400, "prompt", "invalid_value",
                        ["too long"])
    # audio: garbage, empty, the libsndfile hang, too long, too large
    expect_openai_error(transcribe([("model", "whisper-1")], b"not audio, just text\n" * 50), 400, "file",
                        "invalid_audio", ["audio", "format"])
    expect_openai_error(transcribe([("model", "whisper-1")], b""), 400, "file", "invalid_audio", ["empty"])
    expect_openai_error(transcribe([("model", "whisper-1")], read_file(HANG)), 400, "file", "invalid_audio",
                        ["chunk", "audio", "format"])
    expect_openai_error(transcribe([("model", "whisper-1")], wav_container(array.array("h", [0] * 75 * 16000).tobytes())), 413, "file", "audio_too_long",
                        ["60", "max-call-s"])
    expect_openai_error(transcribe([("model", "whisper-1")], os.urandom(4 * 1024 * 1024)), 413, "file",
                        "file_too_large", ["limit"])
    # the request itself: not multipart, truncated, no closing boundary
    expect_openai_error(server.request("POST", "/v1/audio/transcriptions", json.dumps({"model": "whisper-1"}),
                                       {"Content-Type": "application/json"}), 415, None, "invalid_request",
                        ["multipart"])
    body, ctype = sdk_multipart([("model", "whisper-1")], "jfk.wav", jfk)
    expect_openai_error(server.request("POST", "/v1/audio/transcriptions", body[:-40], {"Content-Type": ctype}), 400,
                        None, "invalid_request", ["truncated", "closing"])
    # nothing was stored, the server answers, and a good request still works
    check(stored_calls() == before, "a refused transcription changed the stored calls")
    status, h = server.get_json("/health")
    check(status == 200 and h["status"] == "healthy", h)
    status, m = server.get_json("/v1/models")
    check(status == 200 and len(m["data"]) == 2, m)
    check(server.proc.poll() is None)


def stop_server():
    check(server.stop() == 0, server.log_text()[-2000:])


def without_a_usable_model_503_model_unavailable():
    jfk = read_file(JFK)
    for name, args in (("none", []), ("broken", ["--model", os.path.join(TMP, "no-such-model")])):
        srv = Server(BINARY, args + ["--db", os.path.join(TMP, name + ".db")],
                     log_path=os.path.join(TMP, name + ".log")).start()
        try:
            expect_openai_error(transcribe([("model", "whisper-1")], jfk, srv=srv), 503, "model", "model_unavailable",
                                ["model"])
            status, _, data = srv.request("GET", "/v1/models")
            ids = [m["id"] for m in json.loads(data)["data"]]
            check(status == 200 and ids == ([] if name == "none" else ["whisper-1", "no-such-model"]), ids)
            status, h = srv.get_json("/health")
            check(status == 200 and h["total_calls"] == 0, h)
        finally:
            check(srv.stop() == 0, srv.log_text()[-2000:])


for fn in ([] if HOSTILE else [sdk_request_gets_the_text_of_trident_transcribe, every_response_format_has_its_structure,
                               translation_prompt_temperature_and_language_reach_the_engine, models_are_listed]):
    test(fn)
test(bad_requests_get_openai_errors_and_the_server_keeps_serving)
test(stop_server)
test(without_a_usable_model_503_model_unavailable)


def main():
    return run_server_tests("openai", lambda: [server], TMP, tail=4000)


if __name__ == "__main__":
    sys.exit(main())
