"""Simulated athlete pelvis: scripted motion with exact ground truth.

A script is a list of small frozen segments (`Still`, `Sway`, `WeightShift`, `HipDrop`, ...).
They are compiled into smooth functions of time, so the orientation, angular velocity and
the sacrum's acceleration can be evaluated at any instant and stay mutually consistent:
omega and acceleration are derived from the same trajectory by central differences with a
tiny step, not modelled separately.

Frames follow the project contract: pelvis and world are x forward, y left, z up;
R_world_from_pelvis = Rz(yaw) @ Ry(pitch) @ Rx(roll); tilt = pitch (anterior positive),
obliquity = -roll (right side higher positive).

Positions and neutrals
----------------------
Each position has a fixed neutral orientation N of the pelvis in the world:

* ``standing`` (code 0): N = I.
* ``seated`` (code 1): N = Ry(-15 deg), pelvis reclined (posteriorly tilted) 15 deg.
* ``prone`` (code 2): N = Ry(+90 deg), lying face down with the head toward world +x:
  pelvis forward (anterior) = world -z, pelvis up (cranial) = world +x, left stays +y.

Deviations are applied in the levelled neutral frame: R = M @ N with M = Rz(yaw) Ry(tilt)
Rx(-obliquity). Truth angles are the Z-Y-X pitch/roll of R @ N.T, which is exactly what an
estimator reports when it captures "up" from gravity at neutral, takes forward/right from
the mount and reads the current up vector in that frame (the firmware's `belt.align`).
Yaw wander is about world vertical and therefore invisible to gravity. When prone,
"obliquity" is a rotation about the body's long axis (one hip lifting off the floor);
the anatomical frontal-plane rotation is about world vertical there and not observable.

Single-leg stance pivots about the stance hip joint, so the sacrum (the sensor point)
translates when obliquity changes and the accelerometer sees the lever-arm acceleration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray

F64: TypeAlias = NDArray[np.float64]
I64: TypeAlias = NDArray[np.int64]

Side = Literal["left", "right"]
StanceName = Literal["both", "left", "right"]
PositionName = Literal["standing", "seated", "prone"]

G0_MPS2 = 9.80665
"""Standard gravity; the world gravity vector is (0, 0, -G0_MPS2)."""

POSITIONS: tuple[PositionName, ...] = ("standing", "seated", "prone")
"""Position names; the index is the integer code used in `BodyTrace.position`."""

STANCES: tuple[StanceName, ...] = ("both", "left", "right")
"""Stance names; the index is the integer code used in `BodyTrace.stance`."""

# Pelvis-frame geometry relative to the sensor on the sacrum (metres). Hip joint centres
# sit about 9 cm either side, 10 cm below and 8 cm in front of the sacral clip.
HIP_LEFT_M = (0.08, 0.09, -0.10)
HIP_RIGHT_M = (0.08, -0.09, -0.10)
# What the pelvis rotates about with both feet (or both ischia, or the front) supported.
SUPPORT_PIVOT_M: dict[PositionName, tuple[float, float, float]] = {
    "standing": (0.08, 0.0, -0.10),  # midway between the hip joints
    "seated": (0.03, 0.0, -0.16),  # ischial tuberosities on the seat
    "prone": (0.18, 0.0, -0.02),  # front of the pelvis on the floor
}
# Where the sacrum sits in the world for each position, relative to standing (metres).
POSITION_OFFSET_M: dict[PositionName, tuple[float, float, float]] = {
    "standing": (0.0, 0.0, 0.0),
    "seated": (-0.10, 0.0, -0.45),
    "prone": (0.30, 0.0, -0.80),
}

# Channels of the piecewise-smooth script state.
_YAW, _TILT, _OBL, _BX, _BY, _BZ, _PX, _PY, _PZ, _ENV = range(10)
_NCH = 10
# Finite-difference steps: small enough for truncation error, large enough for rounding.
_H_OMEGA_S = 1e-5
_H_ACC_S = 1e-4


def rot_x(a_rad: float) -> F64:
    """Rotation about x (roll)."""
    c, s = math.cos(a_rad), math.sin(a_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a_rad: float) -> F64:
    """Rotation about y (pitch)."""
    c, s = math.cos(a_rad), math.sin(a_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a_rad: float) -> F64:
    """Rotation about z (yaw)."""
    c, s = math.cos(a_rad), math.sin(a_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_zyx(yaw_rad: F64, pitch_rad: F64, roll_rad: F64) -> F64:
    """Vectorised Rz(yaw) @ Ry(pitch) @ Rx(roll) -> (n, 3, 3)."""
    cy, sy = np.cos(yaw_rad), np.sin(yaw_rad)
    cp, sp = np.cos(pitch_rad), np.sin(pitch_rad)
    cr, sr = np.cos(roll_rad), np.sin(roll_rad)
    out = np.empty((*np.shape(yaw_rad), 3, 3))
    out[..., 0, 0] = cy * cp
    out[..., 0, 1] = cy * sp * sr - sy * cr
    out[..., 0, 2] = cy * sp * cr + sy * sr
    out[..., 1, 0] = sy * cp
    out[..., 1, 1] = sy * sp * sr + cy * cr
    out[..., 1, 2] = sy * sp * cr - cy * sr
    out[..., 2, 0] = -sp
    out[..., 2, 1] = cp * sr
    out[..., 2, 2] = cp * cr
    return out


def exp_so3(w: F64) -> F64:
    """Rotation vectors (n, 3) -> rotation matrices (n, 3, 3) (Rodrigues)."""
    w = np.asarray(w, dtype=np.float64).reshape(-1, 3)
    th = np.linalg.norm(w, axis=1)
    small = th < 1e-8
    th_safe = np.where(small, 1.0, th)
    a = np.where(small, 1.0 - th**2 / 6.0, np.sin(th) / th_safe)
    b = np.where(small, 0.5 - th**2 / 24.0, (1.0 - np.cos(th)) / th_safe**2)
    k = np.zeros((w.shape[0], 3, 3))
    k[:, 0, 1], k[:, 0, 2] = -w[:, 2], w[:, 1]
    k[:, 1, 0], k[:, 1, 2] = w[:, 2], -w[:, 0]
    k[:, 2, 0], k[:, 2, 1] = -w[:, 1], w[:, 0]
    out: F64 = np.eye(3) + a[:, None, None] * k + b[:, None, None] * (k @ k)
    return out


def log_so3(r: F64) -> F64:
    """Rotation matrices (n, 3, 3) -> rotation vectors (n, 3); angles below pi."""
    r = np.asarray(r, dtype=np.float64).reshape(-1, 3, 3)
    v = 0.5 * np.stack(
        [r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0], r[:, 1, 0] - r[:, 0, 1]], axis=1
    )
    s = np.linalg.norm(v, axis=1)
    c = 0.5 * (np.trace(r, axis1=1, axis2=2) - 1.0)
    th = np.arctan2(s, c)
    small = s < 1e-12
    scale = np.where(small, 1.0, th / np.where(small, 1.0, s))
    out: F64 = v * scale[:, None]
    return out


def tilt_obliquity_deg(
    r_world_from_pelvis: F64, neutral: F64 | None = None
) -> tuple[F64, F64]:
    """(tilt, obliquity) in degrees of R (n, 3, 3) relative to a neutral orientation.

    The Z-Y-X pitch and minus roll of R @ neutral.T; neutral defaults to identity
    (standing).
    """
    r = np.asarray(r_world_from_pelvis, dtype=np.float64).reshape(-1, 3, 3)
    m = r if neutral is None else r @ np.asarray(neutral, dtype=np.float64).swapaxes(-1, -2)
    tilt = np.degrees(np.arcsin(np.clip(-m[:, 2, 0], -1.0, 1.0)))
    obl = -np.degrees(np.arctan2(m[:, 2, 1], m[:, 2, 2]))
    return tilt, obl


def neutral_orientation(position: PositionName) -> F64:
    """R_world_from_pelvis of a position's neutral (see the module docstring)."""
    if position == "standing":
        return np.eye(3)
    if position == "seated":
        return rot_y(math.radians(-15.0))
    if position == "prone":
        return rot_y(math.radians(90.0))
    raise ValueError(f"unknown position {position!r}; expected one of {POSITIONS}")


def _min_jerk(u: F64) -> F64:
    """0 -> 1 ramp with zero velocity and acceleration at both ends.

    Preferred to a raised cosine because the lever arm turns angular acceleration into
    linear acceleration; a C2 ramp keeps the accelerometer trace free of artificial steps.
    """
    u = np.clip(u, 0.0, 1.0)
    out: F64 = u**3 * (10.0 - 15.0 * u + 6.0 * u**2)
    return out


# --------------------------------------------------------------------------- script


def _positive(name: str, value: float) -> None:
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Still:
    """Motionless: the window a neutral/gyro-bias capture needs.

    Any ambient sway fades out over the first 0.3 s (or the whole segment if shorter).
    """

    duration_s: float

    def __post_init__(self) -> None:
        _positive("duration_s", self.duration_s)

    @property
    def total_s(self) -> float:
        return self.duration_s


@dataclass(frozen=True)
class Sway:
    """Quiet stance/sitting wander; the level persists into following segments.

    amplitude_deg is a hard bound on the tilt and obliquity wander (typical excursions
    are about half of it; RMS about a quarter); yaw wander is 0.6x, translation 4 mm/deg.
    Content is 0.1-1 Hz.
    """

    duration_s: float
    amplitude_deg: float = 0.5

    def __post_init__(self) -> None:
        _positive("duration_s", self.duration_s)
        _non_negative("amplitude_deg", self.amplitude_deg)

    @property
    def total_s(self) -> float:
        return self.duration_s


@dataclass(frozen=True)
class WeightShift:
    """Move the weight onto one leg (or back to both), standing only.

    The pelvis translates shift_m toward the stance leg and the free side hikes slightly
    (hike_deg, a normal response); the rotation pivot moves to the stance hip.
    """

    to_side: StanceName
    duration_s: float = 0.5
    shift_m: float = 0.065
    hike_deg: float = 1.0

    def __post_init__(self) -> None:
        if self.to_side not in STANCES:
            raise ValueError(f"to_side must be one of {STANCES}, got {self.to_side!r}")
        _positive("duration_s", self.duration_s)
        _non_negative("shift_m", self.shift_m)

    @property
    def total_s(self) -> float:
        return self.duration_s


@dataclass(frozen=True)
class HipDrop:
    """Trendelenburg drop of the unsupported side while standing on stance_side.

    size_deg is the scripted peak obliquity magnitude relative to neutral (not relative to
    the pre-drop hike); ambient sway adds at most the current sway amplitude. Label kind
    "drop", from onset start to recovery end.
    """

    stance_side: Side
    size_deg: float = 8.0
    onset_s: float = 0.2
    hold_s: float = 0.5
    recovery_s: float = 0.25
    settle_s: float = 0.5

    kind: ClassVar[str] = "drop"

    def __post_init__(self) -> None:
        _check_side(self.stance_side)
        _positive("size_deg", self.size_deg)
        _positive("onset_s", self.onset_s)
        _non_negative("hold_s", self.hold_s)
        _positive("recovery_s", self.recovery_s)
        _non_negative("settle_s", self.settle_s)

    @property
    def total_s(self) -> float:
        return self.onset_s + self.hold_s + self.recovery_s + self.settle_s


@dataclass(frozen=True)
class NearMiss(HipDrop):
    """A drop-shaped excursion meant to stay below the detection threshold (kind "near_miss")."""

    size_deg: float = 3.5

    kind: ClassVar[str] = "near_miss"


@dataclass(frozen=True)
class Hike(HipDrop):
    """The free side lifts (opposite direction to a drop; kind "hike").

    size_deg is the peak obliquity magnitude relative to neutral, toward the free side up.
    """

    size_deg: float = 3.0
    onset_s: float = 0.3
    recovery_s: float = 0.3

    kind: ClassVar[str] = "hike"


@dataclass(frozen=True)
class TouchDown:
    """Brief drop-direction spike (free foot tapping down): crosses the threshold, too short
    to pass the detector dwell. Label kind "touchdown" spans duration_s.

    Real kinematics: 7 deg in 90 ms peaks near 300 deg/s and several g at the sacrum;
    below about 80 ms the gyro (+-500 deg/s) saturates.
    """

    stance_side: Side
    peak_deg: float = 6.5
    duration_s: float = 0.09
    settle_s: float = 0.4

    def __post_init__(self) -> None:
        _check_side(self.stance_side)
        _positive("peak_deg", self.peak_deg)
        _positive("duration_s", self.duration_s)
        _non_negative("settle_s", self.settle_s)

    @property
    def total_s(self) -> float:
        return self.duration_s + self.settle_s


@dataclass(frozen=True)
class Squeeze:
    """Isometric glute squeeze: tilt goes posterior by depth_deg, held, released.

    Allowed in any position and stance. Label kind "squeeze", peak = most negative tilt.
    """

    depth_deg: float = 4.0
    onset_s: float = 0.3
    hold_s: float = 3.0
    release_s: float = 0.3
    settle_s: float = 0.5

    def __post_init__(self) -> None:
        _positive("depth_deg", self.depth_deg)
        _positive("onset_s", self.onset_s)
        _non_negative("hold_s", self.hold_s)
        _positive("release_s", self.release_s)
        _non_negative("settle_s", self.settle_s)

    @property
    def total_s(self) -> float:
        return self.onset_s + self.hold_s + self.release_s + self.settle_s


@dataclass(frozen=True)
class Position:
    """Smooth change to another position (both feet down). Label kind "transition".

    From the start of the transition `position` reports the new code and truth angles are
    relative to the new neutral, so they are large until the move completes; the firmware
    needs a fresh neutral capture (put a `Still` after this).
    """

    name: PositionName
    duration_s: float = 3.0

    def __post_init__(self) -> None:
        if self.name not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {self.name!r}")
        _positive("duration_s", self.duration_s)

    @property
    def total_s(self) -> float:
        return self.duration_s


Segment: TypeAlias = Still | Sway | WeightShift | HipDrop | TouchDown | Squeeze | Position
"""One step of a body script (NearMiss and Hike are HipDrop subclasses)."""


def _check_side(side: str) -> None:
    if side not in ("left", "right"):
        raise ValueError(f"stance_side must be 'left' or 'right', got {side!r}")


def script_duration_s(script: Iterable[Segment]) -> float:
    """Total length of a finite script."""
    return float(sum(seg.total_s for seg in script))


class Event(NamedTuple):
    """A labelled event for scoring detectors.

    side: for drop / near_miss / touchdown the side that drops (the unsupported side);
    for hike the free side that rises; None for squeeze and transition. peak_deg: the
    extreme truth angle (obliquity, or tilt for squeezes) at the trace's sample instants
    within [start_s, end_s], signed; 0.0 for transitions.
    """

    kind: str
    start_s: float
    end_s: float
    side: str | None
    peak_deg: float


@dataclass(frozen=True, eq=False)
class BodyTrace:
    """Sampled pelvis motion with ground truth. Sample k is at t_s[k] = k / rate_hz."""

    rate_hz: float
    t_s: F64
    R_world_from_pelvis: F64
    """(N, 3, 3)."""
    omega_pelvis_dps: F64
    """(N, 3) body angular velocity in the pelvis frame."""
    acc_world_mps2: F64
    """(N, 3) linear acceleration of the sensor point (sacrum), world frame, gravity excluded."""
    pos_world_m: F64
    """(N, 3) sensor point position (standing neutral sacrum at the origin)."""
    tilt_deg: F64
    obliquity_deg: F64
    position: I64
    """(N,) index into POSITIONS."""
    stance: I64
    """(N,) index into STANCES; switches at the start of a weight shift."""
    events: tuple[Event, ...]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def concatenate_traces(traces: Sequence[BodyTrace]) -> BodyTrace:
    """Join consecutive chunks from `iter_body` into one trace."""
    if not traces:
        raise ValueError("no traces to concatenate")
    return BodyTrace(
        rate_hz=traces[0].rate_hz,
        t_s=np.concatenate([t.t_s for t in traces]),
        R_world_from_pelvis=np.concatenate([t.R_world_from_pelvis for t in traces]),
        omega_pelvis_dps=np.concatenate([t.omega_pelvis_dps for t in traces]),
        acc_world_mps2=np.concatenate([t.acc_world_mps2 for t in traces]),
        pos_world_m=np.concatenate([t.pos_world_m for t in traces]),
        tilt_deg=np.concatenate([t.tilt_deg for t in traces]),
        obliquity_deg=np.concatenate([t.obliquity_deg for t in traces]),
        position=np.concatenate([t.position for t in traces]),
        stance=np.concatenate([t.stance for t in traces]),
        events=tuple(e for t in traces for e in t.events),
    )


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class _Piece:
    """One segment's interval: channels = v0 + sum of min-jerk ramps; fixed neutral path."""

    t0: float
    t1: float
    v0: F64
    ramp_a: F64
    ramp_b: F64
    ramp_d: F64
    q_from: F64
    q_rotvec: F64
    q_a: float
    q_b: float
    position: int
    stance: int

    def channels(self, t: F64) -> F64:
        if self.ramp_a.size == 0:
            return np.broadcast_to(self.v0, (t.shape[0], _NCH)).copy()
        u = (t[:, None] - self.ramp_a[None, :]) / (self.ramp_b - self.ramp_a)[None, :]
        out: F64 = self.v0[None, :] + _min_jerk(u) @ self.ramp_d
        return out

    def reference(self, t: F64) -> F64:
        """Neutral orientation along the way (moves only during a position change)."""
        if not np.any(self.q_rotvec):
            return np.broadcast_to(self.q_from, (t.shape[0], 3, 3)).copy()
        s = _min_jerk((t - self.q_a) / (self.q_b - self.q_a))
        out: F64 = self.q_from[None, :, :] @ exp_so3(s[:, None] * self.q_rotvec[None, :])
        return out


class _SwayProcess:
    """Sum of sinusoids (0.1-1 Hz) per channel, each bounded by 1 in magnitude."""

    # yaw, tilt, obliquity (deg per deg of envelope), x, y translation (m per deg)
    _SCALE = np.array([0.6, 1.0, 1.0, 0.004, 0.004])
    _K = 8

    def __init__(self, rng: np.random.Generator) -> None:
        shape = (self._SCALE.size, self._K)
        self.freq_hz = np.exp(rng.uniform(math.log(0.1), math.log(1.0), size=shape))
        amp = rng.uniform(0.5, 1.0, size=shape) / np.sqrt(self.freq_hz)
        self.amp = amp / amp.sum(axis=1, keepdims=True) * self._SCALE[:, None]
        self.phase = rng.uniform(0.0, 2.0 * math.pi, size=shape)

    def __call__(self, t: F64) -> F64:
        arg = 2.0 * math.pi * self.freq_hz[None, :, :] * t[:, None, None] + self.phase[None]
        out: F64 = (self.amp[None] * np.sin(arg)).sum(axis=2)
        return out


@dataclass
class _Sample:
    r: F64
    p: F64
    neutral: F64
    position: I64
    stance: I64


class _Model:
    """Compiles segments lazily into pieces and evaluates the trajectory at any time."""

    def __init__(self, script: Iterable[Segment], rate_hz: float, seed: int) -> None:
        if not (rate_hz > 0 and math.isfinite(rate_hz)):
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        self.rate_hz = float(rate_hz)
        self._segments: Iterator[Segment] = iter(script)
        self.exhausted = False
        self.sway = _SwayProcess(np.random.default_rng(seed))
        self.pieces: list[_Piece] = []
        self.pending: list[Event] = []
        # compiler state
        self.t = 0.0
        self.v = np.zeros(_NCH)
        self.v[_PX:_PZ + 1] = SUPPORT_PIVOT_M["standing"]
        self.position: PositionName = "standing"
        self.stance: StanceName = "both"

    # -- compilation

    def compile_until(self, t_s: float) -> None:
        while not self.exhausted and self.t <= t_s:
            try:
                seg = next(self._segments)
            except StopIteration:
                self.exhausted = True
                return
            self._compile(seg)

    def _compile(self, seg: Segment) -> None:
        t0 = self.t
        t1 = t0 + seg.total_s
        ramps: list[tuple[float, float, F64]] = []
        q_from = neutral_orientation(self.position)
        q_rotvec = np.zeros(3)
        label: tuple[str, float, float, str | None, int] | None = None

        def ramp(a: float, b: float, idx: int | slice, target: float | F64) -> None:
            d = np.zeros(_NCH)
            d[idx] = np.asarray(target) - self.v[idx]
            if np.any(d):
                ramps.append((a, b, d))
            self.v[idx] = target

        def pulse(a: float, rise: float, hold: float, fall: float, idx: int, peak: float) -> None:
            base = float(self.v[idx])
            ramp(a, a + rise, idx, peak)
            ramp(a + rise + hold, a + rise + hold + fall, idx, base)

        if isinstance(seg, Still):
            ramp(t0, t0 + min(0.3, seg.duration_s), _ENV, 0.0)
        elif isinstance(seg, Sway):
            ramp(t0, t0 + min(0.5, seg.duration_s), _ENV, seg.amplitude_deg)
        elif isinstance(seg, WeightShift):
            self._require(seg, position="standing")
            sign = {"both": 0.0, "left": 1.0, "right": -1.0}[seg.to_side]
            b = np.array(POSITION_OFFSET_M["standing"]) + np.array([0.0, sign * seg.shift_m, 0.0])
            pivot = {"both": SUPPORT_PIVOT_M["standing"], "left": HIP_LEFT_M,
                     "right": HIP_RIGHT_M}[seg.to_side]
            # stance left -> free right side hikes -> right higher -> obliquity positive
            ramp(t0, t1, slice(_BX, _BZ + 1), b)
            ramp(t0, t1, slice(_PX, _PZ + 1), np.array(pivot))
            ramp(t0, t1, _OBL, sign * seg.hike_deg)
            self.stance = seg.to_side
        elif isinstance(seg, HipDrop):
            self._require(seg, position="standing", stance=seg.stance_side)
            drop_sign = -1.0 if seg.stance_side == "left" else 1.0
            sign = -drop_sign if isinstance(seg, Hike) else drop_sign
            pulse(t0, seg.onset_s, seg.hold_s, seg.recovery_s, _OBL, sign * seg.size_deg)
            free = _other(seg.stance_side)
            end = t0 + seg.onset_s + seg.hold_s + seg.recovery_s
            label = (seg.kind, t0, end, free, int(sign))
        elif isinstance(seg, TouchDown):
            self._require(seg, position="standing", stance=seg.stance_side)
            sign = -1.0 if seg.stance_side == "left" else 1.0
            half = seg.duration_s / 2.0
            pulse(t0, half, 0.0, half, _OBL, sign * seg.peak_deg)
            label = ("touchdown", t0, t0 + seg.duration_s, _other(seg.stance_side), int(sign))
        elif isinstance(seg, Squeeze):
            base = float(self.v[_TILT])
            pulse(t0, seg.onset_s, seg.hold_s, seg.release_s, _TILT, base - seg.depth_deg)
            end = t0 + seg.onset_s + seg.hold_s + seg.release_s
            label = ("squeeze", t0, end, None, -2)
        elif isinstance(seg, Position):
            self._require(seg, stance="both")
            q_to = neutral_orientation(seg.name)
            q_rotvec = log_so3(q_from.T @ q_to)[0]
            ramp(t0, t1, slice(_BX, _BZ + 1), np.array(POSITION_OFFSET_M[seg.name]))
            ramp(t0, t1, slice(_PX, _PZ + 1), np.array(SUPPORT_PIVOT_M[seg.name]))
            self.position = seg.name
            label = ("transition", t0, t1, None, 0)
        else:  # pragma: no cover - exhaustive over Segment
            raise TypeError(f"not a script segment: {seg!r}")

        piece = _Piece(
            t0=t0,
            t1=t1,
            v0=self._v_at_start(ramps),
            ramp_a=np.array([r[0] for r in ramps]),
            ramp_b=np.array([r[1] for r in ramps]),
            ramp_d=np.array([r[2] for r in ramps]).reshape(-1, _NCH),
            q_from=q_from,
            q_rotvec=q_rotvec,
            q_a=t0,
            q_b=t1,
            position=POSITIONS.index(self.position),
            stance=STANCES.index(self.stance),
        )
        self.pieces.append(piece)
        self.t = t1
        if label is not None:
            kind, start, end, side, direction = label
            self.pending.append(
                Event(kind, start, end, side, self._peak(piece, start, end, direction))
            )

    def _v_at_start(self, ramps: list[tuple[float, float, F64]]) -> F64:
        v0 = self.v.copy()
        for _, _, d in ramps:
            v0 -= d
        return v0

    def _require(
        self, seg: Segment, position: PositionName | None = None, stance: str | None = None
    ) -> None:
        name = type(seg).__name__
        if position is not None and self.position != position:
            raise ValueError(f"{name} at t={self.t:.2f}s needs position {position!r}, "
                             f"the script is in {self.position!r}")
        if stance is not None and self.stance != stance:
            raise ValueError(f"{name} at t={self.t:.2f}s needs stance {stance!r}, "
                             f"the script is in stance {self.stance!r} (add a WeightShift)")

    def _peak(self, piece: _Piece, start: float, end: float, direction: int) -> float:
        """Extreme truth angle at sample instants; direction +-1 obliquity, -2 tilt min."""
        if direction == 0:
            return 0.0
        k0 = math.ceil(start * self.rate_hz - 1e-9)
        k1 = math.floor(end * self.rate_hz + 1e-9)
        t = np.arange(k0, k1 + 1) / self.rate_hz
        if t.size == 0:
            t = np.array([(start + end) / 2.0])
        s = self._evaluate(t, [piece])
        tilt, obl = tilt_obliquity_deg(s.r, s.neutral)
        if direction == -2:
            return float(tilt.min())
        return float(obl[np.argmax(direction * obl)])

    # -- evaluation

    def _evaluate(self, t: F64, pieces: Sequence[_Piece] | None = None) -> _Sample:
        pieces = self.pieces if pieces is None else pieces
        starts = np.array([p.t0 for p in pieces])
        idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(pieces) - 1)
        n = t.shape[0]
        v = np.empty((n, _NCH))
        q = np.empty((n, 3, 3))
        neutral = np.empty((n, 3, 3))
        position = np.empty(n, dtype=np.int64)
        stance = np.empty(n, dtype=np.int64)
        for i in np.unique(idx):
            sel = idx == i
            piece = pieces[int(i)]
            v[sel] = piece.channels(t[sel])
            q[sel] = piece.reference(t[sel])
            neutral[sel] = neutral_orientation(POSITIONS[piece.position])
            position[sel] = piece.position
            stance[sel] = piece.stance
        sway = self.sway(t) * v[:, _ENV:_ENV + 1]
        yaw = np.radians(v[:, _YAW] + sway[:, 0])
        tilt = np.radians(v[:, _TILT] + sway[:, 1])
        obl = np.radians(v[:, _OBL] + sway[:, 2])
        m = rot_zyx(yaw, tilt, -obl)
        r = m @ q
        base = v[:, _BX:_BZ + 1].copy()
        base[:, 0:2] += sway[:, 3:5]
        # Rotating about the pivot: pivot fixed, sensor moves by (I - M) Q r_pivot.
        pivot_world = np.einsum("nij,nj->ni", q, v[:, _PX:_PZ + 1])
        p = base + pivot_world - np.einsum("nij,nj->ni", m, pivot_world)
        return _Sample(r=r, p=p, neutral=neutral, position=position, stance=stance)

    def trace(self, k0: int, k1: int, events: tuple[Event, ...]) -> BodyTrace:
        t = np.arange(k0, k1, dtype=np.float64) / self.rate_hz
        s = self._evaluate(t)
        r_minus = self._evaluate(t - _H_OMEGA_S).r
        r_plus = self._evaluate(t + _H_OMEGA_S).r
        omega = log_so3(r_minus.swapaxes(1, 2) @ r_plus) / (2.0 * _H_OMEGA_S)
        p_minus = self._evaluate(t - _H_ACC_S).p
        p_plus = self._evaluate(t + _H_ACC_S).p
        acc = (p_plus - 2.0 * s.p + p_minus) / _H_ACC_S**2
        tilt, obl = tilt_obliquity_deg(s.r, s.neutral)
        return BodyTrace(
            rate_hz=self.rate_hz,
            t_s=t,
            R_world_from_pelvis=s.r,
            omega_pelvis_dps=np.degrees(omega),
            acc_world_mps2=acc,
            pos_world_m=s.p,
            tilt_deg=tilt,
            obliquity_deg=obl,
            position=s.position,
            stance=s.stance,
            events=events,
        )

    def prune(self, before_s: float) -> None:
        """Forget pieces that ended well before before_s (keeps endless streams bounded)."""
        while len(self.pieces) > 1 and self.pieces[0].t1 < before_s - 1.0:
            self.pieces.pop(0)

    def take_events(self, before_s: float | None) -> tuple[Event, ...]:
        taken = [e for e in self.pending if before_s is None or e.start_s < before_s]
        self.pending = [e for e in self.pending if not (before_s is None or e.start_s < before_s)]
        return tuple(taken)


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def iter_body(
    script: Iterable[Segment], rate_hz: float, seed: int, chunk_s: float = 1.0
) -> Iterator[BodyTrace]:
    """Simulate lazily in chunks of about chunk_s; works with endless segment generators.

    Chunks join seamlessly: concatenating them equals `simulate_body` on the same script.
    Each chunk carries the events that start within it.
    """
    _positive("chunk_s", chunk_s)
    model = _Model(script, rate_hz, seed)
    chunk_n = max(1, round(chunk_s * model.rate_hz))
    k = 0
    while True:
        k_end = k + chunk_n
        model.compile_until(k_end / model.rate_hz)
        if model.exhausted:
            k_end = min(k_end, round(model.t * model.rate_hz))
        if k_end <= k or not model.pieces:
            return
        last = model.exhausted and k_end == round(model.t * model.rate_hz)
        events = model.take_events(None if last else k_end / model.rate_hz)
        yield model.trace(k, k_end, events)
        k = k_end
        model.prune(k / model.rate_hz)
        if last:
            return


def simulate_body(script: Iterable[Segment], rate_hz: float, seed: int) -> BodyTrace:
    """Sample a finite script at rate_hz (100 or 200 in this project). seed drives the sway.

    The trace has round(duration * rate_hz) samples at t = k / rate_hz.
    """
    segments = list(script)
    if not segments:
        raise ValueError("empty script")
    model = _Model(segments, rate_hz, seed)
    model.compile_until(math.inf)
    n = round(model.t * model.rate_hz)
    if n < 1:
        raise ValueError("script is shorter than one sample")
    return model.trace(0, n, model.take_events(None))
