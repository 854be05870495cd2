"""`levelbelt device info`: what is on the board, as a table or as JSON.

MicroPython version and board, the .mpy format, LevelBelt firmware version, the IMU as
the firmware's own detection finds it, battery voltage, whether a command key is
provisioned (never the key), free flash and RAM, and the belt's name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from levelbelt.device.probe import (
    battery_report,
    board_name,
    firmware_facts,
    imu_report,
    key_size,
    system_facts,
)
from levelbelt.device.repl import Board
from levelbelt.firmware import belt_module
from levelbelt.keys import KEY_BYTES


@dataclass(frozen=True)
class DeviceInfo:
    port: str
    micropython: str
    mpy: str | None  # "6.3"
    arch: str | None
    board: str
    platform: str
    belt_name: str | None
    firmware_version: str | None
    firmware_error: str | None
    imu_status: str  # found / absent / no_i2c / no_firmware / error
    imu_detail: str | None
    battery_mv: int | None
    battery_detail: str | None
    key_provisioned: bool
    key_size: int | None
    flash_free: int | None
    flash_total: int | None
    ram_free: int
    ram_total: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def gather(board: Board) -> DeviceInfo:
    sysf = system_facts(board)
    fw = firmware_facts(board)
    name = board_name(board)
    size = key_size(board)
    imu_status, imu_detail = imu_report(board)
    mv, battery_why = battery_report(board)
    return DeviceInfo(
        port=board.port,
        micropython=sysf.version,
        mpy=f"{sysf.abi.version}.{sysf.abi.sub}" if sysf.abi else None,
        arch=sysf.abi.arch if sysf.abi else None,
        board=sysf.machine,
        platform=sysf.platform,
        belt_name=name.name,
        firmware_version=fw.version,
        firmware_error=fw.error,
        imu_status=imu_status,
        imu_detail=imu_detail,
        battery_mv=mv,
        battery_detail=battery_why,
        key_provisioned=size == KEY_BYTES,
        key_size=size,
        flash_free=sysf.flash_free,
        flash_total=sysf.flash_total,
        ram_free=sysf.ram_free,
        ram_total=sysf.ram_free + sysf.ram_used,
    )


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def _firmware(i: DeviceInfo) -> str:
    if i.firmware_version:
        return f"LevelBelt {i.firmware_version}"
    if i.firmware_error in (None, "missing"):
        return "not installed (levelbelt device install)"
    return f"broken: {i.firmware_error} (levelbelt device install --force)"


def _imu(i: DeviceInfo) -> str:
    if i.imu_status == "found":
        return i.imu_detail or "found"
    if i.imu_status == "absent":
        return f"none found ({i.imu_detail})"
    if i.imu_status == "no_i2c":
        return "no I2C on this board"
    if i.imu_status == "no_firmware":
        return "not probed (firmware not installed)"
    return f"probe failed: {i.imu_detail}"


def _battery(i: DeviceInfo) -> str:
    if i.battery_mv is None:
        return f"not measured ({i.battery_detail})"
    volts = f"{i.battery_mv / 1000:.2f} V"
    if i.battery_mv < belt_module("battery").NO_CELL_MV:  # what the belt itself calls no cell
        return f"no cell ({volts}: switched off, or running on USB power alone)"
    return volts


def _key(i: DeviceInfo) -> str:
    if i.key_provisioned:
        return "provisioned"
    if i.key_size is None:
        return "not provisioned (levelbelt device provision)"
    return f"damaged ({i.key_size} bytes; provision again with --force)"


def render(i: DeviceInfo) -> str:
    mpy = f"mpy v{i.mpy}, {i.arch or 'bytecode only'}" if i.mpy else "no .mpy support"
    flash = (
        f"{_size(i.flash_free)} free of {_size(i.flash_total)}"
        if i.flash_free is not None and i.flash_total is not None
        else "unknown"
    )
    rows = [
        ("port", i.port),
        ("MicroPython", f"{i.micropython} ({mpy})"),
        ("board", i.board),
        ("belt name", i.belt_name or "unknown (no Bluetooth or Wi-Fi MAC on this board)"),
        ("firmware", _firmware(i)),
        ("IMU", _imu(i)),
        ("battery", _battery(i)),
        ("command key", _key(i)),
        ("flash", flash),
        ("RAM", f"{_size(i.ram_free)} free of {_size(i.ram_total)}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
