"""Exploration: run many executions under a scheduler, check each, stop at
the first failure, shrink it, and hand it back as a replay token.

    result = explore(story_target("classic-aba", "naive"), "pct", seed=1, executions=10_000)
    result.stats.executions, result.failure.token, result.shrunk.after

Seeds. Execution number i of a run started with ``seed=S`` is seeded with
S+i, so the seed printed beside a failure re-runs exactly that execution
(``lfstress replay --seed``). ``jobs=N`` hands out consecutive chunks of the
seed space to N worker processes and merges them in seed order: with an
executions budget the result (first failing seed, its schedule, the
statistics) is the one a serial run gives; only wall-clock figures differ.

Checks. Each execution gets every check (``stress.checks.check_execution``:
engine, reachability with quiescence when it finished, values and
linearizability against the initial and final contents, garbage). With
``native=True`` the ``random`` and ``pct`` executions run whole in C
(native/engine/search.c) and only what the engine sees while stepping (aba,
use-after-free, double-free, wild pointers, pool exhaustion, livelock,
deadlock) stops the search; the failing schedule is then re-run and fully
checked here. With ``kinds``, C stops only at the wanted kinds it sees (or, if
it sees none of them, at any of its violations), and when the full checks
find no wanted kind there the search goes on from the next seed. Native search
is for raw volume; it cannot see a severed queue that no harmful access caused.

``exhaustive`` and ``hypothesis`` run in one process (the exhaustive frontier
is not split yet); they ignore ``jobs``.

Interruption. Ctrl-C (KeyboardInterrupt) stops the search, not the result:
``explore`` returns what ran so far, with ``stats.interrupted`` set and any
failure already found (re-run and checked, not shrunk). Worker processes
ignore SIGINT and finish their chunk; the parent stops handing out more.
"""

from __future__ import annotations

import os
import random as _random
import time
from dataclasses import dataclass, field
from typing import Collection, Sequence

from .checks import CheckResult, check_execution
from .engine import engine_kind_mask
from .errors import UsageError
from .schedulers import (
    NATIVE_SCHEDULERS,
    SCHEDULERS,
    ExhaustivePolicy,
    count_preemptions,
    make_policy,
    run_choices,
    run_policy,
    solo_profile,
)
from .token import Target, content_hash, encode, trace_hash

# Reclamation that actually reclaims within a few operations: scan the hazards
# / try to advance the epoch at every retire (the stories' and demo's choice).
EAGER_OPTIONS = {"hp_threshold": 1, "epoch_threshold": 1}


def story_hash(story) -> str:
    return content_hash(story.name, story.initial, story.programs, sorted(story.options.items()))


def story_target(name: str, variant: str, *, options: dict[str, int] | None = None,
                 capacity: int = 16, step_cap: int = 10_000, reuse: str = "lifo",
                 threads: int | None = None) -> Target:
    """The Target of a built-in story (stress/story.py) on one variant, with
    eager reclamation unless options say otherwise. ``threads=3`` adds a
    third thread running thread 1's program again (values shifted by 10)."""
    from .story import STORIES
    from .structures import lookup
    if name not in STORIES:
        raise UsageError(f"unknown story {name!r} (allowed: {', '.join(STORIES)})")
    story = STORIES[name]
    info = lookup("msqueue", variant)
    declared = {o.name for o in info.options}
    merged = {k: v for k, v in EAGER_OPTIONS.items() if k in declared}
    merged.update({k: v for k, v in story.options.items()})
    merged.update(options or {})
    programs = [tuple(p) for p in story.programs]
    scenario = story.name
    if threads is not None and threads != len(programs):
        if threads < len(programs):
            raise UsageError(f"story {name} has {len(programs)} threads; cannot run it with {threads}")
        extra = programs[-1]
        for n in range(len(programs), threads):
            programs.append(tuple((op, None if arg is None else arg + 10 * n) for op, arg in extra))
        scenario = f"{story.name}-{threads}t"
    full = dict(zip((o.name for o in info.options), info.option_values(merged)))
    return Target("msqueue", variant, tuple(programs), tuple(story.initial), tuple(full.items()),
                  capacity, reuse, step_cap, scenario,
                  content_hash(story_hash(story), threads or len(story.programs)))


# ----------------------------------------------------------------------
@dataclass(frozen=True)
class SchedulerSpec:
    """A scheduler and its parameters: picklable, so workers rebuild it."""

    name: str
    depth: int = 3
    k: int | None = None
    max_preemptions: int | None = None

    def make(self):
        return make_policy(self.name, depth=self.depth, k=self.k, max_preemptions=self.max_preemptions)


@dataclass
class Stats:
    executions: int = 0
    steps_total: int = 0
    steps_min: int | None = None
    steps_max: int = 0
    violating: int = 0
    seconds: float = 0.0
    first_violation_execution: int | None = None   # 1-based count of executions up to it
    first_violation_seconds: float | None = None
    guarantee: float | None = None                 # pct: 1/(n·k^(d-1))
    bound: int | None = None                       # exhaustive: preemption level reached
    fully_explored: bool | None = None             # exhaustive: the whole space was run
    verified: int | None = None                    # exhaustive: every schedule up to this many preemptions ran clean
    level_executions: int = 0                      # exhaustive: executions run at level ``bound``
    interrupted: bool = False                      # Ctrl-C: the figures are what ran so far

    @property
    def steps_avg(self) -> float:
        return self.steps_total / self.executions if self.executions else 0.0

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds if self.seconds > 0 else 0.0

    @property
    def violating_percent(self) -> float:
        return 100.0 * self.violating / self.executions if self.executions else 0.0

    def add(self, steps: int) -> None:
        self.executions += 1
        self.steps_total += steps
        self.steps_min = steps if self.steps_min is None else min(self.steps_min, steps)
        self.steps_max = max(self.steps_max, steps)

    def mark_first_violation(self, origin: float, execution: int | None = None) -> None:
        """The first failing execution (1-based; default: the last one added), and the
        seconds from ``origin`` (a time.perf_counter() reading) to it."""
        self.first_violation_execution = self.executions if execution is None else execution
        self.first_violation_seconds = time.perf_counter() - origin

    def add_until_first_violation(self, steps: int, failed: bool, origin: float) -> None:
        """Count an execution unless a failing one was counted already: Hypothesis runs
        more after it, to shrink, and those are not the search's."""
        if self.first_violation_execution is not None:
            return
        self.add(steps)
        if failed:
            self.violating += 1
            self.mark_first_violation(origin)

    def merge(self, other: "Stats") -> None:
        self.executions += other.executions
        self.steps_total += other.steps_total
        if other.steps_min is not None:
            self.steps_min = other.steps_min if self.steps_min is None else min(self.steps_min, other.steps_min)
        self.steps_max = max(self.steps_max, other.steps_max)
        self.violating += other.violating
        self.interrupted |= other.interrupted

    def to_json(self) -> dict:
        return {
            "executions": self.executions, "steps_min": self.steps_min or 0,
            "steps_avg": round(self.steps_avg, 2), "steps_max": self.steps_max,
            "executions_per_second": round(self.per_second, 1), "violating": self.violating,
            "violating_percent": round(self.violating_percent, 4),
            "first_violation_execution": self.first_violation_execution,
            "first_violation_seconds": self.first_violation_seconds,
            "seconds": round(self.seconds, 4), "pct_guarantee": self.guarantee,
            "exhaustive_bound": self.bound, "fully_explored": self.fully_explored,
            "verified_preemptions": self.verified,
            "interrupted": self.interrupted,
        }

    def lines(self) -> list[str]:
        out = [
            f"executions      {self.executions} in {self.seconds:.2f} s ({self.per_second:,.0f}/s)",
            f"steps/execution min {self.steps_min or 0}, avg {self.steps_avg:.1f}, max {self.steps_max}",
            f"violating       {self.violating} ({self.violating_percent:.3g}%)",
        ]
        if self.first_violation_execution is not None:
            out.append(f"first violation execution {self.first_violation_execution}, "
                       f"after {self.first_violation_seconds:.3f} s")
        if self.guarantee is not None:
            out.append(f"pct guarantee   each execution finds a depth-d bug with p >= {self.guarantee:.3g}")
        if self.bound is not None:
            out.append(f"exhaustive      {self.exhaustive_summary()}")
        return out

    def exhaustive_summary(self) -> str:
        """What an exhaustive search established, in words: the preemption
        bound up to which every schedule ran without a failure, and how far
        the next level got."""
        if self.fully_explored and not self.violating:
            return f"verified up to {_preemptions(self.verified)}: every interleaving was explored"
        upto = ("no preemption level was fully explored" if self.verified is None
                else f"verified up to {_preemptions(self.verified)}")
        if self.violating:
            return f"{upto}; a failure was found with {_preemptions(self.bound)}"
        if self.verified == self.bound:
            return f"{upto}, the bound asked for"
        return (f"{upto}; the budget ran out after {self.level_executions} executions "
                f"with {_preemptions(self.bound)}")


def _preemptions(n: int | None) -> str:
    return f"{n} preemption{'' if n == 1 else 's'}"


@dataclass
class Failure:
    """One failing execution: how to re-run it, and what the checks found."""

    target: Target
    choices: list[int]
    result: CheckResult
    seed: int | None
    preemptions: int
    trace_hash: str
    events: int

    @property
    def kind(self) -> str:
        return self.result.violations[0].kind

    @property
    def steps(self) -> int:
        return len(self.choices)

    @property
    def token(self) -> str:
        return encode(self.target, self.choices, trace_hash=self.trace_hash, events=self.events)


@dataclass
class ExploreResult:
    target: Target
    scheduler: SchedulerSpec
    seed: int
    native: bool
    jobs: int
    stats: Stats
    failure: Failure | None = None
    shrunk: object | None = None           # stress.shrink.ShrinkResult
    notes: list[str] = field(default_factory=list)

    @property
    def reported(self) -> Failure | None:
        """The failure to show: shrunk when shrinking ran, else as found."""
        if self.shrunk is not None:
            return self.shrunk.failure
        return self.failure


def run_failure(target: Target, choices: Sequence[int], *, seed: int | None = None, ex=None,
                strict: bool = True) -> Failure:
    """Re-run a schedule and check it: the Failure record (whatever its result)."""
    ex = ex or target.execution()
    masks: list[int] = []
    made = run_choices(ex, choices, masks=masks, lenient=not strict)
    result = check_execution(ex)
    trace = ex.trace_text()
    return Failure(target, made, result, seed, count_preemptions(made, masks), trace_hash(trace),
                   trace.count("\n"))


# ----------------------------------------------------------------------
@dataclass
class _Chunk:
    stats: Stats
    failing_seed: int | None = None
    failing_choices: list[int] | None = None


def _native_params(ex, spec: SchedulerSpec, kinds: frozenset[str] | None = None):
    lib, ffi = ex._lib, ex._ffi
    p = ffi.new("lfs_search_params_t *")
    p.want_kinds = engine_kind_mask(kinds)
    p.policy = 0 if spec.name == "random" else 1
    p.nthreads = ex.nthreads
    p.pct_depth = spec.depth
    p.pct_k = spec.k or 1
    if not lib.lfs_search_params_valid(p):
        raise UsageError(f"invalid native search parameters for {spec.name}")
    return p


def native_choices(ex, spec: SchedulerSpec, seed: int) -> list[int]:
    """The choices the native fast path makes for one seed (ex is left ended)."""
    params = _native_params(ex, spec)
    size = 1024
    while True:
        buf = ex._ffi.new("uint8_t[]", size)
        n = ex._lib.lfs_search_one(ex._ptr, params, seed, buf, size)
        if n >= 0:
            return list(ex._ffi.unpack(buf, n))
        size *= 8


def counts(result: CheckResult, kinds: frozenset[str] | None) -> bool:
    """Does this execution count as a failure: any violation, or — when the
    search looks for particular kinds — one of those?"""
    if result.ok:
        return False
    return kinds is None or bool(result.kinds & kinds)


def _counts_with_full_checks(ex, choices: Sequence[int], kinds: frozenset[str]) -> bool:
    """Re-run a native path's schedule in the engine and check it in full."""
    run_choices(ex, choices)
    return counts(check_execution(ex), kinds)


def _run_chunk(target: Target, spec: SchedulerSpec, first: int, count: int, stop: bool,
               deadline: float | None, native: bool, origin: float,
               kinds: frozenset[str] | None = None) -> _Chunk:
    chunk = _Chunk(Stats())
    try:
        _fill_chunk(chunk, target, spec, first, count, stop, deadline, native, origin, kinds)
    except KeyboardInterrupt:
        chunk.stats.interrupted = True   # what ran so far stands
        if chunk.failing_seed is not None and chunk.failing_choices is None:
            chunk.failing_choices = native_choices(target.execution(), spec, chunk.failing_seed)
    return chunk


def _fill_chunk(chunk: _Chunk, target: Target, spec: SchedulerSpec, first: int, count: int, stop: bool,
                deadline: float | None, native: bool, origin: float,
                kinds: frozenset[str] | None = None) -> None:
    ex = target.execution()
    stats = chunk.stats
    if native:
        lib, ffi = ex._lib, ex._ffi
        params = _native_params(ex, spec, kinds)
        out = ffi.new("lfs_search_stats_t *")
        done = 0
        step = 4096
        while done < count:
            n = min(step, count - done)
            lib.lfs_search_run(ex._ptr, params, first + done, n, 1 if stop else 0, out)
            part = Stats(out.executions, out.steps_total, out.steps_min if out.executions else None,
                         out.steps_max, out.violating)
            stats.merge(part)
            if out.first_violation >= 0 and chunk.failing_seed is None:
                candidate = first + done + out.first_violation
                choices = native_choices(ex, spec, candidate)
                # The engine saw a violation; with wanted kinds, the full checks decide
                # whether it is one (an engine violation of another kind may come with
                # a wanted one only they see). If not, search on from the next seed.
                if kinds is None or _counts_with_full_checks(ex, choices, kinds):
                    chunk.failing_seed, chunk.failing_choices = candidate, choices
                    stats.mark_first_violation(
                        origin, stats.executions - out.executions + out.first_violation + 1)
                    if stop:
                        break
                elif stop:
                    stats.violating -= 1
            done += out.executions
            if deadline is not None and time.perf_counter() > deadline:
                break
        return
    policy = spec.make()
    for seed in range(first, first + count):
        if deadline is not None and time.perf_counter() > deadline:
            break
        choices = run_policy(ex, policy, seed)
        stats.add(len(choices))
        if counts(check_execution(ex), kinds):
            stats.violating += 1
            if chunk.failing_seed is None:
                chunk.failing_seed = seed
                chunk.failing_choices = choices
                stats.mark_first_violation(origin)
            if stop:
                break


def _chunk_worker(args):
    return _run_chunk(*args)


def _worker_init() -> None:
    """Ctrl-C reaches the whole process group: the parent decides to stop."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _merge_chunks(chunks: list[_Chunk], stop: bool) -> tuple[Stats, _Chunk | None]:
    """Chunks in seed order -> the statistics a serial run has, and the first failing chunk."""
    total = Stats()
    first = None
    for chunk in chunks:
        if first is None and chunk.failing_seed is not None:
            first = chunk
            total.first_violation_execution = total.executions + chunk.stats.first_violation_execution
        total.merge(chunk.stats)
        if first is not None and stop:
            break
    return total, first


def _fold_chunks(chunks: list[_Chunk], stop: bool) -> _Chunk:
    """Consecutive chunks as one, which merges with the later ones as they would have."""
    total, first = _merge_chunks(chunks, stop)
    if first is None:
        return _Chunk(total)
    total.first_violation_seconds = first.stats.first_violation_seconds
    return _Chunk(total, first.failing_seed, first.failing_choices)


def explore(
    target: Target,
    scheduler: str | SchedulerSpec = "pct",
    *,
    seed: int = 0,
    executions: int | None = None,
    seconds: float | None = None,
    jobs: int = 1,
    native: bool = False,
    stop_at_first: bool = True,
    shrink: bool = True,
    shrink_attempts: int = 2000,
    shrink_seconds: float = 5.0,
    depth: int = 3,
    k: int | None = None,
    max_preemptions: int | None = None,
    database_key: bytes | None = None,
    kinds: Collection[str] | None = None,
) -> ExploreResult:
    """Run executions of target under a scheduler until the budget (executions
    and/or seconds; at least one) runs out, or — unless stop_at_first is
    False — the first failure. See the module docstring. ``database_key``:
    under ``hypothesis``, save failing schedules in Hypothesis's example
    database under this key and try them first next time. ``kinds``: only an
    execution with a violation of one of these kinds counts as a failure (and
    shrinking keeps one of them); the others are counted and passed over."""
    spec = scheduler if isinstance(scheduler, SchedulerSpec) else SchedulerSpec(
        scheduler, depth=depth, k=k, max_preemptions=max_preemptions)
    if spec.name not in SCHEDULERS:
        raise UsageError(f"unknown scheduler {spec.name!r} (allowed: {', '.join(SCHEDULERS)})")
    if native and spec.name not in NATIVE_SCHEDULERS:
        raise UsageError(f"the native fast path runs {' and '.join(NATIVE_SCHEDULERS)} only, not {spec.name}")
    if executions is None and seconds is None and spec.name != "exhaustive":
        raise UsageError("give a budget: a number of executions, seconds, or both")
    if executions is not None and executions < 1:
        raise UsageError(f"the executions budget must be at least 1, got {executions}")
    if seconds is not None and seconds <= 0:
        raise UsageError(f"the time budget must be positive, got {seconds}")
    if not 1 <= jobs <= 256:
        raise UsageError(f"jobs must be between 1 and 256, got {jobs}")
    if seed < 0 or seed >= 1 << 63:
        raise UsageError(f"the seed must be between 0 and 2^63-1, got {seed}")
    wanted = frozenset(kinds) if kinds else None
    ex = target.execution()          # validates the target once, here
    if spec.name == "pct":
        policy = spec.make()
        policy.prepare(ex)
        spec = SchedulerSpec("pct", depth=spec.depth, k=policy.k)
    result = ExploreResult(target, spec, seed, native, jobs, Stats())
    origin = time.perf_counter()
    deadline = origin + seconds if seconds is not None else None
    if spec.name == "exhaustive":
        stats, failure = _explore_exhaustive(target, spec, executions, deadline, stop_at_first, origin, wanted)
        if jobs > 1:
            result.notes.append("exhaustive runs in one process: --jobs is ignored")
    elif spec.name == "hypothesis":
        stats, failure = _explore_hypothesis(target, seed, executions, deadline, origin, database_key, wanted)
        if jobs > 1:
            result.notes.append("hypothesis runs in one process: --jobs is ignored")
    else:
        stats, failure = _explore_seeds(target, spec, seed, executions, deadline, jobs, native,
                                        stop_at_first, origin, wanted)
    stats.seconds = time.perf_counter() - origin
    if spec.name == "pct":
        stats.guarantee = 1.0 / (target.nthreads * spec.k ** (spec.depth - 1))
    result.stats = stats
    result.failure = failure
    if stats.interrupted:
        result.notes.append(f"interrupted after {stats.executions} executions: the figures are what ran so far"
                            + ("; the failure is shown as found, not shrunk" if failure is not None else ""))
    elif failure is not None and shrink:
        from .shrink import shrink as shrink_failure
        # Keep the decisive violation's kind, or with wanted kinds the first wanted one.
        keep = next(v.kind for v in failure.result.violations if wanted is None or v.kind in wanted)
        try:
            result.shrunk = shrink_failure(failure, max_attempts=shrink_attempts, seconds=shrink_seconds,
                                           kind=keep)
        except KeyboardInterrupt:
            stats.interrupted = True
            result.notes.append("interrupted while shrinking: the failure is shown as found")
    return result


def _explore_seeds(target, spec, seed, executions, deadline, jobs, native, stop, origin, kinds=None):
    total = executions if executions is not None else 1 << 62
    chunk_size = 20_000 if native else 64
    if executions is not None and jobs > 1:
        chunk_size = max(1, min(chunk_size, -(-executions // (jobs * 4))))
    starts = range(seed, seed + total, chunk_size)

    def args(first):
        return (target, spec, first, min(chunk_size, seed + total - first), stop, deadline, native, origin,
                kinds)

    chunks: list[_Chunk] = []
    if jobs == 1:
        for first in starts:
            chunk = _run_chunk(*args(first))
            chunks.append(chunk)
            if len(chunks) >= 256:  # fold as we go: memory stays flat however long the run
                chunks = [_fold_chunks(chunks, stop)]
            if chunk.stats.interrupted:
                break
            if (chunk.failing_seed is not None and stop) or (deadline and time.perf_counter() > deadline):
                break
    else:
        chunks = _parallel(starts, args, jobs, stop, deadline)
    stats, first = _merge_chunks(chunks, stop)
    failure = None
    if first is not None:
        stats.first_violation_seconds = first.stats.first_violation_seconds
        failure = run_failure(target, first.failing_choices, seed=first.failing_seed)
    return stats, failure


def _parallel(starts, args, jobs, stop, deadline) -> list[_Chunk]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    results: dict[int, _Chunk] = {}
    it = iter(enumerate(starts))
    pending = {}
    done_upto = 0        # chunks [0, done_upto) are all back
    found_at = None      # index of the first failing chunk in seed order, once known
    interrupted = False
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
        def submit() -> bool:
            item = next(it, None)
            if item is None:
                return False
            index, first = item
            pending[pool.submit(_chunk_worker, args(first))] = index
            return True

        for _ in range(jobs * 2):
            if not submit():
                break
        while pending:
            try:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:  # running chunks finish (workers ignore SIGINT), no new ones
                interrupted = True
                for future in pending:
                    future.cancel()
                break
            for future in finished:
                index = pending.pop(future)
                results[index] = future.result()
            while done_upto in results:
                if results[done_upto].failing_seed is not None and found_at is None:
                    found_at = done_upto
                done_upto += 1
            out_of_time = deadline is not None and time.perf_counter() > deadline
            if (found_at is not None and stop) or out_of_time:
                if found_at is not None and stop and any(i < found_at for i in pending.values()):
                    continue  # an earlier chunk may still fail first
                for future in pending:
                    future.cancel()
                break
            while len(pending) < jobs * 2 and submit():
                pass
        for future, index in list(pending.items()):
            if not future.cancelled():
                try:
                    results[index] = future.result()
                except Exception:  # pragma: no cover - a worker died while we stop
                    pass
    ordered = []
    for i in range(len(results) + 1):
        if i not in results:
            break
        ordered.append(results[i])
    if interrupted:
        ordered.append(_Chunk(Stats(interrupted=True)))
    return ordered


def _explore_exhaustive(target, spec, executions, deadline, stop, origin, kinds=None):
    ex = target.execution()
    policy = ExhaustivePolicy(max_preemptions=spec.max_preemptions)
    stats = Stats()
    failure = None
    index = 0
    try:
        while policy.has_next():
            if (executions is not None and index >= executions) or (deadline and time.perf_counter() > deadline):
                break
            choices = run_policy(ex, policy, index)
            index += 1
            stats.add(len(choices))
            if counts(check_execution(ex), kinds):
                stats.violating += 1
                if failure is None:
                    stats.mark_first_violation(origin)
                    failure = run_failure(target, choices)
                if stop:
                    break
    except KeyboardInterrupt:
        stats.interrupted = True
    stats.bound = policy.bound
    stats.fully_explored = policy.fully_explored and not stats.interrupted
    stats.level_executions = policy.level_executions
    # A failure at level b leaves levels below b verified, not b itself.
    stats.verified = policy.verified if not stats.violating else (policy.bound - 1 if policy.bound else None)
    return stats, failure


DATABASE_DIR = os.path.join(".hypothesis", "lfstress")


def example_database(key: bytes | None):
    """Hypothesis's directory database (failing examples replayed first next
    time), or None when no key asks for it."""
    if key is None:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase
    return DirectoryBasedExampleDatabase(DATABASE_DIR)


class _OutOfTime(Exception):
    pass


def _explore_hypothesis(target, seed, executions, deadline, origin, database_key=None, kinds=None):
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import Flaky, NoSuchExample

    from .schedulers.hypothesis_strategy import run_schedule, schedules

    ex = target.execution()
    stats = Stats()
    limit = executions if executions is not None else 10_000
    last_failing: list[list[int]] = []

    def fails(schedule: list[int]) -> bool:
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime
        choices = run_schedule(ex, schedule)
        failed = counts(check_execution(ex), kinds)
        if failed:
            last_failing[:] = [list(schedule)]
        stats.add_until_first_violation(len(choices), failed, origin)
        return failed

    found = None
    try:
        found = find(
            schedules(max_size=4 * max(sum(solo_profile(ex)), 8)), fails,
            settings=settings(max_examples=limit, database=example_database(database_key), deadline=None,
                              suppress_health_check=list(HealthCheck),
                              phases=[Phase.reuse, Phase.generate, Phase.shrink]),
            random=_random.Random(seed),
            database_key=database_key,
        )
    except (NoSuchExample, _OutOfTime, Flaky):  # Flaky: the budget ran out mid-shrink
        # Out of time while shrinking: the smallest failing schedule so far.
        found = last_failing[0] if last_failing else None
    except KeyboardInterrupt:
        stats.interrupted = True
        found = last_failing[0] if last_failing else None
    if found is None:
        return stats, None
    choices = run_schedule(ex, found)
    return stats, run_failure(target, choices, seed=seed)
