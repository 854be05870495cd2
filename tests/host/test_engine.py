"""The drill engine walks a plan on a fake clock: phases, belt actions, pause, skip, abort,
rezero, and the JSON form of every event."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levelbelt.engine import (
    CUE_GET_READY,
    CUE_HOLD_END,
    CUE_HOLD_START,
    CUE_SESSION_DONE,
    STANCE_EITHER,
    STANCE_LEFT,
    STANCE_OFF,
    STANCE_RIGHT,
    CaptureNeutral,
    Cue,
    Done,
    DrillEngine,
    EngineEvent,
    Paused,
    PhaseEnded,
    PhaseStarted,
    Resumed,
    SetStance,
    event_from_json,
    event_to_json,
)
from levelbelt.errors import LevelBeltError, RecordFormatError
from levelbelt.plans import ExpandedPlan, expand, load_builtin, parse_plan
from levelbelt.weaker_side import WeakerSide

SQUEEZES = """
[[blocks]]
kind = "isometric"
side = "left"
reps = 2
hold_s = 3
rest_s = 5
get_ready_s = 4
"""

SEATED = """
rezero_settle_s = 5
rezero_timeout_s = 10
[[blocks]]
kind = "isometric"
side = "left"
reps = 1
hold_s = 3
get_ready_s = 4
[[blocks]]
kind = "isometric"
position = "seated"
side = "left"
reps = 1
hold_s = 3
get_ready_s = 2
"""

LEGS = """
[[blocks]]
kind = "single_leg"
side = "both"
hold_s = 10
rest_s = 5
get_ready_s = 3
"""


def plan(text: str) -> ExpandedPlan:
    return expand(parse_plan(text, "test.toml"))


E = TypeVar("E", bound=EngineEvent)


def of(events: Sequence[EngineEvent], cls: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, cls)]


def phases(events: Sequence[EngineEvent]) -> list[tuple[str, float]]:
    return [(e.kind, e.t_s) for e in events if isinstance(e, PhaseStarted)]


def test_a_set_walks_get_ready_hold_rest_hold_done_at_exact_times() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    events = eng.start(100.0) + eng.advance(200.0)  # one coarse step across everything
    assert phases(events) == [("get_ready", 100.0), ("hold", 104.0), ("rest", 107.0),
                              ("hold", 112.0)]
    ends = of(events, PhaseEnded)
    assert [(e.kind, e.t_s, e.outcome) for e in ends] == [
        ("get_ready", 104.0, "completed"), ("hold", 107.0, "completed"),
        ("rest", 112.0, "completed"), ("hold", 115.0, "completed")]
    done = events[-1]
    assert isinstance(done, Done)
    assert (done.t_s, done.outcome, done.holds_completed, done.holds_total) == (
        115.0, "completed", 2, 2)
    assert done.active_s == pytest.approx(15.0)
    assert eng.state == "done" and eng.advance(300.0) == []


def test_nothing_happens_before_start() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    assert eng.advance(50.0) == [] and eng.pause(50.0) == [] and eng.skip(50.0) == []
    assert eng.state == "ready"
    assert phases(eng.start(60.0)) == [("get_ready", 60.0)]


def test_holds_carry_block_rep_side_position_and_planned_duration() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    events = eng.start(0.0) + eng.advance(4.0)
    hold = of(events, PhaseStarted)[-1]
    assert hold == PhaseStarted(4.0, 1, "hold", 1, "isometric", "left", "standing", 1, 2, 3.0)


def test_fine_ticks_and_one_big_step_give_the_same_transitions() -> None:
    coarse = DrillEngine(plan(LEGS))
    a = coarse.start(0.0) + coarse.advance(1000.0)
    fine = DrillEngine(plan(LEGS))
    b = fine.start(0.0)
    while fine.state == "running":
        b += fine.tick(0.01)
    assert [type(e) for e in a] == [type(e) for e in b]
    for x, y in zip(a, b, strict=True):
        assert x.t_s == pytest.approx(y.t_s, abs=1e-6)


def test_cues_one_per_phase_start_and_session_done_replaces_the_last_hold_end() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    events = eng.start(0.0) + eng.advance(100.0)
    cues = [(e.t_s, e.pattern) for e in of(events, Cue)]
    assert cues == [(0.0, CUE_GET_READY), (4.0, CUE_HOLD_START), (7.0, CUE_HOLD_END),
                    (12.0, CUE_HOLD_START), (15.0, CUE_SESSION_DONE)]


def test_single_leg_holds_watch_the_stance_leg_and_detection_is_off_otherwise() -> None:
    eng = DrillEngine(plan(LEGS))
    events = eng.start(0.0) + eng.advance(100.0)
    stances = [(e.t_s, e.stance) for e in of(events, SetStance)]
    assert stances == [(0.0, STANCE_OFF), (3.0, STANCE_LEFT), (13.0, STANCE_OFF),
                       (18.0, STANCE_RIGHT), (28.0, STANCE_OFF)]


def test_standing_squeezes_detect_either_side_and_seated_ones_turn_detection_off() -> None:
    eng = DrillEngine(plan(SEATED))
    events = eng.start(0.0) + eng.advance(9.0)
    assert [e.stance for e in of(events, SetStance)] == [
        STANCE_OFF, STANCE_EITHER, STANCE_OFF]
    events = eng.advance(12.0) + eng.neutral_captured(13.0) + eng.advance(40.0)
    seated_hold = [e for e in of(events, PhaseStarted) if e.kind == "hold"]
    assert seated_hold and not of(events, SetStance)  # stays off through the seated hold


def test_rezero_requests_a_capture_after_the_settle_time_and_waits_for_it() -> None:
    eng = DrillEngine(plan(SEATED))
    events = eng.start(0.0) + eng.advance(7.0)
    assert phases(events)[-1] == ("rezero", 7.0)
    assert of(events, Cue)[-1] == Cue(7.0, CUE_GET_READY)
    events = eng.advance(12.0)
    assert events == [CaptureNeutral(12.0, "seated")]
    assert of(events, CaptureNeutral)[0].position_code == 1
    snap = eng.snapshot()
    assert snap.waiting_for_neutral and snap.remaining_s == pytest.approx(10.0)
    assert eng.advance(15.0) == []
    events = eng.neutral_captured(15.5, position=1)
    end = of(events, PhaseEnded)[0]
    assert (end.kind, end.outcome, end.t_s) == ("rezero", "completed", 15.5)
    assert phases(events) == [("get_ready", 15.5)]


def test_a_stale_or_wrong_position_calibration_does_not_end_a_rezero() -> None:
    eng = DrillEngine(plan(SEATED))
    eng.start(0.0)
    assert eng.neutral_captured(1.0) == []  # boot-time CALIBRATED during get ready
    eng.advance(9.0)
    assert eng.neutral_captured(9.5) == []  # still settling: no capture requested yet
    eng.advance(12.0)
    assert eng.neutral_captured(12.5, position=0) == []  # a standing capture, not seated
    assert eng.snapshot().waiting_for_neutral


def test_rezero_times_out_and_the_session_goes_on() -> None:
    eng = DrillEngine(plan(SEATED))
    eng.start(0.0)
    eng.neutral_refused(11.0)  # still settling: nothing was requested yet
    assert eng.snapshot().neutral_refusals == 0
    eng.neutral_refused(13.0)
    eng.neutral_refused(14.0)
    assert eng.snapshot().neutral_refusals == 2  # the screen can say "keep still"
    events = eng.advance(30.0)
    end = of(events, PhaseEnded)[0]
    assert (end.kind, end.outcome, end.t_s) == ("rezero", "timeout", 22.0)
    assert end.active_s == pytest.approx(15.0)
    assert phases(events)[0] == ("get_ready", 22.0)


def test_skipping_a_rezero_accepts_the_neutral_as_it_is() -> None:
    eng = DrillEngine(plan(SEATED))
    eng.start(0.0)
    eng.advance(13.0)
    events = eng.skip(13.0)
    assert of(events, PhaseEnded)[0].outcome == "skipped"
    assert phases(events) == [("get_ready", 13.0)]


def test_pause_stops_the_clock_and_turns_detection_off_until_resume() -> None:
    eng = DrillEngine(plan(LEGS))
    eng.start(0.0)
    eng.advance(5.0)  # 2 s into the left hold
    events = eng.pause(5.0)
    assert events == [Paused(5.0), SetStance(5.0, STANCE_OFF)]
    assert eng.advance(65.0) == []  # a minute passes: nothing happens
    assert eng.snapshot().remaining_s == pytest.approx(8.0)
    events = eng.resume(65.0)
    assert events == [Resumed(65.0, 60.0), SetStance(65.0, STANCE_LEFT)]
    events = eng.advance(80.0)
    end = of(events, PhaseEnded)[0]
    assert end.t_s == pytest.approx(73.0) and end.active_s == pytest.approx(10.0)


def test_skip_ends_the_current_phase_now_and_counts_a_skipped_hold() -> None:
    eng = DrillEngine(plan(LEGS))
    eng.start(0.0)
    eng.advance(3.5)  # the left hold started at 3.0
    events = eng.skip(4.0)
    end = of(events, PhaseEnded)[0]
    assert (end.kind, end.outcome, end.t_s) == ("hold", "skipped", 4.0)
    assert end.active_s == pytest.approx(1.0)
    assert phases(events) == [("rest", 4.0)]
    done = eng.advance(100.0)[-1]
    assert isinstance(done, Done)
    assert (done.holds_completed, done.holds_skipped) == (1, 1)


def test_skip_while_paused_resumes_then_skips() -> None:
    eng = DrillEngine(plan(LEGS))
    eng.start(0.0)
    eng.pause(4.0)
    events = eng.skip(10.0)
    assert isinstance(events[0], Resumed)
    assert phases(events) == [("rest", 10.0)] and eng.state == "running"


def test_abort_ends_the_phase_and_the_session_without_a_cue() -> None:
    eng = DrillEngine(plan(LEGS))
    eng.start(0.0)
    eng.advance(5.0)
    events = eng.abort(6.0)
    ended, stance, done = events
    assert isinstance(ended, PhaseEnded) and ended.outcome == "aborted"
    assert stance == SetStance(6.0, STANCE_OFF)
    assert isinstance(done, Done) and done.outcome == "aborted"
    assert eng.state == "aborted"
    assert eng.pause(7.0) == eng.resume(7.0) == eng.skip(7.0) == eng.abort(7.0) == []


def test_a_capture_confirmed_while_paused_ends_the_rezero_on_resume() -> None:
    eng = DrillEngine(plan(SEATED))
    eng.start(0.0)
    eng.advance(12.5)
    eng.pause(12.5)
    assert eng.neutral_captured(13.0, 1) == []
    events = eng.resume(40.0)
    assert isinstance(events[0], Resumed)
    assert of(events, PhaseEnded)[0].outcome == "completed"
    assert phases(events) == [("get_ready", 40.0)]


def test_snapshot_reports_phase_progress_and_totals() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    before = eng.snapshot()
    assert before.state == "ready" and before.phase is None
    assert before.next_phase is not None and before.next_phase.kind == "get_ready"
    assert before.planned_remaining_s == pytest.approx(4 + 3 + 5 + 3)
    eng.start(0.0)
    eng.advance(5.0)
    snap = eng.snapshot()
    assert snap.phase is not None and snap.phase.kind == "hold"
    assert snap.next_phase is not None and snap.next_phase.kind == "rest"
    assert (snap.hold_number, snap.holds_total, snap.holds_completed) == (1, 2, 0)
    assert snap.phase_elapsed_s == pytest.approx(1.0)
    assert snap.remaining_s == pytest.approx(2.0)
    assert snap.planned_remaining_s == pytest.approx(2 + 5 + 3)
    eng.advance(50.0)
    done = eng.snapshot()
    assert done.state == "done" and done.phase is None and done.holds_completed == 2


def test_a_call_a_hair_before_a_boundary_never_stamps_an_event_after_its_time() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    eng.start(0.0)
    now = 3.999999999999999  # the 4 s get-ready ends within float tolerance
    events = eng.pause(now)
    assert all(e.t_s <= now for e in events)
    assert [type(e) for e in events][-2:] == [Paused, SetStance]


def test_time_must_not_go_backwards() -> None:
    eng = DrillEngine(plan(SQUEEZES))
    eng.start(10.0)
    eng.advance(12.0)
    with pytest.raises(ValueError, match="backwards"):
        eng.advance(11.0)
    with pytest.raises(ValueError):
        eng.tick(-1.0)


def test_the_reference_programme_runs_to_the_end_with_two_rezeros() -> None:
    eng = DrillEngine(expand(load_builtin("glute-iso-daily"), WeakerSide("left", "manual", "")))
    events = eng.start(0.0)
    t = 0.0
    while eng.state == "running":
        t += 0.5
        step = eng.advance(t)
        if any(isinstance(e, CaptureNeutral) for e in step):
            step += eng.neutral_captured(t + 1.0)
            t += 1.0
        events += step
    captures = of(events, CaptureNeutral)
    assert [c.position for c in captures] == ["seated", "prone"]
    done = events[-1]
    assert isinstance(done, Done) and done.holds_completed == 45


# --------------------------------------------------------------------------- JSON


def every_kind_of_event() -> list[EngineEvent]:
    eng = DrillEngine(plan(SEATED))
    events = eng.start(0.0) + eng.advance(5.0) + eng.pause(5.5) + eng.resume(6.0)
    events += eng.advance(20.0) + eng.neutral_captured(20.0) + eng.skip(21.0)
    events += eng.advance(60.0)
    return events


def test_every_event_round_trips_through_its_json_form() -> None:
    events = every_kind_of_event()
    assert {type(e) for e in events} == {PhaseStarted, PhaseEnded, Paused, Resumed, Done,
                                         SetStance, Cue, CaptureNeutral}
    for e in events:
        data = event_to_json(e)
        assert data["type"] == e.type
        assert event_from_json(data) == e
    started = event_to_json(of(events, PhaseStarted)[1])
    assert started == {"type": "phase_started", "t_s": 4.0, "index": 1, "kind": "hold",
                       "block": 1, "block_kind": "isometric", "side": "left",
                       "position": "standing", "rep": 1, "reps": 1, "planned_s": 3.0}


def test_event_json_ignores_extra_keys_and_refuses_damaged_records() -> None:
    data = {"type": "cue", "t_s": 1.5, "pattern": 4, "k": "event", "i": 150}
    assert event_from_json(data) == Cue(1.5, 4)
    bad = [
        ({"type": "nap", "t_s": 1.0}, "unknown type 'nap'"),
        ({"type": "cue", "t_s": 1.0}, "missing field 'pattern'"),
        ({"type": "cue", "t_s": "soon", "pattern": 4}, "t_s: expected a finite number"),
        ({"type": "cue", "t_s": 1.0, "pattern": True}, "pattern: expected an integer"),
        ({"type": "phase_ended", "t_s": 1.0, "index": 0, "kind": "hold", "block": 1,
          "block_kind": "isometric", "side": None, "position": "standing", "rep": 1,
          "reps": 1, "outcome": "great", "active_s": 1.0}, "outcome: 'great' is not one of"),
    ]
    for record, message in bad:
        with pytest.raises(RecordFormatError, match=message) as info:
            event_from_json(record)
        assert isinstance(info.value, LevelBeltError)
    with pytest.raises(RecordFormatError, match="expected an object"):
        event_from_json([1, 2])  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["tick", "pause", "resume", "skip", "captured"]),
                max_size=40),
       st.lists(st.floats(0.0, 7.0), min_size=40, max_size=40))
def test_any_sequence_of_actions_keeps_events_ordered_and_serialisable(
        actions: list[str], steps: list[float]) -> None:
    eng = DrillEngine(plan(SEATED))
    events = eng.start(0.0)
    t = 0.0
    for action, dt in zip(actions, steps, strict=False):
        t += dt
        if action == "tick":
            events += eng.advance(t)
        elif action == "pause":
            events += eng.pause(t)
        elif action == "resume":
            events += eng.resume(t)
        elif action == "skip":
            events += eng.skip(t)
        else:
            events += eng.neutral_captured(t)
    events += eng.resume(t + 1) + eng.advance(t + 1000.0)
    times = [e.t_s for e in events]
    assert times == sorted(times)
    assert isinstance(events[-1], Done)
    starts = of(events, PhaseStarted)
    assert [s.index for s in starts] == list(range(len(starts)))
    assert len(of(events, PhaseEnded)) == len(starts)
    for e in events:
        assert event_from_json(event_to_json(e)) == e


def test_the_drill_core_imports_no_ui_link_or_threads() -> None:
    code = (
        "import sys\n"
        "import levelbelt.plans, levelbelt.engine, levelbelt.scoring, levelbelt.weaker_side\n"
        "bad = {'textual', 'bleak', 'serial', 'threading', 'asyncio', 'socket', 'bumble'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
