"""Line plots drawn with braille dots (2 x 4 per character), vectorised with numpy.

Drawn here rather than with a plotting widget because the plot must show gaps in the
belt's sample index as empty columns (never bridged), keep fixed axes (a calm picture,
no rescaling jitter) and cost well under a millisecond per frame for several belts.
Each series is a line: consecutive samples are joined by filling the dots between them
in a column, unless the samples are further apart than `max_step_s` (a gap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rich.style import Style
from rich.text import Text

# Bit of each dot in a braille cell, indexed [row 0..3][column 0..1] (Unicode 2800 block).
_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)
BRAILLE_BASE = 0x2800


@dataclass(frozen=True)
class Series:
    t_s: NDArray[np.float64]
    values: NDArray[np.float64]
    style: Style


@dataclass(frozen=True)
class HLine:
    value: float
    style: Style


def _dots_for(s: Series, t_end: float, window_s: float, y_min: float, y_max: float,
              cols: int, rows: int, max_step_s: float) -> NDArray[np.bool_]:
    """Dot grid (rows x cols) for one series; empty columns where nothing was sampled."""
    grid = np.zeros((rows, cols), dtype=np.bool_)
    keep = (s.t_s > t_end - window_s) & (s.t_s <= t_end)
    t = s.t_s[keep]
    if t.size == 0:
        return grid
    v = np.clip(s.values[keep], y_min, y_max)
    x = np.minimum(((t - (t_end - window_s)) / window_s * cols).astype(np.int64), cols - 1)
    y = np.rint((y_max - v) / (y_max - y_min) * (rows - 1)).astype(np.int64)
    lo = y.copy()
    hi = y.copy()
    joined = np.diff(t) <= max_step_s
    lo[1:][joined] = np.minimum(y[1:], y[:-1])[joined]
    hi[1:][joined] = np.maximum(y[1:], y[:-1])[joined]
    col_lo = np.full(cols, rows, dtype=np.int64)
    col_hi = np.full(cols, -1, dtype=np.int64)
    np.minimum.at(col_lo, x, lo)
    np.maximum.at(col_hi, x, hi)
    r = np.arange(rows)[:, None]
    grid |= (r >= col_lo[None, :]) & (r <= col_hi[None, :])
    return grid


def _cells(grid: NDArray[np.bool_]) -> NDArray[np.int32]:
    rows, cols = grid.shape
    g = grid.reshape(rows // 4, 4, cols // 2, 2)
    cells: NDArray[np.int32] = (g * _DOT_BITS[None, :, None, :]).sum(axis=(1, 3)).astype(
        np.int32)
    return cells


Run = tuple[str, Style | None]


def render_runs(series: Sequence[Series], t_end: float, window_s: float, y_min: float,
                y_max: float, width: int, height: int, hlines: Sequence[HLine] = (),
                max_step_s: float = 0.015) -> list[list[Run]]:
    """`height` rows of (text, style) runs, `width` characters each; earlier series draw
    on top. Blank cells join the run before them (a space shows no foreground colour),
    so a row is a handful of runs however busy the plot is."""
    width, height = max(1, width), max(1, height)
    cols, rows = 2 * width, 4 * height
    chars = np.zeros((height, width), dtype=np.int32)
    owner = np.full((height, width), -1, dtype=np.int64)
    styles: list[Style] = []
    layers: list[NDArray[np.int32]] = []
    for s in series:
        layers.append(_cells(_dots_for(s, t_end, window_s, y_min, y_max, cols, rows,
                                       max_step_s)))
        styles.append(s.style)
    for h in hlines:
        grid = np.zeros((rows, cols), dtype=np.bool_)
        if y_min <= h.value <= y_max:
            y = round((y_max - h.value) / (y_max - y_min) * (rows - 1))
            grid[y, ::3] = True  # dotted, so it reads as a guide, not data
        layers.append(_cells(grid))
        styles.append(h.style)
    for k, layer in enumerate(layers):
        chars |= layer
        owner[(owner < 0) & (layer > 0)] = k
    codes = np.where(chars > 0, chars + BRAILLE_BASE, 0x20)
    out = []
    for r in range(height):
        text = "".join(map(chr, codes[r].tolist()))
        row_owner = owner[r]
        marks = np.nonzero(row_owner >= 0)[0]
        runs: list[Run] = []
        if marks.size == 0:
            runs.append((text, None))
        else:
            changes = marks[np.nonzero(np.diff(row_owner[marks]))[0] + 1]
            starts = [0, *changes.tolist()]
            firsts = [int(marks[0]), *changes.tolist()]
            for i, start in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else width
                runs.append((text[start:end], styles[int(row_owner[firsts[i]])]))
        out.append(runs)
    return out


def render(series: Sequence[Series], t_end: float, window_s: float, y_min: float,
           y_max: float, width: int, height: int, hlines: Sequence[HLine] = (),
           max_step_s: float = 0.015) -> list[Text]:
    """The same plot as rich `Text` lines."""
    lines = []
    for runs in render_runs(series, t_end, window_s, y_min, y_max, width, height, hlines,
                            max_step_s):
        line = Text(no_wrap=True, overflow="crop")
        for text, style in runs:
            line.append(text, style=style or Style())
        lines.append(line)
    return lines
