"""Find the MicroPython firmware sources and import its pure modules on CPython.

The firmware ships inside the wheel (`levelbelt/_firmware`); in a source checkout it is
the repository's `firmware/`. The host runs the very same `belt` modules in the
simulator and in `levelbelt analyze`, so offline results equal the belt's.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from levelbelt.errors import LevelBeltError


def firmware_dir() -> Path:
    """Directory holding `main.py` and the `belt/` package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_firmware", here.parents[1] / "firmware"):
        if (candidate / "belt" / "__init__.py").is_file():
            return candidate
    raise LevelBeltError("firmware sources not found (broken install?)")


def belt_module(name: str) -> ModuleType:
    """Import `belt.<name>` (or the `belt` package itself for "") from the firmware."""
    path = str(firmware_dir())
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(f"belt.{name}" if name else "belt")


def firmware_version() -> tuple[int, int, int]:
    major, minor, patch = belt_module("").VERSION
    return (int(major), int(minor), int(patch))
