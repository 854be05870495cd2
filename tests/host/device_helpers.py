"""Shared by the `levelbelt device` tests: running the CLI, and firmware trees to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from levelbelt.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`levelbelt argv...` in this process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def small_firmware(root: Path, modules: dict[str, str] | None = None) -> Path:
    """A firmware tree shaped like firmware/: main.py plus a `belt` package."""
    fw = root / "firmware"
    (fw / "belt").mkdir(parents=True)
    (fw / "main.py").write_text("from belt import core\ncore.start()\n")
    files = modules or {
        "__init__.py": "VERSION = (9, 8, 7)\n",
        "core.py": "def start():\n    return 'started'\n",
        "maths.py": "def twice(x):\n    return 2 * x\n",
    }
    for name, text in files.items():
        path = fw / "belt" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return fw
