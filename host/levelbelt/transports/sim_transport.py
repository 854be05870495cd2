"""Simulated belts behind the `Transport` interface: `sim:` (USB) and `sim+ble:` (BLE).

    sim:[SEED]      the belt firmware on a simulated board (sim/board.py), its USB
                    bytes deframed exactly as from a serial port; commands go to the
                    firmware's USB command path
    sim+ble:[SEED]  the same board with the BLE rig's radio (levelbelt.blerig: Bumble's
                    host stack on a simulated radio) running the firmware's BLE
                    peripheral, reached through the host's own bleak transport

SEED (default 1) picks the simulated athlete. Each transport provisions its belt with
a fresh random key, exposed as `key`, so a client can sign commands (RESEND, stance,
neutral capture) as with a real belt. Everything runs in the event loop that calls
`connect()`; the belt boots on the first `connect()` and keeps running (and sampling)
while disconnected, as a belt on its battery does, until `close()` or the loop ends.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any, Final

from levelbelt.errors import ConfigError, LinkError
from levelbelt.framing import Deframer
from levelbelt.sim.board import SimBoardBelt, Ticker
from levelbelt.transports.transport import FrameInbox, LinkLost

KEY_LEN: Final = 32
LOOP_S: Final = 0.005  # the firmware's main loop period (belt.app.LOOP_MS)
BELT_OUI: Final = "24:0A:C4"  # Espressif


def parse_seed(scheme: str, target: str) -> int:
    """`sim:` / `sim:7`: the simulated athlete's seed; a ConfigError says what is taken."""
    if not target:
        return 1
    if target.isdigit() and 0 < int(target) < 65536:
        return int(target)
    raise ConfigError(
        f"unknown simulated belt {scheme}:{target}: use {scheme}: or {scheme}:SEED "
        "(a number from 1 to 65535 picking the simulated athlete)"
    )


class SimTransport:
    """A simulated belt on USB; implements `Transport`."""

    def __init__(self, seed: int = 1, **belt_options: Any) -> None:
        self.seed = seed
        self.key = os.urandom(KEY_LEN)
        self._options = belt_options
        self.belt: SimBoardBelt | None = None
        self._received = FrameInbox()
        self._ticker = Ticker(self._service, LOOP_S)
        self._ticker.on_error = lambda _: self._received.wake()
        self._inbox: deque[bytes] = deque()
        self._deframer = Deframer()
        self._attached = False
        self._unplugged = False
        self._stalled = False
        self.connects = 0

    @property
    def uri(self) -> str:
        return f"sim:{self.seed}"

    @property
    def connected(self) -> bool:
        return self._attached and self._ticker.error is None

    async def connect(self) -> None:
        if self.connected and self.belt is not None:
            return
        if self._ticker.error is not None:
            raise self._ticker.error  # the firmware crashed: a bug, not a link problem
        if self._unplugged:
            raise LinkError(f"{self.uri}: the simulated belt's cable is unplugged")
        self._received.reset()
        self._deframer = Deframer()  # the port opens mid-stream: resynchronise
        self._attached = True
        if self.belt is None:  # plugged in at power-on: the host sees the boot's INFO
            self.belt = SimBoardBelt(self.key, self._usb_out, seed=self.seed, **self._options)
        self._ticker.start()
        self.connects += 1

    def _service(self) -> None:
        assert self.belt is not None
        if self._stalled:
            return
        while self._inbox:
            self.belt.usb_command(self._inbox.popleft())
        self.belt.service()

    def _usb_out(self, data: bytes) -> None:
        if self._attached:
            frames = self._deframer.feed(data)
            if frames:
                self._received.extend(frames)

    def _check_up(self) -> None:
        if self._ticker.error is not None:
            raise self._ticker.error
        if not self.connected:
            raise LinkLost(f"{self.uri}: not connected")

    async def receive(self) -> list[bytes]:
        return await self._received.take(self._check_up)

    async def send(self, frame: bytes) -> None:
        if not self.connected:
            raise LinkLost(f"{self.uri}: not connected")
        self._inbox.append(bytes(frame))  # handled in the belt's next loop pass

    async def disconnect(self) -> None:
        self._attached = False
        self._received.clear()
        self._inbox.clear()
        self._received.wake()

    async def unplug(self, seconds: float) -> None:
        """Pull the cable for `seconds` (the belt runs on), then plug it back in."""
        self._unplugged = True
        await self.disconnect()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._unplugged = False

    async def stall(self, seconds: float) -> None:
        """Freeze the belt's main loop for `seconds`; its IMU samples on into the FIFO."""
        self._stalled = True
        try:
            await asyncio.sleep(seconds)
        finally:
            self._stalled = False

    async def close(self) -> None:
        """Power the simulated belt off and forget it."""
        await self.disconnect()
        self._ticker.stop()
        if self.belt is not None:
            self.belt.close()
            self.belt = None


class SimBleTransport:
    """A simulated belt over the BLE rig, through the host's bleak transport; implements
    `Transport` (and has the BLE transport's `mtu`, `rssi`, `battery_percent`)."""

    def __init__(self, seed: int = 1, **belt_options: Any) -> None:
        self.seed = seed
        self.key = os.urandom(KEY_LEN)
        self._options = belt_options
        self.belt: SimBoardBelt | None = None
        self.rig: Any = None  # levelbelt.blerig.BleRig, made in the loop that connects
        self.board: Any = None
        self.link: Any = None  # the BleTransport to the belt
        self._ticker = Ticker(self._service, LOOP_S)

    @property
    def uri(self) -> str:
        return f"sim+ble:{self.seed}"

    @property
    def connected(self) -> bool:
        return self.link is not None and bool(self.link.connected) and self._ticker.running

    @property
    def mtu(self) -> int | None:
        return int(self.link.mtu) if self.link is not None else None

    @property
    def rssi(self) -> int | None:
        return self.link.rssi if self.link is not None else None

    @property
    def battery_percent(self) -> int | None:
        return self.link.battery_percent if self.link is not None else None

    async def _power_on(self) -> None:
        from levelbelt.blerig import BleRig
        from levelbelt.transports.ble_link import BleTransport

        self.rig = BleRig()
        address = f"{BELT_OUI}:00:{self.seed >> 8:02X}:{self.seed & 0xFF:02X}"
        self.board = await self.rig.add_peripheral(address)
        central = await self.rig.add_central()
        self.belt = SimBoardBelt(self.key, _nobody_on_usb, seed=self.seed, radio=self.board,
                                 **self._options)
        self.link = BleTransport(
            str(self.belt.ble_name),
            scanner_backend=central.scanner_backend,
            client_backend=central.client_backend,
        )

    def _service(self) -> None:
        assert self.belt is not None
        self.belt.service()
        errors = self.board.ble.irq_errors
        if errors:
            raise errors[0]  # the firmware's IRQ handler failed: stop the board

    async def connect(self) -> None:
        if self.belt is None:
            await self._power_on()
        if self._ticker.error is not None:
            raise self._ticker.error
        self._ticker.start()
        await self.link.connect()

    async def receive(self) -> list[bytes]:
        if self._ticker.error is not None:
            raise self._ticker.error
        frames: list[bytes] = await self.link.receive()
        return frames

    async def send(self, frame: bytes) -> None:
        await self.link.send(frame)

    async def disconnect(self) -> None:
        if self.link is not None:
            await self.link.disconnect()

    async def close(self) -> None:
        """Power the simulated belt off and forget it."""
        await self.disconnect()
        self._ticker.stop()
        if self.belt is not None:
            self.belt.close()
            self.belt = None


def _nobody_on_usb(data: bytes) -> None:
    """The USB console of a belt used over BLE: nothing is plugged in."""
