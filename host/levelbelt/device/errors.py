"""What can go wrong between the host and a board on USB, each with a one-line message.

All are `LevelBeltError`s: the CLI prints them as `levelbelt: error: ...` and exits 2.
"""

from __future__ import annotations

from levelbelt.errors import InputFileError, LevelBeltError, LinkError


class DeviceError(LevelBeltError):
    """A `levelbelt device` command could not do its job."""


class NoBoardError(DeviceError, LinkError):
    """No --port given and no USB serial port with an ESP32 USB ID is present."""


class PortError(DeviceError, LinkError):
    """The port is missing, not a serial device, busy, or not ours to open."""


class NoMicroPythonError(DeviceError, LinkError):
    """Something is on the port, but no MicroPython REPL answers."""


class BoardCommandError(DeviceError):
    """Code run on the board failed (its traceback's last line is in the message)."""


class VersionMismatchError(DeviceError):
    """The board's MicroPython cannot load the .mpy files this host compiles."""


class BootloaderError(DeviceError, LinkError):
    """No ESP32 ROM bootloader answered (esptool could not sync)."""


class WrongChipError(DeviceError):
    """The board, the image or --chip disagree about which ESP32 this is."""


class ImageError(InputFileError):
    """The firmware image file is missing or is not an ESP32 flash image."""


class ProvisionError(DeviceError):
    """The key could not be put on the belt, or the belt's name is unknown."""
