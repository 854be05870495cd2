"""What the connect screen offers: the belt used last time first, USB ports of USB devices,
the simulated belt, and a Bluetooth line that says why a scan found nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from bleak.backends.device import BLEDevice
from serial.tools.list_ports_common import ListPortInfo
from textual.widgets import OptionList

from levelbelt.errors import LinkError
from levelbelt.transports.ble_link import BeltAdvert
from levelbelt.tui import discovery
from levelbelt.tui.app import DashboardApp
from levelbelt.tui.prefs import BeltRef, DashboardPrefs, PrefsStore

USB = BeltRef("usb", "/dev/ttyUSB0", "/dev/ttyUSB0")
BLE = BeltRef("ble", "24:0A:C4:00:1A:2B", "LevelBelt-1A2B")


def _port(device: str, hwid: str) -> ListPortInfo:
    port = ListPortInfo(device)
    port.hwid = hwid
    port.description = "CP2102 USB to UART Bridge Controller" if hwid != "n/a" else "n/a"
    return port


@pytest.fixture(autouse=True)
def ports(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [_port("/dev/ttyS0", "n/a"), _port("/dev/ttyUSB0", "USB VID:PID=10C4:EA60")]
    monkeypatch.setattr(discovery.list_ports, "comports", lambda: found)


def test_the_last_belt_comes_first_and_other_serial_ports_are_only_counted() -> None:
    offer, summary = discovery.candidates(USB, [])
    assert [(c.ref, c.last_used) for c in offer] == [(USB, True), (discovery.SIM_REF, False)]
    assert offer[0].detail == "USB · CP2102 USB to UART Bridge Controller"
    assert summary == "1 USB port · 1 non-USB serial port not shown"


def test_a_remembered_belt_out_of_reach_is_still_offered_and_says_so() -> None:
    offer, _ = discovery.candidates(BLE, [])
    assert (offer[0].ref, offer[0].last_used, offer[0].detail) == (
        BLE, True, "not found right now")
    assert [c.ref for c in offer[1:]] == [discovery.SIM_REF, USB]


class _Radio(discovery.Bluetooth):
    def __init__(self, found: list[BeltAdvert] | None = None,
                 error: Exception | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "found", found or [])
        object.__setattr__(self, "error", error)

    def scan(self, timeout_s: float) -> list[BeltAdvert]:
        if self.error is not None:
            raise self.error
        return list(self.found)


def test_a_scan_lists_name_signal_and_battery() -> None:
    advert = BeltAdvert(name="LevelBelt-1A2B", address=BLE.address, rssi=-61,
                        battery_percent=87,
                        device=BLEDevice(BLE.address, "LevelBelt-1A2B", details=None))
    line, found = discovery.ble_candidates(0.1, _Radio([advert]))
    assert line == "Bluetooth: 1 belt in range"
    assert [(c.ref, c.detail) for c in found] == [(BLE, "Bluetooth · -61 dBm · battery 87%")]


def test_bluetooth_that_cannot_scan_is_one_line_saying_why() -> None:
    off = LinkError("Bluetooth is not available (adapter powered off): switch it on")
    assert discovery.ble_candidates(0.1, _Radio(error=off)) == (str(off), [])
    line, _ = discovery.ble_candidates(0.1, _Radio(error=LinkError("scan failed (busy)")))
    assert line == "Bluetooth: scan failed (busy)"


async def test_the_connect_screen_marks_the_last_belt_and_says_why_bluetooth_is_quiet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    PrefsStore(tmp_path).save(DashboardPrefs(last_belt=USB))
    monkeypatch.setattr(discovery, "ble_candidates", lambda *a, **k: (
        "Bluetooth is not available (adapter powered off)", []))
    app = DashboardApp(start="connect", prefs_store=PrefsStore(tmp_path), live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert first.startswith("[b]last used[/b] · /dev/ttyUSB0")
        state = app.screen.query_one("#connect-state")
        for _ in range(50):
            if "powered off" in str(state.render()):
                break
            await pilot.pause(0.05)
        assert str(state.render()) == ("1 USB port · 1 non-USB serial port not shown · "
                                       "Bluetooth is not available (adapter powered off)")
