"""The last 10 s of obliquity and tilt as braille lines, with the threshold as guides.

Fixed axes (±12°) so the picture never rescales under the coach's eyes. Missing samples
leave empty columns: a gap in the link shows as a gap, never as a straight line. Drawn
through Textual's line API (one strip of a few styled runs per row), which keeps a
30 Hz redraw cheap even on a large terminal.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from levelbelt.tui import braille

WINDOW_S = 10.0
Y_LIMIT_DEG = 12.0
GUTTER = 5
OBL_STYLE = Style(color="cyan", bold=True)
TILT_STYLE = Style(color="magenta")
THRESHOLD_STYLE = Style(color="red", dim=True)
ZERO_STYLE = Style(color="grey50", dim=True)
LABEL_STYLE = Style(dim=True)
_EMPTY = np.zeros(0, dtype=np.float64)


def axis_labels(height: int) -> dict[int, str]:
    if height < 2:  # one row holds the whole axis
        return {0: f"±{Y_LIMIT_DEG:.0f}°"}
    labels = {0: f"+{Y_LIMIT_DEG:.0f}°", height - 1: f"-{Y_LIMIT_DEG:.0f}°"}
    if height >= 3:
        labels[int(np.rint((4 * height - 1) / 2)) // 4] = "0°"
    return labels


class TracePlot(Widget):
    DEFAULT_CSS = "TracePlot { height: 1fr; min-height: 3; }"

    def __init__(self, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._t: NDArray[np.float64] = _EMPTY
        self._obl: NDArray[np.float64] = _EMPTY
        self._tilt: NDArray[np.float64] = _EMPTY
        self._t_end = 0.0
        self._threshold = 5.0
        self._step = 0.015
        self._strips: list[Strip] | None = None
        self._built_for: tuple[int, int] = (0, 0)

    def show(self, t_s: NDArray[np.float64], obl_deg: NDArray[np.float64],
             tilt_deg: NDArray[np.float64], t_end: float, threshold_deg: float,
             rate_hz: int) -> None:
        self._t, self._obl, self._tilt = t_s, obl_deg, tilt_deg
        self._t_end = max(t_end, WINDOW_S)
        self._threshold = threshold_deg
        self._step = 1.5 / rate_hz
        self._strips = None
        self.refresh()

    def _build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        rows = braille.render_runs(
            [braille.Series(self._t, self._obl, OBL_STYLE),
             braille.Series(self._t, self._tilt, TILT_STYLE)],
            self._t_end, WINDOW_S, -Y_LIMIT_DEG, Y_LIMIT_DEG, max(1, width - GUTTER),
            height,
            hlines=[braille.HLine(self._threshold, THRESHOLD_STYLE),
                    braille.HLine(-self._threshold, THRESHOLD_STYLE),
                    braille.HLine(0.0, ZERO_STYLE)],
            max_step_s=self._step,
        )
        labels = axis_labels(height)
        strips = []
        for r, runs in enumerate(rows):
            segments = [Segment(f"{labels.get(r, ''):>4} ", base + LABEL_STYLE)]
            segments += [Segment(text, base + style if style else base) for text, style in runs]
            strips.append(Strip(segments).crop_extend(0, width, base))
        return strips

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if self._strips is None or self._built_for != (width, height):
            self._strips = self._build(width, height) if width and height else []
            self._built_for = (width, height)
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(width)
