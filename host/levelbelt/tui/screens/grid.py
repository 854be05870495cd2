"""Coach grid: every connected belt at once, one tile per athlete (up to 4 in view)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Static

from levelbelt.tui.belt_model import BeltFrame
from levelbelt.tui.widgets.tile import BeltTile

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp


class GridScreen(Screen[None]):
    DEFAULT_CSS = """
    GridScreen { layout: vertical; }
    #grid-top { height: 1; background: $primary-darken-2; padding: 0 1; }
    #tiles { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    #tiles.one { grid-size: 1 1; }
    #tiles.two { grid-size: 2 1; }
    #grid-empty { height: 1fr; content-align: center middle; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(n), f"open_belt({n - 1})", f"Open belt {n}", show=n == 1)
          for n in range(1, 5)),
        Binding("enter", "open_selected", "Open selected belt"),
        Binding("right,down", "select(1)", "Select next", show=False),
        Binding("left,up", "select(-1)", "Select previous", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected = 0
        self._count = -1
        self._ready = False

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · coach grid · 1-4 or enter: open a belt · ? help",
                     id="grid-top")
        yield Grid(id="tiles")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._ready = True
        self.show_frames(self.dashboard.frames)

    def show_frames(self, frames: list[BeltFrame]) -> None:
        if not self._ready:
            return
        grid = self.query_one("#tiles", Grid)
        shown = frames[:4]
        if len(shown) != self._count:
            self._count = len(shown)
            grid.remove_children()
            grid.set_class(len(shown) == 1, "one")
            grid.set_class(len(shown) == 2, "two")
            if not shown:
                grid.mount(Static("No belts connected: press c to connect one.",
                                  id="grid-empty"))
            else:
                grid.mount_all(BeltTile(i + 1) for i in range(len(shown)))
            self.call_after_refresh(self.show_frames, frames)
            return
        for i, f in enumerate(shown):
            tiles = grid.query(f"#tile-{i + 1}")
            if tiles:
                tile = tiles.first(BeltTile)
                tile.set_class(i == self.selected, "selected")
                tile.show(f)

    def action_select(self, step: int) -> None:
        if self._count > 0:
            self.selected = (self.selected + step) % self._count
            self.show_frames(self.dashboard.frames)

    def action_open_belt(self, index: int) -> None:
        self._open(index)

    def action_open_selected(self) -> None:
        self._open(self.selected)

    def _open(self, index: int) -> None:
        if index >= len(self.dashboard.models):
            self.notify(f"no belt {index + 1}", severity="warning")
            return
        self.dashboard.open_drill(index)
