"""hardware/bom.csv is a complete, well-formed parts list, and hardware/README.md states
its totals as the CSV adds them up.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOM_PATH = ROOT / "hardware" / "bom.csv"
README = ROOT / "hardware" / "README.md"
POWER = ROOT / "hardware" / "power.md"
PINMAP_PATH = ROOT / "hardware" / "pinmap.toml"

COLUMNS = ["ref", "qty", "part", "value", "example", "sold_at", "unit_cost_usd", "build",
           "notes"]
BUILDS = {"all", "two-motor"}

# What a clip cannot be built without, as words that must appear in some row's `part`.
NEEDED = (
    "ESP32-S3 board", "IMU breakout", "vibration motor", "N-channel MOSFET",
    "flyback diode", "gate resistor", "gate pull-down", "battery divider (top)",
    "battery divider (bottom)", "ADC filter capacitor", "slide switch", "LiPo cell",
    "JST-PH", "perfboard", "wire", "heat-shrink", "clip case", "belt clip", "elastic belt",
    "USB-C cable",
)


Row = dict[str, str]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    with BOM_PATH.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def total(rows: list[Row], builds: set[str]) -> float:
    return round(sum(int(r["qty"]) * float(r["unit_cost_usd"]) for r in rows
                     if r["build"] in builds), 2)


def test_every_row_has_every_field_and_no_stray_columns(rows: list[Row]) -> None:
    assert rows
    for row in rows:
        assert None not in row, f"{row['ref']}: more cells than columns"
        for column in COLUMNS:
            assert row[column] and row[column].strip() == row[column], (row["ref"], column)


def test_references_are_unique(rows: list[Row]) -> None:
    refs = [r["ref"] for r in rows]
    assert len(refs) == len(set(refs))


def test_quantities_are_positive_whole_numbers(rows: list[Row]) -> None:
    for row in rows:
        assert re.fullmatch(r"[1-9]\d*", row["qty"]), (row["ref"], row["qty"])


def test_unit_costs_are_positive_dollar_amounts(rows: list[Row]) -> None:
    for row in rows:
        assert re.fullmatch(r"\d+\.\d\d", row["unit_cost_usd"]), (row["ref"], row["unit_cost_usd"])
        assert 0 < float(row["unit_cost_usd"]) < 100


def test_each_row_belongs_to_a_known_build(rows: list[Row]) -> None:
    assert {r["build"] for r in rows} == BUILDS


def test_no_links_so_no_affiliate_links(rows: list[Row]) -> None:
    text = BOM_PATH.read_text(encoding="utf-8").lower()
    assert "http" not in text and "www." not in text


@pytest.mark.parametrize("words", NEEDED)
def test_the_parts_a_clip_needs_are_all_listed(rows: list[Row], words: str) -> None:
    assert any(words.lower() in r["part"].lower() and r["build"] == "all" for r in rows), words


def test_the_board_is_the_one_the_pin_map_describes(rows: list[Row]) -> None:
    pinmap = tomllib.loads(PINMAP_PATH.read_text(encoding="utf-8"))
    (board,) = [r for r in rows if r["ref"] == "U1"]
    assert "XIAO ESP32-S3" in pinmap["board"]["name"]
    assert "XIAO ESP32-S3" in board["example"]


def test_the_second_motor_channel_repeats_the_first(rows: list[Row]) -> None:
    pinmap = tomllib.loads(PINMAP_PATH.read_text(encoding="utf-8"))
    by_ref = {r["ref"]: r for r in rows}
    first = pinmap["circuit"]["motor_driver"]
    second = pinmap["circuit"]["second_motor_driver"]
    for a, b in zip(first, second, strict=True):
        assert by_ref[a]["build"] == "all" and by_ref[b]["build"] == "two-motor"
        assert by_ref[a]["value"] == by_ref[b]["value"], (a, b)


def test_the_readme_states_both_totals_as_the_csv_adds_them_up(rows: list[Row]) -> None:
    text = README.read_text(encoding="utf-8")
    one = re.search(r"one-motor build[^\n]*?USD (\d+\.\d\d)", text)
    two = re.search(r"two-motor build[^\n]*?USD (\d+\.\d\d)", text)
    assert one and two, "hardware/README.md must state 'one-motor build ... USD x.xx' and "\
        "'two-motor build ... USD x.xx'"
    assert float(one.group(1)) == total(rows, {"all"})
    assert float(two.group(1)) == total(rows, BUILDS)


def test_the_power_budget_uses_the_listed_cell(rows: list[Row]) -> None:
    (cell,) = [r for r in rows if r["ref"] == "BT1"]
    capacity = re.search(r"(\d+) mAh", cell["value"])
    assert capacity
    assert f"{capacity.group(1)} mAh" in POWER.read_text(encoding="utf-8")
