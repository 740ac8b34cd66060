"""The search package's promises: a seed fixes the result whichever way a
search is started (the CLI, pytest, stress.suite, once or again in one
process, whatever modules are loaded); the hypothesis scheduler's example
database replays a failure first; the backends fold chunks into the serial
result; a schedule is typed steps whose thread choices are what tokens hold."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stress import Schedule, Target, explore
from stress.scenario import load
from stress.search import ProcessBackend, SerialBackend, ThreadChoice
from stress.story import story_target
from stress.suite import run_variant
from stress.token import decode

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
BUDGET = 1600    # executions only: a time budget would make the figures depend on the machine's load
# (scenario file, variant): a user's structure (compiled from its source),
# a built-in whose programs Hypothesis draws too, and a built-in with fixed programs.
ITEMS = [
    (ROOT / "scenarios" / "examples" / "ring_buffer.toml", "nocas"),
    (ROOT / "scenarios" / "mixed_random.toml", "naive"),
    (ROOT / "scenarios" / "msqueue_aba_dequeue.toml", "naive"),
]


def _import_a_users_module(directory: Path) -> None:
    """What a user's script or conftest brings along: a module with constants
    (Hypothesis would mix those into its draws)."""
    (directory / "users_constants.py").write_text(
        "LIMITS = [" + ", ".join(str(n) for n in range(101, 256, 3)) + "]\n")
    sys.path.insert(0, str(directory))
    try:
        importlib.import_module("users_constants")
    finally:
        sys.path.remove(str(directory))


def _in_process(path: Path, variant: str) -> int:
    outcome = run_variant(load(path), variant, seed=SEED, executions=BUDGET, use_database=False)
    assert outcome.failure is not None, outcome.verdict()
    return outcome.stats.executions


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "LFSTRESS_EXAMPLES": "off"}


def test_a_seed_fixes_executions_to_the_first_failure_however_the_search_starts(tmp_path):
    first = {item: _in_process(*item) for item in ITEMS}
    _import_a_users_module(tmp_path)
    again = {item: _in_process(*item) for item in ITEMS}
    assert again == first

    run = subprocess.run(
        [sys.executable, "-m", "stress", "run", *sorted({str(p) for p, _ in ITEMS}), "--seed", str(SEED),
         "--budget", str(BUDGET), "--json", *[a for _, v in ITEMS for a in ("--variant", v)]],
        capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=600)
    by_item = {(r["scenario"], r["variant"]): r["stats"]["executions"]
               for r in map(json.loads, run.stdout.splitlines())}
    assert {item: by_item[(item[0].name, item[1])] for item in ITEMS} == first

    junit = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--stress-seed={SEED}",
         f"--stress-budget={BUDGET}", f"--junitxml={junit}", *[f"{p}::{v}" for p, v in ITEMS]],
        capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=600)
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[case.get("classname").rsplit(".", 2)[-2], case.get("name")] = int(props["executions"])
    assert {item: found[item[0].stem, item[1]] for item in ITEMS} == first


def test_explore_with_hypothesis_is_the_same_whatever_modules_are_loaded(tmp_path):
    target = story_target("classic-aba", "tagged", threads=3)

    def drawn():
        result = explore(target, "hypothesis", seed=SEED, executions=300, shrink=False)
        return result.stats.executions, result.failure and result.failure.choices

    before = drawn()
    _import_a_users_module(tmp_path)
    assert drawn() == before


# ----------------------------------------------------------------------
def test_a_second_hypothesis_search_replays_the_saved_failure_first(tmp_path, monkeypatch):
    monkeypatch.setenv("LFSTRESS_EXAMPLES", str(tmp_path / "db"))
    target = story_target("classic-aba", "naive", threads=3)
    fresh = explore(target, "hypothesis", seed=SEED, executions=3000, shrink=False)
    without = explore(target, "hypothesis", seed=SEED, executions=3000, shrink=False, example_database=False)
    first = explore(target, "hypothesis", seed=SEED, executions=3000, shrink=False, example_database=True)
    # An empty database changes nothing: the seed decides.
    assert first.stats.executions == fresh.stats.executions == without.stats.executions > 1
    assert any((tmp_path / "db").iterdir())
    second = explore(target, "hypothesis", seed=SEED, executions=3000, shrink=False, example_database=True)
    assert second.failure is not None and second.stats.executions < first.stats.executions
    assert second.stats.executions == 1
    # Keyed by target: another search does not start from this one's failure.
    other = story_target("classic-aba", "naive", threads=4)
    alone = explore(other, "hypothesis", seed=SEED, executions=3000, shrink=False)
    shared = explore(other, "hypothesis", seed=SEED, executions=3000, shrink=False, example_database=True)
    assert shared.stats.executions == alone.stats.executions


def test_the_database_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("LFSTRESS_EXAMPLES", "off")
    monkeypatch.chdir(tmp_path)
    target = story_target("classic-aba", "naive", threads=3)
    runs = [explore(target, "hypothesis", seed=SEED, executions=3000, shrink=False, example_database=True)
            for _ in range(2)]
    assert runs[0].stats.executions == runs[1].stats.executions > 1
    assert not (tmp_path / ".hypothesis").exists()


def test_lfstress_run_and_pytest_keep_the_database_in_the_working_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LFSTRESS_EXAMPLES"}
    scenario = str(ROOT / "scenarios" / "msqueue_aba_dequeue.toml")

    def executions(*front_end) -> int:
        out = subprocess.run([sys.executable, "-m", *front_end], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=600).stdout
        if front_end[0] == "stress":
            return json.loads(out.splitlines()[0])["stats"]["executions"]
        props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "j.xml").iter("property")}
        return int(props["executions"])

    cli = ("stress", "run", scenario, "--variant", "naive", "--scheduler", "hypothesis", "--json")
    first, second = executions(*cli), executions(*cli)
    assert (tmp_path / ".hypothesis" / "lfstress").is_dir()
    assert second < first
    plugin = ("pytest", "-q", "-p", "no:cacheprovider", "--stress-scheduler=hypothesis",
              "--junitxml=j.xml", f"{scenario}::naive")
    assert executions(*plugin) == second


def test_lfstress_explore_with_hypothesis_uses_the_database(tmp_path):
    env = {**os.environ, "LFSTRESS_EXAMPLES": str(tmp_path / "db")}
    command = [sys.executable, "-m", "stress", "explore", "--story", "classic-aba", "--variant", "naive",
               "--threads", "3", "--scheduler", "hypothesis", "--budget", "3000", "--no-shrink", "--json"]
    first, second = (json.loads(subprocess.run(command, capture_output=True, text=True, env=env,
                                               timeout=600).stdout)["stats"]["first_violation_execution"]
                     for _ in range(2))
    assert second == 1 < first


# ----------------------------------------------------------------------
def test_process_backend_folds_chunks_into_the_serial_result():
    target = story_target("classic-aba", "naive", threads=3)
    serial = explore(target, "random", seed=3, executions=2000, backend=SerialBackend(), shrink=False)
    parallel = explore(target, "random", seed=3, executions=2000, jobs=2, backend=ProcessBackend(2, window=3),
                       shrink=False)
    assert serial.failure is not None
    assert (parallel.failure.seed, parallel.failure.choices, parallel.stats.executions,
            parallel.stats.first_violation_execution) == (serial.failure.seed, serial.failure.choices,
                                                          serial.stats.executions,
                                                          serial.stats.first_violation_execution)


def test_a_schedule_is_typed_steps_and_its_token_form_is_unchanged():
    target = Target("msqueue", "naive", ((("dequeue", None),), (("dequeue", None), ("enqueue", 2), ("dequeue", None))),
                    initial=(1,))
    failure = explore(target, "exhaustive", executions=500, shrink=False).failure
    assert isinstance(failure.schedule, Schedule) and all(isinstance(s, ThreadChoice) for s in failure.schedule)
    assert failure.choices == [s.tid for s in failure.schedule] and failure.steps == len(failure.schedule)
    assert list(decode(failure.token).choices) == failure.choices

    class ReadsFrom:          # a step kind today's tokens cannot hold
        pass

    with pytest.raises(ValueError, match="ReadsFrom"):
        Schedule((ThreadChoice(0), ReadsFrom())).thread_ids()
