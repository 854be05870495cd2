"""Updating text at display rate without re-laying out the screen.

`Static.update` asks for a full layout pass by default, which at 30 Hz costs more than
everything else on the screen. These helpers skip unchanged text and ask for a layout
only when the text's length changes (for widgets sized by their content).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from rich.text import Text
from textual.widgets import Digits, Static

_shown: WeakKeyDictionary[Static, str | Text] = WeakKeyDictionary()


def set_text(widget: Static, content: str | Text, sized_by_content: bool = False) -> None:
    """Show `content` in `widget` if it differs from what is shown."""
    before = _shown.get(widget)
    if before is not None and before == content:
        return
    _shown[widget] = content
    layout = sized_by_content and (before is None or len(before) != len(content))
    widget.update(content, layout=layout)


def set_digits(widget: Digits, value: str) -> None:
    """`Digits.update` only when the value changes (it repaints even when it does not)."""
    if widget.value != value:
        widget.update(value)
