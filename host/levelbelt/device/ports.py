"""Finding the belt's USB serial port, and saying exactly why a port cannot be opened.

Autodetection only picks ports whose USB vendor/product ID belongs to an ESP32 board:
Espressif's own USB (ESP32-S3/C3/C6 native USB, any product ID) and the USB-UART bridges
ESP32 boards carry. Anything else (a phone, a modem, Bluetooth serial) is never touched.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable
from typing import Final, Protocol

import serial
from serial.tools import list_ports

from levelbelt.device.errors import NoBoardError, PortError

ESPRESSIF_VID: Final = 0x303A
# (vendor, product) of the USB-UART bridges found on ESP32 boards.
UART_BRIDGES: Final[dict[tuple[int, int], str]] = {
    (0x10C4, 0xEA60): "Silicon Labs CP210x",
    (0x1A86, 0x7523): "WCH CH340",
    (0x1A86, 0x55D3): "WCH CH343",
    (0x1A86, 0x55D4): "WCH CH9102",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6010): "FTDI FT2232",
    (0x0403, 0x6015): "FTDI FT231X",
}


class UsbPort(Protocol):
    """What pyserial's port list tells about a port (its ListPortInfo)."""

    @property
    def device(self) -> str: ...
    @property
    def vid(self) -> int | None: ...
    @property
    def pid(self) -> int | None: ...
    @property
    def description(self) -> str: ...


def usb_chip(port: UsbPort) -> str | None:
    """Which ESP32 USB interface the port is, or None when it is not one."""
    if port.vid is None or port.pid is None:
        return None
    if port.vid == ESPRESSIF_VID:
        return "Espressif USB"
    return UART_BRIDGES.get((port.vid, port.pid))


def esp32_ports(ports: Iterable[UsbPort]) -> list[UsbPort]:
    return sorted((p for p in ports if usb_chip(p) is not None), key=lambda p: p.device)


def pick_port(ports: Iterable[UsbPort]) -> str:
    """The one ESP32 port among `ports`; an error naming them when there are none or several."""
    found = esp32_ports(ports)
    if not found:
        raise NoBoardError(
            "no board found: no USB serial port with an ESP32 USB ID (Espressif, CP210x, "
            "CH34x/CH9102, FTDI) is present; plug the belt in with a data cable, or name "
            "the port with --port"
        )
    if len(found) > 1:
        names = ", ".join(f"{p.device} ({usb_chip(p)})" for p in found)
        raise NoBoardError(f"several boards found: {names}; choose one with --port")
    return found[0].device


def find_port() -> str:
    return pick_port(list_ports.comports())


def _group_name(gid: int) -> str | None:
    try:
        import grp
    except ImportError:  # Windows
        return None
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def permission_hint(port: str) -> str:
    """What to do about EACCES on a serial device: join the group that owns it."""
    try:
        group = _group_name(os.stat(port).st_gid)
    except OSError:
        group = None
    if sys.platform.startswith("linux"):
        group = group or "dialout"
        return (
            f"permission denied on {port}: it belongs to the group '{group}'; add yourself "
            f"(sudo usermod -aG {group} $USER), then log out and back in"
        )
    if group:
        return f"permission denied on {port} (group '{group}'): add yourself to that group"
    return f"permission denied on {port}"


def _not_serial(port: str, what: str) -> PortError:
    return PortError(f"{port} is not a serial port ({what}): give the belt's USB port")


def explain_open_failure(port: str, exc: BaseException | None = None) -> PortError:
    """Turn a failed open into the one-line reason, probing the port if needed."""
    if not port.upper().startswith("COM"):
        try:
            st = os.stat(port)
        except FileNotFoundError:
            present = ", ".join(p.device for p in esp32_ports(list_ports.comports()))
            hint = f" (ESP32 ports present: {present})" if present else ""
            return PortError(f"{port} does not exist: is the belt plugged in?{hint}")
        except PermissionError:
            return PortError(permission_hint(port))
        if stat.S_ISDIR(st.st_mode):
            return _not_serial(port, "a directory")
        if not stat.S_ISCHR(st.st_mode):
            kind = "a regular file" if stat.S_ISREG(st.st_mode) else "not a device"
            return _not_serial(port, kind)
    if exc is None:
        try:
            probe = serial.Serial(port, exclusive=True)
        except serial.SerialException as e:
            exc = e
        else:
            probe.close()
            return PortError(f"{port} could not be opened just now; try again")
    return _classify(port, exc)


def _classify(port: str, exc: BaseException) -> PortError:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in (errno.EACCES, errno.EPERM):
        return PortError(permission_hint(port))
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return PortError(
            f"{port} is busy: another program has it open (a terminal, mpremote, the "
            "dashboard); close it and try again"
        )
    if code == errno.ENOENT:
        return PortError(f"{port} does not exist: is the belt plugged in?")
    if "Could not configure port" in text or code == errno.ENOTTY:
        return _not_serial(port, "it does not take serial settings")
    return PortError(f"cannot open {port}: {text}")


def check_port(port: str) -> None:
    """Open and close `port` once (exclusively), raising PortError with the reason."""
    try:
        probe = serial.Serial(port, exclusive=True)
    except serial.SerialException as e:
        raise explain_open_failure(port, e) from None
    except OSError as e:
        raise explain_open_failure(port, e) from None
    probe.close()
