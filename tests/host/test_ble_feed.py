"""`ClientFeed` over Bluetooth: the dashboard's view of a BLE belt, over the BLE rig with
the whole firmware.

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
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ble_firmware_belt import KEY, FirmwareBelt

from levelbelt.blerig import BleRig, CentralProfile, VirtualClockLoop
from levelbelt.errors import LinkError
from levelbelt.feeds import BeltFeed, ClientFeed, LinkFigures, link_quality
from levelbelt.live import LiveSnapshot
from levelbelt.live_session import LiveSession
from levelbelt.plans import expand, load_builtin
from levelbelt.session import read_session
from levelbelt.transports.ble_link import BleTransport
from levelbelt.transports.sim_transport import SimBleTransport
from levelbelt.transports.transport import Transport
from levelbelt.tui.belt_model import BeltModel
from levelbelt.tui.prefs import DashboardPrefs

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
        self.feed: ClientFeed | None = None
        self._attached = threading.Event()

    def attach(self, feed: ClientFeed) -> ClientFeed:
        """The feed the scenario watches. The scenario starts in the feed's own thread,
        possibly before the feed's constructor has returned here, so it waits for this."""
        self.feed = feed
        self._attached.set()
        return feed

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
            # Blocks the loop (and so its virtual clock) for the moment it takes.
            assert self._attached.wait(30.0), "the test never attached its feed"
            await self.scenario(self)
        except BaseException as e:
            self.seen["error"] = e
            raise
        finally:
            self.done.set()


async def until(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def screen_model(feed: ClientFeed) -> BeltModel:
    """The dashboard's per-belt model, as the drill screen and the coach grid read it."""
    prefs = DashboardPrefs()
    return BeltModel(feed, None, lambda: prefs)


def test_an_outage_shows_on_screen_as_a_gap_then_the_resent_samples_fill_it() -> None:
    async def scenario(rb: RigBelt) -> None:
        feed = rb.feed
        assert feed is not None
        await until(lambda: feed.live.snapshot().last_index > 400)
        before = feed.live.snapshot().last_index
        assert rb.rig is not None and rb.belt is not None
        await rb.rig.outage(rb.belt.board, OUTAGE_S)
        # Reconnected: the live stream resumes at the belt's newest sample.
        await until(lambda: feed.live.snapshot().last_index > before + 100 * OUTAGE_S)
        rb.seen["gap"] = feed.live.snapshot()
        rb.seen["link_during"] = feed.link()
        rb.seen["shown_during"] = screen_model(feed).poll().link
        client = feed.client
        assert client is not None
        await until(lambda: client.stats.resend_requests > 0 and not client.coverage.holes)
        await asyncio.sleep(0.5)
        rb.seen["filled"] = feed.live.snapshot()
        rb.seen["link_after"] = feed.link()
        rb.seen["note"] = feed.link_note()

    rb = RigBelt(scenario=scenario)
    feed = rb.attach(ClientFeed(rb.make, "belt 1", key=KEY, loop_factory=VirtualClockLoop))
    try:
        feed.wait_for_belt(60.0)
        wait_for(rb.done.is_set)
    finally:
        feed.stop()
    assert feed.error is None and "error" not in rb.seen
    gap, filled = rb.seen["gap"], rb.seen["filled"]
    (first, count), *_ = holes(gap)
    assert count >= 100 * (OUTAGE_S - SUPERVISION_MS / 1000)  # out of range, then no link
    assert gap.samples_missing >= count
    # The screen shows what is lost for good, and samples about to be resent are not.
    shown = rb.seen["shown_during"]
    assert shown.samples_missing == 0 and "missing" not in shown.detail
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
    feed = ClientFeed(rb.make, "belt 1", key=KEY, loop_factory=VirtualClockLoop)
    try:
        feed.wait_for_belt(60.0)
        feed.set_stance(2)
        wait_for(lambda: rb.belt is not None and rb.belt.app.pipeline.detector.stance == 2)
        assert feed.command_error is None
    finally:
        feed.stop()

    rb = RigBelt()
    feed = ClientFeed(rb.make, "belt 1", key=bytes(32), loop_factory=VirtualClockLoop)
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

    feed = ClientFeed(make, "sim+ble", loop_factory=VirtualClockLoop)
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
    feed: BeltFeed = ClientFeed("sim+ble:5", "sim")  # real time: a few seconds
    try:
        assert feed.link_kind == "ble" and feed.label == "sim"
        assert isinstance(feed, ClientFeed)
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

    feed = ClientFeed(nowhere, "LevelBelt-0009", key=KEY)
    try:
        with pytest.raises(LinkError, match=r"no belt answered on LevelBelt-0009 within 3 s "
                                            r"\(no belt LevelBelt-0009 found"):
            feed.wait_for_belt(3.0)
    finally:
        feed.stop()


def test_an_outage_longer_than_the_ring_is_lost_on_screen_and_a_gap_in_the_session_file(
        tmp_path: Path) -> None:
    sessions: list[LiveSession] = []

    async def scenario(rb: RigBelt) -> None:
        feed = rb.feed
        assert feed is not None
        await until(lambda: feed.live.snapshot().last_index > 300)
        session = LiveSession(feed, expand(load_builtin("glute-iso-quick")), athlete="ana",
                              out_dir=tmp_path)
        sessions.append(session)
        session.start()
        await until(lambda: session.snapshot().path is not None)
        await asyncio.sleep(3.0)
        assert rb.rig is not None and rb.belt is not None
        await rb.rig.outage(rb.belt.board, 45.0)  # the ring keeps 32 s
        client = feed.client
        assert client is not None
        await until(lambda: client.stats.samples_lost > 0 and not client.coverage.holes
                    and client.state == "connected")
        await asyncio.sleep(2.0)
        rb.seen["shown"] = screen_model(feed).poll().link
        rb.seen["lost"] = client.stats.samples_lost
        session.close()

    rb = RigBelt(scenario=scenario)
    feed = rb.attach(ClientFeed(rb.make, "belt 1", key=KEY, loop_factory=VirtualClockLoop))
    try:
        feed.wait_for_belt(60.0)
        wait_for(rb.done.is_set)
    finally:
        feed.stop()
    assert feed.error is None and "error" not in rb.seen
    (first, count), = feed.gaps
    assert count == rb.seen["lost"] and 100 * (45.0 - 32.0) <= count <= 100 * 51.0
    shown = rb.seen["shown"]
    assert shown.samples_missing == count and shown.quality == "poor"
    assert "% lost" in shown.detail
    path = sessions[0].snapshot().path
    assert path is not None
    saved = read_session(path)
    assert [(g.first_missing, g.end_index) for g in saved.gaps] == [(first, first + count)]
    # The rest of the outage came back by RESEND: the gap is the file's only hole.
    assert [(i0, i1) for _, i0, i1 in saved.samples.missing_runs()] == [(first, first + count)]
    assert not saved.problems and not saved.complete  # closed mid-plan: unfinished, intact
