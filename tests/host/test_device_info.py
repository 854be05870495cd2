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
    no_cell = render(DeviceInfo(**{**info.as_json(), "battery_mv": 40}))
    assert _rows(no_cell)["battery"] == (
        "no cell (0.04 V: switched off, or running on USB power alone)"
    )


# --- the IMU and battery rows, through the firmware's own code on the board -------------

FAKES = Path(__file__).resolve().parents[1] / "firmware"
# The firmware modules the IMU and battery probes import (and main.py, whose safe mode
# the soft reset at the end of each command runs into).
PROBED = ("__init__", "board", "hal", "safemode", "imu", "imu_fifo", "imu_mpu6050",
          "imu_lsm6dsox")


def _firmware_for_probes(root: Path) -> Path:
    """A firmware tree of the real modules the probes use, copied from firmware/."""
    from levelbelt.firmware import firmware_dir

    real = firmware_dir()
    (root / "belt").mkdir(parents=True)
    (root / "main.py").write_bytes((real / "main.py").read_bytes())
    for name in PROBED:
        (root / "belt" / f"{name}.py").write_bytes((real / "belt" / f"{name}.py").read_bytes())
    return root


def _esp32_board(board: PtyBoard, imu: str | None, battery_pin_uv: int) -> None:
    """Give the board an ESP32-like `machine`: the firmware tests' register-level fake
    chips on its I2C bus, a voltage on the battery ADC pin, and BOOT held (so main.py
    takes safe mode when the command's soft reset runs it)."""
    chip = {
        None: "",
        "mpu6050": "_b.devices[0x68] = fake_i2c.FakeMPU6050(_b.clock)",
        "lsm6dsox": "import fake_lsm6dsox\n"
                    "_b.devices[0x6A] = fake_lsm6dsox.FakeLSM6DSOX(_b.clock)",
    }[imu]
    shim = (
        "import fake_i2c\nimport fake_machine\nfrom fake_machine import *\n"
        f"_b = fake_machine.Board()\n{chip}\n"
        f"_b.volts_uv[{BATTERY_ADC_PIN}] = {battery_pin_uv}\n"
        "_b.drive(0, 0)\nfake_machine.install(_b)\n"
    )
    for name in ("fake_i2c", "fake_machine", "fake_lsm6dsox"):
        _put(board, f"/lib/{name}.py", (FAKES / f"{name}.py").read_bytes())
    _put(board, "/lib/machine.py", shim.encode())


def _put(board: PtyBoard, path: str, data: bytes) -> None:
    board.run(
        "import os\ntry:\n    os.mkdir('/lib')\nexcept OSError:\n    pass\n"
        f"f = open({path!r}, 'wb')\nf.write({data!r})\nf.close()\n"
    )


BATTERY_ADC_PIN = 1  # firmware/belt/board.py (test_pinmap keeps it equal to the pin map)


@pytest.mark.parametrize(("imu", "expected"), [
    ("mpu6050", "MPU-6050 at 0x68"),
    ("lsm6dsox", "LSM6DSOX at 0x6a"),
])
def test_on_an_esp32_like_board_info_finds_the_imu_with_the_firmwares_own_detection(
    board: PtyBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    imu: str, expected: str,
) -> None:
    board.wipe()
    _esp32_board(board, imu, battery_pin_uv=1_956_000)
    with open_board(board.port) as b:
        install(b, _firmware_for_probes(tmp_path), say=lambda _: None)
    code, out, err = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 0, err
    rows = _rows(out)
    assert rows["IMU"] == expected
    assert rows["battery"] == "3.91 V", "1.956 V at the pin, times the divider of 2"


def test_with_nothing_on_the_bus_info_says_no_imu_and_what_to_check(
    board: PtyBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    _esp32_board(board, None, battery_pin_uv=1_800_000)
    with open_board(board.port) as b:
        install(b, _firmware_for_probes(tmp_path), say=lambda _: None)
    code, out, err = run_cli(capsys, "device", "info", "--port", board.port, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["imu_status"] == "absent"
    assert "check SDA/SCL" in info["imu_detail"] and "devices on the bus: []" in info["imu_detail"]
    assert info["battery_mv"] == 3600
