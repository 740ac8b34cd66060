"""Scheduling policies: which enabled thread runs at each step.

Layout: ``base`` holds the protocol (``start`` / ``choose`` / ``finish``),
the shared PRNG (splitmix64, mirrored in native/engine/search.c), the loop
that runs a policy and the one that replays recorded choices
(``run_choices``); then one module per policy — ``random``, ``pct``,
``urw``, ``exhaustive``, and ``hypothesis_strategy`` (imported lazily: it
needs Hypothesis). ``make_policy`` builds one by name; a ``SchedulerSpec`` is the
name and parameters as plain data, for a search to hand to its workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import (  # noqa: F401
    BasePolicy as BasePolicy,
    Policy as Policy,
    ReplayDivergence as ReplayDivergence,
    SplitMix64 as SplitMix64,
    count_preemptions as count_preemptions,
    default_choice as default_choice,
    run_choices as run_choices,
    run_policy as run_policy,
    solo_profile as solo_profile,
)
from .exhaustive import ExhaustivePolicy as ExhaustivePolicy
from .pct import PCTPolicy as PCTPolicy
from .random import RandomPolicy as RandomPolicy
from .urw import URWPolicy as URWPolicy

SCHEDULERS = ("random", "pct", "urw", "exhaustive", "hypothesis")
# The policies native/engine/search.c also implements, by the name of their
# policy constant there (the value: ``stress._native.limit(name)``).
NATIVE_POLICIES = {policy.name: policy.native for policy in (RandomPolicy, PCTPolicy)}
NATIVE_SCHEDULERS = tuple(NATIVE_POLICIES)


def make_policy(name: str, *, depth: int = 3, k: int | None = None,
                max_preemptions: int | None = None):
    """A fresh per-execution policy by name (``hypothesis`` is driven by
    stress.search, not built here)."""
    from ..errors import UsageError
    if name == "random":
        return RandomPolicy()
    if name == "pct":
        return PCTPolicy(depth=depth, k=k)
    if name == "urw":
        return URWPolicy()
    if name == "exhaustive":
        return ExhaustivePolicy(max_preemptions=max_preemptions)
    raise UsageError(f"unknown scheduler {name!r} (allowed: {', '.join(SCHEDULERS)})")


@dataclass(frozen=True)
class SchedulerSpec:
    """A scheduler and its parameters: plain data, so workers rebuild it."""

    name: str
    depth: int = 3
    k: int | None = None
    max_preemptions: int | None = None

    def make(self):
        return make_policy(self.name, depth=self.depth, k=self.k, max_preemptions=self.max_preemptions)
