"""Reading raw IMU recordings (t_s, accel in g, gyro in deg/s, sensor frame).

Every problem is reported with the file and the 1-based line number, because the
person fixing it will open the file in an editor.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from levelbelt.errors import InputFileError

COLUMNS = ("t_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps")
SUPPORTED_RATES = (100, 200)


@dataclass(frozen=True)
class RawRecording:
    path: Path
    t_s: NDArray[np.float64]
    accel_g: NDArray[np.float64]
    gyro_dps: NDArray[np.float64]
    lines: NDArray[np.int64]  # file line of each row, for error messages


def read_raw_csv(path: Path) -> RawRecording:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise InputFileError(path, f"cannot open: {e.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputFileError(path, "empty file", 1) from None
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputFileError(path, f"not a CSV text file ({e})", 1) from None
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InputFileError(
                path, f"missing column(s) {', '.join(missing)}; need {','.join(COLUMNS)}", 1
            )
        cols = [header.index(c) for c in COLUMNS]
        rows: list[list[float]] = []
        lines: list[int] = []
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                rows.append(_parse_row(path, line, row, cols))
                lines.append(line)
        except (csv.Error, UnicodeDecodeError) as e:
            raise InputFileError(path, f"unreadable text ({e})", reader.line_num + 1) from None
    if not rows:
        raise InputFileError(path, "no data rows after the header", 2)
    data = np.asarray(rows, dtype=np.float64)
    line_arr = np.asarray(lines, dtype=np.int64)
    t = data[:, 0]
    steps = np.diff(t)
    bad = np.nonzero(steps <= 0)[0]
    if bad.size:
        k = int(bad[0]) + 1
        raise InputFileError(path, "timestamps must increase", int(line_arr[k]))
    return RawRecording(path, t, data[:, 1:4], data[:, 4:7], line_arr)


def _parse_row(path: Path, line: int, row: list[str], cols: list[int]) -> list[float]:
    values = []
    for name, c in zip(COLUMNS, cols, strict=True):
        if c >= len(row):
            raise InputFileError(path, f"row has no value for {name}", line)
        cell = row[c].strip()
        try:
            v = float(cell)
        except ValueError:
            raise InputFileError(path, f"{name} is not a number: {cell!r}", line) from None
        if not math.isfinite(v):
            raise InputFileError(path, f"{name} is not finite: {cell!r}", line)
        values.append(v)
    return values


def infer_rate(rec: RawRecording) -> int:
    """The nominal rate (100 or 200 Hz) from the median sample spacing."""
    if rec.t_s.size < 3:
        raise InputFileError(rec.path, "too short to tell the sample rate", int(rec.lines[-1]))
    median_dt = float(np.median(np.diff(rec.t_s)))
    for rate in SUPPORTED_RATES:
        if abs(median_dt * rate - 1.0) < 0.2:
            return rate
    raise InputFileError(
        rec.path,
        f"median sample spacing {median_dt * 1000:.2f} ms is neither 100 nor 200 Hz",
        int(rec.lines[0]),
    )
