"""hardware/wiring.svg and hardware/mount.svg are exactly what hardware/make_wiring_svg.py
draws from the pin map and the BOM, so the drawings cannot drift from the pins the
firmware uses.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARDWARE = ROOT / "hardware"
SCRIPT = HARDWARE / "make_wiring_svg.py"
SVG = HARDWARE / "wiring.svg"
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def drawer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_wiring_svg", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def test_the_committed_drawings_are_what_the_script_draws_now(drawer: ModuleType) -> None:
    fresh = drawer.drawings(drawer.load())
    assert sorted(fresh) == ["mount.svg", "wiring.svg"]
    for name, text in fresh.items():
        assert (HARDWARE / name).read_text(encoding="utf-8") == text, (
            f"hardware/{name} is stale: run python hardware/make_wiring_svg.py"
        )


def test_the_drawings_are_well_formed_svg(drawer: ModuleType) -> None:
    root = ET.fromstring(SVG.read_text(encoding="utf-8"))
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == f"0 0 {drawer.WIDTH} {drawer.HEIGHT}"
    mount = ET.fromstring((HARDWARE / "mount.svg").read_text(encoding="utf-8"))
    assert mount.tag == f"{NS}svg"
    assert mount.get("width") == str(drawer.D_BOX[2] + 20)


def test_every_pin_appears_with_its_pad_gpio_and_board_constant(drawer: ModuleType) -> None:
    data = drawer.load()
    shown = texts(SVG.read_text(encoding="utf-8"))
    for pin in data.pins:
        assert any(f"GPIO{pin.gpio}" in t and pin.pad in t for t in shown), pin.pad
        if pin.fitted:
            assert pin.const in shown, pin.const


def test_the_parts_are_labelled_with_their_bom_values(drawer: ModuleType) -> None:
    data = drawer.load()
    joined = "\n".join(texts(SVG.read_text(encoding="utf-8")))
    circuit = data.circuit
    refs = [*circuit["motor_driver"], *circuit["battery_divider"], circuit["battery_filter"]]
    for ref in refs:
        part = data.parts[ref]
        assert ref in joined
        assert drawer.pretty(part.value) in joined, (ref, part.value)
    assert f"\u00d7 {data.settings['BATTERY_DIVIDER']}" in joined


@pytest.mark.parametrize("name", ["wiring.svg", "mount.svg"])
def test_the_mount_panel_shows_the_firmware_default_axes(name: str) -> None:
    joined = "\n".join(texts((HARDWARE / name).read_text(encoding="utf-8")))
    assert "+x+y" in joined
    assert "wearer's right" in joined and "+X" in joined and "+Y up" in joined
    assert "out of the sacrum" in joined and "+Z" in joined


def test_a_moved_pin_moves_in_the_drawing(drawer: ModuleType, tmp_path: Path) -> None:
    pinmap = (HARDWARE / "pinmap.toml").read_text(encoding="utf-8")
    moved = pinmap.replace('pad = "D1"\ngpio = 2', 'pad = "D8"\ngpio = 7')
    assert moved != pinmap
    path = tmp_path / "pinmap.toml"
    path.write_text(moved, encoding="utf-8")
    shown = texts(drawer.render(drawer.load(path, HARDWARE / "bom.csv")))
    assert "M1 on D8 · GPIO7 (MOTOR_PIN)" in shown
    assert "M1 on D1 · GPIO2 (MOTOR_PIN)" not in shown


def test_a_pin_role_it_cannot_draw_is_a_clear_error(drawer: ModuleType, tmp_path: Path) -> None:
    pinmap = (HARDWARE / "pinmap.toml").read_text(encoding="utf-8")
    path = tmp_path / "pinmap.toml"
    path.write_text(pinmap.replace('role = "led"', 'role = "buzzer"'), encoding="utf-8")
    with pytest.raises(drawer.PinmapError, match="role 'buzzer'"):
        drawer.load(path, HARDWARE / "bom.csv")


def test_a_part_missing_from_the_bom_is_named(drawer: ModuleType, tmp_path: Path) -> None:
    bom = (HARDWARE / "bom.csv").read_text(encoding="utf-8")
    path = tmp_path / "bom.csv"
    path.write_text("\n".join(line for line in bom.splitlines() if not line.startswith("Q1,")),
                    encoding="utf-8")
    with pytest.raises(drawer.PinmapError, match="'Q1'"):
        drawer.render(drawer.load(HARDWARE / "pinmap.toml", path))


def test_check_mode_fails_on_a_stale_file_and_passes_after_a_rewrite(tmp_path: Path) -> None:
    (tmp_path / "wiring.svg").write_text("<svg/>", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SCRIPT), "--dir", str(tmp_path), *args],
                              capture_output=True, text=True, timeout=60, check=False)

    stale = run("--check")
    assert stale.returncode == 1
    assert "wiring.svg is stale" in stale.stderr and "mount.svg is stale" in stale.stderr
    assert run().returncode == 0
    assert run("--check").returncode == 0
    for name in ("wiring.svg", "mount.svg"):
        assert (tmp_path / name).read_bytes() == (HARDWARE / name).read_bytes()


def test_a_bad_pin_map_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    hardware = tmp_path / "hardware"
    hardware.mkdir()
    (hardware / "bom.csv").write_bytes((HARDWARE / "bom.csv").read_bytes())
    (hardware / "pinmap.toml").write_text("[board\n", encoding="utf-8")
    (hardware / "make_wiring_svg.py").write_bytes(SCRIPT.read_bytes())
    proc = subprocess.run([sys.executable, str(hardware / "make_wiring_svg.py")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("make_wiring_svg: error: pinmap.toml:")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (hardware / "wiring.svg").exists()


def test_the_script_needs_only_the_standard_library() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
