"""The first live screen: tilt, obliquity, hip-drop alert and the set timer.

Reads `LiveBelt` snapshots at display rate (≤ 30 Hz) so a 100 Hz belt never floods the
UI; the phase comes from belt time, so the timer runs with the belt, not the terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Footer, Label, Sparkline, Static

from levelbelt.demo_script import phase_at
from levelbelt.live import DropAlert
from levelbelt.tui.widgets import ObliquityGauge

if TYPE_CHECKING:
    from levelbelt.demo import DemoRig

DISPLAY_HZ = 30
ALERT_HOLD_S = 1.5
PHASE_CLASSES = {
    "CALIBRATING": "calibrating",
    "GET READY": "ready",
    "SQUEEZE": "work",
    "REST": "rest",
    "DONE": "rest",
}


class DemoApp(App[None]):
    TITLE = "LevelBelt"
    CSS = """
    Screen { layout: vertical; background: $surface; }
    #topbar { height: 1; background: $primary-darken-2; color: $text; padding: 0 1; }
    #phase { height: 3; content-align: center middle; text-style: bold; width: 100%; }
    #phase.calibrating { background: $warning-darken-2; }
    #phase.ready { background: $accent-darken-2; }
    #phase.work { background: $success-darken-1; }
    #phase.rest { background: $primary-darken-1; }
    #phase.hold { background: $secondary-darken-1; }
    #row { height: 5; }
    .cell { width: 1fr; height: 5; align: center middle; }
    .cell Label { width: 100%; content-align: center middle; color: $text-muted; }
    .cell Digits { width: auto; }
    #gauge { height: 1; content-align: center middle; margin: 1 0 0 0; }
    #plot-label { height: 1; color: $text-muted; padding: 0 1; }
    #plot { height: 3; margin: 0 1; }
    #alert { height: 3; content-align: center middle; text-style: bold; }
    #alert.on { background: $error; color: $text; }
    #status { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, rig: DemoRig, duration_s: float = 0.0) -> None:
        super().__init__()
        self.rig = rig
        self.duration_s = duration_s
        self._seen_cues = 0
        self._alert_until = -1.0

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · simulated belt on a serial pty · q to quit", id="topbar")
        yield Static("CONNECTING", id="phase")
        with Horizontal(id="row"):
            with Vertical(classes="cell"):
                yield Label("time left (s)")
                yield Digits("0.0", id="timer")
            with Vertical(classes="cell"):
                yield Label("obliquity (°, + right higher)")
                yield Digits("+0.0", id="obl")
            with Vertical(classes="cell"):
                yield Label("tilt (°, + anterior)")
                yield Digits("+0.0", id="tilt")
        yield ObliquityGauge(id="gauge")
        yield Label("obliquity, last 10 s", id="plot-label")
        yield Sparkline([0.0], id="plot")
        yield Static("", id="alert")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1 / DISPLAY_HZ, self.refresh_view)

    def refresh_view(self) -> None:
        snap = self.rig.live.snapshot()
        t_s = (snap.last_index + 1) / snap.rate_hz if snap.last_index >= 0 else 0.0
        phase = phase_at(t_s)
        banner = self.query_one("#phase", Static)
        title = phase.name
        if phase.name in ("SQUEEZE", "REST"):
            title = f"{phase.name}   rep {phase.rep}/{phase.reps}"
        banner.update(title)
        banner.set_classes(PHASE_CLASSES.get(phase.name, "hold"))
        self.query_one("#timer", Digits).update(f"{phase.remaining_s:4.1f}")
        self.query_one("#obl", Digits).update(f"{snap.obliquity_deg:+5.1f}")
        self.query_one("#tilt", Digits).update(f"{snap.tilt_deg:+5.1f}")
        self.query_one("#gauge", ObliquityGauge).show(snap.obliquity_deg)
        if snap.history_obl_deg.size:
            self.query_one("#plot", Sparkline).data = snap.history_obl_deg[::5].tolist()
        self._update_alert(snap.drops, t_s)
        fw = ".".join(map(str, snap.firmware)) if snap.firmware else "?"
        err = f" · LINK ERROR: {self.rig.error}" if self.rig.error else ""
        self.query_one("#status", Static).update(
            f"belt fw {fw} · {snap.rate_hz} Hz · t {t_s:6.1f} s · frames {snap.frames_ok} ok "
            f"{snap.frames_bad} bad · missing samples {snap.samples_missing}{err}"
        )
        if self.duration_s and t_s >= self.duration_s:
            self.exit()

    def _update_alert(self, drops: tuple[DropAlert, ...], t_s: float) -> None:
        alert = self.query_one("#alert", Static)
        cues = [d for d in drops if not d.ended]
        if len(cues) > self._seen_cues:
            self._seen_cues = len(cues)
            last = cues[-1]
            alert.update(f"HIP DROP · {last.side.upper()} SIDE LOW · {last.peak_deg:.1f}°")
            alert.add_class("on")
            self._alert_until = t_s + ALERT_HOLD_S
            self.bell()
        elif t_s > self._alert_until and alert.has_class("on"):
            alert.remove_class("on")
            alert.update("")
