"""The whole belt firmware on a simulated board: `belt.app` exactly as the ESP32 runs it.

`SimBoardBelt` boots the firmware's own `app.start` on a board whose parts are models:

* I2C: one `SimulatedMpu6050` at 0x68, answering the registers the firmware's MPU-6050
  driver uses (WHO_AM_I, sample rate, FIFO enable and reset, FIFO count, FIFO read,
  overflow flag). It samples the body and sensor models (`sim.source`) at its own rate
  from the board clock, queues 12-byte big-endian records in a 1024-byte FIFO and
  overflows when nobody reads it, like the chip.
* Battery: an ADC on the divider, reading a LiPo that drains slowly.
* Motor and LED: pins that remember their level.
* USB: the bytes the firmware writes go to a callback; commands come in through the
  firmware's USB command path. BLE: the radio of a BLE rig peripheral, when given.
* Flash: a private directory (0700) holding the belt's key file and counter mark.

So the simulated belt has the real resend ring, RESEND, authenticated commands, haptic
patterns, STATUS and, over the rig, the real BLE peripheral. The board's clock is the
event loop's (so it runs on the rig's virtual clock in tests); a firmware `sleep_ms`
cannot block the loop and moves the board's clock ahead instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from levelbelt.demo_script import WeakSide, demo_script
from levelbelt.firmware import belt_module
from levelbelt.sim.body import Segment
from levelbelt.sim.source import sample_chunks

RATE_HZ: Final = 100
MPU_ADDR: Final = 0x68
BATTERY_START_MV: Final = 4010
BATTERY_DRAIN_MV_PER_MIN: Final = 1.0

# MPU-6050 registers and bits the firmware's driver uses (register map rev 4.2).
_SMPLRT_DIV: Final = 0x19
_FIFO_EN: Final = 0x23
_INT_STATUS: Final = 0x3A
_USER_CTRL: Final = 0x6A
_PWR_MGMT_1: Final = 0x6B
_FIFO_COUNT_H: Final = 0x72
_FIFO_R_W: Final = 0x74
_WHO_AM_I: Final = 0x75
_FIFO_OFLOW: Final = 0x10
_USER_FIFO_EN: Final = 0x40
_USER_FIFO_RESET: Final = 0x04
_PWR_DEVICE_RESET: Final = 0x80
_FIFO_ACCEL_GYRO: Final = 0x78
_FIFO_BYTES: Final = 1024
_RECORD: Final = 12
_GYRO_OUTPUT_HZ: Final = 1000
# Canonical units -> chip counts at the driver's ranges (±4 g, ±500 °/s).
_ACCEL_COUNTS_PER_MG: Final = 8192 / 1000
_GYRO_COUNTS_PER_16DPS: Final = 65.5 / 16

_ROOT_LOCK = threading.Lock()  # belt.links.ROOT is a module global read at start-up


class BoardClock:
    """The board's ticks: the event loop's time, plus whatever `sleep_ms` skipped."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ahead_us = 0

    @property
    def us(self) -> int:
        return int(self.loop.time() * 1_000_000) + self.ahead_us

    def ticks_ms(self) -> int:
        return self.us // 1000

    def ticks_diff(self, a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        self.ahead_us += ms * 1000


class SimulatedMpu6050:
    """An I2C bus with one MPU-6050 on it, fed by canonical sample chunks."""

    def __init__(self, chunks: Iterator[NDArray[np.int64]], clock: BoardClock,
                 addr: int = MPU_ADDR) -> None:
        self.addr = addr
        self.clock = clock
        self._chunks = chunks
        self._rows: NDArray[np.int64] = np.zeros((0, 6), dtype=np.int64)
        self._last = np.array([0, 1000, 0, 0, 0, 0], dtype=np.int64)  # standing: +1 g on Y
        self._fifo = bytearray()
        self._rate_hz = _GYRO_OUTPUT_HZ
        self._running = False  # FIFO enabled with accel + gyro: the chip queues samples
        self._fifo_en = 0
        self._user_ctrl = 0
        self._t0_us = 0
        self._taken = 0  # samples the chip produced since the FIFO started
        self._overflow = False  # INT_STATUS FIFO_OFLOW_INT (cleared by reading it)
        self._full = False  # overflowed since the last FIFO reset: the count reads 1024
        self.samples = 0  # produced in total, read or not
        self.dropped = 0  # produced while the FIFO was full

    # -- the I2C bus (machine.I2C's methods the firmware uses) --------------------------

    def scan(self) -> list[int]:
        return [self.addr]

    def readfrom_mem_into(self, addr: int, reg: int, buf: bytearray | memoryview) -> None:
        self._check(addr)
        self._catch_up()
        n = len(buf)
        if reg == _WHO_AM_I:
            out = bytes([0x68]) * n
        elif reg == _INT_STATUS:
            out = bytes([_FIFO_OFLOW if self._overflow else 0]) * n
            self._overflow = False  # reading INT_STATUS clears it
        elif reg == _FIFO_COUNT_H:
            count = _FIFO_BYTES if self._full else len(self._fifo)
            out = count.to_bytes(2, "big")[:n]
        elif reg == _FIFO_R_W:
            out = bytes(self._fifo[:n]).ljust(n, b"\xff")
            del self._fifo[:n]
        else:
            out = bytes(n)
        buf[:n] = out

    def writeto_mem(self, addr: int, reg: int, buf: bytes | bytearray | memoryview) -> None:
        self._check(addr)
        self._catch_up()
        value = buf[0]
        if reg == _PWR_MGMT_1 and value & _PWR_DEVICE_RESET:
            self._fifo_en = self._user_ctrl = 0
            self._rate_hz = _GYRO_OUTPUT_HZ
            self._fifo.clear()
            self._full = self._overflow = False
            self._set_running()
        elif reg == _SMPLRT_DIV:
            self._rate_hz = _GYRO_OUTPUT_HZ // (value + 1)
        elif reg == _FIFO_EN:
            self._fifo_en = value
            self._set_running()
        elif reg == _USER_CTRL:
            if value & _USER_FIFO_RESET:
                self._fifo.clear()
                self._full = self._overflow = False
            self._user_ctrl = value & _USER_FIFO_EN
            self._set_running()

    def _check(self, addr: int) -> None:
        if addr != self.addr:
            raise OSError(errno.ENODEV, "no device at this address")  # as a missing ACK

    # -- sampling ------------------------------------------------------------------------

    def _set_running(self) -> None:
        running = bool(self._user_ctrl) and self._fifo_en == _FIFO_ACCEL_GYRO
        if running and not self._running:
            self._t0_us = self.clock.us
            self._taken = 0
        self._running = running

    def _catch_up(self) -> None:
        if not self._running:
            return
        due = (self.clock.us - self._t0_us) * self._rate_hz // 1_000_000 - self._taken
        if due <= 0:
            return
        self._taken += due
        rows = self._take(due)
        room = (_FIFO_BYTES - len(self._fifo)) // _RECORD
        if due > room:
            self._overflow = self._full = True
            self.dropped += due - room
            rows = rows[:room]
        if len(rows):
            self._fifo += _counts(rows)

    def _take(self, n: int) -> NDArray[np.int64]:
        """The next `n` samples of the body and sensor models (the body moves on whether
        the FIFO keeps them or not); after a finite script the wearer stays as last seen."""
        parts = []
        while n > 0:
            if not len(self._rows):
                chunk = next(self._chunks, None)
                self._rows = chunk if chunk is not None else np.tile(self._last, (n, 1))
            k = min(n, len(self._rows))
            parts.append(self._rows[:k])
            self._rows = self._rows[k:]
            n -= k
        out = np.concatenate(parts)
        self._last = out[-1]
        self.samples += len(out)
        return out


def _counts(rows: NDArray[np.int64]) -> bytes:
    """Canonical rows (mg, 1/16 °/s) as the chip's FIFO records (big-endian counts); the
    driver's conversion turns them back into exactly the same integers."""
    accel = np.rint(rows[:, :3] * _ACCEL_COUNTS_PER_MG)
    gyro = np.rint(rows[:, 3:] * _GYRO_COUNTS_PER_16DPS)
    counts = np.clip(np.hstack([accel, gyro]), -32768, 32767)
    return bytes(counts.astype(">i2").tobytes())


class SimBatteryAdc:
    """`machine.ADC.read_uv` on the battery divider: a LiPo draining slowly."""

    def __init__(self, clock: BoardClock, start_mv: int = BATTERY_START_MV) -> None:
        self.clock = clock
        self.start_mv = start_mv
        self._t0_us = clock.us

    @property
    def cell_mv(self) -> float:
        minutes = (self.clock.us - self._t0_us) / 60e6
        return self.start_mv - BATTERY_DRAIN_MV_PER_MIN * minutes

    def read_uv(self) -> int:
        divider = int(belt_module("board").BATTERY_DIVIDER)
        return int(self.cell_mv * 1000 / divider)


class _Pin:
    def __init__(self) -> None:
        self.level = 0

    def value(self, x: int | None = None) -> int | None:
        if x is None:
            return self.level
        self.level = 1 if x else 0
        return None


class _Hal:
    """What `belt.hal.Hal` provides, made of the models above."""

    def __init__(self, clock: BoardClock, i2c: SimulatedMpu6050,
                 write: Callable[[bytes], None], radio: Any | None) -> None:
        self.i2c = i2c
        self.motor = _Pin()
        self.led = _Pin()
        self.battery_adc = SimBatteryAdc(clock)
        self.ticks_ms = clock.ticks_ms
        self.ticks_diff = clock.ticks_diff
        self.sleep_ms = clock.sleep_ms
        self._write = write
        if radio is not None:  # a blerig Peripheral: its `bluetooth` module's BLE and UUID
            self.ble = radio.ble
            self.uuid = radio.bluetooth.UUID

    def write(self, buf: bytes | bytearray | memoryview) -> None:
        self._write(bytes(buf))  # the firmware reuses its buffers: copy


class SimBoardBelt:
    """`belt.app` booted on the simulated board; call `service()` every few ms.

    `seed` picks the simulated athlete's motion (the demo script unless `script` is
    given; `weak_side` gets the bigger drops); `key` is provisioned as the belt's key;
    `write` gets the USB bytes; `radio` is a blerig `Peripheral` for BLE.
    """

    def __init__(
        self,
        key: bytes,
        write: Callable[[bytes], None],
        *,
        seed: int = 1,
        weak_side: WeakSide = "right",
        script: Iterable[Segment] | None = None,
        radio: Any | None = None,
        rate_hz: int = RATE_HZ,
    ) -> None:
        self.clock = BoardClock(asyncio.get_running_loop())
        chunks = sample_chunks(script if script is not None else demo_script(weak_side, seed),
                               rate_hz, seed)
        self.imu = SimulatedMpu6050(chunks, self.clock)
        self.hal = _Hal(self.clock, self.imu, write, radio)
        self.flash = Path(tempfile.mkdtemp(prefix="levelbelt-sim-"))  # 0700
        self._forget = weakref.finalize(self, shutil.rmtree, self.flash, True)
        key_file = self.flash / "belt.key"
        key_file.write_bytes(key)
        key_file.chmod(0o600)
        self._app = belt_module("app")
        links: Any = belt_module("links")
        with _ROOT_LOCK:
            saved = links.ROOT
            links.ROOT = f"{self.flash}{os.sep}"
            try:
                self.app: Any = self._app.start(self.hal, rate_hz)
            finally:
                links.ROOT = saved

    def service(self) -> None:
        """One pass of the firmware's main loop."""
        self._app.service(self.app)

    def usb_command(self, frame: bytes) -> None:
        """A COMMAND frame arriving over USB, for the firmware's dispatcher."""
        self.app.links.usb_frame(frame, len(frame))

    @property
    def ble_name(self) -> str | None:
        peripheral = self.app.links.ble
        return str(peripheral.name) if peripheral is not None else None

    def close(self) -> None:
        """Forget the board's flash (its key and counter files); also done when the
        object is collected or the interpreter exits."""
        self._forget()


class Ticker:
    """Calls `tick()` every `period_s` on the running loop until `stop()`.

    Timer callbacks rather than a task: a loop that ends without stopping it just drops
    the timer (nothing is left pending). An exception from `tick` stops it and is kept
    in `error`.
    """

    def __init__(self, tick: Callable[[], None], period_s: float) -> None:
        self._tick = tick
        self._period_s = period_s
        self._handle: asyncio.TimerHandle | None = None
        self.error: BaseException | None = None
        self.on_error: Callable[[BaseException], None] | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._period_s, self._run)

    def _run(self) -> None:
        try:
            self._tick()
        except Exception as e:  # a firmware bug: stop, and let the owner raise it
            self._handle = None
            self.error = e
            if self.on_error is not None:
                self.on_error(e)
            return
        loop = asyncio.get_running_loop()
        self._handle = loop.call_later(self._period_s, self._run)

    def stop(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._handle.cancel()
            self._handle = None
