"""Shrinking: the smallest failure that still shows the same violation kind.

A failure found by a random scheduler usually carries noise: operations that
play no part, switches that change nothing, a failed CAS that retried. Before
a failure is reported it is minimised, keeping the kind of its decisive
violation (an ``aba`` stays an ``aba``), in three passes:

1. **Drop operations** from the threads' programs, one at a time, last first
   (a thread left with nothing is removed), then initial values. The old
   schedule is adapted — the steps of the dropped operation are cut out, the
   other threads renumbered — and replayed leniently (a choice naming a
   thread that cannot run is skipped; the default rule finishes). When that
   no longer fails, a small exhaustive search with no more preemptions than
   the current failure looks for another schedule of the smaller programs.
2. **Fewer preemptions**: exhaustive search of the final programs with the
   bound deepening from 0 up to one less than the current failure's — the
   first failure found has the fewest preemptions there are.
3. **Fewer steps**: cut whole blocks of one thread's consecutive steps out of
   the schedule, or their last or first step, as long as the failure stays
   and (preemptions, steps) goes down.

Each pass is budgeted: attempts (executions) and seconds in total. The result
says what it achieved: operations, steps and preemptions before → after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

from .checks import check_execution
from .schedulers import ExhaustivePolicy, count_preemptions, run_choices, run_policy
from .search.record import Failure
from .search.schedule import Schedule
from .token import Target, trace_hash


@dataclass
class _Candidate:
    target: Target
    choices: list[int]
    masks: list[int]
    ops: list[int]            # per choice: the chosen thread's op index before the step
    preemptions: int
    failure: Failure

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.target.operations(), self.preemptions, len(self.choices))


@dataclass
class ShrinkResult:
    kind: str
    failure: Failure                      # the shrunk failure
    before: dict[str, int]
    after: dict[str, int]
    attempts: int
    seconds: float
    exhausted_budget: bool
    passes: list[str] = field(default_factory=list)

    def line(self) -> str:
        b, a = self.before, self.after
        return (f"shrunk ({self.kind}) in {self.attempts} attempts, {self.seconds:.2f} s: "
                f"operations {b['operations']} → {a['operations']}, steps {b['steps']} → {a['steps']}, "
                f"preemptions {b['preemptions']} → {a['preemptions']}"
                + (" (budget ran out)" if self.exhausted_budget else ""))

    def to_json(self) -> dict:
        return {"kind": self.kind, "before": self.before, "after": self.after, "attempts": self.attempts,
                "seconds": round(self.seconds, 3), "exhausted_budget": self.exhausted_budget}


class _Budget:
    def __init__(self, attempts: int, seconds: float) -> None:
        self.left = attempts
        self.used = 0
        self.deadline = time.perf_counter() + seconds

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() > self.deadline:
            return False
        self.left -= 1
        self.used += 1
        return True

    @property
    def out(self) -> bool:
        return self.left <= 0 or time.perf_counter() > self.deadline


class _Shrinker:
    def __init__(self, kind: str, budget: _Budget) -> None:
        self.kind = kind
        self.budget = budget
        self._executions: dict[Target, object] = {}

    def _ex(self, target: Target):
        ex = self._executions.get(target)
        if ex is None:
            ex = self._executions[target] = target.execution()
        return ex

    def _candidate(self, target: Target, ex, made: list[int], masks: list[int]) -> _Candidate | None:
        result = check_execution(ex)
        if self.kind not in result.kinds:
            return None
        ops = _op_of_each_choice(ex, made)
        trace = ex.trace_text()
        failure = Failure(target, Schedule.of_threads(made), result, None, count_preemptions(made, masks),
                          trace_hash(trace), trace.count("\n"))
        return _Candidate(target, made, masks, ops, failure.preemptions, failure)

    def replay(self, target: Target, choices: Sequence[int]) -> _Candidate | None:
        if not self.budget.take():
            return None
        ex = self._ex(target)
        masks: list[int] = []
        made = run_choices(ex, choices, masks=masks, lenient=True)
        return self._candidate(target, ex, made, masks)

    def search(self, target: Target, *, max_preemptions: int, attempts: int) -> _Candidate | None:
        """Exhaustive, fewest preemptions first, up to max_preemptions."""
        ex = self._ex(target)
        policy = ExhaustivePolicy(max_preemptions=max_preemptions)
        for index in range(attempts):
            if not policy.has_next() or not self.budget.take():
                return None
            masks: list[int] = []
            made = run_policy(ex, policy, index, masks=masks)
            found = self._candidate(target, ex, made, masks)
            if found is not None:
                return found
        return None


def _op_of_each_choice(ex, choices: Sequence[int]) -> list[int]:
    """For each choice, the op index its thread is in before the step (re-runs ex)."""
    step, thread_op = ex.stepper(), ex.thread_op
    ops = []
    mask = ex.start()
    for tid in choices:
        if mask <= 0:
            break
        ops.append(thread_op(tid))
        mask = step(tid)
    return ops


def _drop_op(best: _Candidate, tid: int, index: int) -> tuple[Target, list[int]]:
    programs = [list(p) for p in best.target.programs]
    del programs[tid][index]
    keep = [(c, o) for c, o in zip(best.choices, best.ops) if not (c == tid and o == index)]
    choices = [c for c, _ in keep]
    if not programs[tid] and len(programs) > 1:
        del programs[tid]
        choices = [c - 1 if c > tid else c for c in choices if c != tid]
    return best.target.with_programs(programs), choices


def _blocks(choices: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of each run of one thread's consecutive steps."""
    out = []
    start = 0
    for i in range(1, len(choices) + 1):
        if i == len(choices) or choices[i] != choices[start]:
            out.append((start, i))
            start = i
    return out


def shrink(failure, *, max_attempts: int = 2000, seconds: float = 5.0,
           kind: str | None = None) -> ShrinkResult:
    """Minimise a stress.search.Failure, keeping a violation of ``kind``
    (default: its decisive violation's kind)."""
    started = time.perf_counter()
    kind = kind or failure.kind
    budget = _Budget(max_attempts, seconds)
    shrinker = _Shrinker(kind, budget)
    best = shrinker.replay(failure.target, failure.choices)
    if best is None:  # the failure does not reproduce: nothing to shrink
        measure = {"operations": failure.target.operations(), "steps": failure.steps,
                   "preemptions": failure.preemptions}
        return ShrinkResult(kind, failure, measure, measure, budget.used,
                            time.perf_counter() - started, budget.out)
    before = {"operations": best.target.operations(), "steps": len(best.choices),
              "preemptions": best.preemptions}
    passes = []

    # 1. Drop operations (then initial values).
    improved = True
    while improved and not budget.out:
        improved = False
        for tid in range(len(best.target.programs) - 1, -1, -1):
            for index in range(len(best.target.programs[tid]) - 1, -1, -1):
                if len(best.target.programs) == 1 and len(best.target.programs[0]) == 1:
                    continue
                target, choices = _drop_op(best, tid, index)
                found = shrinker.replay(target, choices)
                if found is None or found.preemptions > best.preemptions:
                    found = shrinker.search(target, max_preemptions=best.preemptions, attempts=200)
                if found is not None and found.key < best.key:
                    best, improved = found, True
                    passes.append(f"dropped T{tid}'s operation {index}")
                    break
            if improved:
                break
        if improved:
            continue
        for i in range(len(best.target.initial) - 1, -1, -1):
            initial = best.target.initial[:i] + best.target.initial[i + 1:]
            target = best.target.with_programs(best.target.programs, initial)
            found = shrinker.replay(target, best.choices)
            if found is not None and found.preemptions <= best.preemptions:
                best, improved = found, True
                passes.append(f"dropped initial value {i}")
                break

    # 2. Fewest preemptions for these programs.
    if best.preemptions > 0 and not budget.out:
        found = shrinker.search(best.target, max_preemptions=best.preemptions - 1,
                                attempts=budget.left)
        if found is not None:
            best = found
            passes.append(f"exhaustive: {found.preemptions} preemption(s)")

    # 3. Fewer steps: cut blocks, or a step at either end of a block.
    improved = True
    while improved and not budget.out:
        improved = False
        blocks = _blocks(best.choices)
        for start, end in blocks:
            for cut in ((start, end), (end - 1, end), (start, start + 1)):
                choices = best.choices[:cut[0]] + best.choices[cut[1]:]
                found = shrinker.replay(best.target, choices)
                if found is not None and (found.preemptions, len(found.choices)) < \
                        (best.preemptions, len(best.choices)):
                    best, improved = found, True
                    break
            if improved or budget.out:
                break

    after = {"operations": best.target.operations(), "steps": len(best.choices),
             "preemptions": best.preemptions}
    return ShrinkResult(kind, best.failure, before, after, budget.used,
                        time.perf_counter() - started, budget.out, passes)
