"""One athlete in the coach grid: phase, obliquity, gauge, per-side figures, link.

The whole tile turns red while that belt's drop alert is up, so the coach sees which
athlete dropped from across the room.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from levelbelt.tui.belt_model import LEVEL_BAND_DEG, BeltFrame
from levelbelt.tui.widgets.gauge import ObliquityGauge
from levelbelt.tui.widgets.scores import side_line
from levelbelt.tui.widgets.text import set_digits, set_text
from levelbelt.tui.widgets.trace import TracePlot


class BeltTile(Vertical):
    DEFAULT_CSS = """
    BeltTile { border: round $primary; height: 1fr; width: 1fr; padding: 0 1; }
    BeltTile.selected { border: heavy $accent; }
    BeltTile.alert { background: $error-darken-2; border: heavy $error; }
    BeltTile.alert.dim { background: $error-darken-3; }
    BeltTile .tile-phase { height: 1; text-style: bold; }
    BeltTile .tile-numbers { height: 3; }
    BeltTile Digits { width: auto; }
    BeltTile .tile-unit { width: auto; color: $text-muted; padding: 0 0 0 2; }
    BeltTile .tile-line { height: 1; color: $text-muted; }
    BeltTile ObliquityGauge { height: 1; }
    BeltTile TracePlot { height: 1fr; min-height: 0; margin: 0; }
    """

    def __init__(self, number: int) -> None:
        super().__init__(id=f"tile-{number}")
        self.number = number
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Static("", classes="tile-phase")
        with Horizontal(classes="tile-numbers"):
            yield Digits("+0.0", classes="tile-obl")
            yield Static("\nobliquity °\n+ right high", classes="tile-unit")
        yield ObliquityGauge()
        yield Static("", classes="tile-line tile-left")
        yield Static("", classes="tile-line tile-right")
        yield Static("", classes="tile-line tile-link")
        yield TracePlot()

    def on_mount(self) -> None:
        self._phase = self.query_one(".tile-phase", Static)
        self._obl = self.query_one(Digits)
        self._gauge = self.query_one(ObliquityGauge)
        self._left = self.query_one(".tile-left", Static)
        self._right = self.query_one(".tile-right", Static)
        self._link = self.query_one(".tile-link", Static)
        self._plot = self.query_one(TracePlot)
        self._last_index = -2
        self._shown: tuple[object, ...] | None = None
        self._ready = True

    def show(self, f: BeltFrame) -> None:
        if not self._ready:  # mounted on the next refresh; the next tick shows it
            return
        key = (f.snap.last_index, f.alert, f.view, f.link, f.battery_pct)
        if key == self._shown:
            return
        self._shown = key
        v = f.view
        self.border_title = f"{self.number} · {f.label}"
        if f.alert is not None:
            a = f.alert
            set_text(self._phase, f"HIP DROP · {a.side.upper()} SIDE LOW {a.peak_deg:.1f}°")
        else:
            rep = f" {v.rep}/{v.reps}" if v.kind in ("work", "rest") else ""
            set_text(self._phase, f"{v.banner}{rep} · {v.remaining_s:4.1f} s")
        self.set_class(f.alert is not None, "alert")
        self.set_class(f.alert is not None and not f.alert.flash_on, "dim")
        set_digits(self._obl, f"{f.snap.obliquity_deg:+5.1f}")
        self._gauge.show(f.snap.obliquity_deg, f.detector.threshold_deg, LEVEL_BAND_DEG)
        squeezing = v.exercise == "isometric"
        for name, row in (("left", self._left), ("right", self._right)):
            figures = side_line(f.tallies[name], compact=True, squeezing=squeezing)
            set_text(row, f"{name[0].upper()}  {figures}")
        batt = f"{f.battery_pct}%" if f.battery_pct is not None else "?"
        set_text(self._link, f"link {f.link.quality} · battery {batt}")
        if f.snap.last_index != self._last_index and self._plot.size.height:
            self._last_index = f.snap.last_index
            self._plot.show(f.snap.history_t_s, f.snap.history_obl_deg,
                            f.snap.history_tilt_deg, f.t_s, f.detector.threshold_deg,
                            f.snap.rate_hz)
