"""Small display widgets for the live screen; each renders from plain values."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

GAUGE_RANGE_DEG = 15.0


class ObliquityGauge(Static):
    """Horizontal gauge: centre is level, left/right show which side is LOWER.

    Threshold marks (|) sit at ±threshold; the marker turns red beyond them.
    """

    def __init__(self, threshold_deg: float = 5.0, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.threshold_deg = threshold_deg
        self.value_deg = 0.0

    def show(self, obliquity_deg: float) -> None:
        self.value_deg = obliquity_deg
        self.update(self.render_gauge(self.size.width or 60))

    def render_gauge(self, width: int) -> Text:
        inner = max(21, width - 20)
        half = inner // 2
        cells = [" "] * inner
        cells[half] = "┃"
        step = half / GAUGE_RANGE_DEG
        for sign in (-1, 1):
            k = half + sign * round(self.threshold_deg * step)
            if 0 <= k < inner:
                cells[k] = "│"
        # Obliquity > 0 means the right side is higher, i.e. the LEFT side is lower:
        # draw toward the lower side so the bar points at the hip that dropped.
        pos = half - round(max(-GAUGE_RANGE_DEG, min(GAUGE_RANGE_DEG, self.value_deg)) * step)
        pos = max(0, min(inner - 1, pos))
        beyond = abs(self.value_deg) >= self.threshold_deg
        text = Text("L low ", style="bold")
        for i, ch in enumerate(cells):
            if i == pos:
                text.append("●", style="bold red" if beyond else "bold green")
            elif min(pos, half) < i < max(pos, half):
                text.append("━", style="red" if beyond else "green")
            else:
                text.append(ch, style="dim")
        text.append(" R low", style="bold")
        return text
