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
