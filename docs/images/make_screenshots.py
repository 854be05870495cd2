"""The dashboard screenshots in this folder, exported from fixed scenes.

The scenes are the SVG snapshot tests' own (`tests/host/tui_scenes.py`): a simulated
belt stepped to a fixed belt time, every figure from belt time, a fixed session date;
so a run with the same code and Textual gives the same files, and after a change to a
screen one command brings the pictures in the docs up to date:

    .venv/bin/python docs/images/make_screenshots.py [--out docs/images]

`tests/test_docs_screenshots.py` checks that the files here match the screens.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual._doc import take_svg_screenshot  # what the snapshot tests use

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "host"))  # the tests' folder is not a package
tui_scenes: Any = importlib.import_module("tui_scenes")

LARGE = (120, 36)
Build = Callable[[Path], Any]  # a folder for the scene's files -> tui_scenes.Scene
SHOTS: dict[str, tuple[str, tuple[int, int], Build]] = {
    "dashboard-drill.svg": ("LevelBelt · drill", LARGE, tui_scenes.drill_during_a_hip_drop),
    "dashboard-coach-grid.svg": ("LevelBelt · coach grid", LARGE,
                                 tui_scenes.coach_grid_during_a_hip_drop),
    "dashboard-review.svg": ("LevelBelt · review", LARGE, tui_scenes.review_with_a_trend),
    "dashboard-calibrate.svg": ("LevelBelt · calibrate", (100, 26),
                                tui_scenes.calibrate_after_a_capture),
}


def screenshot(name: str) -> str:
    """One screen as SVG text, the scene built in a private temporary folder."""
    title, size, build = SHOTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        scene = build(Path(tmp))
        svg = take_svg_screenshot(scene.app, title=title, terminal_size=size,
                                  press=scene.press, run_before=scene.run_before)
    # The SVG's element ids carry a hash of the render, styles' run-time metadata
    # included; without it (as the snapshot tests do) the same screen is the same file.
    return re.sub(r"\bterminal-\d+-", "terminal-", svg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="folder for the SVG files (default: this one)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SHOTS:
        path = args.out / name
        path.write_text(screenshot(name), encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
