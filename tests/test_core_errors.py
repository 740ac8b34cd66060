"""Bad requests give UsageError with a message naming what is wrong; a stale
extension is refused with a message that says to reinstall."""

from __future__ import annotations

import types

import pytest

from stress import _native
from stress.errors import BuildError, UsageError
from stress.engine import Execution

ONE = [[("enqueue", 1)]]


@pytest.mark.parametrize("kwargs, words", [
    (dict(family="nosuch", variant="naive"), "unknown structure 'nosuch'"),
    (dict(family="msqueue", variant="bogus"), "unknown variant 'bogus'"),
    (dict(options={"tag_bits": 1}), "has no option 'tag_bits'"),
    (dict(variant="tagged", options={"tag_bits": 0}), "between 1 and 32"),
    (dict(variant="tagged", options={"tag_bits": "8"}), "must be an integer"),
    (dict(capacity=0), "pool capacity"),
    (dict(reuse="random"), "reuse must be one of"),
    (dict(step_cap=0), "step cap"),
    (dict(programs=[[("push", 1)]]), "no operation 'push'"),
    (dict(programs=[[("enqueue", None)]]), "needs a 64-bit integer"),
    (dict(programs=[[("dequeue", 3)]]), "takes no argument"),
    (dict(programs=[]), "1 to 16 threads"),
])
def test_bad_execution_requests(kwargs, words):
    args = dict(family="msqueue", variant="naive", programs=ONE)
    args.update(kwargs)
    family, variant, programs = args.pop("family"), args.pop("variant"), args.pop("programs")
    with pytest.raises(UsageError, match=words.replace("(", r"\(")):
        Execution(family, variant, programs, **args)


def test_pool_exhaustion_in_setup_is_a_violation_not_a_crash():
    ex = Execution("msqueue", "naive", ONE, initial=range(10), capacity=4)
    assert ex.start() == 0
    assert ex.status == "aborted"
    assert [v.kind for v in ex.violations()] == ["pool-exhausted"]


def test_pool_exhaustion_while_stepping_ends_the_execution():
    ex = Execution("msqueue", "leaky", [[("enqueue", v) for v in range(10)]], capacity=4)
    mask = ex.start()
    while mask:
        mask = ex.step(0)
    assert ex.status == "aborted"
    assert ex.violations()[-1].kind == "pool-exhausted"


def test_step_cap_is_a_livelock():
    ex = Execution("msqueue", "naive", [[("enqueue", 1), ("dequeue", None)]], step_cap=3)
    mask = ex.start()
    while mask:
        mask = ex.step(0)
    assert ex.status == "livelock"
    assert [v.kind for v in ex.violations()] == ["livelock"]


def test_a_lock_held_by_a_paused_thread_blocks_the_other_without_deadlock():
    ex = Execution("msqueue", "locked", [[("enqueue", 1)], [("enqueue", 2)]])
    mask = ex.start()
    mask = ex.step(0)  # T0 takes the tail lock
    while mask & 2 and ex.thread_pending(1) != "wait":  # until T1 waits
        mask = ex.step(1)
    assert mask == 1, "T1 must not be enabled while T0 holds the lock"
    while mask:
        mask = ex.step(mask.bit_length() - 1)
    assert ex.status == "done" and ex.violations() == []


def _fake_module(version: str, source_hash: str):
    strings = {"v": version.encode(), "h": source_hash.encode()}
    lib = types.SimpleNamespace(lfs_build_version=lambda: "v", lfs_build_source_hash=lambda: "h")
    ffi = types.SimpleNamespace(string=lambda key: strings[key])
    return types.SimpleNamespace(ffi=ffi, lib=lib)


def test_extension_built_for_another_version_is_refused():
    with pytest.raises(BuildError, match="built for lfstress 0.0.0.*pip install"):
        _native._check(_fake_module("0.0.0", "x"), "stress._lfs_stepped")


def test_extension_built_from_other_sources_is_refused():
    from stress._version import __version__
    with pytest.raises(BuildError, match="built from other sources.*pip install"):
        _native._check(_fake_module(__version__, "0123456789abcdef"), "stress._lfs_stepped")


def test_the_installed_extensions_match_their_sources():
    assert _native.stepped().lib.lfs_structure_count() >= 6
    assert _native.free().lib.lfs_structure_count() == _native.stepped().lib.lfs_structure_count()
