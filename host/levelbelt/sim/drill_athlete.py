"""A simulated athlete who follows a drill plan, and an offline run of a whole session.

`athlete_script` turns an expanded plan into body segments timed to the engine's phases:
squeezes start a reaction time after HOLD_START, single-leg holds begin with a weight
shift, rests put both feet down, a rezero moves to the new position and keeps still for
the belt's neutral capture. The weak side (a weak hip abductor / glute) shows as more and
bigger hip drops while standing on that leg and shallower squeezes of that glute.

`run_plan_offline` closes the loop without a link: body -> sensor -> the firmware's own
pipeline, with the drill engine driven by belt time and its SetStance / CaptureNeutral
actions applied to the pipeline, and the belt's CALIBRATED fed back to the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from levelbelt.engine import CaptureNeutral, DrillEngine, EngineEvent, SetStance
from levelbelt.firmware import belt_module
from levelbelt.plans import ExpandedPlan, PlannedPhase
from levelbelt.scoring import DropEvent
from levelbelt.sim.body import (
    HipDrop,
    NearMiss,
    Position,
    Segment,
    Squeeze,
    StanceName,
    Still,
    Sway,
    WeightShift,
)
from levelbelt.sim.source import sample_chunks
from levelbelt.weaker_side import Side

WeakSide = Literal["left", "right", "none"]

LEAD_S = 3.0
"""Still standing before the plan starts: the belt's boot calibration."""
CALIB_S = 1.0
"""The belt's neutral-capture window (still samples needed)."""
REACTION_S = 0.2
SQUEEZE_RAMP_S = 0.3
SHIFT_S = 0.5
# Hip drops per second of single-leg stance, and their size (deg), weak vs strong leg.
WEAK_DROP_RATE = 0.15
STRONG_DROP_RATE = 0.035
WEAK_DROP_DEG = (8.0, 12.0)
STRONG_DROP_DEG = (6.5, 9.0)
WEAK_SQUEEZE_DEG = (2.0, 3.0)
STRONG_SQUEEZE_DEG = (3.5, 5.0)


def _sway_deg(position: str) -> float:
    return 0.4 if position == "standing" else 0.2  # supported positions wander less


def _single_leg(stance: Literal["left", "right"], hold_s: float, weak: bool,
                rng: np.random.Generator) -> list[Segment]:
    """Weight on one leg, drops spread over the hold, a near miss when there is room."""
    rate = WEAK_DROP_RATE if weak else STRONG_DROP_RATE
    lo, hi = WEAK_DROP_DEG if weak else STRONG_DROP_DEG
    events: list[Segment] = [
        HipDrop(stance, size_deg=float(rng.uniform(lo, hi)), hold_s=float(rng.uniform(0.4, 0.9)))
        for _ in range(round(rate * hold_s))
    ]
    events.append(NearMiss(stance, size_deg=float(rng.uniform(2.5, 3.5))))
    if hold_s < SHIFT_S + 1.5:  # too short for anything but standing on the leg
        shift = min(SHIFT_S, hold_s / 2)
        return [WeightShift(stance, duration_s=shift), Sway(hold_s - shift, 0.6)]
    room = hold_s - SHIFT_S - 1.0
    while events and sum(e.total_s for e in events) > room * 0.8:
        events.pop()
    order = rng.permutation(len(events))
    free = room - sum(e.total_s for e in events)
    cuts = np.sort(rng.uniform(0.0, free, size=len(events)))
    pauses = np.diff(np.concatenate([[0.0], cuts, [free]]))
    segs: list[Segment] = [WeightShift(stance, duration_s=SHIFT_S), Sway(1.0, 0.6)]
    for i, k in enumerate(order):
        if pauses[i] > 1e-3:
            segs.append(Sway(float(pauses[i]), 0.6))
        segs.append(events[int(k)])
    if pauses[-1] > 1e-3:
        segs.append(Sway(float(pauses[-1]), 0.6))
    return segs


def athlete_script(plan: ExpandedPlan, weak_side: WeakSide, seed: int,
                   lead_s: float = LEAD_S, tail_s: float = 2.0) -> Iterator[Segment]:
    """Body segments for `plan`, starting `lead_s` before the plan's first phase.

    Each phase gets exactly its planned time (a rezero: the settle time plus the
    capture window), so the body and the engine stay in step when captures succeed.
    """
    rng = np.random.default_rng(seed)
    stance: StanceName = "both"
    carry = 0.0  # time the previous phase's movement ran into this one
    yield Still(lead_s)

    def fill(seconds: float, amp: float) -> Iterator[Segment]:
        if seconds > 1e-3:
            yield Sway(seconds, amp)

    for phase in plan.phases:
        length = phase.planned_s - carry
        carry = 0.0
        sway = _sway_deg(phase.position)
        if phase.kind == "rezero":
            move = min(3.0, max(0.5, 0.6 * phase.planned_s))
            yield Position(phase.position, duration_s=move)
            yield Still(max(0.1, length - move) + CALIB_S + 1.0 / 100)
            continue
        on_one_leg = phase.kind == "hold" and phase.block_kind == "single_leg"
        if stance != "both" and not on_one_leg:
            shift = min(SHIFT_S, max(0.05, length))
            yield WeightShift("both", duration_s=shift)
            stance = "both"
            length -= shift
        if phase.kind in ("get_ready", "rest"):
            yield from fill(length, sway)
        elif phase.block_kind == "isometric":
            yield from _squeeze(phase, length, weak_side, sway, rng)
            carry = SQUEEZE_RAMP_S
        else:
            side = phase.side
            assert side in ("left", "right")
            yield from _single_leg(side, length, weak_side == side, rng)
            stance = side
    if stance != "both":
        yield WeightShift("both", duration_s=SHIFT_S)
    yield Sway(tail_s, 0.4)


def _squeeze(phase: PlannedPhase, length: float, weak_side: WeakSide, sway: float,
             rng: np.random.Generator) -> Iterator[Segment]:
    lo, hi = WEAK_SQUEEZE_DEG if phase.side == weak_side else STRONG_SQUEEZE_DEG
    yield Sway(REACTION_S, sway)
    yield Squeeze(depth_deg=float(rng.uniform(lo, hi)), onset_s=SQUEEZE_RAMP_S,
                  hold_s=max(0.0, length - REACTION_S - SQUEEZE_RAMP_S),
                  release_s=SQUEEZE_RAMP_S, settle_s=0.0)


@dataclass(frozen=True)
class SimulatedSession:
    """What a host would have logged: observed samples, engine events and belt drops."""

    rate_hz: int
    index: NDArray[np.int64]
    t_s: NDArray[np.float64]
    tilt_deg: NDArray[np.float64]
    obl_deg: NDArray[np.float64]
    events: tuple[EngineEvent, ...]
    drops: tuple[DropEvent, ...]


def run_plan_offline(plan: ExpandedPlan, weak_side: WeakSide, seed: int,
                     rate_hz: int = 100) -> SimulatedSession:
    """Run the whole plan in simulated time through the firmware pipeline (no link)."""
    pipeline_mod = belt_module("pipeline")
    detector_mod = belt_module("detector")
    pipe: Any = pipeline_mod.Pipeline(rate_hz, None, calib_s=CALIB_S)
    engine = DrillEngine(plan)
    events: list[EngineEvent] = []
    drops: list[DropEvent] = []
    pending: tuple[float, float, Side] | None = None
    side_names: dict[int, Side] = {detector_mod.SIDE_LEFT: "left",
                                   detector_mod.SIDE_RIGHT: "right"}
    tilt: list[int] = []
    obl: list[int] = []
    k = -1

    def apply(new: list[EngineEvent]) -> None:
        nonlocal pending
        for ev in new:
            events.append(ev)
            if isinstance(ev, SetStance):
                pipe.detector.set_stance(ev.stance)
                pending = None  # the detector forgets a drop in progress
            elif isinstance(ev, CaptureNeutral):
                pipe.recalibrate(ev.position_code)

    for chunk in sample_chunks(athlete_script(plan, weak_side, seed), rate_hz, seed):
        for row in chunk.tolist():
            k += 1
            t = k / rate_hz
            ev = pipe.push(*row)
            if engine.state == "ready" and t >= LEAD_S - 1e-9:
                apply(engine.start(t))
            if ev == pipeline_mod.EV_CALIBRATED:
                apply(engine.neutral_captured(t, pipe.position))
            elif ev == detector_mod.EV_CUE:
                pending = (pipe.detector.onset_index / rate_hz, t,
                           side_names[pipe.detector.side])
            elif ev == detector_mod.EV_END and pending is not None:
                onset, cue, side = pending
                drops.append(DropEvent(onset, side, pipe.detector.peak_cdeg / 100.0, cue, t))
                pending = None
            apply(engine.advance(t))
            tilt.append(pipe.tilt_cdeg)
            obl.append(pipe.obl_cdeg)
    index = np.arange(k + 1, dtype=np.int64)
    return SimulatedSession(
        rate_hz=rate_hz,
        index=index,
        t_s=index / float(rate_hz),
        tilt_deg=np.asarray(tilt, dtype=np.float64) / 100.0,
        obl_deg=np.asarray(obl, dtype=np.float64) / 100.0,
        events=tuple(events),
        drops=tuple(drops),
    )
