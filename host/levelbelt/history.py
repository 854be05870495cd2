"""Saved sessions, read back for review and for choosing the weaker side.

Lists `.lbs` files (newest first) from their headers only, reads a chosen file fully,
and turns each session's summary back into scores, hold windows and drops, so the
review screen, `levelbelt review`, the HTML report and the weaker-side rule all read
the same numbers the file holds. A file that cannot be read is listed with its one-line
error instead of stopping the list. A session without its own scores (the writer was
stopped mid-session) is scored here from its samples and events.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from levelbelt.errors import LevelBeltError
from levelbelt.scoring import (
    DropEvent,
    HoldScore,
    HoldWindow,
    RepScore,
    ScoringConfig,
    SessionSummary,
    SideScore,
    TrendPoint,
    hold_windows,
    sample_holes,
    score_session,
)
from levelbelt.session import (
    SUFFIX,
    Problem,
    Session,
    SessionHeader,
    read_header,
    read_session,
)
from levelbelt.weaker_side import Side, WeakerSide, resolve_weaker_side

SIDE_CODES: dict[str, Side] = {"left": "left", "right": "right"}
DATA_ENV: Final = "LEVELBELT_DATA_DIR"
CRASH_CUT = "last line incomplete"
"""The reader's message for a last line cut off when the writer was stopped mid-write."""


def data_dir() -> Path:
    """LevelBelt's user-data folder: `$LEVELBELT_DATA_DIR`, else `levelbelt/` in
    `$XDG_DATA_HOME`, else `~/.local/share/levelbelt`. Sessions are health records, not
    settings, so they live apart from the config folder (settings and belt keys)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative path is invalid and ignored
        return Path(xdg) / "levelbelt"
    return Path.home() / ".local" / "share" / "levelbelt"


def sessions_dir() -> Path:
    """Where sessions are saved and reviewed by default: `sessions/` in `data_dir()`."""
    return data_dir() / "sessions"


def split_problems(problems: Sequence[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(expected damage, errors). A writer stopped mid-session (killed, power lost)
    leaves at most a cut-off last line: expected, shown as a note. Anything else means
    the file was damaged after it was written."""
    notes = [p for p in problems if p.message.startswith(CRASH_CUT)]
    return notes, [p for p in problems if not p.message.startswith(CRASH_CUT)]


@dataclass(frozen=True)
class SessionEntry:
    path: Path
    header: SessionHeader | None
    error: str | None  # the one-line reason a header could not be read

    @property
    def plan_name(self) -> str:
        plan = self.header.plan if self.header else None
        return str(plan.get("name", "?")) if isinstance(plan, dict) else "?"

    @property
    def label(self) -> str:
        if self.header is None:
            return self.path.name
        return f"{self.header.created[:16].replace('T', ' ')} {self.header.athlete}"


def list_sessions(directory: Path) -> list[SessionEntry]:
    """Every session file in `directory`, newest first (by file name, which is the date)."""
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob(f"*{SUFFIX}"), reverse=True):
        try:
            out.append(SessionEntry(path, read_header(path), None))
        except LevelBeltError as e:
            out.append(SessionEntry(path, None, str(e)))
    return out


@dataclass(frozen=True)
class Review:
    """One session, read back: what the review screen shows."""

    session: Session
    summary: SessionSummary | None
    sides: tuple[SideScore, ...]
    holds: tuple[HoldScore, ...]
    reps: tuple[RepScore, ...]
    windows: tuple[HoldWindow, ...]
    drops: tuple[DropEvent, ...]
    markers: tuple[tuple[float, str, str], ...]  # (t_s, kind, note)
    problem: str | None  # first problem in the file, one line (the rest still shows)
    rescored: bool = False  # scores computed here: the file has none (unfinished)


def _engine_events(session: Session) -> list[dict[str, Any]]:
    out = []
    for ev in session.events:
        if ev.source == "engine":
            data = dict(ev.data)
            if "t_s" not in data and ev.t_s is not None:
                data["t_s"] = ev.t_s
            out.append(data)
    return out


def _drops(session: Session) -> list[DropEvent]:
    """The belt's confirmed drops: onset from the cue's `onset_index` (the dwell before
    the cue), peak from the end report, as the live session records them."""
    rate = float(session.header.rate_hz)
    drops: list[DropEvent] = []
    pending: tuple[float, float, Side] | None = None
    for ev in session.events:
        if ev.source != "belt" or ev.t_s is None:
            continue
        kind = ev.data.get("type")
        side = SIDE_CODES.get(str(ev.data.get("side")))
        if kind == "drop_cue" and side is not None:
            onset = ev.t_s
            onset_index = ev.data.get("onset_index")
            if isinstance(onset_index, int) and ev.index is not None \
                    and 0 <= ev.index - onset_index <= 60 * rate:
                onset = ev.t_s - (ev.index - onset_index) / rate
            pending = (onset, ev.t_s, side)
        elif kind == "drop_end" and pending is not None:
            peak = ev.data.get("peak_cdeg", 0)
            peak_deg = float(peak) / 100.0 if isinstance(peak, (int, float)) else 0.0
            drops.append(DropEvent(pending[0], pending[2], peak_deg, pending[1], ev.t_s))
            pending = None
    return drops


def _scoring_config(header: SessionHeader) -> ScoringConfig:
    """Scoring as the session's plan asked for it (its LSI flag); defaults otherwise."""
    pct = header.plan.get("asymmetry_pct") if header.plan is not None else None
    if isinstance(pct, (int, float)) and not isinstance(pct, bool):
        try:
            return ScoringConfig(asymmetry_pct=float(pct))
        except ValueError:
            pass  # a value the scoring refuses: the default flag
    return ScoringConfig()


def load_review(path: Path) -> Review:
    """Read one session (leniently); `InputFileError` only when nothing can be trusted."""
    return review_session(read_session(path))


def review_session(session: Session) -> Review:
    """Scores, windows and drops of a session already read."""
    summary = None
    if session.summary is not None and session.summary.data:
        try:
            summary = SessionSummary.from_json(session.summary.data)
        except LevelBeltError:
            summary = None
    sides, holds, reps = [], [], []
    for rec in session.scores:
        try:
            if rec.scope == "side":
                sides.append(SideScore.from_json(rec.data))
            elif rec.scope == "hold":
                holds.append(HoldScore.from_json(rec.data))
            elif rec.scope == "rep":
                reps.append(RepScore.from_json(rec.data))
            elif rec.scope == "session" and summary is None:
                summary = SessionSummary.from_json(rec.data)
        except LevelBeltError:
            continue
    events = _engine_events(session)
    end_s = float(session.samples.t_s[-1]) if len(session.samples) else None
    try:
        windows = tuple(hold_windows(events, end_s))
    except (LevelBeltError, ValueError):
        windows = ()
    drops = tuple(_drops(session))
    rescored = False
    if summary is None and windows:
        # An unfinished session (writer stopped mid-session): score what is there.
        s = session.samples
        try:
            rate = session.header.rate_hz
            scores = score_session(s.t_s, s.tilt_deg, s.obl_deg, events, rate_hz=rate,
                                   drops=drops, gaps=sample_holes(s.t_s, rate), end_s=end_s,
                                   config=_scoring_config(session.header))
        except (LevelBeltError, ValueError):
            scores = None
        if scores is not None:
            summary, sides = scores.summary, list(scores.sides)
            holds, reps, rescored = list(scores.holds), list(scores.reps), True
    markers = tuple((ev.t_s or 0.0, str(ev.data.get("kind", "")), str(ev.data.get("note", "")))
                    for ev in session.events if ev.source == "coach")
    problem = str(session.problems[0]) if session.problems else None
    return Review(session, summary, tuple(sides), tuple(holds), tuple(reps), windows,
                  drops, markers, problem, rescored)


def athlete_history(entries: Sequence[SessionEntry], athlete: str) -> list[TrendPoint]:
    """Summaries of `athlete`'s finished sessions, oldest first (for trends and the
    weaker side). Files that cannot be read are left out."""
    points = []
    for entry in reversed(entries):
        if entry.header is None or entry.header.athlete != athlete:
            continue
        try:
            session = read_session(entry.path)
        except LevelBeltError:
            continue
        data = session.summary.data if session.summary else None
        if not data:
            continue
        try:
            summary = SessionSummary.from_json(data)
        except LevelBeltError:
            continue
        points.append(TrendPoint(entry.header.created[:10], entry.plan_name, summary))
    return points


def weaker_side_from_sessions(athlete: str, folder: Path) -> WeakerSide:
    """The weaker side from `athlete`'s finished sessions in `folder` (the confirmation
    rule of levelbelt.weaker_side); the reason also says which sessions were read."""
    past = athlete_history(list_sessions(folder), athlete)
    found = resolve_weaker_side([p.summary for p in past])
    read = f"{len(past)} finished session{'s' if len(past) != 1 else ''} of {athlete} " \
        f"in {folder}"
    return replace(found, reason=f"{found.reason}; {read}")


def weaker_side(choice: str, history: Sequence[TrendPoint]) -> WeakerSide:
    """The dashboard's weaker-side setting ("auto" reads the history) as the plan wants."""
    if choice == "auto":
        return resolve_weaker_side([p.summary for p in history])
    manual: Side | None = SIDE_CODES.get(choice)
    return resolve_weaker_side([], manual=manual if manual else "none")
