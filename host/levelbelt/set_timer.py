"""Isometric set timer driven by belt time (sample index / rate), never the wall clock.

Get ready, then reps of hold and rest. Because it reads belt time, a paused or
accelerated simulator and a real belt produce the same phases for the same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SetPhase:
    name: str  # "GET READY", "SQUEEZE", "REST", "DONE"
    rep: int  # 1-based rep number (0 while getting ready)
    remaining_s: float
    phase_s: float


@dataclass(frozen=True)
class IsometricSet:
    reps: int = 10
    hold_s: float = 3.0
    rest_s: float = 5.0
    get_ready_s: float = 3.0

    def __post_init__(self) -> None:
        if self.reps < 1 or self.hold_s <= 0 or self.rest_s < 0 or self.get_ready_s < 0:
            raise ValueError("reps >= 1, hold > 0, rest >= 0 and get-ready >= 0 are required")

    @property
    def total_s(self) -> float:
        return self.get_ready_s + self.reps * self.hold_s + (self.reps - 1) * self.rest_s

    def phase_at(self, t_s: float) -> SetPhase:
        """Phase at `t_s` seconds after the set started."""
        if t_s < self.get_ready_s:
            return SetPhase("GET READY", 0, self.get_ready_s - t_s, self.get_ready_s)
        t = t_s - self.get_ready_s
        cycle = self.hold_s + self.rest_s
        rep = min(self.reps - 1, math.floor(t / cycle))
        into = t - rep * cycle
        if into < self.hold_s:
            return SetPhase("SQUEEZE", rep + 1, self.hold_s - into, self.hold_s)
        if rep + 1 < self.reps and into < cycle:
            return SetPhase("REST", rep + 1, cycle - into, self.rest_s)
        return SetPhase("DONE", self.reps, 0.0, 0.0)
