"""The catalogue of structures compiled into the native builds.

Everything here is read from the C descriptors (``lfs_structure_t``): names,
node fields, roots, operations and options. Nothing is repeated by hand, so a
structure added in C appears in ``lfstress list`` and is accepted by scenarios.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import _native
from .errors import UsageError

WORD_KINDS = {0: "data", 1: "link", 2: "hazard"}
REF_ENCODINGS = {0: "pointer", 1: "index"}
MEMORY_PROMISES = {0: "type-stable", 1: "no-stale-access"}
REUSE_POLICIES = {"lifo": 0, "fifo": 1, "never": 2}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "data" | "link" | "hazard"


@dataclass(frozen=True)
class Root:
    name: str
    offset: int
    count: int
    kind: str


@dataclass(frozen=True)
class OpInfo:
    name: str
    takes_arg: bool
    returns_value: bool


@dataclass(frozen=True)
class OptionInfo:
    name: str
    min: int
    max: int
    default: int
    help: str


@dataclass(frozen=True)
class StructureInfo:
    index: int
    family: str
    variant: str
    summary: str
    spec: str
    ref_encoding: str
    memory_promise: str
    fields: tuple[Field, ...]
    roots: tuple[Root, ...]
    ops: tuple[OpInfo, ...]
    options: tuple[OptionInfo, ...]

    @property
    def name(self) -> str:
        return f"{self.family}/{self.variant}"

    def op_index(self, name: str) -> int:
        for i, op in enumerate(self.ops):
            if op.name == name:
                return i
        allowed = ", ".join(op.name for op in self.ops)
        raise UsageError(f"{self.name} has no operation {name!r} (allowed: {allowed})")

    def option_values(self, options: dict[str, int] | None) -> list[int]:
        """Values for every declared option, in declaration order, validated."""
        options = dict(options or {})
        values = []
        for opt in self.options:
            value = options.pop(opt.name, opt.default)
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"option {opt.name!r} of {self.name} must be an integer, got {value!r}")
            if not opt.min <= value <= opt.max:
                raise UsageError(
                    f"option {opt.name!r} of {self.name} must be between {opt.min} and {opt.max}, got {value}"
                )
            values.append(value)
        if options:
            allowed = ", ".join(o.name for o in self.options) or "none"
            raise UsageError(f"{self.name} has no option {sorted(options)[0]!r} (allowed: {allowed})")
        return values

    def describe(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "variant": self.variant,
            "summary": self.summary,
            "spec": self.spec,
            "operations": [op.name for op in self.ops],
            "options": {o.name: {"min": o.min, "max": o.max, "default": o.default, "help": o.help}
                        for o in self.options},
        }


def _read(ffi: Any, desc: Any, index: int) -> StructureInfo:
    text = lambda p: ffi.string(p).decode() if p != ffi.NULL else ""  # noqa: E731
    return StructureInfo(
        index=index,
        family=text(desc.family),
        variant=text(desc.variant),
        summary=text(desc.summary),
        spec=text(desc.spec) or "none",
        ref_encoding=REF_ENCODINGS[desc.ref_encoding],
        memory_promise=MEMORY_PROMISES[desc.memory_promise],
        fields=tuple(Field(text(desc.fields[i].name), WORD_KINDS[desc.fields[i].kind])
                     for i in range(desc.node_words)),
        roots=tuple(Root(text(r.name), r.offset, r.count, WORD_KINDS[r.kind])
                    for r in (desc.roots[i] for i in range(desc.n_roots))),
        ops=tuple(OpInfo(text(o.name), bool(o.takes_arg), bool(o.returns_value))
                  for o in (desc.ops[i] for i in range(desc.n_ops))),
        options=tuple(OptionInfo(text(o.name), o.min, o.max, o.dflt, text(o.help))
                      for o in (desc.options[i] for i in range(desc.n_options))),
    )


@functools.cache
def catalogue() -> dict[str, StructureInfo]:
    """Every built-in structure variant, keyed by "family/variant"."""
    mod = _native.stepped()
    found = {}
    for i in range(mod.lib.lfs_structure_count()):
        info = _read(mod.ffi, mod.lib.lfs_structure_get(i), i)
        found[info.name] = info
    return found


def lookup(family: str, variant: str) -> StructureInfo:
    cat = catalogue()
    key = f"{family}/{variant}"
    if key in cat:
        return cat[key]
    families = sorted({s.family for s in cat.values()})
    if family not in families:
        raise UsageError(f"unknown structure {family!r} (allowed: {', '.join(families)})")
    variants = sorted(s.variant for s in cat.values() if s.family == family)
    raise UsageError(f"unknown variant {variant!r} of {family} (allowed: {', '.join(variants)})")
