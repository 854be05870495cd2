"""SVG snapshots of every screen (pytest-textual-snapshot), at 80x24 and one larger.

Nothing in them moves on its own: the simulated belt is stepped by the test to a fixed
belt time, display ticks are called by the test, every figure and timer comes from belt
time, the alert flash is a function of belt time, cursors do not blink, the session
file's date is fixed and the system's serial ports are replaced by a fixed list.
Update after an intended change with `pytest tests/host/test_tui_snapshots.py
--snapshot-update` and look at the SVGs (snapshot_report.html on failure).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from serial.tools.list_ports_common import ListPortInfo
from textual.pilot import Pilot
from tui_helpers import SteppedBelt, frozen_clock

from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, demo_script
from levelbelt.live_session import LiveSession
from levelbelt.plans import expand, load_builtin
from levelbelt.sim.drill_athlete import LEAD_S, athlete_script
from levelbelt.tui import discovery
from levelbelt.tui.app import DashboardApp
from levelbelt.tui.drill_view import DemoDriver, SessionDriver
from levelbelt.tui.prefs import BeltRef, PrefsStore

Snap = Callable[..., bool]
SMALL = (80, 24)
# Belt time 2.0 s into the demo's right-leg hold, just after a drop of the left side.
HOLD_RIGHT_S = CALIBRATION_S + DEMO_SET.total_s + HOLD_S


@pytest.fixture(autouse=True)
def fixed_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's serial ports and radio vary; the screens are shown with fixed ones."""
    port = ListPortInfo("/dev/ttyUSB0")
    port.description = "CP2102 USB to UART Bridge Controller"
    port.hwid = "USB VID:PID=10C4:EA60 SER=0001 LOCATION=1-1"
    monkeypatch.setattr(discovery.list_ports, "comports", lambda: [port])
    belt = discovery.Candidate(BeltRef("ble", "24:0A:C4:00:1A:2B", "LevelBelt-1A2B"),
                               "Bluetooth · -61 dBm · battery 87%")
    monkeypatch.setattr(discovery, "ble_candidates",
                        lambda timeout_s=4.0: ("Bluetooth: 1 belt in range", [belt]))


def _steps(app: DashboardApp, feeds: list[SteppedBelt], until_s: float) -> None:
    """Step the belts to `until_s` with a display tick every 1/30 s of belt time."""
    t = min(f.belt.samples_sent for f in feeds) / 100
    while t < until_s:
        t = min(until_s, t + 1 / 30)
        for f in feeds:
            f.run_to(t)
        app.poll()


def _first_alert_after(seed: int, start_s: float) -> float:
    """Belt time of the first drop cue after `start_s` in the demo script (probe run)."""
    probe = SteppedBelt(demo_script("right", seed), seed=seed)
    probe.run_to(start_s + HOLD_S)
    cues = [d for d in probe.live.snapshot().drops if not d.ended
            and d.index / 100 > start_s]
    return cues[0].index / 100


def _demo_app(tmp_path: Path, feeds: list[SteppedBelt], start: str) -> DashboardApp:
    return DashboardApp(feeds=[(f, DemoDriver()) for f in feeds], start=start,
                        prefs_store=PrefsStore(tmp_path), clock=frozen_clock(feeds[0]),
                        live=False, sessions=tmp_path / "sessions")


def test_drill_screen_during_a_hip_drop(snap_compare: Snap, tmp_path: Path) -> None:
    feed = SteppedBelt(demo_script("right", 3), seed=3)
    app = _demo_app(tmp_path, [feed], "drill")
    cue = _first_alert_after(3, HOLD_RIGHT_S - HOLD_S)

    async def run_before(pilot: Pilot[Any]) -> None:
        _steps(app, [feed], cue + 0.1)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_drill_screen_on_a_large_terminal(snap_compare: Snap, tmp_path: Path) -> None:
    feed = SteppedBelt(demo_script("right", 3), seed=3)
    app = _demo_app(tmp_path, [feed], "drill")

    async def run_before(pilot: Pilot[Any]) -> None:
        _steps(app, [feed], CALIBRATION_S + DEMO_SET.get_ready_s + 1.5)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_coach_grid_with_two_belts(snap_compare: Snap, tmp_path: Path) -> None:
    feeds = [SteppedBelt(demo_script("right", 3), seed=3, label="ana · weak right"),
             SteppedBelt(demo_script("left", 4), seed=4, label="bo · weak left")]
    app = _demo_app(tmp_path, feeds, "grid")
    cue = _first_alert_after(3, HOLD_RIGHT_S - HOLD_S)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        _steps(app, feeds, cue + 0.1)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_connect_screen(snap_compare: Snap, tmp_path: Path) -> None:
    app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path), live=False)
    assert snap_compare(app, terminal_size=SMALL)


def test_calibrate_screen_after_a_capture(snap_compare: Snap, tmp_path: Path) -> None:
    feed = SteppedBelt(demo_script("none", 1), seed=1)
    app = _demo_app(tmp_path, [feed], "calibrate")

    async def run_before(pilot: Pilot[Any]) -> None:
        _steps(app, [feed], 2.0)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_settings_screen(snap_compare: Snap, tmp_path: Path) -> None:
    app = DashboardApp(start="settings", prefs_store=PrefsStore(tmp_path), live=False)
    assert snap_compare(app, terminal_size=SMALL)


def test_help_overlay(snap_compare: Snap, tmp_path: Path) -> None:
    app = DashboardApp(start="drill", prefs_store=PrefsStore(tmp_path), live=False)
    assert snap_compare(app, terminal_size=SMALL, press=["question_mark"])


def test_review_screen_of_a_saved_session(snap_compare: Snap, tmp_path: Path) -> None:
    plan = expand(load_builtin("glute-iso-quick"))
    feed = SteppedBelt(athlete_script(plan, "right", 4), seed=4)
    sessions = tmp_path / "sessions"
    session = LiveSession(feed, plan, athlete="ana", out_dir=sessions, start_at_s=LEAD_S,
                          created=datetime(2025, 3, 4, 9, 30))
    feed.run_to(LEAD_S + plan.estimated_s + 1.0)
    deadline = 200
    while not session.snapshot().final and deadline:
        import time

        time.sleep(0.05)
        deadline -= 1
    app = DashboardApp(feeds=[(feed, SessionDriver(session))], start="review",
                       prefs_store=PrefsStore(tmp_path), clock=frozen_clock(feed),
                       live=False, sessions=sessions)

    async def run_before(pilot: Pilot[Any]) -> None:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.screen.query_one("#r-hold").size.height:
                break

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
