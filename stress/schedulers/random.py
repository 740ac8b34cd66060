"""``random``: at each step, a thread drawn uniformly among the enabled ones.

The draw happens only when two or more threads are enabled; the r-th enabled
thread (lowest id first) runs. native/engine/search.c makes the same choices.
"""

from __future__ import annotations

from .base import BasePolicy, SplitMix64


class RandomPolicy(BasePolicy):
    name = "random"
    native = "LFS_SEARCH_RANDOM"  # its policy constant in native/engine/search.c

    def __init__(self) -> None:
        self._rng = SplitMix64(0)

    def start(self, ex, seed: int) -> None:
        self._rng = SplitMix64(seed)

    def choose(self, mask: int, step: int) -> int:
        if mask & (mask - 1) == 0:
            return mask.bit_length() - 1
        r = self._rng.below(mask.bit_count())
        for _ in range(r):
            mask &= mask - 1
        return (mask & -mask).bit_length() - 1

    def __repr__(self) -> str:
        return "RandomPolicy()"
