"""The dashboard driven from the keyboard: connect -> calibrate -> drill -> review, and the
other screens. Textual pilot tests on a simulated belt that the test steps, so every
run sees the same samples; display ticks are called by the test (`poll`).
"""

from __future__ import annotations

import io
import stat
import time
import webbrowser
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, OptionList, Select, Static
from tui_helpers import SteppedBelt, frozen_clock

from levelbelt.errors import LinkError
from levelbelt.feeds import BeltFeed
from levelbelt.plans import expand, load_builtin
from levelbelt.sim.body import Still
from levelbelt.sim.drill_athlete import LEAD_S, athlete_script
from levelbelt.sim.pty_link import PtyPair
from levelbelt.tui import discovery
from levelbelt.tui.app import DashboardApp, session_of
from levelbelt.tui.drill_view import DrillDriver
from levelbelt.tui.prefs import BeltRef, PrefsStore
from levelbelt.tui.screens.help import HelpScreen, help_rows

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def no_radio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connect screen's Bluetooth scan: none here (the machine's radio varies)."""
    monkeypatch.setattr(discovery, "ble_candidates",
                        lambda timeout_s=4.0: ("Bluetooth: not available (test)", []))


def _text(app: DashboardApp, selector: str) -> str:
    """What a Static shows, as plain text (rich tables included)."""
    widget = app.screen.query_one(selector, Static)
    console = Console(width=widget.size.width or 80, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text().strip()


async def _until(pilot: object, check: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError("the dashboard never got there")


async def test_connect_calibrate_drill_review_from_the_keyboard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened_pages: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened_pages.append(uri) or True)
    plan = expand(load_builtin("glute-iso-quick"))
    feed = SteppedBelt(athlete_script(plan, "right", 4), seed=4)
    opened: list[BeltRef] = []

    def opener(ref: BeltRef) -> tuple[BeltFeed, DrillDriver | None]:
        opened.append(ref)
        return feed, None

    app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path), opener=opener,
                       clock=frozen_clock(feed), live=False, sessions=tmp_path / "sessions")
    async with app.run_test(size=SIZE) as pilot:
        # Connect: the simulated belt is offered first; enter opens it, calibrate follows.
        assert "simulated belt" in str(app.screen.query_one(OptionList).get_option_at_index(0)
                                       .prompt)
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen_name == "calibrate")
        assert opened == [discovery.SIM_REF]
        assert PrefsStore(tmp_path).load().last_belt == discovery.SIM_REF

        # Calibrate: stillness, then a seated capture... no: standing, enter captures.
        feed.run_to(1.5)
        app.poll()
        await pilot.press("enter")
        feed.run_to(2.9)
        app.poll()
        await pilot.pause()
        assert _text(app, "#cal-state").startswith("neutral: standing · mount OK")
        assert "still for" in str(app.screen.query_one("#still-label", Static).render())

        # Drill: enter starts the chosen plan; the belt's phases follow.
        await pilot.press("d")
        await pilot.pause()
        feed.run_to(LEAD_S)
        await pilot.press("enter")
        feed.run_to(LEAD_S + 4.0)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase").startswith("SQUEEZE")
        await pilot.press("g")
        session = session_of(app.models[0])
        assert session is not None
        end = LEAD_S + plan.estimated_s + 1.0
        t = LEAD_S + 4.0
        while t < end:
            t += 0.5
            feed.run_to(t)
            app.poll()
        await _until(pilot, lambda: session.snapshot().final)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase") == "SESSION DONE"
        scores = _text(app, "#scores")
        assert "LSI" in scores and "RIGHT WEAKER" in scores

        # Review: the saved session with its per-side table, flag and coach marker.
        await pilot.press("r")
        await _until(pilot, lambda: "LSI" in _text(app, "#r-lsi"))
        assert "RIGHT flagged" in _text(app, "#r-lsi")
        assert "stability" in _text(app, "#r-table")
        assert _text(app, "#r-markers").startswith("Coach markers: good at")
        hold1 = _text(app, "#r-hold")
        await pilot.press("right_square_bracket")
        assert _text(app, "#r-hold") != hold1 and "Hold 2/" in _text(app, "#r-hold")

        # o: the HTML report beside the session file, opened in the browser.
        await pilot.press("o")
        saved = session.snapshot().path
        assert saved is not None
        page = saved.with_suffix(".html")
        assert opened_pages == [page.resolve().as_uri()]
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
        assert "<html" in page.read_text(encoding="utf-8").lower()


async def test_a_belt_that_does_not_answer_is_one_clear_line(tmp_path: Path) -> None:
    pty = PtyPair()  # a serial port with nothing behind it
    try:
        def opener(ref: BeltRef) -> tuple[BeltFeed, DrillDriver | None]:
            return discovery.open_feed(BeltRef("usb", pty.slave_path, pty.slave_path))

        app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path), opener=opener,
                           live=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            await _until(pilot, lambda: "no belt answered" in _text(app, "#connect-state"),
                         timeout_s=10)
            state = _text(app, "#connect-state")
            assert state == (f"no belt answered on {pty.slave_path} within 3 s "
                             "(is the belt's firmware running?)")
            assert app.screen_name == "connect" and not app.models
    finally:
        pty.close()


def test_opening_a_port_that_does_not_exist_is_a_link_error() -> None:
    with pytest.raises(LinkError, match="cannot open serial port /dev/levelbelt-none"):
        discovery.open_feed(BeltRef("usb", "/dev/levelbelt-none", "x"))


async def test_settings_refuse_a_bad_value_by_name_and_save_good_ones(tmp_path: Path) -> None:
    app = DashboardApp(start="settings", prefs_store=PrefsStore(tmp_path), live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        field = app.screen.query_one("#single-leg-right-release_deg", Input)
        field.value = "7"  # above the 5° threshold
        await pilot.press("ctrl+s")
        state = _text(app, "#settings-state")
        assert state.startswith("single-leg · right leg: release must be below threshold")
        assert not (tmp_path / "dashboard.json").exists()
        app.screen.query_one("#single-leg-right-threshold_deg", Input).value = "8"
        await pilot.press("ctrl+s")
        assert _text(app, "#settings-state").startswith("saved to")
        saved = PrefsStore(tmp_path).load()
        assert saved.detector_cdeg("single-leg", "right") == (800, 150, 700)
        assert saved.detector_cdeg("single-leg", "left") == (500, 150, 100)
        app.screen.query_one("#athlete", Input).value = ""
        await pilot.press("ctrl+s")
        assert _text(app, "#settings-state").startswith("athlete: a name is needed")
        app.screen.query_one("#athlete", Input).value = "noor"
        app.screen.query_one("#plan", Select).value = "balance-ladder"
        app.screen.query_one("#weaker", Select).value = "left"
        await pilot.press("ctrl+s")
        saved = PrefsStore(tmp_path).load()
        assert (saved.athlete, saved.plan, saved.weaker) == ("noor", "balance-ladder", "left")


async def test_help_lists_every_key_of_every_screen(tmp_path: Path) -> None:
    app = DashboardApp(start="drill", prefs_store=PrefsStore(tmp_path), live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(DashboardApp)
        keys = {(where, key) for where, key, _ in rows}
        for where, key in [("everywhere", "q"), ("everywhere", "c"), ("Drill", "g"),
                           ("Drill", "space"), ("Review", "o"), ("Settings", "ctrl+s"),
                           ("Calibrate", "enter"), ("Coach grid", "1")]:
            assert (where, key) in keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_coach_note_is_a_marker_at_belt_time(tmp_path: Path) -> None:
    feed = SteppedBelt([Still(5.0)], seed=1)
    app = DashboardApp(feeds=[(feed, None)], start="drill", prefs_store=PrefsStore(tmp_path),
                       clock=frozen_clock(feed), live=False)
    async with app.run_test(size=SIZE) as pilot:
        feed.run_to(2.0)
        app.poll()
        await pilot.press("n")
        await pilot.press(*"knee in")
        await pilot.press("enter")
        await pilot.pause()
        marker = app.models[0].markers[-1]
        assert (marker.kind, marker.note, marker.t_s) == ("note", "knee in", 2.0)
        assert "marker NOTE at 2.0 s: knee in" in _text(app, "#alert")


async def test_the_coach_grid_shows_each_belt_and_which_one_dropped(tmp_path: Path) -> None:
    from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, demo_script
    from levelbelt.tui.drill_view import DemoDriver
    from levelbelt.tui.widgets.tile import BeltTile

    feeds = [SteppedBelt(demo_script("right", 3), seed=3, label="ana"),
             SteppedBelt([Still(200.0)], seed=1, label="bo")]
    app = DashboardApp(feeds=[(f, DemoDriver()) for f in feeds], start="grid",
                       prefs_store=PrefsStore(tmp_path), clock=frozen_clock(feeds[0]),
                       live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.poll()
        await pilot.pause()
        tiles = list(app.screen.query(BeltTile))
        assert [t.border_title for t in tiles] == ["1 · ana", "2 · bo"]
        seen_alert = False
        t = 0.0
        while t < CALIBRATION_S + DEMO_SET.total_s + 2 * HOLD_S and not seen_alert:
            t += 1 / 30
            for f in feeds:
                f.run_to(t)
            app.poll()
            seen_alert = tiles[0].has_class("alert")
            assert not tiles[1].has_class("alert")
        assert seen_alert and "HIP DROP" in str(tiles[0].query_one(".tile-phase",
                                                                   Static).render())
        await pilot.press("2")
        await _until(pilot, lambda: app.screen_name == "drill")
        await pilot.pause()
        assert "bo (2/2" in _text(app, "#topbar")


def test_the_dashboard_guide_lists_every_key() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "dashboard.md").read_text(
        encoding="utf-8")
    missing = sorted({key for _, key, _ in help_rows(DashboardApp)
                      if f"`{key}`" not in guide})
    assert missing == []


def test_more_than_four_demo_belts_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    from levelbelt.cli import main

    assert main(["demo", "--belts", "5"]) == 2
    assert capsys.readouterr().err == "levelbelt: error: --belts must be between 1 and 4, got 5\n"


async def test_pause_skip_and_abort_are_keys_on_the_drill_screen(tmp_path: Path) -> None:
    plan = expand(load_builtin("glute-iso-quick"))
    feed = SteppedBelt(athlete_script(plan, "none", 2), seed=2)
    app = DashboardApp(feeds=[(feed, None)], start="drill", prefs_store=PrefsStore(tmp_path),
                       clock=frozen_clock(feed), live=False, sessions=tmp_path / "s")
    async with app.run_test(size=SIZE) as pilot:
        feed.run_to(LEAD_S)
        await pilot.press("enter")
        feed.run_to(LEAD_S + 1.0)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase") == "GET READY"
        await pilot.press("space")
        await pilot.pause()
        assert _text(app, "#phase") == "PAUSED · space resumes"
        await pilot.press("space")
        await pilot.press("right")
        await pilot.pause()
        assert _text(app, "#phase").startswith("SQUEEZE")
        await pilot.press("x")
        session = session_of(app.models[0])
        assert session is not None
        await _until(pilot, lambda: session.snapshot().final)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase") == "SESSION ABORTED"
        assert "session saved" in _text(app, "#alert")
