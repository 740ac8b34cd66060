"""Bring your own structure: the Treiber stack family, structure
files compiled from outside the repository, compile errors, and the rule that
the built-in structures use nothing but the public header."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stress.checks import check_execution
from stress.cli import main
from stress.engine import Execution
from stress.search import explore
from stress.scenario import load
from stress.structures import catalogue, load_source, lookup, native_module

ROOT = Path(__file__).resolve().parent.parent
NATIVE = ROOT / "native"
SCHEDULERS = ("random", "pct", "urw", "exhaustive", "hypothesis")

# A user's stack, written only against the documented header: what
# docs/structures.md tells people to write. Family "tmpstack", so it cannot
# clash with anything in the repository.
USER_STACK = r"""
#include "lfstress.h"

typedef struct node { lfs_word_t next, value; } node_t;
typedef struct shared { lfs_word_t top; } shared_t;

static int init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    lfs_store(&((shared_t *)shared)->top, LFS_REF_NULL, LFS_RELAXED);
    return LFS_OK;
}

static int push(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    shared_t *s = shared;
    node_t *n = lfs_node_alloc();
    if (n == NULL)
        return LFS_NOMEM;
    lfs_init_store(&n->value, value);
    lfs_word_t top = lfs_load(&s->top, LFS_ACQUIRE);
    do
        lfs_init_store(&n->next, top);
    while (!lfs_cas(&s->top, &top, (lfs_word_t)(uintptr_t)n, LFS_RELEASE));
    return LFS_OK;
}

static int pop(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    shared_t *s = shared;
    lfs_word_t top, value;
    for (;;) {
        top = lfs_load(&s->top, LFS_ACQUIRE);
        if (top == LFS_REF_NULL)
            return LFS_EMPTY;
        node_t *t = (node_t *)(uintptr_t)top;
        lfs_word_t next = lfs_load(&t->next, LFS_RELAXED);
        value = lfs_load(&t->value, LFS_RELAXED);
        if (lfs_cas(&s->top, &top, next, LFS_RELEASE))
            break;
    }
    lfs_node_free((void *)(uintptr_t)top);
    *result = value;
    return LFS_OK;
}

const lfs_structure_t tmp_stack_naive = {
    .family = "tmpstack", .variant = "naive", .summary = "a test's naive Treiber stack",
    .spec = "stack", .ref_encoding = LFS_REF_POINTER, .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(shared_t), .node_words = 2,
    .fields = { { "next", LFS_LINK }, { "value", LFS_DATA } },
    .n_roots = 1, .roots = { { "top", 0, 1, LFS_LINK } },
    .n_ops = 2, .ops = { { "push", true, false, push }, { "pop", false, true, pop } },
    .init = init,
};

LFS_EXPORT_STRUCTURES(&tmp_stack_naive);
"""

USER_SCENARIO = """
# A structure from outside lfstress: its ABA must be found like a built-in's.
[scenario]
structure = "tmpstack"
source = "tmp_stack.c"
initial = [1, 2, 3]
[threads]
programs = [["pop"], ["pop", "pop", "push 4", "push 5"]]
[search]
executions = 500
[variants]
naive = { expect = "bug", kinds = ["aba"] }
"""


@pytest.fixture
def user_dir(tmp_path: Path, build_cache: Path) -> Path:
    """A directory outside the repository with a structure file and its scenario."""
    assert ROOT not in tmp_path.parents
    (tmp_path / "tmp_stack.c").write_text(USER_STACK)
    (tmp_path / "tmp_stack.toml").write_text(USER_SCENARIO)
    return tmp_path


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "LFSTRESS_CACHE": str(cache)}


# ----------------------------------------------------------------------
# The Treiber stack family (built in)

def test_treiber_is_in_the_catalogue():
    for variant in ("naive", "tagged", "hazard"):
        info = lookup("treiber", variant)
        assert info.spec == "stack"
        assert [(op.name, op.takes_arg, op.returns_value) for op in info.ops] == [
            ("push", True, False), ("pop", False, True)]
        assert [r.name for r in info.roots if r.kind == "link"] == ["top"]
    assert [o.name for o in lookup("treiber", "tagged").options] == ["tag_bits"]


def _pop_pop_push_push(variant: str, **options) -> Execution:
    """T0 reads top, next and value, then pauses; T1 pops twice and pushes
    twice (A comes back at top); then T0 finishes."""
    ex = Execution("treiber", variant, [[("pop", None)], [("pop", None), ("pop", None), ("push", 4), ("push", 5)]],
                   initial=[1, 2, 3], options=options or None)
    mask = ex.start()
    for _ in range(3):
        mask = ex.step(0)
    while mask & 2:
        mask = ex.step(1)
    while mask:
        mask = ex.step(0)
    return ex


def test_treiber_naive_story_loses_a_value_and_duplicates_another():
    result = check_execution(_pop_pop_push_push("naive"))
    assert result.decisive.kind == "aba"
    assert {"aba", "duplicate-value", "lost-value", "not-linearizable"} <= result.kinds
    lost = next(v for v in result.violations if v.kind == "lost-value")
    assert "5" in lost.message


@pytest.mark.parametrize("variant, options", [("tagged", {}), ("hazard", {"hp_threshold": 1})])
def test_treiber_protected_variants_survive_the_story(variant, options):
    ex = _pop_pop_push_push(variant, **options)
    assert check_execution(ex).ok
    from stress.checks.reachability import draw_queue, stack_contents
    assert stack_contents(ex.snapshot()) == [1, 4]   # T0 retried and popped 5
    assert draw_queue(ex.snapshot()).startswith("top → ")


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_treiber_naive_aba_found_by_every_scheduler(scheduler):
    target = load(ROOT / "scenarios" / "treiber_aba.toml").target("naive")
    result = explore(target, scheduler, executions=2000, seconds=10, shrink=False)
    assert result.failure is not None, f"{scheduler} did not find the Treiber ABA"
    decisive = result.failure.result.decisive
    assert decisive.kind == "aba"
    provenance = decisive.provenance
    assert provenance["gen_loaded"] is not None and provenance["gen_now"] > provenance["gen_loaded"]
    assert provenance["freed_by"].startswith("T") and provenance["allocated_by"].startswith("T")


@pytest.mark.parametrize("variant", ["tagged", "hazard"])
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_treiber_protected_variants_clean_under_every_scheduler(variant, scheduler):
    target = load(ROOT / "scenarios" / "treiber_aba.toml").target(variant)
    result = explore(target, scheduler, executions=200, shrink=False)
    assert result.failure is None, result.failure and result.failure.result.decisive.message


# ----------------------------------------------------------------------
# Structure files of the user's own

def test_user_structure_loads_into_both_builds(user_dir):
    (info,) = load_source(user_dir / "tmp_stack.c")
    assert info.name == "tmpstack/naive" and info.build and info.source == str(user_dir / "tmp_stack.c")
    assert catalogue()["tmpstack/naive"] == info
    free = native_module(info, "free")
    assert free.ffi.string(free.lib.lfs_structure_get(info.index).family) == b"tmpstack"
    ex = Execution("tmpstack", "naive", [[("push", 7)], [("pop", None)]])
    mask = ex.start()
    while mask:
        mask = ex.step((mask & -mask).bit_length() - 1)   # lowest enabled thread
    assert check_execution(ex).ok and ex.status == "done"
    # Loading it again (same content, another path) is the same build.
    assert load_source(user_dir / "tmp_stack.c") == (info,)


def test_user_structure_runs_under_lfstress_run_and_pytest(user_dir, build_cache):
    run = subprocess.run([sys.executable, "-m", "stress", "run", "tmp_stack.toml"], cwd=user_dir,
                         env=_env(build_cache), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tmp_stack.toml::naive" in run.stdout and "found the known bug (aba" in run.stdout
    token = re.search(r"lfstress replay (\S+)", run.stdout).group(1)
    replayed = subprocess.run([sys.executable, "-m", "stress", "replay", token], cwd=user_dir,
                              env=_env(build_cache), capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 1 and "ABA at step" in replayed.stdout, replayed.stderr
    tested = subprocess.run([sys.executable, "-m", "pytest", "tmp_stack.toml", "-q", "-p", "no:cacheprovider",
                             "-p", "no:randomly"], cwd=user_dir, env=_env(build_cache),
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


def test_compile_error_names_file_and_line(tmp_path, build_cache, capsys):
    lines = USER_STACK.splitlines()
    broken_at = next(i for i, line in enumerate(lines, 1) if "lfs_node_free" in line)
    lines[broken_at - 1] = "    lfs_node_free(undeclared_thing);"
    bad = tmp_path / "broken.c"
    bad.write_text("\n".join(lines) + "\n")
    (tmp_path / "broken.toml").write_text(USER_SCENARIO.replace("tmp_stack.c", "broken.c"))

    assert main(["build", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:{broken_at}:" in err and "error:" in err and "undeclared_thing" in err
    assert "Traceback" not in err

    assert main(["run", str(tmp_path / "broken.toml")]) == 2
    err = capsys.readouterr().err
    assert "scenario.source" in err and f"{bad}:{broken_at}:" in err


def test_missing_export_and_missing_file(tmp_path, build_cache, capsys):
    quiet = tmp_path / "no_export.c"
    quiet.write_text(USER_STACK.replace("LFS_EXPORT_STRUCTURES(&tmp_stack_naive);", ""))
    assert main(["build", str(quiet)]) == 2
    assert "exports no structures" in capsys.readouterr().err
    (tmp_path / "gone.toml").write_text(USER_SCENARIO.replace("tmp_stack.c", "gone.c"))
    assert main(["run", str(tmp_path / "gone.toml")]) == 2
    assert "scenario.source" in capsys.readouterr().err


def test_user_file_cannot_redefine_a_builtin(tmp_path, build_cache):
    clash = tmp_path / "clash.c"
    clash.write_text(USER_STACK.replace('"tmpstack"', '"treiber"'))
    with pytest.raises(Exception, match="built in"):
        load_source(clash)


# ----------------------------------------------------------------------
# The built-in structures use the public API only

# Headers a structure may include: the public ones (native/include/: the API,
# the helpers written against it), a family's own shared header beside it,
# and the registry's extern declarations.
PUBLIC_HEADERS = {p.name for p in (NATIVE / "include").glob("*.h")} | {"structures/builtin.h"}
INTERNALS = re.compile(r"\b(lfs_exec_\w+|lfs_run_\w+|cur_ex|cur_t|LFS_SLOT_\w+|lfs_fiber\w*|"
                       r"lfs_vthread\w*|lfs_options_fill|struct lfs_options\b)")


def _structure_files() -> list[Path]:
    """Everything written against the public API (not the API itself)."""
    folders = [NATIVE / "structures", NATIVE / "reclaim", NATIVE / "include"]
    return sorted(p for folder in folders for p in folder.rglob("*")
                  if p.suffix in (".c", ".h") and p.name != "lfstress.h")


def test_builtin_structures_include_only_the_public_header():
    files = _structure_files()
    assert {p.relative_to(NATIVE).as_posix() for p in files} >= {
        "structures/treiber/naive.c", "structures/treiber/tagged.c", "structures/treiber/hazard.c",
        "structures/msqueue/naive.c", "reclaim/hazard.c"}
    for path in files:
        text = path.read_text()
        for header in re.findall(r'#\s*include\s*"([^"]+)"', text):
            family_header = (path.parent / header).is_file() and "structures" in path.parts
            assert header in PUBLIC_HEADERS or family_header, f"{path.name} includes private {header}"
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)
        hit = INTERNALS.search(code)
        assert hit is None, f"{path.name} uses the engine's internal {hit.group(0)}"


def test_example_ring_buffer_is_outside_the_builtins():
    example = ROOT / "scenarios" / "examples" / "ring_buffer.c"
    assert "ring/vyukov" not in {k for k, v in catalogue().items() if not v.build}
    assert re.findall(r'#\s*include\s*"([^"]+)"', example.read_text()) == ["lfstress.h"]
