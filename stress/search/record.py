"""The record a search keeps: statistics over its executions, and a failure.

``Stats`` is what every search reports (and what chunks of a search fold
into as they come back: ``merge``); ``Failure`` is one failing execution —
its target, its schedule, what the checks found — with the replay token that
re-runs it. Searching (stress.search.explore) and shrinking (stress.shrink)
both make Failures; neither imports the other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

from ..checks import CheckResult, check_execution
from ..coverage import Coverage
from ..schedulers import count_preemptions, run_choices
from ..token import Target, encode, trace_hash
from .schedule import Schedule


@dataclass
class Stats:
    executions: int = 0
    steps_total: int = 0
    steps_min: int | None = None
    steps_max: int = 0
    violating: int = 0
    seconds: float = 0.0
    first_violation_execution: int | None = None   # 1-based count of executions up to it
    first_violation_seconds: float | None = None
    guarantee: float | None = None                 # pct: 1/(n·k^(d-1))
    bound: int | None = None                       # exhaustive: preemption level reached
    fully_explored: bool | None = None             # exhaustive: the whole space was run
    verified: int | None = None                    # exhaustive: every schedule up to this many preemptions ran clean
    level_executions: int = 0                      # exhaustive: executions run at level ``bound``
    interrupted: bool = False                      # Ctrl-C: the figures are what ran so far
    coverage: Coverage = field(default_factory=Coverage)  # what the executions did (stress/coverage.py)

    @property
    def steps_avg(self) -> float:
        return self.steps_total / self.executions if self.executions else 0.0

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds if self.seconds > 0 else 0.0

    @property
    def violating_percent(self) -> float:
        return 100.0 * self.violating / self.executions if self.executions else 0.0

    def add(self, steps: int) -> None:
        self.executions += 1
        self.steps_total += steps
        self.steps_min = steps if self.steps_min is None else min(self.steps_min, steps)
        self.steps_max = max(self.steps_max, steps)

    def mark_first_violation(self, origin: float, execution: int | None = None) -> None:
        """The first failing execution (1-based; default: the last one added), and the
        seconds from ``origin`` (a time.perf_counter() reading) to it."""
        self.first_violation_execution = self.executions if execution is None else execution
        self.first_violation_seconds = time.perf_counter() - origin

    def add_until_first_violation(self, steps: int, failed: bool, origin: float) -> None:
        """Count an execution unless a failing one was counted already: Hypothesis runs
        more after it, to shrink, and those are not the search's."""
        if self.first_violation_execution is not None:
            return
        self.add(steps)
        if failed:
            self.violating += 1
            self.mark_first_violation(origin)

    def merge(self, other: "Stats") -> None:
        self.executions += other.executions
        self.steps_total += other.steps_total
        if other.steps_min is not None:
            self.steps_min = other.steps_min if self.steps_min is None else min(self.steps_min, other.steps_min)
        self.steps_max = max(self.steps_max, other.steps_max)
        self.violating += other.violating
        self.interrupted |= other.interrupted
        self.coverage.merge(other.coverage)

    def to_json(self) -> dict:
        return {
            "executions": self.executions, "steps_min": self.steps_min or 0,
            "steps_avg": round(self.steps_avg, 2), "steps_max": self.steps_max,
            "executions_per_second": round(self.per_second, 1), "violating": self.violating,
            "violating_percent": round(self.violating_percent, 4),
            "first_violation_execution": self.first_violation_execution,
            "first_violation_seconds": self.first_violation_seconds,
            "seconds": round(self.seconds, 4), "pct_guarantee": self.guarantee,
            "exhaustive_bound": self.bound, "fully_explored": self.fully_explored,
            "verified_preemptions": self.verified,
            "interrupted": self.interrupted, "coverage": self.coverage.to_json(),
        }

    def lines(self) -> list[str]:
        out = [
            f"executions      {self.executions} in {self.seconds:.2f} s ({self.per_second:,.0f}/s)",
            f"steps/execution min {self.steps_min or 0}, avg {self.steps_avg:.1f}, max {self.steps_max}",
            f"violating       {self.violating} ({self.violating_percent:.3g}%)",
            f"coverage        {self.coverage.line()}",
        ]
        if self.first_violation_execution is not None:
            out.append(f"first violation execution {self.first_violation_execution}, "
                       f"after {self.first_violation_seconds:.3f} s")
        if self.guarantee is not None:
            out.append(f"pct guarantee   each execution finds a depth-d bug with p >= {self.guarantee:.3g}")
        if self.bound is not None:
            out.append(f"exhaustive      {self.exhaustive_summary()}")
        return out

    def exhaustive_summary(self) -> str:
        """What an exhaustive search established, in words: the preemption
        bound up to which every schedule ran without a failure, and how far
        the next level got."""
        if self.fully_explored and not self.violating:
            return f"verified up to {_preemptions(self.verified)}: every interleaving was explored"
        upto = ("no preemption level was fully explored" if self.verified is None
                else f"verified up to {_preemptions(self.verified)}")
        if self.violating:
            return f"{upto}; a failure was found with {_preemptions(self.bound)}"
        if self.verified == self.bound:
            return f"{upto}, the bound asked for"
        return (f"{upto}; the budget ran out after {self.level_executions} executions "
                f"with {_preemptions(self.bound)}")


def _preemptions(n: int | None) -> str:
    return f"{n} preemption{'' if n == 1 else 's'}"


@dataclass
class Failure:
    """One failing execution: how to re-run it, and what the checks found."""

    target: Target
    schedule: Schedule
    result: CheckResult
    seed: int | None
    preemptions: int
    trace_hash: str
    events: int

    @property
    def kind(self) -> str:
        return self.result.violations[0].kind

    @property
    def choices(self) -> list[int]:
        """The thread choices of the schedule (what replay tokens record)."""
        return self.schedule.thread_ids()

    @property
    def steps(self) -> int:
        return len(self.schedule)

    @property
    def token(self) -> str:
        return encode(self.target, self.choices, trace_hash=self.trace_hash, events=self.events)



def run_failure(target: Target, choices: Sequence[int], *, seed: int | None = None, ex=None,
                strict: bool = True) -> Failure:
    """Re-run a schedule and check it: the Failure record (whatever its result)."""
    ex = ex or target.execution()
    masks: list[int] = []
    made = run_choices(ex, choices, masks=masks, lenient=not strict)
    result = check_execution(ex)
    trace = ex.trace_text()
    return Failure(target, Schedule.of_threads(made), result, seed, count_preemptions(made, masks),
                   trace_hash(trace), trace.count("\n"))


def counts(result: CheckResult, kinds: frozenset[str] | None) -> bool:
    """Does this execution count as a failure: any violation, or — when the
    search looks for particular kinds — one of those?"""
    if result.ok:
        return False
    return kinds is None or bool(result.kinds & kinds)
