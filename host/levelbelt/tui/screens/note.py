"""A one-line coach note, stored as a marker at the belt time it was opened."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from levelbelt.tui.widgets.calm_input import CalmInput


class NoteScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    NoteScreen { align: center middle; }
    #note-box { width: 60; max-width: 100%; height: auto; border: round $accent;
                background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel note")]

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Label("Coach note (enter saves, esc cancels)")
            yield CalmInput(placeholder="e.g. knee drifting in", max_length=200, id="note")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
