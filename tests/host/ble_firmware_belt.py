"""The whole belt firmware (`belt.app` with its links) on the BLE rig.

Everything the board would run: the MPU-6050 driver reading a register-level fake chip
(tests/firmware/fake_i2c.py), the pipeline, the resend ring, the BLE peripheral, the
command dispatcher with its key and replay counter. Only `machine` is replaced (the
hal below) and `bluetooth` is the rig's adapter. Time is the rig's virtual clock; the
belt's `sleep_ms` during start-up moves the belt's own clock forward (the rig cannot
block), so the belt's ticks run a little ahead of the loop's and nothing else differs.
"""

from __future__ import annotations

import asyncio
import os

import scratch
from fake_i2c import FakeI2C, FakeMPU6050

from belt import app as fw_app
from belt import links as fw_links
from belt import settings as fw_settings
from levelbelt.blerig import BleRig, Peripheral

KEY = bytes(range(0x40, 0x60))
LEVEL = (0, 8192, 0, 0, 0, 0)  # default mount: +1 g on the sensor's Y axis standing
RATE_HZ = 100


class RigClock:
    """The `FakeClock` surface (us, ticks_ms, ticks_diff, sleep_ms) on the rig's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ahead_us = 0

    @property
    def us(self) -> int:
        return int(self.loop.time() * 1_000_000) + self.ahead_us

    @us.setter
    def us(self, value: int) -> None:
        self.ahead_us += max(0, value - self.us)

    def ticks_ms(self) -> int:
        return self.us // 1000

    def ticks_diff(self, a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        self.ahead_us += ms * 1000


class Pin:
    def __init__(self) -> None:
        self.level = 0

    def value(self, x: int | None = None) -> int | None:
        if x is None:
            return self.level
        self.level = 1 if x else 0
        return None


class Hal:
    """What `belt.hal.Hal` provides, with the rig's radio as `ble`."""

    def __init__(self, clock: RigClock, i2c: FakeI2C, board: Peripheral) -> None:
        self.i2c = i2c
        self.motor = Pin()
        self.led = Pin()
        self.usb_bytes = 0
        self.ticks_ms = clock.ticks_ms
        self.ticks_diff = clock.ticks_diff
        self.sleep_ms = clock.sleep_ms
        self.ble = board.ble
        self.uuid = board.bluetooth.UUID

    def write(self, buf: bytes | bytearray | memoryview) -> None:
        self.usb_bytes += len(buf)  # the USB console: nobody listening


class FirmwareBelt:
    """One booted belt on the rig; `reboot()` starts the firmware again from scratch.

    With `settings=True` the firmware loads and keeps its settings file `belt.cfg` in its
    flash, as `app.run` does on the board (by default they live in memory only).
    """

    def __init__(self, rig: BleRig, board: Peripheral, key: bytes | None = KEY,
                 settings: bool = False) -> None:
        self.rig = rig
        self.keeps_settings = settings
        self.board = board
        self.loop = asyncio.get_running_loop()
        self.clock = RigClock(self.loop)
        self.root = scratch.fresh_dir("blebelt")
        if key is not None:
            scratch.write(self.root + "/belt.key", key)
        self.chip = FakeMPU6050(self.clock)
        self.chip.set_raw(*LEVEL)
        self.boots = 0
        self._boot()

    def _boot(self) -> None:
        saved = fw_links.ROOT
        fw_links.ROOT = self.root + "/"
        try:
            hal = Hal(self.clock, FakeI2C({0x68: self.chip}), self.board)
            stored = fw_settings.load(self.root + "/belt.cfg") if self.keeps_settings else None
            self.app = fw_app.start(hal, RATE_HZ, settings=stored)
        finally:
            fw_links.ROOT = saved
        self.boots += 1
        self.task = self.rig.start_loop(self.service, fw_app.LOOP_MS, self.board.ble)

    def service(self) -> None:
        self.chip.catch_up()
        fw_app.service(self.app)

    @property
    def peripheral(self):  # the firmware's ble.Peripheral (untyped)
        return self.app.links.ble

    @property
    def newest_index(self) -> int:
        return int(self.app.links.ring.newest)

    async def reboot(self, off_s: float = 0.5) -> None:
        """Power cycle: the loop stops and the radio goes silent at once (the host is not
        told; its side of the link times out), then the firmware boots again with a
        fresh chip (its sample counter starts over) and the same flash."""
        self.task.cancel()
        self.board.set_in_range(False)  # powered off: nothing goes over the air
        self.board.ble.active(False)
        await self.board.ble.settle()
        await asyncio.sleep(off_s)
        self.board.set_in_range(True)
        self.chip = FakeMPU6050(self.clock)
        self.chip.set_raw(*LEVEL)
        self._boot()

    def files(self) -> list[str]:
        return sorted(os.listdir(self.root))
