"""Shared test helpers: the firmware directory and the golden vectors on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "firmware", ROOT / "tests" / "firmware"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
