"""Braille line plots: fixed axes, lines joined between samples, gaps left empty."""

from __future__ import annotations

import numpy as np
from rich.style import Style

from levelbelt.tui import braille
from levelbelt.tui.widgets.gauge import render_gauge

STYLE = Style(color="cyan")


def _plot(t: np.ndarray, v: np.ndarray, width: int = 10, height: int = 3,
          hlines: list[braille.HLine] | None = None) -> list[str]:
    lines = braille.render([braille.Series(t, v, STYLE)], t_end=1.0, window_s=1.0,
                           y_min=-1.0, y_max=1.0, width=width, height=height,
                           hlines=hlines or [], max_step_s=0.015)
    return [line.plain for line in lines]


def test_a_level_line_fills_every_column_of_the_middle_row() -> None:
    t = np.arange(1, 101) / 100.0
    rows = _plot(t, np.zeros(100))
    assert len(rows) == 3 and all(len(r) == 10 for r in rows)
    assert rows[0].strip() == "" and rows[2].strip() == ""
    assert " " not in rows[1]


def test_missing_samples_leave_empty_columns_instead_of_a_bridge() -> None:
    t = np.arange(1, 101) / 100.0
    keep = (t <= 0.4) | (t > 0.7)
    rows = _plot(t[keep], np.zeros(keep.sum()), width=10)
    middle = rows[1]
    # 10 cells over 1 s: 0.4-0.5 s and 0.5-0.6 s hold no sample, 0.6-0.7 s neither
    assert middle[5:7] == "  "
    assert " " not in middle[:4] and " " not in middle[7:]


def test_a_jump_between_neighbouring_samples_is_drawn_as_a_vertical_line() -> None:
    t = np.arange(1, 101) / 100.0
    v = np.where(t <= 0.5, -1.0, 1.0)
    rows = _plot(t, v, width=10, height=3)
    column = [r[4] for r in rows] if rows[0][4] != " " else [r[5] for r in rows]
    assert all(c != " " for c in column)


def test_values_outside_the_axis_are_clipped_to_the_edge() -> None:
    t = np.arange(1, 101) / 100.0
    rows = _plot(t, np.full(100, 50.0))
    assert rows[0].strip() and not rows[1].strip() and not rows[2].strip()


def test_threshold_guides_are_dotted_rows_and_data_draws_over_them() -> None:
    t = np.arange(1, 101) / 100.0
    lines = braille.render([braille.Series(t, np.zeros(100), STYLE)], 1.0, 1.0, -1.0, 1.0,
                           12, 3, hlines=[braille.HLine(1.0, Style(color="red"))])
    top = lines[0]
    assert top.plain.strip() and top.plain.count(" ") > 0
    assert all(span.style == Style(color="red") for span in top.spans)
    assert any(span.style == STYLE for span in lines[1].spans)


def test_gauge_points_at_the_lower_hip_and_turns_red_beyond_the_threshold() -> None:
    level = render_gauge(60, 0.0, 5.0, 3.0).plain
    right_high = render_gauge(60, 8.0, 5.0, 3.0)  # obliquity > 0: left side is lower
    marker = right_high.plain.index("●")
    assert right_high.plain.startswith("L low ") and right_high.plain.endswith(" R low")
    assert marker < level.index("●")
    assert any("red" in str(span.style) for span in right_high.spans
               if span.start <= marker < span.end)
    inside = render_gauge(60, 2.0, 5.0, 3.0)
    pos = inside.plain.index("●")
    assert all("red" not in str(s.style) for s in inside.spans if s.start <= pos < s.end)
