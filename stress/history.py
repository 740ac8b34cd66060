"""The operation history of one execution, as the checks see it.

Each operation spans an interval of global step indices, from its invocation
to its response. Two operations are ordered in real time only when one
responded strictly before the other was invoked (a shared step index counts as
overlap, so an ambiguous tie never produces a false alarm); operations of the
same virtual thread are always ordered by program order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stress.errors import UsageError


@dataclass(frozen=True)
class Operation:
    """One operation of one virtual thread.

    ``result`` is None when the operation returns nothing or found the
    structure empty (then ``empty`` is True). ``response`` is None for a
    pending operation: it was invoked but never returned, so it may or may not
    have taken effect.
    """

    tid: int
    op: str
    arg: int | None
    result: int | None
    empty: bool
    invoke: int
    response: int | None

    @property
    def pending(self) -> bool:
        return self.response is None

    def precedes(self, other: Operation) -> bool:
        """True when this operation must take effect before ``other``."""
        if self.tid == other.tid:
            return self.invoke < other.invoke
        return self.response is not None and self.response < other.invoke

    def describe(self) -> str:
        """Plain words naming thread, operation, argument, outcome and steps,
        e.g. ``thread 2: dequeue() -> 7, steps 4-9``."""
        call = f"{self.op}({'' if self.arg is None else self.arg})"
        if self.pending:
            return f"thread {self.tid}: {call}, invoked at step {self.invoke}, never returned"
        if self.empty:
            outcome = " -> empty"
        elif self.result is not None:
            outcome = f" -> {self.result}"
        else:
            outcome = ""
        return f"thread {self.tid}: {call}{outcome}, steps {self.invoke}-{self.response}"


class History(tuple[Operation, ...]):
    """An immutable, validated sequence of operations (in any order).

    Raises UsageError (a ValueError) when an operation responds before it is
    invoked, when two operations of one thread overlap, or when a thread
    invokes anything after an operation that never returned.
    """

    __slots__ = ()

    def __new__(cls, operations: Iterable[Operation] = ()) -> History:
        if type(operations) is cls:
            return operations  # immutable and already validated
        history = super().__new__(cls, operations)
        history._validate()
        return history

    @property
    def completed(self) -> tuple[Operation, ...]:
        return tuple(op for op in self if not op.pending)

    @property
    def pending(self) -> tuple[Operation, ...]:
        return tuple(op for op in self if op.pending)

    def of_thread(self, tid: int) -> tuple[Operation, ...]:
        """The thread's operations in program order."""
        return tuple(sorted((op for op in self if op.tid == tid), key=lambda op: op.invoke))

    @property
    def threads(self) -> tuple[int, ...]:
        return tuple(sorted({op.tid for op in self}))

    def _validate(self) -> None:
        for op in self:
            if op.response is not None and op.response < op.invoke:
                raise UsageError(f"{op.describe()}: responds before it is invoked")
        for tid in self.threads:
            program = self.of_thread(tid)
            for earlier, later in zip(program, program[1:]):
                if earlier.pending:
                    raise UsageError(
                        f"{later.describe()}: invoked after the same thread's "
                        f"operation that never returned ({earlier.describe()})"
                    )
                if earlier.response > later.invoke:
                    raise UsageError(
                        f"thread {tid} runs two operations at once: "
                        f"{earlier.describe()} overlaps {later.describe()}"
                    )
