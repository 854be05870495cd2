"""The belt's own BLE code on the rig: a sample source, the firmware ring and Peripheral.

`Belt` feeds the firmware's resend ring at RATE_HZ (on the rig's clock) and services
the firmware's `ble.Peripheral` from a main-loop task, the way the belt's app does.
`Stream` is a host-side sink that decodes frames and checks sample continuity.
"""

from __future__ import annotations

import asyncio

from belt import ble as fw_ble
from belt import ring as fw_ring
from levelbelt import protocol as p
from levelbelt.blerig import BleRig, Peripheral

RATE_HZ = 100
LOOP_MS = 5


def sample(i: int) -> tuple[int, int, int, int, int, int, int, int]:
    """A recognisable record for sample index i (ax ay az gx gy gz tilt obliquity)."""
    return (i % 7, -(i % 5), 1000, i % 3, 0, -1, i % 2000, -(i % 1500))


class Belt:
    """Samples at RATE_HZ into the ring, and the BLE peripheral serviced every loop pass."""

    def __init__(self, rig: BleRig, board: Peripheral) -> None:
        self.board = board
        self.ring = fw_ring.SampleRing(fw_ring.capacity_for(RATE_HZ))
        self.ble = fw_ble.Peripheral(board.ble, board.bluetooth.UUID, self.ring, RATE_HZ)
        self.loop = asyncio.get_running_loop()
        self.start_s = self.loop.time()
        self.last_s = self.start_s
        self.index = 0
        self.commands: list[bytes] = []
        rig.start_loop(self.service, LOOP_MS, board.ble)

    def service(self) -> None:
        now = self.loop.time()
        due = int((now - self.start_s) * RATE_HZ)
        while self.index < due:
            self.ring.put(self.index, *sample(self.index))
            self.index += 1
        self.ble.service()
        while (n := self.ble.command_len()) >= 0:
            self.commands.append(bytes(self.ble.command_view()[:n]))
            self.ble.command_done()
        self.ble.pump(round((now - self.last_s) * 1000))
        self.last_s = now


class Stream:
    """Host side: decodes frames, collects sample indices in arrival order."""

    def __init__(self) -> None:
        self.decoder = p.Decoder()
        self.indices: list[int] = []
        self.batches: list[p.SampleBatch] = []
        self.frames: list[p.Frame] = []

    def feed(self, data: bytes | bytearray) -> None:
        frame = self.decoder.decode(data)
        if frame is None:
            return
        self.frames.append(frame)
        if isinstance(frame, p.SampleBatch):
            self.batches.append(frame)
            self.indices.extend(range(frame.first_index, frame.first_index + frame.count))

    def on_notify(self, _: object, data: bytearray) -> None:
        self.feed(data)

    def gaps(self) -> int:
        return sum(1 for a, b in zip(self.indices, self.indices[1:], strict=False) if b != a + 1)


__all__ = ["LOOP_MS", "RATE_HZ", "Belt", "Stream", "fw_ble", "sample"]
