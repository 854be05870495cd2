"""`levelbelt plans`: list the built-ins, show expanded phases, check files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from review_helpers import record

from levelbelt.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plans_lists_builtins_with_duration_and_description(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plans")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("trendelenburg-30s"))
    assert "1:20" in line and "30 s single-leg stance per side" in line
    assert run(capsys, "plans", "list")[1] == out


def test_plans_show_prints_every_phase_with_its_start(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plans", "show", "glute-iso-daily", "--weak-side", "right")
    assert code == 0
    assert "note: weaker side: right (set by hand)" in out
    rows = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    holds = [r for r in rows if r[2] == "hold"]
    assert len(holds) == 45
    assert holds[0][1:7] == ["0:05", "hold", "1", "right", "standing", "1/10"]
    rezero = next(r for r in rows if r[2] == "rezero")
    assert rezero[4:6] == ["-", "seated"] and rezero[-2:] == ["+", "capture"]


def test_plans_show_without_a_weak_side_says_the_volume_is_equal(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "plans", "show", "balance-ladder")
    assert "weaker side unknown" in out and "both sides get 8 holds" in out


def test_plans_check_accepts_good_files_and_names_the_bad_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[blocks]]\nkind = "single_leg"\nhold_s = 30\n', encoding="utf-8")
    code, out, _ = run(capsys, "plans", "check", str(good))
    assert code == 0 and out.startswith(f"{good}: ok: good: 1 block, 2 holds")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[blocks]]\nkind = "single_leg"\nhold_s = 30\nrest = 5\n', encoding="utf-8")
    code, out, err = run(capsys, "plans", "check", str(good), str(bad))
    assert code == 2
    assert err == (f"levelbelt: error: {bad}: blocks[1].rest: unknown key; allowed keys here: "
                   "kind, side, hold_s, ladder_s, reps, rest_s, get_ready_s, order, label\n")


def test_plans_show_of_an_unknown_name_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plans", "show", "squats")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("levelbelt: error: squats: no built-in plan of that name")


def hold_sides(out: str) -> list[str]:
    return [r[4] for r in (ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit())
            if r[2] == "hold"]


def test_plans_show_takes_the_weaker_side_from_the_athletes_sessions_once_confirmed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sessions"
    show = ("plans", "show", "balance-ladder", "--athlete", "ana")
    for day in (1, 2):
        record(folder, "ana", "right", seed=day, created=datetime(2025, 3, day, 9, 30))
    code, out, _ = run(capsys, *show, "--sessions", str(folder))
    assert code == 0
    assert (f"weaker side unknown (not confirmed: needs 3 consecutive sessions naming the "
            f"same weaker side; 2 finished sessions of ana in {folder})") in out
    assert hold_sides(out).count("right") == hold_sides(out).count("left") == 8

    record(folder, "ana", "right", seed=3, created=datetime(2025, 3, 3, 9, 30))
    code, out, _ = run(capsys, *show, "--sessions", str(folder))
    assert code == 0
    assert (f"note: weaker side: right (weaker in the last 3 sessions with a verdict; "
            f"3 finished sessions of ana in {folder})") in out
    assert hold_sides(out).count("right") == 8 and hold_sides(out).count("left") == 4

    monkeypatch.setenv("LEVELBELT_DATA_DIR", str(tmp_path))  # makes `folder` the default
    assert run(capsys, *show)[1] == out
    _, by_hand, _ = run(capsys, *show, "--weak-side", "left")
    assert "note: weaker side: left (set by hand)" in by_hand
    assert hold_sides(by_hand).count("left") == 8
    _, other, _ = run(capsys, "plans", "show", "balance-ladder", "--athlete", "bo")
    assert "weaker side unknown (no previous sessions; 0 finished sessions of bo" in other


def test_plans_show_refuses_a_sessions_folder_it_cannot_use(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "plans", "show", "balance-ladder", "--sessions", str(tmp_path))
    assert code == 2 and out == ""
    assert err == "levelbelt: error: --sessions needs --athlete: whose sessions to read\n"
    code, out, err = run(capsys, "plans", "show", "balance-ladder", "--athlete", "ana",
                         "--sessions", str(tmp_path / "nope"))
    assert code == 2 and out == ""
    assert err == f"levelbelt: error: {tmp_path / 'nope'}: no such folder\n"
