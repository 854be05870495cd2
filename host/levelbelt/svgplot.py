"""Small inline SVG charts for the HTML report: lines with gaps, bands, rules, bars.

Hand-written SVG keeps the report one self-contained file with no plotting library and
no JavaScript. A line never bridges missing samples (a gap in time breaks it), and a long
series is reduced to the minimum and maximum per pixel column, so peaks survive and a
one-hour hold stays a few kilobytes. Every text that goes into the SVG is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if math.isfinite(v) else "0"


def nice_step(span: float, target: int = 6) -> float:
    """A 1/2/5 x 10^k tick step giving about `target` ticks over `span`."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * mag >= raw:
            return m * mag
    return 10.0 * mag


def reduce_minmax(px: F64, py: F64) -> tuple[F64, F64]:
    """Min and max of y per whole-pixel column of x, in time order (peaks kept)."""
    cols = np.floor(px).astype(np.int64)
    starts = np.concatenate(([0], np.nonzero(np.diff(cols))[0] + 1))
    ends = np.concatenate((starts[1:], [px.size]))
    xs: list[float] = []
    ys: list[float] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        seg = py[a:b]
        i, j = int(np.argmin(seg)), int(np.argmax(seg))
        for k in sorted({i, j}):
            xs.append(float(px[a + k]))
            ys.append(float(seg[k]))
    return np.asarray(xs), np.asarray(ys)


class Chart:
    """An x/y chart in a fixed pixel box; data coordinates in, SVG elements out."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float, *, width: int = 560,
                 height: int = 190, left: int = 44, right: int = 12, top: int = 10,
                 bottom: int = 34, title: str = "") -> None:
        if not x1 > x0 or not y1 > y0:
            raise ValueError("chart ranges must be increasing")
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.title = title
        self.parts: list[str] = []

    @property
    def plot_w(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def plot_h(self) -> float:
        return float(self.height - self.top - self.bottom)

    def px(self, x: ArrayLike) -> F64:
        a = np.asarray(x, dtype=np.float64)
        out: F64 = self.left + (a - self.x0) / (self.x1 - self.x0) * self.plot_w
        return out

    def py(self, y: ArrayLike) -> F64:
        a = np.clip(np.asarray(y, dtype=np.float64), self.y0, self.y1)
        out: F64 = self.top + (self.y1 - a) / (self.y1 - self.y0) * self.plot_h
        return out

    def _x(self, x: float) -> float:
        return float(self.px(x))

    def _y(self, y: float) -> float:
        return float(self.py(y))

    # -- elements -------------------------------------------------------------------

    def band(self, y_lo: float, y_hi: float, cls: str) -> None:
        """A horizontal band across the plot, e.g. the level band."""
        top, bottom = self._y(y_hi), self._y(y_lo)
        self.parts.append(f'<rect class="{cls}" x="{_f(self.left)}" y="{_f(top)}" '
                          f'width="{_f(self.plot_w)}" height="{_f(bottom - top)}"/>')

    def span(self, x_lo: float, x_hi: float, cls: str) -> None:
        """A vertical band over the plot's height, e.g. a hold window or a pause."""
        a, b = self._x(max(x_lo, self.x0)), self._x(min(x_hi, self.x1))
        if b > a:
            self.parts.append(f'<rect class="{cls}" x="{_f(a)}" y="{_f(self.top)}" '
                              f'width="{_f(b - a)}" height="{_f(self.plot_h)}"/>')

    def hline(self, y: float, cls: str, label: str = "") -> None:
        if not self.y0 <= y <= self.y1:
            return
        yy = self._y(y)
        self.parts.append(f'<line class="{cls}" x1="{_f(self.left)}" y1="{_f(yy)}" '
                          f'x2="{_f(self.left + self.plot_w)}" y2="{_f(yy)}"/>')
        if label:
            self.parts.append(f'<text class="{cls}-label" x="{_f(self.left + self.plot_w - 2)}"'
                              f' y="{_f(yy - 3)}" text-anchor="end">{escape(label)}</text>')

    def vline(self, x: float, cls: str) -> None:
        if self.x0 <= x <= self.x1:
            xx = self._x(x)
            self.parts.append(f'<line class="{cls}" x1="{_f(xx)}" y1="{_f(self.top)}" '
                              f'x2="{_f(xx)}" y2="{_f(self.top + self.plot_h)}"/>')

    def line(self, x: ArrayLike, y: ArrayLike, cls: str, max_step: float | None = None) -> None:
        """A polyline broken wherever x jumps by more than `max_step` (missing data)."""
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        keep = np.isfinite(xa) & np.isfinite(ya)
        xa, ya = xa[keep], ya[keep]
        if xa.size == 0:
            return
        cuts = (np.nonzero(np.diff(xa) > max_step)[0] + 1 if max_step is not None
                else np.zeros(0, dtype=np.int64))
        pieces = []
        for idx in np.split(np.arange(xa.size), cuts):
            px, py = self.px(xa[idx]), self.py(ya[idx])
            if px.size > 2 * self.plot_w:
                px, py = reduce_minmax(px, py)
            pts = " L".join(f"{_f(a)},{_f(b)}" for a, b in zip(px.tolist(), py.tolist(),
                                                                 strict=True))
            pieces.append(f"M{pts}")
        self.parts.append(f'<path class="{cls}" d="{" ".join(pieces)}"/>')

    def points(self, x: Sequence[float | None], y: Sequence[float | None], cls: str,
               tips: Sequence[str] = ()) -> None:
        """Dots joined by a line (a trend); None values are skipped, not joined across."""
        dots = []
        segs: list[list[str]] = [[]]
        for k, (a, b) in enumerate(zip(x, y, strict=True)):
            if a is None or b is None:
                segs.append([])
                continue
            xx, yy = self._x(a), self._y(b)
            segs[-1].append(f"{_f(xx)},{_f(yy)}")
            tip = f"<title>{escape(tips[k])}</title>" if k < len(tips) else ""
            dots.append(f'<circle class="{cls}" cx="{_f(xx)}" cy="{_f(yy)}" r="3">{tip}'
                        f"</circle>")
        path = " ".join("M" + " L".join(s) for s in segs if len(s) > 1)
        if path:
            self.parts.append(f'<path class="{cls}" d="{path}"/>')
        self.parts.extend(dots)

    def marker(self, x: float, y: float, cls: str, tip: str = "") -> None:
        """A small downward triangle at (x, y)."""
        if not self.x0 <= x <= self.x1:
            return
        xx, yy = self._x(x), self._y(y)
        tip_el = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<path class="{cls}" d="M{_f(xx - 4)},{_f(yy - 7)} '
                          f'L{_f(xx + 4)},{_f(yy - 7)} L{_f(xx)},{_f(yy)} Z">{tip_el}</path>')

    def axes(self, x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]] = ()
             ) -> None:
        """Frame, ticks and labels; x ticks default to a 1/2/5 step."""
        y_step = nice_step(self.y1 - self.y0, 5)
        ticks = []
        v = math.ceil(self.y0 / y_step) * y_step
        while v <= self.y1 + 1e-9:
            yy = self._y(v)
            ticks.append(f'<line class="grid" x1="{_f(self.left)}" y1="{_f(yy)}" '
                         f'x2="{_f(self.left + self.plot_w)}" y2="{_f(yy)}"/>'
                         f'<text class="tick" x="{_f(self.left - 4)}" y="{_f(yy + 3.5)}" '
                         f'text-anchor="end">{_f(v)}</text>')
            v += y_step
        if not x_ticks:
            step = nice_step(self.x1 - self.x0, 8)
            v = math.ceil(self.x0 / step) * step
            auto = []
            while v <= self.x1 + 1e-9:
                auto.append((v, _f(v)))
                v += step
            x_ticks = auto
        base = self.top + self.plot_h
        for x, label in x_ticks:
            xx = self._x(x)
            ticks.append(f'<line class="axis" x1="{_f(xx)}" y1="{_f(base)}" x2="{_f(xx)}" '
                         f'y2="{_f(base + 4)}"/><text class="tick" x="{_f(xx)}" '
                         f'y="{_f(base + 15)}" text-anchor="middle">{escape(label)}</text>')
        frame = (f'<rect class="frame" x="{_f(self.left)}" y="{_f(self.top)}" '
                 f'width="{_f(self.plot_w)}" height="{_f(self.plot_h)}"/>')
        labels = (f'<text class="axis-label" x="{_f(self.left + self.plot_w / 2)}" '
                  f'y="{_f(self.height - 2)}" text-anchor="middle">{escape(x_label)}</text>'
                  f'<text class="axis-label" x="10" y="{_f(self.top + self.plot_h / 2)}" '
                  f'text-anchor="middle" transform="rotate(-90 10 '
                  f'{_f(self.top + self.plot_h / 2)})">{escape(y_label)}</text>')
        self.parts = [*ticks, *self.parts, frame, labels]

    def svg(self) -> str:
        title = f"<title>{escape(self.title)}</title>" if self.title else ""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
                f'viewBox="0 0 {self.width} {self.height}" width="{self.width}" '
                f'height="{self.height}">{title}{"".join(self.parts)}</svg>')


def bars(rows: Sequence[tuple[str, float | None, str]], *, marker: float | None = None,
         marker_label: str = "", width: int = 420, title: str = "") -> str:
    """Horizontal 0-100 bars, one per (label, value, css class); an optional dashed rule
    (e.g. the flag line at 85 % of the stronger side)."""
    row_h, left, right, top = 26, 70, 48, 6
    height = top + row_h * len(rows) + 18
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + max(0.0, min(100.0, v)) / 100.0 * plot_w

    parts = [f'<rect class="frame" x="{left}" y="{top}" width="{plot_w}" '
             f'height="{row_h * len(rows)}"/>']
    for tick in (0, 25, 50, 75, 100):
        xx = x(tick)
        parts.append(f'<line class="grid" x1="{_f(xx)}" y1="{top}" x2="{_f(xx)}" '
                     f'y2="{top + row_h * len(rows)}"/><text class="tick" x="{_f(xx)}" '
                     f'y="{top + row_h * len(rows) + 13}" text-anchor="middle">{tick}</text>')
    for k, (label, value, cls) in enumerate(rows):
        y = top + k * row_h
        parts.append(f'<text class="bar-label" x="{left - 6}" y="{y + row_h / 2 + 4}" '
                     f'text-anchor="end">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text class="tick" x="{left + 6}" y="{y + row_h / 2 + 4}">'
                         "not scored</text>")
            continue
        parts.append(f'<rect class="{cls}" x="{left}" y="{y + 5}" '
                     f'width="{_f(x(value) - left)}" height="{row_h - 10}">'
                     f"<title>{escape(label)}: {value:.0f}</title></rect>"
                     f'<text class="bar-value" x="{_f(x(value) + 4)}" '
                     f'y="{y + row_h / 2 + 4}">{value:.0f}</text>')
    if marker is not None:
        xx = x(marker)
        parts.append(f'<line class="flag-line" x1="{_f(xx)}" y1="{top - 2}" x2="{_f(xx)}" '
                     f'y2="{top + row_h * len(rows) + 2}"><title>{escape(marker_label)}'
                     "</title></line>")
    head = f"<title>{escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} '
            f'{height}" width="{width}" height="{height}">{head}{"".join(parts)}</svg>')
