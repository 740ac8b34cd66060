"""Running one scenario × variant: the search portfolio and the verdict.

A variant's search runs its schedulers in turn (by default Hypothesis-
generated schedules, then PCT), each with an equal share of the budget, until
a violation is found. The verdict compares what was found with what the
scenario expects:

- ``bug``:   ok when a violation of one of the named kinds was found;
- ``clean``: ok when nothing was found.

Generated programs (``[threads.generate]``) are drawn per round from the seed
for the seed-driven schedulers; under ``hypothesis`` the programs and the
schedule are drawn together by Hypothesis, so it shrinks both. Under
``hypothesis`` the example database (stress/search/hypothesis_search.py)
replays an item's failure first the next time (``use_database``).
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .coverage import Context, CoverageWarning, clean_but, missing
from .coverage import warnings as coverage_warnings
from .scenario import Scenario, VariantPlan, generator_ops
from .search import Failure, Stats, explore
from .search.hypothesis_search import hypothesis_search
from .token import Target


@dataclass
class VariantOutcome:
    scenario: Scenario
    plan: VariantPlan
    seed: int
    stats: Stats
    failure: Failure | None
    scheduler: str | None            # the one that found the failure
    notes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "bug" if self.failure is not None else "clean"

    @property
    def found_kinds(self) -> frozenset[str]:
        return self.failure.result.kinds if self.failure is not None else frozenset()

    def warnings(self) -> list[CoverageWarning]:
        """Found nothing: the required coverage goals missed, then what the
        variant exists for that never happened (stress/coverage.py)."""
        if self.failure is not None:
            return []
        return coverage_warnings(self.stats.coverage, self._coverage_context, self.plan.coverage)

    @functools.cached_property
    def _coverage_context(self) -> Context:
        return Context.of(round_target(self.scenario, self.plan.name, self.seed, 0).execution())

    @property
    def ok(self) -> bool:
        if self.plan.expect == "clean":
            return (self.failure is None and not self.stats.interrupted  # not established
                    and not missing(self.stats.coverage, self.plan.coverage))
        return bool(self.found_kinds & set(self.plan.kinds))

    @property
    def item_id(self) -> str:
        return f"{self.scenario.path.name}::{self.plan.name}"

    def replay_command(self) -> str | None:
        if self.failure is None:
            return None
        from .search.supervised import ended
        return f"lfstress replay {'--isolate ' if ended(self.failure) else ''}{self.failure.token}"

    def pytest_command(self) -> str:
        return f"pytest '{_shown(self.scenario.path)}::{self.plan.name}' --stress-seed={self.seed}"

    def verdict(self) -> str:
        """One sentence a person can act on."""
        if self.stats.interrupted:
            found = (f"found {', '.join(sorted(self.found_kinds))}" if self.failure is not None
                     else "nothing found so far")
            return f"interrupted after {self.stats.executions} executions: {found}"
        warnings = self.warnings()
        if self.ok:
            if self.plan.expect == "bug":
                return f"found the known bug ({', '.join(sorted(self.found_kinds))}) as expected"
            return clean_but(warnings) if warnings else "clean, as expected"
        if self.plan.expect == "clean" and self.failure is None:
            return (f"expected clean with coverage = [{', '.join(self.plan.coverage)}]; "
                    f"{clean_but(missing(self.stats.coverage, self.plan.coverage))}")
        if self.plan.expect == "bug" and self.failure is None:
            return (f"the harness did not find the known bug within budget "
                    f"(expected one of: {', '.join(self.plan.kinds)}; {self.stats.executions} executions)"
                    + (f"; {clean_but(warnings)}" if warnings else ""))
        if self.plan.expect == "bug":
            return (f"found {', '.join(sorted(self.found_kinds))}, but the known bug is one of: "
                    f"{', '.join(self.plan.kinds)}")
        return f"expected clean, but found {', '.join(sorted(self.found_kinds))}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenario": self.scenario.path.name,
            "variant": self.plan.name,
            "structure": f"{self.scenario.structure}/{self.plan.variant}",
            "expected": self.plan.expect,
            "outcome": self.outcome,
            "ok": self.ok,
            "seed": self.seed,
            "stats": {"executions": self.stats.executions, "steps": self.stats.steps_total,
                      "seconds": round(self.stats.seconds, 3)},
            "message": self.verdict(),
            "interrupted": self.stats.interrupted,
            "coverage": self.stats.coverage.to_json(),
            "warnings": [w.to_json() for w in self.warnings()],
        }
        if self.failure is not None:
            decisive = self.failure.result.violations[0]
            out["violation"] = {
                "kind": decisive.kind, "kinds": sorted(self.found_kinds), "message": decisive.message,
                "scheduler": self.scheduler, "token": self.failure.token,
                "replay": self.replay_command(), "pytest": self.pytest_command(),
            }
        return out


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to here when it is below."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _split(total: float | int | None, parts: int, integer: bool):
    if total is None:
        return None
    share = total / parts
    return max(1, int(share)) if integer else share


def run_variant(scenario: Scenario, variant: str, *, seed: int | None = None,
                schedulers: tuple[str, ...] | None = None, executions: int | None = None,
                seconds: float | None = None, jobs: int = 1, use_database: bool = True,
                backend=None) -> VariantOutcome:
    """Search one variant of a scenario and judge the result (see module doc).
    Arguments given here override the scenario's [search]. ``backend``: where
    the searches run (stress.search.explore's)."""
    plan = scenario.plan(variant)
    search = plan.search
    seed = search.seed if seed is None else seed
    schedulers = schedulers or search.schedulers
    if executions is None and seconds is None:
        executions, seconds = search.executions, search.seconds
    total = Stats()
    started = time.perf_counter()
    outcome = VariantOutcome(scenario, plan, seed, total, None, None)
    rounds = scenario.generator.rounds if scenario.generator else 1
    for scheduler in schedulers:
        share_exec = _split(executions, len(schedulers), True)
        share_secs = _split(seconds, len(schedulers), False)
        if scheduler == "hypothesis" and scenario.generator is not None:
            stats, failure = _hypothesis_programs(scenario, variant, seed, share_exec, share_secs,
                                                  use_database, plan.kinds)
            total.merge(stats)
        else:
            failure = None
            for r in range(rounds):
                target = round_target(scenario, variant, seed, r)
                result = explore(
                    target, scheduler, seed=seed + r * 1_000_003,
                    executions=_split(share_exec, rounds, True),
                    seconds=_split(share_secs, rounds, False),
                    jobs=jobs, depth=search.depth, shrink=True, shrink_seconds=2.0,
                    example_database=use_database,
                    kinds=plan.kinds or None, backend=backend)
                total.merge(result.stats)
                outcome.notes.extend(result.notes)
                if result.reported is not None:
                    failure = result.reported
                    break
                if result.stats.interrupted:
                    break
        if failure is not None:
            outcome.failure = failure
            outcome.scheduler = scheduler
            break
        if total.interrupted:  # Ctrl-C: judge what ran so far (stats.interrupted says so)
            break
    total.seconds = time.perf_counter() - started
    return outcome


def round_target(scenario: Scenario, variant: str, seed: int, round_index: int) -> Target:
    """The target of one search round: generated programs are drawn from the
    seed and the round (explicit programs are the same every round)."""
    if scenario.generator is None:
        return scenario.target(variant)
    rng = random.Random(seed * 1_000_003 + round_index)
    return scenario.target(variant, scenario.generator.draw(rng, generator_ops(scenario)))


def _db_key(scenario: Scenario, variant: str) -> bytes:
    """Where Hypothesis keeps the failing examples of this item's drawn
    programs: changes with the file."""
    return f"lfstress:{scenario.name}:{scenario.content_hash}:{variant}:programs".encode()


def _hypothesis_programs(scenario: Scenario, variant: str, seed: int, executions: int | None,
                         seconds: float | None, use_database: bool,
                         kinds: tuple[str, ...] = ()) -> tuple[Stats, Failure | None]:
    """Programs and schedule drawn together by Hypothesis (find + shrink)."""
    from hypothesis import strategies as st

    from .strategies import programs as program_strategy
    from .strategies import run_schedule, schedules

    gen = scenario.generator
    programs = program_strategy(scenario.structure, threads=gen.threads, max_operations=gen.operations,
                                values=gen.values)

    def run(example):
        progs, schedule = example
        target = scenario.target(variant, progs)
        ex = target.execution()
        return target, ex, run_schedule(ex, schedule)

    started = time.perf_counter()
    return hypothesis_search(
        st.tuples(programs, schedules(max_size=16 * gen.threads * gen.operations)), run,
        seed=seed, executions=executions, deadline=started + seconds if seconds is not None else None,
        origin=started, database_key=_db_key(scenario, variant) if use_database else None,
        kinds=frozenset(kinds) if kinds else None)
