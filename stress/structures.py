"""The catalogue of structures compiled into the native builds.

Everything here is read from the C descriptors (``lfs_structure_t``): names,
node fields, roots, operations and options. Nothing is repeated by hand, so a
structure added in C appears in ``lfstress list`` and is accepted by scenarios.

The catalogue is the built-in structures plus those of every user structure
file loaded so far (``load_source``, which a scenario's ``source = "x.c"``
calls). Each StructureInfo knows which build it came from (``build``: "" for
built in, else the user build's key); ``native_module(info)`` is the cffi
module that runs it. ``lookup`` is the one way to find a structure by name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
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
    source: str | None = None     # the user's C file it was built from (None: built in)
    build: str = ""               # the user build's key (usercode.py); "" for built in

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


def _read(ffi: Any, desc: Any, index: int, source: str | None = None, build: str = "") -> StructureInfo:
    text = lambda p: ffi.string(p).decode(errors="replace") if p != ffi.NULL else ""  # noqa: E731
    for key, count, entries in (("node_words", desc.node_words, desc.fields), ("n_roots", desc.n_roots, desc.roots),
                                ("n_ops", desc.n_ops, desc.ops), ("n_options", desc.n_options, desc.options)):
        if count > len(entries):
            raise UsageError(f"{source or 'built-in'}: structure {text(desc.family)}/{text(desc.variant)}: "
                             f"{key} = {count}, but lfs_structure_t holds at most {len(entries)}")
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
        source=source,
        build=build,
    )


@functools.cache
def _builtin() -> dict[str, StructureInfo]:
    mod = _native.stepped()
    found = {}
    for i in range(mod.lib.lfs_structure_count()):
        info = _read(mod.ffi, mod.lib.lfs_structure_get(i), i)
        found[info.name] = info
    return found


_user: dict[str, StructureInfo] = {}   # structures of user files loaded so far


def catalogue() -> dict[str, StructureInfo]:
    """Every structure variant, keyed by "family/variant": the built-ins, then
    those of the user structure files loaded so far."""
    return {**_builtin(), **_user}


def user_structure(name: str) -> StructureInfo | None:
    """The structure "family/variant" if a user's file loaded so far defines it
    (never loads the native extensions)."""
    return _user.get(name)


def native_module(info: StructureInfo, build: str = "stepped") -> ModuleType:
    """The cffi module (``ffi``, ``lib``) whose registry holds ``info`` at
    ``info.index``: the built-in extension, or the user file's."""
    if not info.build:
        return _native.stepped() if build == "stepped" else _native.free()
    from .usercode import loaded
    return loaded(info.build).module(build)


SPEC_NAMES = ("queue", "stack", "none")
LOAD_HINT = ('a structure of your own is loaded from its C file: Target(..., source="FILE.c"), '
             '--source FILE.c, or a scenario\'s source = "FILE.c"')


def load_source(path: str | Path, *, force: bool = False) -> tuple[StructureInfo, ...]:
    """Build (or find cached) and load a user structure file (stress/usercode.py);
    its structures join the catalogue. Returns them, in export order."""
    from .usercode import build as build_source
    user = build_source(path, force=force)
    mod, name = user.stepped, Path(path).name
    count = mod.lib.lfs_structure_count()
    if count == 0:
        raise UsageError(f"{name} exports no structures: list them in LFS_EXPORT_STRUCTURES(...)")
    infos = []
    for i in range(count):
        desc = mod.lib.lfs_structure_get(i)
        try:
            info = _read(mod.ffi, desc, i, str(Path(path).resolve()), user.key)
        except KeyError as exc:
            raise UsageError(f"{name}: structure #{i} has an unknown kind or encoding {exc} "
                             "(see enum lfs_word_kind / lfs_ref_encoding / lfs_memory_promise)") from None
        _check_descriptor(name, info, desc)
        infos.append(info)
    for info in infos:
        if info.name in _builtin():
            raise UsageError(f"{name} defines {info.name}, which is built in: give its family or "
                             "variant another name")
        earlier = _user.get(info.name)
        if earlier is not None and earlier.build != info.build and earlier.source != info.source:
            raise UsageError(f"{name} defines {info.name}, which {earlier.source} already defined "
                             "in this run: give one of them another name")
    if len({i.name for i in infos}) != len(infos):
        raise UsageError(f"{name} exports the same family/variant twice")
    _user.update((info.name, info) for info in infos)
    return tuple(infos)


def _check_descriptor(name: str, info: StructureInfo, desc: Any) -> None:
    """What the engine would refuse without saying why, said with names."""
    where = f"{name}: {info.name or '(no family/variant)'}"
    if not info.family or not info.variant or "/" in info.family + info.variant:
        raise UsageError(f"{where}: family and variant must be non-empty names without '/'")
    if info.spec not in SPEC_NAMES:
        raise UsageError(f"{where}: spec {info.spec!r} is not one of {', '.join(SPEC_NAMES)}")
    if not 1 <= desc.node_words <= len(desc.fields):
        raise UsageError(f"{where}: node_words must be 1 to {len(desc.fields)}, got {desc.node_words}")
    if desc.shared_size % 8:
        raise UsageError(f"{where}: shared_size must be a multiple of 8 bytes (lfs_word_t), got {desc.shared_size}")
    for root in info.roots:
        if root.offset % 8 or root.offset + 8 * root.count > desc.shared_size or root.count < 1:
            raise UsageError(f"{where}: root {root.name!r} (offset {root.offset}, {root.count} word(s)) "
                             f"is not inside the {desc.shared_size}-byte shared state")
    if not info.ops:
        raise UsageError(f"{where}: declares no operations")
    for opt in info.options:
        if not opt.min <= opt.default <= opt.max:
            raise UsageError(f"{where}: option {opt.name!r} has its default {opt.default} outside "
                             f"{opt.min}..{opt.max}")


def lookup(family: str, variant: str) -> StructureInfo:
    cat = catalogue()
    key = f"{family}/{variant}"
    if key in cat:
        return cat[key]
    families = sorted({s.family for s in cat.values()})
    if family not in families:
        raise UsageError(f"unknown structure {family!r} (allowed: {', '.join(families)}); "
                         f"{LOAD_HINT}")
    variants = sorted(s.variant for s in cat.values() if s.family == family)
    raise UsageError(f"unknown variant {variant!r} of {family} (allowed: {', '.join(variants)})")
