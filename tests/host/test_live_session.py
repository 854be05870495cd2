"""A plan run live: the engine on belt time, belt commands, the session file and scores.

The simulated athlete follows the plan; the belt (firmware pipeline in-process) streams
frames through the USB deframer into `LiveBelt`, whose listener drives the session.
"""

from __future__ import annotations

import stat
import time
from datetime import datetime
from pathlib import Path

import pytest
from tui_helpers import SteppedBelt

from levelbelt.engine import CUE_GET_READY, CUE_HOLD_START, CUE_SESSION_DONE
from levelbelt.history import load_review
from levelbelt.live_session import LiveSession, SessionView
from levelbelt.plans import ExpandedPlan, expand, load_builtin
from levelbelt.session import read_session
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


def _run(weak: str, out: Path, seed: int = 4) -> tuple[SteppedBelt, LiveSession, SessionView]:
    plan = _plan()
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
