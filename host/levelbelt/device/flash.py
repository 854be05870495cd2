"""`levelbelt device flash`: MicroPython onto the board with esptool's Python API.

Everything that can be checked without the board is checked first: the image exists and
is an ESP32 flash image (first byte 0xE9) built for the chip asked for (the chip ID in its
extended header), and the port opens. Only then does esptool talk to the ROM bootloader;
when nothing syncs, the error says how to put the board into download mode, and a board
that turns out to be another ESP32 is refused before anything is erased or written.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import serial
from esptool.cmds import (  # type: ignore[import-untyped]
    attach_flash,
    detect_chip,
    erase_flash,
    reset_chip,
    run_stub,
    write_flash,
)
from esptool.targets import CHIP_DEFS  # type: ignore[import-untyped]
from esptool.util import FatalError  # type: ignore[import-untyped]

from levelbelt.device.defaults import CHIPS, CONNECT_ATTEMPTS
from levelbelt.device.errors import BootloaderError, DeviceError, ImageError, WrongChipError
from levelbelt.device.ports import check_port, explain_open_failure

IMAGE_MAGIC: Final = 0xE9
HEADER_BYTES: Final = 24  # common header (8) + extended header (16)
CHIP_ID_OFFSET: Final = 12  # uint16 LE in the extended header
MAX_IMAGE_BYTES: Final = 16 * 1024 * 1024  # the largest ESP32 flash
ROM_BAUD: Final = 115200


@dataclass(frozen=True)
class ImageFacts:
    path: Path
    size: int
    chip: str  # the esptool name, "esp32s3"
    offset: int  # where it goes in flash


def chip_name(chip: str) -> str:
    """esptool's display name: esp32s3 -> ESP32-S3."""
    return str(CHIP_DEFS[chip].CHIP_NAME)


def _chip_for_id(image_chip_id: int) -> str | None:
    for name, cls in CHIP_DEFS.items():
        if getattr(cls, "IMAGE_CHIP_ID", None) == image_chip_id and name != "esp8266":
            return str(name)
    return None


def check_image(path: Path, chip: str) -> ImageFacts:
    """The image's facts, or ImageError / WrongChipError before the board is touched."""
    if chip not in CHIPS:
        raise WrongChipError(f"--chip {chip} is not supported; use one of {', '.join(CHIPS)}")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ImageError(path, "not a file: give the MicroPython .bin you downloaded")
        with path.open("rb") as f:
            head = f.read(HEADER_BYTES)
    except FileNotFoundError:
        raise ImageError(path, "no such file") from None
    except PermissionError:
        raise ImageError(path, "cannot be read (permission denied)") from None
    if head.startswith(b"UF2\n"):
        raise ImageError(path, "is a UF2 file (drag-and-drop boards): download the .bin build")
    if head.startswith(b"\x7fELF"):
        raise ImageError(path, "is an ELF file: flash the .bin image, not the .elf")
    if len(head) < HEADER_BYTES or head[0] != IMAGE_MAGIC:
        first = f"0x{head[0]:02X}" if head else "nothing"
        raise ImageError(
            path,
            f"is not an ESP32 flash image (starts with {first}, expected 0x{IMAGE_MAGIC:02X}): "
            "download the MicroPython .bin for your board from micropython.org/download",
        )
    if size > MAX_IMAGE_BYTES:
        raise ImageError(path, f"is {size} bytes, larger than any ESP32 flash")
    (image_chip_id,) = struct.unpack_from("<H", head, CHIP_ID_OFFSET)
    built_for = _chip_for_id(image_chip_id)
    if built_for != chip:
        what = chip_name(built_for) if built_for else f"an unknown chip (ID {image_chip_id})"
        raise WrongChipError(
            f"{path} is built for {what}, not {chip_name(chip)}: download the MicroPython "
            f"build for {chip_name(chip)}, or pass the right --chip"
        )
    offset = int(CHIP_DEFS[chip].BOOTLOADER_FLASH_OFFSET)
    return ImageFacts(path=path, size=size, chip=chip, offset=offset)


def _bootloader_error(port: str, e: BaseException) -> BootloaderError:
    reason = str(e).split("\n", 1)[0].removeprefix("Failed to connect to Espressif device: ")
    return BootloaderError(
        f"no ESP32 bootloader answered on {port} ({reason.rstrip('.')}): hold BOOT while "
        "plugging the board in (or hold BOOT and tap RESET), then run this again"
    )


def flash(
    port: str,
    image: ImageFacts,
    *,
    erase: bool = False,
    connect_attempts: int = CONNECT_ATTEMPTS,
    say: Callable[[str], None] = print,
) -> str:
    """Write `image` to the board on `port`; returns the chip's name."""
    check_port(port)
    say(f"{image.path.name}: {image.size} bytes for {chip_name(image.chip)}, at 0x{image.offset:X}")
    try:
        esp: Any = detect_chip(port, baud=ROM_BAUD, connect_attempts=connect_attempts)
    except FatalError as e:
        raise _bootloader_error(port, e) from None
    except (serial.SerialException, OSError) as e:
        raise explain_open_failure(port, e) from None
    with esp:
        found = str(esp.CHIP_NAME)
        if found != chip_name(image.chip):
            raise WrongChipError(
                f"the board on {port} is an {found}, not {chip_name(image.chip)}: nothing was "
                f"written; use the MicroPython build for {found} and --chip "
                f"{found.lower().replace('-', '')}"
            )
        try:
            esp = run_stub(esp)
            attach_flash(esp)
            if erase:
                say("erasing the whole flash (files on the board are lost)")
                erase_flash(esp)
            write_flash(esp, [(image.offset, str(image.path))])
            reset_chip(esp, "hard-reset")
        except FatalError as e:
            raise DeviceError(
                f"flashing stopped: {str(e).splitlines()[0]}; the board is not usable until "
                "a flash completes: run this again (add --erase if it keeps failing)"
            ) from None
        except (serial.SerialException, OSError) as e:
            raise DeviceError(
                f"lost {port} while flashing ({e}): reconnect the board in download mode "
                "and run this again"
            ) from None
    return found
