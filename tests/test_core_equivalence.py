"""Every variant, in both builds, behaves as a FIFO queue when used by one thread."""

from __future__ import annotations

import random
from collections import deque

import pytest

from stress import _native
from stress.engine import Execution
from stress.structures import catalogue

VARIANTS = sorted(s.variant for s in catalogue().values() if s.family == "msqueue")
OPERATIONS = 10_000


def random_program(seed: int) -> list[tuple[str, int | None]]:
    rng = random.Random(seed)
    return [("enqueue", rng.randrange(1, 1 << 40)) if rng.random() < 0.5 else ("dequeue", None)
            for _ in range(OPERATIONS)]


def reference(program) -> list[int | None]:
    queue: deque[int] = deque()
    out = []
    for op, arg in program:
        if op == "enqueue":
            queue.append(arg)
        else:
            out.append(queue.popleft() if queue else None)
    return out


def test_every_builtin_variant_is_covered():
    assert set(VARIANTS) >= {"naive", "tagged", "hazard", "epoch", "leaky", "locked"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_stepped_build_matches_deque(variant):
    program = random_program(seed=len(variant))
    ex = Execution("msqueue", variant, [program], capacity=OPERATIONS + 8, step_cap=50 * OPERATIONS)
    mask = ex.start()
    while mask:
        mask = ex.step(0)
    assert ex.status == "done"
    assert ex.violations() == []
    got = [op.result for op in ex.history() if op.op == "dequeue"]
    assert got == reference(program)


@pytest.mark.parametrize("variant", VARIANTS)
def test_free_running_build_matches_deque(variant):
    mod = _native.free()
    ffi, lib = mod.ffi, mod.lib
    info = catalogue()[f"msqueue/{variant}"]
    values = ffi.new("int64_t[]", info.option_values({}) or [0])
    run = ffi.gc(lib.lfs_run_new(lib.lfs_structure_get(info.index), 1, OPERATIONS + 8, values),
                 lib.lfs_run_delete)
    assert lib.lfs_run_init(run) >= 0  # LFS_OK or 0; LFS_NOMEM is -1
    program = random_program(seed=len(variant) + 1)
    enqueue, dequeue = info.op_index("enqueue"), info.op_index("dequeue")
    result = ffi.new("int64_t *")
    got = []
    for op, arg in program:
        if op == "enqueue":
            assert lib.lfs_run_call(run, 0, enqueue, arg, result) == 1
        else:
            status = lib.lfs_run_call(run, 0, dequeue, 0, result)
            got.append(result[0] if status == 1 else None)
    assert got == reference(program)
