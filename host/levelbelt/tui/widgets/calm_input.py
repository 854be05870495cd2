"""A text field whose cursor does not blink: calmer, and stable in screenshots."""

from __future__ import annotations

from textual.widgets import Input


class CalmInput(Input):
    def on_mount(self) -> None:
        self.cursor_blink = False
