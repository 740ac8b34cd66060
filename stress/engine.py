"""Executions of the stepped build, driven one shared-memory step at a time.

An ``Execution`` is a structure variant with options, a pool capacity, the
initial contents and one program per virtual thread. ``start()`` resets it
(it can be re-run any number of times), ``step(tid)`` runs one step of an
enabled thread and returns the new *enabled mask* (bit i set: thread i may
run; 0: the execution has ended). Everything the execution did is then
available as events (the trace), the history of operations, the violations the
engine saw at each access, and a snapshot of the node pool.

Traces never show raw addresses: a node reference is shown as its pool slot
(``#5``), so a trace is byte-identical across processes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Callable, Collection, Iterable, Sequence

from . import _defaults, _native
from .coverage import Coverage
from .errors import EngineError, UsageError
from .history import History, Operation
from .structures import REUSE_POLICIES, StructureInfo, lookup, native_module, reuse_policy_code
from .violations import Violation

# The names traces and reports show for the engine's C enums (engine.h,
# lfstress.h, common.h). The values are the library's (``_c()``).
EVENT_KIND_NAMES = {
    "LFS_EV_LOAD": "load", "LFS_EV_STORE": "store", "LFS_EV_INIT_STORE": "init",
    "LFS_EV_CAS_OK": "cas", "LFS_EV_CAS_FAIL": "cas-fail", "LFS_EV_EXCHANGE": "xchg",
    "LFS_EV_FETCH_ADD": "faa", "LFS_EV_FENCE": "fence", "LFS_EV_PAUSE": "pause", "LFS_EV_WAIT": "wait",
    "LFS_EV_ALLOC": "alloc", "LFS_EV_FREE": "free", "LFS_EV_RETIRE": "retire",
    "LFS_EV_INVOKE": "invoke", "LFS_EV_RETURN": "return", "LFS_EV_RECLAIM": "reclaim",
    "LFS_EV_NOTE": "note",
}
ORDER_NAMES = {"LFS_RELAXED": "relaxed", "LFS_ACQUIRE": "acquire", "LFS_RELEASE": "release",
               "LFS_ACQ_REL": "acq_rel", "LFS_SEQ_CST": "seq_cst"}
SLOT_STATE_NAMES = {"LFS_SLOT_FREE": "FREE", "LFS_SLOT_LIVE": "LIVE", "LFS_SLOT_RETIRED": "RETIRED"}
STATUS_NAMES = {"LFS_EXEC_RUNNING": "running", "LFS_EXEC_DONE": "done", "LFS_EXEC_ABORTED": "aborted",
                "LFS_EXEC_LIVELOCK": "livelock", "LFS_EXEC_DEADLOCK": "deadlock"}
VIOLATION_KIND_NAMES = {
    "LFS_V_USE_AFTER_FREE": "use-after-free", "LFS_V_DOUBLE_FREE": "double-free", "LFS_V_ABA": "aba",
    "LFS_V_WILD_POINTER": "wild-pointer", "LFS_V_POOL_EXHAUSTED": "pool-exhausted",
    "LFS_V_LIVELOCK": "livelock", "LFS_V_DEADLOCK": "deadlock", "LFS_V_CRASH": "crash",
}
# The violation kinds the engine itself sees while stepping (the others need
# the checks in stress/checks, which run after an execution).
ENGINE_KINDS = frozenset(VIOLATION_KIND_NAMES.values())


@functools.cache
def _c() -> SimpleNamespace:
    """The engine's C enums as Python reads them from the library."""
    lib = _native.stepped().lib
    event_kind = _native.enum_names(EVENT_KIND_NAMES)
    return SimpleNamespace(
        lib=lib,
        event_kind=event_kind,
        event_code={name: code for code, name in event_kind.items()},
        order=_native.enum_names(ORDER_NAMES),
        slot_state=_native.enum_names(SLOT_STATE_NAMES),
        status=_native.enum_names(STATUS_NAMES),
        violation_kind=_native.enum_names(VIOLATION_KIND_NAMES),
        detail=_native.enum_names({constant: constant for constant in DETAIL_MESSAGES}),
    )


def slot_state_name(code: int) -> str:
    return _c().slot_state[code]


def engine_kind_mask(kinds: Collection[str] | None) -> int:
    """The native search's want_kinds for these kinds: a bit per kind the
    engine sees; 0 (any engine violation) when none of them is one."""
    return sum(1 << code for code, name in _c().violation_kind.items() if kinds and name in kinds)

Program = Sequence[tuple[str, "int | None"]]


@dataclass(frozen=True)
class Event:
    """One thing a thread did at one step, addresses already resolved."""

    index: int
    step: int
    tid: int
    kind: str
    order: str
    location: str        # "head", "#5.next", "hazard[2]", "" for pool/op events
    slot: int            # node slot touched (alloc/free/retire: the node), -1 if none
    gen: int
    value: str           # rendered: "#5", "#5/t3", "null", "42"
    expected: str        # CAS: expected (success) or seen (failure); xchg/faa: written
    op: str              # invoke/return: the operation
    stale: bool          # touched a node freed or reincarnated since it was loaded
    flagged: bool        # a violation was recorded here

    def node_location(self) -> str:
        """The location with the node's generation once past its first life
        (``#0g2.next``): which incarnation was touched."""
        prefix = f"#{self.slot}"
        if self.slot >= 0 and self.gen > 1 and self.location.startswith(prefix + "."):
            return f"{prefix}g{self.gen}{self.location[len(prefix):]}"
        return self.location

    def text(self, *, compact: bool = False) -> str:
        """The event in one line. Plain: the trace's form (hashed into replay
        tokens, so it stays stable). Compact: a report's table cell — arrows,
        node generations, ``*`` for a stale access."""
        k, v, x = self.kind, self.value, self.expected
        if compact:
            loc, arrow, pre, post = self.node_location(), "→", "*" if self.stale else "", ""
            call, ret = "▶ ", f"◀ {self.op} → {v}"
        else:
            loc, arrow, pre, post = self.location, " -> ", "", " STALE" if self.stale else ""
            call, ret = "", f"{self.op} -> {v}"
        if k == "invoke":
            return f"{call}{self.op}({v})"
        if k == "return":
            return ret
        if k in ("alloc", "free", "retire"):
            reuse = " (reused)" if k == "alloc" and self.gen > 1 else ""
            return f"{k} #{self.slot} g{self.gen}{reuse}"
        if k == "reclaim":
            return f"reclaim: freed {v} of {x}"
        if k == "note":
            return x if compact else f"note: {v}"
        if k == "fence":
            return f"fence {self.order}"
        if k == "pause":
            return k
        if k == "wait":
            return f"wait {loc} (is {v})"
        body = {
            "load": f"load {loc} = {v}",
            "store": f"store {loc} := {v}",
            "init": f"init {loc} := {v}",
            "cas": f"cas {loc} {x}{arrow}{v} ok",
            "cas-fail": f"cas {loc} {arrow.lstrip()}{v} FAIL (saw {x})",
            "xchg": f"xchg {loc} := {x} (was {v})",
            "faa": f"faa {loc} += (was {v}, now {x})",
        }.get(k, k)
        return f"{pre}{body}{post}"


@dataclass(frozen=True)
class SlotSnapshot:
    slot: int
    state: str
    gen: int
    words: tuple[int, ...]       # raw words, in field order
    refs: tuple[int | None, ...]  # for link/hazard fields: slot referred to (None: null/none)


@dataclass(frozen=True)
class Snapshot:
    """The node pool and the roots, as the checker walks them."""

    structure: StructureInfo
    slots: tuple[SlotSnapshot, ...]
    roots: dict[str, tuple[int | None, ...]]     # link/hazard roots: slots referred to
    root_words: dict[str, tuple[int, ...]]       # every root's raw words
    retired_by: tuple[int, ...]                  # per slot: retiring thread, or -1


def build_snapshot(info: StructureInfo, *, states, gens, words, shared, decode,
                   retired_by: tuple[int, ...] | None = None) -> Snapshot:
    """A Snapshot from a pool's raw arrays (either build): ``words`` holds
    every node's words in slot order, ``shared`` the structure's shared
    state, ``decode`` maps a reference word to its slot (None: null)."""
    cap, nw = len(states), len(info.fields)
    kinds = [f.kind for f in info.fields]
    slots = []
    for s in range(cap):
        w = tuple(words[s * nw:(s + 1) * nw])
        refs = tuple(decode(x) if k != "data" else None for x, k in zip(w, kinds))
        slots.append(SlotSnapshot(s, slot_state_name(states[s]), gens[s], w, refs))
    roots, root_words = {}, {}
    for r in info.roots:
        vals = tuple(shared[r.offset // 8 + i] for i in range(r.count))
        root_words[r.name] = vals
        if r.kind != "data":
            roots[r.name] = tuple(decode(v) for v in vals)
    return Snapshot(info, tuple(slots), roots, root_words,
                    retired_by if retired_by is not None else (-1,) * cap)


@dataclass(frozen=True)
class NativeChunk:
    """What one call of the native search ran (``Execution.run_native_chunk``)."""

    executions: int
    steps_total: int
    steps_min: int | None
    steps_max: int
    violating: int
    first_violation: int | None     # index in the chunk of the first flagged execution
    coverage: Coverage              # what those executions did


class Execution:
    """A reusable stepped execution (see module docstring)."""

    def __init__(
        self,
        family: str,
        variant: str,
        programs: Sequence[Program],
        *,
        initial: Iterable[int] = (),
        options: dict[str, int] | None = None,
        capacity: int = _defaults.CAPACITY,
        reuse: str = _defaults.REUSE,
        step_cap: int = _defaults.STEP_CAP,
    ) -> None:
        self.structure = info = lookup(family, variant)
        self._ffi, self._lib = (m := native_module(info)).ffi, m.lib
        max_threads, max_capacity = self._lib.LFS_MAX_THREADS, self._lib.LFS_EXEC_MAX_CAPACITY
        if not 1 <= len(programs) <= max_threads:
            raise UsageError(f"an execution needs 1 to {max_threads} threads, got {len(programs)}")
        if not 1 <= capacity <= max_capacity:
            raise UsageError(f"pool capacity must be between 1 and {max_capacity}, got {capacity}")
        if reuse not in REUSE_POLICIES:
            raise UsageError(f"reuse must be one of {', '.join(REUSE_POLICIES)}, got {reuse!r}")
        if step_cap < 1:
            raise UsageError(f"step cap must be at least 1, got {step_cap}")
        self.options = {o.name: v for o, v in zip(info.options, info.option_values(options))}
        self.capacity = capacity
        self.reuse = reuse
        self.step_cap = step_cap
        self.nthreads = len(programs)
        self.programs = [[(op, arg) for op, arg in prog] for prog in programs]
        self.initial = list(initial)
        option_values = self._ffi.new("int64_t[]", list(self.options.values()) or [0])
        ptr = self._lib.lfs_exec_new(
            self._lib.lfs_structure_get(info.index), self.nthreads, capacity,
            reuse_policy_code(reuse), option_values, step_cap,
        )
        if ptr == self._ffi.NULL:
            raise EngineError("the engine could not create the execution (out of memory?)")
        self._ptr = self._ffi.gc(ptr, self._lib.lfs_exec_delete)
        for tid, prog in enumerate(self.programs):
            ops, args = self._encode(prog)
            if self._lib.lfs_exec_set_program(self._ptr, tid, len(prog), ops, args) != 0:
                raise EngineError(f"the engine refused thread {tid}'s program")
        if self.initial and self.structure.insert_op is None:
            raise UsageError(f"{self.structure.name} has no insert operation: no initial contents")
        ops, args = self._encode([(self.structure.insert_op, v) for v in self.initial])
        if self._lib.lfs_exec_set_setup(self._ptr, len(self.initial), ops, args) != 0:
            raise EngineError("the engine refused the initial contents")
        self._step = self._lib.lfs_exec_step
        self._node_bytes = None

    # ------------------------------------------------------------------
    def _encode(self, prog: Program):
        ops, args = [], []
        for op, arg in prog:
            index = self.structure.op_index(op)
            info = self.structure.ops[index]
            if info.takes_arg:
                if isinstance(arg, bool) or not isinstance(arg, int) or not -(2**63) <= arg < 2**63:
                    raise UsageError(f"operation {op} needs a 64-bit integer argument, got {arg!r}")
            elif arg is not None:
                raise UsageError(f"operation {op} takes no argument, got {arg!r}")
            ops.append(index)
            args.append(arg or 0)
        return self._ffi.new("int32_t[]", ops or [0]), self._ffi.new("int64_t[]", args or [0])

    # ------------------------------------------------------------------
    def start(self) -> int:
        """Reset and run every thread up to its first shared action. Returns
        the enabled mask (0 if setup failed, e.g. initial contents larger
        than the pool: see ``violations()``)."""
        return max(self._lib.lfs_exec_start(self._ptr), 0)

    def step(self, tid: int) -> int:
        """Run one step of thread tid; returns the new enabled mask."""
        mask = self._step(self._ptr, tid)
        if mask < 0:
            raise EngineError(f"thread {tid} is not enabled")
        return mask

    def run(self, choices: Iterable[int]) -> int:
        """Start, then step the threads named by choices (each must be
        enabled). Returns the mask left when choices ran out."""
        mask = self.start()
        step = self._step
        ptr = self._ptr
        for tid in choices:
            if not mask:
                break
            mask = step(ptr, tid)
            if mask < 0:
                raise EngineError(f"schedule names thread {tid}, which is not enabled")
        return mask

    def enabled(self) -> int:
        return self._lib.lfs_exec_enabled(self._ptr)

    @property
    def status(self) -> str:
        return _c().status[self._lib.lfs_exec_status(self._ptr)]

    @property
    def steps(self) -> int:
        return self._lib.lfs_exec_steps(self._ptr)

    def thread_op(self, tid: int) -> int:
        """Index in its program of the operation thread tid is in, -1 when done."""
        return self._lib.lfs_exec_thread_op(self._ptr, tid)

    def thread_pending(self, tid: int) -> str | None:
        """The kind of thread tid's next step (e.g. "wait" while it blocks), or None."""
        kind = self._lib.lfs_exec_thread_pending(self._ptr, tid)
        return None if kind < 0 else _c().event_kind[kind]

    def event_count(self) -> int:
        """Events recorded so far in this execution."""
        return self._lib.lfs_exec_event_count(self._ptr)

    # ------------------------------------------------------------------
    # Fast paths for search loops: no per-step checks or Python objects.

    def stepper(self) -> Callable[[int], int]:
        """A bare step function for tight scheduling loops: ``step(tid)``
        returns the new enabled mask, or a negative number when thread tid
        was not enabled (no exception: the loop decides)."""
        return partial(self._step, self._ptr)

    def native_search_params(self, policy_code: int, *, depth: int = 3, k: int = 1,
                             kinds: Collection[str] | None = None):
        """Validated parameters of the native search (native/engine/search.c)
        under the policy with this code (``stress.schedulers.NATIVE_POLICIES`` names it),
        stopping at the engine-visible ``kinds`` (None: at any). Opaque: pass
        them to ``run_native_chunk`` and ``native_choices``."""
        params = self._ffi.new("lfs_search_params_t *")
        params.want_kinds = engine_kind_mask(kinds)
        params.policy = policy_code
        params.nthreads = self.nthreads
        params.pct_depth = depth
        params.pct_k = k
        if not self._lib.lfs_search_params_valid(params):
            raise UsageError(f"invalid native search parameters (policy {policy_code}, depth {depth}, k {k})")
        return params

    def run_native_chunk(self, params, first_seed: int, count: int, *,
                         stop_at_violation: bool) -> "NativeChunk":
        """Run executions seeded first_seed, first_seed+1, ... whole in C;
        with stop_at_violation, stop after the first one the engine flags."""
        out = self._ffi.new("lfs_search_stats_t *")
        self._lib.lfs_search_run(self._ptr, params, first_seed, count, 1 if stop_at_violation else 0, out)
        return NativeChunk(out.executions, out.steps_total, out.steps_min if out.executions else None,
                           out.steps_max, out.violating,
                           out.first_violation if out.first_violation >= 0 else None,
                           Coverage.from_native(out.coverage, self.structure))

    def native_choices(self, params, seed: int) -> list[int]:
        """The thread choices the native search makes for one seed (the
        execution is left ended)."""
        size = 1024
        while True:
            buf = self._ffi.new("uint8_t[]", size)
            n = self._lib.lfs_search_one(self._ptr, params, seed, buf, size)
            if n >= 0:
                return list(self._ffi.unpack(buf, n))
            size *= 8

    def coverage_tally(self):
        """A zeroed C ``lfs_coverage_t`` for ``add_coverage`` (stress.coverage.Tally)."""
        return self._ffi.new("lfs_coverage_t *")

    def add_coverage(self, tally) -> None:
        """Add what the execution that ran last did to a ``coverage_tally``:
        one call, counted by the engine."""
        self._lib.lfs_exec_add_coverage(self._ptr, tally)

    # ------------------------------------------------------------------
    def decode_ref(self, word: int) -> int | None:
        slot = self._lib.lfs_exec_decode_ref(self._ptr, word)
        return None if slot < 0 else slot

    def render_word(self, word: int, kind: str) -> str:
        """A word as traces show it: node references by slot, data as integers."""
        if kind == "data":
            return str(word - (1 << 64) if word >= 1 << 63 else word)
        if word == 0:
            return "null"
        slot = self.decode_ref(word)
        if self.structure.ref_encoding == "index":
            tag = word >> 32
            return f"#{slot}/t{tag}" if slot is not None else f"null/t{tag}"
        return f"#{slot}" if slot is not None else "<wild>"

    def location_name(self, slot: int, field: int, elem: int) -> tuple[str, str]:
        """(name, word kind) of an event's location."""
        info = self.structure
        if slot >= 0:
            f = info.fields[field]
            return f"#{slot}.{f.name}", f.kind
        if field < 0:
            return f"shared[{elem}]", "data"
        root = info.roots[field]
        return (root.name if root.count == 1 else f"{root.name}[{elem}]"), root.kind

    def events(self, kinds: Iterable[str] | None = None) -> list[Event]:
        """The trace. ``kinds``: decode only events of these kinds (checks
        that need only invoke/return or the pool's events skip the rest)."""
        n = self._lib.lfs_exec_event_count(self._ptr)
        raw = self._lib.lfs_exec_events(self._ptr)
        ops = self.structure.ops
        c = _c()
        indices: Iterable[int] = range(n)
        if kinds is not None and n:
            # Read just the kind byte of every event, then decode the wanted ones.
            wanted = frozenset(c.event_code[k] for k in kinds)
            size, offset = self._ffi.sizeof("lfs_event_t"), self._ffi.offsetof("lfs_event_t", "kind")
            kind_bytes = memoryview(self._ffi.buffer(raw, n * size))[offset::size]
            indices = [i for i, k in enumerate(kind_bytes) if k in wanted]
        out = []
        for i in indices:
            e = raw[i]
            kind = c.event_kind[e.kind]
            location, word_kind = "", "data"
            value = expected = ""
            op = ""
            if kind in ("invoke", "return"):
                op = ops[e.op].name
                if kind == "invoke":
                    value = str(e.value if e.value < 1 << 63 else e.value - (1 << 64)) if ops[e.op].takes_arg else ""
                elif ops[e.op].returns_value:
                    value = ("empty" if e.status == c.lib.LFS_EMPTY
                             else str(e.value if e.value < 1 << 63 else e.value - (1 << 64)))
                else:
                    value = {c.lib.LFS_OK: "ok", c.lib.LFS_NOMEM: "nomem"}.get(e.status, "empty")
            elif kind in ("alloc", "free", "retire", "reclaim"):
                value, expected = str(e.value), str(e.expected)
            elif kind == "note":
                location = self.location_name(e.slot, e.field, e.elem)[0]
                value, expected = _note_text(e, location), _note_brief(e)
            elif kind not in ("fence", "pause"):
                location, word_kind = self.location_name(e.slot, e.field, e.elem)
                value = self.render_word(e.value, word_kind)
                if kind in ("cas", "cas-fail", "xchg", "faa"):
                    expected = self.render_word(e.expected, word_kind)
            out.append(Event(
                index=i, step=e.step, tid=e.tid, kind=kind, order=c.order[e.order],
                location=location, slot=e.slot, gen=e.gen, value=value, expected=expected,
                op=op, stale=bool(e.flags & c.lib.LFS_EVF_STALE),
                flagged=bool(e.flags & c.lib.LFS_EVF_VIOLATION),
            ))
        return out

    def trace_text(self) -> str:
        """The whole trace, one event a line: the byte-identical replay form."""
        return "".join(f"{e.step:5d} T{e.tid} {e.text()}\n" for e in self.events())

    def history(self) -> History:
        """Operations with invocation/response steps (pending ones: response None)."""
        open_ops: dict[int, Event] = {}
        done: list[Operation] = []
        ops = self.structure.ops
        for e in self.events(("invoke", "return")):
            if e.kind == "invoke":
                open_ops[e.tid] = e
            elif e.kind == "return":
                inv = open_ops.pop(e.tid)
                info = ops[self.structure.op_index(e.op)]
                empty = e.value == "empty"
                result = int(e.value) if info.returns_value and not empty else None
                done.append(Operation(e.tid, e.op, int(inv.value) if inv.value else None,
                                      result, empty, inv.step, e.step))
        for tid, inv in open_ops.items():
            done.append(Operation(tid, inv.op, int(inv.value) if inv.value else None,
                                  None, False, inv.step, None))
        done.sort(key=lambda o: (o.invoke, o.tid))
        return History(done)

    def violations(self) -> list[Violation]:
        """What the engine found at each access (stale writes, ABA, wild
        pointers...), with provenance. Structural checks are in stress.checks."""
        n = self._lib.lfs_exec_violation_count(self._ptr)
        raw = self._lib.lfs_exec_violations(self._ptr)
        return [_engine_violation(self, raw[i]) for i in range(n)]

    def snapshot(self) -> Snapshot:
        lib, ffi, ptr = self._lib, self._ffi, self._ptr
        cap, nw = self.capacity, len(self.structure.fields)
        return build_snapshot(
            self.structure,
            states=ffi.unpack(lib.lfs_exec_slot_states(ptr), cap),
            gens=ffi.unpack(lib.lfs_exec_slot_gens(ptr), cap),
            words=ffi.unpack(lib.lfs_exec_node_words(ptr), cap * nw),
            shared=lib.lfs_exec_shared_words(ptr),
            decode=self.decode_ref,
            retired_by=tuple(ffi.unpack(lib.lfs_exec_slot_retired_by(ptr), cap)),
        )


# What each detail code of a stale access says (enum lfs_violation_detail):
# the one table of these messages.
DETAIL_MESSAGES = {
    "LFS_D_STORE_STALE":
        "stored through a pointer to #{slot} loaded at step {load_step} (generation {gen_loaded})",
    "LFS_D_READ_FREED": "read #{slot} through a pointer loaded at step {load_step} (generation {gen_loaded})",
    "LFS_D_CAS_EXPECTED":
        "CAS succeeded expecting #{slot} as loaded at step {load_step} (generation {gen_loaded})",
    "LFS_D_PUBLISH_FREED": "linked #{slot} into the structure",
    "LFS_D_PUBLISH_STALE":
        "linked #{slot}, known from step {load_step} (generation {gen_loaded}), into the structure",
    "LFS_D_FREE_STALE":
        "freed/retired #{slot} through a pointer loaded at step {load_step} (generation {gen_loaded})",
    "LFS_D_FREE_TWICE": "freed #{slot} again",
    "LFS_D_RETIRE_NOT_LIVE": "retired #{slot}, which is not live",
    "LFS_D_PUBLISH_FROM_STALE": "linked #{other}, which it read from #{slot}'s link at step {load_step} "
                                "when #{slot} was generation {gen_loaded}",
    "LFS_D_RETURN_STALE": "returned a value read from #{slot} through a pointer loaded at step {load_step} "
                          "(generation {gen_loaded})",
}


def _note_text(e, location: str) -> str:
    """A note event in a sentence (its kinds: engine.h, lfs_note_kind)."""
    node = f"#{e.ref_slot}"
    return (f"benign ABA: T{e.tid}'s CAS on {location} expected {node} loaded at step {e.value} "
            f"as generation {e.ref_gen}, now generation {e.expected}; the value written does not "
            f"depend on {node}'s earlier life")


def _note_brief(e) -> str:
    """A note event in a table cell."""
    return f"benign ABA #{e.ref_slot} g{e.ref_gen}→g{e.expected}"


def _who(tid: int) -> str:
    return "setup" if tid < 0 else f"T{tid}"


_SIGNAL_CAUSE = {
    "SIGABRT": "called abort() (a failed assert?)",
    "SIGSEGV": "dereferenced a bad pointer without the primitives",
    "SIGBUS": "dereferenced a misaligned or unmapped address without the primitives",
    "SIGFPE": "divided by zero",
    "SIGILL": "executed an illegal instruction",
}


_CODE_NAME_BYTES = 512


def _code_at(ex: Execution, pc: int) -> str:
    """The function holding an instruction address ("symbol+0xoff in object"),
    else the object and offset."""
    buffer = ex._ffi.new("char[]", _CODE_NAME_BYTES)
    length = ex._lib.lfs_describe_code(pc, buffer, _CODE_NAME_BYTES)
    return ex._ffi.string(buffer, length).decode(errors="replace") if length else "no loaded object"


def _crash_violation(ex: Execution, v) -> Violation:
    """A fatal signal on a virtual thread, blamed on whoever faulted: the
    code under test, its stack running out, or lfstress's own engine."""
    from .contained import signal_name
    name = signal_name(v.detail)
    where = f"T{v.tid}" if v.tid >= 0 else "setup"
    provenance: dict[str, object] = {"signal": name}
    at = accessing = ""
    if v.fault_pc:
        code = _code_at(ex, v.fault_pc)
        provenance.update(pc=hex(v.fault_pc), code=code)
        at = f" at {v.fault_pc:#x} (in {code})"
        if name in ("SIGSEGV", "SIGBUS"):
            provenance["address"] = hex(v.fault_address)
            accessing = f", accessing {v.fault_address:#x}"
    if v.fault_on_guard_page:
        provenance["faulted_in"] = "the code under test"
        message = (f"{where} overflowed its stack at step {v.step}: {name}{at}{accessing}, on the guard page "
                   "below the fiber's stack (recursion too deep or locals too large); the engine caught it "
                   "and ended this execution")
    elif v.fault_in_engine:
        provenance["faulted_in"] = "lfstress"
        message = (f"the harness faulted{at} with {name}{accessing}, while running {where} at step {v.step}: "
                   "this is a bug in lfstress, not in the code under test")
    else:
        if v.fault_pc:
            provenance["faulted_in"] = "the code under test"
        message = (f"{where} crashed with {name} at step {v.step}: the code under test "
                   + _SIGNAL_CAUSE.get(name, "raised a fatal signal")
                   + f"{at}{accessing}; the engine caught it and ended this execution")
    return Violation("crash", message, step=v.step, thread=v.tid if v.tid >= 0 else None,
                     provenance=provenance)


def _engine_violation(ex: Execution, v) -> Violation:
    c = _c()
    kind = c.violation_kind[v.kind]
    if kind in ("wild-pointer",):
        if v.detail == c.lib.LFS_D_MISALIGNED:
            return Violation(kind, f"T{v.tid} accessed a misaligned address (offset {v.address_offset} "
                             "from the pool)", step=v.step, thread=v.tid, provenance={"offset": v.address_offset})
        # Outside: the pool's own address differs per process, the wild one
        # (null + 16, a garbage word) usually does not: show that one.
        base = int(ex._ffi.cast("uintptr_t", ex._lib.lfs_exec_node_words(ex._ptr)))
        address = (base + v.address_offset) % (1 << 64)
        return Violation(kind, f"T{v.tid} accessed address {address:#x}, outside the node pool and the roots",
                         step=v.step, thread=v.tid, provenance={"address": hex(address)})
    if kind == "pool-exhausted":
        return Violation(kind, f"the pool of {ex.capacity} nodes ran out"
                         + (f" (T{v.tid}, step {v.step})" if v.tid >= 0 else " during setup"),
                         step=v.step, thread=v.tid if v.tid >= 0 else None)
    if kind == "livelock":
        return Violation(kind, f"the execution exceeded its step cap of {ex.step_cap} steps",
                         step=v.step)
    if kind == "crash":
        return _crash_violation(ex, v)
    if kind == "deadlock":
        return Violation(kind, "no thread can run (all wait), but some have not finished", step=v.step)
    fields = {
        "slot": v.slot, "load_step": v.load_step,
        "gen_loaded": None if v.gen_loaded == c.lib.LFS_GEN_UNKNOWN else v.gen_loaded,
        "gen_now": v.gen_now, "state_now": c.slot_state[v.state_now],
        "freed_by": _who(v.freed_by), "freed_step": v.freed_step,
        "allocated_by": _who(v.alloc_by), "allocated_step": v.alloc_step,
    }
    if v.other_slot >= 0:
        fields["linked"] = v.other_slot
    detail = DETAIL_MESSAGES.get(c.detail.get(v.detail, ""), "touched #{slot}").format(other=v.other_slot, **fields)
    history = f"#{v.slot} was freed by {fields['freed_by']} at step {v.freed_step}"
    if fields["gen_loaded"] is not None and v.gen_now != fields["gen_loaded"]:
        history += (f" and reallocated by {fields['allocated_by']} at step {v.alloc_step}"
                    f" as generation {v.gen_now}")
        if fields["state_now"] == "FREE":
            history += ", since freed again"
    elif v.detail not in (c.lib.LFS_D_FREE_TWICE, c.lib.LFS_D_RETIRE_NOT_LIVE) and fields["state_now"] != "FREE":
        history = f"#{v.slot} is generation {v.gen_now} ({fields['state_now']})"
    message = f"T{v.tid} {detail}; {history}"
    return Violation(kind, message, step=v.step, thread=v.tid, slots=(v.slot,), provenance=fields)
