"""The drill engine: a pure state machine that walks an expanded plan on the caller's clock.

No I/O, no threads, no wall clock: the caller passes the time to every call (`advance`,
`pause`, ...), so tests run a whole plan in microseconds with a fake clock, and a live
session passes belt time (sample index / rate) so phase boundaries line up exactly with
the samples that scoring reads. Each call returns the events it caused, in order, with
the exact boundary time even when several phases passed within one call.

Events are for the UI and the session log (PhaseStarted/Ended, Paused/Resumed, Done) and
for the belt (SetStance, Cue, CaptureNeutral). Policy, decided here once:

* Stance: single-leg holds turn detection on for the stance leg (1 left, 2 right);
  standing isometric holds use "either" (0), since a drop to either side while squeezing
  is worth a buzz; seated and prone holds, rests, get-ready, rezero, pause and the end of
  the session turn it off (3). SetStance is emitted only when the code changes.
* Cues: one per phase start, so two patterns never collide: GET_READY for get-ready and
  rezero, HOLD_START for a hold, HOLD_END for a rest (rest begins), SESSION_DONE when the
  plan completes (instead of the last HOLD_END). Abort gives no cue.
* Rezero: the athlete gets `planned_s` to move into the new position, then CaptureNeutral
  is emitted and the engine waits for `neutral_captured` (the belt's CALIBRATED event)
  up to the plan's rezero timeout. On timeout the phase ends with outcome "timeout" and
  the session goes on (the belt keeps trying and reports when it captured). `skip`
  during a rezero is the user's confirmation that the neutral is fine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, TypeAlias

from levelbelt.errors import RecordFormatError
from levelbelt.jsonrecord import from_record, to_record
from levelbelt.plans import (
    POSITIONS,
    BlockKind,
    ExpandedPlan,
    HoldSide,
    PhaseKind,
    PlannedPhase,
    PositionName,
)

STANCE_EITHER: Final = 0
STANCE_LEFT: Final = 1
STANCE_RIGHT: Final = 2
STANCE_OFF: Final = 3

CUE_GET_READY: Final = 4
CUE_HOLD_START: Final = 5
CUE_HOLD_END: Final = 6
CUE_SESSION_DONE: Final = 7

_EPS_S: Final = 1e-9
"""Boundary tolerance: float sums of ticks must not push a transition one tick late."""

Outcome: TypeAlias = Literal["completed", "skipped", "aborted", "timeout"]
State: TypeAlias = Literal["ready", "running", "paused", "done", "aborted"]


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class PhaseStarted:
    t_s: float
    index: int
    kind: PhaseKind
    block: int
    block_kind: BlockKind
    side: HoldSide | None
    position: PositionName
    rep: int
    reps: int
    planned_s: float

    type: ClassVar[str] = "phase_started"


@dataclass(frozen=True)
class PhaseEnded:
    t_s: float
    index: int
    kind: PhaseKind
    block: int
    block_kind: BlockKind
    side: HoldSide | None
    position: PositionName
    rep: int
    reps: int
    outcome: Outcome
    active_s: float
    """Time the phase ran, pauses excluded."""

    type: ClassVar[str] = "phase_ended"


@dataclass(frozen=True)
class Paused:
    t_s: float

    type: ClassVar[str] = "paused"


@dataclass(frozen=True)
class Resumed:
    t_s: float
    paused_s: float

    type: ClassVar[str] = "resumed"


@dataclass(frozen=True)
class Done:
    t_s: float
    outcome: Literal["completed", "aborted"]
    holds_completed: int
    holds_skipped: int
    holds_total: int
    active_s: float

    type: ClassVar[str] = "done"


@dataclass(frozen=True)
class SetStance:
    """Detector stance for the belt: 0 either, 1 left, 2 right, 3 detection off."""

    t_s: float
    stance: int

    type: ClassVar[str] = "set_stance"


@dataclass(frozen=True)
class Cue:
    """Haptic pattern for the belt (shared pattern IDs)."""

    t_s: float
    pattern: int

    type: ClassVar[str] = "cue"


@dataclass(frozen=True)
class CaptureNeutral:
    t_s: float
    position: PositionName

    type: ClassVar[str] = "capture_neutral"

    @property
    def position_code(self) -> int:
        """The CAPTURE_NEUTRAL argument: 0 standing, 1 seated, 2 prone."""
        return POSITIONS.index(self.position)


EngineEvent: TypeAlias = (PhaseStarted | PhaseEnded | Paused | Resumed | Done | SetStance
                          | Cue | CaptureNeutral)

EVENT_TYPES: Final[dict[str, type[EngineEvent]]] = {
    cls.type: cls
    for cls in (PhaseStarted, PhaseEnded, Paused, Resumed, Done, SetStance, Cue,
                CaptureNeutral)
}


def event_to_json(event: EngineEvent) -> dict[str, Any]:
    """{"type": ..., fields...}: the stable JSON form stored in session files."""
    return {"type": event.type, **to_record(event)}


def event_from_json(data: Mapping[str, Any]) -> EngineEvent:
    """Inverse of `event_to_json`; extra keys are ignored, missing or bad ones refused."""
    if not isinstance(data, Mapping):
        raise RecordFormatError(f"drill event: expected an object, got {type(data).__name__}")
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RecordFormatError(f"drill event: unknown type {kind!r}; known: "
                                f"{', '.join(EVENT_TYPES)}")
    event: EngineEvent = from_record(cls, data, f"drill event {kind}")
    return event


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class EngineSnapshot:
    """What a screen needs, in one immutable object."""

    state: State
    phase: PlannedPhase | None
    next_phase: PlannedPhase | None
    phase_elapsed_s: float
    remaining_s: float
    """Until the phase ends; while waiting for a neutral capture, until its timeout."""
    waiting_for_neutral: bool
    neutral_refusals: int
    hold_number: int
    """1-based number of the current (or last started) hold; 0 before the first."""
    holds_total: int
    holds_completed: int
    active_s: float
    planned_remaining_s: float


# --------------------------------------------------------------------------- engine


def stance_for(phase: PlannedPhase | None) -> int:
    """The detector stance the belt should use during `phase` (see the module docstring)."""
    if phase is None or phase.kind != "hold":
        return STANCE_OFF
    if phase.block_kind == "single_leg":
        return STANCE_LEFT if phase.side == "left" else STANCE_RIGHT
    return STANCE_EITHER if phase.position == "standing" else STANCE_OFF


_START_CUES: Final = {"get_ready": CUE_GET_READY, "rezero": CUE_GET_READY,
                      "hold": CUE_HOLD_START, "rest": CUE_HOLD_END}


class DrillEngine:
    """Walks `plan.phases`. Times passed in must never decrease (ValueError otherwise)."""

    def __init__(self, plan: ExpandedPlan) -> None:
        self.plan = plan
        self._phases = plan.phases
        self._timeout_s = plan.plan.rezero_timeout_s
        self._state: State = "ready"
        self._now: float | None = None
        self._i = -1
        self._elapsed = 0.0
        self._capturing = False
        self._capture_elapsed = 0.0
        self._captured_while_paused = False
        self._refusals = 0
        self._stance: int | None = None
        self._paused_at = 0.0
        self._active = 0.0
        self._completed = 0
        self._skipped = 0
        self._hold_number = 0
        self._holds_total = len(plan.holds)

    # -- public API

    @property
    def state(self) -> State:
        return self._state

    @property
    def phase(self) -> PlannedPhase | None:
        return self._phases[self._i] if 0 <= self._i < len(self._phases) else None

    def start(self, now_s: float) -> list[EngineEvent]:
        if self._state != "ready":
            return []
        self._check_time(now_s)
        self._now = now_s
        self._state = "running"
        out: list[EngineEvent] = []
        if not self._phases:
            self._state = "done"
            out.append(self._done_event(now_s, "completed"))
            return out
        self._enter(0, now_s, out)
        self._run_until(now_s, out)
        return out

    def advance(self, now_s: float) -> list[EngineEvent]:
        """Move the clock to `now_s`, emitting every transition due on the way."""
        out: list[EngineEvent] = []
        if self._state == "ready":
            return out
        self._check_time(now_s)
        self._run_until(now_s, out)
        return out

    def tick(self, dt_s: float) -> list[EngineEvent]:
        """`advance` by dt_s from the last time seen."""
        if dt_s < 0 or not math.isfinite(dt_s):
            raise ValueError(f"dt must be a finite number >= 0, got {dt_s!r}")
        return self.advance((self._now or 0.0) + dt_s)

    def pause(self, now_s: float) -> list[EngineEvent]:
        out = self.advance(now_s)
        if self._state != "running":
            return out
        self._state = "paused"
        self._paused_at = now_s
        out.append(Paused(now_s))
        self._set_stance(STANCE_OFF, now_s, out)
        return out

    def resume(self, now_s: float) -> list[EngineEvent]:
        out = self.advance(now_s)
        if self._state != "paused":
            return out
        self._resume(now_s, out)
        return out

    def skip(self, now_s: float) -> list[EngineEvent]:
        """End the current phase now (a rezero: accept the neutral as it is)."""
        out = self.advance(now_s)
        if self._state == "paused" and self._resume(now_s, out):
            return out
        if self._state != "running":
            return out
        self._finish(now_s, "skipped", out)
        self._run_until(now_s, out)
        return out

    def abort(self, now_s: float) -> list[EngineEvent]:
        out = self.advance(now_s)
        if self._state not in ("running", "paused"):
            return out
        self._end_phase(now_s, "aborted", out)
        self._state = "aborted"
        self._set_stance(STANCE_OFF, now_s, out)
        out.append(self._done_event(now_s, "aborted"))
        return out

    def neutral_captured(self, now_s: float, position: int | None = None) -> list[EngineEvent]:
        """The belt reported CALIBRATED (`position`: its position code, if known).

        Ignored unless a capture was requested and the position matches: a stale or
        boot-time CALIBRATED must not end a rezero early.
        """
        out = self.advance(now_s)
        phase = self.phase
        if self._state not in ("running", "paused") or not self._capturing or phase is None:
            return out
        if position is not None and position != POSITIONS.index(phase.position):
            return out
        if self._state == "paused":
            self._captured_while_paused = True  # the rezero ends when the session resumes
            return out
        self._finish(now_s, "completed", out)
        self._run_until(now_s, out)
        return out

    def neutral_refused(self, now_s: float) -> list[EngineEvent]:
        """The belt refused a capture window (wearer moving); it keeps trying by itself."""
        out = self.advance(now_s)
        if self._state in ("running", "paused") and self._capturing:
            self._refusals += 1
        return out

    def snapshot(self) -> EngineSnapshot:
        phase = self.phase
        if self._state in ("done", "aborted"):
            phase = None
        left = self._left() if phase is not None else 0.0
        nxt = self._phases[self._i + 1] if 0 <= self._i + 1 < len(self._phases) else None
        if self._state == "ready":
            nxt = self._phases[0] if self._phases else None
        later = sum(p.planned_s for p in self._phases[self._i + 1:]) if phase else 0.0
        if self._state == "ready":
            later = sum(p.planned_s for p in self._phases)
        return EngineSnapshot(
            state=self._state,
            phase=phase,
            next_phase=nxt if self._state not in ("done", "aborted") else None,
            phase_elapsed_s=self._elapsed if phase else 0.0,
            remaining_s=left,
            waiting_for_neutral=self._capturing and phase is not None,
            neutral_refusals=self._refusals,
            hold_number=self._hold_number,
            holds_total=self._holds_total,
            holds_completed=self._completed,
            active_s=self._active,
            planned_remaining_s=(left if not self._capturing else 0.0) + later,
        )

    # -- internals

    def _check_time(self, now_s: float) -> None:
        if not math.isfinite(now_s):
            raise ValueError(f"time must be finite, got {now_s!r}")
        if self._now is not None and now_s < self._now - _EPS_S:
            raise ValueError(f"time went backwards: {now_s} after {self._now}")

    def _left(self) -> float:
        """Time left in the current timed stage."""
        phase = self.phase
        assert phase is not None
        if self._capturing:
            return max(0.0, self._timeout_s - self._capture_elapsed)
        return max(0.0, phase.planned_s - self._elapsed)

    def _run_until(self, now_s: float, out: list[EngineEvent]) -> None:
        assert self._now is not None
        while self._state == "running":
            budget = now_s - self._now
            left = self._left()
            if left > budget + _EPS_S:
                self._spend(max(0.0, budget))
                break
            self._spend(left)
            # Within the tolerance the boundary is "now": never stamp an event later
            # than the time the caller gave.
            self._now = min(self._now + left, now_s)
            self._on_stage_end(self._now, out)
        self._now = max(self._now, now_s)

    def _spend(self, dt: float) -> None:
        self._active += dt
        if self._capturing:
            self._capture_elapsed += dt
        else:
            self._elapsed += dt

    def _on_stage_end(self, t: float, out: list[EngineEvent]) -> None:
        phase = self.phase
        assert phase is not None
        if phase.kind == "rezero" and not self._capturing:
            self._capturing = True
            self._capture_elapsed = 0.0
            out.append(CaptureNeutral(t, phase.position))
            return
        self._finish(t, "timeout" if self._capturing else "completed", out)

    def _finish(self, t: float, outcome: Outcome, out: list[EngineEvent]) -> None:
        """End the current phase and start the next one (or end the session)."""
        self._end_phase(t, outcome, out)
        if self._i + 1 < len(self._phases):
            self._enter(self._i + 1, t, out)
            return
        self._state = "done"
        self._set_stance(STANCE_OFF, t, out)
        out.append(Cue(t, CUE_SESSION_DONE))
        out.append(self._done_event(t, "completed"))

    def _end_phase(self, t: float, outcome: Outcome, out: list[EngineEvent]) -> None:
        phase = self.phase
        if phase is None:
            return
        if phase.kind == "hold":
            if outcome == "completed":
                self._completed += 1
            elif outcome == "skipped":
                self._skipped += 1
        active = self._elapsed + (self._capture_elapsed if self._capturing else 0.0)
        out.append(PhaseEnded(t, phase.index, phase.kind, phase.block, phase.block_kind,
                              phase.side, phase.position, phase.rep, phase.reps, outcome,
                              active))
        self._capturing = False

    def _enter(self, i: int, t: float, out: list[EngineEvent]) -> None:
        self._i = i
        self._elapsed = 0.0
        self._capturing = False
        self._capture_elapsed = 0.0
        self._refusals = 0
        phase = self._phases[i]
        if phase.kind == "hold":
            self._hold_number += 1
        out.append(PhaseStarted(t, phase.index, phase.kind, phase.block, phase.block_kind,
                                phase.side, phase.position, phase.rep, phase.reps,
                                phase.planned_s))
        self._set_stance(stance_for(phase), t, out)
        out.append(Cue(t, _START_CUES[phase.kind]))

    def _resume(self, now_s: float, out: list[EngineEvent]) -> bool:
        """Back to running; True when a capture confirmed during the pause ended the phase."""
        self._state = "running"
        out.append(Resumed(now_s, now_s - self._paused_at))
        if self._captured_while_paused:
            self._captured_while_paused = False
            self._finish(now_s, "completed", out)
            self._run_until(now_s, out)
            return True
        self._set_stance(stance_for(self.phase), now_s, out)
        return False

    def _set_stance(self, stance: int, t: float, out: list[EngineEvent]) -> None:
        if stance != self._stance:
            self._stance = stance
            out.append(SetStance(t, stance))

    def _done_event(self, t: float, outcome: Literal["completed", "aborted"]) -> Done:
        return Done(t, outcome, self._completed, self._skipped, self._holds_total,
                    self._active)
