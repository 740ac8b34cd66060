"""Coverage: the engine's counters, folding them across executions, chunks and
processes, the rules that turn "clean" into "clean, but ...", the scenario's
`coverage` key, and how `run`, `explore` and the pytest plugin show them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stress.coverage import Context, Coverage, Tally, goal_names, missing, warnings
from stress.engine import Execution
from stress.search import explore
from stress.scenario import ScenarioError, load
from stress.schedulers import run_choices
from stress.structures import lookup
from stress.suite import run_variant
from stress.target import Target

# A two-operation scenario on the hazard-pointer queue whose scan frees every
# retired node whatever the hazards say (mutant 2).
HAZARD_SCAN_FREES_ALL = '''
# hazard pointers: a scan that frees everything
[scenario]
structure = "msqueue"
initial = [1, 2]
capacity = 16
[threads]
programs = [["dequeue"], ["dequeue"]]
[search]
schedulers = ["pct"]
executions = 300
[variants]
lazy-scan = {{ variant = "hazard", options = {{ mutant = 2, hp_threshold = 4 }}, expect = "clean"{extra} }}
eager-scan = {{ variant = "hazard", options = {{ mutant = 2, hp_threshold = 1 }}, expect = "bug", kinds = ["use-after-free", "aba"] }}
'''


def _hazard_scenario(tmp_path, extra: str = ""):
    path = tmp_path / "hazard_scan.toml"
    path.write_text(HAZARD_SCAN_FREES_ALL.format(extra=extra))
    return path


def _counts(ex: Execution) -> Coverage:
    tally = Tally()
    tally.add(ex)
    return tally.coverage()


# ----------------------------------------------------------------------
# The engine's counters


def test_engine_counts_one_execution_exactly():
    # T0 dequeues 1 and retires the dummy; the scan (threshold 1, ignoring
    # hazards) frees it; T1 dequeues 2, retires and frees the old head, then
    # enqueues 3 into the slot freed last: one reuse.
    ex = Execution("msqueue", "hazard", [[("dequeue", None)], [("dequeue", None), ("enqueue", 3)]],
                   initial=[1, 2], options={"hp_threshold": 1, "mutant": 2})
    run_choices(ex, [0] * 200 + [1] * 200, lenient=True)
    assert ex.status == "done" and not ex.violations()
    c = _counts(ex)
    assert (c.executions, c.retired, c.reclaim_passes, c.reclaimed, c.freed) == (1, 2, 2, 2, 2)
    assert (c.allocations, c.reused) == (1, 1)
    assert c.cas_failed == 0 and c.cas_ok == 4   # two head CASes, next and tail for the enqueue
    assert c.operations == {"enqueue": {"ok": 1, "empty": 0}, "dequeue": {"value": 2, "empty": 0}}


def test_setup_is_not_counted_and_a_new_start_resets_the_counts():
    ex = Execution("msqueue", "naive", [[("dequeue", None)], [("dequeue", None)], [("dequeue", None)]],
                   initial=[1, 2])
    run_choices(ex, [0] * 100 + [1] * 100 + [2] * 100, lenient=True)
    first = _counts(ex)
    assert first.allocations == 0               # the initial contents were allocated in setup
    assert first.operations["dequeue"] == {"value": 2, "empty": 1}
    assert first.freed == 2 and first.retired == 0
    run_choices(ex, [0] * 100 + [1] * 100 + [2] * 100, lenient=True)
    assert _counts(ex) == first                 # per execution, not since creation


def test_failed_cases_are_counted():
    # Exhaustively, some schedule lets T1 take the head T0 read: T0's CAS fails.
    target = Target("msqueue", "tagged", ((("dequeue", None),), (("dequeue", None),)), initial=(1, 2))
    result = explore(target, "exhaustive", stop_at_first=False)
    assert result.stats.fully_explored
    assert result.stats.coverage.cas_failed > 0
    assert result.stats.coverage.executions == result.stats.executions


# ----------------------------------------------------------------------
# Folding


def test_merge_adds_every_counter_and_operation():
    a = Coverage(executions=2, allocations=3, reused=1, retired=4, reclaim_passes=1, reclaimed=2, freed=5,
                 cas_ok=6, cas_failed=1, operations={"dequeue": {"value": 1, "empty": 1}})
    b = Coverage(executions=1, allocations=1, retired=1, freed=1, cas_ok=2,
                 operations={"dequeue": {"value": 2, "empty": 0}, "enqueue": {"ok": 3, "empty": 0}})
    a.merge(b)
    assert a == Coverage(executions=3, allocations=4, reused=1, retired=5, reclaim_passes=1, reclaimed=2,
                         freed=6, cas_ok=8, cas_failed=1,
                         operations={"dequeue": {"value": 3, "empty": 1}, "enqueue": {"ok": 3, "empty": 0}})
    empty = Coverage()
    empty.merge(a)
    assert empty == a and empty.operations is not a.operations


CLASSIC_ABA = Target("msqueue", "tagged", ((("dequeue", None),), (("dequeue", None), ("enqueue", 2), ("dequeue", None))),
                     initial=(1,))


@pytest.mark.parametrize("scheduler", ["random", "pct"])
def test_native_and_python_paths_fold_to_the_same_coverage(scheduler):
    python = explore(CLASSIC_ABA, scheduler, seed=5, executions=300, stop_at_first=False)
    native = explore(CLASSIC_ABA, scheduler, seed=5, executions=300, stop_at_first=False, native=True)
    assert python.stats.coverage == native.stats.coverage
    assert python.stats.coverage.executions == 300
    assert python.stats.coverage.reused > 0 and python.stats.coverage.operations["dequeue"]["empty"] > 0


def test_chunks_and_processes_fold_to_the_serial_coverage():
    serial = explore(CLASSIC_ABA, "random", seed=2, executions=500, stop_at_first=False)
    parallel = explore(CLASSIC_ABA, "random", seed=2, executions=500, stop_at_first=False, jobs=2)
    assert parallel.stats.coverage == serial.stats.coverage
    assert serial.stats.coverage.executions == 500


def test_a_search_stopped_at_its_failure_counts_what_it_ran():
    naive = Target("msqueue", "naive", CLASSIC_ABA.programs, initial=(1,))
    result = explore(naive, "random", seed=0, executions=5000, shrink=False)
    assert result.failure is not None
    assert result.stats.coverage.executions == result.stats.executions < 5000
    assert result.warnings() == []              # a failure found: nothing vacuous to say


def test_hypothesis_counts_its_search_and_not_its_shrinking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                 # its example database lands here
    naive = Target("msqueue", "naive", CLASSIC_ABA.programs, initial=(1,))
    found = explore(naive, "hypothesis", seed=0, executions=2000, shrink=False)
    assert found.failure is not None
    assert found.stats.coverage.executions == found.stats.executions
    clean = explore(CLASSIC_ABA, "hypothesis", seed=0, executions=200)
    assert clean.stats.coverage.executions == clean.stats.executions > 0


def test_generated_programs_under_hypothesis_are_counted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "generated.toml"
    path.write_text('''
[scenario]
structure = "msqueue"
[threads.generate]
threads = 2
operations = 2
[search]
schedulers = ["hypothesis"]
executions = 100
[variants]
tagged = { expect = "clean" }
''')
    outcome = run_variant(load(path), "tagged", use_database=False)
    coverage = outcome.stats.coverage
    assert coverage.executions == outcome.stats.executions > 0
    assert coverage.count("enqueue", "ok") + coverage.count("dequeue", "value") + \
        coverage.count("dequeue", "empty") > 0


# ----------------------------------------------------------------------
# The rules


def _record(**counts) -> Coverage:
    return Coverage(executions=10, **counts)


def test_retiring_without_reclaiming_warns_reclamation_never_ran():
    (w,) = warnings(_record(retired=8, cas_ok=8, cas_failed=1), Context(threads=2, reuse="lifo", reclaims=True))
    assert w.goal == "reclaim" and w.message.startswith("reclamation never ran: 8 nodes were retired")
    (w,) = warnings(_record(retired=8, reclaim_passes=3, cas_ok=8, cas_failed=1), Context(2, "lifo", True))
    assert w.message.startswith("reclamation never freed a node: 3 passes")
    assert warnings(_record(retired=8, reclaim_passes=3, reclaimed=2, freed=2, reused=1, cas_ok=8, cas_failed=1),
                    Context(2, "lifo", True)) == []


def test_freeing_without_reuse_warns_unless_the_pool_never_reuses():
    record = _record(freed=4, allocations=4, cas_ok=4, cas_failed=1)
    assert [w.goal for w in warnings(record, Context(2, "lifo", True))] == ["reuse"]
    assert warnings(record, Context(2, "never", True)) == []


def test_no_failed_cas_warns_only_with_two_threads_or_more():
    record = _record(cas_ok=12)
    assert [w.goal for w in warnings(record, Context(2, "lifo", True))] == ["cas-fail"]
    assert warnings(record, Context(1, "lifo", True)) == []


def test_a_structure_that_never_retires_frees_or_cases_gets_no_warning():
    # What a variant exists for is judged from what it did.
    assert warnings(_record(allocations=5, cas_ok=5, cas_failed=2), Context(3, "lifo", True)) == []


def test_retiring_without_a_reclamation_scheme_is_keeping_not_a_warning():
    # The leaky baseline retires every dequeued node and never reclaims, by design.
    leaky = Execution("msqueue", "leaky", [[("dequeue", None)], [("dequeue", None)]], initial=[1, 2])
    hazard = Execution("msqueue", "hazard", [[("dequeue", None)], [("dequeue", None)]], initial=[1, 2])
    assert not Context.of(leaky).reclaims and Context.of(hazard).reclaims
    record = _record(retired=8, cas_ok=8, cas_failed=1)
    assert warnings(record, Context.of(leaky)) == []
    assert [w.goal for w in warnings(record, Context.of(hazard))] == ["reclaim"]


def test_named_goals_are_what_an_item_is_judged_on():
    record = _record(retired=3, freed=2, cas_ok=3, operations={"dequeue": {"value": 3, "empty": 0}})
    asked = missing(record, ["dequeue:empty", "dequeue:value", "reclaim"])
    assert [w.goal for w in asked] == ["dequeue:empty", "reclaim"]
    assert asked[0].message == "no dequeue ever returned empty"
    context = Context(2, "lifo", True)
    assert [w.goal for w in warnings(record, context)] == ["reclaim", "reuse", "cas-fail"]
    # An item that names its goals is judged on them, not on the guesses.
    assert [w.goal for w in warnings(record, context, ["dequeue:empty"])] == ["dequeue:empty"]
    assert warnings(record, context, ["dequeue:value"]) == []


def test_goal_names_follow_the_structures_operations():
    names = goal_names(lookup("treiber", "naive"))
    assert {"reclaim", "reuse", "cas-fail", "retire", "push:ok", "pop:value", "pop:empty"} <= set(names)
    assert "dequeue:empty" not in names


# ----------------------------------------------------------------------
# The acceptance case: a scan that frees everything, behind a threshold


def test_a_threshold_no_program_reaches_is_clean_but_reclamation_never_ran(tmp_path):
    scenario = load(_hazard_scenario(tmp_path))
    lazy = run_variant(scenario, "lazy-scan")
    assert lazy.ok and lazy.outcome == "clean"
    assert [w.goal for w in lazy.warnings()] == ["reclaim"]
    assert lazy.verdict().startswith("clean, but reclamation never ran: 600 nodes were retired in 300 executions")
    eager = run_variant(scenario, "eager-scan")
    assert eager.ok and eager.found_kinds & {"use-after-free", "aba"}
    assert eager.warnings() == []


def test_required_coverage_fails_a_vacuous_clean_item(tmp_path):
    scenario = load(_hazard_scenario(tmp_path, ', coverage = ["reclaim"]'))
    lazy = run_variant(scenario, "lazy-scan")
    assert lazy.outcome == "clean" and not lazy.ok
    assert "coverage = [reclaim]" in lazy.verdict() and "reclamation never ran" in lazy.verdict()


def test_scenario_wide_coverage_applies_to_clean_items_only(tmp_path):
    path = _hazard_scenario(tmp_path)
    path.write_text(path.read_text().replace('capacity = 16', 'capacity = 16\ncoverage = ["reclaim"]'))
    scenario = load(path)
    assert scenario.plan("lazy-scan").coverage == ("reclaim",)
    assert scenario.plan("eager-scan").coverage == ()


def test_run_json_carries_coverage_and_warnings(tmp_path):
    path = _hazard_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "stress", "run", str(path), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lazy, eager = (json.loads(line) for line in proc.stdout.splitlines())
    assert lazy["ok"] and lazy["outcome"] == "clean"
    assert lazy["message"].startswith("clean, but reclamation never ran")
    assert [w["coverage"] for w in lazy["warnings"]] == ["reclaim"]
    assert lazy["warnings"][0]["message"].startswith("reclamation never ran")
    assert lazy["coverage"]["retired"] == 600 and lazy["coverage"]["reclaim_passes"] == 0
    assert lazy["coverage"]["executions"] == lazy["stats"]["executions"] == 300
    assert eager["outcome"] == "bug" and eager["warnings"] == []


def test_run_text_says_clean_but_with_the_coverage_line(tmp_path):
    path = _hazard_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "stress", "run", str(path), "--variant", "lazy-scan"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "clean, but reclamation never ran" in proc.stdout
    assert "coverage: retired 600, reclaim passes 0, reclaimed 0" in proc.stdout


def test_explore_json_and_text_carry_the_warnings(tmp_path):
    path = _hazard_scenario(tmp_path)
    args = [sys.executable, "-m", "stress", "explore", "--scenario", str(path), "--variant", "lazy-scan",
            "--scheduler", "random", "--native", "--budget", "200"]
    out = json.loads(subprocess.run([*args, "--json"], capture_output=True, text=True).stdout)
    assert out["failure"] is None
    assert [w["coverage"] for w in out["warnings"]] == ["reclaim"]
    assert out["stats"]["coverage"]["retired"] == 400
    text = subprocess.run(args, capture_output=True, text=True).stdout
    assert "coverage        retired 400" in text
    assert "clean, but reclamation never ran" in text


# ----------------------------------------------------------------------
# The scenario key


@pytest.mark.parametrize("extra, words", [
    (', coverage = ["reclamation"]', "variants.lazy-scan.coverage: unknown coverage goal 'reclamation' "
                                     "for msqueue/hazard (allowed: reclaim, reuse, cas-fail, retire,"),
    (', coverage = ["pop:empty"]', "unknown coverage goal 'pop:empty'"),
    (', coverage = "reclaim"', "variants.lazy-scan.coverage: must be a list of coverage goals"),
    (', coverage = []', "variants.lazy-scan.coverage: must name at least one goal"),
])
def test_bad_coverage_goals_name_the_file_and_key(tmp_path, extra, words):
    path = _hazard_scenario(tmp_path, extra)
    with pytest.raises(ScenarioError, match="hazard_scan.toml") as err:
        load(path)
    assert words in str(err.value)
    proc = subprocess.run([sys.executable, "-m", "stress", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr


def test_coverage_on_an_expected_bug_is_refused(tmp_path):
    path = _hazard_scenario(tmp_path)
    path.write_text(path.read_text().replace('kinds = ["use-after-free", "aba"]',
                                             'kinds = ["use-after-free", "aba"], coverage = ["reclaim"]'))
    with pytest.raises(ScenarioError, match="variants.eager-scan.coverage: only a clean expectation"):
        load(path)


def test_a_bad_scenario_wide_goal_is_refused_even_when_every_item_expects_a_bug(tmp_path):
    path = _hazard_scenario(tmp_path)
    text = path.read_text().replace('capacity = 16', 'capacity = 16\ncoverage = ["nope"]')
    path.write_text(text.replace('expect = "clean"', 'expect = "bug", kinds = ["aba"]'))
    with pytest.raises(ScenarioError, match="scenario.coverage: unknown coverage goal 'nope'"):
        load(path)


# ----------------------------------------------------------------------
# The pytest plugin


def test_pytest_item_warns_clean_but_and_fails_a_required_goal(pytester, tmp_path):
    text = HAZARD_SCAN_FREES_ALL.format(extra="")
    text += 'required = { variant = "hazard", options = { mutant = 2, hp_threshold = 4 }, ' \
            'expect = "clean", coverage = ["reclaim"] }\n'
    pytester.makefile(".toml", hazard_scan=text)
    # In a subprocess: an in-process pytest session would re-install faulthandler's
    # signal handlers over the engine's crash guard in this process.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rA")
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    result.stdout.fnmatch_lines([
        "*hazard_scan.toml::required: expected clean with coverage = ?reclaim?; clean, but reclamation never ran*",
        "*coverage: retired 600, reclaim passes 0*",
        "*warnings summary*",
        "*CleanButWarning: hazard_scan.toml::lazy-scan: clean, but reclamation never ran*",
    ])
