"""What an execution runs: ``Target``.

A Target names a structure variant (``family``/``variant``), its options, the
node pool, the initial contents and one program per thread. A structure of
the user's own names its C file too::

    Target("mpsc", "vyukov", ((("enqueue", 1),), (("dequeue", None),)), source="mpsc.c")

``execution()`` builds the file (or finds it cached, stress/usercode.py)
before the first execution, so a Target — and a replay token made from one —
is complete on its own, in any process and from any directory. A Target of a
structure loaded earlier with ``stress.structures.load_source`` picks its file
up by itself.

``scenario``/``scenario_hash`` say which scenario (or story) the Target came
from, so a replay can tell when that scenario changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import _defaults


@dataclass(frozen=True)
class Target:
    """A structure variant, its options, the pool, the initial contents and
    one program per thread (see the module docstring)."""

    family: str
    variant: str
    programs: tuple[tuple[tuple[str, int | None], ...], ...]
    initial: tuple[int, ...] = ()
    options: tuple[tuple[str, int], ...] = ()
    capacity: int = _defaults.CAPACITY
    reuse: str = _defaults.REUSE
    step_cap: int = _defaults.STEP_CAP
    scenario: str | None = None
    scenario_hash: str | None = None
    source: str | None = None        # the user's C file, as an absolute path (None: built in)

    def __post_init__(self) -> None:
        source = self.source
        if source is None:
            from .structures import user_structure
            info = user_structure(self.structure)
            source = info.source if info is not None else None
        elif not isinstance(source, (str, Path)):
            from .errors import UsageError
            raise UsageError(f"source= names a structure's C file, got {source!r}")
        else:
            source = str(Path(source).resolve())
        object.__setattr__(self, "source", source)

    @property
    def structure(self) -> str:
        return f"{self.family}/{self.variant}"

    @property
    def nthreads(self) -> int:
        return len(self.programs)

    def structure_info(self):
        """The structure's StructureInfo; a user's file is built (or found
        cached) and loaded first."""
        from .structures import load_source, lookup, user_structure
        if self.source is not None:
            known = user_structure(self.structure)
            if known is None or known.source != self.source:
                load_source(self.source)
                if user_structure(self.structure) is None:
                    from .errors import UsageError
                    raise UsageError(f"{self.source} does not define {self.structure}")
        return lookup(self.family, self.variant)

    def execution(self):
        from .engine import Execution
        self.structure_info()
        return Execution(self.family, self.variant, [list(p) for p in self.programs],
                         initial=self.initial, options=dict(self.options), capacity=self.capacity,
                         reuse=self.reuse, step_cap=self.step_cap)

    def with_programs(self, programs, initial=None) -> "Target":
        from dataclasses import replace
        return replace(self, programs=tuple(tuple(p) for p in programs),
                       initial=tuple(self.initial if initial is None else initial))

    def operations(self) -> int:
        return sum(len(p) for p in self.programs)

    def describe_programs(self) -> str:
        return "  ".join(f"T{t}: [{', '.join(_op_text(op) for op in prog)}]"
                         for t, prog in enumerate(self.programs))


def _op_text(op: tuple[str, int | None]) -> str:
    name, arg = op
    return name if arg is None else f"{name} {arg}"
