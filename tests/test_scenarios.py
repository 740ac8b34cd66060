"""Scenario files: the built-in suite's shape, malformed files, the pytest
plugin and the `lfstress run` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stress.scenario import ScenarioError, discover, load

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = ROOT / "scenarios"

GOOD = '''
[scenario]
structure = "msqueue"
initial = [1]
[threads]
programs = [["dequeue"], ["dequeue", "enqueue 2", "dequeue"]]
[variants]
naive = { expect = "bug", kinds = ["aba"] }
tagged = { expect = "clean" }
'''

MALFORMED = [
    ("bad TOML", "[scenario\nstructure = 1", "not valid TOML"),
    ("unknown variant", GOOD.replace("tagged =", "tagged2 ="), "variants.tagged2: unknown variant"),
    ("unknown key", GOOD + "\n[search]\nbudget = 3\n", "search.budget: unknown key"),
    ("wrong type", GOOD.replace("initial = [1]", 'initial = "1"'), "scenario.initial: must be a list"),
    ("negative budget", GOOD + "\n[search]\nexecutions = -5\n", "search.executions: must be between 1"),
    ("unknown operation", GOOD.replace('"enqueue 2"', '"push 2"'), "threads.programs[1]: unknown operation 'push 2'"),
    ("empty program", GOOD.replace('["dequeue"], ', "[], "), "threads.programs[0]: is empty"),
    ("no programs", GOOD.replace('programs = [["dequeue"], ["dequeue", "enqueue 2", "dequeue"]]', "programs = []"),
     "threads.programs: needs 1 to 16 threads"),
    ("unknown structure", GOOD.replace('"msqueue"', '"skiplist"'), "scenario.structure: unknown structure 'skiplist'"),
    ("bad expectation", GOOD.replace('expect = "clean"', 'expect = "maybe"'), 'variants.tagged.expect: must be "bug" or "clean"'),
    ("bug without kinds", GOOD.replace('kinds = ["aba"]', "kinds = []"), "variants.naive.kinds: an expected bug must name"),
    ("unknown kind", GOOD.replace('kinds = ["aba"]', 'kinds = ["oops"]'), "unknown violation kind 'oops'"),
    ("option out of range", GOOD.replace('tagged = { expect = "clean" }', 'tagged = { expect = "clean", options = { tag_bits = 99 } }'),
     "variants.tagged.options.tag_bits: must be between 1 and 32"),
    ("enqueue without value", GOOD.replace('"enqueue 2"', '"enqueue"'), "enqueue needs one integer value"),
]


def test_builtin_suite_has_the_promised_shape():
    files = discover([BUILTIN])
    names = {p.name for p in files}
    assert {"essay_story.toml", "msqueue_aba_dequeue.toml", "tag_wraparound.toml"} <= names
    assert len(files) >= 12
    scenarios = [load(p) for p in files]
    assert sum(len(s.variants) for s in scenarios) >= 40
    for p in files:  # each says what it demonstrates
        assert p.read_text().startswith("#"), p.name


@pytest.mark.parametrize("label, text, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenario_names_file_and_key(tmp_path, label, text, words):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith(f"{path}:") and words in message
    assert "\n" not in message


@pytest.mark.parametrize("label, text, words", MALFORMED[:10], ids=[m[0] for m in MALFORMED[:10]])
def test_lfstress_run_exits_2_on_malformed_files(tmp_path, label, text, words):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "stress", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr


def test_run_json_reports_outcomes_and_a_token_that_replays(tmp_path):
    path = tmp_path / "aba.toml"
    path.write_text(GOOD)
    proc = subprocess.run([sys.executable, "-m", "stress", "run", str(path), "--json", "--budget", "300"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    by_variant = {r["variant"]: r for r in rows}
    assert by_variant["naive"]["outcome"] == "bug" and by_variant["naive"]["ok"]
    assert by_variant["tagged"]["outcome"] == "clean" and by_variant["tagged"]["ok"]
    assert set(rows[0]) >= {"scenario", "variant", "expected", "outcome", "ok", "stats"}
    replay = by_variant["naive"]["violation"]["replay"].split()
    again = subprocess.run([sys.executable, "-m", "stress", *replay[1:]], capture_output=True, text=True)
    assert again.returncode == 1
    assert "ABA" in again.stdout


# The pytest sessions below run in subprocesses: an in-process session would
# re-install faulthandler's signal handlers over the engine's crash guard here.

def test_pytest_plugin_collects_items_and_reports_seed(pytester):
    pytester.makefile(".toml", aba=GOOD)
    result = pytester.runpytest_subprocess("--stress-seed=3", "--stress-budget=300", "-v")
    result.stdout.fnmatch_lines(["*--stress-seed=3*", "*aba.toml::naive PASSED*", "*aba.toml::tagged PASSED*"])
    assert result.ret == 0


def test_pytest_plugin_fails_an_expected_bug_that_is_not_found(pytester):
    pytester.makefile(".toml", aba=GOOD.replace('tagged = { expect = "clean" }',
                                                 'tagged = { expect = "bug", kinds = ["aba"] }'))
    result = pytester.runpytest_subprocess("--stress-budget=50")
    result.stdout.fnmatch_lines(["*the harness did not find the known bug within budget*",
                                 "*rerun this item: pytest*::tagged' --stress-seed=0*"])
    assert result.ret == 1


WRONG = GOOD.replace('naive = { expect = "bug", kinds = ["aba"] }', 'naive = { expect = "clean" }')


def _printed(lines, prefix):
    return next(line.split(prefix, 1)[1].strip() for line in lines if prefix in line)


def test_a_failing_items_printed_lines_reproduce_the_same_violation(pytester):
    pytester.makefile(".toml", wrong=WRONG)
    first = pytester.runpytest_subprocess("--stress-budget=300", "-k", "naive")
    assert first.ret == 1
    lines = first.stdout.lines
    token = _printed(lines, "reproduce: lfstress replay ")
    rerun = _printed(lines, "rerun this item: pytest ")
    item, seed = rerun.split(" --stress-seed=")
    again = pytester.runpytest_subprocess(item.strip("'"), f"--stress-seed={seed}", "--stress-budget=300")
    assert again.ret == 1
    assert _printed(again.stdout.lines, "reproduce: lfstress replay ") == token
    replay = subprocess.run([sys.executable, "-m", "stress", "replay", token], capture_output=True, text=True,
                            cwd=pytester.path)
    assert replay.returncode == 1 and "ABA" in replay.stdout


def test_parallel_and_serial_runs_give_the_same_outcomes(pytester):
    pytester.makefile(".toml", aba=GOOD, wrong=WRONG)
    serial = pytester.runpytest_subprocess("--stress-budget=300", "-rA")
    parallel = pytester.runpytest_subprocess("--stress-budget=300", "-rA", "-n", "2")

    def outcomes(result):
        return sorted(line.split(" - ")[0] for line in result.stdout.lines
                      if line.startswith(("PASSED ", "FAILED ")))

    assert outcomes(serial) == outcomes(parallel)
    assert len(outcomes(serial)) == 4


def test_replay_by_seed_from_a_scenario_file_and_changed_scenario_note(tmp_path):
    path = tmp_path / "aba.toml"
    path.write_text(GOOD)
    explore = subprocess.run([sys.executable, "-m", "stress", "explore", "--scenario", str(path), "--variant",
                              "naive", "--scheduler", "random", "--budget", "5000", "--seed", "1"],
                             capture_output=True, text=True)
    assert explore.returncode == 1, explore.stderr
    token = _printed(explore.stdout.splitlines(), "token: ")
    seed_line = _printed(explore.stdout.splitlines(), "before shrinking: ").rstrip(")")
    by_seed = subprocess.run([sys.executable, "-m", "stress", *seed_line.split()[1:]], capture_output=True, text=True)
    assert by_seed.returncode == 1 and "ABA" in by_seed.stdout
    path.write_text(GOOD + "\n# edited\n")
    changed = subprocess.run([sys.executable, "-m", "stress", "replay", token], capture_output=True, text=True)
    assert changed.returncode == 1
    assert "changed since this token was made" in changed.stdout


def test_quick_run_of_the_builtin_suite_ends_with_the_essay_story():
    proc = subprocess.run([sys.executable, "-m", "stress", "run", "--quick", str(BUILTIN / "essay_story.toml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "First look — the essay's story" in out
    report = out.split("First look", 1)[1]
    assert "severed" in report and "reallocated by T1" in report
