"""`levelbelt analyze`: run a raw recording through the belt's own firmware modules.

The recording is turned into the belt's canonical integer units and fed sample by
sample to `belt.pipeline.Pipeline` with the sample index derived from the timestamps
(gaps advance the index, as a FIFO overflow would), so tilt, obliquity and cues equal
what the belt would have produced.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt.errors import ConfigError, InputFileError
from levelbelt.firmware import belt_module
from levelbelt.rawcsv import RawRecording, infer_rate

STILL_START_S = 2.0
CALIBRATION_S = 1.0
SIDES = {"either": 0, "left": 1, "right": 2}


@dataclass(frozen=True)
class DetectorSettings:
    threshold_deg: float = 5.0
    dwell_ms: int = 150
    release_deg: float = 1.0
    stance: str = "either"
    lockout_ms: int = 0

    def as_firmware_args(self) -> tuple[int, int, int, int, int]:
        if self.stance not in SIDES:
            raise ConfigError(f"stance must be one of {', '.join(SIDES)}, got {self.stance!r}")
        args = (
            round(self.threshold_deg * 100),
            int(self.dwell_ms),
            round(self.release_deg * 100),
            SIDES[self.stance],
            int(self.lockout_ms),
        )
        reason = belt_module("detector").check_config(*args)
        if reason is not None:
            raise ConfigError(f"detector settings refused: {reason}")
        return args


@dataclass(frozen=True)
class DropEvent:
    onset_s: float
    cue_s: float
    end_s: float | None  # None: still dropped when the recording ends
    drop_side: str
    peak_deg: float


@dataclass(frozen=True)
class Analysis:
    rate_hz: int
    t_s: NDArray[np.float64]
    tilt_deg: NDArray[np.float64]
    obliquity_deg: NDArray[np.float64]
    events: list[DropEvent]


def to_canonical(rec: RawRecording) -> NDArray[np.int64]:
    """(N, 6) ints: accel in mg, gyro in 1/16 deg/s, clipped to int16 like the belt."""
    acc = np.rint(rec.accel_g * 1000.0)
    gyr = np.rint(rec.gyro_dps * 16.0)
    out: NDArray[np.int64] = np.clip(np.hstack([acc, gyr]), -32768, 32767).astype(np.int64)
    return out


def sample_indices(t_s: NDArray[np.float64], rate_hz: int) -> NDArray[np.int64]:
    """Device sample index per row; jitter is absorbed, gaps advance the index."""
    nominal = np.rint((t_s - t_s[0]) * rate_hz).astype(np.int64)
    # Strictly increasing even when jitter maps two rows to one slot.
    steps = np.arange(nominal.size, dtype=np.int64)
    out: NDArray[np.int64] = np.maximum.accumulate(nominal - steps) + steps
    return out


def analyze(rec: RawRecording, settings: DetectorSettings, mount: str = "+x+y") -> Analysis:
    pipeline_mod = belt_module("pipeline")
    detector_mod = belt_module("detector")
    align_mod = belt_module("align")
    try:
        align_mod.parse_mount(mount)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    det_args = settings.as_firmware_args()
    rate = infer_rate(rec)
    if rec.t_s[-1] - rec.t_s[0] < STILL_START_S:
        raise InputFileError(
            rec.path, f"too short: need at least {STILL_START_S:g} s", int(rec.lines[-1])
        )
    samples = to_canonical(rec)
    index = sample_indices(rec.t_s, rate)
    pipe = pipeline_mod.Pipeline(rate, None, mount=mount, calib_s=CALIBRATION_S)
    pipe.detector.configure(*det_args)
    det = pipe.detector
    n_rows = samples.shape[0]
    tilt = np.zeros(n_rows, dtype=np.float64)
    obl = np.zeros(n_rows, dtype=np.float64)
    row_of_index: dict[int, int] = {}
    events: list[DropEvent] = []
    pending: dict[str, float] = {}
    still_deadline = rec.t_s[0] + STILL_START_S
    first_moving_row: int | None = None
    prev = -1
    t_s = rec.t_s
    for row in range(n_rows):
        i = int(index[row])
        ax, ay, az, gx, gy, gz = (int(v) for v in samples[row])
        ev = pipe.push(ax, ay, az, gx, gy, gz, i - prev)
        prev = i
        row_of_index[i] = row
        if ev == pipeline_mod.EV_MOVING and first_moving_row is None:
            first_moving_row = row
        if pipe.state != pipeline_mod.STATE_RUNNING and t_s[row] >= still_deadline:
            line = int(rec.lines[first_moving_row if first_moving_row is not None else row])
            raise InputFileError(
                rec.path, f"not still at the start (need {CALIBRATION_S:g} s of stillness "
                f"within the first {STILL_START_S:g} s)", line
            )
        if ev == pipeline_mod.EV_CALIBRATED and not pipe.mount_ok:
            raise ConfigError(
                f"mount {mount!r} does not fit {rec.path}: its right axis is within 30 deg of "
                "the measured up direction; pass the mount the clip was worn with"
            )
        tilt[row] = pipe.tilt_cdeg / 100.0
        obl[row] = pipe.obl_cdeg / 100.0
        if ev == detector_mod.EV_CUE:
            pending = {
                "onset_s": float(t_s[row_of_index[det.onset_index]]),
                "cue_s": float(t_s[row]),
            }
        elif ev == detector_mod.EV_END and pending:
            events.append(_event(pending, float(t_s[row]), det))
            pending = {}
    if pending:
        events.append(_event(pending, None, det))
    return Analysis(rate, t_s, tilt, obl, events)


def _event(pending: dict[str, float], end_s: float | None, det: Any) -> DropEvent:
    """`det` is the firmware's HipDropDetector (an untyped MicroPython module)."""
    return DropEvent(
        onset_s=pending["onset_s"],
        cue_s=pending["cue_s"],
        end_s=end_s,
        drop_side={1: "left", 2: "right"}[int(det.side)],
        peak_deg=int(det.peak_cdeg) / 100.0,
    )


def write_outputs(result: Analysis, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tilt_path = out_dir / "tilt.csv"
    events_path = out_dir / "events.csv"
    with tilt_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t_s", "tilt_deg", "obliquity_deg"])
        for t, a, b in zip(result.t_s, result.tilt_deg, result.obliquity_deg, strict=True):
            w.writerow([f"{t:.4f}", f"{a:.2f}", f"{b:.2f}"])
    with events_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["onset_s", "cue_s", "end_s", "drop_side", "peak_deg"])
        for e in result.events:
            end = "" if e.end_s is None else f"{e.end_s:.4f}"
            w.writerow(
                [f"{e.onset_s:.4f}", f"{e.cue_s:.4f}", end, e.drop_side, f"{e.peak_deg:.2f}"]
            )
    return tilt_path, events_path
