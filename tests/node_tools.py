"""Shared by the tests that drive node: the MicroPython wasm runtime must be installed.

CI runs `npm ci`, so a missing runtime is a failure with the fix in the message, never a
skip that would let the MicroPython tier silently not run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WASM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


def require_node() -> str:
    """Path of node, asserting the pinned MicroPython package is installed."""
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node.js 20+, then run `npm ci` in the repo root"
    assert WASM_PACKAGE.is_dir(), (
        f"{WASM_PACKAGE.relative_to(ROOT)} is missing: run `npm ci` in the repo root"
    )
    return node


def run_captured(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run from the repo root; returns the result and its output formatted for assertions."""
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    return proc, f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
