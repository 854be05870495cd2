"""Simulated belt -> pty -> pyserial -> decoder: the same path as a belt on USB."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from levelbelt import protocol as p
from levelbelt.live import LiveBelt
from levelbelt.sim.belt import SimulatedBelt
from levelbelt.sim.pty_link import PtyPair
from levelbelt.transports.serial_link import SerialLink

RATE = 100


def _pose_mg(obl_deg: float) -> list[int]:
    """Default-mount accelerometer (mg) for a pelvis with the given obliquity."""
    s, c = math.sin(math.radians(obl_deg)), math.cos(math.radians(obl_deg))
    return [round(1000 * s), round(1000 * c), 0, 0, 0, 0]


def _chunks() -> Iterator[NDArray[np.int64]]:
    rows = [_pose_mg(0)] * 200  # still start: calibration
    rows += [_pose_mg(-9 * k / 30) for k in range(30)]  # right side drops 9 deg
    rows += [_pose_mg(-9)] * 300
    rows += [_pose_mg(0)] * 400
    data = np.asarray(rows, dtype=np.int64)
    for i in range(0, len(data), 64):
        yield data[i : i + 64]


def _pump(link: SerialLink, live: LiveBelt, until: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while live.snapshot().last_index < until and time.monotonic() < deadline:
        for frame in link.read_frames():
            live.feed(frame)


def test_every_sample_and_the_drop_arrive_over_a_real_pty() -> None:
    pty = PtyPair()
    link = SerialLink(pty.slave_path)
    live = LiveBelt(rate_hz=RATE, history_s=20)
    try:
        belt = SimulatedBelt(_chunks(), RATE, pty.write)
        writer = threading.Thread(target=belt.step, args=(10_000,))
        writer.start()
        _pump(link, live, until=929)
        writer.join()
    finally:
        link.close()
        pty.close()
    snap = live.snapshot()
    assert belt.samples_sent == 930
    assert snap.last_index == 929 and snap.samples_missing == 0
    assert snap.frames_bad == 0 and link.deframer.bad.total() == 0
    assert snap.calibrated and snap.firmware == (0, 1, 0)
    assert [(d.side, d.ended) for d in snap.drops] == [("right", False), ("right", True)]
    assert snap.drops[1].peak_deg > 7.0
    assert abs(snap.obliquity_deg) < 1.0


def test_opening_a_missing_port_is_a_clear_link_error() -> None:
    import pytest

    from levelbelt.errors import LinkError

    with pytest.raises(LinkError, match="cannot open serial port /dev/nonexistent-belt"):
        SerialLink("/dev/nonexistent-belt")


def test_decoder_reports_a_gap_in_sample_indices() -> None:
    live = LiveBelt(rate_hz=RATE)
    frames: list[bytes] = []
    from levelbelt.firmware import belt_module

    enc = belt_module("protocol").FrameEncoder(lambda v: frames.append(bytes(v)), 2)
    for i in (0, 1, 2, 3, 10, 11):
        enc.add_sample(i, 0, 1000, 0, 0, 0, 0, 0, 0)
    for f in frames:
        assert isinstance(live.feed(f), p.SampleBatch)
    assert live.snapshot().samples_missing == 6
