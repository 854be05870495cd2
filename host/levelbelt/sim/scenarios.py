"""Ready-made body scripts for tests, benchmarks and the live demo.

Labels assume the firmware defaults: threshold 5 deg obliquity from neutral and a dwell
between 0.15 s and 0.35 s. With those, every "drop" stays beyond the threshold for more
than 0.4 s, every "touchdown" crosses it for less than 0.12 s and every "near_miss"
peaks below it (scripted size + the bounded sway amplitude < 5 deg). Every script starts
with a still neutral stance long enough for the calibration window.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from levelbelt.sim.body import (
    BodyTrace,
    Hike,
    HipDrop,
    NearMiss,
    Position,
    PositionName,
    Segment,
    Side,
    Squeeze,
    Still,
    Sway,
    TouchDown,
    WeightShift,
    simulate_body,
)

ASSUMED_THRESHOLD_DEG = 5.0
ASSUMED_DWELL_RANGE_S = (0.15, 0.35)
SINGLE_LEG_SWAY_DEG = 0.6
"""Sway bound during single-leg holds in these scenarios (margin around the threshold)."""


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def _single_leg_block(stance: Side, rng: np.random.Generator, drops: int) -> list[Segment]:
    """Weight onto one leg, a shuffled mix of events, weight back to both legs."""
    events: list[Segment] = [
        HipDrop(stance, size_deg=float(rng.uniform(7.0, 12.0)),
                hold_s=float(rng.uniform(0.4, 0.9)))
        for _ in range(drops)
    ]
    events += [
        NearMiss(stance, size_deg=float(rng.uniform(2.5, 3.8))),
        NearMiss(stance, size_deg=float(rng.uniform(2.5, 3.8))),
        # 80-120 ms keeps the gyro inside +-500 deg/s; the sacrum still sees several g.
        TouchDown(stance, peak_deg=float(rng.uniform(6.2, 7.5)),
                  duration_s=float(rng.uniform(0.08, 0.12))),
        TouchDown(stance, peak_deg=float(rng.uniform(6.2, 7.5)),
                  duration_s=float(rng.uniform(0.08, 0.12))),
        Hike(stance, size_deg=float(rng.uniform(3.0, 6.0))),
    ]
    order = rng.permutation(len(events))
    block: list[Segment] = [WeightShift(stance), Sway(1.5, SINGLE_LEG_SWAY_DEG)]
    for i in order:
        block.append(events[int(i)])
        block.append(Sway(float(rng.uniform(0.6, 1.5)), SINGLE_LEG_SWAY_DEG))
    block += [WeightShift("both"), Sway(2.0, 0.5)]
    return block


def labelled_session_script(seed: int = 0) -> list[Segment]:
    """About 80 s standing: 3 s still, quiet stance, per leg 3 drops (7-12 deg),
    2 near misses (2.5-3.8 deg), 2 touch-downs (80-120 ms, 6.2-7.5 deg) and a hike of the
    free side (3-6 deg, the opposite direction: a stance-aware detector must ignore it,
    one counting either side may fire on the larger ones), then three squeezes (2-6 deg)."""
    rng = np.random.default_rng(seed)
    script: list[Segment] = [Still(3.0), Sway(4.0, 0.5)]
    for stance in ("left", "right") if rng.uniform() < 0.5 else ("right", "left"):
        script += _single_leg_block(stance, rng, drops=3)
    for _ in range(3):
        script += [Squeeze(depth_deg=float(rng.uniform(2.0, 6.0)), hold_s=3.0), Sway(3.0, 0.5)]
    script.append(Still(2.0))
    return script


def labelled_session(rate_hz: float = 100.0, seed: int = 0) -> BodyTrace:
    """`labelled_session_script(seed)` simulated at rate_hz; labels are in `.events`."""
    return simulate_body(labelled_session_script(seed), rate_hz, seed)


def demo_loop(weak_side: Side, seed: int = 0, cycles: int | None = None) -> Iterator[Segment]:
    """Live-demo script (feed it to `iter_body`); endless unless cycles is given.

    weak_side is the weak hip abductor: standing on it the other side drops, so that
    stance gets more and bigger drops (8-12 deg) than the strong one (one 6-8 deg drop
    and a near miss). Each cycle ends with two 3 s squeezes, each followed by 5 s rest.
    """
    if weak_side not in ("left", "right"):
        raise ValueError(f"weak_side must be 'left' or 'right', got {weak_side!r}")
    rng = np.random.default_rng(seed)
    yield Still(3.0)
    n = 0
    while cycles is None or n < cycles:
        n += 1
        yield Sway(2.0, 0.5)
        for stance in (_other(weak_side), weak_side):
            yield WeightShift(stance)
            yield Sway(1.5, SINGLE_LEG_SWAY_DEG)
            if stance == weak_side:
                for _ in range(3):
                    yield HipDrop(stance, size_deg=float(rng.uniform(8.0, 12.0)),
                                  hold_s=float(rng.uniform(0.5, 1.2)))
                    yield Sway(float(rng.uniform(1.0, 2.5)), SINGLE_LEG_SWAY_DEG)
            else:
                yield HipDrop(stance, size_deg=float(rng.uniform(6.0, 8.0)))
                yield Sway(float(rng.uniform(1.0, 2.5)), SINGLE_LEG_SWAY_DEG)
                yield NearMiss(stance, size_deg=float(rng.uniform(2.5, 3.8)))
                yield Sway(float(rng.uniform(1.0, 2.5)), SINGLE_LEG_SWAY_DEG)
            yield WeightShift("both")
            yield Sway(2.0, 0.5)
        for _ in range(2):
            yield Squeeze(depth_deg=float(rng.uniform(3.0, 5.0)), hold_s=3.0, settle_s=0.0)
            yield Sway(5.0, 0.4)


def squeeze_set(
    reps: int = 6,
    hold_s: float = 3.0,
    rest_s: float = 5.0,
    depth_deg: float = 4.0,
    position: PositionName = "standing",
    seed: int = 0,
) -> list[Segment]:
    """Glute-squeeze set: 3 s still standing, optionally a move to seated/prone followed by
    3 s still for the new neutral capture, then reps of squeeze (depth +-20 %) and rest."""
    rng = np.random.default_rng(seed)
    script: list[Segment] = [Still(3.0)]
    if position != "standing":
        script += [Position(position), Still(3.0)]
    sway = 0.4 if position == "standing" else 0.2  # supported positions wander less
    for _ in range(reps):
        depth = depth_deg * float(rng.uniform(0.8, 1.2))
        script += [Squeeze(depth_deg=depth, hold_s=hold_s, settle_s=0.0), Sway(rest_s, sway)]
    return script
