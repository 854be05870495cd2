"""The `levelbelt device` subcommands: flash, install, provision, info.

Each opens the port given with --port (or the one ESP32 USB port present), does its job
and, for the three that use the REPL, soft-resets the board at the end so the belt's app
runs again. Expected failures are `LevelBeltError`s (one line, exit 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from levelbelt.device.defaults import CHIPS, CONNECT_ATTEMPTS, DEFAULT_CHIP, REPL_TIMEOUT_S

if TYPE_CHECKING:
    from levelbelt.device.repl import Board


def _port(args: argparse.Namespace) -> str:
    from levelbelt.device.ports import find_port

    port: str | None = args.port
    if port:
        return port
    found = find_port()
    print(f"using {found}")
    return found


def _board(args: argparse.Namespace) -> Board:
    from levelbelt.device.repl import open_board

    return open_board(_port(args), repl_timeout_s=args.timeout)


def _cmd_flash(args: argparse.Namespace) -> int:
    from levelbelt.device.flash import check_image, flash

    image = check_image(Path(args.image), args.chip)
    chip = flash(
        _port(args), image, erase=args.erase, connect_attempts=args.connect_attempts
    )
    print(f"MicroPython written to the {chip}; next: levelbelt device install")
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    from levelbelt.device.install import install
    from levelbelt.firmware import firmware_dir

    firmware = Path(args.firmware) if args.firmware else firmware_dir()
    with _board(args) as board:
        report = install(board, firmware, force=args.force)
    print(f"{report.summary()}; the belt restarts with the new firmware")
    return 0


def _cmd_provision(args: argparse.Namespace) -> int:
    from levelbelt.device.provision import provision
    from levelbelt.keys import check_belt_name

    if args.name is not None:
        check_belt_name(args.name)  # before the belt is touched
    with _board(args) as board:
        provision(board, name=args.name, force=args.force)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from levelbelt.device.info import gather, render

    with _board(args) as board:
        info = gather(board)
    if args.json:
        payload: dict[str, Any] = info.as_json()
        print(json.dumps(payload, indent=2, sort_keys=True))
    else:
        print(render(info))
    return 0


def _common(p: argparse.ArgumentParser, *, repl: bool) -> None:
    p.add_argument("--port", help="the belt's USB serial port (default: the one ESP32 "
                   "USB port present), e.g. /dev/ttyACM0, /dev/cu.usbmodem1101, COM5")
    if repl:
        p.add_argument("--timeout", type=float, default=REPL_TIMEOUT_S,
                       metavar="SECONDS",
                       help="how long to wait for the MicroPython REPL "
                       f"(default {REPL_TIMEOUT_S:g})")


def add_device_parser(sub: Any) -> None:
    """Register `levelbelt device ...` on the top-level subparsers object."""
    dev = sub.add_parser("device", help="flash, install, provision and inspect a belt on USB",
                         description="Put MicroPython and the LevelBelt firmware on a board "
                         "over USB, give it its command key, and see what is on it "
                         "(docs/flashing.md).")
    dsub = dev.add_subparsers(dest="device_command", required=True)

    f = dsub.add_parser("flash", help="write MicroPython to the board (ROM download mode)")
    _common(f, repl=False)
    f.add_argument("--image", required=True, metavar="FIRMWARE.bin",
                   help="the MicroPython image for the board, from micropython.org/download")
    f.add_argument("--chip", choices=CHIPS, default=DEFAULT_CHIP,
                   help="the board's chip (default esp32s3, the reference XIAO ESP32-S3)")
    f.add_argument("--erase", action="store_true",
                   help="erase the whole flash first (removes every file on the board)")
    f.add_argument("--connect-attempts", type=int, default=CONNECT_ATTEMPTS, metavar="N",
                   help=f"bootloader connection attempts (default {CONNECT_ATTEMPTS})")
    f.set_defaults(func=_cmd_flash)

    i = dsub.add_parser("install", help="compile the firmware and copy what changed")
    _common(i, repl=True)
    i.add_argument("--force", action="store_true", help="copy every file, changed or not")
    i.add_argument("--firmware", metavar="DIR",
                   help="a firmware tree (main.py and belt/) to install instead of the one "
                   "that comes with this levelbelt, e.g. firmware/ of another checkout")
    i.set_defaults(func=_cmd_install)

    p = dsub.add_parser("provision", help="make a new command key for the belt (USB only)")
    _common(p, repl=True)
    p.add_argument("--name", help="the belt's name, needed when the board has no "
                   "Bluetooth or Wi-Fi MAC to take it from (LevelBelt-XXXX)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing key on the belt and on this computer")
    p.set_defaults(func=_cmd_provision)

    n = dsub.add_parser("info", help="MicroPython, firmware, IMU, battery, key, free space")
    _common(n, repl=True)
    n.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    n.set_defaults(func=_cmd_info)
