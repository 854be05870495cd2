"""CSV export of a session for spreadsheets: a directory of plain comma-separated files.

samples.csv (physical units, docs/units.md), events.csv, scores.csv, gaps.csv and
session.json (header, summary, problems). Files are written under temporary names and
renamed into place, private (0600) like the session itself; an existing output is
only replaced with `force`.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from levelbelt.errors import LevelBeltError
from levelbelt.session.reader import Session

SAMPLE_COLUMNS: Final = (
    "t_s", "index", "tilt_deg", "obl_deg",
    "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps", "epoch",
)
EVENT_COLUMNS: Final = ("t_s", "index", "epoch", "source")
GAP_COLUMNS: Final = (
    "epoch", "start_s", "end_s", "first_missing_index", "end_index", "samples_missing",
    "recorded",
)
FILES: Final = ("samples.csv", "events.csv", "scores.csv", "gaps.csv", "session.json")
_FILE_MODE: Final = 0o600
_DIR_MODE: Final = 0o700


class OutputExistsError(LevelBeltError):
    """The export target exists and `force` was not given."""


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _union_keys(rows: Iterable[dict[str, Any]], skip: Sequence[str]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        for k in row:
            if k not in skip:
                keys.setdefault(k, None)
    return list(keys)


def _time_format(rate_hz: int) -> str:
    """Decimals that show every sample time exactly at the usual rates."""
    return "%.3f" if 1000 % rate_hz == 0 else "%.6f"


def _sample_lines(session: Session) -> Iterator[str]:
    s = session.samples
    yield ",".join(SAMPLE_COLUMNS) + "\n"
    tf = _time_format(session.header.rate_hz)
    full = tf + ",%d,%.2f,%.2f,%.3f,%.3f,%.3f,%.4f,%.4f,%.4f,%d\n"
    angles = tf + ",%d,%.2f,%.2f,,,,,,,%d\n"
    cols = zip(
        s.t_s.tolist(), s.index.tolist(), s.tilt_deg.tolist(), s.obl_deg.tolist(),
        s.accel_g.tolist(), s.gyro_dps.tolist(), s.has_raw.tolist(), s.epoch.tolist(),
        strict=True,
    )
    for t, i, tilt, obl, acc, gyro, has_raw, ep in cols:
        if has_raw:
            yield full % (t, i, tilt, obl, acc[0], acc[1], acc[2], gyro[0], gyro[1], gyro[2],
                          ep)
        else:
            yield angles % (t, i, tilt, obl, ep)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def _event_lines(session: Session) -> Iterator[str]:
    keys = _union_keys((e.data for e in session.events), EVENT_COLUMNS)
    events = sorted(session.events, key=lambda e: (e.t_s is None, e.t_s or 0.0, e.line))
    return _table(
        [*EVENT_COLUMNS, *keys],
        ([None if e.t_s is None else round(e.t_s, 6), e.index, e.epoch, e.source,
          *(e.data.get(k) for k in keys)] for e in events),
    )


def _score_lines(session: Session) -> Iterator[str]:
    keys = _union_keys((s.data for s in session.scores), ("scope",))
    return _table(["scope", *keys],
                  ([s.scope, *(s.data.get(k) for k in keys)] for s in session.scores))


def _gap_lines(session: Session) -> Iterator[str]:
    """Every hole in the sample stream, and whether the link recorded it as a gap."""
    s = session.samples
    rate = session.header.rate_hz
    recorded = [(g.epoch, g.first_missing, g.end_index) for g in session.gaps]
    rows = []
    if len(s) > 1:
        jumps = np.nonzero((s.epoch[1:] == s.epoch[:-1]) & (np.diff(s.index) > 1))[0]
        for k in jumps.tolist():
            ep, first, end = int(s.epoch[k]), int(s.index[k]) + 1, int(s.index[k + 1])
            rows.append([
                ep, round(float(s.t_s[k]) + 1 / rate, 6), round(float(s.t_s[k + 1]), 6),
                first, end, end - first,
                any(g[0] == ep and g[1] <= first and end <= g[2] for g in recorded),
            ])
    return _table(GAP_COLUMNS, rows)


def _session_json(session: Session) -> Iterator[str]:
    doc = {
        "header": session.header.raw,
        "summary": None if session.summary is None else {
            "stats": session.summary.stats, "data": session.summary.data},
        "complete": session.complete,
        "problems": [str(p) for p in session.problems],
    }
    yield json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _write(path: Path, chunks: Iterable[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, _FILE_MODE)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as f:
            buf: list[str] = []
            for chunk in chunks:
                buf.append(chunk)
                if len(buf) >= 4096:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_csv(session: Session, out: Path, *, force: bool = False) -> list[Path]:
    """Write the export directory `out`; returns the files written."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputExistsError(f"{out}: already exists; use --force to replace it")
        if not out.is_dir():
            raise OutputExistsError(f"{out}: exists and is not a directory")
    else:
        try:
            out.mkdir(mode=_DIR_MODE, parents=True)
        except OSError as e:
            raise LevelBeltError(f"{out}: cannot create directory: {e.strerror}") from None
    makers = (_sample_lines, _event_lines, _score_lines, _gap_lines, _session_json)
    written = []
    for name, make in zip(FILES, makers, strict=True):
        path = out / name
        try:
            _write(path, make(session))
        except OSError as e:
            raise LevelBeltError(f"{path}: cannot write: {e.strerror}") from None
        written.append(path)
    return written
