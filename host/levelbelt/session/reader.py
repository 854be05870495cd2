"""Reading session files: everything valid, plus a list of what was not.

A file that cannot be a session at all (empty, foreign, damaged header, newer major
schema) raises `InputFileError`. Anything else wrong — a damaged or cut-off line, a
repeated or missing record, samples stored twice — becomes a `Problem` naming the file
and line, and the rest is read normally, so a session from a writer that was killed
still reviews. `strict=True` raises on the first problem instead. Callers that show the
valid part first call `Session.raise_for_problems()` afterwards.
"""

from __future__ import annotations

import binascii
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from levelbelt.errors import InputFileError
from levelbelt.safe_text import one_line
from levelbelt.session import records as r

_HEADER_MAX_BYTES: Final = 1 << 20
_MAX_BLOCK: Final = 1 << 16
_MAX_INDEX: Final = 1 << 53


class FutureSchemaError(InputFileError):
    """Written by a newer levelbelt with a format change this version cannot read.

    `header` is the raw header record, for callers that want to show what it says.
    """

    def __init__(self, path: Path | str, message: str, header: dict[str, Any]) -> None:
        super().__init__(path, message, 1)
        self.header = header


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class SessionHeader:
    schema: str
    created: str
    writer: str
    athlete: str
    belt: str
    firmware: str | None
    rate_hz: int
    calibration: dict[str, Any] | None
    detector: dict[str, Any] | None
    plan: dict[str, Any] | None
    units: dict[str, Any]
    extra: dict[str, Any]
    raw: dict[str, Any]


I64 = NDArray[np.int64]
I16 = NDArray[np.int16]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Samples:
    """All valid samples, sorted by (epoch, index), each sample once.

    raw: ax ay az (mg), gx gy gz (1/16 deg/s); rows from tilt-only blocks are 0 there
    and `has_raw` is False. Angles in 0.01 deg exactly as the belt sent them.
    """

    epoch: NDArray[np.int32]
    index: I64
    t_s: F64
    raw: I16
    has_raw: NDArray[np.bool_]
    tilt_cdeg: I16
    obl_cdeg: I16

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def tilt_deg(self) -> F64:
        return self.tilt_cdeg / 100.0

    @property
    def obl_deg(self) -> F64:
        return self.obl_cdeg / 100.0

    @property
    def accel_g(self) -> F64:
        """(n, 3) ax ay az in g; NaN where the belt sent angles only."""
        out = self.raw[:, :3] / 1000.0
        out[~self.has_raw] = np.nan
        return out

    @property
    def gyro_dps(self) -> F64:
        """(n, 3) gx gy gz in deg/s; NaN where the belt sent angles only."""
        out = self.raw[:, 3:] / 16.0
        out[~self.has_raw] = np.nan
        return out

    def missing_runs(self) -> list[tuple[int, int, int]]:
        """(epoch, first missing index, end index) for every hole between samples."""
        if len(self) < 2:
            return []
        same = self.epoch[1:] == self.epoch[:-1]
        jump = np.nonzero(same & (np.diff(self.index) > 1))[0]
        return [(int(self.epoch[k]), int(self.index[k]) + 1, int(self.index[k + 1]))
                for k in jump]


@dataclass(frozen=True)
class EventRecord:
    source: str
    data: dict[str, Any]
    epoch: int
    index: int | None
    t_s: float | None
    host_s: float | None
    line: int


@dataclass(frozen=True)
class GapRecord:
    epoch: int
    first_missing: int
    end_index: int
    t0_s: float | None
    t1_s: float | None
    line: int


@dataclass(frozen=True)
class ScoreRecord:
    scope: str
    data: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Summary:
    data: dict[str, Any]
    stats: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Session:
    path: Path
    header: SessionHeader
    samples: Samples
    events: tuple[EventRecord, ...]
    gaps: tuple[GapRecord, ...]
    scores: tuple[ScoreRecord, ...]
    summary: Summary | None
    problems: tuple[Problem, ...]
    ignored_kinds: dict[str, int] = field(default_factory=dict)
    """Record kinds from a newer minor schema version, skipped by design (not problems)."""

    @property
    def complete(self) -> bool:
        """True when the writer ended the session cleanly (the summary was written)."""
        return self.summary is not None

    @property
    def duration_s(self) -> float:
        return float(self.samples.t_s[-1] - self.samples.t_s[0]) if len(self.samples) else 0.0

    def raise_for_problems(self) -> None:
        """InputFileError for the first problem (saying how many more), if there are any."""
        if not self.problems:
            return
        first = self.problems[0]
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise InputFileError(first.path, first.message + suffix, first.line)


class _Bad(Exception):
    """A record that decoded but does not make sense; the message goes into a Problem."""


def _int(rec: dict[str, Any], key: str, lo: int = 0, hi: int = _MAX_INDEX) -> int:
    v = rec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _Bad(f"'{key}' must be an integer {lo}..{hi}, got {v!r}")
    return v


def _num(rec: dict[str, Any], key: str, optional: bool = False) -> float | None:
    v = rec.get(key)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _Bad(f"'{key}' must be a number, got {v!r}")
    return float(v)


def _obj(rec: dict[str, Any], key: str, optional: bool = False) -> dict[str, Any] | None:
    v = rec.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, dict):
        raise _Bad(f"'{key}' must be an object, got {type(v).__name__}")
    return v


def _str(rec: dict[str, Any], key: str, optional: bool = False) -> str | None:
    v = rec.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise _Bad(f"'{key}' must be a string, got {v!r}")
    return v


def _open_header(path: Path) -> tuple[bytes, bool]:
    """The first line (without newline) and whether it was newline-terminated."""
    try:
        with path.open("rb") as f:
            first = f.readline(_HEADER_MAX_BYTES)
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, not a session file") from None
    except OSError as e:
        raise InputFileError(path, f"cannot open: {e.strerror}") from None
    if not first:
        raise InputFileError(path, "empty file (no session header)", 1)
    if first.endswith(b"\n"):
        return first[:-1], True
    return first, False


def _header_record(path: Path, line: bytes, terminated: bool) -> dict[str, Any]:
    try:
        rec = r.decode_line(line)
    except r.LineError as e:
        looks_ours = b'"format":"' + r.FORMAT.encode() + b'"' in line
        if not looks_ours:
            raise InputFileError(
                path, "not a LevelBelt session file (the first line is not a session header)",
                1) from None
        if not terminated:
            raise InputFileError(path, "session header cut off (the file ends inside it)",
                                 1) from None
        raise InputFileError(path, f"session header damaged: {e}", 1) from None
    if rec.get("k") != r.K_HEADER or rec.get("format") != r.FORMAT:
        raise InputFileError(
            path, "not a LevelBelt session file (the first line is not a session header)", 1)
    return rec


def _describe(rec: dict[str, Any]) -> str:
    parts = []
    for key, label in (("athlete", "athlete"), ("belt", "belt"), ("created", "created"),
                       ("writer", "written by")):
        v = rec.get(key)
        if isinstance(v, str) and v:
            parts.append(f"{label} {one_line(v)}")  # user data: no terminal control
    return ", ".join(parts)


def _check_schema(path: Path, rec: dict[str, Any]) -> tuple[int, int]:
    version = r.parse_schema(rec.get("schema"))
    if version is None:
        raise InputFileError(path, f"session header has no valid schema version "
                             f"(got {rec.get('schema')!r})", 1)
    if version[0] > r.SCHEMA_MAJOR:
        said = _describe(rec)
        raise FutureSchemaError(
            path,
            f"session schema {rec['schema']} is newer than this levelbelt reads "
            f"({r.SCHEMA_MAJOR}.x); upgrade levelbelt" + (f" (header: {said})" if said else ""),
            rec,
        )
    return version


def _header(path: Path, rec: dict[str, Any]) -> SessionHeader:
    try:
        rate = _int(rec, "rate_hz", 1, 10_000)
        return SessionHeader(
            schema=cast(str, rec["schema"]),
            created=_str(rec, "created") or "",
            writer=_str(rec, "writer", optional=True) or "",
            athlete=_str(rec, "athlete") or "",
            belt=_str(rec, "belt") or "",
            firmware=_str(rec, "firmware", optional=True),
            rate_hz=rate,
            calibration=_obj(rec, "calibration", optional=True),
            detector=_obj(rec, "detector", optional=True),
            plan=_obj(rec, "plan", optional=True),
            units=_obj(rec, "units", optional=True) or {},
            extra=_obj(rec, "extra", optional=True) or {},
            raw=rec,
        )
    except _Bad as e:
        raise InputFileError(path, f"session header: {e}", 1) from None


def read_header(path: Path | str) -> SessionHeader:
    """Only the header (fast: reads the first line); for listing sessions."""
    path = Path(path)
    line, terminated = _open_header(path)
    rec = _header_record(path, line, terminated)
    _check_schema(path, rec)
    return _header(path, rec)


@dataclass
class _Block:
    epoch: int
    first: int
    n: int
    layout: str
    data: bytes
    line: int


@dataclass
class _Reading:
    path: Path
    strict: bool
    rate_hz: int
    newer_minor: bool
    problems: list[Problem] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)
    timebases: dict[int, tuple[int, float]] = field(default_factory=dict)
    events: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    gaps: list[tuple[int, int, int, int]] = field(default_factory=list)
    scores: list[ScoreRecord] = field(default_factory=list)
    summary: Summary | None = None
    ignored: Counter[str] = field(default_factory=Counter)
    seen: dict[int, int] = field(default_factory=dict)
    max_q: int = 0
    damaged_since_good: int = 0

    def problem(self, line: int, message: str) -> None:
        if self.strict:
            raise InputFileError(self.path, message, line)
        self.problems.append(Problem(self.path, line, message))

    def sequence(self, rec: dict[str, Any], line: int) -> bool:
        """Checks the record number; False when the record is a repeat to skip."""
        q = _int(rec, "q", 1)
        if q in self.seen:
            self.problem(line, f"repeats record {q} of line {self.seen[q]}; skipped")
            return False
        if q < self.max_q:
            self.problem(line, f"record {q} out of order (after record {self.max_q}); kept")
        elif q > self.max_q + 1:
            lost = q - self.max_q - 1 - self.damaged_since_good
            if lost > 0:
                self.problem(line, f"{lost} record(s) missing before this line")
        self.seen[q] = line
        self.max_q = max(self.max_q, q)
        self.damaged_since_good = 0
        return True

    def take(self, rec: dict[str, Any], line: int) -> None:
        kind = rec["k"]
        handler = _HANDLERS.get(kind)
        if handler is None:
            if kind == r.K_HEADER:
                raise _Bad("a second session header")
            if self.newer_minor:
                self.ignored[kind] += 1
                return
            raise _Bad(f"unknown record kind {kind!r}")
        if self.summary is not None:
            self.problem(line, f"{kind} record after the summary (the session had ended); kept")
        handler(self, rec, line)


def _take_time(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    ep = _int(rec, "ep")
    base = (_int(rec, "i0"), cast(float, _num(rec, "t0_s")))
    if ep in rd.timebases:
        raise _Bad(f"a second time base for epoch {ep}")
    rd.timebases[ep] = base


def _take_samples(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    ep = _int(rec, "ep")
    first = _int(rec, "i0")
    n = _int(rec, "n", 1, _MAX_BLOCK)
    layout = rec.get("f")
    if layout not in r.LAYOUT_COLUMNS:
        raise _Bad(f"unknown sample layout {layout!r}")
    text = _str(rec, "d") or ""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as e:
        raise _Bad(f"sample data is not base64 ({e})") from None
    want = n * r.LAYOUT_COLUMNS[layout] * 2
    if len(data) != want:
        raise _Bad(f"sample data holds {len(data)} bytes, {n} samples need {want}")
    rd.blocks.append(_Block(ep, first, n, layout, data, line))


def _take_event(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    _str(rec, "src")
    _int(rec, "ep")
    if rec.get("i") is not None:
        _int(rec, "i")
    _num(rec, "t_s", optional=True)
    _num(rec, "h", optional=True)
    _obj(rec, "e")
    rd.events.append((rec, line))


def _take_gap(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    ep, i0, i1 = _int(rec, "ep"), _int(rec, "i0"), _int(rec, "i1")
    if i1 <= i0:
        raise _Bad(f"gap end {i1} is not after its start {i0}")
    rd.gaps.append((ep, i0, i1, line))


def _take_score(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    scope = _str(rec, "scope")
    if scope not in r.SCORE_SCOPES and not rd.newer_minor:
        raise _Bad(f"unknown score scope {scope!r}")
    rd.scores.append(ScoreRecord(cast(str, scope), cast(dict[str, Any], _obj(rec, "s")), line))


def _take_summary(rd: _Reading, rec: dict[str, Any], line: int) -> None:
    if rd.summary is not None:
        raise _Bad(f"a second summary (the first is on line {rd.summary.line})")
    stats = _obj(rec, "stats", optional=True) or {}
    rd.summary = Summary(cast(dict[str, Any], _obj(rec, "s")), stats, line)


_HANDLERS: Final[dict[str, Callable[[_Reading, dict[str, Any], int], None]]] = {
    r.K_TIME: _take_time,
    r.K_SAMPLES: _take_samples,
    r.K_EVENT: _take_event,
    r.K_GAP: _take_gap,
    r.K_SCORE: _take_score,
    r.K_SUMMARY: _take_summary,
}


def read_session(path: Path | str, *, strict: bool = False) -> Session:
    """Read a whole session file (see the module docstring for what raises)."""
    path = Path(path)
    first, terminated = _open_header(path)
    head = _header_record(path, first, terminated)
    version = _check_schema(path, head)
    header = _header(path, head)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(path, f"cannot read: {e.strerror}") from None
    rd = _Reading(path, strict, header.rate_hz, newer_minor=version[1] > r.SCHEMA_MINOR)
    if _int_or_none(head.get("q")) != 0:
        rd.problem(1, "header has no record number 0")
    lines = data.split(b"\n")
    cut = lines[-1] != b""  # the file does not end with a newline
    last = len(lines) - 1
    for k in range(1, len(lines)):
        raw = lines[k]
        lineno = k + 1
        if not raw:
            if k != last:
                rd.problem(lineno, "empty line")
            continue
        try:
            rec = r.decode_line(raw)
        except r.LineError as e:
            rd.damaged_since_good += 1
            if k == last and cut:
                rd.problem(lineno, f"last line incomplete (the writer stopped mid-line); "
                           f"{len(raw)} bytes ignored")
            else:
                rd.problem(lineno, f"{e}; line skipped")
            continue
        try:
            if rd.sequence(rec, lineno):
                rd.take(rec, lineno)
        except _Bad as e:
            rd.problem(lineno, f"bad {one_line(str(rec.get('k')))} record: {e}; skipped")
    samples = _assemble(rd)
    return Session(
        path=path,
        header=header,
        samples=samples,
        events=tuple(_event(rd, rec, line) for rec, line in rd.events),
        gaps=tuple(
            GapRecord(ep, i0, i1, _time_of(rd, ep, i0), _time_of(rd, ep, i1), line)
            for ep, i0, i1, line in rd.gaps
        ),
        scores=tuple(rd.scores),
        summary=rd.summary,
        problems=tuple(rd.problems),
        ignored_kinds=dict(rd.ignored),
    )


def _int_or_none(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _time_of(rd: _Reading, epoch: int, index: int) -> float | None:
    base = rd.timebases.get(epoch)
    if base is None:
        return None
    return base[1] + (index - base[0]) / rd.rate_hz


def _event(rd: _Reading, rec: dict[str, Any], line: int) -> EventRecord:
    epoch = cast(int, rec["ep"])
    index = _int_or_none(rec.get("i"))
    t_s = rec.get("t_s")
    if t_s is None and index is not None:
        t_s = _time_of(rd, epoch, index)
    host = rec.get("h")
    return EventRecord(
        source=cast(str, rec["src"]),
        data=cast(dict[str, Any], rec["e"]),
        epoch=epoch,
        index=index,
        t_s=None if t_s is None else float(t_s),
        host_s=None if host is None else float(host),
        line=line,
    )


def _empty_samples() -> Samples:
    return Samples(
        epoch=np.zeros(0, np.int32), index=np.zeros(0, np.int64), t_s=np.zeros(0),
        raw=np.zeros((0, 6), np.int16), has_raw=np.zeros(0, np.bool_),
        tilt_cdeg=np.zeros(0, np.int16), obl_cdeg=np.zeros(0, np.int16),
    )


def _assemble(rd: _Reading) -> Samples:
    """Blocks (in file order) -> sorted, de-duplicated arrays with t_s."""
    blocks = rd.blocks
    if not blocks:
        return _empty_samples()
    counts = np.array([b.n for b in blocks], dtype=np.int64)
    total = int(counts.sum())
    if all(b.layout == r.LAYOUT_SAMPLES for b in blocks):
        rows = np.frombuffer(b"".join(b.data for b in blocks), dtype="<i2").reshape(total, 8)
        has_raw = np.ones(total, dtype=np.bool_)
    else:
        rows = np.zeros((total, 8), dtype="<i2")
        has_raw = np.zeros(total, dtype=np.bool_)
        at = 0
        for b in blocks:
            cols = r.LAYOUT_COLUMNS[b.layout]
            part = np.frombuffer(b.data, dtype="<i2").reshape(b.n, cols)
            rows[at : at + b.n, 8 - cols :] = part
            has_raw[at : at + b.n] = b.layout == r.LAYOUT_SAMPLES
            at += b.n
    starts = np.cumsum(counts) - counts
    index = np.repeat(np.array([b.first for b in blocks], dtype=np.int64) - starts, counts)
    index += np.arange(total, dtype=np.int64)
    epoch = np.repeat(np.array([b.epoch for b in blocks], dtype=np.int32), counts)

    ordered = bool(np.all((np.diff(epoch) > 0) | ((np.diff(epoch) == 0) &
                                                  (np.diff(index) > 0))))
    if not ordered:
        order = np.lexsort((index, epoch))  # stable: the copy written first comes first
        index, epoch, rows, has_raw = index[order], epoch[order], rows[order], has_raw[order]
        block_of = np.repeat(np.arange(len(blocks)), counts)[order]
        dup = np.nonzero((np.diff(index) == 0) & (np.diff(epoch) == 0))[0] + 1
        if dup.size:
            _report_duplicates(rd, blocks, block_of[dup], index[dup])
            keep = np.ones(index.shape[0], dtype=np.bool_)
            keep[dup] = False
            index, epoch, rows, has_raw = index[keep], epoch[keep], rows[keep], has_raw[keep]
    t_s = _sample_times(rd, epoch, index, blocks)
    return Samples(
        epoch=epoch,
        index=index,
        t_s=t_s,
        raw=np.ascontiguousarray(rows[:, :6]),
        has_raw=has_raw,
        tilt_cdeg=np.ascontiguousarray(rows[:, 6]),
        obl_cdeg=np.ascontiguousarray(rows[:, 7]),
    )


def _report_duplicates(rd: _Reading, blocks: list[_Block], which: NDArray[np.int64],
                       index: I64) -> None:
    per_block: dict[int, list[int]] = {}
    for b, i in zip(which.tolist(), index.tolist(), strict=True):
        per_block.setdefault(b, []).append(i)
    for b in sorted(per_block, key=lambda k: blocks[k].line):
        idx = per_block[b]
        blk = blocks[b]
        rd.problem(blk.line, f"{len(idx)} sample(s) of epoch {blk.epoch} stored twice "
                   f"(index {min(idx)}..{max(idx)}); the copy written first is kept")


def _sample_times(rd: _Reading, epoch: NDArray[np.int32], index: I64,
                  blocks: list[_Block]) -> F64:
    t_s = np.empty(index.shape[0], dtype=np.float64)
    bounds = np.nonzero(np.diff(epoch))[0] + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [index.shape[0]]))
    next_t0 = 0.0
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        ep = int(epoch[s])
        base = rd.timebases.get(ep)
        if base is None:
            line = min(b.line for b in blocks if b.epoch == ep)
            rd.problem(line, f"no time base for epoch {ep}; its t_s starts after the "
                       "previous epoch")
            base = (int(index[s]), next_t0)
            rd.timebases[ep] = base
        t_s[s:e] = base[1] + (index[s:e] - base[0]) / rd.rate_hz
        next_t0 = float(t_s[e - 1]) + 1.0 / rd.rate_hz
    return t_s
