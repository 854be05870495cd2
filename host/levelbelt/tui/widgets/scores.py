"""Per-side figures: one column per leg, live tallies plus the session's scores.

The live line counts as the samples arrive (time level, drops, deepest drop, squeeze
depth). The score line appears once the drill engine's session has scored a hold
(recomputed after every hold, final at the end), with the Limb Symmetry Index and the
asymmetry flag (more than 15 % between the sides) on the heading line.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from levelbelt.scoring import SessionScores
from levelbelt.tui.tally import SideTally


def side_line(tally: SideTally, compact: bool = False, squeezing: bool = False) -> str:
    """The leg's running figures. The exercise under way comes first (`squeezing`: the
    squeezes, else the holds), so a narrow column cuts off the other one, never it."""
    holds = []
    pct = tally.in_band_pct
    if pct is not None:
        holds.append(f"{pct:3.0f}% level")
        holds.append(f"{tally.drops} drop{'s' if tally.drops != 1 else ''}")
        if tally.drops:
            holds.append(f"{tally.peak_drop_deg:.1f}°" if compact
                         else f"peak {tally.peak_drop_deg:.1f}°")
    squeezes = []
    squeeze = tally.mean_squeeze_deg
    if squeeze is not None:
        noun = "squeeze" if tally.squeezes == 1 else "squeezes"
        squeezes.append(f"{tally.squeezes} {noun} {squeeze:.1f}° back")
    if squeezing and squeezes and holds:
        holds[0] = holds[0].lstrip()  # the width is kept steady only at the line's start
    first, then = (squeezes, holds) if squeezing else (holds, squeezes)
    parts = first if compact and first else first + then
    return " · ".join(parts) if parts else "—"


def score_line(scores: SessionScores | None, side: str) -> str:
    if scores is None:
        return ""
    s = next((x for x in scores.sides if x.side == side), None)
    if s is None:
        return "score —"
    parts = []
    if s.stability is not None:
        parts.append(f"stability {s.stability:.0f}")
    if s.activation is not None:
        parts.append(f"activation {s.activation:.0f}")
    return "score " + " · ".join(parts) if parts else "score —"


def lsi_text(scores: SessionScores | None) -> Text:
    if scores is None or scores.summary.lsi is None:
        return Text("")
    m = scores.summary
    text = Text(f"LSI {m.lsi:.0f}", style="bold")
    if m.flagged_side is not None:
        text.append(f"  {m.flagged_side.upper()} WEAKER >{m.asymmetry_pct:.0f}%",
                    style="bold red")
    return text


class SideScores(Static):
    DEFAULT_CSS = "SideScores { height: 3; padding: 0 1; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: tuple[object, ...] | None = None

    def show(self, tallies: dict[str, SideTally], scores: SessionScores | None = None,
             squeezing: bool = False) -> None:
        key = (side_line(tallies["left"], squeezing=squeezing),
               side_line(tallies["right"], squeezing=squeezing), id(scores))
        if key == self._shown:
            return
        self._shown = key
        table = Table.grid(expand=True, padding=(0, 1))
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        heading = Text("RIGHT leg  ", style="bold")
        heading.append_text(lsi_text(scores))
        table.add_row(Text("LEFT leg", style="bold"), heading)
        table.add_row(key[0], key[1])
        table.add_row(score_line(scores, "left"), score_line(scores, "right"))
        self.update(table, layout=False)
