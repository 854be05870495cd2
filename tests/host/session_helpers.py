"""Building session files for the session tests: deterministic samples, a fake clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from levelbelt.protocol import SampleBatch
from levelbelt.session import SessionMeta, SessionWriter

RATE = 100
META = SessionMeta(
    athlete="Ana Test", belt="LevelBelt-1A2B", rate_hz=RATE, firmware="1.0.0",
    calibration={"gyro_bias_256dps": [1, -2, 3], "up_q14": [0, 16384, 0],
                 "mount_error_cdeg": 120, "position": "standing"},
    detector={"threshold_cdeg": 500, "dwell_ms": 150, "release_cdeg": 100, "stance": "either"},
    plan={"name": "glute-iso-quick"},
)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rows_for(first: int, n: int) -> NDArray[np.int16]:
    """(n, 8) rows ax ay az gx gy gz tilt obl that encode their own index (checkable)."""
    idx = np.arange(first, first + n, dtype=np.int64)
    cols = [(idx * (c + 3) + c * 977) % 65536 - 32768 for c in range(8)]
    return np.stack(cols, axis=1).astype(np.int16)


def batch(first: int, n: int = 5, tilt_only: bool = False) -> SampleBatch:
    rows = rows_for(first, n)
    raw = None if tilt_only else rows[:, :6].copy()
    return SampleBatch(0, first, rows[:, 6].copy(), rows[:, 7].copy(), raw)


def write_session(
    directory: Path, seconds: float = 5.0, first_index: int = 1000, close: bool = True,
    batch_n: int = 5,
) -> Path:
    """A clean session: samples at 100 Hz, a coach marker and a belt-like event each
    second, one hold score per second, and a summary when `close`."""
    clock = FakeClock()
    w = SessionWriter.create(directory, META, clock=clock)
    total = int(seconds * RATE)
    for k in range(0, total, batch_n):
        w.append_samples(batch(first_index + k, min(batch_n, total - k)))
        clock.now += batch_n / RATE
        if (k + batch_n) % RATE == 0:
            w.append_event("coach", {"type": "marker", "label": "good", "n": k})
            w.append_score("hold", {"side": "left", "rms_deg": 1.25, "drops": k // RATE})
    if close:
        w.close({"lsi": 87.5})
    else:
        w.abandon()
    return w.path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes], final_newline: bool = True) -> Path:
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))
    return path
