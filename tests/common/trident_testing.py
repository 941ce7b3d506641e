"""trident_testing.py — what the Python end-to-end tests share (standard library only).

The fixture model, adapter and recordings under the shared directory, the keys and
queues every analysis result has, a test registry (@test), check() and run_tests().
"""
import os
import time
import traceback

QUEUES = {"Q1-IMMEDIATE", "Q2-ELEVATED", "Q3-MONITOR", "Q5-ROUTINE", "Q5-REVIEW"}
BIO_KEYS = {"f0_mean", "f0_cv", "pitch_elevation", "instability", "energy", "jitter", "distress_score",
            "voiced_frames", "frames"}
TRIAGE_KEYS = {"queue", "priority_level", "flag_audio_review", "reasoning", "dispatcher_action",
               "escalation_required", "early_exit"}

# the test functions registered with @test, in definition order (one list per test process)
tests = []


def test(fn):
    tests.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def fixture_paths(shared):
    """(model dir, LoRA dir, audio dir, sorted .wav names in it) of the shared fixtures:
    tiny-random-v2 with its r8 adapter."""
    model = os.path.join(shared, "whisper-ref/models/tiny-random-v2")
    lora = os.path.join(shared, "whisper-ref/lora/tiny-random-v2-lora-r8")
    audio_dir = os.path.join(shared, "audio")
    recordings = sorted(f for f in os.listdir(audio_dir) if f.endswith(".wav"))
    return model, lora, audio_dir, recordings


def run_tests(what, on_failure=None, finish=None):
    """Runs the registered tests in order: PASS with the time taken, or FAIL with the
    traceback and then on_failure(fn) (e.g. print a server's log). finish(failed) runs
    last (stop servers, remove temporary files). Prints 'N/M <what> tests passed' and
    returns the process's exit code (1 when any test failed)."""
    failed = 0
    for fn in tests:
        t0 = time.time()
        try:
            fn()
            print("PASS %-75s %6.2fs" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__, flush=True)
            traceback.print_exc()
            if on_failure:
                on_failure(fn)
    if finish:
        finish(failed)
    print("%d/%d %s tests passed" % (len(tests) - failed, len(tests), what), flush=True)
    return 1 if failed else 0
