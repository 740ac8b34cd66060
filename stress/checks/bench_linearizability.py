"""Benchmark of the linearizability checker on small random queue histories.

Run ``python -m stress.checks.bench_linearizability`` or call ``benchmark()``.
Histories come from a real sequential queue: each operation takes effect at a
known step (its linearisation point), and its invocation and response are
stretched randomly around that step, so the history is linearizable by
construction. Half the samples then get one dequeue result corrupted, which
usually makes them non-linearizable and exercises the failing search.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from collections.abc import Sequence
from typing import NamedTuple

from stress.checks.linearizability import QueueSpec, check_linearizable
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


def benchmark(samples: int = 2000, operations: int = 12, threads: int = 3, seed: int = 0) -> dict[str, float]:
    """Time ``check_linearizable`` on ``samples`` random histories; times in ms."""
    rng = random.Random(seed)
    timings: dict[bool, list[float]] = {True: [], False: []}
    spec = QueueSpec()
    for n in range(samples):
        history = queue_history_from_plan(random_plan(rng, operations, threads))
        if n % 2:
            history = corrupt_one_dequeue(rng, history)
        started = time.perf_counter()
        result = check_linearizable(history, spec, time_budget=None)
        timings[bool(result.ok)].append((time.perf_counter() - started) * 1000)
    everything = timings[True] + timings[False]
    return {
        "samples": samples,
        "operations": operations,
        "threads": threads,
        "linearizable": len(timings[True]),
        "median_ms": statistics.median(everything),
        "p99_ms": statistics.quantiles(everything, n=100)[98],
        "max_ms": max(everything),
        "median_ms_linearizable": statistics.median(timings[True]),
        "median_ms_not_linearizable": statistics.median(timings[False]) if timings[False] else float("nan"),
    }


if __name__ == "__main__":
    for name, figure in benchmark().items():
        print(f"{name:28} {figure:.3f}" if isinstance(figure, float) else f"{name:28} {figure}")
