"""Defaults of the device commands, importable without loading esptool or mpremote.

(`levelbelt --help` and every other subcommand build the device parser too.)
"""

from __future__ import annotations

from typing import Final

# ESP32 variants with Bluetooth LE and a MicroPython build (the belt needs BLE).
CHIPS: Final = ("esp32", "esp32s3", "esp32c3", "esp32c6")
DEFAULT_CHIP: Final = "esp32s3"  # the reference board, Seeed XIAO ESP32-S3
CONNECT_ATTEMPTS: Final = 7  # esptool's own default (a test keeps them equal)
REPL_TIMEOUT_S: Final = 5.0  # Ctrl-C to raw REPL prompt; a board answers in well under 1 s
