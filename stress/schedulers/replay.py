"""``replay``: run a recorded choice sequence.

Step i runs ``choices[i]``, which must be enabled (else ReplayDivergence says
at which step the schedule stopped fitting). Past the end of the sequence the
default rule finishes the execution: keep running the current thread, then
the lowest enabled id — so a truncated schedule is still a whole execution.
"""

from __future__ import annotations

from typing import Sequence

from .base import BasePolicy, ReplayDivergence, default_choice, enabled_threads


class ReplayPolicy(BasePolicy):
    name = "replay"

    def __init__(self, choices: Sequence[int]) -> None:
        self.choices = list(choices)
        self._current: int | None = None

    def start(self, ex, seed: int) -> None:
        self._current = None

    def choose(self, mask: int, step: int) -> int:
        if step < len(self.choices):
            tid = self.choices[step]
            if not (0 <= tid < 64 and mask >> tid & 1):
                raise ReplayDivergence(step, f"step {step} chooses T{tid}, but only "
                                       + ", ".join(f"T{t}" for t in enabled_threads(mask)) + " can run")
        else:
            tid = default_choice(mask, self._current)
        self._current = tid
        return tid

    def __repr__(self) -> str:
        return f"ReplayPolicy({len(self.choices)} choices)"
