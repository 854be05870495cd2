"""The one interface every link to a belt implements, and the URIs that pick one.

    transport = open_transport("ble:LevelBelt-1A2B")     # or "ble:24:0A:C4:00:1A:2B"
    transport = open_transport("serial:/dev/ttyUSB0")
    transport = open_transport("sim:")   # a simulated belt (sim+ble: over the BLE rig)
    await transport.connect()            # LinkError (one line, says what to try) if not
    frames = await transport.receive()   # >= 1 whole frame payload; LinkLost if it drops
    await transport.send(command_frame)  # one protocol frame (framing is the link's job)
    await transport.disconnect()

A transport moves protocol frames (docs/protocol.md) and nothing else: it does not
decode, retry or reconnect. `receive` raises `LinkLost` once the link is gone, after
handing out every frame that arrived before, so a belt client can tell an outage from a
quiet belt and reconnect by calling `connect` again on the same object.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from levelbelt.errors import ConfigError, LinkError


class LinkLost(LinkError):
    """The link went down (out of range, unplugged, belt reset); connect again."""


class FrameInbox:
    """Frames a link received that `receive` has not handed out yet, in arrival order."""

    def __init__(self) -> None:
        self._frames: deque[bytes] = deque()
        self._arrived = asyncio.Event()

    def append(self, frame: bytes) -> None:
        self._frames.append(frame)
        self._arrived.set()

    def extend(self, frames: Iterable[bytes]) -> None:
        self._frames.extend(frames)
        self._arrived.set()

    def wake(self) -> None:
        """Let a waiting `take` look at the link again (it went down)."""
        self._arrived.set()

    def clear(self) -> None:
        self._frames.clear()

    def reset(self) -> None:
        """Empty, with a fresh event (for a link connected again from another loop)."""
        self._frames.clear()
        self._arrived = asyncio.Event()

    async def take(self, check: Callable[[], None]) -> list[bytes]:
        """Every frame waiting, once there is one; while there is none, `check` raises
        (e.g. `LinkLost`) if the link is down."""
        while not self._frames:
            check()
            self._arrived.clear()
            await self._arrived.wait()
        frames = list(self._frames)
        self._frames.clear()
        return frames


@runtime_checkable
class Transport(Protocol):
    @property
    def uri(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def receive(self) -> list[bytes]: ...

    async def send(self, frame: bytes) -> None: ...

    async def disconnect(self) -> None: ...


SCHEMES = ("ble", "serial", "sim", "sim+ble")
SIM_SCHEMES = ("sim", "sim+ble")  # simulated belts (transports/sim_transport.py)


def parse_uri(uri: str) -> tuple[str, str]:
    """`scheme:target` -> (scheme, target); a ConfigError names what is accepted."""
    scheme, sep, target = uri.partition(":")
    if not sep or scheme not in SCHEMES or not (target or scheme in SIM_SCHEMES):
        raise ConfigError(
            f"unknown belt link {uri!r}: use ble:NAME-OR-ADDRESS (e.g. ble:LevelBelt-1A2B), "
            "serial:PORT (e.g. serial:/dev/ttyUSB0), or sim: / sim+ble: for a simulated belt"
        )
    if scheme in SIM_SCHEMES:
        from levelbelt.transports.sim_transport import parse_seed

        parse_seed(scheme, target)
    return scheme, target


def open_transport(uri: str) -> Transport:
    """The transport for a URI, not yet connected."""
    scheme, target = parse_uri(uri)
    if scheme == "ble":
        from levelbelt.transports.ble_link import BleTransport

        return BleTransport(target)
    if scheme in SIM_SCHEMES:
        from levelbelt.transports.sim_transport import SimBleTransport, SimTransport, parse_seed

        kind = SimTransport if scheme == "sim" else SimBleTransport
        return kind(parse_seed(scheme, target))
    from levelbelt.transports.serial_transport import SerialTransport

    return SerialTransport(target)
