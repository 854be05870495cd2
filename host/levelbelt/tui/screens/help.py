"""Help overlay: every key, read from the bindings themselves so it cannot go stale."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

SCREEN_TITLES = {
    "connect": "Connect",
    "calibrate": "Calibrate",
    "drill": "Drill",
    "grid": "Coach grid",
    "review": "Review",
    "settings": "Settings",
}


def key_label(b: Binding) -> str:
    if b.key_display:
        return b.key_display
    names = {"question_mark": "?", "space": "space", "escape": "esc", "enter": "enter"}
    return ", ".join(names.get(k, k) for k in b.key.split(","))


def _bindings(owner: type) -> list[Binding]:
    out = []
    for b in getattr(owner, "BINDINGS", []):
        if isinstance(b, Binding):
            out.append(b)
    return out


def help_rows(app_type: type) -> list[tuple[str, str, str]]:
    """(where, key, what) for the app and every screen, in screen order."""
    from levelbelt.tui.screens.note import NoteScreen

    rows = [("everywhere", key_label(b), b.description) for b in _bindings(app_type)]
    modes: dict[str, object] = getattr(app_type, "MODES", {})
    for mode, screen in modes.items():
        if isinstance(screen, type) and issubclass(screen, Screen):
            title = SCREEN_TITLES.get(mode, mode)
            rows += [(title, key_label(b), b.tooltip or b.description or b.action)
                     for b in _bindings(screen)]
    rows.append(("Note (n)", "enter", "Save the note"))
    rows += [("Note (n)", key_label(b), b.description) for b in _bindings(NoteScreen)]
    rows += [("This help", key_label(b), b.description) for b in _bindings(HelpScreen)]
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 72; max-width: 100%; height: auto; max-height: 100%;
            border: round $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "Close help", key_display="esc"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("screen", style="dim", no_wrap=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("does")
        last = ""
        for where, key, what in help_rows(type(self.app)):
            table.add_row(where if where != last else "", key, what)
            last = where
        with VerticalScroll(id="help"):
            yield Static("[b]LevelBelt keys[/b] · ↑/↓ PgUp/PgDn scroll · esc closes")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
