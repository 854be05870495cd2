"""Host side of wire protocol v1 (docs/protocol.md): vectorised frame decoding.

The decoder never raises on bad input: each malformed frame is counted under a reason
and skipped, so one corrupt notification cannot stop a session.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

VERSION: Final = 1
HEADER_LEN: Final = 4

FT_INFO: Final = 0x01
FT_STATUS: Final = 0x02
FT_CALIBRATION: Final = 0x03
FT_SAMPLES: Final = 0x10
FT_TILT: Final = 0x11
FT_EVENT: Final = 0x20
FT_COMMAND: Final = 0x40
FT_ACK: Final = 0x41
FT_RESENT_SAMPLES: Final = 0x12
FT_RESENT_TILT: Final = 0x13

SAMPLE_LEN: Final = 16
TILT_LEN: Final = 4
BATCH_HEADER_LEN: Final = 8
INFO_LEN: Final = 12
STATUS_LEN: Final = 20
CALIBRATION_LEN: Final = 20
EVENT_LEN: Final = 16
ACK_LEN: Final = 10

EV_DROP_CUE: Final = 1
EV_DROP_END: Final = 2
EV_CALIBRATED: Final = 3
EV_FIFO_OVERFLOW: Final = 4
EV_MOVING: Final = 5
EV_RESEND: Final = 6

CMD_CAPTURE_NEUTRAL: Final = 0x01
CMD_SET_DETECTOR: Final = 0x02
CMD_SET_STANCE: Final = 0x03
CMD_CUE: Final = 0x04
CMD_RESEND: Final = 0x05
CMD_CALIBRATE_GYRO: Final = 0x06
CMD_GET_STATUS: Final = 0x07
CMD_SET_MOUNT: Final = 0x08

CAL_NEUTRAL_NEEDED: Final = 0x01  # CALIBRATION flags: this position has no captured neutral

ST_OK: Final = 0
ST_BAD_AUTH: Final = 1
ST_REPLAY: Final = 2
ST_OUT_OF_RANGE: Final = 3
ST_UNKNOWN_COMMAND: Final = 4
ST_BAD_LENGTH: Final = 5
ST_MOVING: Final = 6
ST_UNAVAILABLE: Final = 7

SIDE_NAMES: Final = {0: "either", 1: "left", 2: "right"}

_SAMPLE_DTYPE: Final = np.dtype("<i2")


@dataclass(frozen=True)
class SampleBatch:
    """Consecutive samples from one frame; `raw` is None for tilt-only frames.

    raw columns: ax, ay, az (mg), gx, gy, gz (1/16 deg/s); angles in 0.01 deg.
    `resent` is True for RESENT_SAMPLES / RESENT_TILT frames (answers to a RESEND).
    """

    seq: int
    first_index: int
    tilt_cdeg: NDArray[np.int16]
    obl_cdeg: NDArray[np.int16]
    raw: NDArray[np.int16] | None
    resent: bool = False

    @property
    def count(self) -> int:
        return int(self.tilt_cdeg.shape[0])


@dataclass(frozen=True)
class Event:
    seq: int
    kind: int
    side: int
    index: int
    onset_index: int
    value: int


@dataclass(frozen=True)
class Info:
    seq: int
    firmware: tuple[int, int, int]
    imu_kind: int
    rate_hz: int
    batch: int
    flags: int


@dataclass(frozen=True)
class Status:
    seq: int
    state: int
    stance: int
    battery_mv: int
    fifo_overflows: int
    threshold_cdeg: int
    dwell_ms: int
    release_cdeg: int
    last_index: int


@dataclass(frozen=True)
class Calibration:
    seq: int
    gyro_bias_256dps: tuple[int, int, int]
    up_q14: tuple[int, int, int]
    mount_error_cdeg: int
    position: int
    flags: int = 0

    @property
    def neutral_needed(self) -> bool:
        """No neutral captured for this position (after SET_MOUNT): capture before a drill."""
        return bool(self.flags & CAL_NEUTRAL_NEEDED)


@dataclass(frozen=True)
class Ack:
    seq: int
    command: int
    counter: int
    status: int


Frame = SampleBatch | Event | Info | Status | Calibration | Ack

_BATCH_TYPES: Final = (FT_SAMPLES, FT_TILT, FT_RESENT_SAMPLES, FT_RESENT_TILT)

_FIXED_LENGTHS: Final = {
    FT_INFO: INFO_LEN,
    FT_STATUS: STATUS_LEN,
    FT_CALIBRATION: CALIBRATION_LEN,
    FT_EVENT: EVENT_LEN,
    FT_ACK: ACK_LEN,
}


@dataclass
class Decoder:
    """Turns frame payloads into typed frames; counts what it had to skip."""

    frames_ok: int = 0
    bad: Counter[str] = field(default_factory=Counter)

    @property
    def frames_bad(self) -> int:
        return sum(self.bad.values())

    def _reject(self, reason: str) -> None:
        self.bad[reason] += 1

    def decode(self, data: bytes | bytearray | memoryview) -> Frame | None:
        buf = bytes(data)
        if len(buf) < HEADER_LEN:
            self._reject("truncated")
            return None
        version, ftype, seq = buf[0], buf[1], buf[2] | (buf[3] << 8)
        if version != VERSION:
            self._reject("unknown version")
            return None
        try:
            frame = self._decode_body(ftype, seq, buf)
        except (ValueError, struct.error):
            frame = None
        if frame is None:
            if ftype not in _FIXED_LENGTHS and ftype not in _BATCH_TYPES:
                self._reject("unknown type")
            else:
                self._reject("wrong length")
            return None
        self.frames_ok += 1
        return frame

    def _decode_body(self, ftype: int, seq: int, buf: bytes) -> Frame | None:
        if ftype in _BATCH_TYPES:
            return _decode_batch(ftype, seq, buf)
        want = _FIXED_LENGTHS.get(ftype)
        if want is None or len(buf) != want:
            return None
        if ftype == FT_EVENT:
            kind, side, index, onset, value = struct.unpack_from("<BBIIh", buf, 4)
            return Event(seq, kind, side, index, onset, value)
        if ftype == FT_INFO:
            ma, mi, pa, imu, rate, batch, flags = struct.unpack_from("<BBBBHBB", buf, 4)
            return Info(seq, (ma, mi, pa), imu, rate, batch, flags)
        if ftype == FT_STATUS:
            st, stance, mv, ovf, thr, dwell, rel, last = struct.unpack_from("<BBHHHHHI", buf, 4)
            return Status(seq, st, stance, mv, ovf, thr, dwell, rel, last)
        if ftype == FT_CALIBRATION:
            bx, by, bz, ux, uy, uz, err, pos, flags = struct.unpack_from("<hhhhhhHBB", buf, 4)
            return Calibration(seq, (bx, by, bz), (ux, uy, uz), err, pos, flags)
        cmd, counter, status = struct.unpack_from("<BIB", buf, 4)
        return Ack(seq, cmd, counter, status)


def _decode_batch(ftype: int, seq: int, buf: bytes) -> SampleBatch | None:
    has_raw = ftype in (FT_SAMPLES, FT_RESENT_SAMPLES)
    per = SAMPLE_LEN if has_raw else TILT_LEN
    body = len(buf) - BATCH_HEADER_LEN
    if body < per or body % per:
        return None
    first_index = struct.unpack_from("<I", buf, 4)[0]
    values = np.frombuffer(buf, dtype=_SAMPLE_DTYPE, offset=BATCH_HEADER_LEN)
    rows = values.reshape(-1, per // 2)
    raw = rows[:, :6] if has_raw else None
    resent = ftype in (FT_RESENT_SAMPLES, FT_RESENT_TILT)
    return SampleBatch(seq, first_index, rows[:, -2], rows[:, -1], raw, resent)


def encode_command(command: int, counter: int, args: bytes, tag: bytes, seq: int = 0) -> bytes:
    """COMMAND frame: cmd u8 | counter u32 | args | tag (see docs/protocol.md)."""
    return struct.pack("<BBHBI", VERSION, FT_COMMAND, seq & 0xFFFF, command, counter) + args + tag
