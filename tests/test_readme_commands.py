"""The README's two commands stay true: CI runs exactly the documented test line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def test_readme_has_one_setup_and_demo_line_and_one_test_line() -> None:
    demo, tests = _readme_commands()
    assert "\n" not in demo and "\n" not in tests
    assert demo.endswith("levelbelt demo")
    assert "npm ci" in tests and tests.endswith("python -m pytest")


def test_ci_runs_the_readme_test_line_verbatim() -> None:
    _, tests = _readme_commands()
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        ln for ln in script.splitlines() if ln.strip() and not ln.startswith(("#", "set ", "cd "))
    ]
    assert commands == [tests]
