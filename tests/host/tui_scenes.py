"""The dashboard's screens in fixed scenes: the same belt data and moment on every run.

Nothing in a scene moves on its own: the simulated belt is stepped to a fixed belt time,
display ticks are called here (the app's own timer is off), every figure and timer
comes from belt time, the alert flash is a function of belt time, cursors do not blink
and the session file's date is fixed. The SVG snapshot tests compare these scenes, and
`docs/images/make_screenshots.py` exports the same ones for the documentation.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from tui_helpers import SteppedBelt, frozen_clock

from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, demo_script
from levelbelt.live_session import LiveSession
from levelbelt.plans import expand, load_builtin
from levelbelt.sim.drill_athlete import LEAD_S, WeakSide, athlete_script
from levelbelt.tui.app import DashboardApp
from levelbelt.tui.drill_view import DemoDriver, SessionDriver
from levelbelt.tui.prefs import PrefsStore

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]
# Belt time 2.0 s into the demo's right-leg hold, just after a drop of the left side.
HOLD_RIGHT_S = CALIBRATION_S + DEMO_SET.total_s + HOLD_S


@dataclass
class Scene:
    app: DashboardApp
    run_before: RunBefore | None = None
    press: tuple[str, ...] = ()


def step(app: DashboardApp, feeds: list[SteppedBelt], until_s: float) -> None:
    """Step the belts to `until_s` with a display tick every 1/30 s of belt time."""
    t = min(f.belt.samples_sent for f in feeds) / 100
    while t < until_s:
        t = min(until_s, t + 1 / 30)
        for f in feeds:
            f.run_to(t)
        app.poll()


def first_alert_after(seed: int, start_s: float) -> float:
    """Belt time of the first drop cue after `start_s` in the demo script (probe run)."""
    probe = SteppedBelt(demo_script("right", seed), seed=seed)
    probe.run_to(start_s + HOLD_S)
    cues = [d for d in probe.live.snapshot().drops if not d.ended
            and d.index / 100 > start_s]
    return cues[0].index / 100


def demo_app(folder: Path, feeds: list[SteppedBelt], start: str) -> DashboardApp:
    """The demo's dashboard on stepped belts, its settings and sessions in `folder`."""
    return DashboardApp(feeds=[(f, DemoDriver()) for f in feeds], start=start,
                        prefs_store=PrefsStore(folder), clock=frozen_clock(feeds[0]),
                        live=False, sessions=folder / "sessions")


def drill_during_a_hip_drop(folder: Path) -> Scene:
    """The right-leg hold, 0.1 s after the belt cued a drop of the left side."""
    feed = SteppedBelt(demo_script("right", 3), seed=3)
    app = demo_app(folder, [feed], "drill")
    cue = first_alert_after(3, HOLD_RIGHT_S - HOLD_S)

    async def run_before(pilot: Pilot[Any]) -> None:
        step(app, [feed], cue + 0.1)

    return Scene(app, run_before)


def drill_squeezing(folder: Path) -> Scene:
    """1.5 s into the first squeeze of the demo's set."""
    feed = SteppedBelt(demo_script("right", 3), seed=3)
    app = demo_app(folder, [feed], "drill")

    async def run_before(pilot: Pilot[Any]) -> None:
        step(app, [feed], CALIBRATION_S + DEMO_SET.get_ready_s + 1.5)

    return Scene(app, run_before)


def coach_grid_during_a_hip_drop(folder: Path) -> Scene:
    """Two athletes on single-leg holds; the first one's belt has just cued a drop."""
    feeds = [SteppedBelt(demo_script("right", 3), seed=3, label="ana · weak right"),
             SteppedBelt(demo_script("left", 4), seed=4, label="bo · weak left")]
    app = demo_app(folder, feeds, "grid")
    cue = first_alert_after(3, HOLD_RIGHT_S - HOLD_S)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        step(app, feeds, cue + 0.1)

    return Scene(app, run_before)


def connect(folder: Path) -> Scene:
    """The belts on offer (the caller fixes the serial ports and the Bluetooth scan)."""
    return Scene(DashboardApp(start="connect", prefs_store=PrefsStore(folder), live=False))


def calibrate_after_a_capture(folder: Path) -> Scene:
    """Two seconds in: still, the belt's own neutral captured, the mount checked."""
    feed = SteppedBelt(demo_script("none", 1), seed=1)
    app = demo_app(folder, [feed], "calibrate")

    async def run_before(pilot: Pilot[Any]) -> None:
        step(app, [feed], 2.0)

    return Scene(app, run_before)


def settings(folder: Path) -> Scene:
    return Scene(DashboardApp(start="settings", prefs_store=PrefsStore(folder), live=False))


def help_overlay(folder: Path) -> Scene:
    return Scene(DashboardApp(start="drill", prefs_store=PrefsStore(folder), live=False),
                 press=("question_mark",))


def record(sessions: Path, athlete: str, weak: WeakSide, seed: int,
           created: datetime) -> tuple[SteppedBelt, LiveSession]:
    """One `glute-iso-quick` session, the same file every run. The belt is stepped a
    frame at a time and stops at the end of the plan: the session keeps writing samples
    until its final scores (computed in a worker thread) are in, so samples sent after
    the end would make the file's tail depend on thread timing."""
    plan = expand(load_builtin("glute-iso-quick"))
    feed = SteppedBelt(athlete_script(plan, weak, seed), seed=seed)
    session = LiveSession(feed, plan, athlete=athlete, out_dir=sessions, start_at_s=LEAD_S,
                          created=created)
    t = 0.0
    while session.engine.state != "done":
        assert t < LEAD_S + plan.estimated_s + 5.0, "the plan never ended"
        t += 0.05  # one USB frame
        feed.run_to(t)
    deadline = time.monotonic() + 30.0
    while not session.snapshot().final:  # the final scores come from a worker thread
        assert time.monotonic() < deadline, "the final scores never arrived"
        time.sleep(0.01)
    return feed, session


def review_of_a_saved_session(folder: Path) -> Scene:
    """`glute-iso-quick` recorded by a weak-right athlete (fixed date), then reviewed."""
    sessions = folder / "sessions"
    feed, session = record(sessions, "ana", "right", 4, datetime(2025, 3, 4, 9, 30))
    app = DashboardApp(feeds=[(feed, SessionDriver(session))], start="review",
                       prefs_store=PrefsStore(folder), clock=frozen_clock(feed),
                       live=False, sessions=sessions)

    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(100):  # the file is read in a worker; the plot needs a width
            await pilot.pause(0.05)
            if app.screen.query_one("#r-hold").size.height:
                break

    return Scene(app, run_before)


def review_with_a_trend(folder: Path) -> Scene:
    """Three `glute-iso-quick` sessions of a weak-right athlete on three days; the last
    one shown at its final hold (standing on the weak leg), with the trend below."""
    sessions = folder / "sessions"
    for day in (3, 4, 5):
        record(sessions, "ana", "right", day, datetime(2025, 3, day, 9, 30))
    app = DashboardApp(start="review", prefs_store=PrefsStore(folder), live=False,
                       sessions=sessions)

    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(100):
            await pilot.pause(0.05)
            # The session is read in a worker: `[` before it is shown would be lost.
            if app.screen.query_one("#r-hold").size.height and getattr(
                    app.screen, "review", None) is not None:
                break
        await pilot.press(*["left_square_bracket"])  # hold 1 -> the last one
        await pilot.pause()

    return Scene(app, run_before)
