"""Specification of `levelbelt review [DIR|FILE] [--json]`: saved sessions listed with their
per-side scores, LSI and flag, one session in detail, trends per athlete; the valid part
of a damaged file is always shown, and only real damage (not a crash-cut last line)
ends in a one-line error and exit 2."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from review_helpers import cut_inside_line, flip_byte, line_numbers, record

from levelbelt.cli import main
from levelbelt.session import read_session
from levelbelt.session.records import decode_line, encode_line

ANA_DAYS = (1, 2, 3)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ana (weak right hip) on three days, Bo (no weak side) once in between."""
    out = tmp_path_factory.mktemp("sessions")
    for day in ANA_DAYS:
        record(out, "ana", "right", seed=day, created=datetime(2025, 3, day, 9, 30))
    record(out, "bo", "none", seed=4, created=datetime(2025, 3, 2, 10, 0))
    return out


def ana(folder: Path, day: int) -> Path:
    return folder / f"2025030{day}-093000-ana-simulated-belt.lbs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["review", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code, out, err = run(capsys, *argv, "--json")
    return code, json.loads(out), err


def copy(src: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy2(src, folder / src.name))


# ----------------------------------------------------------------------------- folders


def test_a_folder_lists_every_session_oldest_first_with_scores_lsi_and_flag(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(folder))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"4 sessions in {folder}"
    rows = [ln.split() for ln in lines if ln.startswith("  2025-")]
    assert [(r[0], r[2]) for r in rows[:4]] == [
        ("2025-03-01", "ana"), ("2025-03-02", "ana"), ("2025-03-02", "bo"), ("2025-03-03", "ana")]
    for r in rows[:4]:
        assert r[3] == "glute-iso-quick" and r[4] in ("1:37", "1:38")  # the plan's 97 s
    by_athlete = {(r[0], r[2]): r for r in rows[:4]}
    for day in ANA_DAYS:
        s = read_session(ana(folder, day)).summary
        assert s is not None
        row = by_athlete[(f"2025-03-0{day}", "ana")]
        left, right, lsi = (round(s.data[k]) for k in ("left_stability", "right_stability",
                                                       "lsi"))
        assert row[-6:] == ["stability", str(left), str(right), str(lsi), "RIGHT", "complete"]
    assert by_athlete[("2025-03-02", "bo")][-2:] == ["-", "complete"]
    assert "trend for ana: stability, 3 sessions" in out
    assert "trend for bo: stability, 1 session" in out


def test_the_json_summary_of_a_folder_has_sides_lsi_flags_and_trends(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run_json(capsys, str(folder))
    assert code == 0 and data["folder"] == str(folder)
    sessions = data["sessions"]
    assert [(s["athlete"], s["flagged_side"]) for s in sessions] == [
        ("ana", "right"), ("ana", "right"), ("bo", None), ("ana", "right")]
    first = sessions[0]
    assert first["metric"] == "stability" and first["complete"] and not first["rescored"]
    assert first["lsi"] == pytest.approx(100 * first["sides"]["right"]["stability"]
                                         / first["sides"]["left"]["stability"])
    assert first["lsi"] < 85 and first["problems"] == [] and first["notes"] == []
    ana_trend = data["trends"]["ana"]
    assert len(ana_trend["labels"]) == 3 and ana_trend["metric"] == "stability"
    assert ana_trend["left_slope"] is not None and ana_trend["lsi_slope"] is not None
    assert ana_trend["mdc95"] > 0 and ana_trend["mdc_pairs"] == 4  # 2 pairs x 2 sides
    assert data["trends"]["bo"]["mdc95"] is None
    assert data["trends"]["bo"]["mdc_note"].startswith("not yet known")


def test_the_default_folder_is_sessions_in_the_data_dir(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LEVELBELT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "config"))
    code, out, _ = run(capsys)
    assert code == 0 and out == f"no sessions yet: {tmp_path / 'sessions'} does not exist\n"
    (tmp_path / "sessions").mkdir()
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("no session files (.lbs) in ")
    copy(ana(folder, 1), tmp_path / "sessions")
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith(f"1 session in {tmp_path / 'sessions'}")


def test_a_path_that_does_not_exist_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.lbs"))
    assert code == 2 and out == ""
    assert err == f"levelbelt: error: {tmp_path / 'nope.lbs'}: no such file or directory\n"


# ----------------------------------------------------------------------------- one file


def test_one_file_shows_the_side_table_every_hold_and_the_trend_up_to_it(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(ana(folder, 2)))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("ana · glute-iso-quick · 2025-03-02 09:30:00 · 1:3")
    assert lines[0].endswith("belt simulated belt · complete")
    assert lines[1] == f"file: {ana(folder, 2)}"
    table = {ln.split("  ")[1].strip(): ln.split()[-2:] for ln in lines[3:12]
             if ln.startswith("  ") and "  " in ln.strip()}
    assert "stability (0-100)" in table and "squeeze depth (°)" in table
    assert any(ln.startswith("LSI ") and "RIGHT flagged, more than 15% below the left side"
               in ln for ln in lines)
    holds = [m[1] for ln in lines if (m := re.match(r" +\d+ +\d+:\d\d +(\w+) ", ln))]
    assert holds == ["squeeze"] * 6 + ["stance"] * 2
    assert "trend for ana: stability, 2 sessions" in out  # day 3 came later


def test_the_json_of_one_file_has_every_rep_and_hold_and_the_trend_so_far(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run_json(capsys, str(ana(folder, 3)))
    assert code == 0
    assert data["athlete"] == "ana" and data["plan"] == "glute-iso-quick"
    assert data["flagged_side"] == "right" and data["weaker"] == "right"
    assert len(data["reps"]) == 6 and len(data["holds"]) == 2
    assert {h["side"] for h in data["holds"]} == {"left", "right"}
    assert data["sides"]["right"]["drops"] > data["sides"]["left"]["drops"]
    assert len(data["trend"]["labels"]) == 3
    assert data["summary"]["scope"] == "session"


# ----------------------------------------------------------------------------- damage


def test_a_session_cut_off_by_a_crash_reviews_with_a_note_and_exit_0(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = copy(ana(folder, 1), tmp_path)
    samples = line_numbers(path, "samples")
    cut_inside_line(path, samples[len(samples) * 2 // 3])  # during the first stance hold
    code, out, err = run(capsys, str(path))
    assert code == 0 and err == ""
    assert "unfinished" in out.splitlines()[0]
    assert "note: unfinished: no summary (the writer stopped mid-session); scored on review" \
        in out
    assert "note: last line incomplete (the writer stopped mid-line)" in out
    code, data, _ = run_json(capsys, str(path))
    assert code == 0 and data["rescored"] and not data["complete"]
    assert len(data["reps"]) == 6 and data["problems"] == []
    assert data["sides"]["left"]["activation"] is not None


def test_an_unfinished_session_without_a_cut_is_scored_from_its_samples(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = record(tmp_path, "cy", "left", seed=7, created=datetime(2025, 4, 1, 8, 0),
                  stop_at_s=33.0)  # in the rest after the 4th squeeze
    code, data, err = run_json(capsys, str(path))
    assert code == 0 and err == ""
    assert data["rescored"] and not data["complete"] and data["notes"][0].startswith(
        "unfinished")
    assert sum(r["outcome"] == "completed" for r in data["reps"]) == 4
    assert data["metric"] == "activation"  # no single-leg hold yet


def test_a_damaged_line_shows_the_valid_part_then_fails_naming_file_and_line(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = copy(ana(folder, 1), tmp_path)
    bad = line_numbers(path, "samples")[10]
    flip_byte(path, bad)
    code, out, err = run(capsys, str(path))
    assert code == 2
    assert "LSI " in out and "holds" in out  # everything valid is still there
    assert f"problem: {path}:{bad}: CRC mismatch" in out
    assert err == (f"levelbelt: error: {path}:{bad}: CRC mismatch (the line was damaged); "
                   "line skipped\n")
    code, data, err = run_json(capsys, str(path))
    assert code == 2 and data["flagged_side"] == "right"  # the summary line is intact
    assert data["problems"] == [f"{path}:{bad}: CRC mismatch (the line was damaged); "
                                "line skipped"]


def _future(src: Path, dest: Path) -> Path:
    lines = src.read_bytes().split(b"\n")
    header = decode_line(lines[0])
    header["schema"] = "2.0"
    lines[0] = encode_line(header).rstrip(b"\n")
    dest.write_bytes(b"\n".join(lines))
    return dest


def test_in_a_folder_foreign_and_future_files_are_listed_and_the_first_fails(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = copy(ana(folder, 1), tmp_path / "mixed")
    foreign = tmp_path / "mixed" / "20250301-000000-notes.lbs"
    foreign.write_text("date,weight\n2025-03-01,71\n")
    future = _future(ana(folder, 2), tmp_path / "mixed" / "20250309-090000-ana-x.lbs")
    code, out, err = run(capsys, str(tmp_path / "mixed"))
    assert code == 2
    assert out.startswith(f"3 sessions in {tmp_path / 'mixed'}")
    assert "2025-03-01 09:30:00  ana" in out  # the good one is reviewed
    assert (f"{foreign.name}: cannot be reviewed: not a LevelBelt session file (the first "
            "line is not a session header)") in out
    assert f"{future.name}: cannot be reviewed: session schema 2.0 is newer" in out
    assert "trend for ana: stability, 1 session" in out
    assert err == (f"levelbelt: error: {foreign}:1: not a LevelBelt session file (the first "
                   "line is not a session header) (and 1 more problem in 2 files)\n")
    code, data, _ = run_json(capsys, str(tmp_path / "mixed"))
    assert code == 2
    by_name = {Path(s["file"]).name: s for s in data["sessions"]}
    assert by_name[good.name]["readable"] and by_name[good.name]["flagged_side"] == "right"
    assert by_name[future.name] == {
        "file": str(future), "athlete": "ana", "created": by_name[future.name]["created"],
        "readable": False, "notes": [], "problems": [by_name[future.name]["problems"][0]]}
    assert "upgrade levelbelt" in by_name[future.name]["problems"][0]


def test_one_foreign_or_future_file_fails_at_line_1_with_nothing_shown(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    future = _future(ana(folder, 1), tmp_path / "future.lbs")
    code, out, err = run(capsys, str(future))
    assert code == 2 and out == ""
    assert err.startswith(f"levelbelt: error: {future}:1: session schema 2.0 is newer than "
                          "this levelbelt reads (1.x); upgrade levelbelt (header: athlete ana")
    empty = tmp_path / "empty.lbs"
    empty.write_bytes(b"")
    code, out, err = run(capsys, str(empty))
    assert code == 2 and out == ""
    assert err == f"levelbelt: error: {empty}:1: empty file (no session header)\n"


def test_export_also_treats_a_crash_cut_last_line_as_a_note(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = copy(ana(folder, 1), tmp_path)
    cut_inside_line(path, line_numbers(path, "samples")[-5])
    code = main(["export", str(path), "--csv", str(tmp_path / "csv")])
    out, err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == 5
    assert err.splitlines()[0].endswith("has no summary (the session did not end cleanly)")
    assert "last line incomplete (the writer stopped mid-line)" in err.splitlines()[1]
    assert "levelbelt: error" not in err


def test_control_characters_in_the_file_do_not_reach_the_terminal(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = copy(ana(folder, 1), tmp_path)
    lines = path.read_bytes().split(b"\n")
    header = decode_line(lines[0])
    header["athlete"] = "ana\x1b]0;owned\x07\x1b[2J"
    lines[0] = encode_line(header).rstrip(b"\n")
    path.write_bytes(b"\n".join(lines))
    code, out, _ = run(capsys, str(path))
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert out.startswith("ana?]0;owned??[2J · glute-iso-quick · ")
    code, out, _ = run(capsys, str(tmp_path))
    assert code == 0 and "\x1b" not in out
    code, data, _ = run_json(capsys, str(path))
    assert data["athlete"] == "ana\x1b]0;owned\x07\x1b[2J"  # JSON keeps it, escaped


def test_the_error_line_of_a_future_file_carries_no_control_characters(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    future = _future(ana(folder, 1), tmp_path / "future.lbs")
    lines = future.read_bytes().split(b"\n")
    header = decode_line(lines[0])
    header["athlete"] = "ana\x1b]0;owned\x07\x1b[2J\nlevelbelt: all fine"
    lines[0] = encode_line(header).rstrip(b"\n")
    future.write_bytes(b"\n".join(lines))
    for argv in ([str(future)], [str(tmp_path)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "\x1b" not in out + err and "\x07" not in out + err
        assert err.count("\n") == 1 and err.startswith("levelbelt: error: ")
        assert "(header: athlete ana?]0;owned??[2J?levelbelt: all fine, belt " in err


def test_a_reader_that_stops_early_ends_the_output_without_a_traceback(folder: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "levelbelt.cli", "review", str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `levelbelt review | head -1` does once it has its line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1 and err == b""
