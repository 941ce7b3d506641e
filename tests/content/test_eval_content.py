"""test_eval_content.py — `trident eval-content` on the labelled corpus: the issue's
targets asserted on the tuning part (tests/content/corpus.tsv), the counting checked on
a small file worked out by hand, and bad files and usage refused with a clear message.

usage: test_eval_content.py TRIDENT_BINARY CORPUS.tsv [CORPUS.tsv ...]
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, test, run_tests  # noqa: E402

BINARY = sys.argv[1]
CORPORA = sys.argv[2:]
TMP = tempfile.mkdtemp(prefix="trident-eval-")


def run(*args):
    env = dict(os.environ)
    env.pop("TRIDENT_TRIAGE_RULES", None)
    return subprocess.run([BINARY, "eval-content"] + list(args), capture_output=True, text=True, env=env, timeout=300)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@test
def corpus_meets_the_targets():
    for corpus in CORPORA:
        r = run("--json", corpus)
        check(r.returncode == 0, r.stderr)
        e = json.loads(r.stdout)
        summary = "%s: critical->Q1 %s, critical+serious->Q1/Q2 %s, routine->Q3/Q5 %s, hazard %s" % (
            corpus, e["critical_q1"], e["emergency_q1_q2"], e["routine_q3_q5"], e["hazard_accuracy"])
        print(summary)
        check(e["confidence"] == 0.9 and e["distress"] == 0.2 and e["triage_rules"] == "critical", e)
        check(e["kinds"]["critical"]["n"] > 0 and e["kinds"]["serious"]["n"] > 0 and e["kinds"]["routine"]["n"] > 0)
        # the targets (not to be widened)
        check(e["critical_q1"]["ratio"] >= 0.97, summary)
        check(e["emergency_q1_q2"]["ratio"] == 1.0, summary)
        check(e["routine_q3_q5"]["ratio"] >= 0.95, summary)
        check(e["hazard_accuracy"]["ratio"] >= 0.92, summary)
        r = run(corpus)  # the text report
        check(r.returncode == 0 and "critical -> Q1" in r.stdout and "misses" in r.stdout, r.stderr)


SMALL = """# a small corpus worked out by hand
a1\tcritical\tviolence\tweapon_injury,not_breathing\tenglish\tSomebody shot the shopkeeper, he is on the ground not breathing
a2\troutine\tnone\t-\tenglish\tIs this the number to ask about a fire inspection?
a3\tserious\ttraffic\tinjury\tasr\tum a car hit my my bike and i hurt my leg
a4\tcritical\tmedical\tcardiac\tpatois\tMi granny collapse
a5\troutine\tother\t-\tenglish\tmy neighbour plays loud music every night
"""


@test
def counting_on_a_small_file():
    r = run("--json", write("small.tsv", SMALL))
    check(r.returncode == 0, r.stderr)
    e = json.loads(r.stdout)
    check(e["rows"] == 5, e["rows"])
    check(e["critical_q1"] == {"hit": 2, "n": 2, "ratio": 1.0}, e["critical_q1"])
    check(e["emergency_q1_q2"]["hit"] == 3 and e["emergency_q1_q2"]["n"] == 3, e["emergency_q1_q2"])
    check(e["routine_q3_q5"]["hit"] == 2 and e["routine_q3_q5"]["n"] == 2, e["routine_q3_q5"])
    ind = e["indicators"]
    check(ind["weapon_injury"]["tp"] == 1 and ind["not_breathing"]["tp"] == 1 and ind["cardiac"]["tp"] == 1, ind)
    check(ind["weapon_injury"]["critical"] is True and ind["injury"]["critical"] is False, ind["injury"])
    # the paper's matrix alone: the shot shopkeeper (HHL) is Q2, a miss for a critical row
    r = run("--json", "--triage-rules", "paper", write("small.tsv", SMALL))
    e = json.loads(r.stdout)
    check(e["triage_rules"] == "paper" and e["critical_q1"]["hit"] < 2, e["critical_q1"])
    misses = {m["id"]: m for m in e["misses"]}
    check("a1" in misses and misses["a1"]["queue_ok"] is False and misses["a1"]["queue"] == "Q2-ELEVATED", misses)
    check(misses["a1"]["transcript"].startswith("Somebody shot"), misses["a1"])


@test
def bad_files_and_usage_are_refused():
    cases = [
        ("bad kind", "x1\turgent\tfire\t-\tenglish\tfire\n", "kind \"urgent\""),
        ("bad hazard", "x1\tserious\tsmoke\t-\tenglish\tfire\n", "\"smoke\" is not a hazard"),
        ("bad indicator", "x1\tserious\tfire\tburns,hurt\tenglish\tfire\n", "\"hurt\" is not an indicator"),
        ("bad style", "x1\tserious\tfire\t-\tfrench\tfire\n", "style \"french\""),
        ("too few fields", "# ok\nx1\tserious\tfire\t-\tenglish\n", ":2: expected id"),
        ("empty transcript", "x1\tserious\tfire\t-\tenglish\t\n", "empty id or transcript"),
        ("no rows", "# nothing\n\n", "no rows"),
    ]
    for name, text, message in cases:
        path = write("bad.tsv", text)
        r = run(path)
        check(r.returncode == 1 and message in r.stderr and path in r.stderr, (name, r.returncode, r.stderr))
    r = run(os.path.join(TMP, "missing.tsv"))
    check(r.returncode == 1 and "missing.tsv" in r.stderr, r.stderr)
    r = run()
    check(r.returncode == 2 and "usage" in r.stderr, r.stderr)
    r = run("--frobnicate", "x.tsv")
    check(r.returncode == 2 and "--frobnicate" in r.stderr, r.stderr)
    r = run("--triage-rules", "strict", "x.tsv")
    check(r.returncode == 2 and "paper or critical" in r.stderr, r.stderr)
    r = run("--help")
    check(r.returncode == 0 and "confidence 0.9" in r.stdout and "distress 0.2" in r.stdout, r.stdout)


def main():
    return run_tests("eval-content")


if __name__ == "__main__":
    sys.exit(main())
