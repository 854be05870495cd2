"""The belt's settings in one small file, validated on load and written atomically.

    s = load(path)       never raises: a missing, corrupt or out-of-range file gives the
                         factory defaults, with `s.status` and `s.reason` saying why
                         (path "": settings kept in memory only, never written)
    s.save()             None, or a one-line reason when the flash refused (nothing lost:
                         the previous file is still there)
    s.save_detector(det)     copy a detector's per-side settings and stance, then save
    s.save_calibration(p)    copy a pipeline's gyro bias and per-position neutrals, save
    s.save_mount(text)       a new mount (SET_MOUNT): drop the neutrals, save
    s.apply(p)           put the settings into a pipeline (detector, mount, calibration)

What is kept: stance, sample rate, mount, each stance side's detector settings, the gyro
bias and the neutral up vector of each position (standing, seated, prone) with the
position last used. Saves happen on command only (new detector settings, a new mount, a
completed calibration), never on the sample path and never during start-up.

File: a fixed 56-byte little-endian record ending in a CRC-16/CCITT-FALSE of the rest
(the protocol's CRC):

    0  4s  magic b"LBS1"          30  3h  gyro bias x, y, z (1/256 deg/s)
    4  B   format 1               36  9h  neutral up x, y, z (Q14) for positions 0, 1, 2
    5  B   stance 0..3            54  H   CRC of bytes 0..53
    6  H   rate_hz 100 | 200
    8  4s  mount, e.g. b"+x+y"
    12 B   position 0..2
    13 B   flags: bit 0 bias valid, bits 1..3 neutral of position 0..2 valid
    14 4H  left-stance detector: threshold (0.01 deg), dwell ms, release (0.01 deg), lockout ms
    22 4H  right-stance detector, the same

Atomic write: the record goes to `<path>.new`, which is then renamed over `<path>`. A
power cut before the rename leaves the old file; after it, the new one. A filesystem
whose rename cannot replace a file (FAT) gets the old one removed first; a cut between
the remove and the rename leaves only `<path>.new`, which `load` then uses.
"""

import os
import struct
from errno import EEXIST

from belt import detector as _det
from belt.align import MOUNT_DEFAULT, parse_mount
from belt.fixedmath import ONE
from belt.pipeline import POSITIONS  # 0 standing, 1 seated, 2 prone
from belt.protocol import crc16

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

PATH = "/belt.cfg"
MAGIC = b"LBS1"
FORMAT = const(1)
SIZE = const(56)
_LAYOUT = "<4sBBH4sBB4H4H3h9h"  # everything before the CRC (54 bytes)

LOADED = const(0)  # read and valid
MISSING = const(1)  # no file yet: factory defaults (first start)
CORRUPT = const(2)  # unreadable (size, magic, format or CRC): factory defaults
INVALID = const(3)  # intact but a value is out of range: factory defaults

RATES_HZ = (100, 200)
BIAS_MAX = const(5120)  # 20 deg/s in 1/256 deg/s: beyond that it is not a bias
_NORM_TOL = ONE * ONE // 10  # |up|^2 within 10 % of 1


class Files:
    """The filesystem calls settings need; tests hand in one that fails on purpose."""

    def open(self, path, mode):
        return open(path, mode)

    def rename(self, old, new):
        os.rename(old, new)

    def remove(self, path):
        os.remove(path)

    def sync(self):
        sync = getattr(os, "sync", None)
        if sync is not None:
            sync()


class Settings:
    """Factory defaults until loaded; attributes as in the module docstring."""

    def __init__(self, path=PATH, files=None):
        self.path = path
        self.files = files if files is not None else Files()
        self.status = MISSING
        self.reason = None
        self.stance = _det.SIDE_EITHER
        self.rate_hz = 100
        self.mount = MOUNT_DEFAULT
        self.position = 0
        d = [_det.DEFAULT_THRESHOLD_CDEG, _det.DEFAULT_DWELL_MS, _det.DEFAULT_RELEASE_CDEG,
             _det.DEFAULT_LOCKOUT_MS]
        self.detector = [list(d), list(d)]  # left stance, right stance
        self.bias = [0, 0, 0]
        self.bias_ok = False
        self.neutral = [[0, 0, 0] for _ in range(POSITIONS)]
        self.neutral_ok = [False] * POSITIONS
        self.saves = 0

    # --- checking and the byte record ------------------------------------------------

    def check(self):
        """None when every value is in range, else the first problem found."""
        if self.rate_hz not in RATES_HZ:
            return "rate %d Hz (100 or 200)" % self.rate_hz
        try:
            parse_mount(self.mount)
        except ValueError as e:
            return str(e)
        if not 0 <= self.position < POSITIONS:
            return "position %d (0..2)" % self.position
        reason = _det.check_stance(self.stance)
        if reason is not None:
            return reason
        for side in (0, 1):
            c = self.detector[side]
            reason = _det.check_config(c[0], c[1], c[2], side + 1, c[3])
            if reason is not None:
                return ("left" if side == 0 else "right") + " stance: " + reason
        if self.bias_ok:
            for v in self.bias:
                if not -BIAS_MAX <= v <= BIAS_MAX:
                    return "gyro bias %d beyond 20 deg/s" % v
        for p in range(POSITIONS):
            if self.neutral_ok[p]:
                u = self.neutral[p]
                n2 = u[0] * u[0] + u[1] * u[1] + u[2] * u[2]
                if abs(n2 - ONE * ONE) > _NORM_TOL:
                    return "neutral of position %d is not a unit vector" % p
        return None

    def encode(self):
        """The record as bytes (CRC included)."""
        buf = bytearray(SIZE)
        flags = 1 if self.bias_ok else 0
        for p in range(POSITIONS):
            if self.neutral_ok[p]:
                flags |= 2 << p
        L = self.detector[0]
        R = self.detector[1]
        n = self.neutral
        struct.pack_into(
            _LAYOUT, buf, 0, MAGIC, FORMAT, self.stance, self.rate_hz,
            self.mount.encode(), self.position, flags,
            L[0], L[1], L[2], L[3], R[0], R[1], R[2], R[3],
            self.bias[0], self.bias[1], self.bias[2],
            n[0][0], n[0][1], n[0][2], n[1][0], n[1][1], n[1][2], n[2][0], n[2][1], n[2][2],
        )
        struct.pack_into("<H", buf, SIZE - 2, crc16(buf, SIZE - 2))
        return bytes(buf)

    def decode(self, data):
        """Fill from a record; returns None, or (status, reason) when it is refused (and
        then nothing here has changed)."""
        if len(data) != SIZE:
            return CORRUPT, "settings file is %d bytes, not %d" % (len(data), SIZE)
        if struct.unpack_from("<H", data, SIZE - 2)[0] != crc16(data, SIZE - 2):
            return CORRUPT, "settings file fails its CRC"
        v = struct.unpack_from(_LAYOUT, data, 0)
        if v[0] != MAGIC or v[1] != FORMAT:
            return CORRUPT, "settings file is not format %d" % FORMAT
        trial = Settings(self.path, self.files)
        trial.stance = v[2]
        trial.rate_hz = v[3]
        try:
            trial.mount = v[4].decode()
        except UnicodeError:
            return INVALID, "settings mount is not text"
        trial.position = v[5]
        flags = v[6]
        trial.detector = [list(v[7:11]), list(v[11:15])]
        trial.bias = list(v[15:18])
        trial.bias_ok = bool(flags & 1)
        for p in range(POSITIONS):
            trial.neutral[p] = list(v[18 + 3 * p:21 + 3 * p])
            trial.neutral_ok[p] = bool(flags & (2 << p))
        reason = trial.check()
        if reason is not None:
            return INVALID, "settings out of range: " + reason
        for name in ("stance", "rate_hz", "mount", "position", "detector", "bias",
                     "bias_ok", "neutral", "neutral_ok"):
            setattr(self, name, getattr(trial, name))
        return None

    # --- the file ----------------------------------------------------------------------

    def _read(self, path):
        f = self.files.open(path, "rb")
        try:
            return f.read(SIZE + 1)
        finally:
            f.close()

    def load(self):
        """Read `path` (or `path.new` when `path` is missing or bad); see `load()`."""
        if not self.path:
            return self
        first = None
        for candidate in (self.path, self.path + ".new"):
            try:
                data = self._read(candidate)
            except OSError:
                continue  # not there
            refused = self.decode(data)
            if refused is None:
                self.status = LOADED
                self.reason = None
                return self
            if first is None:
                first = refused
        if first is None:
            self.status = MISSING
            self.reason = None
        else:
            self.status, self.reason = first
        return self

    def save(self):
        """Write atomically; None on success, else a one-line reason (old file kept)."""
        reason = self.check()
        if reason is not None:
            return "settings not saved: " + reason
        if not self.path:  # settings kept in memory only (tests, tools)
            self.saves += 1
            return None
        data = self.encode()
        tmp = self.path + ".new"
        fs = self.files
        try:
            f = fs.open(tmp, "wb")
            try:
                f.write(data)
            finally:
                f.close()
            fs.sync()
            try:
                fs.rename(tmp, self.path)
            except OSError as e:
                if not e.args or e.args[0] != EEXIST:
                    raise
                # A filesystem that cannot rename over a file: remove, then rename. A cut
                # in between leaves only the .new file, which load() accepts.
                fs.remove(self.path)
                fs.rename(tmp, self.path)
            fs.sync()
        except OSError as e:
            return "settings not saved (OSError %s)" % (e.args[0] if e.args else "?")
        self.status = LOADED
        self.reason = None
        self.saves += 1
        return None

    # --- to and from the belt's objects ------------------------------------------------

    def save_detector(self, det):
        """Keep a detector's per-side settings and stance; returns save()'s result."""
        for side in (0, 1):
            c = det.cfg[side]
            for i in range(4):
                self.detector[side][i] = c[i]
        self.stance = det.stance
        return self.save()

    def save_calibration(self, pipeline):
        """Keep a pipeline's gyro bias and per-position neutrals; returns save()'s result."""
        f = pipeline.filter
        self.bias[0] = f.bias_x
        self.bias[1] = f.bias_y
        self.bias[2] = f.bias_z
        self.bias_ok = True
        for p in range(POSITIONS):
            self.neutral_ok[p] = pipeline.neutral_ok[p]
            for i in range(3):
                self.neutral[p][i] = pipeline.neutral[p][i]
        self.position = pipeline.position
        self.mount = pipeline.align.mount
        return self.save()

    def save_mount(self, mount):
        """Keep a new mount (SET_MOUNT). The stored neutrals belonged to the old one and
        are dropped (the gyro bias stays), so the next start takes a still-start neutral.
        Returns save()'s result; when it fails nothing here has changed."""
        old_mount = self.mount
        old_ok = list(self.neutral_ok)
        self.mount = mount
        for p in range(POSITIONS):
            self.neutral_ok[p] = False
        reason = self.save()
        if reason is not None:
            self.mount = old_mount
            for p in range(POSITIONS):
                self.neutral_ok[p] = old_ok[p]
        return reason

    def apply(self, pipeline):
        """Detector settings, mount and the stored calibration into `pipeline`."""
        det = pipeline.detector
        for side in (0, 1):
            c = self.detector[side]
            det.configure(c[0], c[1], c[2], side + 1, c[3])
        det.set_stance(self.stance)
        if pipeline.align.mount != self.mount:
            pipeline.align.set_mount(self.mount)
        if self.bias_ok:
            pipeline.restore(self.bias, self.neutral, self.neutral_ok, self.position)


def load(path=PATH, files=None):
    """Settings from `path`: the stored ones, or factory defaults with the reason."""
    return Settings(path, files).load()
