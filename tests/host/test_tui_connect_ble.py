"""The connect screen over Bluetooth, end to end without an adapter.

The belt is the firmware on a simulated board (`sim.board`) running its BLE peripheral
on the BLE rig (Bumble's host stack on a simulated radio), in a loop of its own thread
as the OS stack would be. The dashboard scans and connects through
`discovery.Bluetooth` with the rig's bleak backends: `ble_link.scan` finds the belt
(name, signal, battery from its advertisement), choosing it opens a `ClientFeed`
(the belt client over bleak), and a neutral capture from the calibrate screen reaches
the belt signed with the key stored on this host.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from tui_helpers import until

from levelbelt import keys
from levelbelt.blerig import BleRig
from levelbelt.feeds import ClientFeed
from levelbelt.sim.board import SimBoardBelt, Ticker
from levelbelt.sim.body import Still
from levelbelt.tui import discovery
from levelbelt.tui.app import DashboardApp
from levelbelt.tui.prefs import PrefsStore

KEY = bytes(range(0x20, 0x40))
ADDRESS = "24:0A:C4:00:00:2C"
NAME = "LevelBelt-002C"
RSSI_DBM = -67


class RigThread:
    """One simulated belt on the rig, on an asyncio loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rig",
                                       daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._power_on(), self.loop).result(30)

    async def _power_on(self) -> None:
        self.rig = BleRig()
        board = await self.rig.add_peripheral(ADDRESS)
        board.rssi_dbm = RSSI_DBM
        self.central = await self.rig.add_central()
        self.belt = SimBoardBelt(KEY, lambda _: None, seed=3, script=[Still(900.0)],
                                 radio=board)
        self.ticker = Ticker(self.belt.service, 0.005)
        self.ticker.start()

    @property
    def bluetooth(self) -> discovery.Bluetooth:
        return discovery.Bluetooth(self.central.scanner_backend,
                                   self.central.client_backend, self.loop)

    def close(self) -> None:
        async def power_off() -> None:
            self.ticker.stop()
            await self.rig.close(raise_loop_errors=False)
            self.belt.close()

        asyncio.run_coroutine_threadsafe(power_off(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def rig_belt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RigThread]:
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "config"))
    keys.store_key(NAME, KEY)  # as `levelbelt device provision` leaves it
    rig = RigThread()
    yield rig
    rig.close()


def _text(app: DashboardApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _until(pilot: Pilot[Any], check: Callable[[], bool]) -> None:
    await until(pilot, check, timeout_s=30.0)  # the rig's radio is slower than a pty


async def test_the_connect_screen_lists_a_scanned_belt_and_connects_through_the_client(
        rig_belt: RigThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bluetooth = rig_belt.bluetooth
    # Let the belt measure its battery (its advertisement carries the level from then).
    deadline = time.monotonic() + 20
    while rig_belt.belt.app.links.ble.battery_percent < 0:
        assert time.monotonic() < deadline, "the belt never measured its battery"
        time.sleep(0.05)
    battery = rig_belt.belt.app.links.ble.battery_percent
    monkeypatch.setattr(discovery, "ble_candidates", functools.partial(
        discovery.ble_candidates, 1.5, bluetooth))
    app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path / "prefs"),
                       opener=functools.partial(discovery.open_feed, bluetooth=bluetooth),
                       sessions=tmp_path / "sessions")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await _until(pilot, lambda: "Bluetooth: 1 belt in range" in _text(app, "#connect-state"))
        ble = [c for c in screen.offer if c.ref.kind == "ble"]  # type: ignore[attr-defined]
        assert [(c.ref.name, c.ref.address) for c in ble] == [(NAME, ADDRESS)]
        assert ble[0].detail == f"Bluetooth · {RSSI_DBM} dBm · battery {battery}%"
        belts = screen.query_one("#belts", OptionList)
        belts.highlighted = screen.offer.index(ble[0])  # type: ignore[attr-defined]
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen_name == "calibrate")
        assert len(app.models) == 1
        feed = app.models[0].feed
        assert isinstance(feed, ClientFeed) and feed.label == NAME
        assert feed.client is not None and feed.client.key == KEY  # this host's key
        await _until(pilot, lambda: feed.live.snapshot().last_index > 200)
        before = feed.live.snapshot().calibrations
        await pilot.press("2", "enter")  # seated, capture: a signed command over BLE
        await _until(pilot, lambda: feed.live.snapshot().calibrations > before)
        assert feed.command_error is None
        calibration = feed.live.snapshot().calibration
        assert calibration is not None and calibration.position == 1
        figures = feed.link()
        assert figures.state == "connected" and figures.rssi_dbm == RSSI_DBM
        assert figures.mtu == 247 and figures.samples_lost == 0
        assert app.prefs.last_belt is not None and app.prefs.last_belt.name == NAME
    assert feed.client.state == "stopped"  # the dashboard closed its link
