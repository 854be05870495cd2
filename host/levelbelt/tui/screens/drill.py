"""The drill screen: one belt, read from two metres.

Phase banner, big timer, live obliquity and tilt, set and rep progress, the gauge, the
last 10 s, per-side running figures, the hip-drop alert, link and battery. Coach
markers (good / bad / note) and a quick re-zero are on keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Label, ProgressBar, Static

from levelbelt.tui.belt_model import LEVEL_BAND_DEG, BeltFrame, BeltModel
from levelbelt.tui.prefs import DEFAULT_PLAN
from levelbelt.tui.screens.note import NoteScreen
from levelbelt.tui.widgets.alert import DropAlertBar
from levelbelt.tui.widgets.gauge import ObliquityGauge
from levelbelt.tui.widgets.scores import SideScores
from levelbelt.tui.widgets.text import set_digits, set_text
from levelbelt.tui.widgets.trace import TracePlot

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp


def status_line(f: BeltFrame, width: int = 0) -> str:
    """Link, battery, firmware, rate, belt time, frames, missing samples; on a narrow
    screen (`width` columns) the frame counts, then the rate, then the firmware go
    first, so what matters during a drill is never cut off."""
    s = f.snap
    fw = ".".join(map(str, s.firmware)) if s.firmware else "?"
    batt = f"battery {f.battery_pct}%" if f.battery_pct is not None else "battery ?"
    link = f.link.quality if f.link.detail == "no loss" else f"{f.link.quality} ({f.link.detail})"
    parts = [(0, f"link {link}"), (0, batt), (2, f"belt fw {fw}"), (1, f"{s.rate_hz} Hz"),
             (0, f"t {f.t_s:.1f} s"), (3, f"frames {s.frames_ok} ok {s.frames_bad} bad"),
             (0, f"missing samples {f.link.samples_missing}")]
    line = " · ".join(text for _, text in parts)
    for rank in (3, 2, 1):
        if not width or len(line) <= width:
            break
        parts = [(r, text) for r, text in parts if r < rank]
        line = " · ".join(text for _, text in parts)
    return line


def banner_text(f: BeltFrame, plan: str = "the plan") -> str:
    """The phase in words, with the next key to press where there is one."""
    v = f.view
    if v.kind == "idle" and f.session is None:
        return f"{v.banner} · enter starts {plan}"
    if v.kind == "done":
        return f"{v.banner} · r reviews it"
    if v.kind in ("work", "rest") and v.rep_label == "rep":
        return f"{v.banner}   rep {v.rep}/{v.reps}"
    if v.kind == "hold" and v.stance in ("left", "right"):
        return f"{v.banner}   stand on your {v.stance} leg"
    return v.banner


class DrillScreen(Screen[None]):
    DEFAULT_CSS = """
    DrillScreen { layout: vertical; }
    #topbar { height: 1; background: $primary-darken-2; color: $text; padding: 0 1; }
    #phase { height: 3; width: 100%; content-align: center middle; text-style: bold; }
    #phase.idle { background: $panel; }
    #phase.calibrating { background: $warning-darken-2; }
    #phase.ready { background: $accent-darken-2; }
    #phase.work { background: $success-darken-1; }
    #phase.rest { background: $primary-darken-1; }
    #phase.hold { background: $secondary-darken-1; }
    #phase.done { background: $panel; }
    #numbers { height: 4; }
    .cell { width: 1fr; height: 4; align: center top; }
    .cell Label { width: 100%; content-align: center middle; color: $text-muted; }
    .cell Digits { width: auto; }
    #progress { height: 1; padding: 0 1; }
    #progress Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    #progress ProgressBar { width: 1fr; }
    #progress Bar { width: 1fr; }
    #gauge { margin: 0 1; }
    #plot-label { height: 1; color: $text-muted; padding: 0 1; }
    #plot { margin: 0 1; }
    #status { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Short words for the footer (it must fit 80 columns); the help says more.
        Binding("g", "marker('good')", "Good", tooltip="Coach marker: good"),
        Binding("b", "marker('bad')", "Bad", tooltip="Coach marker: bad"),
        Binding("n", "note", "Note", tooltip="Coach marker with a note"),
        Binding("z", "rezero", "Re-zero", tooltip="Capture neutral in this position"),
        Binding("enter", "start", "Start", tooltip="Start the plan (from Settings)"),
        Binding("space", "control('pause')", "Pause", tooltip="Pause / resume the session"),
        Binding("right", "control('skip')", "Skip", key_display="→",
                tooltip="Skip the phase (in a re-zero: accept the neutral)"),
        Binding("x", "control('abort')", "Abort",
                tooltip="Abort the session (it is still saved and scored)"),
        Binding("tab", "next_belt", "Next belt", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.belt_index = 0
        self._ready = False

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt", id="topbar")
        yield Static("CONNECTING", id="phase")
        with Horizontal(id="numbers"):
            with Vertical(classes="cell"):
                yield Label("time left (s)")
                yield Digits("0.0", id="timer")
            with Vertical(classes="cell"):
                yield Label("obliquity ° (+ right high)")
                yield Digits("+0.0", id="obl")
            with Vertical(classes="cell"):
                yield Label("tilt ° (+ anterior)")
                yield Digits("+0.0", id="tilt")
        with Horizontal(id="progress"):
            yield Label("set 0/0", id="set-label")
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="set-bar")
            yield Label("rep 0/0", id="rep-label")
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="rep-bar")
        yield ObliquityGauge(id="gauge")
        yield Label("last 10 s: [cyan]━[/] obliquity  [magenta]━[/] tilt  [red]┄[/] threshold",
                    id="plot-label")
        yield TracePlot(id="plot")
        yield SideScores(id="scores")
        yield DropAlertBar(id="alert")
        yield Static("", id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._phase = self.query_one("#phase", Static)
        self._timer = self.query_one("#timer", Digits)
        self._obl = self.query_one("#obl", Digits)
        self._tilt = self.query_one("#tilt", Digits)
        self._set_label = self.query_one("#set-label", Label)
        self._rep_label = self.query_one("#rep-label", Label)
        self._set_bar = self.query_one("#set-bar", ProgressBar)
        self._rep_bar = self.query_one("#rep-bar", ProgressBar)
        self._gauge = self.query_one(ObliquityGauge)
        self._plot = self.query_one(TracePlot)
        self._scores = self.query_one(SideScores)
        self._alert = self.query_one(DropAlertBar)
        self._status = self.query_one("#status", Static)
        self._topbar = self.query_one("#topbar", Static)
        self._last_index = -2
        self._shown: tuple[object, ...] | None = None
        self._ready = True
        self.show_frames(self.dashboard.frames)

    def show_frames(self, frames: list[BeltFrame]) -> None:
        if not self._ready:
            return
        if not frames:
            self._phase.update("NO BELT · press c to connect")
            self._phase.set_classes("idle")
            return
        self.belt_index %= len(frames)
        self.show(frames[self.belt_index], len(frames))

    def show(self, f: BeltFrame, belts: int = 1) -> None:
        # Between the belt's frames (20 a second on USB) nothing on screen can change.
        key = (f.snap.last_index, f.alert, f.message, f.view, f.session, belts,
               self.belt_index, self.size.width)
        if key == self._shown:
            return
        self._shown = key
        v = f.view
        which = f" ({self.belt_index + 1}/{belts}, tab: next)" if belts > 1 else ""
        set_text(self._topbar, f"LevelBelt · {f.label}{which} · ? help · q quit")
        set_text(self._phase, banner_text(f, self.dashboard.prefs.plan or DEFAULT_PLAN))
        self._phase.set_classes(v.kind)
        set_digits(self._timer, f"{v.remaining_s:4.1f}")
        set_digits(self._obl, f"{f.snap.obliquity_deg:+5.1f}")
        set_digits(self._tilt, f"{f.snap.tilt_deg:+5.1f}")
        round_text = f" · round {v.round_no}" if v.round_no > 1 else ""
        set_text(self._set_label, f"set {v.set_no}/{v.sets}{round_text}", sized_by_content=True)
        set_text(self._rep_label, f"{v.rep_label} {v.rep}/{v.reps}", sized_by_content=True)
        self._set_bar.update(total=max(1, v.sets), progress=v.set_no)
        self._rep_bar.update(total=max(1, v.reps), progress=v.rep)
        d = f.detector
        self._gauge.show(f.snap.obliquity_deg, d.threshold_deg, LEVEL_BAND_DEG)
        if f.snap.last_index != self._last_index:
            self._last_index = f.snap.last_index
            self._plot.show(f.snap.history_t_s, f.snap.history_obl_deg,
                            f.snap.history_tilt_deg, f.t_s, d.threshold_deg, f.snap.rate_hz)
        self._scores.show(f.tallies, f.session.scores if f.session else None,
                          squeezing=v.exercise == "isometric")
        self._alert.show(f.alert, f.message)
        set_text(self._status, status_line(f, self._status.content_region.width))

    def _model(self) -> BeltModel | None:
        models = self.dashboard.models
        if not models:
            self.notify("no belt connected: press c", severity="warning")
            return None
        return models[self.belt_index % len(models)]

    def action_marker(self, kind: str) -> None:
        model = self._model()
        if model is not None:
            self.dashboard.add_marker(model, kind)

    def action_note(self) -> None:
        model = self._model()
        if model is None:
            return
        at = model.marker_time()  # the moment the coach saw it, not when typed

        def done(text: str | None) -> None:
            if text is not None:
                self.dashboard.add_marker(model, "note", text, at)

        self.app.push_screen(NoteScreen(), done)

    def action_rezero(self) -> None:
        model = self._model()
        if model is not None:
            position = model.last_frame.view.position if model.last_frame else 0
            self.dashboard.capture_neutral(self.belt_index, position)

    def action_start(self) -> None:
        model = self._model()
        if model is not None:
            self.dashboard.start_plan(model)

    def action_control(self, action: str) -> None:
        model = self._model()
        if model is not None:
            self.dashboard.control(model, action)

    def action_next_belt(self) -> None:
        if self.dashboard.models:
            self.belt_index = (self.belt_index + 1) % len(self.dashboard.models)
            self._last_index = -2
