"""USB serial framing: COBS(frame + CRC-16/CCITT-FALSE LE) terminated by 0x00.

The deframer resynchronises on the next 0x00 after any damage and counts what it
dropped, so a glitch on the cable costs one frame, never the stream.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_FRAME = 250


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        table.append(c & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def cobs_encode(data: bytes) -> bytes:
    out = bytearray([0])
    code_at, code = 0, 1
    for b in data:
        if b == 0 or code == 0xFF:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
            if b == 0:
                continue
        out.append(b)
        code += 1
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Inverse of cobs_encode; None when the block is not valid COBS."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        out += data[i + 1 : i + code]
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def wrap(frame: bytes) -> bytes:
    """Frame as it travels on USB."""
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes exceeds {MAX_FRAME}")
    crc = crc16(frame)
    return cobs_encode(frame + bytes((crc & 0xFF, crc >> 8))) + b"\x00"


@dataclass
class Deframer:
    """Feed raw serial bytes, get whole checked frames back."""

    bad: Counter[str] = field(default_factory=Counter)
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        self._pending += data
        while True:
            end = self._pending.find(0)
            if end < 0:
                if len(self._pending) > 2 * MAX_FRAME:
                    self.bad["oversize"] += 1
                    self._pending.clear()
                break
            block = bytes(self._pending[:end])
            del self._pending[: end + 1]
            if not block:
                continue
            frame = self._unwrap(block)
            if frame is not None:
                frames.append(frame)
        return frames

    def _unwrap(self, block: bytes) -> bytes | None:
        decoded = cobs_decode(block)
        if decoded is None or len(decoded) < 3:
            self.bad["bad cobs"] += 1
            return None
        body, tail = decoded[:-2], decoded[-2:]
        if crc16(body) != tail[0] | (tail[1] << 8):
            self.bad["bad crc"] += 1
            return None
        return body
