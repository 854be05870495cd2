"""Text from files and devices, made safe to print on a terminal.

Names, notes and record fields in a session file are user data: an escape sequence in
an athlete's name could otherwise retitle the window, clear the screen or fake output.
Every C0 and C1 control character and DEL becomes `?` before such text is printed.
"""

from __future__ import annotations

from typing import Final

_C0_C1: Final = [*range(0, 32), *range(127, 160)]
_LINES: Final = {c: "?" for c in _C0_C1 if c != 10}
_ONE_LINE: Final = {c: "?" for c in _C0_C1}


def printable(text: str) -> str:
    """Control characters become `?`; line breaks stay (for multi-line reports)."""
    return text.translate(_LINES)


def one_line(text: str) -> str:
    """Control characters, line breaks included, become `?` (for one-line messages)."""
    return text.translate(_ONE_LINE)
