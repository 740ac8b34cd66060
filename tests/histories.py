"""Linearizable FIFO histories built to order, for testing the linearizability checker.

Histories come from a real sequential queue: each operation takes effect at a
known step (its linearisation point), and its invocation and response are
stretched around that step, so the history is linearizable by construction.
``corrupt_one_dequeue`` then changes one result, which usually makes it not
linearizable. tests/test_linearizability.py and the checker's benchmark
(tests/benchmarks/linearizability.py) draw from here.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import NamedTuple

from stress.history import History, Operation

# Global steps between consecutive linearisation points.
STEP_SPACING = 10


class PlannedOperation(NamedTuple):
    """One operation of a sequential queue run: which thread, which operation,
    and how many steps its interval reaches before (``lead``) and after
    (``lag``) its linearisation point; ``lag`` None means it never returns."""

    tid: int
    op: str  # "enqueue" or "dequeue"
    lead: int
    lag: int | None


def queue_history_from_plan(plan: Sequence[PlannedOperation], initial: Sequence[int] = ()) -> History:
    """Run ``plan`` on a sequential queue in order and return the history.

    The k-th operation kept takes effect at step ``STEP_SPACING * (k + 1)``
    and an enqueue inserts k. Intervals are clipped so that each thread's
    operations stay sequential. An operation that never returns took effect
    all the same (its thread stopped after its linearisation point); the
    thread's later operations are left out, since a stuck thread invokes
    nothing more.
    """
    kept: list[PlannedOperation] = []
    stuck_threads: set[int] = set()
    for planned in plan:
        if planned.tid not in stuck_threads:
            kept.append(planned)
        if planned.lag is None:
            stuck_threads.add(planned.tid)
    effect_steps = [STEP_SPACING * (k + 1) for k in range(len(kept))]

    next_effect_in_thread: list[int | None] = [None] * len(kept)
    upcoming: dict[int, int] = {}
    for k in reversed(range(len(kept))):
        next_effect_in_thread[k] = upcoming.get(kept[k].tid)
        upcoming[kept[k].tid] = effect_steps[k]

    queue = list(initial)
    last_response_in_thread: dict[int, int] = {}
    operations = []
    for k, (planned, effect) in enumerate(zip(kept, effect_steps)):
        invoke = max(effect - planned.lead, last_response_in_thread.get(planned.tid, -1) + 1, 0)
        response = None
        if planned.lag is not None:
            response = effect + planned.lag
            if next_effect_in_thread[k] is not None:
                response = min(response, next_effect_in_thread[k] - 1)
            last_response_in_thread[planned.tid] = response
        if planned.op == "enqueue":
            queue.append(k)
            operations.append(Operation(planned.tid, "enqueue", k, None, False, invoke, response))
        else:
            value = queue.pop(0) if queue else None
            seen_empty = value is None and response is not None
            seen_value = None if response is None else value
            operations.append(Operation(planned.tid, "dequeue", None, seen_value, seen_empty, invoke, response))
    return History(operations)


def random_plan(rng: random.Random, operations: int, threads: int) -> list[PlannedOperation]:
    return [
        PlannedOperation(
            tid=rng.randrange(threads),
            op=rng.choice(("enqueue", "dequeue")),
            lead=rng.randrange(3 * STEP_SPACING),
            lag=rng.randrange(3 * STEP_SPACING),
        )
        for _ in range(operations)
    ]


def corrupt_one_dequeue(rng: random.Random, history: History) -> History:
    """Replace one completed dequeue's result by another value (or by empty)."""
    dequeues = [i for i, op in enumerate(history) if op.op == "dequeue" and not op.pending]
    if not dequeues:
        return history
    i = rng.choice(dequeues)
    op = history[i]
    wrong = rng.choice([v for v in (None, *range(len(history))) if v != op.result])
    corrupted = dataclasses.replace(op, result=wrong, empty=wrong is None)
    return History(history[:i] + (corrupted,) + history[i + 1 :])
