"""Specification of how `levelbelt analyze` refuses unusable recordings.

Every refusal is one line on stderr, `levelbelt: error: FILE:LINE: what is wrong`, with
the 1-based line of the file to open in an editor, exit code 2, no traceback, and no
output files (a half-written tilt.csv would look like a result).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from levelbelt.cli import main
from levelbelt.sim.body import Still, simulate_body
from levelbelt.sim.sensor import SensorModel, measure, write_raw_csv

HEADER = "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"


def still_lines(tmp_path: Path, seconds: float = 3.0, rate: int = 100) -> list[str]:
    """A valid recording (header first) of a wearer standing still, as text lines."""
    trace = simulate_body([Still(seconds)], rate, seed=0)
    path = tmp_path / "still_source.csv"
    write_raw_csv(path, measure(trace, SensorModel(), seed=0))
    return path.read_text(encoding="utf-8").splitlines()


def write(tmp_path: Path, lines: list[str], name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, path: Path, *options: str
) -> str:
    """Run analyze expecting a refusal; return the message after `FILE:LINE: `."""
    out = tmp_path / "out"
    code = main(["analyze", str(path), "--out", str(out), *options])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert captured.err.endswith("\n") and captured.err.count("\n") == 1, captured.err
    assert captured.out == ""
    assert not out.exists()
    prefix = "levelbelt: error: "
    assert captured.err.startswith(prefix)
    return captured.err[len(prefix):].rstrip("\n")


def located(message: str, path: Path) -> tuple[int, str]:
    m = re.fullmatch(re.escape(str(path)) + r":(\d+): (.+)", message)
    assert m, f"expected FILE:LINE: ..., got {message!r}"
    return int(m.group(1)), m.group(2)


def test_a_good_recording_is_accepted(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    path = write(tmp_path, still_lines(tmp_path))
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "out" / "tilt.csv").is_file()
    assert (tmp_path / "out" / "events.csv").is_file()


def test_missing_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = still_lines(tmp_path)
    lines = [",".join(line.split(",")[:-1]) for line in lines]  # no gz_dps
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 1
    assert "gz_dps" in why


def test_columns_may_come_in_any_order(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    rows = [line.split(",") for line in still_lines(tmp_path)]
    order = [0, 4, 5, 6, 1, 2, 3]
    path = write(tmp_path, [",".join(r[i] for i in order) for r in rows])
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0


@pytest.mark.parametrize(("cell", "words"), [("abc", "not a number"), ("nan", "not finite"),
                                             ("", "not a number")])
def test_bad_cell_names_the_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cell: str, words: str
) -> None:
    lines = still_lines(tmp_path)
    fields = lines[41].split(",")  # file line 42
    fields[2] = cell  # ay_g
    lines[41] = ",".join(fields)
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 42
    assert "ay_g" in why and words in why


def test_short_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = still_lines(tmp_path)
    lines[9] = ",".join(lines[9].split(",")[:4])
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 10
    assert "gx_dps" in why


def test_too_short(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = still_lines(tmp_path, seconds=1.5)
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == len(lines)  # the last row: the file ends too early
    assert "too short" in why


def test_too_few_rows_to_tell_the_rate(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    path = write(tmp_path, still_lines(tmp_path)[:3])
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 3
    assert "too short" in why


def test_moving_at_the_start(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = still_lines(tmp_path)
    # From file line 32 (0.3 s) on the wearer rocks at 1 Hz, 20 deg/s about sensor z.
    for i in range(31, len(lines)):
        fields = lines[i].split(",")
        t = float(fields[0])
        fields[6] = f"{float(fields[6]) + 20.0 * math.sin(2 * math.pi * (t - 0.3)):.4f}"
        lines[i] = ",".join(fields)
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert 32 <= line <= 45  # where the movement shows, not the end of the 2 s
    assert "not still at the start" in why


@pytest.mark.parametrize("step", ["repeat", "backwards"])
def test_timestamps_must_increase(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, step: str
) -> None:
    lines = still_lines(tmp_path)
    fields = lines[99].split(",")  # file line 100
    prev_t = float(lines[98].split(",")[0])
    fields[0] = f"{prev_t if step == 'repeat' else prev_t - 0.05:.6f}"
    lines[99] = ",".join(fields)
    path = write(tmp_path, lines)
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 100
    assert "timestamps must increase" in why


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 1
    assert "empty" in why


def test_header_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER])
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 2
    assert "no data rows" in why


def test_unsupported_rate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = still_lines(tmp_path)
    path = write(tmp_path, [lines[0], *lines[1::2]])  # 50 Hz
    line, why = located(refuse(capsys, tmp_path, path), path)
    assert line == 2
    assert "neither 100 nor 200 Hz" in why


def test_a_mount_that_does_not_fit_the_recording_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Sensor X points up, but the default mount says X points right.
    rows = [f"{k / 100:.2f},1.0,0.0,0.0,0.0,0.0,0.0" for k in range(300)]
    path = write(tmp_path, [HEADER, *rows])
    message = refuse(capsys, tmp_path, path)
    assert "mount '+x+y' does not fit" in message


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    message = refuse(capsys, tmp_path, path)
    assert message.startswith(f"{path}: cannot open")


@pytest.mark.parametrize(
    ("options", "words"),
    [(("--mount", "sideways"), "mount must look like"),
     (("--threshold-deg", "50"), "threshold"),
     (("--release-deg", "6"), "release must be below threshold")],
)
def test_bad_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, options: tuple[str, ...], words: str
) -> None:
    path = write(tmp_path, still_lines(tmp_path))
    assert words in refuse(capsys, tmp_path, path, *options)
