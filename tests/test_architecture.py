"""docs/architecture.md and its picture describe the code as it is, and the layering holds.

The module map must name every module of the firmware and of the host package (and
none that is gone); the picture must be what docs/make_architecture_svg.py draws and
name only files that exist. The import rules the document states are checked on the
source: only `belt/hal.py` touches `machine` / `bluetooth`, only `tui/` imports
Textual, only the BLE transport and the test rig import bleak, only the device
commands import esptool and mpremote, and the core imports nothing above it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
HOST = ROOT / "host" / "levelbelt"
DOC = ROOT / "docs" / "architecture.md"
SVG = ROOT / "docs" / "architecture.svg"
SCRIPT = ROOT / "docs" / "make_architecture_svg.py"

# The core: pure data and algorithms, no links, no screens (docs/architecture.md).
CORE = {
    "errors", "protocol", "framing", "coverage", "command_auth", "jsonrecord", "safe_text",
    "keys", "firmware", "rawcsv", "analyze", "plans", "plan_text", "engine", "scoring",
    "weaker_side", "svgplot", "set_timer", "session",
}
ABOVE_THE_CORE = {"textual", "bleak", "bumble", "serial", "asyncio", "socket", "esptool",
                  "mpremote"}


def _modules(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.py")
        if "__pycache__" not in p.parts and p.name != "__init__.py"
    )


def _map_section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return section.split(heading, 1)[1].split("\n### ", 1)[0]


def _named(section: str) -> set[str]:
    return set(re.findall(r"`([\w/.]+\.py)`", section))


def test_the_module_map_names_every_firmware_module_and_no_other() -> None:
    named = _named(_map_section("### Belt"))
    assert sorted(set(_modules(FIRMWARE)) - named) == []
    assert sorted(named - set(_modules(FIRMWARE))) == []


def test_the_module_map_names_every_host_module_and_no_other() -> None:
    named = _named(_map_section("### Host"))
    assert sorted(set(_modules(HOST)) - named) == []
    assert sorted(named - set(_modules(HOST))) == []


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_architecture_svg", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_picture_is_what_its_script_draws() -> None:
    assert SVG.read_text(encoding="utf-8") == _script().draw(), (
        "run python docs/make_architecture_svg.py"
    )


def test_the_picture_is_well_formed_and_shown_by_the_document() -> None:
    ET.fromstring(SVG.read_bytes())
    assert "](architecture.svg)" in DOC.read_text(encoding="utf-8")


def test_every_file_the_picture_names_exists() -> None:
    texts = " ".join(
        t.text or "" for t in ET.fromstring(SVG.read_bytes()).iter()
        if t.tag.endswith("text")
    )
    names = set(re.findall(r"(?<![\w/.])([a-z_]+\.py|[a-z]+/)(?![\w])", texts))
    assert {"pipeline.py", "transports/", "device/"} <= names
    files = [p for r in (FIRMWARE, HOST) for p in r.rglob("*") if "__pycache__" not in p.parts]
    known = {p.name for p in files} | {p.name + "/" for p in files if p.is_dir()}
    known |= {p.name + "/" for p in ROOT.iterdir() if p.is_dir()}  # firmware/, docs/
    assert sorted(n for n in names if n not in known) == []


# --- layering -------------------------------------------------------------------------


def _imports(path: Path, package: str) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = package.split(".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _host_imports() -> dict[str, set[str]]:
    """{"tui/app.py": {"textual.app", "levelbelt.feeds", ...}, ...}"""
    out = {}
    for rel in _modules(HOST) + [p.relative_to(HOST).as_posix()
                                 for p in HOST.rglob("__init__.py")]:
        package = ".".join(["levelbelt", *Path(rel).parent.parts])
        out[rel] = _imports(HOST / rel, package)
    return out


def _tops(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def _users(library: str) -> list[str]:
    return sorted(rel for rel, names in _host_imports().items() if library in _tops(names))


def test_on_the_belt_only_hal_imports_machine_or_bluetooth() -> None:
    users = sorted(
        p.relative_to(FIRMWARE).as_posix() for p in FIRMWARE.rglob("*.py")
        if {"machine", "bluetooth"} & _tops(_imports(p, "belt"))
    )
    assert users == ["belt/hal.py"]


def test_only_the_tui_package_imports_textual() -> None:
    users = _users("textual")
    assert users and all(u.startswith("tui/") for u in users)


@pytest.mark.parametrize(("library", "allowed"), [
    ("bleak", ("transports/ble_link.py", "blerig/")),
    ("bumble", ("blerig/",)),
    ("esptool", ("device/",)),
    ("mpremote", ("device/",)),
])
def test_radio_and_board_libraries_stay_in_their_own_modules(
    library: str, allowed: tuple[str, ...]
) -> None:
    users = _users(library)
    assert users and all(u.startswith(allowed) for u in users), users


def _is_core(rel: str) -> bool:
    return rel.split("/")[0].removesuffix(".py") in CORE


def test_the_core_imports_no_link_screen_or_event_loop_and_nothing_above_it() -> None:
    problems = []
    for rel, names in _host_imports().items():
        if not _is_core(rel):
            continue
        if bad := _tops(names) & ABOVE_THE_CORE:
            problems.append(f"{rel}: {sorted(bad)}")
        for name in names:
            parts = name.split(".")
            if parts[0] != "levelbelt" or len(parts) == 1 or parts[1] in CORE:
                continue
            if (HOST / parts[1]).is_dir() or (HOST / f"{parts[1]}.py").is_file():
                problems.append(f"{rel}: imports levelbelt.{parts[1]}")
    assert problems == []


def test_the_firmwares_pure_modules_import_nothing_from_the_host() -> None:
    for path in FIRMWARE.rglob("*.py"):
        assert "levelbelt" not in _tops(_imports(path, "belt")), path
