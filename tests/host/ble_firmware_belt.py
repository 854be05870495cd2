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
from collections.abc import Awaitable, Callable

import scratch
from fake_i2c import FakeI2C, FakeMPU6050

from belt import app as fw_app
from belt import links as fw_links
from belt import settings as fw_settings
from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient
from levelbelt.blerig import BleRig, Central, CentralProfile, Peripheral, run
from levelbelt.command_auth import CommandCounter
from levelbelt.transports.ble_link import BleTransport

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


# Belt clients on the rig: a sample log, the client, the scenario around them --------

SUPERVISION_S = 2.0


class Log:
    """What a session file would get: samples by index, and reported gaps."""

    def __init__(self) -> None:
        self.samples: dict[int, int] = {}  # index -> times logged
        self.gaps: list[tuple[int, int]] = []
        self.resets = 0
        self.boot = 0
        self.by_boot: list[dict[int, int]] = [self.samples]

    def on_samples(self, batch: p.SampleBatch) -> None:
        for i in range(batch.first_index, batch.first_index + batch.count):
            self.samples[i] = self.samples.get(i, 0) + 1

    def on_gap(self, first: int, count: int) -> None:
        self.gaps.append((first, count))

    def on_reset(self) -> None:
        self.resets += 1
        self.samples = {}
        self.by_boot.append(self.samples)

    def gap_indices(self) -> set[int]:
        return {i for first, n in self.gaps for i in range(first, first + n)}

    def assert_accounted(self, samples: dict[int, int] | None = None) -> None:
        """Every index from first to last logged once or in a reported gap, not both."""
        samples = self.samples if samples is None else samples
        assert all(n == 1 for n in samples.values()), "a sample was logged twice"
        gaps = self.gap_indices()
        assert not gaps & samples.keys(), "a reported gap overlaps logged samples"
        lo, hi = min(samples), max(samples)
        unaccounted = [i for i in range(lo, hi + 1) if i not in samples and i not in gaps]
        assert unaccounted == [], f"{len(unaccounted)} samples neither logged nor a gap"


def rig_transport(host: Central) -> BleTransport:
    """The host's bleak transport to the first belt on the rig, over `host`'s radio."""
    return BleTransport(
        "LevelBelt-0001",
        scanner_backend=host.scanner_backend,
        client_backend=host.client_backend,
        scan_timeout_s=3.0,
    )


def client_for(host: Central, log: Log, key: bytes | None = KEY, **kwargs: object) -> BeltClient:
    kwargs.setdefault("counter", CommandCounter(1))
    return BeltClient(
        rig_transport(host),
        key=key,
        on_samples=log.on_samples,
        on_gap=log.on_gap,
        on_reset=log.on_reset,
        seed=1,
        **kwargs,  # type: ignore[arg-type]
    )


Scenario = Callable[[BleRig, FirmwareBelt, Central], Awaitable[None]]


def on_rig(scenario: Scenario, key: bytes | None = KEY) -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral()
            belt = FirmwareBelt(rig, board, key=key)
            host = await rig.add_central(
                profile=CentralProfile(supervision_timeout_ms=int(SUPERVISION_S * 1000))
            )
            await asyncio.sleep(1.5)  # boot and start-up calibration
            await scenario(rig, belt, host)

    run(main())


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def running(client: BeltClient) -> asyncio.Task[None]:
    """`client.run()` as a task, once the first samples are logged."""
    task = asyncio.get_running_loop().create_task(client.run())
    await until(lambda: client.stats.samples_logged > 0)
    return task


async def logging_client(
    host: Central, key: bytes | None = KEY, **kwargs: object
) -> tuple[Log, BeltClient, asyncio.Task[None]]:
    """A client logging into a fresh `Log`, running (see `running`)."""
    log = Log()
    client = client_for(host, log, key, **kwargs)
    return log, client, await running(client)


async def settle(client: BeltClient, seconds: float = 8.0) -> None:
    """Let RESENDs finish: no open holes, and some live time after."""
    await until(lambda: not client.coverage.holes and client.state == "connected")
    await asyncio.sleep(seconds)
