"""Wire protocol v1: IDs (never reused), frame encoders and the USB framing.

Byte layouts are specified in docs/protocol.md. Every frame starts with
version u8 | type u8 | seq u16, little-endian throughout. Encoders write into
preallocated buffers and hand out preallocated memoryviews, so streaming allocates
nothing per sample.
"""

import struct
from array import array

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

VERSION = const(1)
HEADER_LEN = const(4)

# Frame types. Retired IDs stay listed here and are never reused.
FT_INFO = const(0x01)
FT_STATUS = const(0x02)
FT_CALIBRATION = const(0x03)
FT_SAMPLES = const(0x10)  # raw canonical IMU sample + tilt + obliquity
FT_TILT = const(0x11)  # tilt + obliquity only (for a 20-byte payload)
FT_EVENT = const(0x20)
FT_COMMAND = const(0x40)
FT_ACK = const(0x41)
FT_RESENT_SAMPLES = const(0x12)  # SAMPLES layout, answering a RESEND command
FT_RESENT_TILT = const(0x13)  # TILT layout, answering a RESEND command

SAMPLE_LEN = const(16)
TILT_LEN = const(4)
BATCH_HEADER_LEN = const(8)
INFO_LEN = const(12)
STATUS_LEN = const(20)
CALIBRATION_LEN = const(20)
EVENT_LEN = const(16)
ACK_LEN = const(10)

# Event kinds.
EV_DROP_CUE = const(1)
EV_DROP_END = const(2)
EV_CALIBRATED = const(3)
EV_FIFO_OVERFLOW = const(4)
EV_MOVING = const(5)  # calibration refused: not still
EV_RESEND = const(6)  # a RESEND was accepted: value = samples that will be re-sent

# Command IDs (host -> belt) and status codes (belt -> host in ACK).
CMD_CAPTURE_NEUTRAL = const(0x01)
CMD_SET_DETECTOR = const(0x02)
CMD_SET_STANCE = const(0x03)
CMD_CUE = const(0x04)
CMD_RESEND = const(0x05)
CMD_CALIBRATE_GYRO = const(0x06)
CMD_GET_STATUS = const(0x07)
CMD_SET_MOUNT = const(0x08)

# CALIBRATION flags (byte 19).
CAL_NEUTRAL_NEEDED = const(0x01)  # this position has no captured neutral (e.g. after SET_MOUNT)

ST_OK = const(0)
ST_BAD_AUTH = const(1)
ST_REPLAY = const(2)
ST_OUT_OF_RANGE = const(3)
ST_UNKNOWN_COMMAND = const(4)
ST_BAD_LENGTH = const(5)
ST_MOVING = const(6)
ST_UNAVAILABLE = const(7)

BLE_DEFAULT_PAYLOAD = const(20)  # ATT MTU 23 minus the 3-byte notification header


def put_u16(buf, off, v):
    buf[off] = v & 0xFF
    buf[off + 1] = (v >> 8) & 0xFF


def put_u32(buf, off, v):
    buf[off] = v & 0xFF
    buf[off + 1] = (v >> 8) & 0xFF
    buf[off + 2] = (v >> 16) & 0xFF
    buf[off + 3] = (v >> 24) & 0xFF


def get_u16(buf, off):
    return buf[off] | (buf[off + 1] << 8)


def get_u32(buf, off):
    return buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)


def get_i16(buf, off):
    v = buf[off] | (buf[off + 1] << 8)
    return v - 0x10000 if v & 0x8000 else v


def samples_per_frame(payload, raw):
    """How many samples fit one frame of at most `payload` bytes (0 if none)."""
    per = SAMPLE_LEN if raw else TILT_LEN
    n = (payload - BATCH_HEADER_LEN) // per
    return n if n > 0 else 0


class FrameEncoder:
    """Builds frames for one link; `seq` counts every frame sent on it."""

    def __init__(self, send, batch, raw=True):
        self.send = send
        self.seq = 0
        self._event = bytearray(EVENT_LEN)
        self._event_view = memoryview(self._event)
        self._small = bytearray(STATUS_LEN)
        self._small_mv = memoryview(self._small)
        self.configure(batch, raw)

    def configure(self, batch, raw):
        """Batch size and sample form; call when the link's payload size changes."""
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.raw = raw
        self.batch = batch
        per = SAMPLE_LEN if raw else TILT_LEN
        self._per = per
        self._buf = bytearray(BATCH_HEADER_LEN + per * batch)
        self._view = memoryview(self._buf)
        # One view per partial length, so closing a batch early (at a gap) allocates nothing.
        self._partial = [self._view[: BATCH_HEADER_LEN + per * k] for k in range(batch + 1)]
        self._count = 0
        self._next = 0

    def _header(self, buf, ftype):
        buf[0] = VERSION
        buf[1] = ftype
        put_u16(buf, 2, self.seq)
        self.seq = (self.seq + 1) & 0xFFFF

    def add_sample(self, index, ax, ay, az, gx, gy, gz, tilt, obl):
        """Append one sample; sends the frame when the batch is full.

        A batch holds consecutive indices only, so a gap (FIFO overflow) first sends
        the part-filled batch; the gap then shows as a jump in `first_index`.
        """
        if self._count and index != self._next:
            self.flush()
        self._next = index + 1
        buf = self._buf
        if self._count == 0:
            put_u32(buf, 4, index)
        o = BATCH_HEADER_LEN + self._count * self._per
        # pack_into writes in place (no allocation) at a third of the cost of byte stores.
        if self.raw:
            struct.pack_into("<8h", buf, o, ax, ay, az, gx, gy, gz, tilt, obl)
        else:
            struct.pack_into("<2h", buf, o, tilt, obl)
        self._count += 1
        if self._count == self.batch:
            self._header(buf, FT_SAMPLES if self.raw else FT_TILT)
            self._count = 0
            self.send(self._view)

    def flush(self):
        """Send a part-filled batch (at a gap in indices or at the end of a stream)."""
        if self._count:
            n = self._count
            self._count = 0
            self._header(self._buf, FT_SAMPLES if self.raw else FT_TILT)
            self.send(self._partial[n])

    def event(self, kind, side, index, onset_index, value):
        buf = self._event
        self._header(buf, FT_EVENT)
        buf[4] = kind
        buf[5] = side
        put_u32(buf, 6, index)
        put_u32(buf, 10, onset_index)
        put_u16(buf, 14, value)
        self.send(self._event_view)

    def info(self, version, imu_kind, rate_hz, batch, flags):
        buf = self._small
        self._header(buf, FT_INFO)
        buf[4] = version[0]
        buf[5] = version[1]
        buf[6] = version[2]
        buf[7] = imu_kind
        put_u16(buf, 8, rate_hz)
        buf[10] = batch
        buf[11] = flags
        self.send(self._small_mv[:INFO_LEN])

    def status(self, state, stance, battery_mv, fifo_overflows, threshold_cdeg, dwell_ms,
               release_cdeg, last_index):
        buf = self._small
        self._header(buf, FT_STATUS)
        buf[4] = state
        buf[5] = stance
        put_u16(buf, 6, battery_mv)
        put_u16(buf, 8, fifo_overflows)
        put_u16(buf, 10, threshold_cdeg)
        put_u16(buf, 12, dwell_ms)
        put_u16(buf, 14, release_cdeg)
        put_u32(buf, 16, last_index)
        self.send(self._small_mv)

    def calibration(self, bias, up, mount_error_cdeg, position, flags=0):
        buf = self._small
        self._header(buf, FT_CALIBRATION)
        for i in range(3):
            put_u16(buf, 4 + 2 * i, bias[i])
            put_u16(buf, 10 + 2 * i, up[i])
        put_u16(buf, 16, mount_error_cdeg)
        buf[18] = position
        buf[19] = flags
        self.send(self._small_mv)

    def ack(self, cmd, counter, status):
        buf = self._small
        self._header(buf, FT_ACK)
        buf[4] = cmd
        put_u32(buf, 5, counter)
        buf[9] = status
        self.send(self._small_mv[:ACK_LEN])


def _crc_table():
    t = array("H", [0] * 256)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


CRC_TABLE = _crc_table()


def crc16(data, n):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of data[0:n]."""
    crc = 0xFFFF
    t = CRC_TABLE
    for i in range(n):
        crc = ((crc << 8) & 0xFFFF) ^ t[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


class UsbFramer:
    """COBS(frame + CRC16 LE) + 0x00 for the USB serial link.

    For frames under 254 bytes COBS adds exactly one byte, so each frame length maps to
    one output length and one preallocated view.
    """

    MAX_FRAME = 250

    def __init__(self, write):
        self.write = write
        self._out = bytearray(self.MAX_FRAME + 4)
        self._views = {}

    def send(self, frame):
        n = len(frame)
        if n > self.MAX_FRAME:
            raise ValueError("frame too long for USB framing")
        # One pass over the frame: the CRC (as `crc16`) and the COBS encoding together.
        # A code byte holds the distance to the next zero, o - code_at.
        t = CRC_TABLE
        crc = 0xFFFF
        out = self._out
        code_at = 0
        o = 1
        for b in frame:
            crc = ((crc << 8) & 0xFFFF) ^ t[((crc >> 8) ^ b) & 0xFF]
            if b:
                out[o] = b
            else:
                out[code_at] = o - code_at
                code_at = o
            o += 1
        b = crc & 0xFF  # the CRC trailer, little-endian
        if b:
            out[o] = b
        else:
            out[code_at] = o - code_at
            code_at = o
        o += 1
        b = crc >> 8
        if b:
            out[o] = b
        else:
            out[code_at] = o - code_at
            code_at = o
        o += 1
        out[code_at] = o - code_at
        out[o] = 0
        o += 1
        view = self._views.get(o)
        if view is None:
            view = memoryview(out)[:o]
            self._views[o] = view
        self.write(view)
