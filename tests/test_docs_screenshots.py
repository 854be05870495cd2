"""The dashboard pictures in the docs are the screens as they are now.

Each SVG in docs/images is exported again from its fixed scene (the snapshot tests'
own) and compared byte for byte, so a change to a screen that leaves the docs showing
the old one fails here; `docs/images/make_screenshots.py` brings them up to date.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_screenshots",
                                                  IMAGES / "make_screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


@pytest.mark.parametrize("name", sorted(SCRIPT.SHOTS))
def test_the_docs_show_the_screen_as_it_is(name: str) -> None:
    committed = (IMAGES / name).read_text(encoding="utf-8")
    assert SCRIPT.screenshot(name) == committed, (
        f"docs/images/{name} is out of date: run .venv/bin/python "
        "docs/images/make_screenshots.py and look at the pictures")


def test_every_picture_is_shown_in_the_guide() -> None:
    guide = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(images/([\w.-]+\.svg)\)", guide))
    assert shown == set(SCRIPT.SHOTS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/images/dashboard-drill.svg)" in readme
