"""Specification of `levelbelt export FILE --csv OUT`: a directory of spreadsheet-ready
CSV files in physical units, private, never replacing an existing OUT without --force, and
for a damaged session the valid part exported followed by a one-line error (exit 2)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import numpy as np
import pytest
from session_helpers import META, RATE, FakeClock, batch, lines_of, rows_for, write_lines

from levelbelt.cli import main
from levelbelt.session import SessionWriter, export_csv, read_session
from levelbelt.session.records import decode_line

FIRST = 2000


def session_file(tmp_path: Path) -> Path:
    """Two seconds with a lost stretch the link recorded, a tilt-only stretch, events and
    scores of different shapes."""
    clock = FakeClock()
    w = SessionWriter.create(tmp_path / "sessions", META, clock=clock)
    for k in range(0, 100, 5):
        w.append_samples(batch(FIRST + k, 5))
        clock.now += 0.05
    w.append_gap(FIRST + 100, FIRST + 120)
    w.append_event("client", {"type": "reconnect", "outage_s": 0.2})
    for k in range(120, 200, 5):
        w.append_samples(batch(FIRST + k, 5, tilt_only=k >= 180))
        clock.now += 0.05
    w.append_event("coach", {"type": "marker", "label": "note", "text": 'knee "in", again'})
    w.append_event("engine", {"type": "phase_started", "phase": "hold", "side": "left"},
                   t_s=0.5)
    w.append_score("rep", {"rep": 1, "change_deg": -3.5, "flags": ["no_movement"]})
    w.append_score("side", {"side": "left", "score": 81.0, "lsi": None})
    w.close({"lsi": 92.0})
    return w.path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_writes_one_directory_of_csv_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = session_file(tmp_path)
    out = tmp_path / "export"
    code, stdout, err = run(capsys, "export", str(src), "--csv", str(out))
    assert (code, err) == (0, "")
    names = ["samples.csv", "events.csv", "scores.csv", "gaps.csv", "session.json"]
    assert stdout.splitlines() == [str(out / n) for n in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for n in names:
        assert stat.S_IMODE((out / n).stat().st_mode) == 0o600


def test_samples_csv_is_in_physical_units_and_exact(tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_csv(read_session(session_file(tmp_path)), out)
    rows = read_csv(out / "samples.csv")
    assert list(rows[0]) == ["t_s", "index", "tilt_deg", "obl_deg", "ax_g", "ay_g", "az_g",
                             "gx_dps", "gy_dps", "gz_dps", "epoch"]
    assert len(rows) == 180
    expect = rows_for(FIRST, 200)
    first = rows[0]
    assert first["t_s"] == "0.000" and first["index"] == str(FIRST) and first["epoch"] == "0"
    assert float(first["tilt_deg"]) == expect[0, 6] / 100
    assert float(first["obl_deg"]) == expect[0, 7] / 100
    assert float(first["ax_g"]) == expect[0, 0] / 1000
    assert float(first["gz_dps"]) == expect[0, 5] / 16
    after_gap = rows[100]
    assert after_gap["index"] == str(FIRST + 120) and after_gap["t_s"] == "1.200"
    tilt_only = rows[-1]
    assert tilt_only["ax_g"] == "" and tilt_only["gz_dps"] == ""
    assert float(tilt_only["obl_deg"]) == expect[199, 7] / 100
    assert np.allclose([float(r["tilt_deg"]) for r in rows],
                       np.r_[expect[:100, 6], expect[120:, 6]] / 100)


def test_events_csv_is_in_time_order_with_a_column_per_field(tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_csv(read_session(session_file(tmp_path)), out)
    rows = read_csv(out / "events.csv")
    assert list(rows[0])[:4] == ["t_s", "index", "epoch", "source"]
    assert [r["source"] for r in rows] == ["engine", "client", "coach"]
    assert [r["type"] for r in rows] == ["phase_started", "reconnect", "marker"]
    assert rows[0]["t_s"] == "0.5" and rows[0]["index"] == "" and rows[0]["side"] == "left"
    assert rows[1]["outage_s"] == "0.2" and rows[1]["index"] == str(FIRST + 99)
    assert rows[2]["text"] == 'knee "in", again'


def test_scores_csv_has_one_row_per_score(tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_csv(read_session(session_file(tmp_path)), out)
    rows = read_csv(out / "scores.csv")
    assert list(rows[0]) == ["scope", "rep", "change_deg", "flags", "side", "score", "lsi"]
    assert rows[0]["scope"] == "rep" and rows[0]["flags"] == '["no_movement"]'
    assert rows[1]["score"] == "81.0" and rows[1]["lsi"] == "" and rows[1]["rep"] == ""


def test_gaps_csv_lists_holes_and_whether_the_link_recorded_them(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 10))
    w.append_gap(10, 30)
    w.append_samples(batch(30, 10))
    w.append_samples(batch(45, 10))  # a hole nobody recorded
    w.close()
    out = tmp_path / "export"
    export_csv(read_session(w.path), out)
    rows = read_csv(out / "gaps.csv")
    assert [(r["first_missing_index"], r["end_index"], r["samples_missing"], r["recorded"])
            for r in rows] == [("10", "30", "20", "true"), ("40", "45", "5", "false")]
    assert (rows[0]["start_s"], rows[0]["end_s"]) == ("0.1", "0.3")


def test_session_json_keeps_the_header_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_csv(read_session(session_file(tmp_path)), out)
    doc = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert doc["header"]["athlete"] == "Ana Test" and doc["complete"] is True
    assert doc["summary"]["data"] == {"lsi": 92.0} and doc["problems"] == []


def test_an_existing_output_is_not_replaced_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = session_file(tmp_path)
    out = tmp_path / "export"
    out.mkdir()
    (out / "samples.csv").write_text("mine\n")
    code, stdout, err = run(capsys, "export", str(src), "--csv", str(out))
    assert code == 2 and stdout == ""
    assert err == f"levelbelt: error: {out}: already exists; use --force to replace it\n"
    assert (out / "samples.csv").read_text() == "mine\n"
    code, _, err = run(capsys, "export", str(src), "--csv", str(out), "--force")
    assert (code, err) == (0, "")
    assert (out / "samples.csv").read_text().startswith("t_s,index,")


def test_force_does_not_replace_a_file_with_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = session_file(tmp_path)
    out = tmp_path / "export.csv"
    out.write_text("keep me\n")
    code, _, err = run(capsys, "export", str(src), "--csv", str(out), "--force")
    assert code == 2 and "exists and is not a directory" in err
    assert out.read_text() == "keep me\n"


def test_a_damaged_session_exports_its_valid_part_then_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = session_file(tmp_path)
    lines = lines_of(src)
    pos = next(i for i, ln in enumerate(lines) if decode_line(ln)["k"] == "samples")
    lines[pos] = lines[pos].replace(b'"n":', b'"m":')
    write_lines(src, lines)
    out = tmp_path / "export"
    code, stdout, err = run(capsys, "export", str(src), "--csv", str(out))
    assert code == 2 and len(stdout.splitlines()) == 5
    assert err == (f"levelbelt: error: {src}:{pos + 1}: CRC mismatch (the line was damaged); "
                   "line skipped\n")
    assert len(read_csv(out / "samples.csv")) == 80  # the first second was lost, not more


def test_an_unfinished_session_exports_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, RATE))
    w.abandon()
    code, _, err = run(capsys, "export", str(w.path), "--csv", str(tmp_path / "x"))
    assert code == 0
    assert err == f"note: {w.path} has no summary (the session did not end cleanly)\n"


def test_a_foreign_file_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "notes.lbs"
    src.write_text("shopping list\n")
    out = tmp_path / "export"
    code, stdout, err = run(capsys, "export", str(src), "--csv", str(out))
    assert code == 2 and stdout == "" and not out.exists()
    assert err == (f"levelbelt: error: {src}:1: not a LevelBelt session file (the first line "
                   "is not a session header)\n")
