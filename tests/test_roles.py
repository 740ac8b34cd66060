"""The structure declares its roles, and C constants live once.

Roles (lfstress.h, "Roles"): every built-in declares them and Python reads
them; a user's structure whose names are nothing like the built-ins' gets
the same checks, generators and benchmark hooks; a file that declares no
roles gets the documented defaults. Constants: Python reads them from the
library, the cffi declarations are the headers' own, defaults agree.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from stress import _defaults, _native
from stress.checks import check_execution
from stress.cli import main
from stress.engine import EVENT_KIND_NAMES, Execution, _c
from stress.errors import UsageError
from stress.schedulers import run_choices
from stress.strategies import programs
from stress.structures import _check_roles, catalogue, load_source, lookup, native_module
from stress.token import Target, decode, encode
from tests.test_user_structures import USER_STACK

ROOT = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------------
# The built-ins

QUEUE_ROLES = dict(insert_op="enqueue", remove_op="dequeue", chain_entry="head", chain_exit="tail",
                   sentinel=True)
STACK_ROLES = dict(insert_op="push", remove_op="pop", chain_entry="top", chain_exit=None, sentinel=False)
RECLAIM = {"hazard": ("hazard", "hp_threshold", True), "epoch": ("epoch", "epoch_threshold", True)}


@pytest.mark.parametrize("name", [n for n in catalogue() if not n.startswith("testonly/")])
def test_every_builtin_declares_its_roles(name):
    info = catalogue()[name]
    expected = QUEUE_ROLES if info.family == "msqueue" else STACK_ROLES
    assert {k: getattr(info, k) for k in expected} == expected
    assert info.fields[info.value_field].name == "value" and info.fields[info.next_field].name == "next"
    # Declared, not defaulted: the descriptor says what each part is for.
    assert {op.name: op.role for op in info.ops} == {expected["insert_op"]: "insert",
                                                    expected["remove_op"]: "remove"}
    assert {f.role for f in info.fields} == {"value", "next"}
    roles = {r.name: r.role for r in info.roots}
    assert roles[expected["chain_entry"]] == "entry"
    assert all(role == "reclaim" for n, role in roles.items() if n in ("hazard", "epoch", "announce"))
    scheme, option, can_stall = RECLAIM.get(info.variant, ("none", None, False))
    assert (info.reclaim.scheme, info.reclaim.threshold_option, info.reclaim.can_stall) == (scheme, option, can_stall)


def test_test_only_structures_have_no_insert_or_remove():
    for name, info in catalogue().items():
        if name.startswith("testonly/"):
            assert info.insert_op is info.remove_op is info.chain_entry is None
            assert all(op.role == "other" for op in info.ops)


# ----------------------------------------------------------------------
# A user's queue with names of its own: ops put/take (and a probe that is
# neither, first in the table), roots last/first (exit declared before the
# entry), fields payload/link (value before link).

USER_FIFO = r"""
#include "lfstress.h"

typedef struct node { lfs_word_t payload, link; } node_t;
typedef struct fifo { lfs_word_t last, first, stalls; } fifo_t;

static lfs_word_t ref(node_t *n) { return (lfs_word_t)(uintptr_t)n; }
static node_t *ptr(lfs_word_t w) { return (node_t *)(uintptr_t)w; }

static int init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    fifo_t *q = shared;
    node_t *dummy = lfs_node_alloc();
    if (dummy == NULL)
        return LFS_NOMEM;
    lfs_init_store(&dummy->link, LFS_REF_NULL);
    lfs_init_store(&dummy->payload, 0);
    lfs_store(&q->first, ref(dummy), LFS_RELAXED);
    lfs_store(&q->last, ref(dummy), LFS_RELAXED);
    lfs_store(&q->stalls, 0, LFS_RELAXED);
    return LFS_OK;
}

static node_t *fresh(lfs_word_t value)
{
    node_t *n = lfs_node_alloc();
    if (n != NULL) {
        lfs_init_store(&n->payload, value);
        lfs_init_store(&n->link, LFS_REF_NULL);
    }
    return n;
}

/* Appends with a load and two stores: two puts can both link after the
 * same node, and last can end up off the chain. */
static int racy_put(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    fifo_t *q = shared;
    node_t *n = fresh(value);
    if (n == NULL)
        return LFS_NOMEM;
    node_t *last = ptr(lfs_load(&q->last, LFS_ACQUIRE));
    lfs_store(&last->link, ref(n), LFS_RELEASE);
    lfs_store(&q->last, ref(n), LFS_RELEASE);
    return LFS_OK;
}

/* Michael & Scott's enqueue. */
static int put(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    fifo_t *q = shared;
    node_t *n = fresh(value);
    if (n == NULL)
        return LFS_NOMEM;
    for (;;) {
        lfs_word_t last = lfs_load(&q->last, LFS_ACQUIRE);
        lfs_word_t next = lfs_load(&ptr(last)->link, LFS_ACQUIRE);
        if (last != lfs_load(&q->last, LFS_RELAXED))
            continue;
        lfs_word_t expected = next;
        if (next == LFS_REF_NULL) {
            if (lfs_cas(&ptr(last)->link, &expected, ref(n), LFS_RELEASE)) {
                expected = last;
                lfs_cas(&q->last, &expected, ref(n), LFS_RELEASE);
                return LFS_OK;
            }
        } else {
            expected = last;
            lfs_cas(&q->last, &expected, next, LFS_RELEASE);
        }
    }
}

/* Michael & Scott's dequeue; the old sentinel is retired, never freed, so
 * no node is reused. */
static int take(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    fifo_t *q = shared;
    for (;;) {
        lfs_word_t first = lfs_load(&q->first, LFS_ACQUIRE);
        lfs_word_t last = lfs_load(&q->last, LFS_ACQUIRE);
        lfs_word_t next = lfs_load(&ptr(first)->link, LFS_ACQUIRE);
        if (first != lfs_load(&q->first, LFS_RELAXED))
            continue;
        if (next == LFS_REF_NULL)
            return LFS_EMPTY;
        lfs_word_t expected = last;
        if (first == last) {
            lfs_cas(&q->last, &expected, next, LFS_RELEASE);
            continue;
        }
        lfs_word_t value = lfs_load(&ptr(next)->payload, LFS_RELAXED);
        expected = first;
        if (lfs_cas(&q->first, &expected, next, LFS_RELEASE)) {
            lfs_node_retire(ptr(first), 0);
            *result = value;
            return LFS_OK;
        }
    }
}

/* Neither inserts nor removes. */
static int probe(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    *result = lfs_load(&((fifo_t *)shared)->stalls, LFS_RELAXED);
    return LFS_OK;
}

/* Reclamation hooks: a stall is counted, and the unreclaimed count says so. */
static int stall(void *shared, void *local)
{
    lfs_fetch_add(&((fifo_t *)shared)->stalls, 1, LFS_RELAXED);
    return 0;
}
static void unstall(void *shared, void *local)
{
    lfs_fetch_add(&((fifo_t *)shared)->stalls, (lfs_word_t)-1, LFS_RELAXED);
}
static uint64_t unreclaimed(void *shared)
{
    return 1000 + lfs_load(&((fifo_t *)shared)->stalls, LFS_RELAXED);
}

#define FIFO(name, put_fn)                                                            \
    const lfs_structure_t fifo_##name = {                                           \
        .family = "fifo", .variant = #name, .summary = "a test's queue, own names",  \
        .spec = "queue", .ref_encoding = LFS_REF_POINTER,                           \
        .memory_promise = LFS_NO_STALE_ACCESS, .shared_size = sizeof(fifo_t),       \
        .node_words = 2,                                                            \
        .fields = { { "payload", LFS_DATA, LFS_FIELD_VALUE },                       \
                    { "link", LFS_LINK, LFS_FIELD_NEXT } },                         \
        .n_roots = 3,                                                               \
        .roots = { { "last", offsetof(fifo_t, last), 1, LFS_LINK, LFS_ROOT_EXIT },  \
                   { "first", offsetof(fifo_t, first), 1, LFS_LINK, LFS_ROOT_ENTRY },\
                   { "stalls", offsetof(fifo_t, stalls), 1, LFS_DATA,               \
                     LFS_ROOT_RECLAIM } },                                          \
        .n_ops = 3,                                                                 \
        .ops = { { "probe", false, true, probe, LFS_OP_OTHER },                     \
                 { "put", true, false, put_fn, LFS_OP_INSERT },                     \
                 { "take", false, true, take, LFS_OP_REMOVE } },                    \
        .init = init,                                                               \
        .chain_start = LFS_CHAIN_SENTINEL,                                          \
        .reclaim = { .scheme = LFS_RECLAIM_OTHER, .stall = stall,                   \
                     .unstall = unstall, .unreclaimed = unreclaimed },              \
    }

FIFO(racy, racy_put);
FIFO(ms, put);

LFS_EXPORT_STRUCTURES(&fifo_racy, &fifo_ms);
"""

USER_FIFO_SCENARIO = """
[scenario]
structure = "fifo"
source = "fifo.c"
[threads.generate]
threads = 2
operations = 3
rounds = 4
[search]
schedulers = ["random"]
executions = 300
[variants]
racy = { expect = "bug", kinds = ["severed", "lost-value", "leak"] }
ms = { expect = "clean" }
"""


@pytest.fixture
def user_fifo(tmp_path, build_cache):  # noqa: F811  (the imported fixture)
    (tmp_path / "fifo.c").write_text(USER_FIFO)
    (tmp_path / "fifo.toml").write_text(USER_FIFO_SCENARIO)
    load_source(tmp_path / "fifo.c")
    return tmp_path


def test_user_roles_are_read_as_declared(user_fifo):
    info = lookup("fifo", "ms")
    assert (info.insert_op, info.remove_op, info.chain_entry, info.chain_exit) == ("put", "take", "first", "last")
    assert info.sentinel and info.fields[info.value_field].name == "payload"
    assert info.fields[info.next_field].name == "link"
    assert (info.reclaim.scheme, info.reclaim.can_stall) == ("other", True)
    assert info.describe()["roles"]["remove"] == "take"


def test_build_says_the_roles_in_force(user_fifo, capsys):
    assert main(["build", str(user_fifo / "fifo.c")]) == 0
    assert ("roles: insert put, remove take; chain first -> last (after a sentinel), value payload, "
            "next link; reclaim other") in capsys.readouterr().out


def _every_interleaving(target: Target) -> set[str]:
    """Violation kinds over every schedule of a small program (depth first)."""
    ex = target.execution()
    kinds: set[str] = set()
    todo = [()]
    while todo:
        prefix = todo.pop()
        mask = ex.run(prefix)
        if not mask:
            kinds |= check_execution(ex).kinds
            continue
        todo += [(*prefix, tid) for tid in range(ex.nthreads) if mask >> tid & 1]
    return kinds


def test_user_queue_gets_the_structural_and_value_checks(user_fifo):
    racy = _every_interleaving(Target("fifo", "racy", ((("put", 1),), (("put", 2),))))
    assert {"severed", "leak", "lost-value"} <= racy
    assert _every_interleaving(Target("fifo", "ms", ((("put", 1),), (("take", None),)), initial=(7,))) == set()
    # The value checks ran against the queue spec, with the structure's names.
    ms = Target("fifo", "ms", ((("put", 1), ("take", None)), (("put", 2), ("take", None))), initial=(7,))
    ex = ms.execution()
    run_choices(ex, [])
    result = check_execution(ex)
    assert result.ok and result.linearizability.ok
    assert [op.op for op in result.linearizability.witness] == ["put", "take", "put", "take"]
    assert ex.snapshot().roots["first"] != (None,)


def test_user_queue_runs_as_a_generated_scenario(user_fifo, capsys):
    assert main(["run", str(user_fifo / "fifo.toml")]) == 0
    out = capsys.readouterr().out
    assert "racy" in out and "found the known bug" in out


def test_generators_draw_the_declared_operations(user_fifo):
    @settings(max_examples=30, deadline=None)
    @given(programs("fifo", threads=2, max_operations=4))
    def draws(progs):
        assert {op for prog in progs for op, _ in prog} <= {"put", "take"}
    draws()


@pytest.fixture
def plain_stack(tmp_path, build_cache):  # noqa: F811
    """test_user_structures.py's stack (no roles), as a family of its own."""
    (tmp_path / "plain_stack.c").write_text(USER_STACK.replace('"tmpstack"', '"plainstack"'))
    load_source(tmp_path / "plain_stack.c")
    return tmp_path


def test_a_file_without_roles_gets_the_defaults(plain_stack):
    info = lookup("plainstack", "naive")
    assert all(not x.role for x in (*info.ops, *info.roots, *info.fields))
    assert (info.insert_op, info.remove_op, info.chain_entry, info.chain_exit) == ("push", "pop", "top", None)
    assert not info.sentinel and info.reclaim.scheme == "none" and not info.reclaim.can_stall
    assert info.fields[info.value_field].name == "value" and info.fields[info.next_field].name == "next"
    ex = Execution("plainstack", "naive", [[("push", 3)], [("pop", None)]], initial=[1, 2])
    run_choices(ex, [])
    assert check_execution(ex).linearizability.ok


# ----------------------------------------------------------------------
# Reclamation hooks drive the benchmark's stalled thread

def _bench_stall(module, index: int) -> tuple[int, int]:
    """(stalled, unreclaimed peak) of a short 2-thread run, one thread stalled."""
    ffi, lib = module.ffi, module.lib
    run = lib.lfs_run_new(lib.lfs_structure_get(index), 2, 4096, ffi.NULL)
    target = lib.lfs_bench_target_for_run(run)
    try:
        cfg = ffi.new("lfs_bench_config_t *")
        cfg.threads, cfg.workload, cfg.prefill = 2, lib.LFS_WL_PAIRS, 10
        cfg.seconds, cfg.max_ops, cfg.stall, cfg.sample_interval = 0.05, 2000, 1, 0.001
        res = ffi.new("lfs_bench_result_t *")
        assert lib.lfs_bench_run(target, cfg, res) == 0
        return res.stalled, res.unreclaimed_peak
    finally:
        lib.free(target)
        lib.lfs_run_delete(run)


def test_the_benchmark_stalls_through_the_declared_hooks(user_fifo):
    info = lookup("fifo", "ms")
    stalled, peak = _bench_stall(native_module(info, "free"), info.index)
    assert stalled == 1 and peak == 1001      # the structure's own unreclaimed count, stall counted
    treiber = lookup("treiber", "hazard")      # no root names consulted: any structure with hooks
    assert _bench_stall(_native.free(), treiber.index)[0] == 1
    naive = lookup("msqueue", "naive")
    assert _bench_stall(_native.free(), naive.index)[0] == 0


# ----------------------------------------------------------------------
# Declarations that cannot mean what they say

def test_contradictory_roles_are_refused_by_name(tmp_path, build_cache):  # noqa: F811
    source = (USER_FIFO.replace('"fifo"', '"badfifo"')
              .replace('"put", true, false, put_fn, LFS_OP_INSERT', '"put", true, false, put_fn, LFS_OP_OTHER')
              .replace('"take", false, true, take, LFS_OP_REMOVE', '"take", false, true, take, LFS_OP_INSERT'))
    (tmp_path / "bad.c").write_text(source)
    with pytest.raises(UsageError, match=r"bad\.c: badfifo/racy: operation 'take' is LFS_OP_INSERT but takes no argument"):
        load_source(tmp_path / "bad.c")


@pytest.mark.parametrize("change, message", [
    (lambda i: dict(roots=tuple(dataclasses.replace(r, role="entry") if r.role == "exit" else r for r in i.roots)),
     "more than one root declares the role 'entry'"),
    (lambda i: dict(roots=tuple(dataclasses.replace(r, role={"announce": "exit", "tail": ""}.get(r.name, r.role))
                                for r in i.roots)),
     "root 'announce' is the chain's exit but not one LFS_LINK word"),
    (lambda i: dict(fields=(dataclasses.replace(i.fields[0], role="value"), dataclasses.replace(i.fields[1], role=""))),
     "field 'next' declares the role 'value' but is not a data word"),
    (lambda i: dict(reclaim=dataclasses.replace(i.reclaim, threshold_option="nope")),
     "reclaim.threshold_option 'nope' is not one of its options"),
    (lambda i: dict(reclaim=dataclasses.replace(i.reclaim, scheme="hazard", threshold_option=None)),
     "LFS_RECLAIM_HAZARD needs reclaim.threshold_option"),
])
def test_each_contradiction_has_its_message(change, message):
    info = lookup("msqueue", "epoch")
    with pytest.raises(UsageError, match=re.escape(message)):
        _check_roles("x.c: msqueue/epoch", dataclasses.replace(info, **change(info)))


# ----------------------------------------------------------------------
# Constants and defaults

def test_every_event_kind_and_detail_has_a_name():
    c = _c()
    assert len(EVENT_KIND_NAMES) == c.lib.LFS_EV_KIND_COUNT
    assert sorted(c.event_kind) == list(range(c.lib.LFS_EV_KIND_COUNT))
    assert len(set(c.detail.values())) == len(c.detail)


def _build_script():
    spec = importlib.util.spec_from_file_location("lfs_build_cffi", ROOT / "native" / "build_cffi.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lfs_build_cffi", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("define", ["LFS_BUILD_STEPPED", "LFS_BUILD_FREE"])
def test_cffi_declarations_are_the_headers_and_say_each_constant_once(define):
    text = _build_script().cdef_text(define)
    names = re.findall(r"#define\s+(\w+)", text) + re.findall(r"^\s*(LFS_\w+)\s*=", text, re.M)
    assert "LFS_MAX_THREADS" in names and len(names) == len(set(names))
    assert not (ROOT / "native" / "cdef").exists()


def test_defaults_agree_and_old_tokens_keep_theirs():
    target = Target("msqueue", "naive", ((("enqueue", 1),),))
    ex = Execution("msqueue", "naive", [[("enqueue", 1)]])
    assert (ex.capacity, ex.reuse, ex.step_cap) == (target.capacity, target.reuse, target.step_cap) == (
        _defaults.CAPACITY, _defaults.REUSE, _defaults.STEP_CAP) == (16, "lifo", 10_000)
    # A token leaves the defaults out and reads them back; others it carries.
    assert decode(encode(target, [0])).target == target
    bigger = dataclasses.replace(target, capacity=32)
    assert len(encode(bigger, [0])) > len(encode(target, [0])) and decode(encode(bigger, [0])).target == bigger
