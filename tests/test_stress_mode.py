"""``lfstress stress``: real threads, then conservation, accounting and
reachability audits; broken reclamation must be caught, naive refused."""

from __future__ import annotations

import sys

import pytest

from stress.bench import realstress
from stress.cli import main
from stress.errors import UsageError


def test_hazard_on_four_threads_is_clean():
    r = realstress.run("hazard", threads=4, seconds=1.0)
    assert r["outcome"] == "ok", r
    c, a = r["conservation"], r["accounting"]
    assert c["checked"] and c["ok"]
    assert c["enqueued"] == c["dequeued"] + c["remaining"] > 0
    assert a["ok"] and a["live"] + a["retired"] + a["free"] == a["capacity"]
    assert r["reachability"]["ok"]


def test_free_at_retire_mutant_is_caught():
    # mutant 3 frees a dequeued node at once, hazards or not. On real threads
    # the damage shows as lost/duplicated values, a broken queue, or threads
    # spinning forever on it; any of them is a catch. Real scheduling is not
    # deterministic: allow a few attempts.
    for attempt in range(3):
        r = realstress.run("hazard", threads=4, seconds=2.0, options={"mutant": 3}, seed=attempt + 1)
        if r["outcome"] != "ok":
            break
    assert r["outcome"] in ("violation", "livelock", "crash"), r
    assert r["kinds"]


_real_child_command = realstress._child_command


def _killed_mid_run(params):
    """The real child, with a timer that sends it SIGSEGV while its threads run."""
    code = ("import os, runpy, signal, sys, threading; "
            "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGSEGV)).start(); "
            "sys.argv[0] = 'realstress'; "
            "runpy.run_module('stress.bench.realstress', run_name='__main__')")
    return [sys.executable, "-c", code, _real_child_command(params)[-1]]


def test_child_killed_by_a_signal_is_a_crash_and_the_parent_carries_on(monkeypatch, capsys):
    with monkeypatch.context() as m:
        m.setattr(realstress, "_child_command", _killed_mid_run)
        r = realstress.run("hazard", threads=2, seconds=20.0)
        assert r["outcome"] == "crash", r
        assert r["kinds"] == ["crash"] and r["signal"] == "SIGSEGV"
        assert "SIGSEGV" in r["message"]
        assert r["wall_seconds"] < 20.0  # it died mid-run; nobody waited for the deadline
        assert main(["stress", "--variant", "hazard", "--threads", "2", "--seconds", "20"]) == 1
    out = capsys.readouterr().out
    assert "CRASH" in out and "SIGSEGV" in out and "result: crash" in out
    assert "cannot be replayed" in out and "lfstress explore" in out
    # the parent is unharmed: the next run goes through and audits clean
    again = realstress.run("hazard", threads=2, seconds=0.2)
    assert again["outcome"] == "ok", again


def test_cli_reports_each_audit(capsys):
    assert main(["stress", "--variant", "tagged", "--seconds", "0.3", "--threads", "2"]) == 0
    out = capsys.readouterr().out
    for line in ("conservation  OK", "accounting    OK", "reachability  OK", "result: OK"):
        assert line in out


def test_naive_is_refused_with_a_reason(capsys):
    with pytest.raises(UsageError, match="corrupts memory"):
        realstress.run("naive", seconds=0.1)
    assert main(["stress", "--variant", "naive", "--seconds", "0.1"]) == 2
    assert "explore" in capsys.readouterr().err


def test_bad_option_is_a_usage_error():
    with pytest.raises(UsageError, match="mutant"):
        realstress.run("hazard", seconds=0.1, options={"mutant": 9})


# ---- conservation from bounded tallies: one real run of a correct queue,
# then the values left in it altered to lose and duplicate some.

@pytest.fixture(scope="module")
def correct_run():
    from stress import _native
    from stress.bench.driver import OurTarget, run_point
    from stress.checks.reachability import queue_contents

    m = _native.free()
    target = OurTarget("tagged", 2, 4096, realstress.validate("tagged", {}))
    tally = m.ffi.gc(m.lib.lfs_stress_tally_new(2), m.lib.lfs_stress_tally_delete)
    sample = run_point(target, threads=2, workload="pairs", seconds=30.0, prefill=64, max_ops=20_000,
                       tally=tally)
    m.lib.lfs_run_quiesce(target.run)
    remaining = queue_contents(realstress._snapshot(m.ffi, m.lib, target.run, target.info))
    assert len(remaining) == 64
    return tally, sample["_result"], remaining


def _conservation(correct_run, remaining):
    tally, res, _ = correct_run
    return realstress.check_conservation(tally, res, 64, remaining, 2)


def test_conservation_of_a_correct_run_is_ok_and_exact(correct_run):
    c = _conservation(correct_run, correct_run[2])
    assert c["ok"] and c["exact"]
    assert c["enqueued"] == c["dequeued"] + c["remaining"] >= 64 + 20_000
    assert (c["lost"], c["duplicated"], c["unknown"], c["out_of_order"]) == (0, 0, 0, 0)


def test_one_lost_value_is_named(correct_run):
    remaining = correct_run[2]
    c = _conservation(correct_run, remaining[:10] + remaining[11:])
    assert not c["ok"] and c["exact"]
    assert (c["lost"], c["duplicated"]) == (1, 0)
    assert c["first_lost"] == realstress.value_name(remaining[10], 2)


def test_one_duplicated_value_is_named(correct_run):
    remaining = correct_run[2]
    c = _conservation(correct_run, remaining + [remaining[5]])
    assert not c["ok"] and c["exact"]
    assert (c["lost"], c["duplicated"]) == (0, 1)
    assert c["first_duplicated"] == realstress.value_name(remaining[5], 2)


def test_several_lost_values_are_a_lower_bound_that_says_so(correct_run):
    # three fewer values than enqueued: three lost at least (a duplicate
    # could hide a fourth), and the report must not claim more precision
    remaining = correct_run[2]
    c = _conservation(correct_run, remaining[3:])
    assert not c["ok"] and not c["exact"] and (c["lost"], c["duplicated"]) == (3, 0)


def test_a_lost_value_hidden_by_a_duplicate_is_still_caught(correct_run):
    # the counts balance (one out, one twice): the sums and fingerprints do not
    remaining = correct_run[2]
    c = _conservation(correct_run, remaining[:20] + [remaining[0]] + remaining[21:])
    assert not c["ok"] and not c["exact"]
    assert c["lost"] >= 1 and c["duplicated"] >= 1
    assert c["first_lost"] is None


def test_stress_memory_does_not_grow_with_the_run():
    # the child's peak RSS for a run of 1 s and of 4 s: the tallies are fixed-size
    peaks = [realstress.run("tagged", threads=2, seconds=s)["max_rss_kib"] for s in (0.5, 3.0)]
    assert peaks[1] < peaks[0] * 1.2, peaks


def _under_address_space_limit(params):
    """The real child, under a 700 MB address-space limit."""
    code = ("import resource, runpy, sys; "
            "resource.setrlimit(resource.RLIMIT_AS, (700 << 20, 700 << 20)); "
            "sys.argv[0] = 'realstress'; "
            "runpy.run_module('stress.bench.realstress', run_name='__main__')")
    return [sys.executable, "-c", code, _real_child_command(params)[-1]]


def test_a_failed_allocation_is_out_of_memory_not_a_broken_queue(monkeypatch, capsys):
    monkeypatch.setattr(realstress, "_child_command", _under_address_space_limit)
    assert main(["stress", "--variant", "tagged", "--seconds", "0.2", "--capacity", str(1 << 26)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and "out of memory" in err and "conservation" not in err


def test_a_correct_queue_is_ok_under_an_address_space_limit(monkeypatch):
    monkeypatch.setattr(realstress, "_child_command", _under_address_space_limit)
    r = realstress.run("tagged", threads=4, seconds=1.0)
    assert r["outcome"] == "ok", r
