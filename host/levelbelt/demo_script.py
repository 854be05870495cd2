"""What the simulated athlete does in `levelbelt demo`, and which phase the screen shows.

One cycle: an isometric set (get ready, squeeze/rest reps) that lines up exactly with
`IsometricSet`, then a single-leg hold on each leg. The weak side's stance gets more
and bigger drops. Every block has a fixed length, so the phase is a pure function of
belt time and the screen and the athlete stay in step however fast the simulation runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from levelbelt.set_timer import IsometricSet
from levelbelt.sim.body import HipDrop, NearMiss, Segment, Squeeze, Still, Sway, WeightShift

WeakSide = Literal["left", "right", "none"]

CALIBRATION_S = 3.0
HOLD_S = 20.0
SHIFT_S = 0.5
SQUEEZE_RAMP_S = 0.3
DEMO_SET = IsometricSet(reps=5, hold_s=3.0, rest_s=5.0, get_ready_s=3.0)


@dataclass(frozen=True)
class DemoPhase:
    name: str  # "CALIBRATING", "GET READY", "SQUEEZE", "REST", "HOLD LEFT", "HOLD RIGHT"
    rep: int
    reps: int
    remaining_s: float
    phase_s: float


def cycle_s() -> float:
    return DEMO_SET.total_s + 2 * HOLD_S


def phase_at(t_s: float) -> DemoPhase:
    """Phase shown at belt time `t_s` (seconds since the belt's first sample)."""
    if t_s < CALIBRATION_S:
        return DemoPhase("CALIBRATING", 0, 0, CALIBRATION_S - t_s, CALIBRATION_S)
    t = (t_s - CALIBRATION_S) % cycle_s()
    if t < DEMO_SET.total_s:
        p = DEMO_SET.phase_at(t)
        return DemoPhase(p.name, p.rep, DEMO_SET.reps, p.remaining_s, p.phase_s)
    t -= DEMO_SET.total_s
    side = "LEFT" if t < HOLD_S else "RIGHT"
    return DemoPhase(f"HOLD {side}", 1, 1, HOLD_S - (t % HOLD_S), HOLD_S)


def _hold_block(stance: Literal["left", "right"], drops: int, rng: np.random.Generator,
                near_misses: int) -> list[Segment]:
    segs: list[Segment] = [WeightShift(stance, duration_s=SHIFT_S), Sway(1.5, 0.8)]
    for _ in range(drops):
        size = float(rng.uniform(7.5, 11.0))
        segs.append(HipDrop(stance, size_deg=size, hold_s=float(rng.uniform(0.4, 1.0))))
        segs.append(Sway(float(rng.uniform(1.5, 3.0)), 0.8))
    for _ in range(near_misses):
        segs += [NearMiss(stance, size_deg=float(rng.uniform(2.5, 3.5))), Sway(1.5, 0.8)]
    used = sum(s.total_s for s in segs) + SHIFT_S
    if used > HOLD_S:
        raise ValueError("demo hold block overflows its window")
    segs += [Sway(HOLD_S - used, 0.8), WeightShift("both", duration_s=SHIFT_S)]
    return segs


def _drops_for(stance: str, weak_side: WeakSide) -> int:
    # Standing on the weak side, the other side of the pelvis drops more often.
    if weak_side == "none":
        return 1
    return 3 if stance == weak_side else 1


def demo_script(weak_side: WeakSide, seed: int) -> Iterator[Segment]:
    """Endless script for the live demo (feed to `sim.body.iter_body`)."""
    rng = np.random.default_rng(seed)
    yield Still(CALIBRATION_S)
    while True:
        yield Sway(DEMO_SET.get_ready_s, 0.4)
        for rep in range(DEMO_SET.reps):
            hold = DEMO_SET.hold_s - 2 * SQUEEZE_RAMP_S
            yield Squeeze(depth_deg=float(rng.uniform(3.0, 5.0)), onset_s=SQUEEZE_RAMP_S,
                          hold_s=hold, release_s=SQUEEZE_RAMP_S, settle_s=0.0)
            if rep + 1 < DEMO_SET.reps:
                yield Sway(DEMO_SET.rest_s, 0.4)
        for stance in ("left", "right"):
            yield from _hold_block(stance, _drops_for(stance, weak_side), rng,
                                   near_misses=1)
