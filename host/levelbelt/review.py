"""`levelbelt review [DIR|FILE]`: saved sessions as text or JSON, with per-athlete trends.

A folder lists every session (date, athlete, plan, duration, per-side scores, LSI and
flag) and then each athlete's trend; a file shows its per-side table, every hold and
rep, the LSI line and the athlete's trend up to that session (from the other sessions
in the same folder). `--json` prints the same as one JSON object.

Damage (docs/reviewing.md): whatever is valid is always shown first. A file the writer
left unfinished (killed, power lost) is expected: it has no summary, so it is scored
here from its samples and events, and at most its last line was cut off; that is a
note, not an error. Anything else (a damaged or missing line, a foreign or newer file)
is an error: after the output, one line naming the file and line, exit 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from levelbelt.errors import InputFileError
from levelbelt.history import (
    Review,
    list_sessions,
    review_session,
    sessions_dir,
    split_problems,
)
from levelbelt.plans import format_duration
from levelbelt.safe_text import printable
from levelbelt.scoring import HoldScore, RepScore, SessionSummary, Trend, TrendPoint, trend
from levelbelt.session import SUFFIX, FutureSchemaError, SessionHeader, read_session


@dataclass(frozen=True)
class Reviewed:
    """One session file as review shows it."""

    path: Path
    review: Review | None  # None: nothing in the file could be trusted
    header: SessionHeader | None
    refused: InputFileError | None  # why the file could not be read at all
    notes: tuple[str, ...]  # expected: unfinished, cut-off last line
    errors: tuple[tuple[Path, int | None, str], ...]  # (file, line, message)

    @property
    def athlete(self) -> str | None:
        if self.header is not None:
            return self.header.athlete
        if isinstance(self.refused, FutureSchemaError):
            name = self.refused.header.get("athlete")
            return name if isinstance(name, str) else None
        return None

    @property
    def created(self) -> str:
        if self.header is not None:
            return self.header.created
        if isinstance(self.refused, FutureSchemaError):
            created = self.refused.header.get("created")
            return created if isinstance(created, str) else ""
        return ""

    @property
    def plan(self) -> str:
        plan = self.header.plan if self.header is not None else None
        name = plan.get("name") if isinstance(plan, dict) else None
        return name if isinstance(name, str) else "-"

    @property
    def summary(self) -> SessionSummary | None:
        return self.review.summary if self.review is not None else None

    @property
    def finished(self) -> bool:
        """Complete, with scores of its own: what trends use."""
        r = self.review
        return r is not None and r.session.complete and not r.rescored and \
            r.summary is not None


def _message_of(e: InputFileError) -> str:
    where = f"{e.path}:{e.line}" if e.line is not None else f"{e.path}"
    return str(e).removeprefix(where + ": ")


def read_one(path: Path) -> Reviewed:
    """Read and review one file; never raises for a bad file (the error is kept)."""
    try:
        session = read_session(path)
    except InputFileError as e:
        return Reviewed(path, None, None, e, (), ((e.path, e.line, _message_of(e)),))
    review = review_session(session)
    expected, damaged = split_problems(session.problems)
    notes = [p.message for p in expected]
    if not session.complete:
        notes.insert(0, "unfinished: no summary (the writer stopped mid-session)" +
                     ("; scored on review from its samples and events" if review.rescored
                      else ""))
    errors = tuple((p.path, p.line, p.message) for p in damaged)
    return Reviewed(path, review, session.header, None, tuple(notes), errors)


def read_folder(folder: Path) -> list[Reviewed]:
    """Every session file in `folder`, oldest first (file names start with the date)."""
    return [read_one(p) for p in sorted(folder.glob(f"*{SUFFIX}"))]


def _label(created: str) -> str:
    return created[:19].replace("T", " ") or "?"


def trend_for(items: Sequence[Reviewed], athlete: str, upto: Path | None = None) -> Trend:
    """The athlete's finished sessions, oldest first, up to and including `upto`."""
    points = []
    for item in sorted(items, key=lambda i: (i.created, i.path.name)):
        if item.athlete == athlete and item.finished and item.summary is not None:
            points.append(TrendPoint(_label(item.created), item.plan, item.summary))
        if upto is not None and item.path == upto:
            break
    return trend(points)


def history_of(item: Reviewed) -> list[Reviewed]:
    """`item` and the other sessions of its athlete in its folder (picked by header)."""
    out = [item]
    for entry in list_sessions(item.path.parent):
        if entry.path != item.path and entry.header is not None \
                and entry.header.athlete == item.athlete:
            out.append(read_one(entry.path))
    return out


# ----------------------------------------------------------------------------- text

def num(v: float | None, fmt: str = "{:.0f}") -> str:
    """A score or figure as text; "-" when there is none."""
    return "-" if v is None else fmt.format(v)


def _mmss(t: float) -> str:
    return format_duration(max(0.0, t))


def flag_text(s: SessionSummary | None) -> str:
    """The LSI and the asymmetry flag in one line, with what the flag means."""
    if s is None:
        return "LSI: no scores"
    if s.lsi is None:
        return "LSI: not available (needs both sides scored)"
    if s.flagged_side is not None:
        other = "left" if s.flagged_side == "right" else "right"
        return (f"LSI {s.lsi:.0f} ({s.metric}): {s.flagged_side.upper()} flagged, more than "
                f"{s.asymmetry_pct:g}% below the {other} side")
    return f"LSI {s.lsi:.0f} ({s.metric}): sides within {s.asymmetry_pct:g}%, no flag"


def side_rows(r: Review) -> list[tuple[str, list[str]]]:
    """(label, values per side) for the sides the session scored."""
    by = {s.side: s for s in r.sides}
    names: list[str] = [n for n in ("left", "right", "bilateral") if n in by]
    rows: list[tuple[str, list[str]]] = [("", names)]

    def row(label: str, attr: str, fmt: str = "{:.0f}") -> None:
        values = [getattr(by[n], attr) for n in names]
        if any(v is not None and v != 0 for v in values):
            rows.append((label, [num(v, fmt) for v in values]))

    row("stability (0-100)", "stability")
    row("single-leg time (s)", "hold_s")
    row("time level (%)", "in_band_pct")
    row("drops", "drops", "{:d}")
    row("drops / min", "drops_per_min", "{:.1f}")
    row("activation (0-100)", "activation")
    row("squeezes scored", "reps_scored", "{:d}")
    row("squeeze depth (°)", "mean_posterior_change_deg", "{:.1f}")
    row("no-movement squeezes", "no_movement_reps", "{:d}")
    return rows


def _table(rows: Sequence[Sequence[str]], align: str = "", indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell; `align` has 'l' or 'r' per column (default:
    the first left, the rest right)."""
    ncol = len(rows[0])
    align = align or "l" + "r" * (ncol - 1)
    widths = [max(len(r[i]) for r in rows) for i in range(ncol)]
    out = []
    for r in rows:
        cells = [c.rjust(w) if a == "r" else c.ljust(w)
                 for c, w, a in zip(r, widths, align, strict=True)]
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def hold_line(h: HoldScore | RepScore) -> list[str]:
    """One row of the holds table: start, exercise, side, position, s, outcome, score, figures."""
    if isinstance(h, RepScore):
        what, position = "squeeze", h.position
        seconds = h.end_s - h.start_s
        figures = (f"depth {num(h.posterior_change_deg, '{:.1f}')}°, reached in "
                   f"{num(h.time_to_reach_s, '{:.1f}')} s, steadiness "
                   f"{num(h.steadiness_sd_deg, '{:.2f}')}°")
    else:
        what, position = "stance", "standing"
        seconds = h.active_s
        first = "" if h.time_to_first_drop_s is None else \
            f" (first at {h.time_to_first_drop_s:.1f} s)"
        figures = (f"level {num(h.in_band_pct)}%, {h.drops} drop{'s' if h.drops != 1 else ''}"
                   f"{first}, RMS {num(h.rms_obliquity_deg, '{:.1f}')}°, peak drop "
                   f"{num(h.peak_drop_deg, '{:.1f}')}°, sway "
                   f"{num(h.sway_velocity_dps, '{:.1f}')}°/s")
    if h.flags:
        figures += f"; {', '.join(h.flags)}"
    return [_mmss(h.start_s), what, h.side, position, f"{seconds:.0f}", h.outcome,
            num(h.score), figures]


def trend_lines(t: Trend, athlete: str) -> list[str]:
    n = len(t.labels)
    if t.metric is None or n == 0:
        return [f"trend for {athlete}: no finished session with scores for both sides yet"]
    out = [f"trend for {athlete}: {t.metric}, {n} session{'s' if n != 1 else ''}"]
    rows = [["session", "left", "right", "LSI"]]
    for k, label in enumerate(t.labels):
        rows.append([label, num(t.left[k]), num(t.right[k]), num(t.lsi[k])])
    if n >= 2:
        rows.append(["slope / session", num(t.left_slope, "{:+.1f}"),
                     num(t.right_slope, "{:+.1f}"), num(t.lsi_slope, "{:+.1f}")])
    out += _table(rows)
    out.append(f"  minimal detectable change: {t.mdc_note}")
    if t.last_change_real:
        parts = [f"{side} {'beyond' if real else 'within'} MDC95"
                 for side, real in t.last_change_real.items()]
        out.append(f"  latest change: {', '.join(parts)}")
    return out


def session_text(item: Reviewed, t: Trend | None) -> str:
    if item.review is None:
        return _refused_text(item)
    r = item.review
    h = r.session.header
    state = "complete" if r.session.complete else "unfinished"
    out = [f"{h.athlete} · {item.plan} · {_label(h.created)} · "
           f"{_mmss(r.session.duration_s)} · belt {h.belt}"
           f"{f' (firmware {h.firmware})' if h.firmware else ''} · {state}",
           f"file: {item.path}"]
    out += [f"note: {n}" for n in item.notes]
    out += [f"problem: {p}:{line}: {m}" for p, line, m in item.errors]
    if r.sides:
        out.append("")
        out += _table([[label, *values] for label, values in side_rows(r)])
    out.append("")
    out.append(flag_text(r.summary))
    scored: list[HoldScore | RepScore] = sorted([*r.reps, *r.holds], key=lambda x: x.start_s)
    if scored:
        out.append("")
        out.append("holds")
        rows = [["#", "start", "exercise", "side", "position", "s", "outcome", "score", ""]]
        rows += [[str(k), *hold_line(x)] for k, x in enumerate(scored, 1)]
        out += _table(rows, align="rrlllrlrl")
    if r.markers:
        out.append("")
        out.append("coach markers: " + ", ".join(
            f"{kind} at {_mmss(t_s)}" + (f" ({note})" if note else "")
            for t_s, kind, note in r.markers))
    if t is not None:
        out.append("")
        out += trend_lines(t, h.athlete)
    return "\n".join(out)


def _refused_text(item: Reviewed) -> str:
    assert item.refused is not None
    return f"{item.path.name}: cannot be reviewed: {_message_of(item.refused)}"


def list_text(items: Sequence[Reviewed], folder: Path) -> str:
    out = [f"{len(items)} session{'s' if len(items) != 1 else ''} in {folder}", ""]
    rows = [["date", "athlete", "plan", "time", "metric", "left", "right", "LSI", "flag",
             "state"]]
    for item in items:
        if item.review is None:
            continue
        s = item.summary
        metric = s.metric if s is not None else None
        state = "complete" if item.review.session.complete else "unfinished"
        if item.errors:
            state += ", damaged"
        rows.append([
            _label(item.created), item.athlete or "?", item.plan,
            _mmss(item.review.session.duration_s), metric or "-",
            num(s.side_value(metric, "left") if s and metric else None),
            num(s.side_value(metric, "right") if s and metric else None),
            num(s.lsi if s else None),
            (s.flagged_side.upper() if s and s.flagged_side else "-"), state])
    if len(rows) > 1:
        out += _table(rows, align="lllrlrrrll")
    for item in items:
        if item.review is None:
            out.append(_refused_text(item))
    athletes = sorted({i.athlete for i in items if i.athlete is not None and i.finished})
    for athlete in athletes:
        out.append("")
        out += trend_lines(trend_for(items, athlete), athlete)
    return "\n".join(out)


# ----------------------------------------------------------------------------- JSON


def _side_json(r: Review) -> dict[str, Any]:
    out = {}
    for s in r.sides:
        data = s.to_json()
        data.pop("scope", None)
        data.pop("side", None)
        out[s.side] = data
    return out


def session_json(item: Reviewed, t: Trend | None, detail: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"file": str(item.path), "athlete": item.athlete,
                           "created": item.created or None}
    if item.review is None:
        out["readable"] = False
    else:
        r = item.review
        h = r.session.header
        s = r.summary
        out.update({
            "readable": True, "belt": h.belt, "firmware": h.firmware, "plan": item.plan,
            "duration_s": round(r.session.duration_s, 2), "complete": r.session.complete,
            "rescored": r.rescored, "metric": s.metric if s else None,
            "sides": _side_json(r), "lsi": s.lsi if s else None,
            "weaker": s.weaker if s else None,
            "flagged_side": s.flagged_side if s else None,
            "asymmetry_pct": s.asymmetry_pct if s else None,
            "summary": s.to_json() if s else None,
        })
        if detail:
            out["reps"] = [x.to_json() for x in r.reps]
            out["holds"] = [x.to_json() for x in r.holds]
            out["markers"] = [{"t_s": t_s, "kind": kind, "note": note}
                              for t_s, kind, note in r.markers]
    if t is not None:
        out["trend"] = t.to_json()
    out["notes"] = list(item.notes)
    out["problems"] = [f"{p}:{line}: {m}" if line is not None else f"{p}: {m}"
                       for p, line, m in item.errors]
    return out


def folder_json(items: Sequence[Reviewed], folder: Path) -> dict[str, Any]:
    athletes = sorted({i.athlete for i in items if i.athlete is not None and i.finished})
    return {
        "folder": str(folder),
        "sessions": [session_json(i, None, detail=False) for i in items],
        "trends": {a: trend_for(items, a).to_json() for a in athletes},
    }


# ----------------------------------------------------------------------------- command


def raise_for_errors(items: Sequence[Reviewed]) -> None:
    """One InputFileError for the first real problem, saying how many more there are."""
    errors = [e for i in items for e in i.errors]
    if not errors:
        return
    path, line, message = errors[0]
    more = len(errors) - 1
    files = len({e[0] for e in errors})
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''}"
        message += f" in {files} files)" if files > 1 else ")"
    raise InputFileError(path, message, line)


def run_review(target: Path | None, as_json: bool, out: TextIO | None = None) -> int:
    """Print the review of a folder (default: the saved sessions) or one file."""
    out = out if out is not None else sys.stdout
    path = target if target is not None else sessions_dir()
    if not path.exists():
        if target is not None:
            raise InputFileError(target, "no such file or directory")
        if as_json:  # the default folder before the first session
            print(json.dumps(folder_json([], path)), file=out)
        else:
            print(f"no sessions yet: {path} does not exist", file=out)
        return 0
    if path.is_dir():
        items = read_folder(path)
        if as_json:
            print(json.dumps(folder_json(items, path), allow_nan=False), file=out)
        elif not items:
            print(f"no session files ({SUFFIX}) in {path} yet; record one with "
                  "`levelbelt demo --headless --plan glute-iso-quick --speed 50` or a plan "
                  "on the dashboard", file=out)
        else:
            print(printable(list_text(items, path)), file=out)
        raise_for_errors(items)
        return 0
    item = read_one(path)
    if item.refused is not None:  # nothing in the file can be trusted
        if as_json:
            print(json.dumps(session_json(item, None, detail=True), allow_nan=False), file=out)
        raise item.refused
    t = trend_for(history_of(item), item.athlete, upto=item.path) if item.athlete else None
    if as_json:
        print(json.dumps(session_json(item, t, detail=True), allow_nan=False), file=out)
    else:
        print(printable(session_text(item, t)), file=out)
    raise_for_errors([item])
    return 0
