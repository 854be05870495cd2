"""The LevelBelt dashboard: connect, calibrate, drill, coach grid, review, settings.

One timer polls every connected belt at display rate (≤ 30 Hz) and hands the frames to
whichever screen is showing; reading and decoding happen in the feeds' own threads, so
a slow frame here delays the picture, never the belt. Screens are Textual modes, so
each keeps its state while the coach moves between them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from levelbelt import history
from levelbelt.errors import ConfigError, LevelBeltError
from levelbelt.feeds import BeltFeed
from levelbelt.history import sessions_dir
from levelbelt.live_session import LiveSession
from levelbelt.plans import expand, resolve_plan
from levelbelt.tui.belt_model import BeltFrame, BeltModel, Marker
from levelbelt.tui.drill_view import DrillDriver, SessionDriver
from levelbelt.tui.prefs import DEFAULT_PLAN, BeltRef, DashboardPrefs, PrefsStore
from levelbelt.tui.screens.calibrate import CalibrateScreen
from levelbelt.tui.screens.connect import ConnectScreen
from levelbelt.tui.screens.drill import DrillScreen
from levelbelt.tui.screens.grid import GridScreen
from levelbelt.tui.screens.help import HelpScreen
from levelbelt.tui.screens.review import ReviewScreen
from levelbelt.tui.screens.settings import SettingsScreen

DISPLAY_HZ = 30
FeedOpener = Callable[[BeltRef], tuple[BeltFeed, DrillDriver | None]]


class DashboardApp(App[None]):
    TITLE = "LevelBelt"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "connect": ConnectScreen,
        "calibrate": CalibrateScreen,
        "drill": DrillScreen,
        "grid": GridScreen,
        "review": ReviewScreen,
        "settings": SettingsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("c", "show('connect')", "Connect", show=False),
        Binding("k", "show('calibrate')", "Calibrate", show=False),
        Binding("d", "show('drill')", "Drill", show=False),
        Binding("v", "show('grid')", "Coach grid", show=False),
        Binding("r", "show('review')", "Review", show=False),
        Binding("s", "show('settings')", "Settings", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        feeds: Sequence[tuple[BeltFeed, DrillDriver | None]] = (),
        start: str = "connect",
        prefs_store: PrefsStore | None = None,
        opener: FeedOpener | None = None,
        clock: Callable[[], float] = time.monotonic,
        duration_s: float = 0.0,
        live: bool = True,
        sessions: Path | None = None,
    ) -> None:
        if start not in self.MODES:
            raise ConfigError(f"no screen {start!r}; screens: {', '.join(self.MODES)}")
        # The start screen is the default mode: Textual builds it (with its CSS) first,
        # and app-level queries look there.
        self.__dict__["DEFAULT_MODE"] = start
        super().__init__()
        self.store = prefs_store or PrefsStore()
        self.prefs: DashboardPrefs = self.store.load()
        self.clock = clock
        self.opener = opener
        self.start_mode = start
        self.duration_s = duration_s
        self.live = live
        self.models: list[BeltModel] = [self._model(f, d) for f, d in feeds]
        self.frames: list[BeltFrame] = []
        self.owned: list[BeltFeed] = []
        self.tick_ms: deque[float] = deque(maxlen=10_000)
        self.measure = False  # benchmarks: record frame_ms and alert_lag_ms below
        self.frame_ms: list[float] = []
        self.alert_lag_ms: list[float] = []
        self.sessions_dir = sessions if sessions is not None else sessions_dir()

    def _model(self, feed: BeltFeed, driver: DrillDriver | None) -> BeltModel:
        return BeltModel(feed, driver, lambda: self.prefs, clock=self.clock)

    def on_mount(self) -> None:
        if self.store.error:
            self.notify(f"settings not loaded, defaults in use: {self.store.error}",
                        severity="warning", timeout=10)
        self.poll()
        if self.live:
            self.set_interval(1 / DISPLAY_HZ, self.poll)

    def poll(self) -> None:
        """One display tick: a frame per belt, the bell on a new cue, the screen redrawn."""
        t0 = time.perf_counter()
        self.frames = [m.poll() for m in self.models]
        if any(f.new_alert for f in self.frames):
            self.bell()
        screen = self.screen
        show = getattr(screen, "show_frames", None)
        if show is not None:
            show(self.frames)
        self.tick_ms.append((time.perf_counter() - t0) * 1000.0)
        if self.measure:
            # Timed to when the screen has been painted, not just updated.
            self.call_after_refresh(self._painted, t0, [
                f.alert.received_s for f in self.frames if f.new_alert and f.alert])
        if self.duration_s and self.frames and self.frames[0].t_s >= self.duration_s:
            self.exit()

    def _painted(self, t0: float, cues_received_s: list[float]) -> None:
        self.frame_ms.append((time.perf_counter() - t0) * 1000.0)
        now = time.monotonic()
        self.alert_lag_ms.extend((now - r) * 1000.0 for r in cues_received_s if r)

    def action_show(self, name: str) -> None:
        """Switch to a screen by name (each screen keeps its state)."""
        self.switch_mode(name)

    @property
    def screen_name(self) -> str:
        return self.current_mode

    # -- actions shared by the screens -------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def add_marker(self, model: BeltModel, kind: str, note: str = "",
                   at: tuple[float, int] | None = None) -> Marker:
        marker = model.add_marker(kind, note, at)
        session = session_of(model)
        if session is not None:
            session.mark(kind, note, marker.index if at is not None else None)
        self.poll()
        return marker

    def start_plan(self, model: BeltModel) -> None:
        """Start the chosen plan on this belt (or the session already set up for it)."""
        session = session_of(model)
        if session is not None:
            state = session.engine.state
            if state == "ready":
                session.start()
                return
            if state in ("running", "paused"):
                self.notify("a session is running on this belt: x aborts it", severity="warning")
                return
            session.close()
        try:
            plan = resolve_plan(self.prefs.plan or DEFAULT_PLAN)
            entries = history.list_sessions(self.sessions_dir)
            past = history.athlete_history(entries, self.prefs.athlete)
            weaker = history.weaker_side(self.prefs.weaker, past)
            session = LiveSession(
                model.feed, expand(plan, weaker), athlete=self.prefs.athlete,
                out_dir=self.sessions_dir,
                detector_for=lambda ex, side: self.prefs.detector_cdeg(ex, side))
        except LevelBeltError as e:
            model.message = f"plan not started: {e}"
            self.notify(str(e), severity="error")
            return
        model.driver = SessionDriver(session)
        model.reset_figures()
        session.start()

    def control(self, model: BeltModel, action: str) -> None:
        """pause (toggles with resume), skip or abort the session on this belt."""
        session = session_of(model)
        if session is None or session.engine.state not in ("running", "paused"):
            self.notify("no session running: enter starts the plan", severity="warning")
            return
        if action == "pause":
            (session.resume if session.engine.state == "paused" else session.pause)()
        elif action == "skip":
            session.skip()
        elif action == "abort":
            session.abort()
        self.poll()

    def capture_neutral(self, belt_index: int, position: int) -> None:
        if not self.models:
            self.notify("no belt connected: press c", severity="warning")
            return
        model = self.models[belt_index % len(self.models)]
        try:
            model.feed.capture_neutral(position)
        except LevelBeltError as e:
            model.message = f"re-zero not sent: {e}"
            self.notify(str(e), severity="error")
            return
        model.request_capture(position)

    def save_prefs(self, prefs: DashboardPrefs) -> None:
        self.prefs = prefs
        try:
            self.store.save(prefs)
        except OSError as e:
            self.notify(f"settings not saved: {self.store.path}: {e.strerror}",
                        severity="error")

    def add_model(self, feed: BeltFeed, driver: DrillDriver | None) -> BeltModel:
        """A belt the caller owns (it stops the feed); the dashboard shows and drives it."""
        model = self._model(feed, driver)
        self.models.append(model)
        return model

    def add_feed(self, ref: BeltRef, feed: BeltFeed, driver: DrillDriver | None) -> None:
        """A newly connected belt (owned: stopped when the dashboard closes)."""
        self.owned.append(feed)
        self.models.append(self._model(feed, driver))
        self.save_prefs(replace(self.prefs, last_belt=ref))

    def on_unmount(self) -> None:
        for model in self.models:
            session = session_of(model)
            if session is not None:
                session.close()
        for feed in self.owned:
            feed.stop()

    def open_drill(self, index: int) -> None:
        """Show belt `index` on the drill screen."""

        def point(_: object = None) -> None:
            screen = self.screen
            if isinstance(screen, DrillScreen):
                screen.belt_index = index
                screen.show_frames(self.frames)

        self.action_show("drill")
        self.call_after_refresh(point)


def session_of(model: BeltModel) -> LiveSession | None:
    driver = model.driver
    return driver.session if isinstance(driver, SessionDriver) else None
