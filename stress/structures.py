"""The catalogue of structures compiled into the native builds.

Everything here is read from the C descriptors (``lfs_structure_t``): names,
node fields, roots, operations and options. Nothing is repeated by hand, so a
structure added in C appears in ``lfstress list`` and is accepted by scenarios.

The *roles* come from there too (lfstress.h, "Roles"): which operation
inserts and which removes (``insert_op``, ``remove_op``), where the chain of
elements starts and ends (``chain_entry``, ``chain_exit``, ``sentinel``),
which node word is the value and which link the chain follows
(``value_field``, ``next_field``), and the reclamation scheme
(``reclaim``). The C side applies the defaults for undeclared roles
(``lfs_structure_roles``), so Python and C agree on them. Checks,
strategies, scenarios and reports ask these, never a name.

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

# The names Python shows for the descriptor's C enums (values: from the library).
WORD_KINDS = {"LFS_DATA": "data", "LFS_LINK": "link", "LFS_HAZARD": "hazard"}
REF_ENCODINGS = {"LFS_REF_POINTER": "pointer", "LFS_REF_INDEX": "index"}
MEMORY_PROMISES = {"LFS_TYPE_STABLE": "type-stable", "LFS_NO_STALE_ACCESS": "no-stale-access"}
ROOT_ROLES = {"LFS_ROOT_UNDECLARED": "", "LFS_ROOT_ENTRY": "entry", "LFS_ROOT_EXIT": "exit",
              "LFS_ROOT_RECLAIM": "reclaim", "LFS_ROOT_OTHER": "other"}
FIELD_ROLES = {"LFS_FIELD_UNDECLARED": "", "LFS_FIELD_VALUE": "value", "LFS_FIELD_NEXT": "next",
               "LFS_FIELD_OTHER": "other"}
OP_ROLES = {"LFS_OP_UNDECLARED": "", "LFS_OP_INSERT": "insert", "LFS_OP_REMOVE": "remove",
            "LFS_OP_OTHER": "other"}
RECLAIM_SCHEMES = {"LFS_RECLAIM_NONE": "none", "LFS_RECLAIM_HAZARD": "hazard",
                   "LFS_RECLAIM_EPOCH": "epoch", "LFS_RECLAIM_OTHER": "other"}
# Node reuse policies of the stepped pool (enum lfs_reuse_policy: LFS_REUSE_<NAME>).
REUSE_POLICIES = ("lifo", "fifo", "never")


def reuse_policy_code(name: str) -> int:
    return _native.limit(f"LFS_REUSE_{name.upper()}")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "data" | "link" | "hazard"
    role: str = ""  # as declared: "value" | "next" | "other" | "" (undeclared)


@dataclass(frozen=True)
class Root:
    name: str
    offset: int
    count: int
    kind: str
    role: str = ""  # as declared: "entry" | "exit" | "reclaim" | "other" | "" (undeclared)


@dataclass(frozen=True)
class OpInfo:
    name: str
    takes_arg: bool
    returns_value: bool
    role: str = ""  # as declared: "insert" | "remove" | "other" | "" (undeclared)


@dataclass(frozen=True)
class ReclaimInfo:
    """The declared reclamation scheme: ``scheme`` is "none" (never
    retires), "hazard", "epoch" or "other"; ``threshold_option`` names the
    option holding its threshold (hazard: R); ``can_stall``: it declares the
    hooks that stall a thread inside it (for benchmarks)."""

    scheme: str = "none"
    threshold_option: str | None = None
    can_stall: bool = False


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
    # Roles in force (declared, or the C side's defaults); None: it has none.
    insert_op: str | None = None  # adds its argument: enqueue, push
    remove_op: str | None = None  # takes an element out, or finds none: dequeue, pop
    chain_entry: str | None = None  # root where the chain of elements starts: head, top
    chain_exit: str | None = None   # root where it must end: a queue's tail
    sentinel: bool = False        # the entry points at a node that holds no element
    value_field: int | None = None  # index in fields of the element's value
    next_field: int | None = None   # index in fields of the link the chain follows
    reclaim: ReclaimInfo = ReclaimInfo()

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
            "roles": {"insert": self.insert_op, "remove": self.remove_op, "entry": self.chain_entry,
                      "exit": self.chain_exit, "sentinel": self.sentinel,
                      "value": None if self.value_field is None else self.fields[self.value_field].name,
                      "next": None if self.next_field is None else self.fields[self.next_field].name,
                      "reclaim": self.reclaim.scheme},
            "options": {o.name: {"min": o.min, "max": o.max, "default": o.default, "help": o.help}
                        for o in self.options},
        }


@functools.cache
def _names() -> dict[str, dict[int, str]]:
    """The C enums' values → names, read once from the library."""
    tables = {"word": WORD_KINDS, "ref": REF_ENCODINGS, "promise": MEMORY_PROMISES, "root": ROOT_ROLES,
              "field": FIELD_ROLES, "op": OP_ROLES, "reclaim": RECLAIM_SCHEMES}
    return {key: _native.enum_names(table) for key, table in tables.items()}


def _read(module: ModuleType, index: int, source: str | None = None, build: str = "") -> StructureInfo:
    ffi, lib = module.ffi, module.lib
    desc = lib.lfs_structure_get(index)
    text = lambda p: ffi.string(p).decode(errors="replace") if p != ffi.NULL else ""  # noqa: E731
    for key, count, entries in (("node_words", desc.node_words, desc.fields), ("n_roots", desc.n_roots, desc.roots),
                                ("n_ops", desc.n_ops, desc.ops), ("n_options", desc.n_options, desc.options)):
        if count > len(entries):
            raise UsageError(f"{source or 'built-in'}: structure {text(desc.family)}/{text(desc.variant)}: "
                             f"{key} = {count}, but lfs_structure_t holds at most {len(entries)}")
    names = _names()
    fields = tuple(Field(text(f.name), names["word"][f.kind], names["field"][f.role])
                   for f in (desc.fields[i] for i in range(desc.node_words)))
    roots = tuple(Root(text(r.name), r.offset, r.count, names["word"][r.kind], names["root"][r.role])
                  for r in (desc.roots[i] for i in range(desc.n_roots)))
    ops = tuple(OpInfo(text(o.name), bool(o.takes_arg), bool(o.returns_value), names["op"][o.role])
                for o in (desc.ops[i] for i in range(desc.n_ops)))
    roles = ffi.new("lfs_roles_t *")
    lib.lfs_structure_roles(desc, roles)
    pick = lambda items, i: items[i].name if i >= 0 else None  # noqa: E731
    reclaim = desc.reclaim
    return StructureInfo(
        index=index,
        family=text(desc.family),
        variant=text(desc.variant),
        summary=text(desc.summary),
        spec=text(desc.spec) or "none",
        ref_encoding=names["ref"][desc.ref_encoding],
        memory_promise=names["promise"][desc.memory_promise],
        fields=fields,
        roots=roots,
        ops=ops,
        options=tuple(OptionInfo(text(o.name), o.min, o.max, o.dflt, text(o.help))
                      for o in (desc.options[i] for i in range(desc.n_options))),
        source=source,
        build=build,
        insert_op=pick(ops, roles.insert_op),
        remove_op=pick(ops, roles.remove_op),
        chain_entry=pick(roots, roles.entry_root),
        chain_exit=pick(roots, roles.exit_root),
        sentinel=bool(roles.sentinel),
        value_field=roles.value_field if roles.value_field >= 0 else None,
        next_field=roles.next_field if roles.next_field >= 0 else None,
        reclaim=ReclaimInfo(names["reclaim"][reclaim.scheme], text(reclaim.threshold_option) or None,
                            reclaim.stall != ffi.NULL and reclaim.unstall != ffi.NULL),
    )


@functools.cache
def _builtin() -> dict[str, StructureInfo]:
    mod = _native.stepped()
    found = {}
    for i in range(mod.lib.lfs_structure_count()):
        info = _read(mod, i)
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
            info = _read(mod, i, str(Path(path).resolve()), user.key)
        except KeyError as exc:
            raise UsageError(f"{name}: structure #{i} has an unknown kind, role or encoding {exc} "
                             "(see the enums of lfs_structure_t in lfstress.h)") from None
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
    _check_roles(where, info)


def _check_roles(where: str, info: StructureInfo) -> None:
    """Declared roles that cannot mean what they say."""
    for items, what in ((info.ops, "operation"), (info.roots, "root"), (info.fields, "field")):
        declared = [x.role for x in items if x.role and x.role not in ("other", "reclaim")]
        twice = sorted({r for r in declared if declared.count(r) > 1})
        if twice:
            raise UsageError(f"{where}: more than one {what} declares the role {twice[0]!r}")
    for op in info.ops:
        if op.role == "insert" and not op.takes_arg:
            raise UsageError(f"{where}: operation {op.name!r} is LFS_OP_INSERT but takes no argument")
        if op.role == "remove" and (op.takes_arg or not op.returns_value):
            raise UsageError(f"{where}: operation {op.name!r} is LFS_OP_REMOVE but does not return a "
                             "value without an argument (takes_arg = false, returns_value = true)")
    for root in info.roots:
        if root.role in ("entry", "exit") and (root.kind != "link" or root.count != 1):
            raise UsageError(f"{where}: root {root.name!r} is the chain's {root.role} but not one "
                             "LFS_LINK word")
    wanted_kind = {"value": "data", "next": "link"}
    for field in info.fields:
        if field.role in wanted_kind and field.kind != wanted_kind[field.role]:
            raise UsageError(f"{where}: field {field.name!r} declares the role {field.role!r} but is "
                             f"not a {wanted_kind[field.role]} word")
    option = info.reclaim.threshold_option
    if option is not None and option not in {o.name for o in info.options}:
        allowed = ", ".join(o.name for o in info.options) or "none"
        raise UsageError(f"{where}: reclaim.threshold_option {option!r} is not one of its options "
                         f"(declared: {allowed})")
    if info.reclaim.scheme == "hazard" and option is None:
        raise UsageError(f"{where}: LFS_RECLAIM_HAZARD needs reclaim.threshold_option, the option "
                         "holding the scan threshold R")


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
