"""test_analyze.py — `trident analyze` end to end (Python standard library only).

usage: test_analyze.py TRIDENT_BINARY SHARED_DIR

Every recording in ../shared/audio (48 kHz and 16 kHz) with the fixture model
(tiny-random-v2 + LoRA r8), without a model and with --no-asr; malformed inputs
(clear message, non-zero exit); --transcript mode with known triage cells.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import BIO_KEYS, QUEUES, TRIAGE_KEYS, check, fixture_paths, test, run_tests  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
MODEL, LORA, AUDIO_DIR, RECORDINGS = fixture_paths(SHARED)
TMP = tempfile.mkdtemp(prefix="trident-analyze-test-")


def run(*args, env=None):
    full = dict(os.environ)
    full.pop("TRIDENT_MODEL", None)
    full.pop("TRIDENT_TRIAGE_RULES", None)
    full.update(env or {})
    return subprocess.run([BINARY, "analyze"] + list(args), capture_output=True, text=True, env=full, timeout=300)


def analyze_json(*args, env=None):
    r = run(*args, env=env)
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def check_common(a, path):
    for k in ("transcript", "confidence", "nlp", "bio_acoustic", "triage"):
        check(k in a, "missing %r" % k)
    check(BIO_KEYS <= set(a["bio_acoustic"]) and TRIAGE_KEYS <= set(a["triage"]))
    check(a["triage"]["queue"] in QUEUES)
    check("entities" in a["nlp"] and 0 <= a["nlp"]["content_score"] <= 1)
    b = a["bio_acoustic"]
    check(b["frames"] > 0 and 0 < b["voiced_frames"] <= b["frames"], b)  # real speech is voiced
    check(75 < b["f0_mean"] < 400, b)
    check(0 <= b["distress_score"] <= 1)
    with wave.open(path) as w:
        dur = w.getnframes() / w.getframerate()
    check(abs(a["duration"] - dur) < 0.01, (a["duration"], dur))
    # pYIN frames at hop 512 on the 16-kHz signal (centred): 1 + n // 512
    check(b["frames"] == 1 + int(round(dur * 16000)) // 512, (b["frames"], dur))


@test
def every_recording_with_the_fixture_model():
    for name in RECORDINGS:
        path = os.path.join(AUDIO_DIR, name)
        a = analyze_json("--model", MODEL, "--lora", LORA, "--json", path)
        check_common(a, path)
        check(a["asr"]["status"] == "ok" and a["transcript"].strip(), (name, a["asr"]))
        check(0 < a["confidence"] <= 1, a["confidence"])
        # deterministic: the same file gives the same analysis
        b = analyze_json("--model", MODEL, "--lora", LORA, "--json", path)
        check(a == b or {k: v for k, v in a.items() if k != "asr"} == {k: v for k, v in b.items() if k != "asr"},
              "non-deterministic analysis for " + name)


@test
def every_recording_without_a_model_triages_on_distress():
    for name in RECORDINGS:
        path = os.path.join(AUDIO_DIR, name)
        for args in (["--json", path], ["--model", MODEL, "--no-asr", "--json", path]):
            a = analyze_json(*args)
            check_common(a, path)
            check(a["transcript"] == "" and a["confidence"] == 0, a)
            check(a["asr"]["status"] == "skipped" and a["asr"]["reason"], a["asr"])
            check(("--no-asr" in a["asr"]["reason"]) == ("--no-asr" in args), a["asr"]["reason"])
            t = a["triage"]
            check(t["flag_audio_review"] is True, t)
            d = a["bio_acoustic"]["distress_score"]
            # low confidence, no content: LLL → Q5-REVIEW, LLH → Q1 (early exits above 0.8)
            check(t["queue"] == ("Q1-IMMEDIATE" if d > 0.5 else "Q5-REVIEW"), (d, t))
        # the same bio-acoustics with and without the model
        with_model = analyze_json("--model", MODEL, "--lora", LORA, "--json", path)
        check(with_model["bio_acoustic"] == a["bio_acoustic"])


@test
def eight_bit_weights():
    path = os.path.join(AUDIO_DIR, "jfk.wav")
    q = analyze_json("--model", MODEL, "--lora", LORA, "--quant", "q8", "--json", path)
    f = analyze_json("--model", MODEL, "--lora", LORA, "--json", path)
    check(q["asr"]["status"] == "ok" and q["transcript"].strip(), q["asr"])
    check(0 < q["confidence"] <= 1, q["confidence"])
    check(q["bio_acoustic"] == f["bio_acoustic"], "bio-acoustics do not depend on the weights")


@test
def human_readable_summary():
    r = run(os.path.join(AUDIO_DIR, "jfk.wav"))
    check(r.returncode == 0 and "queue:" in r.stdout and "distress:" in r.stdout, r.stdout + r.stderr)


@test
def malformed_inputs_fail_clearly():
    jfk = open(os.path.join(AUDIO_DIR, "jfk.wav"), "rb").read()
    cases = {
        "text.wav": b"just some text, not audio\n" * 10,
        "truncated.wav": jfk[:30],
        "empty.wav": b"",
        "garbage.flac": os.urandom(4096),
    }
    for name, data in cases.items():
        path = os.path.join(TMP, name)
        with open(path, "wb") as f:
            f.write(data)
        for extra in ([], ["--model", MODEL]):
            r = run(*(extra + ["--json", path]))
            check(r.returncode != 0, "%s: exit 0" % name)
            check(r.stdout == "", "%s: printed output on error" % name)
            check(r.stderr.startswith("trident analyze:") and len(r.stderr.strip()) > 20, r.stderr)
    r = run("--json", os.path.join(TMP, "does-not-exist.wav"))
    check(r.returncode != 0 and "does-not-exist.wav" in r.stderr, r.stderr)
    r = run("--json", TMP)
    check(r.returncode != 0 and r.stderr.startswith("trident analyze:"), r.stderr)
    r = run("--model", os.path.join(TMP, "no-model"), "--json", os.path.join(AUDIO_DIR, "jfk.wav"))
    check(r.returncode != 0 and "no-model" in r.stderr, r.stderr)
    r = run("--model", MODEL, "--quant", "q4", "--json", os.path.join(AUDIO_DIR, "jfk.wav"))
    check(r.returncode == 2 and "--quant" in r.stderr and r.stdout == "", r.stderr)
    r = run("--bogus")
    check(r.returncode == 2 and "--bogus" in r.stderr)
    r = run()
    check(r.returncode == 2 and "usage" in r.stderr)


@test
def transcript_mode():
    a = analyze_json("--transcript", "", "--json")
    check(set(a) == {"nlp", "triage"}, a.keys())
    # HLL is Q5-ROUTINE in the paper's matrix; words that name no routine matter make it Q3 (a silent call)
    check(a["nlp"]["content_score"] == 0 and a["triage"]["queue"] == "Q3-MONITOR", a)
    check("Routine needs words" in a["triage"]["reasoning"], a["triage"]["reasoning"])
    check(analyze_json("--transcript", "", "--triage-rules", "paper", "--json")["triage"]["queue"] == "Q5-ROUTINE")
    check(analyze_json("--transcript", "wrong number, sorry", "--json")["triage"]["queue"] == "Q5-ROUTINE")
    check(a["triage"]["flag_audio_review"] is False and a["triage"]["early_exit"] is False)
    text = "Help! My granny is not breathing and there is a fire at 12 King Street in Kingston, hurry!"
    a = analyze_json("--transcript", text, "--json")
    n = a["nlp"]
    check(n["entities"]["mechanism_hazard"] in ("fire", "medical"), n["entities"])
    check(n["entities"]["clinical_indicators"]["breathing"] == "not_breathing", n["entities"])
    check(n["content_score"] > 0.4, n["content_score"])
    # HHL is Q2 in the paper's matrix; the critical-indicator rule (default) makes it Q1 and names it
    check(a["triage"]["queue"] == "Q1-IMMEDIATE" and "not_breathing" in a["triage"]["reasoning"], a["triage"])
    check(any(i["name"] == "not_breathing" and i["critical"] for i in n["entities"]["indicators"]), n["entities"])
    a = analyze_json("--transcript", text, "--triage-rules", "paper", "--json")
    check(a["triage"]["queue"] == "Q2-ELEVATED" and a["triage"]["priority_level"] == 2, a["triage"])  # HHL
    a = analyze_json("--transcript", text, "--json", env={"TRIDENT_TRIAGE_RULES": "paper"})
    check(a["triage"]["queue"] == "Q2-ELEVATED", a["triage"])
    r = run("--transcript", text, "--triage-rules", "strict", "--json")
    check(r.returncode == 2 and "paper or critical" in r.stderr, r.stderr)
    a = analyze_json("--transcript", text, "--distress", "0.6", "--json")
    check(a["triage"]["queue"] == "Q1-IMMEDIATE" and a["triage"]["early_exit"] is False, a["triage"])  # HHH
    a = analyze_json("--transcript", "hello", "--confidence", "0.2", "--distress", "0.85", "--json")
    check(a["triage"]["queue"] == "Q1-IMMEDIATE" and a["triage"]["early_exit"] is True, a["triage"])
    check(a["triage"]["flag_audio_review"] is True)
    a = analyze_json("--transcript", "hello", "--confidence", "0.3", "--json")
    check(a["triage"]["queue"] == "Q5-REVIEW", a["triage"])  # LLL
    # the same as the full pipeline's nlp/triage for the same inputs
    for bad in (["--confidence", "1.5"], ["--distress", "nan"], ["--confidence", "x"]):
        r = run("--transcript", "hi", *bad, "--json")
        check(r.returncode == 2 and "[0, 1]" in r.stderr, r.stderr)


def main():
    return run_tests("analyze", finish=lambda failed: shutil.rmtree(TMP, ignore_errors=True))


if __name__ == "__main__":
    sys.exit(main())
