"""A plan run live: the engine on belt time, belt commands, the session file and scores.

The simulated athlete follows the plan; the belt (firmware pipeline in-process) streams
frames through the USB deframer into `LiveBelt`, whose listener drives the session.
"""

from __future__ import annotations

import stat
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from tui_helpers import SteppedBelt

from levelbelt.engine import CUE_GET_READY, CUE_HOLD_START, CUE_SESSION_DONE
from levelbelt.history import load_review
from levelbelt.live_session import LiveSession, SessionView
from levelbelt.plans import ExpandedPlan, expand, load_builtin
from levelbelt.session import read_session
from levelbelt.session.records import decode_line
from levelbelt.sim.drill_athlete import LEAD_S, athlete_script

CREATED = datetime(2025, 3, 4, 9, 30)


def _plan() -> ExpandedPlan:
    return expand(load_builtin("glute-iso-quick"))


def _wait_final(session: LiveSession, timeout_s: float = 20.0) -> SessionView:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = session.snapshot()
        if view.final:
            return view
        time.sleep(0.02)
    raise AssertionError("the final scores never arrived")


def _run(weak: str, out: Path, seed: int = 4, plan: ExpandedPlan | None = None
         ) -> tuple[SteppedBelt, LiveSession, SessionView]:
    plan = plan or _plan()
    feed = SteppedBelt(athlete_script(plan, weak, seed), seed=seed)  # type: ignore[arg-type]
    session = LiveSession(feed, plan, athlete="ana", out_dir=out, start_at_s=LEAD_S,
                          detector_for=lambda ex, side: (500, 150, 100), created=CREATED)
    feed.run_to(LEAD_S + plan.estimated_s + 1.0)
    return feed, session, _wait_final(session)


@pytest.fixture(scope="module")
def weak_right(tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[SteppedBelt, LiveSession, SessionView]:
    return _run("right", tmp_path_factory.mktemp("sessions"))


def test_the_plan_runs_to_the_end_and_flags_the_weak_side(
        weak_right: tuple[SteppedBelt, LiveSession, SessionView]) -> None:
    feed, session, view = weak_right
    assert view.engine.state == "done"
    assert view.engine.holds_completed == view.engine.holds_total == len(session.plan.holds)
    summary = view.scores.summary if view.scores else None
    assert summary is not None and summary.flagged_side == "right"
    assert feed.cues[0] == CUE_GET_READY and feed.cues[-1] == CUE_SESSION_DONE
    assert feed.cues.count(CUE_HOLD_START) == len(session.plan.holds)
    assert feed.belt.pipeline.detector.stance == 3  # detection off after the session


def test_the_session_file_is_private_complete_and_reviews_the_same(
        weak_right: tuple[SteppedBelt, LiveSession, SessionView]) -> None:
    _, session, view = weak_right
    path = view.path
    assert path is not None and path.name == "20250304-093000-ana-simulated-belt.lbs"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = read_session(path)
    assert saved.complete and not saved.problems
    assert saved.header.plan is not None and saved.header.plan["name"] == "glute-iso-quick"
    assert saved.samples.t_s[0] == 0.0  # session time starts where the plan started
    sources = {e.source for e in saved.events}
    assert {"engine", "belt"} <= sources
    review = load_review(path)
    assert view.scores is not None and review.summary == view.scores.summary
    assert len(review.windows) == len(session.plan.holds) and not review.rescored
    assert view.message == f"session saved: {path}"


def test_single_leg_holds_set_each_sides_detector_settings_first(tmp_path: Path) -> None:
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "none", 1), seed=1)
    asked: list[tuple[str, str]] = []

    def settings(exercise: str, side: str) -> tuple[int, int, int]:
        asked.append((exercise, side))
        return (650, 200, 100) if side == "right" else (500, 150, 100)

    session = LiveSession(feed, plan, athlete="ana", out_dir=None, start_at_s=LEAD_S,
                          detector_for=settings)
    first_leg_hold = next(p for p in plan.phases if p.block_kind == "single_leg")
    t0 = sum(p.planned_s for p in plan.phases[:first_leg_hold.index])
    feed.run_to(LEAD_S + t0 + 1.0)
    assert ("single-leg", "left") in asked and ("single-leg", "right") in asked
    assert feed.belt.pipeline.detector.side_config(2)[:3] == [650, 200, 100]
    assert session.snapshot().engine.phase is not None


def test_pause_holds_the_phase_and_abort_still_saves_a_scored_session(tmp_path: Path) -> None:
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "left", 2), seed=2)
    session = LiveSession(feed, plan, athlete="bo", out_dir=tmp_path)
    feed.run_to(1.0)
    assert not session.snapshot().started
    session.start()
    feed.run_to(LEAD_S + 8.0)
    session.pause()
    paused = session.snapshot().engine
    feed.run_to(LEAD_S + 20.0)
    assert session.snapshot().engine.remaining_s == pytest.approx(paused.remaining_s)
    assert feed.belt.pipeline.detector.stance == 3
    session.resume()
    session.skip()
    feed.run_to(LEAD_S + 24.0)
    session.abort()
    view = _wait_final(session)
    assert view.engine.state == "aborted"
    saved = read_session(view.path)  # type: ignore[arg-type]
    assert saved.complete and saved.summary is not None


def test_a_session_closed_midway_is_unfinished_and_still_reviews(tmp_path: Path) -> None:
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "right", 5), seed=5)
    session = LiveSession(feed, plan, athlete="cy", out_dir=tmp_path, start_at_s=LEAD_S)
    feed.run_to(LEAD_S + 30.0)
    path = session.snapshot().path
    session.close()
    assert path is not None
    review = load_review(path)
    assert not review.session.complete and review.rescored
    assert review.summary is not None and review.summary.reps_scored >= 2


def test_the_plans_asymmetry_pct_sets_the_flag_when_recorded_and_when_rescored(
        weak_right: tuple[SteppedBelt, LiveSession, SessionView], tmp_path: Path) -> None:
    default = weak_right[2].scores.summary if weak_right[2].scores else None
    assert default is not None and default.flagged_side == "right"
    assert default.lsi is not None and 50 < default.lsi < 85
    lenient = expand(replace(load_builtin("glute-iso-quick"), asymmetry_pct=50.0))
    _, _, view = _run("right", tmp_path, plan=lenient)  # the same athlete and seed
    summary = view.scores.summary if view.scores else None
    assert summary is not None and summary.asymmetry_pct == 50.0
    assert summary.lsi == default.lsi and summary.flagged_side is None
    assert view.path is not None
    saved = read_session(view.path)
    assert saved.header.plan is not None and saved.header.plan["asymmetry_pct"] == 50.0
    # Without its scores (as if the writer had stopped there) the review rescores it with
    # the plan's flag, not the default one.
    lines = view.path.read_bytes().split(b"\n")
    first_score = next(k for k, raw in enumerate(lines) if raw and
                       decode_line(raw)["k"] == "score")
    unfinished = tmp_path / "unfinished.lbs"
    unfinished.write_bytes(b"\n".join(lines[:first_score]) + b"\n")
    review = load_review(unfinished)
    assert review.rescored and review.summary is not None
    assert review.summary.asymmetry_pct == 50.0 and review.summary.flagged_side is None
    assert review.summary.lsi == pytest.approx(default.lsi)


def test_a_range_the_link_lost_is_a_gap_in_the_file_and_a_belt_reboot_ends_the_session(
        tmp_path: Path) -> None:
    """What a belt client reports through the live state (as `ClientFeed` passes it on):
    a range the belt could no longer resend, then a reboot of the belt."""
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "left", 3), seed=3)
    session = LiveSession(feed, plan, athlete="di", out_dir=tmp_path, start_at_s=LEAD_S)
    feed.run_to(LEAD_S + 10.0)
    first = feed.belt.pipeline.index + 1
    feed.belt.pipeline.index += 60  # 60 samples never reach the host
    feed.run_to(LEAD_S + 12.0)
    feed.live.gap(first, 60)  # ... and the belt no longer has them
    feed.run_to(LEAD_S + 14.0)
    assert session.snapshot().engine.state == "running"
    last = feed.live.snapshot().last_index
    feed.live.restart()  # the belt rebooted: what follows is another boot's
    feed.run_to(LEAD_S + 20.0)
    view = _wait_final(session)
    assert view.engine.state == "aborted"
    saved = read_session(view.path)  # type: ignore[arg-type]
    assert saved.complete and not saved.problems
    assert [(g.first_missing, g.end_index) for g in saved.gaps] == [(first, first + 60)]
    assert [(i0, i1) for _, i0, i1 in saved.samples.missing_runs()] == [(first, first + 60)]
    assert any(e.source == "client" and e.data == {"type": "belt_restarted"}
               for e in saved.events)
    # Nothing after the reboot was written under the old boot's indices.
    assert saved.samples.index[-1] == last


def test_a_session_file_that_cannot_be_created_leaves_the_drill_running_and_says_why(
        tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "right", 4), seed=4)
    session = LiveSession(feed, plan, athlete="ana", out_dir=blocked / "sessions",
                          start_at_s=LEAD_S)
    feed.run_to(LEAD_S + plan.estimated_s + 1.0)
    view = _wait_final(session)
    assert view.engine.state == "done" and view.path is None
    assert view.scores is not None and view.scores.summary.flagged_side == "right"
    assert view.error == (f"session not saved: {blocked / 'sessions'}: cannot create "
                          "directory: Not a directory")
    assert view.message == view.error


def test_samples_held_back_by_a_stalled_link_reach_the_file_within_a_second(
        tmp_path: Path) -> None:
    plan = _plan()
    feed = SteppedBelt(athlete_script(plan, "right", 4), seed=4)
    session = LiveSession(feed, plan, athlete="ana", out_dir=tmp_path, start_at_s=LEAD_S)
    feed.run_to(LEAD_S + 10.5)  # then the link goes quiet
    view = session.snapshot()
    assert view.path is not None
    received = round(view.t_s * 100) + 1
    assert len(read_session(view.path).samples) < received  # a block is filling
    time.sleep(1.05)  # the writer's flush interval passes with no new sample
    session.snapshot()  # the screen's regular look at the session
    assert len(read_session(view.path).samples) == received
    session.close()
