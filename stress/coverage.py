"""Coverage: what a search's executions actually did, and when "clean" means
little.

A search that finds nothing is only as good as what its executions did. A
hazard-pointer queue whose scan threshold is never reached in a two-operation
program never scans: a broken scan is never run, and the search comes out
"clean" having tested nothing the variant exists for. So every search keeps a
short *coverage* record, counted by the engine as executions end (native/
engine/stepper.c, ``lfs_coverage_t``; the native search adds it up in C too):

- nodes allocated, and how many of them were a slot's second or later life
  (*reused*); nodes freed, retired, and retired nodes freed (*reclaimed*);
  reclamation passes (``lfs_reclaim`` / ``lfs_reclaim_oldest`` calls);
- CASes that succeeded and that failed;
- each operation's outcomes: ``value`` / ``empty`` for an operation that
  returns a value (dequeue, pop), ``ok`` / ``empty`` for the others.

``Coverage`` is that record in Python: it folds across executions, chunks and
worker processes by addition (``merge``), so a search's record is the same
whichever way the work was split.

The rules (``GOALS``, one place) say what a variant exists for, judged from
what the structure did, never from its name:

- ``reclaim``: a structure with a reclamation scheme that retires nodes
  exists to reclaim them; if no retired node was ever freed, reclamation
  never ran (or ran and freed nothing) and the search never tested it;
- ``reuse``: a structure that frees nodes hands their slots back; if no slot
  was ever allocated again (and the pool's reuse policy allows it), no
  execution could meet a node's second life: ABA was never possible;
- ``cas-fail``: a structure whose threads CAS retries when a CAS fails; if
  none ever failed (with two or more threads), no thread ever lost a race.

A clean search where one of these never happened is "clean, but ..." with a
warning per goal (``warnings``). A scenario may instead say what an item
exists to cover (``coverage = ["reclaim", "reuse"]``: the goals above,
``retire``, and an operation's outcome such as ``"dequeue:empty"``): then
those goals are what its clean verdict is judged on, and a search that missed
one fails (``missing``) rather than warns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .structures import StructureInfo

if TYPE_CHECKING:
    from .engine import Execution

# The counters of lfs_coverage_t, in Python's names (C name -> field here).
_COUNTERS = {
    "executions": "executions", "allocs": "allocations", "reuses": "reused", "retires": "retired",
    "reclaim_passes": "reclaim_passes", "reclaimed": "reclaimed", "frees": "freed",
    "cas_ok": "cas_ok", "cas_failed": "cas_failed",
}


def outcome_names(returns_value: bool) -> tuple[str, str]:
    """An operation's two outcomes: LFS_OK, then LFS_EMPTY."""
    return ("value", "empty") if returns_value else ("ok", "empty")


@dataclass
class Coverage:
    """What executions did, summed over them (see the module docstring)."""

    executions: int = 0
    allocations: int = 0
    reused: int = 0
    retired: int = 0
    reclaim_passes: int = 0
    reclaimed: int = 0
    freed: int = 0
    cas_ok: int = 0
    cas_failed: int = 0
    operations: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> outcome -> count

    @classmethod
    def from_native(cls, raw: Any, structure: StructureInfo) -> "Coverage":
        """The record of a C ``lfs_coverage_t`` (a struct or a pointer to one)."""
        counts = {name: int(getattr(raw, c)) for c, name in _COUNTERS.items()}
        operations = {}
        for i, op in enumerate(structure.ops):
            ok, empty = outcome_names(op.returns_value)
            operations[op.name] = {ok: int(raw.op_ok[i]), empty: int(raw.op_empty[i])}
        return cls(**counts, operations=operations)

    @property
    def cas(self) -> int:
        return self.cas_ok + self.cas_failed

    def merge(self, other: "Coverage") -> None:
        for f in fields(self):
            if f.name != "operations":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for op, outcomes in other.operations.items():
            mine = self.operations.setdefault(op, {})
            for outcome, n in outcomes.items():
                mine[outcome] = mine.get(outcome, 0) + n

    def count(self, op: str, outcome: str) -> int:
        return self.operations.get(op, {}).get(outcome, 0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "operations"}
        out["operations"] = {op: dict(outcomes) for op, outcomes in self.operations.items()}
        return out

    def line(self) -> str:
        """The record in one line, as the text outputs show it."""
        parts = [
            f"retired {self.retired}, reclaim passes {self.reclaim_passes}, reclaimed {self.reclaimed}",
            f"freed {self.freed}, reused {self.reused} of {self.allocations} allocs",
            f"CAS failed {self.cas_failed} of {self.cas}",
        ]
        for op, outcomes in self.operations.items():
            # An operation that returns a value shows both outcomes (never empty says something).
            shown = [f"{n} {outcome}" for outcome, n in outcomes.items() if n or "value" in outcomes]
            if any(outcomes.values()):
                parts.append(f"{op} " + " / ".join(shown))
        return "; ".join(parts)


class Tally:
    """A coverage record kept in C while a loop runs executions of one
    structure: one call per execution that ended (``add``), read once at
    the end (``coverage``)."""

    def __init__(self) -> None:
        self._raw = None
        self._structure: StructureInfo | None = None

    def add(self, ex: "Execution") -> None:
        if self._raw is None:
            self._raw, self._structure = ex.coverage_tally(), ex.structure
        ex.add_coverage(self._raw)

    def coverage(self) -> Coverage:
        if self._raw is None:
            return Coverage()
        return Coverage.from_native(self._raw, self._structure)


# ----------------------------------------------------------------------
# The rules


@dataclass(frozen=True)
class CoverageWarning:
    """A goal a search never reached, in words."""

    goal: str
    message: str

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, str]:
        return {"coverage": self.goal, "message": self.message}


@dataclass(frozen=True)
class Context:
    """What the search ran on, beyond the counts: some goals cannot happen,
    and a structure without a reclamation scheme retires nodes only to keep
    them (a leaky baseline), not to reclaim them."""

    threads: int
    reuse: str        # the pool's reuse policy: "never" hands no slot back
    reclaims: bool    # the structure has a reclamation scheme (stress.checks.garbage)

    @classmethod
    def of(cls, ex: "Execution") -> "Context":
        from .checks.garbage import reclamation_bound
        return cls(ex.nthreads, ex.reuse, reclamation_bound(ex).scheme is not None)


@dataclass(frozen=True)
class Goal:
    name: str
    reached: Callable[[Coverage], bool]
    # Did the structure do what makes this goal what it exists for? (None: only when asked.)
    expected: Callable[[Coverage, Context], bool] | None
    missed: Callable[[Coverage], str]


def _reclaim_missed(c: Coverage) -> str:
    if c.retired == 0:
        return "reclamation never ran: no node was ever retired"
    if c.reclaim_passes == 0:
        return (f"reclamation never ran: {c.retired} nodes were retired in {c.executions} executions "
                "and no reclamation pass ran (a scan or epoch threshold above what these programs retire?)")
    return (f"reclamation never freed a node: {c.reclaim_passes} passes over {c.retired} retired nodes "
            "freed none")


def _reuse_missed(c: Coverage) -> str:
    if c.freed == 0:
        return "no node was ever reused: none was ever freed"
    return (f"no node was ever reused: {c.freed} nodes were freed and none of their slots was allocated "
            "again (a node's second life, and ABA on it, never happened)")


def _cas_fail_missed(c: Coverage) -> str:
    if c.cas == 0:
        return "no CAS ever failed: no CAS ran"
    return f"no CAS ever failed: all {c.cas} CASes succeeded (no thread ever lost a race and retried)"


GOALS: dict[str, Goal] = {g.name: g for g in (
    Goal("reclaim", lambda c: c.reclaimed > 0, lambda c, ctx: ctx.reclaims and c.retired > 0, _reclaim_missed),
    Goal("reuse", lambda c: c.reused > 0, lambda c, ctx: c.freed > 0 and ctx.reuse != "never", _reuse_missed),
    Goal("cas-fail", lambda c: c.cas_failed > 0, lambda c, ctx: c.cas > 0 and ctx.threads >= 2,
         _cas_fail_missed),
    Goal("retire", lambda c: c.retired > 0, None, lambda c: "no node was ever retired"),
)}


def goal_names(structure: StructureInfo) -> list[str]:
    """Every goal a scenario may require of this structure."""
    names = list(GOALS)
    for op in structure.ops:
        names.extend(f"{op.name}:{outcome}" for outcome in outcome_names(op.returns_value))
    return names


def _operation_goal(name: str) -> Goal:
    op, outcome = name.split(":", 1)
    what = "completed" if outcome == "ok" else f"returned {outcome}"
    return Goal(name, lambda c: c.count(op, outcome) > 0, None, lambda c: f"no {op} ever {what}")


def clean_but(warnings: Sequence[CoverageWarning]) -> str:
    """A clean verdict that says what it did not cover."""
    return "clean, but " + "; and ".join(w.message for w in warnings)


def missing(coverage: Coverage, required: Iterable[str]) -> list[CoverageWarning]:
    """The required goals (names from ``goal_names``) never reached."""
    out = []
    for name in required:
        g = GOALS[name] if name in GOALS else _operation_goal(name)
        if not g.reached(coverage):
            out.append(CoverageWarning(name, g.missed(coverage)))
    return out


def warnings(coverage: Coverage, context: Context, required: Sequence[str] = ()) -> list[CoverageWarning]:
    """What to say about a search that found nothing: the required goals it
    missed when the item names its goals; otherwise the goals its structure's
    own behaviour says it exists for, and never reached."""
    if required:
        return missing(coverage, required)
    return [CoverageWarning(g.name, g.missed(coverage)) for g in GOALS.values()
            if g.expected is not None and g.expected(coverage, context) and not g.reached(coverage)]
