"""Replay tokens: round trip, byte-identical replays (in this process and in
another), the seed form, malformed tokens, and the non-deterministic
structure that replay must catch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stress.cli import main
from stress.errors import UsageError
from stress.search import explore, run_failure
from stress.story import story_target
from stress.replay import NotDeterministic, replay
from stress.target import Target
from stress.token import decode, decode_choices, encode, encode_choices

from tests.testonly import TESTONLY


@pytest.fixture(scope="module")
def failing_token():
    result = explore(story_target("classic-aba", "naive"), "pct", seed=0, executions=200)
    assert result.reported is not None
    return result.reported.token


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_token_replayed_20_times_gives_20_identical_outputs_exit_1(capsys, failing_token):
    outputs = set()
    for _ in range(20):
        code, out, err = cli(capsys, "replay", failing_token)
        assert code == 1 and not err
        outputs.add(out)
    assert len(outputs) == 1
    (out,) = outputs
    assert "aba" in out.lower() and f"lfstress replay {failing_token}" in out


def test_token_replays_identically_in_another_process(capsys, failing_token):
    _, here, _ = cli(capsys, "replay", failing_token)
    other = subprocess.run([sys.executable, "-m", "stress", "replay", failing_token],
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 1, other.stderr
    assert other.stdout == here


def test_token_from_another_process_replays_here(capsys):
    other = subprocess.run(
        [sys.executable, "-m", "stress", "explore", "--story", "classic-aba", "--variant", "naive",
         "--scheduler", "pct", "--seed", "1", "--budget", "500", "--json"],
        capture_output=True, text=True, timeout=120)
    assert other.returncode == 1, other.stderr
    found = json.loads(other.stdout)["failure"]
    assert found["replay"] == f"lfstress replay {found['token']}"
    token = decode(found["token"])
    done = replay(token)                       # the recorded trace hash matches here
    assert found["kind"] in done.result.kinds
    code, out, _ = cli(capsys, "replay", found["token"])
    assert code == 1


def test_replay_by_seed_reproduces_the_execution_explore_found(capsys):
    result = explore(story_target("classic-aba", "naive"), "random", seed=0, executions=1000, shrink=False)
    seed = result.failure.seed
    code, out, _ = cli(capsys, "replay", "--story", "classic-aba", "--variant", "naive",
                       "--scheduler", "random", "--seed", str(seed), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["kind"] == result.failure.kind and report["seed"] == seed
    assert decode(report["token"]).choices == tuple(result.failure.choices)


def test_clean_replay_exits_0_and_prints_the_trace(capsys):
    target = story_target("classic-aba", "tagged")
    token = run_failure(target, [0, 0, 0, 0, 0] + [1] * 40, strict=False).token
    code, out, _ = cli(capsys, "replay", token)
    assert code == 0 and out.rstrip().endswith("clean: no violation")
    assert " T0 load head = " in out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 15), max_size=300),
       st.lists(st.integers(-(2**63), 2**63 - 1), max_size=4))
def test_token_round_trip(choices, initial):
    assert decode_choices(encode_choices(choices)) == tuple(choices)
    target = Target("msqueue", "naive", ((("dequeue", None),), tuple(("enqueue", v) for v in initial)),
                    tuple(initial), (("cleanup", 1),), 7, "fifo", 123, "s-1", "abcd")
    token = encode(target, [c % 2 for c in choices], trace_hash="0123456789ab", events=5)
    assert token.startswith("lfs1.") and token.isascii() and " " not in token
    back = decode(token)
    assert back.target == target and back.choices == tuple(c % 2 for c in choices)
    assert (back.trace_hash, back.events) == ("0123456789ab", 5)


BAD_TOKENS = [
    "", "hello", "lfs2.abc", "lfs1.", "lfs1.!!!!", "lfs1.garbage", "lfs1.a", "lfs1.eA",
    "lfs1." + "A" * 40,
]


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_malformed_tokens_raise_usage_error_only(bad):
    with pytest.raises(UsageError):
        decode(bad)


def test_damaged_tokens_raise_usage_error_only(failing_token, capsys):
    import random
    rng = random.Random(5)
    variants = [failing_token[:n] for n in range(0, len(failing_token), 7)]
    variants += [failing_token + "x", failing_token.replace("lfs1.", "lfs1.x")]
    for _ in range(300):
        chars = list(failing_token)
        i = rng.randrange(5, len(chars))
        chars[i] = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        variants.append("".join(chars))
    for bad in variants:
        try:
            decoded = decode(bad)
        except UsageError:
            continue
        # A mutation that still decodes must name a valid execution or fail with UsageError.
        try:
            replay(decoded)
        except (UsageError, NotDeterministic):
            pass
    code, out, err = cli(capsys, "replay", failing_token[:40])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "damaged" in err


@pytest.mark.parametrize("payload,message", [
    ("s=msqueue/nope\np=dequeue\nc=0", "unknown variant"),
    ("s=msqueue/naive\np=fly\nc=0", "no operation"),
    ("s=msqueue/naive\np=dequeue\nc=3", "names a thread"),
    ("s=msqueue/naive\np=dequeue\nc=0*x", "damaged"),
    ("s=msqueue/naive\np=dequeue\nc=0\no=cleanup=9", "between"),
    ("s=msqueue/naive\nc=0", "no field 'p'"),
    ("s=msqueue/naive\np=dequeue\nc=0\nq=1", "unknown field"),
])
def test_tokens_with_bad_fields_name_the_problem(payload, message):
    import base64
    token = "lfs1." + base64.urlsafe_b64encode(b"r" + payload.encode()).decode().rstrip("=")
    with pytest.raises(UsageError, match=message):
        replay(decode(token))


def test_non_deterministic_structure_is_detected_with_its_first_diverging_step():
    target = Target("testonly", "nondet", ((("bump", None), ("bump", None)), (("bump", None),)), source=TESTONLY)
    token = decode(run_failure(target, [0, 1, 0, 1, 0, 0]).token)
    with pytest.raises(NotDeterministic, match="not deterministic") as info:
        replay(token)
    assert info.value.step == 2     # T0's first store: the first value that depends on the global
    assert "run 1: 2 T0 store counter :=" in str(info.value)


def test_non_deterministic_structure_reported_by_the_cli_in_a_fresh_process():
    target = Target("testonly", "nondet", ((("bump", None),), (("bump", None),)), source=TESTONLY)
    token = run_failure(target, [0, 1, 0, 1]).token
    other = subprocess.run([sys.executable, "-m", "stress", "replay", token],
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 3
    assert "the code under test is not deterministic" in other.stderr and "first at step" in other.stderr


def test_deterministic_replay_of_the_same_structure_family_passes():
    # The naive queue, replayed twice in this process: no false alarm.
    target = story_target("classic-aba", "naive")
    token = decode(run_failure(target, [0] * 5 + [1] * 20, strict=False).token)
    replay(token)
    replay(token)


def test_changed_scenario_is_said(capsys):
    target = story_target("classic-aba", "naive")
    changed = Target(target.family, target.variant, target.programs, target.initial, target.options,
                     scenario="classic-aba", scenario_hash="00000000")
    token = run_failure(changed, [0] * 5 + [1] * 20, strict=False).token
    code, out, _ = cli(capsys, "replay", token)
    assert "scenario 'classic-aba' changed since this token was made" in out
    assert replay(decode(run_failure(target, [0] * 5, strict=False).token)).notes == []
