"""``pct``: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi
and Nagarakatte, "A randomized scheduler with probabilistic guarantees of
finding bugs", ASPLOS 2010).

Each thread gets a random distinct priority (depth .. depth+n-1); d-1 change
points are drawn uniformly over the estimated k steps of an execution. The
highest-priority enabled thread always runs; when the execution reaches a
change point j, the thread about to run drops to priority d-j, below every
initial priority. A bug of *depth* d (it needs d ordering constraints to show)
is then found by each execution with probability at least 1/(n·k^(d-1)).

k is estimated from the solo run of the threads (``solo_profile``) unless
given; the exact draw order is documented in native/engine/search.c, which makes the
same choices for the same seed.
"""

from __future__ import annotations

from .. import _native
from .base import BasePolicy, SplitMix64, solo_profile


class PCTPolicy(BasePolicy):
    name = "pct"
    native = "LFS_SEARCH_PCT"  # its policy constant in native/engine/search.c

    def __init__(self, *, depth: int = 3, k: int | None = None) -> None:
        max_depth = _native.limit("LFS_SEARCH_MAX_DEPTH")
        if not 1 <= depth <= max_depth:
            from ..errors import UsageError
            raise UsageError(f"pct depth must be between 1 and {max_depth}, got {depth}")
        if k is not None and k < 1:
            from ..errors import UsageError
            raise UsageError(f"pct k (estimated steps) must be at least 1, got {k}")
        self.depth = depth
        self.k = k
        self.nthreads = 0
        self._priority: list[int] = []
        self._change: list[int] = []

    def prepare(self, ex) -> None:
        """Fix n and (if not given) estimate k for this execution."""
        self.nthreads = ex.nthreads
        if self.k is None:
            self.k = max(1, sum(solo_profile(ex)))

    def start(self, ex, seed: int) -> None:
        if self.k is None or self.nthreads != ex.nthreads:
            self.prepare(ex)
        rng = SplitMix64(seed)
        n, d = self.nthreads, self.depth
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = rng.below(i + 1)
            order[i], order[j] = order[j], order[i]
        priority = [0] * n
        for i, tid in enumerate(order):
            priority[tid] = d + i
        self._priority = priority
        self._change = [1 + rng.below(self.k) for _ in range(d - 1)]

    def _highest(self, mask: int) -> int:
        priority = self._priority
        best = -1
        while mask:
            low = mask & -mask
            t = low.bit_length() - 1
            if best < 0 or priority[t] > priority[best]:
                best = t
            mask ^= low
        return best

    def choose(self, mask: int, step: int) -> int:
        for j, point in enumerate(self._change, start=1):
            if point == step + 1:
                self._priority[self._highest(mask)] = self.depth - j
        return self._highest(mask)

    def guarantee(self) -> float:
        """Lower bound on the probability that one execution finds a bug of depth d."""
        return 1.0 / (max(self.nthreads, 1) * max(self.k or 1, 1) ** (self.depth - 1))

    def describe(self) -> dict:
        return {"scheduler": self.name, "depth": self.depth, "k": self.k, "guarantee": self.guarantee()}

    def __repr__(self) -> str:
        return f"PCTPolicy(depth={self.depth}, k={self.k})"
