"""Signing COMMAND frames for a belt: HMAC-SHA256 tag and an increasing counter.

The tag is the first 16 bytes of HMAC-SHA256(belt key, every frame byte before the tag);
the belt accepts a counter only above every counter it accepted before, across its
reboots (docs/protocol.md). The host has no shared memory with the belt, so its counter
starts from the clock (seconds since 1970, which only grows) and otherwise counts up;
when the belt answers REPLAY its ACK carries the belt's last counter, and the host goes
on from there (`CommandCounter.resync`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

from levelbelt import protocol as p

TAG_LEN: Final = 16
KEY_LEN: Final = 32
COUNTER_MAX: Final = 0xFFFFFFFF


def tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:TAG_LEN]


def sign_command(key: bytes, command: int, counter: int, args: bytes = b"", seq: int = 0) -> bytes:
    """A complete COMMAND frame: header, command, counter, args, tag."""
    body = p.encode_command(command, counter, args, b"", seq)
    return body + tag(key, body)


class CommandCounter:
    """The next counter to use for one belt."""

    def __init__(self, start: int | None = None) -> None:
        self._next = int(time.time()) if start is None else start

    def take(self) -> int:
        value = self._next
        if value > COUNTER_MAX:
            raise OverflowError("command counter exhausted for this belt key")
        self._next = value + 1
        return value

    def resync(self, belt_last: int) -> None:
        """The belt said REPLAY and reported its last counter: continue above it."""
        self._next = max(self._next, belt_last + 1)
