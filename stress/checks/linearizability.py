"""Linearizability checking of operation histories against sequential specs.

Design. A history is linearizable (Herlihy & Wing 1990) when its operations
can be put in one sequential order that respects real time (an operation that
responded before another was invoked comes first) and that the sequential
specification accepts with the results the threads observed. We search for
that order as Wing & Gong (1993) do: depth-first, each step placing one of the
*minimal* unplaced operations -- those no unplaced operation must precede --
and backtracking when none fits. This is the "just-in-time linearisation" of
Lowe ("Testing for linearizability", 2017) in Porcupine's form: the minimal
operations are exactly those invoked before the earliest response still
waiting, so an operation is placed only when the search reaches its window,
never speculatively earlier. What makes the search practical is Lowe's
memoisation, as in Porcupine: a configuration is the bitset of placed
operations plus the specification state, and a configuration already explored
is never explored again (it failed the first time, or we would have stopped).

Pending operations (no response) may have taken effect or not: they can be
placed anywhere after their invocation, and the search succeeds as soon as
every completed operation is placed, silently dropping the pending ones left.

When the search fails, the deepest configuration it reached is the most
instructive: its order is the longest linearisable prefix found, and no
minimal operation fits after it. The message names them all.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from stress.errors import UsageError
from stress.history import History, Operation

# How many search iterations pass between two looks at the clock.
_CLOCK_INTERVAL = 512


@runtime_checkable
class SequentialSpec(Protocol):
    """A sequential model of a data structure; states must be hashable.

    ``step`` returns the state after ``op``, or None when ``op``'s observed
    result is impossible in ``state``. For a pending operation
    (``op.response is None``) the result is unknown: ``step`` must ignore
    ``op.result`` and ``op.empty`` and apply the operation's effect.

    A spec may also define ``name: str``, ``describe_state(state) -> str`` and
    ``explain_refusal(state, op) -> str`` to make failure messages clearer.
    """

    def init(self) -> Hashable: ...

    def step(self, state: Hashable, op: Operation) -> Hashable | None: ...


class _InsertRemoveSpec:
    """A container specification over one insert and one remove operation,
    named by the structure (``StructureInfo.insert_op`` / ``remove_op``);
    the defaults are the spec's own vocabulary."""

    name = ""
    insert_default = remove_default = ""

    def __init__(self, *, insert: str | None = None, remove: str | None = None) -> None:
        self.insert = insert or self.insert_default
        self.remove = remove or self.remove_default

    def __repr__(self) -> str:
        return f"{type(self).__name__}(insert={self.insert!r}, remove={self.remove!r})"

    def init(self) -> tuple[int, ...]:
        return ()

    def _unknown(self, op: Operation) -> UsageError:
        return UsageError(f"a {self.name} has no operation {op.op!r} ({op.describe()}); "
                          f"expected {self.insert} or {self.remove}")


class QueueSpec(_InsertRemoveSpec):
    """FIFO queue with ``enqueue(x)`` and ``dequeue() -> x | empty`` (or the
    structure's own names for them: ``QueueSpec(insert="put", remove="take")``).

    State: tuple of values, front first (initial contents in enqueue order).
    """

    name = "queue"
    insert_default, remove_default = "enqueue", "dequeue"

    def step(self, state: tuple[int, ...], op: Operation) -> tuple[int, ...] | None:
        if op.op == self.insert:
            return state + (op.arg,)
        if op.op == self.remove:
            return _take(state, op, index=0)
        raise self._unknown(op)

    def describe_state(self, state: tuple[int, ...]) -> str:
        return f"the queue holds {list(state)} (front first)" if state else "the queue is empty"

    def explain_refusal(self, state: tuple[int, ...], op: Operation) -> str:
        return _explain_take_refusal(state, op, noun="queue", end="front", value=state[0] if state else None)


class StackSpec(_InsertRemoveSpec):
    """LIFO stack with ``push(x)`` and ``pop() -> x | empty`` (or the
    structure's own names for them).

    State: tuple of values, bottom first, top last (initial contents in push order).
    """

    name = "stack"
    insert_default, remove_default = "push", "pop"

    def step(self, state: tuple[int, ...], op: Operation) -> tuple[int, ...] | None:
        if op.op == self.insert:
            return state + (op.arg,)
        if op.op == self.remove:
            return _take(state, op, index=-1)
        raise self._unknown(op)

    def describe_state(self, state: tuple[int, ...]) -> str:
        return f"the stack holds {list(state)} (top last)" if state else "the stack is empty"

    def explain_refusal(self, state: tuple[int, ...], op: Operation) -> str:
        return _explain_take_refusal(state, op, noun="stack", end="top", value=state[-1] if state else None)


def _take(state: tuple[int, ...], op: Operation, *, index: int) -> tuple[int, ...] | None:
    """Remove the element at ``index`` (0 = front, -1 = top) if ``op`` saw it."""
    if op.pending:
        return _without(state, index)
    if op.empty:
        return state if not state else None
    if state and state[index] == op.result:
        return _without(state, index)
    return None


def _without(state: tuple[int, ...], index: int) -> tuple[int, ...]:
    if not state:
        return state
    return state[1:] if index == 0 else state[:-1]


def _explain_take_refusal(
    state: tuple[int, ...], op: Operation, *, noun: str, end: str, value: int | None
) -> str:
    if op.empty:
        return f"it found the {noun} empty, but the {noun} held {list(state)}"
    if not state:
        return f"it returned {op.result}, but the {noun} was empty"
    if op.result not in state:
        return f"it returned {op.result}, which was not in the {noun} at all (the {end} was {value})"
    return f"it returned {op.result}, but the {end} of the {noun} was {value}"


@dataclass(frozen=True)
class LinearizabilityResult:
    """Outcome of one check.

    ``ok`` is True (``witness`` is a valid order of the completed operations
    and of the pending ones that took effect), False (``message`` explains,
    ``longest_prefix`` is the longest valid order found, ``blocked`` the
    operations none of which can come next, and ``unplaceable`` the one among
    them that returned first, so had to take effect first), or None when the
    time budget ran out before the search decided. ``configurations`` counts
    the distinct search states explored.
    """

    ok: bool | None
    message: str
    witness: tuple[Operation, ...] | None = None
    longest_prefix: tuple[Operation, ...] = ()
    blocked: tuple[Operation, ...] = ()
    unplaceable: Operation | None = None
    configurations: int = 0


def check_linearizable(
    history: Iterable[Operation],
    spec: SequentialSpec,
    *,
    initial: Hashable | None = None,
    time_budget: float | None = 1.0,
) -> LinearizabilityResult:
    """Decide whether ``history`` is linearizable with respect to ``spec``.

    ``initial`` is the spec state before the first operation (for QueueSpec
    and StackSpec, a tuple of the initial contents in insertion order); None
    means ``spec.init()``. ``time_budget`` is in seconds; None means no limit.
    """
    operations = sorted(History(history), key=lambda op: (op.invoke, op.tid))
    start_state = spec.init() if initial is None else initial
    deadline = None if time_budget is None else time.monotonic() + time_budget
    return _Search(operations, spec, start_state, deadline).run()


class _Search:
    def __init__(
        self, operations: list[Operation], spec: SequentialSpec, initial: Hashable, deadline: float | None
    ) -> None:
        self.operations = operations
        self.spec = spec
        self.initial = initial
        self.deadline = deadline
        self.must_place = sum(1 << i for i, op in enumerate(operations) if not op.pending)
        self.predecessors = [
            sum(1 << j for j, earlier in enumerate(operations) if earlier.precedes(op)) for op in operations
        ]

    def minimal_unplaced(self, placed: int) -> Iterator[int]:
        for i, required in enumerate(self.predecessors):
            if not placed >> i & 1 and required & placed == required:
                yield i

    def run(self) -> LinearizabilityResult:
        order: list[int] = []
        frames = [(0, self.initial, self.minimal_unplaced(0))]
        explored = {(0, self.initial)}
        deepest: tuple[list[int], Hashable] = ([], self.initial)
        iterations = 0
        while frames:
            placed, state, candidates = frames[-1]
            if placed & self.must_place == self.must_place:
                return LinearizabilityResult(
                    ok=True,
                    message=f"linearizable: a valid order of {len(order)} operations exists",
                    witness=tuple(self.operations[i] for i in order),
                    configurations=len(explored),
                )
            if self.deadline is not None and iterations % _CLOCK_INTERVAL == 0 and time.monotonic() >= self.deadline:
                return self.unknown(len(explored))
            iterations += 1
            for i in candidates:
                next_state = self.spec.step(state, self.operations[i])
                if next_state is None:
                    continue
                configuration = (placed | 1 << i, next_state)
                if configuration in explored:
                    continue
                explored.add(configuration)
                order.append(i)
                frames.append((configuration[0], next_state, self.minimal_unplaced(configuration[0])))
                if len(order) > len(deepest[0]):
                    deepest = (list(order), next_state)
                break
            else:
                frames.pop()
                if order:
                    order.pop()
        return self.failure(*deepest, configurations=len(explored))

    def unknown(self, configurations: int) -> LinearizabilityResult:
        return LinearizabilityResult(
            ok=None,
            message=(
                f"unknown: the time budget ran out after exploring {configurations} configurations "
                f"of {len(self.operations)} operations without deciding; "
                "raise time_budget or check a shorter history"
            ),
            configurations=configurations,
        )

    def failure(self, prefix: list[int], state: Hashable, *, configurations: int) -> LinearizabilityResult:
        placed = sum(1 << i for i in prefix)
        blocked = [self.operations[i] for i in self.minimal_unplaced(placed)]
        unplaced_completed = [op for i, op in enumerate(self.operations) if not op.pending and not placed >> i & 1]
        unplaceable = min(unplaced_completed, key=lambda op: op.response)
        name = getattr(self.spec, "name", type(self.spec).__name__)
        lines = [
            f"not linearizable: no sequential {name} order explains all "
            f"{len(self.operations)} operations with the results the threads saw."
        ]
        if prefix:
            lines.append(f"The longest valid order found places {len(prefix)} of them:")
            lines += [f"  {n}. {self.operations[i].describe()}" for n, i in enumerate(prefix, 1)]
            lines.append(f"after which {self._describe_state(state)}.")
        else:
            lines.append(f"No operation can even come first; initially {self._describe_state(state)}.")
        lines.append("None of the operations that may come next fits:")
        lines += [f"  - {op.describe()}: {self._explain_refusal(state, op)}" for op in blocked]
        lines.append(
            f"The first operation that cannot be placed: {unplaceable.describe()} "
            f"(it had to take effect by step {unplaceable.response}, when it returned)."
        )
        return LinearizabilityResult(
            ok=False,
            message="\n".join(lines),
            longest_prefix=tuple(self.operations[i] for i in prefix),
            blocked=tuple(blocked),
            unplaceable=unplaceable,
            configurations=configurations,
        )

    def _describe_state(self, state: Hashable) -> str:
        describe = getattr(self.spec, "describe_state", None)
        return describe(state) if describe else f"the model state is {state!r}"

    def _explain_refusal(self, state: Hashable, op: Operation) -> str:
        explain = getattr(self.spec, "explain_refusal", None)
        return explain(state, op) if explain else "the model rejects its result in that state"
