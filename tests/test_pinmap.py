"""hardware/pinmap.toml and firmware/belt/board.py describe the same wiring.

Every `NAME = const(value)` in board.py must appear in the pin map (as a signal's `const`
or under [settings]) with the same value, and every pin-map entry must be a board.py
constant: a pin moved on one side only fails here. The pin map is also checked against
facts about the board and the chip that no edit of either file can change.
"""

from __future__ import annotations

import ast
import csv
import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINMAP_PATH = ROOT / "hardware" / "pinmap.toml"
BOM_PATH = ROOT / "hardware" / "bom.csv"
BOARD_PATH = ROOT / "firmware" / "belt" / "board.py"

# ESP32-S3 facts (Espressif, ESP32-S3 Series Datasheet v2.2: section 3, strapping pins;
# section 2, pin overview; ADC and USB Serial/JTAG pin functions).
STRAPPING = frozenset({0, 3, 45, 46})
SPI_FLASH = frozenset(range(26, 33))  # SPICS1, SPIHD, SPIWP, SPICS0, SPICLK, SPIQ, SPID
OCTAL_PSRAM = frozenset(range(33, 38))  # taken by the 8 MB octal PSRAM in an ESP32-S3R8
USB_SERIAL = frozenset({19, 20})  # USB D- / D+: the REPL and the host link
ADC1 = frozenset(range(1, 11))  # ADC1 channels 0-9; ADC2 is shared with the radio
GPIO_MAX = 48

# Seeed Studio XIAO ESP32S3 pin list: pad -> GPIO.
XIAO_PADS = {
    "D0": 1, "D1": 2, "D2": 3, "D3": 4, "D4": 5, "D5": 6, "D6": 43, "D7": 44,
    "D8": 7, "D9": 8, "D10": 9, "BOOT": 0, "LED": 21,
}
PAD_WORD = re.compile(r"\b(D\d{1,2}|BOOT|LED)\b")
PAD_GPIO_PAIR = re.compile(r"\b(D\d{1,2}|BOOT|LED)\b[\s,]+GPIO(\d+)")


def board_constants(source: str) -> dict[str, tuple[int, str]]:
    """`NAME = const(value)  # comment` lines of board.py -> {NAME: (value, comment)}."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: dict[str, tuple[int, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if not (isinstance(func, ast.Name) and func.id == "const"):
            continue
        (target,) = node.targets
        assert isinstance(target, ast.Name)
        value = ast.literal_eval(node.value.args[0])
        line = lines[node.lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        found[target.id] = (int(value), comment)
    return found


def pinmap_constants(pinmap: dict[str, Any]) -> dict[str, int]:
    """Every board.py name the pin map claims: signal pins and settings."""
    claimed: dict[str, int] = {}
    for signal in pinmap["signal"]:
        claimed[signal["const"]] = int(signal["gpio"])
    for name, value in pinmap["settings"].items():
        assert name not in claimed, f"{name} is both a signal and a setting"
        claimed[name] = int(value)
    return claimed


def differences(board: dict[str, int], claimed: dict[str, int]) -> list[str]:
    """What differs between board.py and the pin map, in both directions."""
    out = []
    for name in sorted(board.keys() - claimed.keys()):
        out.append(f"board.py has {name} = {board[name]}, the pin map does not")
    for name in sorted(claimed.keys() - board.keys()):
        out.append(f"the pin map has {name} = {claimed[name]}, board.py does not")
    for name in sorted(board.keys() & claimed.keys()):
        if board[name] != claimed[name]:
            out.append(f"{name}: board.py {board[name]}, pin map {claimed[name]}")
    return out


@pytest.fixture(scope="module")
def pinmap() -> dict[str, Any]:
    return tomllib.loads(PINMAP_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def board_source() -> str:
    return BOARD_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def board(board_source: str) -> dict[str, int]:
    return {name: value for name, (value, _) in board_constants(board_source).items()}


@pytest.fixture(scope="module")
def bom_refs() -> dict[str, dict[str, str]]:
    with BOM_PATH.open(newline="", encoding="utf-8") as fh:
        return {row["ref"]: row for row in csv.DictReader(fh)}


def all_pins(pinmap: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pinmap["signal"], *pinmap.get("spare", [])]


def test_the_pin_map_names_the_board_module_it_describes(pinmap: dict[str, Any]) -> None:
    assert (ROOT / pinmap["board"]["firmware"]).resolve() == BOARD_PATH
    assert pinmap["board"]["name"] == "Seeed Studio XIAO ESP32-S3"


def test_parsing_board_py_matches_importing_it(board: dict[str, int]) -> None:
    module = importlib.import_module("belt.board")
    assert board, "no NAME = const(value) lines found in board.py"
    for name, value in board.items():
        assert getattr(module, name) == value, name


def test_board_py_and_the_pin_map_hold_the_same_constants_and_values(
    pinmap: dict[str, Any], board: dict[str, int]
) -> None:
    assert differences(board, pinmap_constants(pinmap)) == []


def test_a_pin_changed_added_or_removed_on_one_side_is_reported(
    board: dict[str, int], board_source: str
) -> None:
    def diff(source: str) -> list[str]:
        return differences({k: v for k, (v, _) in board_constants(source).items()}, board)

    moved = re.sub(r"(?m)^(I2C_SDA = const\()\d+", r"\g<1>47", board_source)
    added = board_source + "\nBUZZER_PIN = const(8)  # D9\n"
    removed = re.sub(r"(?m)^LED_PIN = const\(\d+\).*$", "", board_source)

    assert diff(board_source) == []
    assert diff(moved) == [f"I2C_SDA: board.py 47, pin map {board['I2C_SDA']}"]
    assert diff(added) == ["board.py has BUZZER_PIN = 8, the pin map does not"]
    assert diff(removed) == [f"the pin map has LED_PIN = {board['LED_PIN']}, board.py does not"]


def test_the_board_pad_table_is_the_xiao_pin_list(pinmap: dict[str, Any]) -> None:
    assert pinmap["board"]["pads"] == XIAO_PADS
    edge = pinmap["board"]["edge"]
    on_edges = [p for p in edge["left"] + edge["right"] if p in XIAO_PADS]
    assert sorted(on_edges) == sorted(p for p in XIAO_PADS if p.startswith("D"))


def test_every_pin_uses_the_gpio_behind_its_pad(pinmap: dict[str, Any]) -> None:
    for pin in all_pins(pinmap):
        assert XIAO_PADS[pin["pad"]] == pin["gpio"], f"{pin['pad']} is GPIO{XIAO_PADS[pin['pad']]}"


def test_pad_names_in_board_py_comments_agree_with_the_pin_map(
    pinmap: dict[str, Any], board_source: str
) -> None:
    pad_of = {s["const"]: s["pad"] for s in pinmap["signal"]}
    for name, (_, comment) in board_constants(board_source).items():
        words = PAD_WORD.findall(comment)
        if name in pad_of and words:
            assert words[0] == pad_of[name], f"board.py comment on {name} names {words[0]}"
    pairs = PAD_GPIO_PAIR.findall(board_source)
    assert pairs, "board.py's docstring should list its wiring as 'PAD GPIOn'"
    for pad, gpio in pairs:
        assert XIAO_PADS[pad] == int(gpio), f"board.py says {pad} is GPIO{gpio}"


def test_no_gpio_is_used_twice(pinmap: dict[str, Any]) -> None:
    gpios = [p["gpio"] for p in all_pins(pinmap)]
    assert len(gpios) == len(set(gpios)), sorted(gpios)
    pads = [p["pad"] for p in all_pins(pinmap)]
    assert len(pads) == len(set(pads)), sorted(pads)


def test_no_gpio_belongs_to_flash_psram_or_usb(pinmap: dict[str, Any]) -> None:
    for pin in all_pins(pinmap):
        assert 0 <= pin["gpio"] <= GPIO_MAX
        assert pin["gpio"] not in SPI_FLASH | OCTAL_PSRAM, f"{pin['pad']} is a flash/PSRAM pin"
        assert pin["gpio"] not in USB_SERIAL, f"{pin['pad']} is a USB pin"


def test_strapping_pins_are_only_read_never_drive_a_load(pinmap: dict[str, Any]) -> None:
    strapped = [p for p in all_pins(pinmap) if p["gpio"] in STRAPPING]
    for pin in strapped:
        assert pin["direction"] == "in", f"GPIO{pin['gpio']} is a strapping pin: {pin}"
        assert pin["to"].split()[0] == "U1", "only the board's own button may sit on it"


def test_the_battery_is_read_on_an_adc1_channel(pinmap: dict[str, Any]) -> None:
    (sense,) = [p for p in pinmap["signal"] if p["role"] == "battery-sense"]
    assert sense["direction"] == "analog-in"
    assert sense["gpio"] in ADC1


def test_directions_and_roles_are_from_the_known_sets(pinmap: dict[str, Any]) -> None:
    for pin in all_pins(pinmap):
        assert pin["direction"] in {"in", "out", "open-drain", "analog-in"}, pin
        assert pin["role"] in {"i2c-sda", "i2c-scl", "motor", "battery-sense", "button", "led"}


def test_every_part_the_pin_map_names_is_in_the_bom(
    pinmap: dict[str, Any], bom_refs: dict[str, dict[str, str]]
) -> None:
    refs = {p["to"].split()[0] for p in all_pins(pinmap)}
    circuit = pinmap["circuit"]
    for key, value in circuit.items():
        if isinstance(value, list) and key != "imu_pins":
            refs.update(value)
        elif key in {"battery_filter", "switch", "battery", "battery_connector", "imu"}:
            refs.add(value)
    missing = sorted(refs - bom_refs.keys())
    assert missing == []


def test_every_motor_the_firmware_may_drive_is_wired(
    pinmap: dict[str, Any], board: dict[str, int]
) -> None:
    in_board_py = [p for p in pinmap["signal"] if p["role"] == "motor"]
    wired = [p for p in all_pins(pinmap) if p["role"] == "motor"]
    assert in_board_py, "board.py must name at least one motor pin"
    assert 1 <= board["MOTOR_COUNT"] <= len(wired) <= 2


def ohms(value: str) -> float:
    number, unit = value.split()
    return float(number) * {"Ohm": 1.0, "kOhm": 1e3, "MOhm": 1e6}[unit]


def test_the_divider_ratio_follows_from_the_bom_resistors(
    pinmap: dict[str, Any], board: dict[str, int], bom_refs: dict[str, dict[str, str]]
) -> None:
    top, bottom = (ohms(bom_refs[r]["value"]) for r in pinmap["circuit"]["battery_divider"])
    assert (top + bottom) / bottom == pytest.approx(board["BATTERY_DIVIDER"])
    # A full cell (4.2 V) must stay inside the ADC's 0-2900 mV range at 12 dB attenuation
    # (datasheet table 5-6), and the divider may not drain more than 50 uA.
    assert 4200 * bottom / (top + bottom) < 2900
    assert 4.2 / (top + bottom) < 50e-6


def test_the_i2c_clock_is_within_the_imus_fast_mode_limit(board: dict[str, int]) -> None:
    assert 100_000 <= board["I2C_FREQ"] <= 400_000  # MPU-6050 datasheet: 400 kHz fast mode


def test_the_mount_is_the_firmware_default_and_right_handed(pinmap: dict[str, Any]) -> None:
    align = importlib.import_module("belt.align")
    mount = pinmap["mount"]
    assert mount["default"] == align.MOUNT_DEFAULT == mount["right"] + mount["up"]
    assert align.parse_mount(mount["default"])

    def vec(axis: str) -> tuple[int, ...]:
        sign = 1 if axis[0] == "+" else -1
        i = "xyz".index(axis[1])
        return tuple(sign if k == i else 0 for k in range(3))

    r, u = vec(mount["right"]), vec(mount["up"])
    cross = (r[1] * u[2] - r[2] * u[1], r[2] * u[0] - r[0] * u[2], r[0] * u[1] - r[1] * u[0])
    # right x up = backward for a right-handed sensor frame (docs/units.md).
    assert cross == vec(mount["backward"])
