"""Calibrate: stillness, neutral capture per position, and the mount check.

The stillness bar runs the belt's own test on the raw samples, so the coach sees when
a capture will be accepted. The capture itself is done by the belt, which refuses a
window with movement and says which axis moved; the screen shows that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Label, ProgressBar, Static

from levelbelt.live import STILL_WINDOW_S
from levelbelt.tui.belt_model import POSITION_NAMES, BeltFrame
from levelbelt.tui.widgets.text import set_digits, set_text

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp

STEPS = (
    "1. Clip the belt at the sacrum, upright, with the button side out.",
    "2. Choose the position (1 standing, 2 seated, 3 prone) and hold it still.",
    "3. Press enter: the belt captures neutral when the bar is full.",
    "Re-zero between positions the same way (z on the drill screen).",
)


class CalibrateScreen(Screen[None]):
    DEFAULT_CSS = """
    CalibrateScreen { layout: vertical; }
    #cal-top { height: 1; background: $primary-darken-2; padding: 0 1; }
    #cal-steps { height: auto; padding: 1 2 0 2; color: $text-muted; }
    #cal-position { height: 3; content-align: center middle; text-style: bold;
                    background: $panel; margin: 1 2 0 2; }
    #still-row { height: 1; margin: 1 2 0 2; }
    #still-row Label { width: 20; }
    #still-row ProgressBar { width: 1fr; }
    #still-row Bar { width: 1fr; }
    #cal-state { height: 3; margin: 1 2 0 2; padding: 0 1; content-align: left middle; }
    #cal-state.ok { background: $success-darken-2; }
    #cal-state.warn { background: $warning-darken-2; }
    #cal-state.bad { background: $error-darken-2; }
    #cal-angles { height: 4; margin: 1 2 0 2; }
    .cal-cell { width: 1fr; height: 4; align: center top; }
    .cal-cell Label { width: 100%; content-align: center middle; color: $text-muted; }
    .cal-cell Digits { width: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "position(0)", "Standing"),
        Binding("2", "position(1)", "Seated"),
        Binding("3", "position(2)", "Prone"),
        Binding("enter", "capture", "Capture neutral"),
        Binding("tab", "next_belt", "Next belt", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.position = 0
        self.belt_index = 0
        self._ready = False

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · calibrate", id="cal-top")
        yield Static("\n".join(STEPS), id="cal-steps")
        yield Static("", id="cal-position")
        with Horizontal(id="still-row"):
            yield Label("still for 0.0 s", id="still-label")
            yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="still")
        yield Static("", id="cal-state")
        with Horizontal(id="cal-angles"):
            with Vertical(classes="cal-cell"):
                yield Label("obliquity (°)")
                yield Digits("+0.0", id="cal-obl")
            with Vertical(classes="cal-cell"):
                yield Label("tilt (°)")
                yield Digits("+0.0", id="cal-tilt")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._show_position()
        self._ready = True
        self.show_frames(self.dashboard.frames)

    def _show_position(self) -> None:
        names = "   ".join(
            f"[reverse] {i + 1} {n} [/]" if i == self.position else f"{i + 1} {n}"
            for i, n in enumerate(POSITION_NAMES))
        self.query_one("#cal-position", Static).update(names)

    def show_frames(self, frames: list[BeltFrame]) -> None:
        if not self._ready:
            return
        state = self.query_one("#cal-state", Static)
        if not frames:
            self.query_one("#cal-top", Static).update("LevelBelt · calibrate · no belt")
            state.update("No belt connected: press c to connect one.")
            state.set_classes("warn")
            return
        self.belt_index %= len(frames)
        f = frames[self.belt_index]
        set_text(self.query_one("#cal-top", Static), f"LevelBelt · calibrate · {f.label}")
        still = min(f.snap.still_s, STILL_WINDOW_S)
        set_text(self.query_one("#still-label", Label),
                 f"still for {f.snap.still_s:4.1f} s" if f.snap.still_s < 99 else "still")
        self.query_one("#still", ProgressBar).update(progress=100 * still / STILL_WINDOW_S)
        cap = f.capture
        set_text(state, cap.detail)
        if cap.state == "done":
            state.set_classes("ok" if cap.mount_ok else "warn")
        elif cap.state in ("moving", "lost"):
            state.set_classes("bad")
        else:
            state.set_classes("warn")
        set_digits(self.query_one("#cal-obl", Digits), f"{f.snap.obliquity_deg:+5.1f}")
        set_digits(self.query_one("#cal-tilt", Digits), f"{f.snap.tilt_deg:+5.1f}")

    def action_position(self, position: int) -> None:
        self.position = position
        self._show_position()

    def action_capture(self) -> None:
        self.dashboard.capture_neutral(self.belt_index, self.position)
        self.dashboard.poll()

    def action_next_belt(self) -> None:
        if self.dashboard.models:
            self.belt_index = (self.belt_index + 1) % len(self.dashboard.models)
