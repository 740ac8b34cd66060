"""The same programs and choice sequence give a byte-identical trace."""

from __future__ import annotations

import random

from stress.engine import Execution

PROGRAMS = [
    [("enqueue", 1), ("dequeue", None), ("enqueue", 2)],
    [("dequeue", None), ("enqueue", 3), ("dequeue", None)],
    [("enqueue", 4), ("dequeue", None)],
]


def random_choices(ex: Execution, seed: int) -> list[int]:
    rng = random.Random(seed)
    choices = []
    mask = ex.start()
    while mask:
        enabled = [t for t in range(ex.nthreads) if mask >> t & 1]
        tid = rng.choice(enabled)
        choices.append(tid)
        mask = ex.step(tid)
    return choices


def test_hundred_replays_are_byte_identical_on_every_variant():
    for variant in ("naive", "tagged", "hazard", "epoch", "leaky", "locked"):
        ex = Execution("msqueue", variant, PROGRAMS, initial=[7, 8], capacity=12,
                       options={"cleanup": 1})
        choices = random_choices(ex, seed=3)
        first = ex.trace_text()
        assert first.count("\n") > len(choices)  # every step left at least one event
        for _ in range(100):
            ex.run(choices)
            assert ex.trace_text() == first
        # A fresh execution object (new pool, new addresses) gives the same text.
        fresh = Execution("msqueue", variant, PROGRAMS, initial=[7, 8], capacity=12,
                          options={"cleanup": 1})
        fresh.run(choices)
        assert fresh.trace_text() == first


def test_different_choices_give_different_traces():
    ex = Execution("msqueue", "naive", PROGRAMS, capacity=12)
    traces = {(ex.run(random_choices(ex, seed)), ex.trace_text())[1] for seed in range(20)}
    assert len(traces) > 10
