"""Review: saved sessions, the per-side table with LSI and the 15 % flag, holds, trend.

The list comes from the session files' headers; choosing one reads it in a worker
thread (a damaged file shows what is valid plus its first problem). `[` and `]` step
through the holds, each plotted with the threshold lines; the trend shows the athlete's
per-side scores across their sessions. `o` writes and opens the HTML report.
"""

from __future__ import annotations

import webbrowser
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from levelbelt.errors import LevelBeltError
from levelbelt.history import (
    Review,
    SessionEntry,
    athlete_history,
    list_sessions,
    load_review,
)
from levelbelt.scoring import SessionSummary, Trend, TrendPoint, trend
from levelbelt.tui import braille
from levelbelt.tui.widgets.trace import (
    OBL_STYLE,
    THRESHOLD_STYLE,
    TILT_STYLE,
    Y_LIMIT_DEG,
    ZERO_STYLE,
    axis_labels,
)

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp

PLOT_HEIGHT = 4  # rows of a hold's plot on an 80x24 terminal; more on a taller one
PLOT_MAX_HEIGHT = 10
SPARK = "▁▂▃▄▅▆▇█"


def _num(v: float | None, fmt: str = "{:.0f}") -> str:
    return fmt.format(v) if v is not None else "—"


def side_table(r: Review) -> Table:
    table = Table(box=None, padding=(0, 2), header_style="bold", expand=False)
    table.add_column("")
    table.add_column("left", justify="right")
    table.add_column("right", justify="right")
    by = {s.side: s for s in r.sides}
    left, right = by.get("left"), by.get("right")

    def row(name: str, attr: str, fmt: str = "{:.0f}") -> None:
        table.add_row(name, _num(getattr(left, attr, None), fmt),
                      _num(getattr(right, attr, None), fmt))

    row("stability (0-100)", "stability")
    row("time level (%)", "in_band_pct")
    row("drops", "drops")
    row("drops / min", "drops_per_min", "{:.1f}")
    row("activation (0-100)", "activation")
    row("squeeze depth (°)", "mean_posterior_change_deg", "{:.1f}")
    return table


def lsi_line(summary: SessionSummary | None) -> Text:
    if summary is None:
        return Text("No scores: the session did not end cleanly.", style="yellow")
    if summary.lsi is None:
        return Text("LSI: needs both sides scored.", style="dim")
    text = Text(f"LSI {summary.lsi:.0f} ({summary.metric})", style="bold")
    if summary.flagged_side is not None:
        text.append(f" · {summary.flagged_side.upper()} flagged: more than "
                    f"{summary.asymmetry_pct:.0f}% below the other side", style="bold red")
    else:
        text.append(f" · sides within {summary.asymmetry_pct:.0f}%", style="green")
    return text


def spark(values: tuple[float | None, ...]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    return "".join(" " if v is None else SPARK[round((v - lo) / span * (len(SPARK) - 1))]
                   for v in values)


def trend_text(t: Trend) -> Text:
    if t.metric is None or len(t.labels) < 2:
        return Text(f"Trend: needs two sessions with scores ({len(t.labels)} so far).",
                    style="dim")
    out = Text(f"Trend, {t.metric}, {len(t.labels)} sessions ({t.labels[0]} to "
               f"{t.labels[-1]}):\n", style="bold")
    for name, series, slope in (("left ", t.left, t.left_slope),
                                ("right", t.right, t.right_slope),
                                ("LSI  ", t.lsi, t.lsi_slope)):
        last = next((v for v in reversed(series) if v is not None), None)
        per = f" ({slope:+.1f}/session)" if slope is not None else ""
        out.append(f"  {name} {spark(series)}  {_num(last)}{per}\n")
    out.append(f"  {t.mdc_note}", style="dim")
    return out


def plot_height(screen_rows: int) -> int:
    """Rows for a hold's plot: 4 at 24 rows, growing with the terminal, up to 10."""
    return max(PLOT_HEIGHT, min(PLOT_MAX_HEIGHT, PLOT_HEIGHT + (screen_rows - 24) // 2))


def hold_plot(r: Review, k: int, width: int, threshold_deg: float,
              height: int = PLOT_HEIGHT) -> Text:
    w = r.windows[k]
    s = r.session.samples
    rate = r.session.header.rate_hz
    t0, t1 = w.start_s - 1.0, w.end_s + 1.0
    keep = (s.t_s >= t0) & (s.t_s <= t1)
    lines = braille.render(
        [braille.Series(s.t_s[keep], s.obl_deg[keep], OBL_STYLE),
         braille.Series(s.t_s[keep], s.tilt_deg[keep], TILT_STYLE)],
        t1, t1 - t0, -Y_LIMIT_DEG, Y_LIMIT_DEG, max(10, width - 6), height,
        hlines=[braille.HLine(threshold_deg, THRESHOLD_STYLE),
                braille.HLine(-threshold_deg, THRESHOLD_STYLE),
                braille.HLine(0.0, ZERO_STYLE)],
        max_step_s=1.5 / rate)
    label = "glute" if w.block_kind == "isometric" else "leg"
    drops = sum(1 for d in r.drops if w.start_s <= d.onset_s < w.end_s)
    score = next((h for h in r.holds if abs(h.start_s - w.start_s) < 1e-6), None)
    rep = next((x for x in r.reps if abs(x.start_s - w.start_s) < 1e-6), None)
    head = Text(f"Hold {k + 1}/{len(r.windows)}: {w.side} {label}, {w.position}, "
                f"{w.active_s:.0f} s, {w.outcome}", style="bold")
    if score is not None:
        head.append(f" · level {_num(score.in_band_pct)}% · {drops} drop"
                    f"{'s' if drops != 1 else ''} · score {_num(score.score)}")
    elif rep is not None:  # a squeeze: how far the pelvis tilted back
        head.append(f" · depth {_num(rep.posterior_change_deg, '{:.1f}')}° · "
                    f"score {_num(rep.score)}")
    head.append_text(Text.from_markup(
        "\n[cyan]━[/] obliquity  [magenta]━[/] tilt  [red]┄[/] "
        f"±{threshold_deg:g}° threshold  [dim]\\[ ] holds[/]"))
    out = Text(no_wrap=True, overflow="crop")
    out.append_text(head)
    labels = axis_labels(len(lines))
    for row, line in enumerate(lines):
        out.append(f"\n{labels.get(row, ''):>5} ", style="dim")
        out.append_text(line)
    return out


class ReviewScreen(Screen[None]):
    DEFAULT_CSS = """
    ReviewScreen { layout: vertical; }
    #review-top { height: 1; background: $primary-darken-2; padding: 0 1; }
    #review-body { height: 1fr; }
    #sessions { width: 28; height: 1fr; border: round $primary; }
    #detail { width: 1fr; height: 1fr; padding: 0 1; }
    #detail Static { height: auto; margin: 0 0 1 0; }
    #r-problem { color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Short words for the footer (it must fit 80 columns); the help says more.
        Binding("enter", "open", "Show session", show=False),
        Binding("left_square_bracket", "hold(-1)", "Prev hold", key_display="[",
                tooltip="Previous hold"),
        Binding("right_square_bracket", "hold(1)", "Next hold", key_display="]"),
        # Priority: the session list would take them otherwise; on 80x24 the hold plots,
        # the trend and the markers are below the fold.
        Binding("pagedown", "scroll_detail(1)", "More", key_display="PgDn", priority=True,
                tooltip="Scroll the session down (the list keeps ↑/↓)"),
        Binding("pageup", "scroll_detail(-1)", "Back up", key_display="PgUp", show=False,
                priority=True, tooltip="Scroll the session up"),
        Binding("o", "report", "Report", tooltip="Write and open the HTML report"),
        Binding("f5", "reload", "Reload", key_display="F5", tooltip="Reload the list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[SessionEntry] = []
        self.review: Review | None = None
        self.hold = 0

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · review", id="review-top")
        with Horizontal(id="review-body"):
            yield OptionList(id="sessions")
            with VerticalScroll(id="detail"):
                yield Static("", id="r-title")
                yield Static("", id="r-problem")
                yield Static("", id="r-table")
                yield Static("", id="r-lsi")
                yield Static("", id="r-hold")
                yield Static("", id="r-trend")
                yield Static("", id="r-markers")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.action_reload()

    def action_reload(self) -> None:
        folder = self.dashboard.sessions_dir
        self.entries = list_sessions(folder)
        sessions = self.query_one("#sessions", OptionList)
        sessions.clear_options()
        sessions.add_options([Option(e.label if e.error is None else f"{e.path.name} (bad)")
                              for e in self.entries])
        self.query_one("#review-top", Static).update(
            f"LevelBelt · review · {len(self.entries)} saved session"
            f"{'s' if len(self.entries) != 1 else ''} · enter shows one")
        if not self.entries:
            self._show_text(f"No saved sessions in {folder} yet: run a plan on the drill "
                            "screen (enter starts it).")
            return
        sessions.highlighted = 0
        if self.review is None:
            self._load(self.entries[0])

    def _show_text(self, text: str) -> None:
        self.query_one("#r-title", Static).update(text)
        for name in ("problem", "table", "lsi", "hold", "trend", "markers"):
            self.query_one(f"#r-{name}", Static).update("")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.entries):
            self._load(self.entries[event.option_index])

    def action_open(self) -> None:
        index = self.query_one("#sessions", OptionList).highlighted
        if index is not None and 0 <= index < len(self.entries):
            self._load(self.entries[index])

    def _load(self, entry: SessionEntry) -> None:
        if entry.error is not None:
            self.review = None
            self._show_text(entry.error)
            return
        self.query_one("#r-title", Static).update(f"reading {entry.path.name}…")
        self.read_entry(entry)

    @work(thread=True, exclusive=True, group="review")
    def read_entry(self, entry: SessionEntry) -> None:
        try:
            review = load_review(entry.path)
        except LevelBeltError as e:
            self.app.call_from_thread(self._show_text, str(e))
            return
        points = athlete_history(self.entries, review.session.header.athlete)
        self.app.call_from_thread(self._show, review, points)

    def _show(self, r: Review, points: list[TrendPoint]) -> None:
        self.review = r
        self.hold = 0
        h = r.session.header
        plan = h.plan.get("name", "?") if isinstance(h.plan, dict) else "?"
        state = "complete" if r.session.complete else "unfinished (no summary)"
        self.query_one("#r-title", Static).update(Text.assemble(
            (f"{h.athlete}", "bold"), f" · {plan} · {h.created[:16].replace('T', ' ')} · "
            f"{r.session.duration_s / 60:.1f} min · belt {h.belt} · {state}"))
        self.query_one("#r-problem", Static).update(
            f"file problem: {r.problem}" if r.problem else "")
        self.query_one("#r-table", Static).update(side_table(r))
        lsi = lsi_line(r.summary)
        if r.rescored:
            lsi.append("\n(scored on review: the file ends without its own scores)",
                       style="dim")
        self.query_one("#r-lsi", Static).update(lsi)
        self.query_one("#r-trend", Static).update(trend_text(trend(points)))
        markers = ", ".join(f"{kind} at {t:.0f} s" + (f" ({note})" if note else "")
                            for t, kind, note in r.markers)
        self.query_one("#r-markers", Static).update(
            f"Coach markers: {markers}" if markers else "")
        self._show_hold()

    def _show_hold(self) -> None:
        r = self.review
        target = self.query_one("#r-hold", Static)
        if r is None or not r.windows:
            target.update("")
            return
        det = r.session.header.detector or {}
        threshold = float(det.get("threshold_cdeg", 500)) / 100.0
        width = self.query_one("#detail").size.width or 60
        target.update(hold_plot(r, self.hold, width - 2, threshold,
                                plot_height(self.size.height)))

    def on_resize(self) -> None:
        self._show_hold()  # the plot is drawn for the width it has

    def action_scroll_detail(self, step: int) -> None:
        detail = self.query_one("#detail", VerticalScroll)
        (detail.scroll_page_down if step > 0 else detail.scroll_page_up)(animate=False)

    def action_hold(self, step: int) -> None:
        if self.review is not None and self.review.windows:
            self.hold = (self.hold + step) % len(self.review.windows)
            self._show_hold()

    def action_report(self) -> None:
        """Write the session's HTML report beside it (derived, so replaced) and open it."""
        from levelbelt.report_html import write_report

        r = self.review
        if r is None:
            self.notify("choose a session first", severity="warning")
            return
        out = r.session.path.with_suffix(".html")
        try:
            write_report(r.session.path, out, force=True)
        except LevelBeltError as e:
            self.notify(str(e), severity="error")
            return
        if webbrowser.open(out.resolve().as_uri()):
            self.notify(f"report written and opened: {out}")
        else:
            self.notify(f"report written: {out} (no web browser found to open it)",
                        severity="warning")
