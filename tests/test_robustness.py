"""The harness survives the code it tests.

- test-only structures that break on purpose (native/testonly/, built for the tests only):
  a wild pointer, a livelock, abort(), pool exhaustion — each gives its own
  kind of result stepped and free-running, and the run goes on;
- a broken queue run for many executions exits 1 with a report, not a signal;
- Ctrl-C prints the results so far and the failure token, exit 130;
- bad input from people: one line, exit 2, no traceback (a table);
- the scenario loader and the token decoder, fuzzed: only lfstress errors.

The memory figures of 100,000 executions are measured outside the tests
(python -m tests.benchmarks.robustness -> reports/robustness.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.testonly import TESTONLY

from stress.checks import check_execution
from stress.cli import main
from stress.contained import run_free
from stress.errors import LfstressError, UsageError
from stress.search import explore, run_failure
from stress.replay import replay
from stress.scenario import BUILTIN_SCENARIOS, load
from stress.structures import catalogue
from stress.target import Target
from stress.token import decode, encode

BROKEN = {  # variant: (stepped kind, free-running outcome, signal)
    "wild": ("wild-pointer", "crash", "SIGSEGV"),
    "spin": ("livelock", "livelock", None),
    "abort": ("crash", "crash", "SIGABRT"),
    "exhaust": ("pool-exhausted", "pool-exhausted", None),
}

BROKEN_SCENARIO = """\
# Code under test that breaks in each way the harness must survive.
[scenario]
structure = "testonly"
source = "{TESTONLY}"
description = "a wild pointer, a livelock, abort() and a leak: each reported, the run goes on"
capacity = 8
step_cap = 200

[threads]
programs = [["run"], ["run"]]

[search]
executions = 20

[variants]
wild = { expect = "bug", kinds = ["wild-pointer"] }
spin = { expect = "bug", kinds = ["livelock"] }
abort = { expect = "bug", kinds = ["crash"] }
exhaust = { expect = "bug", kinds = ["pool-exhausted"] }
""".replace("{TESTONLY}", TESTONLY)

CLEAN_AFTER = """\
[scenario]
structure = "msqueue"
description = "an ordinary item after the broken ones"
initial = [1]
capacity = 16

[threads]
programs = [["dequeue"], ["enqueue 2"]]

[search]
schedulers = ["random"]
executions = 50

[variants]
tagged = { expect = "clean" }
"""

LONG_CLEAN = """\
[scenario]
structure = "msqueue"
description = "a search that runs until interrupted"
initial = [1]
capacity = 16

[threads]
programs = [["dequeue", "enqueue 3"], ["enqueue 2", "dequeue"]]

[search]
schedulers = ["random"]
executions = 100000000

[variants]
tagged = { expect = "clean" }
"""


def lfstress(*argv: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stress", *argv], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def _two_threads(variant: str) -> Target:
    return Target("testonly", variant, ((("run", None),), (("run", None),)), capacity=8, step_cap=200,
                  source=TESTONLY)


# ---------------------------------------------------------------- broken code

@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_broken_structure_stepped_ends_the_execution_with_its_own_kind(variant):
    kind = BROKEN[variant][0]
    ex = _two_threads(variant).execution()
    for _ in range(3):       # and the same Execution runs again afterwards
        mask = ex.start()
        while mask:
            mask = ex.step((mask & -mask).bit_length() - 1)
        result = check_execution(ex)
        assert result.violations[0].kind == kind, result.violations
    assert ex.status == ("livelock" if kind == "livelock" else "aborted")


def test_abort_on_a_virtual_thread_is_a_crash_violation_that_replays():
    failure = run_failure(_two_threads("abort"), [1])
    v = failure.result.violations[0]
    assert v.kind == "crash" and v.thread == 1 and v.provenance == {"signal": "SIGABRT"}
    assert "abort()" in v.message
    again = replay(decode(failure.token))      # byte-identical trace, or NotDeterministic
    assert [x.kind for x in again.result.violations] == ["crash"]


def test_wild_pointer_names_the_address_it_used():
    v = run_failure(_two_threads("wild"), [0, 0]).result.violations[0]
    assert v.kind == "wild-pointer" and "address 0x10" in v.message


@pytest.mark.parametrize("how", [1, 2], ids=["raw-dereference", "stack-overflow"])
def test_segfault_on_a_virtual_thread_is_a_crash_violation(how):
    # Structure code that breaks rule 1 (a plain dereference) or overflows its
    # fiber's stack into the guard page: SIGSEGV, contained, the run goes on.
    target = Target("testonly", "wild", ((("run", None),), (("run", None),)), options=(("how", how),),
                    capacity=8, source=TESTONLY)
    for _ in range(2):
        v = run_failure(target, [1, 1]).result.violations[0]
        assert v.kind == "crash" and v.thread == 1 and v.provenance["signal"] == "SIGSEGV"
    free = run_free("testonly", "wild", [[("run", None)]], options={"how": how}, timeout=5.0)
    assert free["outcome"] == "crash" and free["signal"] == "SIGSEGV"


def test_free_running_each_broken_structure_gives_its_own_result_and_the_parent_goes_on(testonly):
    seen = {}
    for variant in [*sorted(BROKEN), "nondet"]:
        op = "bump" if variant == "nondet" else "run"
        seen[variant] = run_free("testonly", variant, [[(op, None)], [(op, None)]], capacity=64, timeout=1.0)
    for variant, (_, outcome, sig) in BROKEN.items():
        assert seen[variant]["outcome"] == outcome, seen[variant]
        assert seen[variant].get("signal") == sig
        assert seen[variant]["structure"] == f"testonly/{variant}"
    assert seen["nondet"]["outcome"] == "ok"


def test_lfstress_run_reports_every_broken_item_and_carries_on(tmp_path):
    (tmp_path / "a_broken.toml").write_text(BROKEN_SCENARIO)
    (tmp_path / "b_clean.toml").write_text(CLEAN_AFTER)
    proc = lfstress("run", str(tmp_path), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["variant"] for r in rows] == ["wild", "spin", "abort", "exhaust", "tagged"]
    for row in rows[:4]:
        assert row["ok"] and row["violation"]["kind"] == BROKEN[row["variant"]][0]
        assert row["violation"]["token"].startswith("lfs1.")
    assert rows[4]["ok"] and rows[4]["outcome"] == "clean"
    text = lfstress("run", str(tmp_path), cwd=tmp_path)
    assert text.returncode == 0 and "5 items: 5 as expected, 0 not" in text.stdout
    assert text.stderr == ""


def test_harness_crashes_outside_the_code_under_test_are_not_swallowed():
    # The guard only contains signals raised on a virtual thread: the harness
    # itself aborting or faulting still dies of it.
    for crash, sig in (("os.abort()", signal.SIGABRT), ("ctypes.string_at(0)", signal.SIGSEGV)):
        code = textwrap.dedent(f"""
            import ctypes, os
            from stress.target import Target
            ex = Target("testonly", "abort", ((("run", None),),), source={TESTONLY!r}).execution()
            ex.start(); ex.step(0)      # a contained crash first: the guard is armed
            assert ex.status == "aborted"
            {crash}
        """)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode == -sig, proc.stderr


def test_broken_queue_many_executions_exit_1_with_a_report_never_a_signal():
    proc = lfstress("explore", "--story", "classic-aba", "--variant", "naive", "--scheduler", "random",
                    "--keep-going", "--budget", "3000")
    assert proc.returncode == 1, proc.stderr
    assert "executions      3000" in proc.stdout and "replay: lfstress replay lfs1." in proc.stdout
    native = lfstress("explore", "--story", "classic-aba", "--variant", "naive", "--scheduler", "random",
                      "--keep-going", "--native", "--budget", "100000", "--no-shrink")
    assert native.returncode == 1, native.stderr
    assert "executions      100000" in native.stdout
    assert proc.stderr == native.stderr == ""


# ---------------------------------------------------------------- Ctrl-C

def _interrupt(argv: list[str], cwd: Path, *, after: float | None = None, first_line: bool = False,
               sig: int = signal.SIGINT):
    """Start lfstress, wait (a time, or its first line of output), send sig (SIGINT), collect."""
    proc = subprocess.Popen([sys.executable, "-m", "stress", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)
    head = ""
    try:
        if first_line:
            head = proc.stdout.readline()   # streamed as the item finishes
            time.sleep(0.5)                 # well inside the next item's search
        else:
            time.sleep(after)
        assert proc.poll() is None, "finished before it could be interrupted"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, head + out, err


def test_ctrl_c_on_run_json_keeps_streamed_results_and_says_interrupted(tmp_path):
    (tmp_path / "a.toml").write_text(BROKEN_SCENARIO.replace('wild = ', '# ').replace('spin = ', '# ')
                                     .replace('exhaust = ', '# '))
    (tmp_path / "b.toml").write_text(LONG_CLEAN)
    code, out, err = _interrupt(["run", str(tmp_path), "--json"], tmp_path, first_line=True)
    assert code == 130
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["variant"] == "abort" and rows[0]["violation"]["token"].startswith("lfs1.")
    assert rows[1]["variant"] == "tagged" and rows[1]["interrupted"] and rows[1]["stats"]["executions"] > 0
    assert rows[-1] == {"interrupted": True, "items_done": 2, "items": 2}
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err


def test_ctrl_c_on_run_prints_the_summary_so_far_with_the_failure_token(tmp_path):
    (tmp_path / "a.toml").write_text(BROKEN_SCENARIO)
    (tmp_path / "b.toml").write_text(LONG_CLEAN)
    code, out, err = _interrupt(["run", str(tmp_path)], tmp_path, after=4.0)
    assert code == 130
    assert "a.toml::abort" in out and "replay: lfstress replay lfs1." in out
    assert "b.toml::tagged" in out and "interrupted after" in out
    assert "4 as expected, 0 not, 1 interrupted" in out
    assert "Traceback" not in err and err.count("\n") == 1


def test_sigterm_on_run_prints_the_summary_of_what_finished(tmp_path):
    (tmp_path / "a.toml").write_text(BROKEN_SCENARIO)
    (tmp_path / "b.toml").write_text(LONG_CLEAN)
    code, out, err = _interrupt(["run", str(tmp_path)], tmp_path, after=4.0, sig=signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert "a.toml::abort" in out and "replay: lfstress replay lfs1." in out
    assert "b.toml::tagged" in out and "4 as expected, 0 not, 1 interrupted" in out
    assert "Traceback" not in err and err.count("\n") == 1 and "terminated (SIGTERM) after 5 of 5 items" in err


def test_ctrl_c_on_explore_prints_stats_so_far_and_the_failure_token(tmp_path):
    code, out, err = _interrupt(["explore", "--story", "classic-aba", "--variant", "naive", "--scheduler",
                                 "random", "--keep-going", "--budget", "100000000"], tmp_path, after=3.0)
    assert code == 130
    assert "note: interrupted after" in out and "FAILED: aba" in out
    assert "token: lfs1." in out and "replay: lfstress replay lfs1." in out
    assert err == ""


def test_ctrl_c_on_explore_json_marks_the_result_interrupted(tmp_path):
    code, out, err = _interrupt(["explore", "--story", "classic-aba", "--variant", "tagged", "--scheduler",
                                 "random", "--native", "--budget", "1000000000", "--json"], tmp_path, after=2.0)
    assert code == 130 and err == ""
    result = json.loads(out)
    assert result["interrupted"] and result["stats"]["interrupted"] and result["stats"]["executions"] > 0
    assert result["failure"] is None


# ---------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "malformed.toml").write_text("[scenario\nstructure = 1\n")
    (d / "binary.toml").write_bytes(b"\xff\xfe[scenario]\n")
    (d / "unknown_key.toml").write_text(BROKEN_SCENARIO.replace("step_cap = 200", "step_cap = 200\ncolour = 1"))
    (d / "folder.toml").mkdir()
    return d


BAD_INPUTS = [  # (argv, a word the one-line message must contain)
    (["replay", "lfs1.garbage"], "damaged"),
    (["replay", "not-a-token"], "not an lfstress replay token"),
    (["replay", "lfs1.cnM9bXNxdWV1ZS9uYWl2ZQpwPWRlcXVldWUKYz05"], "names a thread"),
    (["explain", "lfs1."], "damaged"),
    (["explore", "--story", "classic-aba", "--variant", "nosuch"], "unknown variant"),
    (["explore", "--story", "nosuch"], "unknown story"),
    (["explore", "--story", "classic-aba", "-o", "nosuch=1"], "no option"),
    (["explore", "--story", "classic-aba", "-o", "cleanup"], "NAME=VALUE"),
    (["explore", "--story", "classic-aba", "-o", "cleanup=yes"], "integer"),
    (["explore", "--story", "classic-aba", "--variant", "tagged", "-o", "tag_bits=99"], "between"),
    (["explore", "--story", "classic-aba", "--variant", "tagged", "-o", "tag_bits=0"], "between"),
    (["explore", "--story", "classic-aba", "--capacity", "0"], "capacity"),
    (["explore", "--story", "classic-aba", "--capacity", "99999999999"], "capacity"),
    (["explore", "--story", "classic-aba", "--seed", "abc"], "--seed"),
    (["explore", "--story", "classic-aba", "--seed", "-1"], "seed"),
    (["explore", "--story", "classic-aba", "--budget", "lots"], "budget"),
    (["explore", "--story", "classic-aba", "--budget", "0"], "at least 1"),
    (["explore", "--story", "classic-aba", "--budget", "2.5"], "whole number"),
    (["explore", "--story", "classic-aba", "--jobs", "0"], "jobs"),
    (["explore", "--story", "classic-aba", "--jobs", "x"], "--jobs"),
    (["explore", "--story", "classic-aba", "--step-cap", "0"], "step cap"),
    (["explore", "--story", "classic-aba", "--threads", "99"], "threads"),
    (["explore", "--story", "classic-aba", "--scheduler", "psychic"], "--scheduler"),
    (["explore", "--story", "classic-aba", "--scheduler", "exhaustive", "--max-preemptions", "-1"],
     "max-preemptions"),
    (["explore", "--story", "classic-aba", "--depth", "0"], "depth"),
    (["explore", "--story", "classic-aba", "--native", "--scheduler", "hypothesis"], "native"),
    (["explore"], "--story"),
    (["explore", "--scenario", "{bad}/malformed.toml"], "not valid TOML"),
    (["explore", "--scenario", "{bad}/nowhere.toml"], "no such scenario file"),
    (["explore", "--scenario", "{bad}/folder.toml"], "directory"),
    (["run", "{bad}/nowhere"], "no such scenario"),
    (["run", "{bad}/binary.toml"], "UTF-8"),
    (["run", "{bad}/unknown_key.toml"], "colour"),
    (["run", "--seed", "xyz"], "--seed"),
    (["run", "--budget", "-5"], "budget"),
    (["run", "--jobs", "0"], "--jobs"),
    (["run", "--scheduler", "psychic"], "--scheduler"),
    (["run", "--variant", "nosuch"], "no variant"),
    (["replay", "--story", "classic-aba", "--scheduler", "random", "--seed", "-3"], "--seed"),
    (["stress", "--variant", "naive"], "not run on real threads"),
    (["stress", "--variant", "tagged", "--threads", "0"], "--threads"),
    (["stress", "--variant", "tagged", "--capacity", "3"], "--capacity"),
    (["no-such-command"], "invalid choice"),
]


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:       # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,word", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_gets_one_line_and_exit_2(argv, word, bad_files, capsys):
    argv = [a.replace("{bad}", str(bad_files)) for a in argv]
    code, out, err = _main(argv, capsys)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert word in err, err
    assert "Traceback" not in err and out == ""


def test_bad_input_in_a_fresh_process_has_no_traceback(bad_files):
    for argv in (["replay", "lfs1.garbage"], ["run", str(bad_files / "malformed.toml")],
                 ["explore", "--story", "classic-aba", "--seed", "abc"]):
        proc = lfstress(*argv)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stdout == "", proc.stderr


def test_unreadable_scenario_file_gets_one_line(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked.toml"
    locked.write_text(BROKEN_SCENARIO)
    locked.chmod(0)
    try:
        if os.geteuid() == 0:   # root reads it anyway: make the read fail as it would for a user
            real = Path.read_bytes

            def denied(self):
                if self == locked:
                    raise PermissionError(13, "Permission denied", str(self))
                return real(self)
            monkeypatch.setattr(Path, "read_bytes", denied)
        code, out, err = _main(["run", str(locked)], capsys)
    finally:
        locked.chmod(0o644)
    assert code == 2 and err.count("\n") == 1
    assert "cannot read it (Permission denied)" in err and str(locked) in err


# ---------------------------------------------------------------- fuzzing

# LFSTRESS_FUZZ_EXAMPLES=3000 for a longer hunt (3000 each ran clean when this was written).
FUZZ = settings(max_examples=int(os.environ.get("LFSTRESS_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _load_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        scenario = load(path)
    except LfstressError as exc:
        assert "\n" not in str(exc), str(exc)   # the CLI prints it as one line
        return
    for plan in scenario.variants:       # it loaded: its targets must build or say why
        try:
            scenario.target(plan.name).execution()
        except LfstressError:
            pass


@FUZZ
@given(data=st.binary(max_size=400))
def test_fuzz_scenario_loader_with_bytes(tmp_path, data):
    _load_bytes(tmp_path, data)


@FUZZ
@given(text=st.text(max_size=400))
def test_fuzz_scenario_loader_with_text(tmp_path, text):
    _load_bytes(tmp_path, text.encode("utf-8", "surrogatepass"))


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")  # a TOML basic string


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{_string(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _dump(doc: dict) -> str:
    lines = []
    for table, body in doc.items():
        if not isinstance(body, dict):
            lines.append(f"{_string(table)} = {_toml(body)}")
    for table, body in doc.items():
        if isinstance(body, dict):
            lines.append(f"[{_string(table)}]")
            lines += [f"{_string(k)} = {_toml(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)   # TOML text has no surrogates
SCALARS = st.one_of(st.integers(-2**70, 2**70), st.integers(-3, 40), st.booleans(), TEXT,
                    st.floats(allow_nan=False), st.sampled_from(["bug", "clean", "naive", "tagged", "random",
                                                                  "enqueue 1", "dequeue", "msqueue", "aba"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(TEXT, inner, max_size=3)),
                      max_leaves=8)
SEED_DOCS = [tomllib.loads(p.read_text()) for p in sorted(BUILTIN_SCENARIOS.glob("*.toml"))[:6]]


@FUZZ
@given(base=st.sampled_from(SEED_DOCS), edits=st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99),
                                                                  st.sampled_from(["set", "del", "add"]), VALUES),
                                                        min_size=1, max_size=3),
       data=st.data())
def test_fuzz_scenario_loader_with_mutated_scenarios(tmp_path, base, edits, data):
    doc = json.loads(json.dumps(base))   # a deep copy
    for table_i, key_i, action, value in edits:
        tables = [t for t in doc if isinstance(doc[t], dict)]
        table = doc[tables[table_i % len(tables)]]
        keys = list(table)
        if action == "add" or not keys:
            key = data.draw(TEXT.filter(lambda k: k and k != "source"))
            table[key] = value
        elif action == "del":
            del table[keys[key_i % len(keys)]]
        else:
            table[keys[key_i % len(keys)]] = value
    _load_bytes(tmp_path, _dump(doc).encode())


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.text(max_size=200).map(lambda t: "lfs1." + t),
                      st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_fuzz_token_decoder_with_text(text):
    try:
        decode(text)
    except UsageError:
        pass


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_token_decoder_with_bytes(data):
    with pytest.raises(UsageError):
        decode(data)  # type: ignore[arg-type]


FIELD_VALUES = st.one_of(st.text(max_size=30), st.sampled_from(
    ["msqueue/naive", "msqueue/tagged", "testonly/abort", "testonly/wild", "dequeue", "enqueue:1,dequeue",
     "dequeue|dequeue", "0.1.0", "0*3.1*2", "cleanup=1", "tag_bits=0", "8,lifo,50", "3,fifo,0", "1,2",
     "0123456789ab,7", "run|run", "/nonexistent/x.c", "relative.c", "/", "0123456789ab,0123456789abcdef"]))


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["s", "o", "i", "p", "x", "c", "h", "sc", "src", "sh", "q"]), FIELD_VALUES,
                              max_size=8),
       compress=st.booleans())
def test_fuzz_token_fields_decode_and_replay_raise_only_lfstress_errors(fields, compress):
    import base64
    import zlib
    raw = "\n".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8", "surrogatepass")
    body = b"z" + zlib.compress(raw) if compress else b"r" + raw
    token = "lfs1." + base64.urlsafe_b64encode(body).decode().rstrip("=")
    try:
        replay(decode(token))
    except LfstressError:
        pass


def test_tokens_of_every_catalogued_structure_survive_replay(testonly):
    # Each built-in variant (and each test-only one) runs one step per thread and
    # replays from its token: a crash, a wild pointer or a livelock is a result.
    # The hostile ones end the process running them: tests/test_supervised.py.
    from tests.test_supervised import HOSTILE
    for info in catalogue().values():
        if info.family == "testonly" and (info.variant == "nondet" or info.variant in HOSTILE):
            continue
        op = next(o for o in info.ops if not o.takes_arg) if any(not o.takes_arg for o in info.ops) \
            else info.ops[0]
        prog = ((op.name, None if not op.takes_arg else 1),)
        target = Target(info.family, info.variant, (prog, prog), capacity=8, step_cap=300)
        failure = run_failure(target, [0, 1] * 400, strict=False)
        replay(decode(failure.token))


def test_explore_survives_each_broken_structure_and_returns_a_failure():
    for variant, (kind, _, _) in BROKEN.items():
        result = explore(_two_threads(variant), "random", seed=0, executions=5, shrink=False)
        assert result.failure is not None and result.failure.kind == kind
        assert encode(result.failure.target, result.failure.choices).startswith("lfs1.")


@pytest.mark.parametrize("stop", [False, True])
def test_folding_chunk_results_as_they_arrive_gives_the_serial_statistics(stop):
    # A search folds each chunk's record as it comes back (memory stays flat
    # over millions of executions); the figures must be those of one serial
    # record over the same executions, stopping after the first failure.
    from stress.search import ChunkResult, Stats
    from stress.search.backends import SeedFold

    def chunk(i: int) -> ChunkResult:
        stats = Stats(executions=64, steps_total=64 * (20 + i % 7), steps_min=20 + i % 5, steps_max=40 + i % 3,
                      violating=1 if i % 9 == 4 else 0)
        if stats.violating:
            stats.first_violation_execution, stats.first_violation_seconds = 1 + i % 64, 0.001 * i
            return ChunkResult(stats, failing_seed=64 * i + i % 64, failing_choices=[i % 2] * 5)
        return ChunkResult(stats)

    fold = SeedFold(stop)
    for i in range(40):
        fold.add(chunk(i))
        if fold.done:
            break
    taken = [chunk(i) for i in range(i + 1)]
    assert fold.stats.executions == 64 * len(taken)
    assert fold.stats.steps_total == sum(c.stats.steps_total for c in taken)
    assert fold.stats.steps_min == min(c.stats.steps_min for c in taken)
    assert fold.stats.steps_max == max(c.stats.steps_max for c in taken)
    assert fold.stats.violating == sum(c.stats.violating for c in taken)
    assert fold.first.failing_seed == 64 * 4 + 4            # chunk 4 is the first to fail
    assert fold.stats.first_violation_execution == 64 * 4 + 5
    assert len(taken) == (5 if stop else 40)
