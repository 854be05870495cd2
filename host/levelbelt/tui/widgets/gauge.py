"""Horizontal obliquity gauge that points at the hip that is lower.

Centre is level. The shaded band is where the pelvis counts as level; the bars at
±threshold are where the belt starts timing a drop. The marker turns red beyond them.
Redrawn only when a cell changes, as a handful of styled runs.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

GAUGE_RANGE_DEG = 15.0
_S = {name: Style.parse(spec) for name, spec in {
    "label": "bold", "ok": "bold green", "bad": "bold red", "bar_ok": "green",
    "bar_bad": "bold red", "level": "bold", "threshold": "bold red", "band": "green",
    "track": "dim"}.items()}


def gauge_runs(width: int, value_deg: float, threshold_deg: float,
               band_deg: float) -> list[tuple[str, Style]]:
    """`L low ` + track + ` R low` as (text, style) runs; obliquity > 0 points left."""
    inner = max(21, width - 12)
    inner -= 1 - inner % 2  # odd, so level sits on a cell of its own
    half = inner // 2
    step = half / GAUGE_RANGE_DEG
    band = round(band_deg * step)
    thr = round(threshold_deg * step)
    clamped = max(-GAUGE_RANGE_DEG, min(GAUGE_RANGE_DEG, value_deg))
    pos = max(0, min(inner - 1, half - round(clamped * step)))
    beyond = abs(value_deg) >= threshold_deg
    cells: list[tuple[str, str]] = []
    for i in range(inner):
        off = abs(i - half)
        if i == pos:
            cells.append(("●", "bad" if beyond else "ok"))
        elif min(pos, half) < i < max(pos, half):
            cells.append(("━", "bar_bad" if beyond else "bar_ok"))
        elif i == half:
            cells.append(("┃", "level"))
        elif off == thr:
            cells.append(("│", "threshold"))
        elif off <= band:
            cells.append(("░", "band"))
        else:
            cells.append(("─", "track"))
    runs: list[tuple[str, Style]] = [("L low ", _S["label"])]
    for ch, name in cells:
        if runs[-1][1] is _S[name]:
            runs[-1] = (runs[-1][0] + ch, _S[name])
        else:
            runs.append((ch, _S[name]))
    runs.append((" R low", _S["label"]))
    return runs


def render_gauge(width: int, value_deg: float, threshold_deg: float, band_deg: float) -> Text:
    text = Text(no_wrap=True, overflow="crop")
    for chunk, style in gauge_runs(width, value_deg, threshold_deg, band_deg):
        text.append(chunk, style=style)
    return text


class ObliquityGauge(Widget):
    DEFAULT_CSS = "ObliquityGauge { height: 1; }"

    def __init__(self, threshold_deg: float = 5.0, band_deg: float = 3.0,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.threshold_deg = threshold_deg
        self.band_deg = band_deg
        self.value_deg = 0.0
        self._runs: list[tuple[str, Style]] | None = None
        self._width = 0

    def show(self, obliquity_deg: float, threshold_deg: float | None = None,
             band_deg: float | None = None) -> None:
        self.value_deg = obliquity_deg
        self.threshold_deg = threshold_deg or self.threshold_deg
        self.band_deg = band_deg or self.band_deg
        runs = gauge_runs(self.size.width or 60, self.value_deg, self.threshold_deg,
                          self.band_deg)
        if runs != self._runs:
            self._runs = runs
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y != 0 or not width:
            return Strip.blank(width)
        if self._runs is None or self._width != width:
            self._width = width
            self._runs = gauge_runs(width, self.value_deg, self.threshold_deg, self.band_deg)
        base = self.rich_style
        return Strip([Segment(text, base + style) for text, style in self._runs]).crop_extend(
            0, width, base)
