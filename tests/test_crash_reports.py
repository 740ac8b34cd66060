"""A crash report says who faulted, and where.

A fatal signal on a virtual thread is a "crash" violation that names the
faulting instruction's address and the function holding it. A fault inside
lfstress's own engine (native/engine/, gathered by engine_text.ld) is blamed
on lfstress; one in the code under test names that code; one on a fiber's
guard page is a stack overflow. Checked for the test-only structures and for
a user's structure file, each built (tests/testonly.py) with its own copy of
the engine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from stress.search import run_failure
from stress.structures import load_source
from stress.target import Target
from stress.usercode import build
from tests.testonly import TESTONLY

HEX = r"0x[0-9a-f]+"


def _crash(family: str, variant: str, op: str = "run", options=(), source=None):
    target = Target(family, variant, (((op, None),), ((op, None),)), options=options, capacity=8, source=source)
    violations = run_failure(target, [1, 1]).result.violations
    assert violations[0].kind == "crash", violations
    return violations[0]


def _wild(how: int):
    return _crash("testonly", "wild", options=(("how", how),), source=TESTONLY)


def test_a_fault_in_the_code_under_test_names_its_instruction_and_function():
    v = _wild(1)   # a plain C dereference of null + 16 in wild_run
    p = v.provenance
    assert p["faulted_in"] == "the code under test" and p["signal"] == "SIGSEGV"
    assert p["address"] == "0x10"
    assert re.fullmatch(rf"wild_run\+{HEX} in \S+\.so", p["code"]), p["code"]
    assert re.fullmatch(HEX, p["pc"])
    assert f"at {p['pc']} (in {p['code']}), accessing 0x10" in v.message
    assert v.message.startswith("T1 crashed with SIGSEGV at step 0: the code under test dereferenced")
    assert "lfstress" not in v.message


def test_a_fault_inside_the_engine_is_blamed_on_lfstress():
    v = _wild(3)   # lfs_cas reads *expected, which the structure pointed at null + 16
    p = v.provenance
    assert p["faulted_in"] == "lfstress" and p["signal"] == "SIGSEGV" and p["address"] == "0x10"
    assert p["code"].startswith("lfs_cas+0x")
    assert v.message.startswith(f"the harness faulted at {p['pc']} (in {p['code']}) with SIGSEGV")
    assert v.message.endswith("this is a bug in lfstress, not in the code under test")
    assert "code under test dereferenced" not in v.message


def test_a_fault_on_the_guard_page_is_a_stack_overflow_of_the_code_under_test():
    v = _wild(2)   # runaway recursion
    assert v.provenance["faulted_in"] == "the code under test"
    assert v.provenance["code"].startswith("runaway+0x")
    assert v.message.startswith("T1 overflowed its stack at step 0: SIGSEGV at ")
    assert "guard page" in v.message


def test_a_signal_sent_rather_than_a_fault_names_no_instruction():
    v = _crash("testonly", "abort", source=TESTONLY)
    assert v.provenance == {"signal": "SIGABRT"}
    assert "called abort()" in v.message and " at 0x" not in v.message


USER_FAULTS = r"""
#include "lfstress.h"

typedef struct shared { lfs_word_t word; } shared_t;

static int deref(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    lfs_word_t ref = lfs_load(&((shared_t *)shared)->word, LFS_ACQUIRE);
    *result = *(volatile lfs_word_t *)(uintptr_t)(ref + 24);
    return LFS_OK;
}

static int bad_expected(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    lfs_word_t ref = lfs_load(&((shared_t *)shared)->word, LFS_ACQUIRE);
    *result = lfs_cas(&((shared_t *)shared)->word, (lfs_word_t *)(uintptr_t)(ref + 24), 1, LFS_RELAXED);
    return LFS_OK;
}

const lfs_structure_t tmp_faults = {
    .family = "tmpfaults", .variant = "both", .summary = "a test's faulting operations",
    .spec = "none", .ref_encoding = LFS_REF_POINTER, .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(shared_t), .node_words = 1, .fields = { { "unused", LFS_DATA } },
    .n_roots = 1, .roots = { { "word", 0, 1, LFS_DATA } },
    .n_ops = 2, .ops = { { "deref", false, true, deref }, { "bad_expected", false, true, bad_expected } },
};

LFS_EXPORT_STRUCTURES(&tmp_faults);
"""


def test_a_users_structure_is_blamed_by_name_and_its_engine_copy_on_lfstress(tmp_path):
    source = tmp_path / "faults.c"
    source.write_text(USER_FAULTS)
    load_source(source)
    mine = _crash("tmpfaults", "both", "deref")
    assert mine.provenance["faulted_in"] == "the code under test"
    assert mine.provenance["code"].startswith("deref+0x") and mine.provenance["address"] == "0x18"
    assert mine.provenance["code"].endswith(f" in {Path(build(source).stepped.__file__).name}")
    theirs = _crash("tmpfaults", "both", "bad_expected")
    assert theirs.provenance["faulted_in"] == "lfstress"
    assert theirs.provenance["code"].startswith("lfs_cas+0x")


HARNESS_FAULT_SCENARIO = """\
[scenario]
structure = "testonly"
source = "{TESTONLY}"
description = "the engine faults on a pointer the structure hands it"
capacity = 8

[threads]
programs = [["run"]]

[variants]
wild-expected = { variant = "wild", options = { how = 3 }, expect = "bug", kinds = ["crash"] }
""".replace("{TESTONLY}", TESTONLY)


def test_the_report_says_the_harness_faulted(tmp_path):
    scenario = tmp_path / "harness_fault.toml"
    scenario.write_text(HARNESS_FAULT_SCENARIO)
    proc = subprocess.run([sys.executable, "-m", "stress", "explore", "--scenario", str(scenario),
                           "--variant", "wild-expected", "--scheduler", "random", "--budget", "5"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert re.search(rf"the harness faulted at {HEX} \(in lfs_cas\+{HEX} in \S+\) with SIGSEGV, accessing 0x10",
                     proc.stdout), proc.stdout
    assert "this is a bug in lfstress" in proc.stdout
