"""`levelbelt report FILE --html OUT`: one session as a self-contained HTML page to share.

One file: inline CSS and inline SVG, no scripts, no fonts or images from anywhere (a
Content-Security-Policy says so to the browser too), so it opens offline and can be
mailed. It shows what `levelbelt review FILE` shows, drawn: the header details, the
per-side scores as bars with the flag line, the trend when the file's folder holds
earlier sessions of the same athlete, and the obliquity over every hold with the
detector's threshold lines. Everything read from the file is user data and is escaped.

The page is written under a temporary name and moved into place (0600: it is health
data); an existing OUT is replaced only with `force`. A damaged file is reported like
review does: the page shows the valid part and says what was wrong, then the command
fails in one line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from levelbelt import __version__
from levelbelt.errors import InputFileError, LevelBeltError
from levelbelt.firmware import belt_module
from levelbelt.history import Review
from levelbelt.plans import DEFAULT_ASYMMETRY_PCT, format_duration
from levelbelt.review import (
    Reviewed,
    flag_text,
    history_of,
    hold_line,
    num,
    raise_for_errors,
    read_one,
    side_rows,
    trend_for,
)
from levelbelt.scoring import (
    HoldScore,
    HoldWindow,
    RepScore,
    ScoringConfig,
    SessionSummary,
    Trend,
)
from levelbelt.session.export import OutputExistsError
from levelbelt.svgplot import Chart, bars

FILE_MODE = 0o600
# The belt's default drop threshold, when the header has none.
DEFAULT_THRESHOLD_DEG = belt_module("detector").DEFAULT_THRESHOLD_CDEG / 100.0
BAND_DEG = ScoringConfig.band_deg  # the single-leg "level" band (docs/scoring.md)
CONTEXT_S = 1.0  # shown before and after each hold
DISCLAIMER = (
    "LevelBelt is a training aid, not a medical device: it does not diagnose, treat or "
    "monitor any condition. Its scores, the limb symmetry index and the 15 % flag are "
    "training heuristics from an exercise programme, not clinical measures."
)

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a202c;
       max-width: 1180px; margin: 0 auto; padding: 16px 20px 40px; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 2px; } h2 { font-size: 1.15em; margin: 28px 0 8px;
     border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }
.sub { color: #4a5568; margin: 0 0 10px; }
.disclaimer { background: #fffbea; border: 1px solid #f6e05e; padding: 8px 12px;
              border-radius: 4px; font-size: .92em; }
.notes { background: #ebf8ff; border: 1px solid #90cdf4; padding: 6px 12px; border-radius: 4px; }
.problems { background: #fff5f5; border: 1px solid #feb2b2; padding: 6px 12px;
            border-radius: 4px; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.details dt { color: #4a5568; } dl.details dd { margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #edf2f7; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
.flag { font-weight: 600; } .flagged { color: #c53030; } .even { color: #2f855a; }
.hint { color: #4a5568; font-size: .9em; max-width: 860px; }
.holds { display: flex; flex-wrap: wrap; gap: 14px 18px; }
figure { margin: 0; } figcaption { font-size: .88em; color: #2d3748; max-width: 560px; }
svg { max-width: 100%; height: auto; font-size: 11px; }
svg .frame { fill: none; stroke: #a0aec0; } svg .grid { stroke: #edf2f7; }
svg .axis { stroke: #a0aec0; } svg .tick, svg .axis-label { fill: #4a5568; }
svg .band { fill: #e6f4ea; } svg .outside { fill: #f7fafc; } svg .paused { fill: #edf2f7; }
svg .zero { stroke: #a0aec0; stroke-dasharray: 2 3; }
svg .threshold { stroke: #c53030; stroke-dasharray: 6 4; }
svg .threshold-label { fill: #c53030; }
svg .obl { fill: none; stroke: #2b6cb0; stroke-width: 1.4; }
svg .tilt { fill: none; stroke: #805ad5; stroke-width: 1.2; stroke-dasharray: 4 2; }
svg .drop { fill: #c53030; }
svg .left { fill: #3182ce; stroke: #3182ce; } svg .right { fill: #dd6b20; stroke: #dd6b20; }
svg .lsi { fill: #4a5568; stroke: #4a5568; } svg path.left, svg path.right, svg path.lsi {
  fill: none; stroke-width: 1.6; }
svg .flag-line { stroke: #c53030; stroke-dasharray: 5 3; stroke-width: 1.5; }
svg .bar-label, svg .bar-value { fill: #1a202c; font-size: 12px; }
.legend span { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle;
          margin-right: 4px; }
@media print { body { max-width: none; } .holds { gap: 8px; } }
"""


def esc(value: object) -> str:
    """Text from the file (or anything else) made safe for HTML text and attributes."""
    return escape(str(value), quote=True)


# ----------------------------------------------------------------------------- sections


def _details(item: Reviewed, r: Review) -> str:
    h = r.session.header
    plan = h.plan or {}
    det = h.detector or {}
    cal = h.calibration or {}
    rows: list[tuple[str, str]] = [
        ("athlete", h.athlete), ("date", h.created.replace("T", " ")),
        ("plan", f"{item.plan}" + (f" — {plan['description']}"
                                   if isinstance(plan.get("description"), str) else "")),
        ("duration", format_duration(r.session.duration_s)),
        ("belt", h.belt + (f", firmware {h.firmware}" if h.firmware else "")),
        ("samples", f"{len(r.session.samples)} at {h.rate_hz} Hz"),
    ]
    if "weaker" in plan:
        weaker = plan.get("weaker")
        source = {"manual": "set by hand", "history": "from earlier sessions"}.get(
            str(plan.get("weaker_source")), str(plan.get("weaker_source")))
        rows.append(("weaker side (plan)", f"{weaker} ({source})" if weaker else
                     "not known yet: both sides trained equally"))
    if det:
        rows.append(("drop detector", f"threshold {_cdeg(det.get('threshold_cdeg'))}, dwell "
                     f"{det.get('dwell_ms', '?')} ms, release {_cdeg(det.get('release_cdeg'))}"))
    if cal:
        rows.append(("neutral", f"captured {cal.get('position', '?')}, mount error "
                     f"{_cdeg(cal.get('mount_error_cdeg'))}"))
    rows.append(("state", "complete" if r.session.complete else
                 "unfinished (no summary: the writer stopped mid-session)"))
    rows.append(("file", item.path.name))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<dl class="details">{body}</dl>'


def _cdeg(v: Any) -> str:
    return f"{v / 100:g}°" if isinstance(v, int | float) and not isinstance(v, bool) else "?"


def _side_section(r: Review) -> str:
    out = ["<h2>Per side</h2>"]
    rows = side_rows(r)
    if len(rows) > 1:
        head = "".join(f"<th>{esc(n)}</th>" for n in rows[0][1])
        out.append(f"<table><tr><th></th>{head}</tr>")
        for label, values in rows[1:]:
            cells = "".join(f"<td>{esc(v)}</td>" for v in values)
            out.append(f"<tr><td>{esc(label)}</td>{cells}</tr>")
        out.append("</table>")
    else:
        out.append("<p>No hold was scored.</p>")
    s = r.summary
    cls = "flagged" if s is not None and s.flagged_side else "even"
    out.append(f'<p class="flag {cls}">{esc(flag_text(s))}</p>')
    if r.rescored:
        out.append('<p class="hint">Scored on review from the samples and events: the '
                   "file ends without scores of its own.</p>")
    out.append(_side_bars(s))
    pct = s.asymmetry_pct if s is not None else DEFAULT_ASYMMETRY_PCT
    out.append('<p class="hint">Limb Symmetry Index (LSI) = weaker side &divide; stronger '
               f"side &times; 100. A side is flagged when it is more than {pct:g} % below "
               f"the other (LSI below {100 - pct:g}); the dashed line on the bars is that "
               "mark. Small differences between sessions can be noise: see the minimal "
               "detectable change under the trend.</p>")
    return "".join(out)


def _side_bars(s: SessionSummary | None) -> str:
    if s is None:
        return ""
    charts = []
    for metric in ("stability", "activation"):
        left, right = s.side_value(metric, "left"), s.side_value(metric, "right")
        if left is None and right is None:
            continue
        known = [v for v in (left, right) if v is not None]
        mark = max(known) * (1 - s.asymmetry_pct / 100) if len(known) == 2 else None
        svg = bars([("left", left, "left"), ("right", right, "right")], marker=mark,
                   marker_label=f"{100 - s.asymmetry_pct:g} % of the stronger side",
                   title=f"{metric} per side, 0-100")
        charts.append(f"<figure>{svg}<figcaption>{esc(metric)} (0&ndash;100)</figcaption>"
                      "</figure>")
    return f'<div class="holds">{"".join(charts)}</div>' if charts else ""


def _trend_section(t: Trend | None, pct: float) -> str:
    if t is None or t.metric is None or len(t.labels) < 2:
        return ""
    n = len(t.labels)
    chart = Chart(-0.5, n - 0.5, 0.0, 100.0, width=640, height=220,
                  title=f"{t.metric} per side and LSI over {n} sessions")
    chart.hline(100.0 - pct, "threshold", f"LSI {100 - pct:g}: flag below")
    xs: list[float | None] = [float(k) for k in range(n)]
    for series, cls in ((t.left, "left"), (t.right, "right"), (t.lsi, "lsi")):
        tips = [f"{lab}: {cls} {num(v)}" for lab, v in zip(t.labels, series, strict=True)]
        chart.points(xs, list(series), cls, tips)
    every = max(1, n // 6)
    ticks = [(float(k), t.labels[k][5:16]) for k in range(0, n, every)]
    chart.axes("session", "score / LSI", ticks)
    rows = "".join(f"<tr><td>{esc(lab)}</td><td>{num(a)}</td><td>{num(b)}</td><td>{num(c)}</td>"
                   "</tr>" for lab, a, b, c in zip(t.labels, t.left, t.right, t.lsi,
                                                   strict=True))
    slope = (f"<tr><td>slope / session</td><td>{num(t.left_slope, '{:+.1f}')}</td>"
             f"<td>{num(t.right_slope, '{:+.1f}')}</td><td>{num(t.lsi_slope, '{:+.1f}')}</td></tr>")
    legend = ('<p class="legend"><span><i class="swatch" style="background:#3182ce"></i>left'
              '</span><span><i class="swatch" style="background:#dd6b20"></i>right</span>'
              '<span><i class="swatch" style="background:#4a5568"></i>LSI</span></p>')
    return (f"<h2>Trend: {esc(t.metric)}, {n} sessions</h2>{legend}{chart.svg()}"
            f"<table><tr><th>session</th><th>left</th><th>right</th><th>LSI</th></tr>{rows}"
            f"{slope}</table><p class=\"hint\">Minimal detectable change: "
            f"{esc(t.mdc_note)}.</p>")


def _hold_figure(r: Review, w: HoldWindow, k: int, threshold: float,
                 score: HoldScore | RepScore | None) -> str:
    s = r.session.samples
    rate = r.session.header.rate_hz
    t0, t1 = w.start_s - CONTEXT_S, w.end_s + CONTEXT_S
    sel = (s.t_s >= t0) & (s.t_s <= t1)
    t = s.t_s[sel] - w.start_s
    obl = s.obl_deg[sel]
    peak = float(np.max(np.abs(obl))) if obl.size else 0.0
    lim = float(min(45.0, max(threshold + 2.0, np.ceil(peak + 1.0))))
    title = f"Hold {k}: {w.side} {'glute' if w.block_kind == 'isometric' else 'leg'}"
    chart = Chart(-CONTEXT_S, w.end_s - w.start_s + CONTEXT_S, -lim, lim, title=title)
    chart.span(-CONTEXT_S, 0.0, "outside")
    chart.span(w.end_s - w.start_s, w.end_s - w.start_s + CONTEXT_S, "outside")
    for a, b in w.paused:
        chart.span(a - w.start_s, b - w.start_s, "paused")
    chart.band(-BAND_DEG, BAND_DEG, "band")
    chart.hline(0.0, "zero")
    chart.hline(threshold, "threshold", f"+{threshold:g}°")
    chart.hline(-threshold, "threshold", f"-{threshold:g}°")
    if w.block_kind == "isometric" and t.size:
        base = s.tilt_deg[(s.t_s >= w.start_s - 1.0) & (s.t_s < w.start_s)]
        ref = float(np.median(base)) if base.size else float(s.tilt_deg[sel][0])
        chart.line(t, s.tilt_deg[sel] - ref, "tilt", max_step=1.5 / rate)
    chart.line(t, obl, "obl", max_step=1.5 / rate)
    for d in r.drops:
        if w.start_s <= d.onset_s < w.end_s:
            y = -d.peak_deg if d.side == "right" else d.peak_deg
            chart.marker(d.onset_s - w.start_s, y, "drop",
                         f"{d.side} side dropped {d.peak_deg:.1f}° at "
                         f"{d.onset_s - w.start_s:.1f} s")
    chart.axes("seconds from the hold start", "degrees")
    what = (f"{w.side} glute squeeze, {w.position}" if w.block_kind == "isometric"
            else f"stance on the {w.side} leg")
    head = f"<b>{k}. {esc(what)}</b> · {w.active_s:.0f} s · {esc(w.outcome)}"
    if score is not None:
        cells = hold_line(score)
        caption = f"{head} · score {esc(cells[6])}<br>{esc(cells[7])}"
    else:
        caption = f"{head} · not scored"
    return f"<figure>{chart.svg()}<figcaption>{caption}</figcaption></figure>"


def _holds_section(r: Review, threshold: float) -> str:
    if not r.windows:
        return ""
    scores: Sequence[HoldScore | RepScore] = [*r.reps, *r.holds]
    figures = []
    for k, w in enumerate(r.windows, 1):
        match = next((x for x in scores if abs(x.start_s - w.start_s) < 1e-6
                      and x.side == w.side), None)
        figures.append(_hold_figure(r, w, k, threshold, match))
    legend = ('<p class="legend"><span><i class="swatch" style="background:#2b6cb0"></i>'
              "obliquity (right side higher +)</span><span><i class=\"swatch\" "
              'style="background:#805ad5"></i>squeezes: tilt from the rep\'s baseline '
              '(posterior &minus;)</span><span><i class="swatch" style="background:#c53030"></i>'
              f"drop threshold ±{threshold:g}°</span><span><i class=\"swatch\" "
              f'style="background:#c6e6cf;height:10px"></i>level band ±{BAND_DEG:g}°</span>'
              "<span>▼ a drop the belt cued</span></p>")
    return (f"<h2>Holds ({len(r.windows)})</h2>{legend}"
            f'<div class="holds">{"".join(figures)}</div>')


def _markers(r: Review) -> str:
    if not r.markers:
        return ""
    items = "".join(f"<li>{format_duration(t)} · {esc(kind)}"
                    f"{' · ' + esc(note) if note else ''}</li>" for t, kind, note in r.markers)
    return f"<h2>Coach markers</h2><ul>{items}</ul>"


def render(item: Reviewed, t: Trend | None) -> str:
    """The whole page for a session that could be read."""
    r = item.review
    if r is None:
        raise ValueError("render needs a readable session")
    h = r.session.header
    det = h.detector or {}
    thr = det.get("threshold_cdeg")
    threshold = thr / 100.0 if isinstance(thr, int) and thr > 0 else DEFAULT_THRESHOLD_DEG
    notes = "".join(f"<li>{esc(n)}</li>" for n in item.notes)
    problems = "".join(f"<li>{esc(f'{p.name}:{line}' if line else p.name)}: {esc(m)}</li>"
                       for p, line, m in item.errors)
    parts = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        '<meta name="generator" content="levelbelt ' + esc(__version__) + '">',
        f"<title>LevelBelt session: {esc(h.athlete)}, {esc(h.created[:10])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>LevelBelt session report</h1>",
        f'<p class="sub">{esc(h.athlete)} · {esc(item.plan)} · '
        f"{esc(h.created[:16].replace('T', ' '))}</p>",
        f'<p class="disclaimer">{esc(DISCLAIMER)}</p></header>',
    ]
    if notes:
        parts.append(f'<div class="notes"><b>Notes</b><ul>{notes}</ul></div>')
    if problems:
        parts.append('<div class="problems"><b>This file is damaged</b>: what could be read '
                     f"is shown; these lines were not.<ul>{problems}</ul></div>")
    pct = r.summary.asymmetry_pct if r.summary else DEFAULT_ASYMMETRY_PCT
    parts += ["<h2>Session</h2>", _details(item, r), _side_section(r), _trend_section(t, pct),
              _holds_section(r, threshold), _markers(r),
              f'<footer><p class="hint">Made by levelbelt {esc(__version__)} from '
              f"{esc(item.path.name)}. How to read it: docs/reviewing.md in the LevelBelt "
              "documentation.</p></footer></body></html>\n"]
    return "".join(parts)


# ----------------------------------------------------------------------------- writing


def _write_private(out: Path, text: str, force: bool) -> None:
    """Write `text` to `out` (0600) via a temporary file; never replace without `force`."""
    if out.is_dir():
        raise OutputExistsError(f"{out}: is a directory; give the name of the HTML file")
    if out.exists() and not force:
        raise OutputExistsError(f"{out}: already exists; use --force to replace it")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise LevelBeltError(f"{out}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise LevelBeltError(f"{out}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp makes it 0600
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, out)
        else:
            os.link(tmp, out)  # fails if OUT appeared meanwhile: still never overwritten
            os.unlink(tmp)
    except FileExistsError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputExistsError(f"{out}: already exists; use --force to replace it") from None
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise LevelBeltError(f"{out}: cannot write: {e.strerror}") from None


def write_report(session_path: Path, out: Path, *, force: bool = False) -> Reviewed:
    """Write the report page for one session; returns what was read (notes, errors).

    Raises `InputFileError` when nothing in the file can be trusted (no page is
    written), `OutputExistsError` when OUT exists and `force` is not given.
    """
    item = read_one(Path(session_path))
    if item.review is None:
        assert item.refused is not None
        raise item.refused
    t = trend_for(history_of(item), item.athlete, upto=item.path) if item.athlete else None
    _write_private(Path(out), render(item, t), force)
    return item


def run_report(session_path: Path, out: Path, *, force: bool = False) -> int:
    """The CLI: write, print OUT, show notes; then fail in one line if the file is damaged."""
    if not session_path.exists():
        raise InputFileError(session_path, "no such file or directory")
    item = write_report(session_path, out, force=force)
    print(out)
    for note in item.notes:
        print(f"note: {session_path}: {note}", file=sys.stderr)
    raise_for_errors([item])
    return 0
