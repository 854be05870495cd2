"""IMU model: turns a `BodyTrace` into MPU-6050-like samples in the firmware's units.

Signal chain, per axis, in the real (misaligned) sensor frame:
true value -> scale error -> + bias (+ gyro bias random walk) -> + white noise
-> ADC counts (rounded, saturated at int16) -> canonical ints: accel mg, gyro 1/16 deg/s.

The accelerometer measures specific force f = R_sensor_from_world @ (a - g) with
g = (0, 0, -9.80665) m/s^2, so at rest it reads +1 g on the axis pointing up.
Randomness comes from `seed` only; separate streams per noise source keep a chunked
`SensorStream` bit-identical to one `measure` call over the whole trace.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from levelbelt.sim.body import F64, G0_MPS2, I64, BodyTrace, rot_zyx

INT16_MIN = -32768
INT16_MAX = 32767

DEFAULT_MOUNT: F64 = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
"""R_pelvis_from_sensor of the default clip: sensor +X -> right, +Y -> up, +Z -> backward."""
DEFAULT_MOUNT.flags.writeable = False

CSV_HEADER = "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"


@dataclass(frozen=True)
class SensorModel:
    """Error parameters; defaults follow the MPU-6050 datasheet at +-4 g / +-500 deg/s.

    Noise is white with sigma = density * sqrt(bandwidth), bandwidth = min(DLPF, rate/2);
    44 Hz is the DLPF setting that suits 100-200 Hz output. Biases and scale errors are
    drawn uniformly in +-max per axis from the seed; they stand for what is left after
    the factory trim, since the firmware re-estimates gyro bias at every still start.
    The misalignment is deterministic: the clip never sits exactly as nominal on a belt.
    """

    accel_lsb_per_g: float = 8192.0
    gyro_lsb_per_dps: float = 65.5
    accel_noise_ug_rthz: float = 400.0
    gyro_noise_dps_rthz: float = 0.005
    noise_bandwidth_hz: float = 44.0
    accel_bias_max_g: float = 0.005
    gyro_bias_max_dps: float = 2.0
    gyro_bias_walk_dps_rts: float = 0.01
    scale_error_max: float = 0.01
    misalign_yaw_deg: float = 0.5
    misalign_pitch_deg: float = 3.0
    misalign_roll_deg: float = 2.0

    @classmethod
    def ideal(cls) -> SensorModel:
        """No noise, bias, scale error or misalignment; quantisation and saturation remain."""
        return cls(
            accel_noise_ug_rthz=0.0,
            gyro_noise_dps_rthz=0.0,
            accel_bias_max_g=0.0,
            gyro_bias_max_dps=0.0,
            gyro_bias_walk_dps_rts=0.0,
            scale_error_max=0.0,
            misalign_yaw_deg=0.0,
            misalign_pitch_deg=0.0,
            misalign_roll_deg=0.0,
        )

    def aligned(self) -> SensorModel:
        """The same model with the mount misalignment removed."""
        return replace(self, misalign_yaw_deg=0.0, misalign_pitch_deg=0.0, misalign_roll_deg=0.0)

    @property
    def accel_full_scale_g(self) -> float:
        return INT16_MAX / self.accel_lsb_per_g

    @property
    def gyro_full_scale_dps(self) -> float:
        return INT16_MAX / self.gyro_lsb_per_dps

    def misalignment(self) -> F64:
        """Rotation (pelvis frame, Z-Y-X) from the nominal mount to the real one."""
        a = np.radians([[self.misalign_yaw_deg], [self.misalign_pitch_deg],
                        [self.misalign_roll_deg]])
        out: F64 = rot_zyx(a[0], a[1], a[2])[0]
        return out


@dataclass(frozen=True, eq=False)
class ImuSamples:
    """IMU output aligned with the trace samples.

    accel_mg / gyro_16dps are what the firmware consumes (int64 arrays holding int16
    values). accel_g / gyro_dps are the analog readings with all errors, before the ADC;
    accel_true_g / gyro_true_dps are error-free values in the real sensor frame.
    """

    rate_hz: float
    t_s: F64
    accel_mg: I64
    gyro_16dps: I64
    accel_g: F64
    gyro_dps: F64
    accel_true_g: F64
    gyro_true_dps: F64
    R_pelvis_from_sensor: F64
    """The real mount, misalignment included."""

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def _check_rotation(m: F64) -> F64:
    m = np.asarray(m, dtype=np.float64)
    if m.shape != (3, 3) or not np.allclose(m @ m.T, np.eye(3), atol=1e-6) or (
        np.linalg.det(m) < 0
    ):
        raise ValueError("mount must be a 3x3 proper rotation (R_pelvis_from_sensor)")
    return m


def ideal_imu(trace: BodyTrace, r_pelvis_from_sensor: F64) -> tuple[F64, F64]:
    """Error-free (specific force in g, angular rate in deg/s), both in the sensor frame."""
    r_ps = _check_rotation(r_pelvis_from_sensor)
    f_world = trace.acc_world_mps2 + np.array([0.0, 0.0, G0_MPS2])
    f_pelvis = np.einsum("nji,nj->ni", trace.R_world_from_pelvis, f_world)
    accel: F64 = f_pelvis @ r_ps / G0_MPS2
    gyro: F64 = trace.omega_pelvis_dps @ r_ps
    return accel, gyro


def _quantise(x: F64, lsb_per_unit: float, canonical_per_unit: float) -> I64:
    counts = np.clip(np.rint(x * lsb_per_unit), INT16_MIN, INT16_MAX)
    out: I64 = np.clip(
        np.rint(counts * (canonical_per_unit / lsb_per_unit)), INT16_MIN, INT16_MAX
    ).astype(np.int64)
    return out


class SensorStream:
    """Stateful sensor for chunked traces (live demo); bias walk continues across chunks."""

    def __init__(self, model: SensorModel, seed: int, mount: F64 = DEFAULT_MOUNT) -> None:
        self.model = model
        self.R_pelvis_from_sensor: F64 = model.misalignment() @ _check_rotation(mount)
        const_ss, accel_ss, gyro_ss, walk_ss = np.random.SeedSequence(seed).spawn(4)
        const = np.random.default_rng(const_ss)
        self.accel_bias_g = const.uniform(-1.0, 1.0, 3) * model.accel_bias_max_g
        self.gyro_bias_dps = const.uniform(-1.0, 1.0, 3) * model.gyro_bias_max_dps
        self.accel_scale = 1.0 + const.uniform(-1.0, 1.0, 3) * model.scale_error_max
        self.gyro_scale = 1.0 + const.uniform(-1.0, 1.0, 3) * model.scale_error_max
        self._accel_rng = np.random.default_rng(accel_ss)
        self._gyro_rng = np.random.default_rng(gyro_ss)
        self._walk_rng = np.random.default_rng(walk_ss)
        self._walk_dps = np.zeros(3)

    def measure(self, trace: BodyTrace) -> ImuSamples:
        m = self.model
        n = len(trace)
        bw = min(m.noise_bandwidth_hz, trace.rate_hz / 2.0)
        accel_sigma_g = m.accel_noise_ug_rthz * 1e-6 * math.sqrt(bw)
        gyro_sigma_dps = m.gyro_noise_dps_rthz * math.sqrt(bw)
        walk_sigma = m.gyro_bias_walk_dps_rts / math.sqrt(trace.rate_hz)

        accel_true, gyro_true = ideal_imu(trace, self.R_pelvis_from_sensor)
        walk = self._walk_dps + np.cumsum(
            self._walk_rng.standard_normal((n, 3)) * walk_sigma, axis=0
        )
        if n:
            self._walk_dps = walk[-1].copy()
        accel = (
            accel_true * self.accel_scale
            + self.accel_bias_g
            + self._accel_rng.standard_normal((n, 3)) * accel_sigma_g
        )
        gyro = (
            gyro_true * self.gyro_scale
            + self.gyro_bias_dps
            + walk
            + self._gyro_rng.standard_normal((n, 3)) * gyro_sigma_dps
        )
        return ImuSamples(
            rate_hz=trace.rate_hz,
            t_s=trace.t_s.copy(),
            accel_mg=_quantise(accel, m.accel_lsb_per_g, 1000.0),
            gyro_16dps=_quantise(gyro, m.gyro_lsb_per_dps, 16.0),
            accel_g=accel,
            gyro_dps=gyro,
            accel_true_g=accel_true,
            gyro_true_dps=gyro_true,
            R_pelvis_from_sensor=self.R_pelvis_from_sensor.copy(),
        )


def measure(
    trace: BodyTrace, model: SensorModel, seed: int, mount: F64 = DEFAULT_MOUNT
) -> ImuSamples:
    """Simulate the IMU over a whole trace; mount is the nominal R_pelvis_from_sensor."""
    return SensorStream(model, seed, mount).measure(trace)


def write_raw_csv(
    path: str | os.PathLike[str],
    samples: ImuSamples,
    jitter_s: float = 0.0,
    drop_rows: Iterable[int] = (),
    seed: int = 0,
) -> int:
    """Write the analyze input format from the canonical ints; returns rows written.

    jitter_s adds uniform timestamp noise in +-jitter_s (below half a sample period so the
    order is kept); drop_rows removes those sample indices to leave gaps.
    """
    n = len(samples)
    period = 1.0 / samples.rate_hz
    if not (0.0 <= jitter_s < period / 2.0):
        raise ValueError(f"jitter_s must be in [0, {period / 2.0:g}) s, got {jitter_s!r}")
    t = samples.t_s.copy()
    if jitter_s > 0.0:
        t += np.random.default_rng(seed).uniform(-jitter_s, jitter_s, n)
        t -= min(0.0, float(t.min()))  # keep timestamps non-negative
    keep = np.ones(n, dtype=bool)
    for k in drop_rows:
        if not 0 <= k < n:
            raise ValueError(f"drop_rows index {k} outside 0..{n - 1}")
        keep[k] = False
    lines = [CSV_HEADER]
    for k in np.flatnonzero(keep).tolist():
        a = samples.accel_mg[k]
        g = samples.gyro_16dps[k]
        lines.append(
            f"{t[k]:.6f},{a[0] / 1000:.3f},{a[1] / 1000:.3f},{a[2] / 1000:.3f},"
            f"{g[0] / 16:.4f},{g[1] / 16:.4f},{g[2] / 16:.4f}"
        )
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return len(lines) - 1
