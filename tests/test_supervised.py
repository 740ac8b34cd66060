"""Supervised workers (stress/search/supervised.py): code under test that
ends, damages or hangs the process running it is a crash or hang failure
with a replay token, the search goes on, and no process is left behind.

Each hostile structure (native/testonly/hostile.c) is explored and its token
replayed through the CLI with --isolate, in a child carrying a marker in its
environment: afterwards no process may carry it.
"""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from stress.schedulers import SchedulerSpec
from stress.search import explore
from stress.search.backends import Chunk, run_chunk
from stress.search.supervised import (EXECUTIONS, FAILING, SEED, VIOLATING, WORDS, Supervisor, Watch, ended,
                                      replay_choices)
from stress.story import story_target
from stress.target import Target
from tests.test_robustness import CLEAN_AFTER
from tests.testonly import TESTONLY

HANG = "1"   # --hang-seconds in these tests

HOSTILE = {  # variant: the kind of failure, and words its message holds
    "exit0": ("crash", "exited with status 0"),
    "exit3": ("crash", "exited with status 3"),
    "sigterm": ("crash", "died of SIGTERM"),
    "alarm": ("crash", "alarm"),
    "segvdfl": ("crash", "died of SIGSEGV"),
    "closestdio": ("crash", "closed stdout"),
    "smash": ("crash", ""),
    "libcfree": ("crash", ""),
    "fork": ("crash", "fork()"),
    "loop": ("hang", "no new execution for 1 s"),
    "loopinit": ("hang", "no new execution for 1 s"),
    "thread": ("crash", ""),
}

SCENARIO = f"""\
[scenario]
structure = "testonly"
source = "{TESTONLY}"
description = "code under test that ends or hangs the process running it"
capacity = 8
step_cap = 200

[threads]
programs = [["run"], ["run"]]

[variants]
""" + "".join(f'{name} = {{ expect = "bug", kinds = ["{kind}"] }}\n' for name, (kind, _) in HOSTILE.items())


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment holds the marker (the test's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def lfstress(args: list[str], marker: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "LFSTRESS_TEST_MARKER": marker}
    return subprocess.run([sys.executable, "-m", "stress", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def no_process_left(marker: str) -> None:
    deadline = time.monotonic() + 5
    while marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marked_processes(marker) == []


@pytest.mark.parametrize("variant", sorted(HOSTILE))
def test_hostile_structure_is_a_failure_with_a_token_and_replays_the_same(variant, tmp_path):
    kind, words = HOSTILE[variant]
    (tmp_path / "hostile.toml").write_text(SCENARIO)
    marker = uuid.uuid4().hex
    found = lfstress(["explore", "--scenario", "hostile.toml", "--variant", variant, "--budget", "20",
                      "--isolate", "--hang-seconds", HANG, "--json"], marker, tmp_path)
    assert found.returncode == 1 and found.stdout, found.stderr
    failure = json.loads(found.stdout)["failure"]
    assert failure["kind"] == kind and words in failure["message"]
    assert failure["replay"] == f"lfstress replay --isolate {failure['token']}"
    no_process_left(marker)

    again = lfstress(["replay", "--isolate", "--hang-seconds", HANG, failure["token"]], marker, tmp_path)
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith(f"{kind}: the execution ended its worker: "), again.stdout
    assert words in again.stdout
    no_process_left(marker)


def test_text_report_of_a_crash_names_where_it_ended(tmp_path):
    (tmp_path / "hostile.toml").write_text(SCENARIO)
    marker = uuid.uuid4().hex
    done = lfstress(["explore", "--scenario", "hostile.toml", "--variant", "exit0", "--budget", "20",
                     "--isolate"], marker, tmp_path)
    assert done.returncode == 1
    assert "FAILED: crash — seed 0: its worker exited with status 0" in done.stdout
    assert "crash: the execution ended its worker at step 1, run by thread T" in done.stdout
    assert "replay: lfstress replay --isolate lfs1." in done.stdout
    token = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("token: "))
    explained = lfstress(["explain", "--isolate", token], marker, tmp_path)
    assert explained.returncode == 1
    assert explained.stdout == "crash: the execution ended its worker: its worker exited with status 0\n"
    no_process_left(marker)


def hostile(variant: str) -> Target:
    return Target("testonly", variant, ((("run", None),), (("run", None),)), capacity=8, step_cap=200,
                  source=TESTONLY)


def test_the_search_goes_on_with_its_budget_after_each_crash():
    with Supervisor(hang_seconds=1.0) as supervisor:
        result = explore(hostile("exit3"), "random", seed=0, executions=20, backend=supervisor,
                         stop_at_first=False)
    assert result.stats.executions == 20 and result.stats.violating == 20
    assert result.failure.seed == 0 and result.failure.kind == "crash"
    assert ended(result.failure)


def test_supervised_search_finds_what_a_serial_one_finds():
    target = story_target("classic-aba", "naive")
    serial = explore(target, "pct", seed=3, executions=400, stop_at_first=False, shrink=False)
    supervised = explore(target, "pct", seed=3, executions=400, stop_at_first=False, shrink=False,
                         backend="supervised")
    assert (supervised.stats.executions, supervised.stats.violating, supervised.stats.steps_total) == \
        (serial.stats.executions, serial.stats.violating, serial.stats.steps_total)
    assert supervised.failure.seed == serial.failure.seed
    assert supervised.failure.token == serial.failure.token


def test_the_shared_record_holds_the_chunk_so_far_before_each_execution():
    """What the supervisor keeps of a chunk whose worker dies: the figures of
    every execution before the one in flight, and its first failing seed."""
    record = memoryview(mmap.mmap(-1, WORDS * 8))
    words = record.cast("q")
    target = story_target("classic-aba", "naive")
    spec = SchedulerSpec("pct", k=24)
    published = []

    class Recording(Watch):
        def before(self, seed):
            super().before(seed)
            published.append(tuple(words[:FAILING + 1]))

    run_chunk(Chunk(target, spec, 0, 40, False, False, None, None, 0.0), Recording(record, os.getpid()))
    before_last = run_chunk(Chunk(target, spec, 0, 39, False, False, None, None, 0.0))
    last = published[-1]
    assert last[SEED] == 39 and last[EXECUTIONS] == 39
    assert (last[VIOLATING], last[FAILING]) == (before_last.stats.violating, before_last.failing_seed)
    assert before_last.stats.violating > 0 and published[0][FAILING] == -1


def test_replay_in_a_worker_reports_the_crash_and_a_clean_schedule_as_clean():
    with Supervisor(hang_seconds=1.0) as supervisor:
        crashed = replay_choices(supervisor, hostile("sigterm"), [0])
        clean = replay_choices(supervisor, story_target("classic-aba", "naive"), [])
    assert crashed.kind == "crash" and "SIGTERM" in crashed.result.violations[0].message
    assert clean.result.ok


def test_a_worker_stalled_past_the_limit_is_a_hang_not_a_wait():
    started = time.monotonic()
    with Supervisor(hang_seconds=0.5) as supervisor:
        result = explore(hostile("loop"), "random", seed=0, executions=5, backend=supervisor)
    assert result.failure.kind == "hang"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_the_supervisor_stopped_leaves_no_worker(how, tmp_path):
    (tmp_path / "hostile.toml").write_text(SCENARIO)
    marker = uuid.uuid4().hex
    env = {**os.environ, "LFSTRESS_TEST_MARKER": marker}
    proc = subprocess.Popen([sys.executable, "-m", "stress", "explore", "--scenario", "hostile.toml",
                             "--variant", "loop", "--budget", "20", "--isolate", "--hang-seconds", "60"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while len(marked_processes(marker)) < 2 and time.monotonic() < deadline:   # the CLI and a worker
        time.sleep(0.05)
    assert len(marked_processes(marker)) >= 2
    proc.send_signal(how)
    proc.communicate(timeout=20)
    no_process_left(marker)


def test_run_isolated_reports_each_hostile_item_and_goes_on_to_the_rest(tmp_path):
    """The default portfolio (hypothesis, then pct): hypothesis runs whole in
    a worker; when it ends that worker a supervised pct search finds the
    execution, with its token."""
    (tmp_path / "hostile.toml").write_text(SCENARIO)
    (tmp_path / "later.toml").write_text(CLEAN_AFTER)
    marker = uuid.uuid4().hex
    done = lfstress(["run", "hostile.toml", "later.toml", "--isolate", "--hang-seconds", HANG, "--budget", "20",
                     "--variant", "exit3", "--variant", "fork", "--variant", "loop", "--variant", "tagged"],
                    marker, tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 items: 4 as expected, 0 not" in done.stdout
    for variant, kind in (("exit3", "crash"), ("fork", "crash"), ("loop", "hang")):
        assert f"found the known bug ({kind}) as expected" in done.stdout
    assert done.stdout.count("replay: lfstress replay --isolate lfs1.") == 3
    no_process_left(marker)
