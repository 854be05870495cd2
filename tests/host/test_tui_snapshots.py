"""SVG snapshots of every screen (pytest-textual-snapshot), at 80x24 and one larger.

The scenes (`tui_scenes`) are frozen: the belt is stepped to a fixed belt time, display
ticks are called by the scene, every figure and timer comes from belt time, cursors do
not blink and the session file's date is fixed; here the system's serial ports and the
Bluetooth scan are replaced by a fixed list. Update after an intended change with
`pytest tests/host/test_tui_snapshots.py --snapshot-update` and look at the SVGs
(snapshot_report.html on failure); `docs/images/make_screenshots.py` exports the same
scenes for the documentation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import tui_scenes
from serial.tools.list_ports_common import ListPortInfo

from levelbelt.tui import discovery
from levelbelt.tui.prefs import BeltRef

Snap = Callable[..., bool]
SMALL = (80, 24)
LARGE = (120, 36)


@pytest.fixture(autouse=True)
def fixed_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's serial ports and radio vary; the screens are shown with fixed ones."""
    port = ListPortInfo("/dev/ttyUSB0")
    port.description = "CP2102 USB to UART Bridge Controller"
    port.hwid = "USB VID:PID=10C4:EA60 SER=0001 LOCATION=1-1"
    monkeypatch.setattr(discovery.list_ports, "comports", lambda: [port])
    belt = discovery.Candidate(BeltRef("ble", "24:0A:C4:00:1A:2B", "LevelBelt-1A2B"),
                               "Bluetooth · -61 dBm · battery 87%")
    monkeypatch.setattr(discovery, "ble_candidates",
                        lambda *args, **kwargs: ("Bluetooth: 1 belt in range", [belt]))


def _compare(snap_compare: Snap, scene: tui_scenes.Scene, size: tuple[int, int]) -> bool:
    return snap_compare(scene.app, terminal_size=size, run_before=scene.run_before,
                        press=scene.press)


def test_drill_screen_during_a_hip_drop(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.drill_during_a_hip_drop(tmp_path), SMALL)


def test_drill_screen_on_a_large_terminal(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.drill_squeezing(tmp_path), LARGE)


def test_coach_grid_with_two_belts(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.coach_grid_during_a_hip_drop(tmp_path), SMALL)


def test_connect_screen(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.connect(tmp_path), SMALL)


def test_calibrate_screen_after_a_capture(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.calibrate_after_a_capture(tmp_path), SMALL)


def test_settings_screen(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.settings(tmp_path), SMALL)


def test_help_overlay(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.help_overlay(tmp_path), SMALL)


def test_review_screen_of_a_saved_session(snap_compare: Snap, tmp_path: Path) -> None:
    assert _compare(snap_compare, tui_scenes.review_of_a_saved_session(tmp_path), SMALL)
