"""Agreement of the firmware tilt filter with the x-io imufusion AHRS on a real recording.

Data (not part of the project): `../shared/data/xio-fusion/` next to the repository
(`--data` to point elsewhere): `sensor_data.csv` (x-io Fusion example, ~100 Hz, gyro in
deg/s, accel in g, irregular timestamps) and `reference_imufusion_6dof.csv` (roll/pitch/yaw
in degrees, Z-Y-X Euler angles of the sensor in a z-up earth frame, from imufusion's
6-axis AHRS at every row). Hand-held motion up to +-60 deg: a hard test of a tilt filter,
not a model of a drill.

The recording goes to `belt.fusion.TiltFilter` in the sensor frame exactly as the belt
would feed it: canonical ints (accel mg, gyro 1/16 deg/s), the sample index from the
timestamps at 100 Hz (longer gaps advance it), the Pipeline's default tau and 1 g gate.
Start-up: if the first second passes the firmware's own still-window check
(`belt.calib.StillCalibrator`), its gyro bias and mean accelerometer seed the filter as
on the belt; otherwise bias 0 and the first accelerometer sample (reported either way).

Angles of the estimated up vector u (sensor frame) in the reference's convention:
roll = atan2(u_y, u_z), pitch = atan2(-u_x, hypot(u_y, u_z)); checked on the still parts
against accelerometer-only angles. The first 3 s are left out: that is the reference's own
start-up (it begins level and converges), not a property of either filter.

    .venv/bin/python benchmarks/xio_agreement.py [--data DIR] [--tau S]

The last line printed is one JSON object (or {"skipped": "..."} without the data).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt.analyze import sample_indices, to_canonical
from levelbelt.firmware import belt_module
from levelbelt.rawcsv import RawRecording

F64 = NDArray[np.float64]

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "xio-fusion"
SENSOR_FILE = "sensor_data.csv"
REFERENCE_FILE = "reference_imufusion_6dof.csv"
RATE_HZ = 100
SKIP_S = 3.0
QUIET_DPS = 2.0  # |gyro| below this counts as still ...
QUIET_AFTER_S = 3.0  # ... once it has been for this long (filters have settled)
SENSOR_COLUMNS = (
    "Time (s)",
    "Gyroscope X (deg/s)", "Gyroscope Y (deg/s)", "Gyroscope Z (deg/s)",
    "Accelerometer X (g)", "Accelerometer Y (g)", "Accelerometer Z (g)",
)
REFERENCE_COLUMNS = ("time_s", "roll_deg", "pitch_deg")


@dataclass(frozen=True)
class Agreement:
    t_s: F64
    roll_deg: F64  # ours
    pitch_deg: F64
    ref_roll_deg: F64
    ref_pitch_deg: F64
    acc_roll_deg: F64  # accelerometer only
    acc_pitch_deg: F64
    accel_norm_g: F64
    quiet: NDArray[np.bool_]
    calibrated: bool
    tau_s: float
    samples: NDArray[np.int64]  # canonical ints fed to the filter
    index: NDArray[np.int64]  # sample index per row
    bias_256: tuple[int, int, int]


def read_columns(path: Path, names: tuple[str, ...]) -> F64:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        missing = [n for n in names if n not in header]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
        cols = [header.index(n) for n in names]
        rows = [[float(row[c]) for c in cols] for row in reader if row]
    return np.asarray(rows, dtype=np.float64)


def default_tau_s() -> float:
    pipeline = belt_module("pipeline")
    return float(inspect.signature(pipeline.Pipeline.__init__).parameters["tau_s"].default)


def up_angles(u: F64) -> tuple[F64, F64]:
    """Z-Y-X roll and pitch of a body whose up vector, in its own frame, is u (n, 3)."""
    roll = np.degrees(np.arctan2(u[:, 1], u[:, 2]))
    pitch = np.degrees(np.arctan2(-u[:, 0], np.hypot(u[:, 1], u[:, 2])))
    return roll, pitch


def quiet_mask(t_s: F64, gyro_dps: F64) -> NDArray[np.bool_]:
    """Rows with |gyro| below QUIET_DPS for QUIET_AFTER_S before and 0.5 s after."""
    moving = np.linalg.norm(gyro_dps, axis=1) >= QUIET_DPS
    last_move = np.maximum.accumulate(np.where(moving, t_s, -np.inf))
    next_move = np.minimum.accumulate(np.where(moving, t_s, np.inf)[::-1])[::-1]
    out: NDArray[np.bool_] = (t_s - last_move >= QUIET_AFTER_S) & (next_move - t_s >= 0.5)
    return out


def run(data_dir: Path, tau_s: float | None = None) -> Agreement:
    sensor = read_columns(data_dir / SENSOR_FILE, SENSOR_COLUMNS)
    ref = read_columns(data_dir / REFERENCE_FILE, REFERENCE_COLUMNS)
    if sensor.shape[0] != ref.shape[0] or np.abs(sensor[:, 0] - ref[:, 0]).max() > 1e-4:
        raise SystemExit("reference rows do not match the sensor rows one to one")
    t = sensor[:, 0]
    rec = RawRecording(
        path=data_dir / SENSOR_FILE, t_s=t, accel_g=sensor[:, 4:7], gyro_dps=sensor[:, 1:4],
        lines=np.arange(2, t.size + 2, dtype=np.int64),
    )
    samples = to_canonical(rec)
    index = sample_indices(t, RATE_HZ)
    tau = default_tau_s() if tau_s is None else tau_s

    fusion: Any = belt_module("fusion")
    calib: Any = belt_module("calib")
    filt = fusion.TiltFilter(RATE_HZ, tau)
    cal = calib.StillCalibrator(RATE_HZ)  # one second, the analyze default
    status = calib.COLLECTING
    for row in samples[:RATE_HZ]:
        status = cal.add(*(int(v) for v in row))
        if status == calib.MOVING:
            break
    calibrated = status == calib.DONE
    bias = (0, 0, 0)
    if calibrated:
        bx, by, bz = cal.bias_256()
        bias = (int(bx), int(by), int(bz))
        filt.set_bias(*bias)
        filt.reset(*cal.mean_accel())
    else:
        filt.set_bias(0, 0, 0)
        filt.reset(*(int(v) for v in samples[0, :3]))

    up = np.empty((t.size, 3))
    prev = int(index[0]) - 1
    for k in range(t.size):
        i = int(index[k])
        ax, ay, az, gx, gy, gz = (int(v) for v in samples[k])
        filt.update(ax, ay, az, gx, gy, gz, i - prev)
        prev = i
        up[k] = (filt.x, filt.y, filt.z)
    roll, pitch = up_angles(up)
    acc_roll, acc_pitch = up_angles(rec.accel_g)
    return Agreement(t, roll, pitch, ref[:, 1], ref[:, 2], acc_roll, acc_pitch,
                     np.linalg.norm(rec.accel_g, axis=1), quiet_mask(t, rec.gyro_dps),
                     calibrated, tau, samples, index, bias)


def gyro_only(a: Agreement, k0: int, k1: int) -> tuple[F64, F64]:
    """Roll/pitch over rows k0..k1-1 from the gyro alone, starting at the reference's
    attitude at row k0 (a witness for who is right while the accelerometer is shaken)."""
    fusion: Any = belt_module("fusion")
    filt = fusion.TiltFilter(RATE_HZ)
    filt.set_bias(*a.bias_256)
    r, p = np.radians(a.ref_roll_deg[k0]), np.radians(a.ref_pitch_deg[k0])
    u0 = (-np.sin(p), np.sin(r) * np.cos(p), np.cos(r) * np.cos(p))
    filt.reset(*(round(1000 * c) for c in u0))
    up = np.empty((k1 - k0, 3))
    up[0] = (filt.x, filt.y, filt.z)
    for k in range(k0 + 1, k1):
        gx, gy, gz = (int(v) for v in a.samples[k, 3:])
        filt.update(0, 0, 0, gx, gy, gz, int(a.index[k] - a.index[k - 1]))  # 0 g: no blend
        up[k - k0] = (filt.x, filt.y, filt.z)
    return up_angles(up)


def wrap(x: F64) -> F64:
    out: F64 = (x + 180.0) % 360.0 - 180.0
    return out


def figures(a: Agreement) -> dict[str, Any]:
    keep = a.t_s >= a.t_s[0] + SKIP_S
    d_roll = wrap(a.roll_deg - a.ref_roll_deg)[keep]
    d_pitch = wrap(a.pitch_deg - a.ref_pitch_deg)[keep]
    quiet = a.quiet[keep]
    conv_roll = wrap(a.acc_roll_deg - a.ref_roll_deg)[keep][quiet]
    conv_pitch = wrap(a.acc_pitch_deg - a.ref_pitch_deg)[keep][quiet]

    def rms(x: F64) -> float:
        return round(float(np.sqrt(np.mean(x**2))), 4)

    def p99(x: F64) -> float:
        return round(float(np.percentile(np.abs(x), 99)), 4)

    return {
        "xio_roll_rms_deg": rms(d_roll),
        "xio_pitch_rms_deg": rms(d_pitch),
        "xio_roll_p99_deg": p99(d_roll),
        "xio_pitch_p99_deg": p99(d_pitch),
        "xio_roll_max_deg": round(float(np.abs(d_roll).max()), 3),
        "xio_pitch_max_deg": round(float(np.abs(d_pitch).max()), 3),
        "xio_quiet_roll_max_deg": round(float(np.abs(d_roll[quiet]).max()), 3),
        "xio_quiet_pitch_max_deg": round(float(np.abs(d_pitch[quiet]).max()), 3),
        "convention_roll_mean_deg": round(float(conv_roll.mean()), 3),
        "convention_pitch_mean_deg": round(float(conv_pitch.mean()), 3),
        "quiet_samples": int(quiet.sum()),
        "samples": int(keep.sum()),
        "tau_s": a.tau_s,
        "calibrated": a.calibrated,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--tau", type=float, default=None, help="override the Pipeline default")
    args = ap.parse_args(argv)
    data: Path = args.data
    if not (data / SENSOR_FILE).is_file() or not (data / REFERENCE_FILE).is_file():
        reason = f"x-io data not found in {data}"
        print(f"skipped: {reason}")
        print(json.dumps({"skipped": reason}))
        return 0
    a = run(data, args.tau)
    f = figures(a)
    print(f"{a.t_s.size} rows, {a.t_s[-1] - a.t_s[0]:.1f} s; compared from {SKIP_S:g} s on: "
          f"{f['samples']} samples; tau {a.tau_s:g} s")
    print("start: " + ("first second still, gyro bias and neutral from the firmware's "
                       "still window" if a.calibrated else
                       "first second not still: bias 0, seeded from the first sample"))
    print(f"convention check on {f['quiet_samples']} still samples (accelerometer-only angles "
          f"minus reference): roll {f['convention_roll_mean_deg']:+.3f} deg, "
          f"pitch {f['convention_pitch_mean_deg']:+.3f} deg")
    print(f"roll  vs imufusion: RMS {f['xio_roll_rms_deg']:.3f} deg, p99 "
          f"{f['xio_roll_p99_deg']:.3f} deg, max {f['xio_roll_max_deg']:.2f} deg "
          f"(still parts max {f['xio_quiet_roll_max_deg']:.2f})")
    print(f"pitch vs imufusion: RMS {f['xio_pitch_rms_deg']:.3f} deg, p99 "
          f"{f['xio_pitch_p99_deg']:.3f} deg, max {f['xio_pitch_max_deg']:.2f} deg "
          f"(still parts max {f['xio_quiet_pitch_max_deg']:.2f})")
    d = np.hypot(wrap(a.roll_deg - a.ref_roll_deg), wrap(a.pitch_deg - a.ref_pitch_deg))
    print("largest disagreement by 4 s window (combined roll/pitch difference):")
    starts = np.arange(0.0, a.t_s[-1], 4.0)
    worst = sorted(starts, key=lambda s: -float(
        d[(a.t_s >= s) & (a.t_s < s + 4.0)].max(initial=0.0)))[:4]
    for s in sorted(worst):
        sel = (a.t_s >= s) & (a.t_s < s + 4.0)
        amag = a.accel_norm_g[sel]
        print(f"  {s:5.0f}-{s + 4:.0f} s: max {d[sel].max():5.2f} deg; "
              f"reference roll {a.ref_roll_deg[sel].min():+.0f}..{a.ref_roll_deg[sel].max():+.0f}"
              f", pitch {a.ref_pitch_deg[sel].min():+.0f}..{a.ref_pitch_deg[sel].max():+.0f} "
              f"deg; |accel| {amag.min():.2f}..{amag.max():.2f} g")
    s0 = float(max(worst, key=lambda s: float(
        d[(a.t_s >= s) & (a.t_s < s + 4.0)].max(initial=0.0))))
    # From the last still row before the worst window (both filters settled and agreeing)
    # to the first still row after it.
    k_s0 = int(np.searchsorted(a.t_s, s0))
    still_before = np.flatnonzero(a.quiet[:k_s0])
    still_after = np.flatnonzero(a.quiet[k_s0:])
    k0 = int(still_before[-1]) if still_before.size else max(0, k_s0 - 2 * RATE_HZ)
    k1 = k_s0 + int(still_after[0]) if still_after.size else a.t_s.size
    g_roll, g_pitch = gyro_only(a, k0, k1)
    sl = slice(k0, k1)

    def dev(x: F64, y: F64) -> float:
        return float(np.abs(wrap(x - y)).max())

    print(f"gyro alone over {a.t_s[k0]:.1f}-{a.t_s[k1 - 1]:.1f} s from the still attitude before: "
          f"reference within {dev(a.ref_roll_deg[sl], g_roll):.1f} / "
          f"{dev(a.ref_pitch_deg[sl], g_pitch):.1f} deg (roll/pitch), this filter within "
          f"{dev(a.roll_deg[sl], g_roll):.1f} / {dev(a.pitch_deg[sl], g_pitch):.1f} deg")
    print(json.dumps(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
