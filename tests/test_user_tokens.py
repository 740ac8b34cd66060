"""Tokens of users' structures replay and explain anywhere: the token names the
structure's C file (and its scenario), ``--source FILE.c`` names it for the
rest, ``Target(..., source=)`` is the way from Python, and a file that
changed since a token was made is said as such, never blamed on
non-determinism."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from stress.errors import UsageError
from stress.search import explore, run_failure
from stress.story import story_target
from stress.replay import NotDeterministic, replay
from stress.scenario import load
from stress.structures import load_source
from stress.target import Target
from stress.token import decode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"

# A counter whose increment is a load then a store: two increments can lose
# one. The markers let a test edit the file the way a user would. Every test
# writes the same text (wherever it puts it), so it compiles once; only
# edits compile again.
COUNTER = r"""
#include "lfstress.h"

typedef struct shared { lfs_word_t count; } shared_t;

static int init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    lfs_store(&((shared_t *)shared)->count, 0, LFS_RELAXED);
    return LFS_OK;
}

static int inc(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    shared_t *s = shared;
    lfs_word_t seen = lfs_load(&s->count, LFS_ACQUIRE);
    /* EXTRA */
    lfs_store(&s->count, seen + 1, LFS_RELEASE); /* STORE */
    *result = seen + 1;
    return LFS_OK;
}

const lfs_structure_t tmpcounter_racy = {
    .family = "tmpcounter", .variant = "racy", .summary = "a test's counter: load, then store",
    .spec = "none", .ref_encoding = LFS_REF_POINTER, .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(shared_t), .node_words = 1,
    .fields = { { "unused", LFS_DATA } },
    .n_roots = 1, .roots = { { "count", 0, 1, LFS_DATA } },
    .n_ops = 1, .ops = { { "inc", false, true, inc } },
    .init = init,
};

LFS_EXPORT_STRUCTURES(&tmpcounter_racy);
"""

TWO_INCREMENTS = ((("inc", None),), (("inc", None),))


def lfstress(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stress", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


EXTRA_LOAD = ("/* EXTRA */", "(void)lfs_load(&s->count, LFS_ACQUIRE);")
NO_STORE = ("lfs_store(&s->count, seen + 1, LFS_RELEASE); /* STORE */", "")


def counter_file(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "counter.c"
    path.write_text(COUNTER)
    return path


def edit(path: Path, change: tuple[str, str]) -> None:
    path.write_text(path.read_text().replace(*change))


def token_fields(token: str) -> list[str]:
    """The ``key=value`` lines inside a token."""
    data = base64.urlsafe_b64decode(token[5:] + "=" * (-len(token[5:]) % 4))
    raw = zlib.decompress(data[1:]) if data[:1] == b"z" else data[1:]
    return raw.decode().split("\n")


def with_fields(token: str, drop: tuple[str, ...] = (), **values: str) -> str:
    """The token with some fields dropped (as an lfstress that did not record
    them printed it) or set to other values."""
    fields = dict(line.partition("=")[::2] for line in token_fields(token))
    fields = {**{k: v for k, v in fields.items() if k not in drop}, **values}
    raw = "\n".join(f"{k}={v}" for k, v in fields.items()).encode()
    return "lfs1." + base64.urlsafe_b64encode(b"r" + raw).decode().rstrip("=")


def assert_full_report(proc: subprocess.CompletedProcess, headline: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert headline in out and "violations (decisive first):" in out and "replay: lfstress replay lfs1." in out
    assert "│ T0" in out and "│ T1" in out   # the per-thread table


# ------------------------------------------------------------ from anywhere

def test_ring_buffer_token_explains_and_replays_from_another_directory(tmp_path, build_cache):
    target = load(EXAMPLES / "ring_buffer.toml").target("nocas")
    found = explore(target, "random", seed=0, executions=2000)
    assert found.reported is not None
    token = found.reported.token
    assert decode(token).target.source == str(EXAMPLES / "ring_buffer.c")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("explain", "replay"):
        assert_full_report(lfstress(command, token, cwd=elsewhere), "DUPLICATE-VALUE at step")


def test_structure_outside_the_repository_replays_from_another_directory(tmp_path, build_cache):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("ring_buffer.c", "ring_buffer.toml"):
        shutil.copy(EXAMPLES / name, mine / name)
    explored = lfstress("explore", "--scenario", "ring_buffer.toml", "--variant", "nocas",
                        "--scheduler", "random", "--budget", "2000", cwd=mine)
    assert explored.returncode == 1, explored.stdout + explored.stderr
    token = next(line.split()[1] for line in explored.stdout.splitlines() if line.startswith("token: "))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("explain", "replay"):
        assert_full_report(lfstress(command, token, cwd=elsewhere), "DUPLICATE-VALUE at step")


def test_python_api_target_with_source_replays_in_another_process(tmp_path, build_cache):
    source = counter_file(tmp_path / "src")
    target = Target("tmpcounter", "racy", TWO_INCREMENTS, source=source)
    failure = run_failure(target, [0, 1, 0, 1])
    assert failure.result.ok     # no spec: a lost increment is no violation; the token still replays
    token = failure.token
    assert replay(decode(token)).result.ok     # and in this process
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replayed = lfstress("replay", token, cwd=elsewhere)
    assert replayed.returncode == 0, replayed.stderr
    assert "clean: no violation" in replayed.stdout and "T1 store count := 1" in replayed.stdout


def test_structure_loaded_with_load_source_names_its_file_in_the_token(tmp_path, build_cache):
    source = counter_file(tmp_path)
    load_source(source)
    target = Target("tmpcounter", "racy", TWO_INCREMENTS)   # no source=: found from the catalogue
    assert target.source == str(source)
    token = run_failure(target, [0, 1, 0, 1]).token
    assert decode(token).target.source == str(source)
    replayed = lfstress("replay", token, cwd=ROOT)
    assert replayed.returncode == 0 and "clean: no violation" in replayed.stdout, replayed.stderr


def test_moved_file_is_named_with_source(tmp_path, build_cache):
    source = counter_file(tmp_path / "before")
    token = run_failure(Target("tmpcounter", "racy", TWO_INCREMENTS, source=source), [0, 1, 0, 1]).token
    moved = tmp_path / "after" / source.name
    moved.parent.mkdir()
    source.rename(moved)
    lost = lfstress("explain", token, cwd=tmp_path)
    assert lost.returncode == 2 and lost.stdout == ""
    assert lost.stderr.count("\n") == 1 and "--source FILE.c" in lost.stderr and str(source) in lost.stderr
    for command in ("explain", "replay"):
        found = lfstress(command, token, "--source", str(moved), cwd=tmp_path)
        assert found.returncode == 0, found.stderr
    wrong = lfstress("replay", token, "--source", str(EXAMPLES / "ring_buffer.c"), cwd=tmp_path)
    assert wrong.returncode == 2 and "not tmpcounter/racy" in wrong.stderr


def test_explore_with_source_runs_a_scenario_that_does_not_name_its_file(tmp_path, build_cache):
    shutil.copy(EXAMPLES / "ring_buffer.c", tmp_path / "ring_buffer.c")
    text = (EXAMPLES / "ring_buffer.toml").read_text().replace('source = "ring_buffer.c"\n', "")
    (tmp_path / "shared.toml").write_text(text)
    without = lfstress("explore", "--scenario", "shared.toml", "--variant", "nocas", cwd=tmp_path)
    assert without.returncode == 2 and 'source = "FILE.c"' in without.stderr
    explored = lfstress("explore", "--scenario", "shared.toml", "--source", "ring_buffer.c", "--variant", "nocas",
                        "--scheduler", "random", "--budget", "2000", cwd=tmp_path)
    assert explored.returncode == 1, explored.stdout + explored.stderr
    token = next(line.split()[1] for line in explored.stdout.splitlines() if line.startswith("token: "))
    assert decode(token).target.source == str(tmp_path / "ring_buffer.c")
    assert_full_report(lfstress("explain", token, cwd=ROOT), "DUPLICATE-VALUE at step")
    by_seed = next(line for line in explored.stdout.splitlines() if line.startswith("seed: "))
    command = by_seed.split("before shrinking: ")[1].rstrip(")").split()[1:]
    assert "--source" in command
    assert lfstress(*command, cwd=tmp_path).returncode == 1


# ------------------------------------------------------------ unknown structures

def test_unknown_structure_says_how_to_load_one_and_never_lists_testonly(capsys):
    with pytest.raises(UsageError) as info:
        Target("mpsc", "vyukov", ((("enqueue", 1),),)).execution()
    message = str(info.value)
    assert 'source="FILE.c"' in message and "--source FILE.c" in message and "source = " in message
    token = "lfs1." + base64.urlsafe_b64encode(b"r" + b"s=mpsc/vyukov\np=enqueue:1\nc=0").decode().rstrip("=")
    for command in ("explain", "replay"):
        proc = lfstress(command, token, cwd=ROOT)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1
        assert "--source FILE.c" in proc.stderr and "testonly" not in proc.stderr
    listed = lfstress("list", cwd=ROOT)
    assert listed.returncode == 0 and "testonly" not in listed.stdout


# ------------------------------------------------------------ changed since the token

def _counter_token(directory: Path, choices=(0, 1, 0, 1)) -> tuple[Path, str]:
    source = counter_file(directory)
    return source, run_failure(Target("tmpcounter", "racy", TWO_INCREMENTS, source=source), choices).token


def test_edited_file_is_a_change_never_non_determinism(tmp_path, build_cache):
    source, token = _counter_token(tmp_path)
    # The same trace: a note.
    source.write_text(source.read_text() + "/* a comment added since */\n")
    proc = lfstress("replay", token, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"note: {source} changed since this token was made" in proc.stdout
    assert "trace differs" not in proc.stdout
    # Another trace: what the schedule does now, said to be because of the change.
    source.write_text(COUNTER.replace(*EXTRA_LOAD))
    for command in ("replay", "explain"):
        proc = lfstress(command, token, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "not deterministic" not in proc.stdout + proc.stderr
        assert f"{source} changed since this token was made" in proc.stdout
        assert "the trace differs from the recorded one" in proc.stdout


def test_edited_file_whose_schedule_no_longer_fits_says_so(tmp_path, build_cache):
    # Without its store, an increment is one step: T0 has finished when the
    # schedule runs it again (0 0 1 1), and the run ends before the schedule
    # does (0 1 0 1).
    for choices, step in (((0, 0, 1, 1), 1), ((0, 1, 0, 1), 2)):
        source, token = _counter_token(tmp_path / str(step), choices)
        edit(source, NO_STORE)
        proc = lfstress("replay", token, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert f"no longer fits at step {step}" in proc.stderr
        assert f"{source} changed since this token was made" in proc.stderr
        assert "not deterministic" not in proc.stderr


def test_old_token_whose_scenario_changed_is_not_blamed_on_non_determinism(tmp_path, build_cache):
    # Tokens printed before they named the file and its hash carry the scenario's
    # hash, which covers the C file the scenario builds.
    source = counter_file(tmp_path)
    (tmp_path / "counter.toml").write_text(
        '[scenario]\nstructure = "tmpcounter"\nsource = "counter.c"\n'
        '[threads]\nprograms = [["inc"], ["inc"]]\n[variants]\nracy = { expect = "clean" }\n')
    target = load(tmp_path / "counter.toml").target("racy")
    token = with_fields(run_failure(target, [0, 1, 0, 1]).token, drop=("src", "sh"))
    assert not [f for f in token_fields(token) if f.startswith(("src=", "sh="))]
    edit(source, EXTRA_LOAD)
    proc = lfstress("replay", token, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "scenario" in proc.stdout and "changed since this token was made" in proc.stdout
    assert "the trace differs from the recorded one" in proc.stdout
    assert "not deterministic" not in proc.stdout + proc.stderr


def test_a_built_in_token_tells_an_lfstress_change_from_non_determinism():
    # A trace hash that no longer matches, as after a change to what the engine records.
    token = run_failure(story_target("classic-aba", "naive"), [0] * 5 + [1] * 20, strict=False).token
    recorded = dict(line.partition("=")[::2] for line in token_fields(token))
    other_trace = "0" * 12 + "," + recorded["h"].split(",")[1]
    # The same lfstress: the code depends on the process.
    with pytest.raises(NotDeterministic, match="depends on the process"):
        replay(decode(with_fields(token, h=other_trace)))
    # Another lfstress: said, and the replay goes on.
    done = replay(decode(with_fields(token, h=other_trace, sh="0" * 16)))
    assert done.notes and "lfstress's native code changed since this token was made" in done.notes[0]
    assert "the trace differs from the recorded one" in done.notes[0]
    # A token too old to say: not blamed on the code either.
    done = replay(decode(with_fields(token, drop=("sh",), h=other_trace)))
    assert "an older lfstress made it" in done.notes[0]


# ------------------------------------------------------------ tokens printed before

# Printed by lfstress before tokens named a structure's file: a story, a built-in
# scenario, the Python API, and the example scenario (by its relative path).
RECORDED = {
    "story": ("lfs1.cnM9bXNxdWV1ZS9uYWl2ZQpvPWNsZWFudXA9MQppPTEKcD1kZXF1ZXVlCmM9MCo4Cmg9NzM0NWZiMjQxODk1LDEw"
              "CnNjPWVzc2F5QDkzY2JlZGFj", "use-after-free"),
    "scenario": ("lfs1.enjaNcw5DoAgEADAfp9CjAKCiskm_sQsV6RRAmrl47WxmHYqniUkG0q3U7oDHAgJBWTMR34-Tb7qNitwyFvBppYzBRtqT"
                 "f0wRiut4Y0UUN3frGRpiVL32ntlFPEX1zQdYw", "aba"),
    "api": ("lfs1.enjaK7bNLS4sTS1N1c9LzCxL5cq35cq0NeQqsE1JBQvXQGmd1DwwbWWkAxXhSrY10DLWM9QyMtAz0DLhyrBNTLYwBEIjs2STN"
            "B1jcwCfoBye", "aba"),
    "ring": ("lfs1.enjaLc1BDsIgEEDR_RylaYChNLWLSbyJqdNBSSi0IEkXHl5N_Ju3_JVKSA-dMi8VMkEghJ1WOZo0ef8FJtNZhd2oTDfASdjH4"
             "HOP5hs86TIj82ommYepRweVqbKkpYRctZzLtkep-je63Zv3UtQrb_Hq2NrJoHGjdx9UKipx", "duplicate-value"),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_tokens_printed_before_still_replay(name, monkeypatch, build_cache):
    token, kind = RECORDED[name]
    monkeypatch.chdir(ROOT)     # where the ring token was printed: it names its scenario relative to it
    done = replay(decode(token))
    assert done.result.violations[0].kind == kind, done.result.violations
    if name == "ring":
        assert done.target.source == str(EXAMPLES / "ring_buffer.c")
        assert decode(done.token).target.source == done.target.source   # replayed: now it names the file
