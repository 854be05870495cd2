"""Running per-side figures for the live screen, updated from each display-rate batch.

Single-leg holds count for the standing leg: time inside the level band, hip drops
(the belt's own cues) and the deepest one. Squeezes record how far the pelvis tilted
back from where the squeeze started. These are the live figures a coach reads during a
session; the session's scores come from the scoring module once the session is saved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass
class SideTally:
    hold_samples: int = 0
    in_band: int = 0
    drops: int = 0
    peak_drop_deg: float = 0.0
    squeezes: int = 0
    squeeze_depth_sum_deg: float = 0.0

    @property
    def in_band_pct(self) -> float | None:
        return 100.0 * self.in_band / self.hold_samples if self.hold_samples else None

    @property
    def mean_squeeze_deg(self) -> float | None:
        return self.squeeze_depth_sum_deg / self.squeezes if self.squeezes else None

    def copy(self) -> SideTally:
        return SideTally(self.hold_samples, self.in_band, self.drops, self.peak_drop_deg,
                         self.squeezes, self.squeeze_depth_sum_deg)


class Tallies:
    """Left and right tallies plus the squeeze in progress."""

    def __init__(self) -> None:
        self.sides = {"left": SideTally(), "right": SideTally()}
        self._squeeze_start_deg: float | None = None
        self._squeeze_min_deg = 0.0
        self._squeeze_side = "either"
        self.last_squeeze_deg: float | None = None

    def add_hold(self, stance: str, obl_deg: NDArray[np.float64], band_deg: float) -> None:
        tally = self.sides.get(stance)
        if tally is None or obl_deg.size == 0:
            return
        tally.hold_samples += int(obl_deg.size)
        tally.in_band += int(np.count_nonzero(np.abs(obl_deg) <= band_deg))

    def add_drop(self, stance: str, peak_deg: float) -> None:
        tally = self.sides.get(stance)
        if tally is None:
            return
        tally.drops += 1
        tally.peak_drop_deg = max(tally.peak_drop_deg, peak_deg)

    def squeeze(self, side: str, tilt_deg: NDArray[np.float64]) -> None:
        """Samples during a squeeze; posterior tilt is negative, so depth = start - min."""
        if tilt_deg.size == 0:
            return
        if self._squeeze_start_deg is None:
            self._squeeze_start_deg = float(tilt_deg[0])
            self._squeeze_min_deg = float(tilt_deg[0])
            self._squeeze_side = side
        self._squeeze_min_deg = min(self._squeeze_min_deg, float(tilt_deg.min()))
        self.last_squeeze_deg = self._squeeze_start_deg - self._squeeze_min_deg

    def end_squeeze(self) -> None:
        """Close the squeeze in progress (called when the phase leaves SQUEEZE)."""
        if self._squeeze_start_deg is None:
            return
        depth = self._squeeze_start_deg - self._squeeze_min_deg
        for name, tally in self.sides.items():
            if self._squeeze_side == name or self._squeeze_side not in self.sides:
                tally.squeezes += 1
                tally.squeeze_depth_sum_deg += depth
        self._squeeze_start_deg = None

    def snapshot(self) -> dict[str, SideTally]:
        return {k: v.copy() for k, v in self.sides.items()}
