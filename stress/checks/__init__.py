"""Invariant checks run after every execution: one entry point, ``check_execution``.

Layout: ``reachability`` walks the node pool (cycle, severed, dangling, leak),
``values`` counts values in and out (lost, duplicate) and calls
``linearizability`` (Wing & Gong search with Lowe's memoisation), ``garbage``
tracks retired-but-unreclaimed nodes step by step. The engine itself reports
what it sees at each access (aba, use-after-free, double-free, wild pointers,
pool exhaustion, livelock, deadlock). ``check_execution`` runs all of them on
a finished (or stopped) ``Execution`` and puts the *decisive* violation first.

Which violation is decisive. A person reading a failure wants the first
harmful thing that happened, not the last symptom. So:

1. harmful accesses the engine saw (aba, use-after-free, double-free,
   wild-pointer) that touched a node named in the damage found at the end
   (a severed chain, a cycle, a dangling link, a leaked node) -- earliest
   step first, an ``aba`` before anything else at the same step;
2. other harmful accesses, earliest first (e.g. a read of a freed node that
   did no lasting damage);
3. structural damage: cycle, severed, dangling (use-after-free), leak;
4. value damage: duplicate-value, lost-value, not-linearizable;
5. unbounded-garbage;
6. progress and resources: livelock, deadlock, pool-exhausted.

Cost. Everything is linear in the trace and the pool except the
linearizability search, which is exponential only in the overlap of
operations and memoised; histories of a dozen operations take well under a
millisecond when nothing is wrong (see ``reports/linearizability-bench.md``).
Events are decoded a second time only for variants that retire nodes
(hazard pointers, epochs), to track garbage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..violations import Violation
from .garbage import GarbageProfile, check_garbage, garbage_profile, reclamation_bound
from .linearizability import LinearizabilityResult
from .reachability import check_reachability, contents
from .values import SPECS, check_history

if TYPE_CHECKING:
    from ..engine import Execution

__all__ = [
    "CheckResult",
    "GarbageProfile",
    "check_execution",
    "decisive_order",
    "garbage_profile",
    "check_garbage",
    "reclamation_bound",
]

# Harmful accesses found by the engine at a step.
ACCESS_KINDS = ("aba", "use-after-free", "double-free", "wild-pointer")
STRUCTURAL_KINDS = ("cycle", "severed", "use-after-free", "leak")
VALUE_KINDS = ("duplicate-value", "lost-value", "not-linearizable")
POOL_EVENTS = ("alloc", "retire", "free")
PROGRESS_KINDS = ("livelock", "deadlock", "pool-exhausted", "crash", "hang", "nondeterministic")


@dataclass(frozen=True)
class CheckResult:
    """Everything the checks found in one execution.

    ``violations`` is ordered decisive first (see the module docstring).
    ``linearizability`` is None when the structure has no sequential spec;
    its ``ok is None`` means the time budget ran out (``notes`` says so).
    ``garbage`` is None for variants that never retire nodes. ``notes`` are
    things a person should know that are not violations (an unknown
    linearizability verdict); epoch garbage growth is in ``garbage``.
    """

    status: str
    violations: tuple[Violation, ...]
    linearizability: LinearizabilityResult | None = None
    garbage: GarbageProfile | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def decisive(self) -> Violation | None:
        return self.violations[0] if self.violations else None

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(v.kind for v in self.violations)

    def to_json(self) -> dict[str, Any]:
        lin = self.linearizability
        return {
            "status": self.status,
            "violations": [v.to_json() for v in self.violations],
            "linearizable": None if lin is None else lin.ok,
            "garbage": None if self.garbage is None else self.garbage.to_json(),
            "notes": list(self.notes),
        }


def check_execution(
    ex: Execution,
    *,
    linearizability_budget: float | None = 0.5,
    values: bool = True,
) -> CheckResult:
    """Run every check on ``ex`` as it stands (normally: finished).

    ``linearizability_budget`` is in seconds (None: no limit); when it runs
    out the verdict is unknown, reported in ``notes``, never as a violation.
    ``values=False`` skips conservation and linearizability (structure-only
    checking, e.g. for a scheduler's inner loop that re-checks later).
    The execution is only read, never re-run.
    """
    status = ex.status
    quiescent = status == "done"
    snapshot = ex.snapshot()
    found: list[Violation] = list(ex.violations())
    found += check_reachability(snapshot, quiescent=quiescent)
    notes: list[str] = []

    lin: LinearizabilityResult | None = None
    info = ex.structure
    if values and info.spec in SPECS and info.insert_op and info.remove_op:
        final = contents(snapshot)
        history = check_history(ex.history(), info.spec, ex.initial, final, insert=info.insert_op,
                                remove=info.remove_op, time_budget=linearizability_budget)
        found += history.violations
        lin = history.linearizability
        if lin.ok is None:
            notes.append(f"linearizability {lin.message}")

    garbage: GarbageProfile | None = None
    bound = reclamation_bound(ex)
    if bound.scheme is not None:
        garbage = garbage_profile(ex.events(POOL_EVENTS), ex.nthreads, bound=bound, steps=ex.steps)
        found += check_garbage(garbage)

    return CheckResult(status, tuple(decisive_order(found)), lin, garbage, tuple(notes))


def decisive_order(violations: list[Violation]) -> list[Violation]:
    """The violations, decisive first (rules in the module docstring);
    stable otherwise."""
    damaged: set[int] = set()
    for v in violations:
        if v.step is None and v.kind in STRUCTURAL_KINDS:
            damaged.update(v.slots)

    def rank(item: tuple[int, Violation]) -> tuple:
        index, v = item
        step = v.step if v.step is not None else 1 << 62
        if v.kind in ACCESS_KINDS and v.step is not None:
            causal = bool(damaged.intersection(v.slots))
            group = 0 if causal else 1
            return (group, step, ACCESS_KINDS.index(v.kind), index)
        if v.kind in STRUCTURAL_KINDS:
            return (2, STRUCTURAL_KINDS.index(v.kind), step, index)
        if v.kind in VALUE_KINDS:
            return (3, VALUE_KINDS.index(v.kind), step, index)
        if v.kind == "unbounded-garbage":
            return (4, 0, step, index)
        return (5, PROGRESS_KINDS.index(v.kind) if v.kind in PROGRESS_KINDS else 99, step, index)

    return [v for _, v in sorted(enumerate(violations), key=rank)]
