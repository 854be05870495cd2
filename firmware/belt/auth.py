"""Command authentication: HMAC-SHA256 tags with the per-belt key and a replay counter.

MicroPython has `hashlib.sha256` but no `hmac`, so HMAC is built here as RFC 2104 says:
    HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m))
with K0 the key zero-padded to the 64-byte block (hashed first if longer). The two padded
keys are computed once when the key is loaded. A COMMAND's tag is the first 16 bytes of
HMAC-SHA256(key, every frame byte before the tag) (docs/protocol.md), compared in
constant time so the time taken says nothing about how many bytes matched.

Replays: the counter of an accepted command must be above every counter accepted
before, across reboots too. Writing the counter to flash on every command would wear it
and slow each command, so the belt reserves counters in blocks: before accepting a
counter above the reserved mark it writes a new mark (counter + COUNTER_BLOCK - 1) to
`/belt.ctr`, atomically (write `/belt.ctr.new`, then rename). After a reboot everything
up to the stored mark counts as used, so at most one flash write per COUNTER_BLOCK
commands plus one after each boot; a host that meets REPLAY continues above the counter
the ACK reports.
"""

import hashlib
import os

from belt import protocol as _p

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

KEY_PATH = "/belt.key"
COUNTER_PATH = "/belt.ctr"
KEY_LEN = const(32)
TAG_LEN = const(16)
BLOCK = const(64)  # SHA-256 block size
COUNTER_BLOCK = const(256)
COUNTER_MAX = const(0xFFFFFFFF)
_MASK = const(0xFFFFFFFF)


class Hmac:
    """HMAC-SHA256 with one key (RFC 2104)."""

    def __init__(self, key):
        if len(key) > BLOCK:
            key = hashlib.sha256(key).digest()
        self._ipad = bytearray(BLOCK)
        self._opad = bytearray(BLOCK)
        n = len(key)
        for i in range(BLOCK):
            k = key[i] if i < n else 0
            self._ipad[i] = k ^ 0x36
            self._opad[i] = k ^ 0x5C

    def digest(self, msg):
        """The 32-byte MAC of `msg` (any buffer)."""
        h = hashlib.sha256(self._ipad)
        h.update(msg)
        inner = h.digest()
        h = hashlib.sha256(self._opad)
        h.update(inner)
        return h.digest()

    def verify(self, msg, tag, tag_off, n=TAG_LEN):
        """True when tag[tag_off:tag_off + n] is the first n bytes of the MAC of msg."""
        return same(self.digest(msg), 0, tag, tag_off, n)


def same(a, a_off, b, b_off, n):
    """Constant-time comparison of n bytes: every byte is looked at, whatever differs."""
    diff = 0
    for i in range(n):
        diff |= a[a_off + i] ^ b[b_off + i]
    return diff == 0


def hmac_sha256(key, msg):
    return Hmac(key).digest(msg)


def load_key(path=KEY_PATH):
    """(key, None) for a valid key file, else (None, reason for the console)."""
    try:
        with open(path, "rb") as f:
            key = f.read(KEY_LEN + 1)
    except OSError:
        return None, "no key provisioned (%s missing): run `levelbelt device provision`" % path
    if len(key) != KEY_LEN:
        return None, "%s holds %d bytes, expected %d: provision the belt again" % (
            path, len(key), KEY_LEN)
    return key, None


def _read_mark(path):
    """The counter mark stored at `path`, or -1 when missing or damaged."""
    try:
        with open(path, "rb") as f:
            b = f.read(9)
    except OSError:
        return -1
    if len(b) != 8:
        return -1
    v = _p.get_u32(b, 0)
    if _p.get_u32(b, 4) != v ^ _MASK:
        return -1
    return v


def write_atomic(path, data):
    """Write a whole file so that a reset at any moment leaves the old or the new one."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.rename(tmp, path)
    except OSError:  # a filesystem that does not replace on rename (FAT)
        os.remove(path)
        os.rename(tmp, path)


class CounterGuard:
    """Accepts strictly increasing counters; persists a reserved mark in blocks."""

    def __init__(self, path=COUNTER_PATH, block=COUNTER_BLOCK):
        self.path = path
        self.block = block
        self.writes = 0
        # A reset between writing `.new` and the rename leaves the mark in `.new`.
        mark = _read_mark(path)
        other = _read_mark(path + ".new")
        if other > mark:
            mark = other
        self.damaged = mark < 0 and _exists(path)
        if mark < 0:
            mark = 0
        self.last = mark  # every counter up to here counts as used
        self.reserved = mark

    def accept(self, counter):
        """ST_OK (and the counter is used up), ST_REPLAY, or ST_UNAVAILABLE when the
        mark cannot be written (accepting then would re-open replays after a reboot)."""
        if counter <= self.last:
            return _p.ST_REPLAY
        if counter > self.reserved:
            mark = counter + self.block - 1
            if mark > COUNTER_MAX:
                mark = COUNTER_MAX
            b = bytearray(8)
            _p.put_u32(b, 0, mark)
            _p.put_u32(b, 4, mark ^ _MASK)
            try:
                write_atomic(self.path, b)
            except OSError:
                return _p.ST_UNAVAILABLE
            self.writes += 1
            self.reserved = mark
        self.last = counter
        return _p.ST_OK


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Auth:
    """Checks a COMMAND frame's tag and counter: ST_OK, ST_BAD_AUTH, ST_REPLAY, ...

    Without a valid key file every command is refused with BAD_AUTH; `reason` says why
    for the console.
    """

    def __init__(self, key_path=KEY_PATH, counter_path=COUNTER_PATH, block=COUNTER_BLOCK):
        key, self.reason = load_key(key_path)
        self.mac = Hmac(key) if key is not None else None
        self.counter = CounterGuard(counter_path, block)

    def check(self, frame, n):
        """`frame[:n]` is a whole COMMAND frame (at least header, cmd, counter, tag)."""
        if self.mac is None or n < _p.HEADER_LEN + 5 + TAG_LEN:
            return _p.ST_BAD_AUTH
        body = n - TAG_LEN
        if not self.mac.verify(memoryview(frame)[:body], frame, body):
            return _p.ST_BAD_AUTH
        return self.counter.accept(_p.get_u32(frame, 5))
