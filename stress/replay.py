"""Replaying a token (or a seed) and telling whether the code under test is
deterministic.

The stepped engine makes an execution a pure function of its schedule, so a
replay must give the trace recorded in the token, byte for byte. When it does
not, the code under test depends on something outside the execution (a clock,
a global, an unseeded RNG, uninitialised memory): ``replay`` runs the schedule
once more in this process and shows the first step where the two runs differ.

A token that no longer fits because what it ran changed since it was made is
not the code's fault, and is said as such: the token records the hash of the
structure's C file (of lfstress's native code for a built-in) and of the
scenario it came from, so a replay tells "the file changed" apart from "the
code is not deterministic". The structure of a user's file is found from any
directory through the file the token names (or ``--source FILE.c``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .checks import CheckResult, check_execution
from .errors import LfstressError, UsageError
from .schedulers import ReplayDivergence, run_choices
from .target import Target
from .token import Token, encode, structure_hash, trace_hash


class NotDeterministic(LfstressError):
    """Replaying a schedule did not give the recorded trace."""

    def __init__(self, message: str, step: int | None) -> None:
        super().__init__(message)
        self.step = step


class TokenOutdated(UsageError):
    """The token's schedule no longer fits: what it ran changed since it was made."""


@dataclass
class Replayed:
    target: Target
    choices: list[int]
    ex: object                  # the Execution, ended
    result: CheckResult
    trace: str
    token: str
    notes: list[str] = field(default_factory=list)   # what changed since the token was made


def first_difference(a: str, b: str) -> tuple[int, str, str] | None:
    """(step, line of a, line of b) at the first differing trace line."""
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "(trace ends)"
        y = lb[i] if i < len(lb) else "(trace ends)"
        if x != y:
            line = x if i < len(la) else y
            try:
                step = int(line.split()[0])
            except (ValueError, IndexError):
                step = None
            return step, x, y
    return None


def _story_name(target: Target) -> tuple[str, int | None] | None:
    """(story, threads) when the token came from a built-in story."""
    from .story import STORIES
    m = re.fullmatch(r"(.+)-(\d+)t", target.scenario or "")
    name, threads = (m.group(1), int(m.group(2))) if m else (target.scenario, None)
    return (name, threads) if name in STORIES else None


def _scenario_hash_now(target: Target) -> str | None:
    """The current hash of the scenario (or story) the token came from; None
    when it is not known here."""
    story = _story_name(target)
    if story is not None:
        from .story import story_target
        return story_target(story[0], target.variant, threads=story[1]).scenario_hash
    from .scenario import find_scenario, load
    path = find_scenario(target.scenario)
    return load(path).content_hash if path is not None else None


def _scenario_change(target: Target) -> str | None:
    if not target.scenario or not target.scenario_hash:
        return None
    current = _scenario_hash_now(target)
    if current is None or current == target.scenario_hash:
        return None
    return (f"scenario {target.scenario!r} changed since this token was made "
            f"(hash {target.scenario_hash}, now {current})")


def scenario_note(target: Target) -> str | None:
    """Say so when the scenario the token came from has changed since (or is unknown here)."""
    if not target.scenario or not target.scenario_hash:
        return None
    if _scenario_hash_now(target) is None:
        return f"note: scenario {target.scenario!r} is not known here; replaying the programs in the token"
    change = _scenario_change(target)
    return f"note: {change}; replaying the programs recorded in the token" if change else None


def load_structure(target: Target, source: str | Path | None = None) -> Target:
    """Make the token's structure known in this process, and return the
    target naming its C file. ``source`` (``--source FILE.c``) names the file
    for a token that does not, or whose file has moved. Otherwise: the file
    the token names, else the scenario it came from (tokens made before they
    named the file). Built-in structures need nothing."""
    from .structures import catalogue, load_source, lookup, user_structure
    if source is not None:
        defined = load_source(source)
        if target.structure not in {info.name for info in defined}:
            raise UsageError(f"{source} defines {', '.join(info.name for info in defined)}, "
                             f"not {target.structure} (the token's structure)")
        return replace(target, source=user_structure(target.structure).source)
    if target.source is not None and Path(target.source).is_file():
        target.structure_info()
        return target
    if target.source is None and target.structure in catalogue():
        return target
    if target.scenario and _story_name(target) is None:
        from .scenario import find_scenario, load
        path = find_scenario(target.scenario)
        if path is not None:
            load(path)
            known = user_structure(target.structure)
            if known is not None:
                return replace(target, source=known.source)
    if target.source is not None or target.scenario:
        where = target.source or f"the scenario {target.scenario}"
        raise UsageError(f"{target.structure} is not a built-in structure, and {where}, which defines it, "
                         "is not found here: give its C file with --source FILE.c")
    lookup(target.family, target.variant)   # unknown: says which are known and how to load one
    return target


def what_changed(token: Token, target: Target) -> list[str]:
    """What ran this token and changed since it was made, as the token's
    ``sh`` records it: the user's C file, lfstress's native code. For tokens
    made before they recorded it: the scenario, whose hash covers the C file
    it builds."""
    recorded, now = token.structure_hash, structure_hash(target)
    if not recorded or not now:
        change = _scenario_change(target)
        return [change] if change else []
    (file_then, _, native_then), (file_now, _, native_now) = recorded.rpartition(","), now.rpartition(",")
    changes = []
    if file_then != file_now:
        changes.append(f"{target.source} changed since this token was made (hash {file_then}, now {file_now})")
    if native_then != native_now:
        changes.append(f"lfstress's native code changed since this token was made "
                       f"(sources {native_then}, now {native_now})")
    return changes


def _run_whole_schedule(ex, choices) -> list[int]:
    """Run a token's schedule; it no longer fits when a step names a thread
    that cannot run, or when the execution ends before the schedule does."""
    made = run_choices(ex, choices)
    if len(made) < len(choices):
        raise ReplayDivergence(len(made), f"the execution ends after {len(made)} steps, "
                                          f"the schedule has {len(choices)}")
    return made


def _attempt(target: Target, choices) -> tuple[object, list[int], str] | ReplayDivergence:
    ex = target.execution()
    try:
        made = _run_whole_schedule(ex, choices)
    except ReplayDivergence as exc:
        return exc
    return ex, made, ex.trace_text()


UNRECORDED = ("the token does not record what it ran (an older lfstress made it), so the structure "
              "or lfstress may have changed since")


def replay(token: Token, *, source: str | Path | None = None) -> Replayed:
    """Re-run a decoded token, twice.

    NotDeterministic: the two runs differ, or the trace differs from the
    recorded one although nothing the token records has changed (the code
    depends on the process). TokenOutdated: both runs find that the schedule
    no longer fits, and the structure, lfstress or the scenario changed since
    the token was made (or the token is too old to say). When the trace
    differs because of such a change, the replay goes on and its notes say so.
    """
    target = load_structure(token.target, source)
    changed = what_changed(token, target)
    why = "; ".join(changed) or (UNRECORDED if token.structure_hash is None else "")
    # Always two runs: a structure that reads a global or a clock may still
    # match the recorded hash on its first run in a fresh process.
    first, second = _attempt(target, token.choices), _attempt(target, token.choices)
    if isinstance(first, ReplayDivergence) and isinstance(second, ReplayDivergence) \
            and first.step == second.step and why:
        raise TokenOutdated(f"the token's schedule no longer fits at step {first.step} ({first}): {why}")
    for attempt in (first, second):
        if isinstance(attempt, ReplayDivergence):
            raise NotDeterministic(
                f"the code under test is not deterministic: the recorded schedule no longer fits at "
                f"step {attempt.step} ({attempt})", attempt.step)
    ex, made, trace = first
    diff = first_difference(trace, second[2])
    if diff is not None:
        step, a, b = diff
        raise NotDeterministic(
            "the code under test is not deterministic: the same schedule gave two different "
            f"traces in this process, first at step {step}:\n"
            f"  run 1: {a.strip()}\n  run 2: {b.strip()}\n"
            "(it reads something outside the execution: a clock, a global, an unseeded RNG?)", step)
    trace_differs = token.trace_hash is not None and trace_hash(trace) != token.trace_hash
    if trace_differs and not why:
        raise NotDeterministic(
            "the code under test is not deterministic: the trace differs from the one recorded in the "
            f"token (hash {token.trace_hash}, {token.events} events; now {trace_hash(trace)}, "
            f"{trace.count(chr(10))} events) although it repeats in this process and nothing it ran "
            "has changed: it depends on the process (addresses, environment)", None)
    if trace_differs:
        notes = [f"note: {why}: the trace differs from the recorded one; this is what the schedule does now"]
    else:   # the same trace: only a change to the user's own file is worth a word
        notes = [f"note: {c}" for c in changed if target.source is not None and c.startswith(target.source)]
    if not any("scenario" in n for n in notes):
        note = scenario_note(target)
        notes += [note] if note else []
    result = check_execution(ex)
    new_token = encode(target, made, trace_hash=trace_hash(trace), events=trace.count("\n"))
    return Replayed(target, made, ex, result, trace, new_token, notes)


def replay_seed(target: Target, scheduler: str, seed: int, *, depth: int = 3, k: int | None = None) -> Replayed:
    """Re-run execution `seed` of a seeded policy (random, pct, urw)."""
    from .schedulers import make_policy, run_policy
    if scheduler not in ("random", "pct", "urw"):
        raise UsageError(f"a seed names one execution of random, pct or urw; {scheduler} "
                         "failures are replayed by their token")
    ex = target.execution()
    policy = make_policy(scheduler, depth=depth, k=k)
    made = run_policy(ex, policy, seed)
    trace = ex.trace_text()
    token = encode(target, made, trace_hash=trace_hash(trace), events=trace.count("\n"))
    return Replayed(target, made, ex, check_execution(ex), trace, token)
