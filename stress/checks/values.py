"""Value conservation for queue- and stack-like histories, and the combined
history check (conservation + linearizability).

Conservation is cheaper and blunter than linearizability: it ignores order and
only counts, per value, how many copies went in (initial contents, the
structure's insert operation) and how many came out (its remove operation)
or remain (final contents).
Values may legitimately repeat, so every comparison is of multiplicities.
Pending operations are given the benefit of the doubt: a pending insertion may
or may not have happened, and a pending removal may have taken any value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stress.errors import UsageError
from stress.checks.linearizability import LinearizabilityResult, QueueSpec, StackSpec, check_linearizable
from stress.history import History, Operation
from stress.violations import Violation

SPECS = {"queue": QueueSpec, "stack": StackSpec}


@dataclass
class _Tally:
    """Where the copies of one value came from and went."""

    initially: int = 0
    went_in: list[Operation] = field(default_factory=list)
    maybe_went_in: int = 0  # insertions that never returned
    came_out: list[Operation] = field(default_factory=list)
    in_final: int = 0

    @property
    def surely_in(self) -> int:
        return self.initially + len(self.went_in)

    @property
    def at_most_in(self) -> int:
        return self.surely_in + self.maybe_went_in

    @property
    def accounted_for(self) -> int:
        return len(self.came_out) + self.in_final


def check_conservation(
    history: Iterable[Operation],
    initial: Sequence[int] = (),
    final: Sequence[int] | None = None,
    *,
    insert: str = QueueSpec.insert_default,
    remove: str = QueueSpec.remove_default,
) -> list[Violation]:
    """Duplicate-value and lost-value violations, one per offending value.

    ``final`` is the structure's contents after the execution, or None when
    unknown (then values cannot be declared lost). ``insert`` and ``remove``
    name the operations that put a value in and take one out.
    """
    history = History(history)
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for value in initial:
        tallies[value].initially += 1
    for value in final or ():
        tallies[value].in_final += 1
    for op in sorted(history, key=lambda op: (op.invoke, op.tid)):
        if op.op == insert and op.pending:
            tallies[op.arg].maybe_went_in += 1
        elif op.op == insert:
            tallies[op.arg].went_in.append(op)
        elif op.op == remove and not op.pending and not op.empty and op.result is not None:
            tallies[op.result].came_out.append(op)

    by_value = sorted(tallies.items())
    violations = [
        _duplicate(value, tally) for value, tally in by_value if tally.accounted_for > tally.at_most_in
    ]
    if final is not None:
        missing = [(value, tally) for value, tally in by_value if tally.surely_in > tally.accounted_for]
        unanswered_removals = sum(1 for op in history.pending if op.op == remove)
        if sum(tally.surely_in - tally.accounted_for for _, tally in missing) > unanswered_removals:
            violations += [_lost(value, tally, final, unanswered_removals) for value, tally in missing]
    return violations


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _went_in(tally: _Tally) -> str:
    if not tally.surely_in:
        return "never went in"
    sources = [op.describe() for op in tally.went_in]
    if tally.initially:
        sources.insert(0, "initially present" + ("" if tally.initially == 1 else f" x{tally.initially}"))
    return f"went in {_times(tally.surely_in)} ({'; '.join(sources)})"


def _provenance(value: int, tally: _Tally) -> dict[str, object]:
    return {
        "value": value,
        "initially_present": tally.initially,
        "went_in": [op.describe() for op in tally.went_in],
        "came_out": [op.describe() for op in tally.came_out],
        "in_final_contents": tally.in_final,
    }


def _duplicate(value: int, tally: _Tally) -> Violation:
    supply = _went_in(tally)
    if tally.maybe_went_in:
        supply += f", or {_times(tally.at_most_in)} counting insertions that never returned"
    outcome = []
    if tally.came_out:
        removals = "; ".join(op.describe() for op in tally.came_out)
        outcome.append(f"came out {_times(len(tally.came_out))} ({removals})")
    if tally.in_final:
        outcome.append(f"is still in the structure {_times(tally.in_final)}")
    # The removal that took one copy too many, if removals alone overdraw.
    by_response = sorted(tally.came_out, key=lambda op: op.response)
    overdraw = by_response[tally.at_most_in] if len(by_response) > tally.at_most_in else None
    return Violation(
        kind="duplicate-value",
        message=f"value {value} {' and '.join(outcome)}, but {supply}",
        step=overdraw.response if overdraw else None,
        thread=overdraw.tid if overdraw else None,
        provenance=_provenance(value, tally),
    )


def _lost(value: int, tally: _Tally, final: Sequence[int], unanswered_removals: int) -> Violation:
    missing = tally.surely_in - tally.accounted_for
    came_out = f"came out only {_times(len(tally.came_out))}" if tally.came_out else "never came out"
    remains = f"holds it only {_times(tally.in_final)}" if tally.in_final else "does not hold it"
    message = (
        f"value {value} {_went_in(tally)} but {came_out}, and the final contents {list(final)} "
        f"{remains}: {missing} {'copy' if missing == 1 else 'copies'} lost"
    )
    if unanswered_removals:
        message += (
            f" ({unanswered_removals} removal(s) that never returned may have taken some of the "
            "missing values, but not all of them)"
        )
    single_inserter = tally.went_in[0].tid if len(tally.went_in) == 1 and not tally.initially else None
    return Violation(
        kind="lost-value",
        message=message,
        thread=single_inserter,
        provenance={**_provenance(value, tally), "missing": missing},
    )


@dataclass(frozen=True)
class HistoryCheckResult:
    """Violations found in one history, and the full linearizability result
    (whose ``ok is None`` and ``message`` say when the check ran out of time)."""

    violations: list[Violation]
    linearizability: LinearizabilityResult


def check_history(
    history: Iterable[Operation],
    spec_name: str,
    initial: Sequence[int] = (),
    final: Sequence[int] | None = None,
    *,
    insert: str | None = None,
    remove: str | None = None,
    time_budget: float | None = 1.0,
) -> HistoryCheckResult:
    """Conservation and linearizability of a ``"queue"`` or ``"stack"`` history.

    ``initial`` lists the initial contents in insertion order (queue: front
    first; stack: bottom first); ``final`` likewise, or None when unknown.
    ``insert`` and ``remove`` name the structure's operations (None: the
    spec's own names, enqueue/dequeue or push/pop).
    """
    if spec_name not in SPECS:
        raise UsageError(f"unknown structure {spec_name!r}; expected one of {sorted(SPECS)}")
    history = History(history)
    spec = SPECS[spec_name](insert=insert, remove=remove)
    violations = check_conservation(history, initial, final, insert=spec.insert, remove=spec.remove)
    result = check_linearizable(history, spec, initial=tuple(initial), time_budget=time_budget)
    if result.ok is False:
        violations.append(
            Violation(
                kind="not-linearizable",
                message=result.message,
                step=result.unplaceable.response,
                thread=result.unplaceable.tid,
                provenance={
                    "longest_prefix": [op.describe() for op in result.longest_prefix],
                    "blocked": [op.describe() for op in result.blocked],
                },
            )
        )
    return HistoryCheckResult(violations, result)
