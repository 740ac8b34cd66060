"""Violation kinds and the Violation record every check produces.

The kinds are stable identifiers: they appear in JSON output, scenario files
(`expect`), and tests. Their meaning is documented in docs/architecture.md and in
``KIND_SUMMARY`` below (one plain sentence each, used by reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KIND_SUMMARY: dict[str, str] = {
    "severed": "the chain from head no longer reaches tail, or ends early",
    "leak": "a live node is reachable from nothing: not the structure, not a retired list, not a thread",
    "use-after-free": "a thread accessed a node after it was freed",
    "double-free": "a node was freed twice",
    "aba": ("a pointer whose node was freed and reallocated since it was read did harm: a write through it, "
            "or a CAS, link or result that carries what was read from the node's earlier life"),
    "lost-value": "a value was enqueued but never came out, although the structure is empty",
    "duplicate-value": "a value came out twice",
    "not-linearizable": "the history of operations has no valid sequential (FIFO/LIFO) order",
    "unbounded-garbage": "more retired-but-unreclaimed nodes than the scheme promises",
    "cycle": "following next from head loops",
    "livelock": "the execution exceeded its step cap",
    "deadlock": "no thread can run, but some have not finished",
    "hang": "the execution did not end within a wall-clock limit (a loop without primitives, a sleep, a lock)",
    "crash": "a fatal signal (a fault, abort()) stopped a thread, in the code under test or in lfstress itself; "
             "or the code under test ended or damaged the worker process running it (exit, fork, ...)",
    "wild-pointer": "the code under test accessed memory outside the node pool and its roots",
    "pool-exhausted": "the node pool ran out of nodes",
    "nondeterministic": "replaying the same schedule gave a different trace",
}

KINDS = frozenset(KIND_SUMMARY)


@dataclass(frozen=True)
class Violation:
    """One thing that went wrong in one execution.

    ``step`` is the global step index of the decisive event (None for checks
    over the final state), ``thread`` the virtual thread responsible (None when
    no single thread is), ``slots`` the pool slots involved, and ``provenance``
    a kind-specific dict (for ``aba``: slot, generation when loaded, step of the
    load, generation now, who freed and who reallocated it, at which steps).
    """

    kind: str
    message: str
    step: int | None = None
    thread: int | None = None
    slots: tuple[int, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown violation kind {self.kind!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "step": self.step,
            "thread": self.thread,
            "slots": list(self.slots),
            "provenance": dict(self.provenance),
        }
