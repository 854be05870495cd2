"""Text from files and devices cannot drive the terminal it is printed on."""

from __future__ import annotations

import pytest

from levelbelt.cli import main
from levelbelt.safe_text import one_line, printable

NASTY = "a\x1b]0;title\x07b\x9b2Jc\x7fd\te\r\nf\x00"


def test_printable_replaces_every_control_character_but_keeps_line_breaks() -> None:
    assert printable(NASTY) == "a?]0;title?b?2Jc?d?e?\nf?"
    assert printable("Zoë · 3° — ok") == "Zoë · 3° — ok"


def test_one_line_also_replaces_line_breaks() -> None:
    assert one_line(NASTY) == "a?]0;title?b?2Jc?d?e??f?"
    assert one_line(NASTY).isprintable()


def test_the_cli_error_line_is_one_printable_line_whatever_the_message_quotes(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans", "show", "no\x1b[2Jplan\nsecond"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("levelbelt: error: no?[2Jplan?second: no built-in plan")
    assert err.count("\n") == 1 and err[:-1].isprintable()
