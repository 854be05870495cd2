"""The simulated belt: the firmware's own pipeline fed by the body and sensor models.

Samples (canonical ints: mg, 1/16 deg/s) go through `belt.pipeline.Pipeline`, frames
through the firmware's `FrameEncoder` and `UsbFramer`, and the bytes out of a pty, so
the host reads it with pyserial exactly like a belt on USB.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt.firmware import belt_module, firmware_version

Write = Callable[[memoryview], None]
USB_BATCH = 5  # 50 ms of samples per frame at 100 Hz: smooth display, little overhead
IMU_SIMULATED = 0xFE


class SimulatedBelt:
    """Runs the firmware pipeline over a stream of sample chunks."""

    def __init__(
        self,
        chunks: Iterator[NDArray[np.int64]],
        rate_hz: int,
        write: Write,
        batch: int = USB_BATCH,
        calib_s: float = 1.0,
    ) -> None:
        protocol = belt_module("protocol")
        pipeline = belt_module("pipeline")
        self.rate_hz = rate_hz
        self._chunks = chunks
        self._pending: NDArray[np.int64] = np.zeros((0, 6), dtype=np.int64)
        self.framer: Any = protocol.UsbFramer(write)
        self.encoder: Any = protocol.FrameEncoder(self.framer.send, batch)
        self.pipeline: Any = pipeline.Pipeline(rate_hz, self.encoder, calib_s=calib_s)
        self.samples_sent = 0
        self.exhausted = False
        self.encoder.info(firmware_version(), IMU_SIMULATED, rate_hz, batch, 0)

    def step(self, n: int) -> int:
        """Process up to `n` samples; returns how many were available."""
        done = 0
        push = self.pipeline.push
        while done < n:
            if self._pending.shape[0] == 0:
                try:
                    self._pending = next(self._chunks)
                except StopIteration:
                    self.exhausted = True
                    self.encoder.flush()
                    break
                continue
            take = min(n - done, self._pending.shape[0])
            for row in self._pending[:take].tolist():
                push(*row)
            self._pending = self._pending[take:]
            done += take
        self.samples_sent += done
        return done

    def run_paced(self, speed: float, stop: threading.Event, tick_s: float = 0.01) -> None:
        """Emit samples at `speed` x real time until the source ends or `stop` is set."""
        start = time.monotonic()
        while not stop.is_set() and not self.exhausted:
            due = int((time.monotonic() - start) * speed * self.rate_hz)
            if due > self.samples_sent:
                self.step(due - self.samples_sent)
            stop.wait(tick_s)
