"""The dashboard driven from the keyboard: connect -> calibrate -> drill -> review, and the
other screens. Textual pilot tests on a simulated belt that the test steps, so every
run sees the same samples; display ticks are called by the test (`poll`).
"""

from __future__ import annotations

import io
import re
import stat
import time
import webbrowser
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, OptionList, Select, Static
from tui_helpers import SteppedBelt, frozen_clock, until

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
        await until(pilot, lambda: app.screen_name == "calibrate")
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
        assert _text(app, "#phase") == "NO DRILL RUNNING · enter starts glute-iso-quick"
        feed.run_to(LEAD_S)
        await pilot.press("enter")
        feed.run_to(LEAD_S + 4.0)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase").startswith("SQUEEZE")
        await pilot.press("g")
        await pilot.press("n")  # a note typed while the belt streams on for 5 s
        feed.run_to(LEAD_S + 9.0)
        app.poll()
        await pilot.press(*"late", "enter")
        session = session_of(app.models[0])
        assert session is not None
        end = LEAD_S + plan.estimated_s + 1.0
        t = LEAD_S + 4.0
        while t < end:
            t += 0.5
            feed.run_to(t)
            app.poll()
        await until(pilot, lambda: session.snapshot().final)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase") == "SESSION DONE · r reviews it"
        scores = _text(app, "#scores")
        assert "LSI" in scores and "RIGHT WEAKER" in scores

        # Review: the saved session with its per-side table, flag and coach marker.
        await pilot.press("r")
        await until(pilot, lambda: "LSI" in _text(app, "#r-lsi"))
        assert "RIGHT flagged" in _text(app, "#r-lsi")
        assert "stability" in _text(app, "#r-table")
        # Both at the same moment of the session: the note when n was pressed.
        assert _text(app, "#r-markers") == "Coach markers: good at 4 s, note at 4 s (late)"
        hold1 = _text(app, "#r-hold")
        assert re.match(r"Hold 1/8: left glute, standing, 3 s, completed · depth \d+\.\d° · "
                        r"score \d+", " ".join(hold1.split()))
        await pilot.press("right_square_bracket")
        assert _text(app, "#r-hold") != hold1 and "Hold 2/" in _text(app, "#r-hold")
        # PgDn scrolls to what 80x24 cannot show, while the list keeps its choice.
        detail = app.screen.query_one("#detail")
        assert detail.scroll_y == 0 and detail.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert detail.scroll_y > 0 and app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("pageup")
        await pilot.pause()
        assert detail.scroll_y == 0

        # o: the HTML report beside the session file, opened in the browser.
        await pilot.press("o")
        saved = session.snapshot().path
        assert saved is not None
        page = saved.with_suffix(".html")
        assert opened_pages == [page.resolve().as_uri()]
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
        assert "<html" in page.read_text(encoding="utf-8").lower()
        # Without a browser the coach is told where the page is.
        said: list[str] = []
        monkeypatch.setattr(webbrowser, "open", lambda uri: False)
        monkeypatch.setattr(app.screen, "notify", lambda text, **kw: said.append(text))
        await pilot.press("o")
        assert said == [f"report written: {page} (no web browser found to open it)"]


async def test_a_belt_that_does_not_answer_is_one_clear_line(tmp_path: Path) -> None:
    pty = PtyPair()  # a serial port with nothing behind it
    try:
        def opener(ref: BeltRef) -> tuple[BeltFeed, DrillDriver | None]:
            return discovery.open_feed(BeltRef("usb", pty.slave_path, pty.slave_path))

        app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path), opener=opener,
                           live=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            await until(pilot, lambda: "no belt answered" in _text(app, "#connect-state"),
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
        feed.run_to(3.5)  # the belt streams on while the coach types
        app.poll()
        await pilot.press(*"knee in")
        await pilot.press("enter")
        await pilot.pause()
        marker = app.models[0].markers[-1]
        # Stamped when n was pressed (what the coach saw), not when the note was saved.
        assert (marker.kind, marker.note, marker.t_s, marker.index) == (
            "note", "knee in", 2.0, 199)
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
        await until(pilot, lambda: app.screen_name == "drill")
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
        await until(pilot, lambda: session.snapshot().final)
        app.poll()
        await pilot.pause()
        assert _text(app, "#phase") == "SESSION ABORTED · r reviews it"
        assert "session saved" in _text(app, "#alert")


async def test_leaving_a_settings_field_gives_the_screen_keys_back(tmp_path: Path) -> None:
    app = DashboardApp(start="settings", prefs_store=PrefsStore(tmp_path), live=False)
    async with app.run_test(size=SIZE) as pilot:
        athlete = app.screen.query_one("#athlete", Input)
        athlete.focus()
        await pilot.press("end", *"dr")  # letters in a field are text, not screen keys
        assert athlete.value == "athletedr" and app.screen_name == "settings"
        await pilot.press("escape")
        assert athlete.value == "athlete" and app.focused is None
        assert _text(app, "#settings-state") == "unsaved changes dropped"
        await pilot.press("d")
        assert app.screen_name == "drill"

        await pilot.press("s")
        await pilot.pause()
        athlete = app.screen.query_one("#athlete", Input)
        athlete.focus()
        await pilot.press("end", *"-noor", "ctrl+s")
        assert app.focused is None and _text(app, "#settings-state").startswith("saved to")
        assert PrefsStore(tmp_path).load().athlete == "athlete-noor"
        await pilot.press("escape")  # nothing to drop now
        assert _text(app, "#settings-state") == ""
        await pilot.press("r")
        assert app.screen_name == "review"


async def test_the_bell_rings_once_for_each_drop_in_step_with_the_belt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, demo_script
    from levelbelt.tui.drill_view import DemoDriver

    feed = SteppedBelt(demo_script("right", 3), seed=3)
    app = DashboardApp(feeds=[(feed, DemoDriver())], start="drill",
                       prefs_store=PrefsStore(tmp_path), clock=frozen_clock(feed), live=False)
    rung_at: list[int] = []  # the belt's newest sample when the bell rang
    monkeypatch.setattr(app, "bell", lambda: rung_at.append(feed.live.snapshot().last_index))
    async with app.run_test(size=SIZE):
        t = 0.0
        while t < CALIBRATION_S + DEMO_SET.total_s + 2 * HOLD_S:
            t += 1 / 30
            feed.run_to(t)
            app.poll()
    cues = [d.index for d in feed.live.snapshot().drops if not d.ended]
    assert len(cues) >= 3 and len(rung_at) == len(cues)
    # Each ring on the display tick that brought the cue: within one USB frame and one
    # tick of belt time (5 + 4 samples) of the cue's sample, not at some later redraw.
    # (The belt sends a cue at once, ahead of the batch that holds its sample.)
    assert all(abs(rung - cue) < 10 for rung, cue in zip(rung_at, cues, strict=True))


def test_the_demo_sessions_listen_before_the_belts_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise a session that registers late (slow imports, a loaded machine, --speed)
    starts its plan late and runs out of step with its simulated athlete."""
    from textual.app import App

    from levelbelt.cli import main
    from levelbelt.demo import DemoRig

    listening_at_start: list[bool] = []
    real_start = DemoRig.start

    def start(rig: DemoRig) -> DemoRig:
        listening_at_start.append(bool(rig.live.listeners))
        return real_start(rig)

    monkeypatch.setattr(DemoRig, "start", start)
    monkeypatch.setattr(App, "run", lambda self, *a, **kw: None)
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path))
    assert main(["demo", "--belts", "2", "--out", str(tmp_path / "s")]) == 0
    assert listening_at_start == [True, True]


async def test_z_re_zeroes_on_the_drill_screen_in_the_current_position(
        tmp_path: Path) -> None:
    feed = SteppedBelt([Still(8.0)], seed=1)
    app = DashboardApp(feeds=[(feed, None)], start="drill", prefs_store=PrefsStore(tmp_path),
                       clock=frozen_clock(feed), live=False)
    async with app.run_test(size=SIZE) as pilot:
        feed.run_to(3.0)
        app.poll()
        before = feed.live.snapshot().calibrations
        await pilot.press("z")
        app.poll()
        await pilot.pause()
        assert "capturing neutral (standing): hold still" in _text(app, "#alert")
        feed.run_to(5.0)
        app.poll()
        await pilot.pause()
        assert feed.live.snapshot().calibrations == before + 1
        assert "neutral captured (standing)" in _text(app, "#alert")


async def test_the_belt_reaches_the_screen_only_through_the_display_tick(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading and decoding stay in the belt's threads, which post nothing to the UI;
    the screen takes one snapshot per display tick (<= 30 Hz), many samples each."""
    import threading

    from textual.message_pump import MessagePump

    from levelbelt.demo import DemoRig
    from levelbelt.tui.app import DISPLAY_HZ

    rig = DemoRig(weak_side="none", seed=1, speed=5.0)  # 500 samples a second
    belt_threads = {t.name for t in rig._threads}
    from_belt: list[object] = []
    post = MessagePump.post_message

    def counting_post(self: MessagePump, message: object) -> bool:
        if threading.current_thread().name in belt_threads:
            from_belt.append(message)
        return post(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(MessagePump, "post_message", counting_post)
    app = DashboardApp(feeds=[(rig, None)], start="drill", prefs_store=PrefsStore(tmp_path),
                       sessions=tmp_path / "s")
    ticks: list[int] = []
    poll = app.poll

    def counting_poll() -> None:
        poll()
        ticks.append(app.frames[0].snap.last_index)

    app.poll = counting_poll  # type: ignore[method-assign]
    rig.start()
    try:
        async with app.run_test(size=SIZE) as pilot:
            started = time.monotonic()
            await pilot.pause(1.5)
            wall_s = time.monotonic() - started
    finally:
        rig.stop()
    samples = rig.live.snapshot().last_index + 1
    assert from_belt == []
    assert 0 < len(ticks) <= DISPLAY_HZ * (wall_s + 0.5)
    assert samples >= 2 * len(ticks)  # one picture for many samples, never one each


async def test_review_shows_an_athletes_trend_and_steps_to_the_weak_legs_hold(
        tmp_path: Path) -> None:
    import tui_scenes

    scene = tui_scenes.review_with_a_trend(tmp_path)
    app = scene.app
    async with app.run_test(size=(120, 36)) as pilot:
        assert scene.run_before is not None
        await scene.run_before(pilot)  # the newest session, then `[` to its last hold
        assert _text(app, "#r-title").startswith("ana · glute-iso-quick · 2025-03-05 09:30")
        assert _text(app, "#r-hold").startswith(
            "Hold 8/8: right leg, standing, 20 s, completed · level 81% · 3 drops")
        trend = _text(app, "#r-trend").splitlines()
        assert trend[0] == "Trend, stability, 3 sessions (2025-03-03 to 2025-03-05):"
        assert [line.split()[0] for line in trend[1:4]] == ["left", "right", "LSI"]
        assert trend[4].strip().startswith("MDC95")
