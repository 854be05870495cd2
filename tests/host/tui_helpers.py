"""A simulated belt stepped by the test, for deterministic dashboard tests and snapshots.

The firmware's own pipeline and frame encoder run in-process; frames go through the
host's COBS/CRC deframer into `LiveBelt` exactly as over USB, but only when the test
steps the belt, so every run shows the same samples. Commands are applied between
frames, as the belt's loop (and the demo's pty rig) does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from textual.pilot import Pilot

from levelbelt.demo import send_status
from levelbelt.firmware import belt_module
from levelbelt.framing import Deframer
from levelbelt.live import LiveBelt
from levelbelt.sim.belt import SimulatedBelt
from levelbelt.sim.body import Segment
from levelbelt.sim.sensor import SensorModel
from levelbelt.sim.source import sample_chunks

RATE = 100
STATUS_EVERY = 5 * RATE


class SteppedBelt:
    link_kind = "sim"

    def __init__(self, script: Iterable[Segment], seed: int = 1,
                 label: str = "simulated belt", battery_mv: int = 3950,
                 model: SensorModel | None = None) -> None:
        self.label = label
        self.live = LiveBelt(rate_hz=RATE)
        self.error: str | None = None
        self.cues: list[int] = []
        self.stopped = False
        self._deframer = Deframer()
        self._pending: list[Callable[[], None]] = []
        self._battery_mv = battery_mv
        self.belt = SimulatedBelt(sample_chunks(script, RATE, seed, model=model), RATE,
                                  self._write)
        self._next_status = 0

    def _write(self, data: memoryview) -> None:
        for frame in self._deframer.feed(bytes(data)):
            self.live.feed(frame)

    def run_to(self, t_s: float) -> None:
        """Emit samples until belt time `t_s`, one frame (5 samples) at a time."""
        target = round(t_s * RATE)
        while self.belt.samples_sent < target and not self.belt.exhausted:
            if self.belt.samples_sent >= self._next_status:
                self._next_status += STATUS_EVERY
                send_status(self.belt, self._battery_mv)
            self.belt.step(min(5, target - self.belt.samples_sent))
            pending, self._pending = self._pending, []
            for command in pending:
                command()

    # -- BeltFeed commands ---------------------------------------------------------------

    def capture_neutral(self, position: int) -> None:
        self._pending.append(lambda: self.belt.pipeline.recalibrate(position))

    def set_detector(self, threshold_cdeg: int, dwell_ms: int, release_cdeg: int,
                     stance: int, lockout_ms: int = 0) -> None:
        det = belt_module("detector")
        assert det.check_config(threshold_cdeg, dwell_ms, release_cdeg, stance,
                                lockout_ms) is None
        self._pending.append(lambda: self.belt.pipeline.detector.configure(
            threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms))

    def set_stance(self, stance: int) -> None:
        self._pending.append(lambda: self.belt.pipeline.detector.set_stance(stance))

    def cue(self, pattern: int) -> None:
        self.cues.append(pattern)

    def stop(self) -> None:
        self.stopped = True


def frozen_clock(feed: SteppedBelt) -> Callable[[], float]:
    """A dashboard clock that always reads "the last frame just arrived"."""
    return lambda: feed.live.snapshot().last_rx_s


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Let the app run until `check()` holds; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the dashboard never got there")
