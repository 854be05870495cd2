"""Session file lines: one JSON object per line, each sealed with a CRC-32 of its text.

A line is the compact JSON of a record with `,"crc":"xxxxxxxx"` spliced in before the
closing brace, where the CRC covers the record's JSON without that field. Every line
therefore stays valid JSON (jq, any JSON Lines tool), and a damaged line is caught
before its content is trusted. See docs/session-format.md.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

FORMAT: Final = "levelbelt-session"
SCHEMA_MAJOR: Final = 1
SCHEMA_MINOR: Final = 0
SCHEMA: Final = f"{SCHEMA_MAJOR}.{SCHEMA_MINOR}"
SUFFIX: Final = ".lbs"

K_HEADER: Final = "header"
K_TIME: Final = "time"
K_SAMPLES: Final = "samples"
K_EVENT: Final = "event"
K_GAP: Final = "gap"
K_SCORE: Final = "score"
K_SUMMARY: Final = "summary"
KINDS: Final = frozenset({K_HEADER, K_TIME, K_SAMPLES, K_EVENT, K_GAP, K_SCORE, K_SUMMARY})

LAYOUT_SAMPLES: Final = "s"
"""Block rows are the protocol's SAMPLES record: ax ay az gx gy gz tilt obl, 8 x i16 LE."""
LAYOUT_TILT: Final = "t"
"""Block rows are the protocol's TILT record: tilt obl, 2 x i16 LE (no raw readings)."""
LAYOUT_COLUMNS: Final = {LAYOUT_SAMPLES: 8, LAYOUT_TILT: 2}

SCORE_SCOPES: Final = ("rep", "hold", "side", "session")

UNITS: Final = {
    "index": "device sample index, counted from the IMU FIFO since the belt started",
    "t_s": "seconds: origin t0_s + (index - origin index) / rate_hz, per belt epoch",
    "ax ay az": "mg (0.001 g), sensor frame, specific force",
    "gx gy gz": "1/16 deg/s, sensor frame",
    "tilt": "0.01 deg, pitch of the pelvis from neutral, anterior positive",
    "obl": "0.01 deg, obliquity from neutral, right side higher positive",
}
"""Written into every header so a file explains its own columns (docs/units.md)."""

_CRC_HEAD: Final = b',"crc":"'
_TAIL_LEN: Final = len(_CRC_HEAD) + 8 + 2  # ,"crc":" + 8 hex digits + "}
_HEX: Final = re.compile(rb"[0-9a-f]{8}")
_DUMPS: Final = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=None
)


class LineError(ValueError):
    """A line that cannot be trusted; the message says why (no file or line number)."""


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars/arrays to Python, tuples to lists, NaN/inf to null."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"record keys must be strings, got {k!r}")
            out[k] = _plain(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"cannot store a {type(value).__name__} in a session file: {value!r}")


def encode_line(record: Mapping[str, Any]) -> bytes:
    """One sealed line, newline included. Raises ValueError for data JSON cannot hold."""
    try:
        body = _DUMPS.encode(record)
    except (TypeError, ValueError):
        body = _DUMPS.encode(_plain(record))
    raw = body.encode("utf-8")
    crc = zlib.crc32(raw)
    return b"%s,\"crc\":\"%08x\"}\n" % (raw[:-1], crc)


def decode_line(line: bytes) -> dict[str, Any]:
    """The record of one line (without its newline); LineError if it is not sound."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) < _TAIL_LEN + 2 or not line.endswith(b'"}'):
        raise LineError("no CRC seal (damaged or not a session line)")
    head = len(line) - _TAIL_LEN
    if line[head : head + len(_CRC_HEAD)] != _CRC_HEAD:
        raise LineError("no CRC seal (damaged or not a session line)")
    hex_crc = line[head + len(_CRC_HEAD) : -2]
    if not _HEX.fullmatch(hex_crc):
        raise LineError("CRC field damaged")
    body = line[:head] + b"}"
    if zlib.crc32(body) != int(hex_crc, 16):
        raise LineError("CRC mismatch (the line was damaged)")
    try:
        record = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LineError(f"CRC matches but the JSON does not parse ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("k"), str):
        raise LineError("not a record (no kind)")
    return record


def parse_schema(value: object) -> tuple[int, int] | None:
    """(major, minor) from "M.m"; None when the value is not a schema version."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", value)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2))
