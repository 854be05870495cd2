"""`BleFeed`: the dashboard's view of a BLE belt, over the BLE rig with the whole firmware.

The feed's loop is the rig's virtual-clock loop running in the feed's own thread, as a
real feed runs bleak's loop; the rig, the firmware belt and an outage scenario are
built inside it by the transport factory. The test thread reads only what a screen
reads: `feed.live` snapshots, `feed.link()`, `link_note()`, `command_error`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from ble_firmware_belt import KEY, FirmwareBelt

from levelbelt.ble_feed import BleFeed, LinkFigures, link_quality
from levelbelt.blerig import BleRig, CentralProfile, VirtualClockLoop
from levelbelt.errors import LinkError
from levelbelt.feeds import BeltFeed
from levelbelt.live import LiveSnapshot
from levelbelt.transports.ble_link import BleTransport
from levelbelt.transports.sim_transport import SimBleTransport
from levelbelt.transports.transport import Transport

OUTAGE_S = 5.0
SUPERVISION_MS = 2000


def wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def holes(snap: LiveSnapshot) -> list[tuple[int, int]]:
    """Runs of indices missing from the screen's history: (first missing, count)."""
    idx = np.rint(snap.history_t_s * snap.rate_hz).astype(np.int64)
    jumps = np.nonzero(np.diff(idx) > 1)[0]
    return [(int(idx[j] + 1), int(idx[j + 1] - idx[j] - 1)) for j in jumps]


class RigBelt:
    """Builds the rig and a firmware belt inside the feed's loop; runs `scenario` there."""

    def __init__(self, key: bytes = KEY, scenario: Callable[..., Any] | None = None) -> None:
        self.key = key
        self.scenario = scenario
        self.belt: FirmwareBelt | None = None
        self.rig: BleRig | None = None
        self.seen: dict[str, Any] = {}
        self.done = threading.Event()

    async def make(self) -> Transport:
        self.rig = BleRig()
        self.belt = FirmwareBelt(self.rig, await self.rig.add_peripheral())
        host = await self.rig.add_central(
            profile=CentralProfile(supervision_timeout_ms=SUPERVISION_MS)
        )
        await asyncio.sleep(1.5)  # boot and start-up calibration
        if self.scenario is not None:
            asyncio.get_running_loop().create_task(self._play())
        return BleTransport("LevelBelt-0001", scanner_backend=host.scanner_backend,
                            client_backend=host.client_backend, scan_timeout_s=3.0)

    async def _play(self) -> None:
        assert self.scenario is not None
        try:
            await self.scenario(self)
        finally:
            self.done.set()


async def until(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def test_an_outage_shows_on_screen_as_a_gap_then_the_resent_samples_fill_it() -> None:
    feeds: list[BleFeed] = []

    async def scenario(rb: RigBelt) -> None:
        feed = feeds[0]
        await until(lambda: feed.live.snapshot().last_index > 400)
        before = feed.live.snapshot().last_index
        assert rb.rig is not None and rb.belt is not None
        await rb.rig.outage(rb.belt.board, OUTAGE_S)
        # Reconnected: the live stream resumes at the belt's newest sample.
        await until(lambda: feed.live.snapshot().last_index > before + 100 * OUTAGE_S)
        rb.seen["gap"] = feed.live.snapshot()
        rb.seen["link_during"] = feed.link()
        client = feed.client
        assert client is not None
        await until(lambda: client.stats.resend_requests > 0 and not client.coverage.holes)
        await asyncio.sleep(0.5)
        rb.seen["filled"] = feed.live.snapshot()
        rb.seen["link_after"] = feed.link()
        rb.seen["note"] = feed.link_note()

    rb = RigBelt(scenario=scenario)
    feed = BleFeed(rb.make, "belt 1", KEY, loop_factory=VirtualClockLoop)
    feeds.append(feed)
    try:
        feed.wait_for_belt(60.0)
        wait_for(rb.done.is_set)
    finally:
        feed.stop()
    assert feed.error is None
    gap, filled = rb.seen["gap"], rb.seen["filled"]
    (first, count), *_ = holes(gap)
    assert count >= 100 * (OUTAGE_S - SUPERVISION_MS / 1000)  # out of range, then no link
    assert gap.samples_missing >= count
    # The resent samples land where they belong: the history has no hole left.
    assert holes(filled) == []
    t = np.rint(filled.history_t_s * 100).astype(np.int64)
    assert first in t and first + count - 1 in t
    during, after = rb.seen["link_during"], rb.seen["link_after"]
    assert isinstance(after, LinkFigures)
    assert during.reconnects == after.reconnects == 1
    assert after.samples_resent >= count and after.samples_lost == 0 and after.gaps == 0
    assert after.quality == "good" and after.state == "connected"
    assert after.mtu == 247 and after.rssi_dbm == -60
    assert "1 reconnect" in rb.seen["note"] and "resent" in rb.seen["note"]
    assert feed.gaps == ()


def test_commands_from_the_screen_reach_the_belt_and_a_wrong_key_says_what_to_do() -> None:
    rb = RigBelt()
    feed = BleFeed(rb.make, "belt 1", KEY, loop_factory=VirtualClockLoop)
    try:
        feed.wait_for_belt(60.0)
        feed.set_stance(2)
        wait_for(lambda: rb.belt is not None and rb.belt.app.pipeline.detector.stance == 2)
        assert feed.command_error is None
    finally:
        feed.stop()

    rb = RigBelt()
    feed = BleFeed(rb.make, "belt 1", bytes(32), loop_factory=VirtualClockLoop)
    try:
        feed.wait_for_belt(60.0)
        feed.cue(4)
        wait_for(lambda: feed.command_error is not None)
        assert "levelbelt device provision" in str(feed.command_error)
        assert feed.link().key_refused
        assert "key refused" in feed.link_note()
    finally:
        feed.stop()


def test_a_simulated_belt_over_the_rig_feeds_the_screen_with_its_battery() -> None:
    async def make() -> Transport:
        return SimBleTransport(seed=4)

    feed = BleFeed(make, "sim+ble", loop_factory=VirtualClockLoop)
    try:
        feed.wait_for_belt(60.0)
        wait_for(lambda: feed.live.snapshot().last_index > 300 and feed.link().battery_percent
                 is not None)
        figures = feed.link()
        assert 70 <= (figures.battery_percent or 0) <= 90  # a 4.0 V cell
        assert figures.quality == "good"
        feed.set_stance(1)  # signed with the simulated belt's own key
        transport = feed.transport
        assert isinstance(transport, SimBleTransport) and transport.belt is not None
        app = transport.belt.app
        wait_for(lambda: app.pipeline.detector.stance == 1)
    finally:
        feed.stop()
    assert feed.error is None
    assert transport.belt is None  # powered off with the feed


def test_the_simulated_feed_fits_what_the_dashboard_expects_of_a_belt() -> None:
    feed: BeltFeed = BleFeed.simulated(seed=5, label="sim")  # real time: a few seconds
    try:
        assert feed.link_kind == "ble" and feed.label == "sim"
        assert isinstance(feed, BleFeed)
        feed.wait_for_belt(30.0)
        wait_for(lambda: feed.live.snapshot().last_index > 100, 30.0)
        assert feed.link().state == "connected" and feed.error is None
    finally:
        feed.stop()


@pytest.mark.parametrize(
    ("state", "connects", "rssi", "loss", "quality"),
    [
        ("connecting", 0, None, 0.0, "waiting"),
        ("lost", 2, -50, 0.0, "lost"),
        ("connected", 1, -60, 0.0, "good"),
        ("connected", 1, -75, 0.0, "fair"),
        ("connected", 1, -60, 1.0, "fair"),
        ("connected", 1, -90, 0.0, "poor"),
        ("connected", 1, None, 6.0, "poor"),
    ],
)
def test_link_quality_follows_signal_and_what_was_lost_for_good(
    state: str, connects: int, rssi: int | None, loss: float, quality: str
) -> None:
    assert link_quality(state, connects, rssi, loss) == quality


def test_a_belt_that_never_answers_is_a_one_line_error_naming_it() -> None:
    async def nowhere() -> Transport:
        rig = BleRig()
        host = await rig.add_central()
        return BleTransport("LevelBelt-0009", scanner_backend=host.scanner_backend,
                            client_backend=host.client_backend, scan_timeout_s=1.0)

    feed = BleFeed(nowhere, "LevelBelt-0009", KEY)
    try:
        with pytest.raises(LinkError, match=r"no answer from LevelBelt-0009 within 3 s "
                                            r"\(no belt LevelBelt-0009 found"):
            feed.wait_for_belt(3.0)
    finally:
        feed.stop()
