"""test_distress.py — calibrated vocal distress on real speech (Python standard library only).

usage: test_distress.py TRIDENT_BINARY SHARED_DIR

Drives the real `trident analyze --no-asr --json` (and, for a live call, `trident
serve` over WebSocket) on the shared recordings and on versions of them built here
with sox and espeak-ng (Debian packages, in scripts/setup.sh):

- calm: call_1_calm, call_2_calm (D < 0.35) and jfk (an orator, D < 0.5) — also
  at -10 dB and +6 dB, through an 8-kHz telephone band (300-3400 Hz), through
  the GSM 06.10 codec and with pink noise mixed in: a calm caller on a quiet,
  loud or poor line stays calm;
- agitated: the same recordings with the pitch raised by 5 semitones and made
  unsteady (an irregular waver of up to +-1.5 semitones at about 2.5 Hz), 20 %
  faster and 6 dB louder, in six renditions (waver seeds 1-6): on average at
  least 0.2 above their calm versions, and every rendition at least 0.1 above;
  one of them through the telephone band or 16 dB quieter scores the same;
- `--distress-model paper` computes the paper's formula unchanged (bio-ref's
  figure for jfk) — the one that reads calm speech as distress;
- a live call that opens calm and turns agitated: its energy term rises against
  the caller's own opening level (`trident serve`, WebSocket, no model).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from trident_client import Server, WebSocket  # noqa: E402
from trident_testing import check, test, run_tests  # noqa: E402

BINARY, SHARED = sys.argv[1], os.path.abspath(sys.argv[2])
AUDIO = os.path.join(SHARED, "audio")
TMP = tempfile.mkdtemp(prefix="trident-distress-test-")
CALLS = ("call_1_calm", "call_2_calm")
CALM_LIMIT = {"call_1_calm": 0.35, "call_2_calm": 0.35, "jfk": 0.5}
AGITATED_SEEDS = range(1, 7)
CALM_VARIANTS = ("calm", "minus10db", "plus6db", "telephone", "gsm", "noise")


def sox(*args):
    # -D: no dither, -R: noise from a fixed seed, so the files (and the figures) are the same on every run
    r = subprocess.run(["sox", "-D", "-R"] + list(args), capture_output=True, text=True)
    check(r.returncode == 0, "sox %s: %s" % (" ".join(args), r.stderr))


def duration_s(path):
    r = subprocess.run(["soxi", "-D", path], capture_output=True, text=True, check=True)
    return float(r.stdout)


def waver(duration, seed, cents=150, rate_hz=2.5):
    """sox `bend` segments for an unsteady pitch: alternately up and down around the
    (raised) pitch, each half-period 0.75-1.25 of 1/(2 rate_hz) and each excursion
    0.6-1.0 of `cents`, drawn from a fixed seed; returns to the base at the end."""
    rnd = random.Random(seed)
    segs, t, cur = [], 0.0, 0.0
    while t < duration - 0.3:
        half = 0.5 / rate_hz * rnd.uniform(0.75, 1.25)
        target = (cents if cur <= 0 else -cents) * rnd.uniform(0.6, 1.0)
        segs.append("0,%d,%.3f" % (round(target - cur), half))
        cur, t = target, t + half
    if cur:
        segs.append("0,%d,0.05" % round(-cur))
    return segs


def variants(name):
    """{label: path} for one recording: calm, its level and line variants, agitated."""
    src = os.path.join(AUDIO, name + ".wav")
    out = {"calm": src}
    p = lambda tag: os.path.join(TMP, "%s_%s.wav" % (name, tag))  # noqa: E731
    sox(src, p("minus10db"), "gain", "-10")
    sox(src, p("plus6db"), "gain", "6")
    sox(src, "-r", "8000", p("8k"), "sinc", "300-3400")
    sox(p("8k"), "-r", "16000", p("telephone"))
    gsm = os.path.join(TMP, name + ".gsm")  # the GSM 06.10 telephone codec
    sox(src, "-r", "8000", gsm, "sinc", "300-3400")
    sox(gsm, "-r", "16000", p("gsm"))
    sox("-n", "-r", "16000", p("pink"), "synth", "%.3f" % duration_s(src), "pinknoise", "gain", "-30")
    sox(src, "-r", "16000", p("16k"))
    sox("-m", p("16k"), p("pink"), p("noise"))  # a hissing line, 12-20 dB below the speech
    for tag in CALM_VARIANTS[1:]:
        out[tag] = p(tag)
    for seed in AGITATED_SEEDS:
        tag = "agitated%d" % seed
        sox(src, "-r", "16000", p(tag), "pitch", "500", "bend", *waver(duration_s(src), seed), "tempo", "-s", "1.2",
            "gain", "6")
        out[tag] = p(tag)
    # the first agitated rendition on a poor line and 16 dB quieter
    sox(p("agitated1"), "-r", "8000", p("a8k"), "sinc", "300-3400")
    sox(p("a8k"), "-r", "16000", p("agitated1_telephone"))
    sox(p("agitated1"), p("agitated1_quiet"), "gain", "-16")
    out["agitated1_telephone"], out["agitated1_quiet"] = p("agitated1_telephone"), p("agitated1_quiet")
    return out


def run(*args, env_extra=None):
    env = dict(os.environ)
    env.pop("TRIDENT_MODEL", None)
    env.pop("TRIDENT_DISTRESS_MODEL", None)
    env.update(env_extra or {})
    return subprocess.run([BINARY, "analyze"] + list(args), capture_output=True, text=True, env=env, timeout=300)


def analysis(path, *extra, env_extra=None):
    r = run("--no-asr", "--json", *extra, path, env_extra=env_extra)
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def bio(path, *extra, env_extra=None):
    return analysis(path, *extra, env_extra=env_extra)["bio_acoustic"]


QUEUES = {}  # (model, recording, variant) -> the queue `trident analyze --no-asr` chose


def table(model_args):
    """{recording: {variant: D}} for every recording and variant (queues into QUEUES)."""
    out = {}
    for name in VARIANTS:
        out[name] = {}
        for tag, path in VARIANTS[name].items():
            a = analysis(path, *model_args)
            out[name][tag] = a["bio_acoustic"]["distress_score"]
            QUEUES[(a["bio_acoustic"]["distress_model"], name, tag)] = a["triage"]["queue"]
    return out


VARIANTS = {}


def report(title, t):
    print(title)
    for name, row in t.items():
        print("  %-12s " % name + "  ".join("%s %.3f" % kv for kv in row.items()))


@test
def calm_speech_reads_calm_on_any_level_and_line_and_agitated_speech_reads_higher():
    for name in CALM_LIMIT:
        VARIANTS[name] = variants(name)
    t = table([])  # the default model: calibrated
    report("distress, calibrated model (default):", t)
    for name, row in t.items():
        for tag in CALM_VARIANTS:
            check(row[tag] < CALM_LIMIT[name], "%s %s: D %.3f, not below %.2f" % (name, tag, row[tag], CALM_LIMIT[name]))
        agitated = [row["agitated%d" % s] for s in AGITATED_SEEDS]
        mean = sum(agitated) / len(agitated)
        print("  %-12s agitated mean %.3f (%+.3f), min %.3f (%+.3f)" % (name, mean, mean - row["calm"], min(agitated),
                                                                     min(agitated) - row["calm"]))
        check(mean >= row["calm"] + 0.2, "%s: agitated mean D %.3f not 0.2 above calm %.3f" % (name, mean, row["calm"]))
        check(min(agitated) >= row["calm"] + 0.1, "%s: an agitated rendition at %.3f" % (name, min(agitated)))
        for tag in ("agitated1_telephone", "agitated1_quiet"):  # the line and level do not hide agitation either
            check(abs(row[tag] - row["agitated1"]) < 0.05, "%s %s: %.3f vs %.3f" % (name, tag, row[tag], row["agitated1"]))


@test
def the_paper_model_is_the_papers_formula():
    t = table(["--distress-model", "paper"])
    report("distress, --distress-model paper:", t)
    with open(os.path.join(SHARED, "bio-ref", "jfk.json")) as f:
        ref = json.load(f)["features"]
    b = bio(VARIANTS["jfk"]["calm"], "--distress-model", "paper")
    for k in ("pitch_elevation", "instability", "energy", "jitter", "distress_score"):
        check(abs(b[k] - ref[k if k != "distress_score" else "distress"]) < 1e-4, (k, b[k], ref))
    check(b["distress_model"] == "paper", b)
    # what the issue is about: the paper's normalisation reads this calm caller as distressed,
    # and without words (no ASR) that alone sends the call to Q1; the calibrated model does not
    check(t["call_1_calm"]["calm"] > 0.5 and QUEUES[("paper", "call_1_calm", "calm")] == "Q1-IMMEDIATE", t["call_1_calm"])
    calm_q1 = [k for k, q in QUEUES.items() if k[0] == "calibrated" and k[2] in CALM_VARIANTS and q == "Q1-IMMEDIATE"]
    check(not calm_q1, calm_q1)
    print("queues of the calm recordings and variants: calibrated %s; paper %s" % (
        sorted({q for k, q in QUEUES.items() if k[0] == "calibrated" and k[2] in CALM_VARIANTS}),
        sorted({q for k, q in QUEUES.items() if k[0] == "paper" and k[2] in CALM_VARIANTS})))
    # the environment variable selects it too; the flag wins over it
    check(bio(VARIANTS["jfk"]["calm"], env_extra={"TRIDENT_DISTRESS_MODEL": "paper"})["distress_score"] ==
          b["distress_score"])
    c = bio(VARIANTS["jfk"]["calm"], "--distress-model", "calibrated", env_extra={"TRIDENT_DISTRESS_MODEL": "paper"})
    check(c["distress_model"] == "calibrated" and c["distress_score"] < 0.5, c)


@test
def the_bio_json_shows_the_features_and_both_models_terms():
    b = bio(VARIANTS["call_1_calm"]["calm"])
    check(b["distress_model"] == "calibrated", b)
    feats = b["features"]
    for k in ("rms_mean", "jitter_raw", "f0_std", "speech_frames", "speech_f0_mean", "speech_f0_cv",
              "pitch_movement_st", "speech_level_db", "opening_level_db", "reference_level_db", "opening_speech_s"):
        check(k in feats, (k, feats))
    for model in ("paper", "calibrated"):
        terms = b["models"][model]
        for k in ("pitch_elevation", "instability", "energy", "jitter", "distress_score"):
            check(0 <= terms[k] <= 1, (model, k, terms))
        w = 0.30 * terms["pitch_elevation"] + 0.35 * terms["instability"] + 0.20 * terms["energy"] + \
            0.15 * terms["jitter"]
        check(abs(w - terms["distress_score"]) < 1e-9, (model, terms))  # the paper's weights in both
    # the top-level terms are the ones the score in use was made of
    for k in ("pitch_elevation", "instability", "energy", "jitter", "distress_score"):
        check(b[k] == b["models"]["calibrated"][k], k)
    # gain changes the raw level, not the calibrated terms
    loud = bio(VARIANTS["call_1_calm"]["plus6db"])
    check(abs(loud["features"]["speech_level_db"] - feats["speech_level_db"] - 6) < 0.5, (loud["features"], feats))
    check(loud["models"]["paper"]["energy"] > b["models"]["paper"]["energy"])


@test
def espeak_voices_calm_and_agitated():
    text = "There is a tree down across the road near the school and the power line is hanging low."
    rows = {}
    for voice in ("en-us", "en-us+f3"):
        d = {}
        for tag, args in (("calm", ["-p", "40", "-s", "150", "-a", "80"]), ("agitated", ["-p", "75", "-s", "200", "-a", "160"])):
            path = os.path.join(TMP, "espeak_%s_%s.wav" % (voice.replace("+", "_"), tag))
            r = subprocess.run(["espeak-ng", "-v", voice, *args, "-w", path, text], capture_output=True, text=True)
            check(r.returncode == 0, r.stderr)
            d[tag] = bio(path)["distress_score"]
        rows[voice] = d
        check(d["calm"] < 0.35 and d["agitated"] > d["calm"], (voice, d))
    report("distress of espeak-ng voices (calibrated):", rows)


def float32_pcm(path):
    """16-kHz mono float32 little-endian samples of a file (sox converts)."""
    raw = os.path.join(TMP, "live.f32")
    sox(path, "-r", "16000", "-c", "1", "-e", "floating-point", "-b", "32", "-L", "-t", "raw", raw)
    with open(raw, "rb") as f:
        return f.read()


@test
def a_live_call_that_turns_agitated_is_scored_against_its_own_opening():
    calm = VARIANTS["call_2_calm"]["calm"]
    agitated = VARIANTS["call_2_calm"]["agitated1"]
    silence = b"\0" * (4 * 16000 * 2)
    server = Server(BINARY, ["--db", os.path.join(TMP, "live.db")], log_path=os.path.join(TMP, "serve.log")).start()
    try:
        ws = WebSocket(server.port)
        check(ws.recv_event(timeout=10)["type"] == "connected")
        calm_end_s = len(float32_pcm(calm) + silence) / 4 / 16000
        pcm = float32_pcm(calm) + silence + float32_pcm(agitated) + silence
        step = 1600 * 4
        for off in range(0, len(pcm), step):
            ws.send_binary(pcm[off:off + step])
        ws.send_text(json.dumps({"type": "end"}))
        done, started = [], {}
        while True:
            ev = ws.recv_event(timeout=120)
            check(ev is not None, "no call_ended")
            if ev["type"] == "processing_started":
                started[ev["utterance_index"]] = ev["start"]
            elif ev["type"] == "processing_complete":
                done.append(ev)
            elif ev["type"] == "call_ended":
                break
        ws.close()
    finally:
        server.stop()
    check(len(done) >= 4, "utterances: %d" % len(done))
    check(all(e["bio_acoustic"]["distress_model"] == "calibrated" for e in done), "the default model")
    parts = {"calm": [], "agitated": []}
    print("live call: call_2_calm then its agitated version (seed 1)")
    for ev in done:
        b = ev["bio_acoustic"]
        f = b["features"]
        part = "calm" if started[ev["utterance_index"]] < calm_end_s else "agitated"
        own_e = 0.0 if f["speech_level_db"] is None else \
            min(1.0, max(0.0, (f["speech_level_db"] - f["opening_level_db"]) / 10.0))
        print("  %-8s utterance %d: %.1f s, D %.3f (P %.2f V %.2f J %.2f, movement %.2f st), E %.3f against the call's "
              "opening %s dB (alone: E %.3f, D %.3f)" % (
            part, ev["utterance_index"], ev["chunk_duration"], ev["chunk_distress"], b["pitch_elevation"],
            b["instability"], b["jitter"], f["pitch_movement_st"], b["energy"],
            "%.1f" % f["reference_level_db"] if f["reference_level_db"] is not None else "-", own_e,
            ev["chunk_distress"] - 0.2 * (b["energy"] - own_e)))
        parts[part].append(ev)
    check(parts["calm"] and parts["agitated"], parts.keys())
    refs = {round(e["bio_acoustic"]["features"]["reference_level_db"], 9) for e in parts["agitated"]}
    check(len(refs) == 1, "one reference for the call after its opening: %s" % refs)

    def weighted(evs, key):
        return sum(e[key] * e["chunk_duration"] for e in evs) / sum(e["chunk_duration"] for e in evs)
    calm_d, agit_d = weighted(parts["calm"], "chunk_distress"), weighted(parts["agitated"], "chunk_distress")
    agit_e = sum(e["bio_acoustic"]["energy"] * e["chunk_duration"] for e in parts["agitated"]) / \
        sum(e["chunk_duration"] for e in parts["agitated"])
    print("  calm part D %.3f, agitated part D %.3f (E %.3f); the call's running D %.3f" % (
        calm_d, agit_d, agit_e, done[-1]["distress"]))
    check(calm_d < 0.35, calm_d)
    check(agit_e > 0.4, "6 dB over the opening: E %.3f" % agit_e)  # the sox gain is +6 dB
    check(agit_d >= calm_d + 0.2, (calm_d, agit_d))


@test
def serve_scores_uploads_with_the_model_it_was_started_with():
    with open(os.path.join(AUDIO, "jfk.wav"), "rb") as f:
        data = f.read()
    paper = bio(os.path.join(AUDIO, "jfk.wav"), "--distress-model", "paper")
    for args, env, model in (([], {}, "calibrated"), (["--distress-model", "paper"], {}, "paper"),
                             ([], {"TRIDENT_DISTRESS_MODEL": "paper"}, "paper")):
        server = Server(BINARY, ["--db", os.path.join(TMP, "upload-%s.db" % model)] + args, env_extra=env,
                        log_path=os.path.join(TMP, "serve-upload.log")).start()
        try:
            status, _, a = server.upload(data, "jfk.wav")
            check(status == 200, (status, a))
            stored = server.get_json("/api/calls/" + a["call_id"])[1]
        finally:
            server.stop()
        b = a["bio_acoustic"]
        check(b["distress_model"] == model and b["models"] == paper["models"], (args, env, b))
        check(b["distress_score"] == paper["models"][model]["distress_score"], (model, b))
        check(stored["distress_score"] == b["distress_score"], (stored["distress_score"], b["distress_score"]))
    r = subprocess.run([BINARY, "serve", "--port", "0", "--db", os.path.join(TMP, "x.db"), "--distress-model", "loud"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "--distress-model" in r.stderr and "calibrated or paper" in r.stderr, r.stderr)


@test
def bad_distress_model_is_a_clear_error():
    path = os.path.join(AUDIO, "jfk.wav")
    r = run("--no-asr", "--json", "--distress-model", "loud", path)
    check(r.returncode == 2 and "--distress-model" in r.stderr and "paper" in r.stderr, r.stderr)
    r = run("--no-asr", "--json", path, env_extra={"TRIDENT_DISTRESS_MODEL": "x"})
    check(r.returncode == 2 and "TRIDENT_DISTRESS_MODEL" in r.stderr, r.stderr)
    r = subprocess.run([BINARY, "analyze", "--help"], capture_output=True, text=True)
    check("--distress-model" in r.stdout and "TRIDENT_DISTRESS_MODEL" in r.stdout, r.stdout)


def main():
    return run_tests("distress", finish=lambda failed: shutil.rmtree(TMP, ignore_errors=True))


if __name__ == "__main__":
    sys.exit(main())
