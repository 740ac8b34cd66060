"""``urw``: a uniform random walk over interleavings.

Choosing uniformly among enabled threads (``random``) over-samples schedules
that switch early: with two threads of 20 and 2 steps, a uniform step choice
runs the short thread first half the time, although only 1 interleaving in
231 does. URW (the ASPLOS 2025 paper on uniform random walks of interleavings)
weights each choice by the number of ways to finish the execution after it.
If thread t has r_t steps left, that number is the multinomial
(Σr)! / Π r_t!, and the fraction of it that starts with t is exactly
r_t / Σr — so picking t with probability proportional to r_t samples every
interleaving of fixed-length threads uniformly.

Approximation, as the issue allows: thread lengths are not fixed (a failed
CAS retries, a blocked thread waits), so r_t is *estimated*: the steps thread
t took in the solo run (``solo_profile``) minus the steps it has taken so
far, never less than 1 while it is unfinished. Draws use the shared PRNG.
"""

from __future__ import annotations

from .base import BasePolicy, SplitMix64, solo_profile


class URWPolicy(BasePolicy):
    name = "urw"

    def __init__(self) -> None:
        self._profile: list[int] | None = None
        self._profile_for: int | None = None
        self._taken: list[int] = []
        self._rng = SplitMix64(0)

    def start(self, ex, seed: int) -> None:
        if self._profile_for != id(ex):
            self._profile = solo_profile(ex)
            self._profile_for = id(ex)
        self._taken = [0] * ex.nthreads
        self._rng = SplitMix64(seed)

    def choose(self, mask: int, step: int) -> int:
        if mask & (mask - 1) == 0:
            tid = mask.bit_length() - 1
        else:
            weights = []
            m = mask
            while m:
                low = m & -m
                t = low.bit_length() - 1
                weights.append((t, max(1, self._profile[t] - self._taken[t])))
                m ^= low
            r = self._rng.below(sum(w for _, w in weights))
            for tid, w in weights:
                if r < w:
                    break
                r -= w
        self._taken[tid] += 1
        return tid

    def __repr__(self) -> str:
        return "URWPolicy()"
