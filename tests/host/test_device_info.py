"""`levelbelt device info` against MicroPython 1.27 on a pty: what it reports, as text and JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_helpers import run_cli, small_firmware
from mpy_board import PtyBoard

from levelbelt import keys
from levelbelt.device.install import install
from levelbelt.device.repl import open_board


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


def _rows(text: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2) for m in re.finditer(r"^(\S.*?\S)  +(\S.*)$", text, re.M)
    }


def test_a_bare_board_shows_micropython_and_what_is_missing(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    code, out, err = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 0, err
    rows = _rows(out)
    assert rows["port"] == board.port
    assert rows["MicroPython"] == "1.27.0 (mpy v6.3, bytecode only)"
    assert rows["board"] == "JS with Emscripten"
    assert rows["firmware"] == "not installed (levelbelt device install)"
    assert rows["IMU"] == "no I2C on this board"
    assert rows["battery"] == "not measured (no ADC on this board)"
    assert rows["command key"] == "not provisioned (levelbelt device provision)"
    assert rows["belt name"].startswith("unknown")
    assert re.fullmatch(r"\d+(\.\d)? (KiB|MiB) free of \d+(\.\d)? (KiB|MiB)", rows["RAM"])


def test_json_reports_the_same_facts_with_types(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    code, out, _ = run_cli(capsys, "device", "info", "--port", board.port, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["micropython"] == "1.27.0"
    assert (info["mpy"], info["arch"], info["platform"]) == ("6.3", None, "webassembly")
    assert info["firmware_version"] is None and info["firmware_error"] == "missing"
    assert info["imu_status"] == "no_i2c"
    assert info["key_provisioned"] is False and info["key_size"] is None
    assert 0 < info["ram_free"] <= info["ram_total"]
    assert 0 < info["flash_free"] <= info["flash_total"]


def test_after_install_and_provision_info_shows_the_firmware_and_the_key(
    board: PtyBoard,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    board.wipe()
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "config"))
    with open_board(board.port) as b:
        install(b, small_firmware(tmp_path), say=lambda _: None)
    assert run_cli(capsys, "device", "provision", "--port", board.port, "--name", "LB-1")[0] == 0
    code, out, _ = run_cli(capsys, "device", "info", "--port", board.port, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["firmware_version"] == "9.8.7"
    assert info["key_provisioned"] is True and info["key_size"] == 32
    assert info["imu_status"] == "no_i2c", "the wasm port has no machine.I2C to probe"
    assert keys.load_key("LB-1").hex() not in json.dumps(info)


def test_a_broken_firmware_package_is_reported_as_broken(
    board: PtyBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    fw = small_firmware(tmp_path, {"__init__.py": "import missing_dependency\nVERSION = (1,)\n"})
    with open_board(board.port) as b:
        install(b, fw, say=lambda _: None)
    code, out, _ = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 0
    assert "broken: ImportError" in _rows(out)["firmware"]
    assert "missing_dependency" in _rows(out)["firmware"]


def test_a_damaged_key_file_is_reported_as_damaged(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    board.run("f = open('/belt.key', 'wb'); f.write(b'short'); f.close()")
    code, out, _ = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 0
    assert _rows(out)["command key"] == "damaged (5 bytes; provision again with --force)"


def test_the_table_for_a_belt_on_an_esp32_names_chip_battery_and_sizes() -> None:
    from levelbelt.device.info import DeviceInfo, render

    info = DeviceInfo(
        port="/dev/ttyACM0", micropython="1.27.0", mpy="6.3", arch="xtensawin",
        board="Generic ESP32S3 module with ESP32S3", platform="esp32",
        belt_name="LevelBelt-3A4F", firmware_version="0.1.0", firmware_error=None,
        imu_status="found", imu_detail="MPU-6050 at 0x68", battery_mv=3912,
        battery_detail=None, key_provisioned=True, key_size=32,
        flash_free=1_572_864, flash_total=2_097_152, ram_free=190_000, ram_total=250_000,
    )  # fmt: skip
    rows = _rows(render(info))
    assert rows["MicroPython"] == "1.27.0 (mpy v6.3, xtensawin)"
    assert rows["belt name"] == "LevelBelt-3A4F"
    assert rows["IMU"] == "MPU-6050 at 0x68"
    assert rows["battery"] == "3.91 V"
    assert rows["flash"] == "1.5 MiB free of 2.0 MiB"
    assert rows["RAM"] == "186 KiB free of 244 KiB"
    absent = render(
        DeviceInfo(**{**info.as_json(), "imu_status": "absent", "imu_detail": "bus: []"})
    )
    assert _rows(absent)["IMU"] == "none found (bus: [])"
