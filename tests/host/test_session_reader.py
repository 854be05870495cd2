"""Specification of reading session files back: lossless, and for every kind of damage a
problem naming file and line while everything valid is still returned (or, in strict
mode, an InputFileError at the first problem)."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from session_helpers import (
    META,
    RATE,
    FakeClock,
    batch,
    lines_of,
    rows_for,
    write_lines,
    write_session,
)

from levelbelt.errors import InputFileError
from levelbelt.session import (
    FutureSchemaError,
    SessionWriter,
    read_header,
    read_session,
)
from levelbelt.session.records import LineError, decode_line, encode_line

SECONDS = 5
FIRST = 1000


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_session(tmp_path, seconds=SECONDS, first_index=FIRST)


def line_kinds(path: Path) -> list[str]:
    return [str(decode_line(line)["k"]) for line in lines_of(path)]


def line_of(path: Path, kind: str, nth: int = 0) -> int:
    """0-based position of the nth line of a kind."""
    return [i for i, k in enumerate(line_kinds(path)) if k == kind][nth]


def reseal(record: dict[str, object]) -> bytes:
    """A record re-encoded with a valid CRC (to build files a buggy writer might make)."""
    rec = {k: v for k, v in record.items() if k != "crc"}
    return encode_line(rec).rstrip(b"\n")


def problem_lines(path: Path) -> list[tuple[int, str]]:
    s = read_session(path)
    out = []
    for p in s.problems:
        assert str(p).startswith(f"{path}:{p.line}: ")
        out.append((p.line, p.message))
    return out


# -- a clean file ---------------------------------------------------------------------


def test_a_clean_session_reads_back_losslessly(clean: Path) -> None:
    s = read_session(clean, strict=True)
    n = SECONDS * RATE
    assert s.problems == () and s.complete and s.ignored_kinds == {}
    assert s.header.athlete == "Ana Test" and s.header.rate_hz == RATE
    assert s.header.detector == dict(META.detector or {})
    expected = rows_for(FIRST, n)
    assert np.array_equal(s.samples.index, np.arange(FIRST, FIRST + n))
    assert np.array_equal(s.samples.raw, expected[:, :6])
    assert np.array_equal(s.samples.tilt_cdeg, expected[:, 6])
    assert np.array_equal(s.samples.obl_cdeg, expected[:, 7])
    assert s.samples.has_raw.all()
    assert np.allclose(s.samples.t_s, np.arange(n) / RATE)
    assert np.allclose(s.samples.obl_deg, expected[:, 7] / 100.0)
    assert np.allclose(s.samples.accel_g, expected[:, :3] / 1000.0)
    assert np.allclose(s.samples.gyro_dps, expected[:, 3:6] / 16.0)
    assert len(s.events) == SECONDS and len(s.scores) == SECONDS
    assert s.events[0].data == {"type": "marker", "label": "good", "n": 95}
    assert s.events[0].t_s == pytest.approx(0.99)
    assert s.scores[0].scope == "hold" and s.scores[0].data["rms_deg"] == 1.25
    assert s.summary is not None and s.summary.data == {"lsi": 87.5}
    assert s.summary.stats["samples"] == n
    assert s.duration_s == pytest.approx((n - 1) / RATE)


def test_read_header_reads_only_the_first_line(clean: Path) -> None:
    with clean.open("ab") as f:
        f.write(b"garbage that a full read would report\n")
    h = read_header(clean)
    assert (h.athlete, h.belt, h.firmware, h.schema) == ("Ana Test", "LevelBelt-1A2B", "1.0.0",
                                                          "1.0")


def test_tilt_only_samples_have_no_raw_readings(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 6))
    w.append_samples(batch(6, 6, tilt_only=True))
    w.close()
    s = read_session(w.path, strict=True)
    assert s.samples.has_raw.tolist() == [True] * 6 + [False] * 6
    assert np.isnan(s.samples.accel_g[6:]).all() and not np.isnan(s.samples.accel_g[:6]).any()
    assert np.array_equal(s.samples.obl_cdeg, rows_for(0, 12)[:, 7])


def test_resent_samples_written_late_take_their_place_in_time(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 10))
    w.append_samples(batch(20, 10))  # 10..19 lost on the link ...
    w.append_samples(batch(10, 10))  # ... and resent by the belt afterwards
    w.close()
    s = read_session(w.path, strict=True)
    assert np.array_equal(s.samples.index, np.arange(30))
    assert np.array_equal(s.samples.tilt_cdeg, rows_for(0, 30)[:, 6])


def test_recorded_gaps_and_holes_in_the_samples_are_both_reported(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 10))
    w.append_gap(10, 50)
    w.append_samples(batch(50, 10))
    w.close()
    s = read_session(w.path, strict=True)
    assert s.samples.missing_runs() == [(0, 10, 50)]
    (gap,) = s.gaps
    assert (gap.first_missing, gap.end_index) == (10, 50)
    assert gap.t0_s == pytest.approx(0.1) and gap.t1_s == pytest.approx(0.5)


# -- files that are not sessions at all ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"t_s,ax_g,ay_g\n0,1,2\n", "not a LevelBelt session file"),
        (b'{"k":"header","format":"something-else","schema":"1.0"}\n',
         "not a LevelBelt session file"),
        (b'{"name": "a JSON Lines file from elsewhere"}\n{"x": 1}\n',
         "not a LevelBelt session file"),
        (bytes(range(256)) * 4, "not a LevelBelt session file"),
    ],
    ids=["empty", "csv", "foreign-format", "foreign-jsonl", "binary"],
)
def test_files_that_are_not_sessions_are_refused_at_line_1(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.lbs"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        read_session(path)
    assert str(e.value).startswith(f"{path}:1: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_missing_file_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot open"):
        read_session(tmp_path / "nope.lbs")
    with pytest.raises(InputFileError, match="is a directory"):
        read_session(tmp_path)


def test_a_damaged_header_is_refused_with_the_reason(clean: Path) -> None:
    lines = lines_of(clean)
    lines[0] = lines[0].replace(b"Ana Test", b"Ana Tesu")
    write_lines(clean, lines)
    with pytest.raises(InputFileError, match=r":1: session header damaged: CRC mismatch"):
        read_session(clean)


def test_a_file_cut_inside_its_header_says_so(clean: Path) -> None:
    clean.write_bytes(clean.read_bytes()[:60])
    with pytest.raises(InputFileError, match=r":1: session header cut off"):
        read_session(clean)


def test_a_header_without_a_rate_is_refused(clean: Path) -> None:
    lines = lines_of(clean)
    head = decode_line(lines[0])
    del head["rate_hz"]
    lines[0] = reseal(head)
    write_lines(clean, lines)
    with pytest.raises(InputFileError, match=r":1: session header: 'rate_hz' must be"):
        read_session(clean)


# -- schema versions ----------------------------------------------------------------


def with_schema(path: Path, schema: str, extra_line: dict[str, object] | None = None) -> Path:
    lines = lines_of(path)
    head = decode_line(lines[0])
    head["schema"] = schema
    lines[0] = reseal(head)
    if extra_line is not None:
        summary = decode_line(lines[-1])
        lines.insert(len(lines) - 1, reseal({**extra_line, "q": summary["q"]}))
        summary["q"] = int(summary["q"]) + 1
        lines[-1] = reseal(summary)
    return write_lines(path, lines)


def test_a_future_major_schema_is_refused_but_says_what_the_header_tells(
    clean: Path,
) -> None:
    with_schema(clean, "2.0")
    with pytest.raises(FutureSchemaError) as e:
        read_session(clean)
    msg = str(e.value)
    assert msg.startswith(f"{clean}:1: session schema 2.0 is newer than this levelbelt reads")
    assert "upgrade levelbelt" in msg and "athlete Ana Test" in msg
    assert "belt LevelBelt-1A2B" in msg and "created " in msg
    assert e.value.header["athlete"] == "Ana Test"
    with pytest.raises(FutureSchemaError):
        read_header(clean)


def test_a_future_schemas_message_quotes_the_header_without_control_characters(
    clean: Path,
) -> None:
    lines = lines_of(clean)
    head = decode_line(lines[0])
    head.update(schema="2.0", athlete="ana\x1b]0;owned\x07\x1b[2J\nfake", belt="b\x9b1m")
    lines[0] = reseal(head)
    write_lines(clean, lines)
    with pytest.raises(FutureSchemaError) as e:
        read_session(clean)
    msg = str(e.value)
    assert "athlete ana?]0;owned??[2J?fake, belt b?1m" in msg
    assert msg.isprintable()
    assert e.value.header["athlete"] == "ana\x1b]0;owned\x07\x1b[2J\nfake"  # kept as is


def test_a_record_kind_with_control_characters_is_named_without_them(clean: Path) -> None:
    lines = lines_of(clean)
    at = line_of(clean, "event")
    rec = decode_line(lines[at])
    rec["k"] = "\x1b[2Jevent"
    rec["e"] = []
    lines[at] = reseal(rec)
    write_lines(clean, lines)
    [(line, message)] = problem_lines(clean)
    assert line == at + 1 and message.isprintable()
    assert message.startswith("bad ?[2Jevent record: ")


def test_a_newer_minor_schema_is_read_and_its_new_record_kinds_are_skipped(
    clean: Path,
) -> None:
    with_schema(clean, "1.7", extra_line={"k": "heart_rate", "bpm": 120})
    s = read_session(clean, strict=True)
    assert s.ignored_kinds == {"heart_rate": 1}
    assert s.problems == () and s.complete and len(s.samples) == SECONDS * RATE


def test_an_unknown_record_kind_in_this_schema_is_a_problem(clean: Path) -> None:
    with_schema(clean, "1.0", extra_line={"k": "heart_rate", "bpm": 120})
    pos = line_kinds(clean).index("heart_rate")
    assert problem_lines(clean) == [
        (pos + 1, "bad heart_rate record: unknown record kind 'heart_rate'; skipped")]


def test_an_older_minor_schema_is_accepted(clean: Path) -> None:
    with_schema(clean, "1.0")
    assert read_session(clean, strict=True).header.schema == "1.0"


def test_a_header_without_a_schema_version_is_refused(clean: Path) -> None:
    with_schema(clean, "one")
    with pytest.raises(InputFileError, match=":1: session header has no valid schema"):
        read_session(clean)


# -- damage inside the file ---------------------------------------------------------


def test_a_truncated_last_line_is_reported_and_everything_before_reads(tmp_path: Path) -> None:
    path = write_session(tmp_path, seconds=SECONDS, first_index=FIRST, close=False)
    lines = lines_of(path)
    last_block = line_of(path, "samples", SECONDS - 1)
    write_lines(path, [*lines[:last_block], lines[last_block][:40]], final_newline=False)
    s = read_session(path)
    assert [(p.line, p.message) for p in s.problems] == [
        (last_block + 1, "last line incomplete (the writer stopped mid-line); 40 bytes ignored")]
    assert not s.complete
    assert len(s.samples) == (SECONDS - 1) * RATE
    assert len(s.events) == SECONDS - 1
    n_lines = last_block + 1
    with pytest.raises(InputFileError, match=rf":{n_lines}: last line incomplete"):
        read_session(path, strict=True)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**9))
def test_a_file_cut_anywhere_after_the_header_still_reads_its_complete_lines(
    tmp_path: Path, cut: int
) -> None:
    name = tmp_path / "full.lbs"
    if not name.exists():
        src = write_session(tmp_path, seconds=3, first_index=FIRST)
        src.rename(name)
    data = name.read_bytes()
    header_end = data.index(b"\n") + 1
    at = header_end + cut % (len(data) - header_end)
    path = tmp_path / "cut.lbs"
    path.write_bytes(data[:at])
    s = read_session(path)
    lines = data[:at].split(b"\n")
    complete = [decode_line(line) for line in lines[:-1]]
    partial = lines[-1] != b""
    if partial:
        try:  # cut just before a newline: the last line is whole and sealed
            complete.append(decode_line(lines[-1]))
            partial = False
        except LineError:
            pass
    expect = sum(int(rec["n"]) for rec in complete if rec["k"] == "samples")
    assert len(s.samples) == expect
    assert np.array_equal(s.samples.tilt_cdeg, rows_for(FIRST, expect)[:, 6])
    assert len(s.problems) == (1 if partial else 0)


def flip_bit(path: Path, line_pos: int, byte_in_line: int = 30, bit: int = 2) -> None:
    lines = lines_of(path)
    b = bytearray(lines[line_pos])
    b[byte_in_line] ^= 1 << bit
    lines[line_pos] = bytes(b)
    write_lines(path, lines)


def test_a_bit_flip_in_a_sample_block_loses_only_that_block(clean: Path) -> None:
    pos = line_of(clean, "samples", 2)
    flip_bit(clean, pos, byte_in_line=200)
    s = read_session(clean)
    assert [(p.line, p.message) for p in s.problems] == [
        (pos + 1, "CRC mismatch (the line was damaged); line skipped")]
    n = SECONDS * RATE
    assert len(s.samples) == n - RATE
    assert s.samples.missing_runs() == [(0, FIRST + 2 * RATE, FIRST + 3 * RATE)]
    assert s.complete and len(s.events) == SECONDS


def test_a_bit_flip_in_an_event_loses_only_that_event(clean: Path) -> None:
    pos = line_of(clean, "event", 1)
    flip_bit(clean, pos, byte_in_line=12)
    s = read_session(clean)
    assert [p.line for p in s.problems] == [pos + 1]
    assert len(s.events) == SECONDS - 1 and len(s.samples) == SECONDS * RATE
    with pytest.raises(InputFileError, match=rf"^{re.escape(str(clean))}:{pos + 1}: CRC"):
        read_session(clean, strict=True)


def test_a_damaged_crc_field_is_reported(clean: Path) -> None:
    pos = line_of(clean, "score")
    lines = lines_of(clean)
    lines[pos] = lines[pos][:-4] + b'zz"}'
    write_lines(clean, lines)
    assert problem_lines(clean) == [(pos + 1, "CRC field damaged; line skipped")]


def test_a_duplicated_block_is_skipped_and_reported(clean: Path) -> None:
    lines = lines_of(clean)
    pos = line_of(clean, "samples", 1)
    lines.insert(pos + 1, lines[pos])
    write_lines(clean, lines)
    s = read_session(clean)
    assert [(p.line, p.message) for p in s.problems] == [
        (pos + 2, f"repeats record {decode_line(lines[pos])['q']} of line {pos + 1}; skipped")]
    assert np.array_equal(s.samples.index, np.arange(FIRST, FIRST + SECONDS * RATE))


def test_out_of_order_blocks_are_kept_in_sample_order_and_reported(clean: Path) -> None:
    lines = lines_of(clean)
    a, b = line_of(clean, "samples", 1), line_of(clean, "samples", 3)
    lines[a], lines[b] = lines[b], lines[a]
    write_lines(clean, lines)
    s = read_session(clean)
    messages = [m for _, m in problem_lines(clean)]
    assert messages and all("out of order" in m or "missing" in m for m in messages)
    assert any("out of order" in m for m in messages)
    assert np.array_equal(s.samples.index, np.arange(FIRST, FIRST + SECONDS * RATE))
    assert np.array_equal(s.samples.tilt_cdeg, rows_for(FIRST, SECONDS * RATE)[:, 6])


def test_a_removed_line_is_reported_as_missing(clean: Path) -> None:
    lines = lines_of(clean)
    pos = line_of(clean, "event", 2)
    del lines[pos]
    write_lines(clean, lines)
    assert problem_lines(clean) == [(pos + 1, "1 record(s) missing before this line")]


def test_samples_stored_twice_keep_the_first_copy(clean: Path) -> None:
    lines = lines_of(clean)
    block = decode_line(lines[line_of(clean, "samples", 1)])
    first = int(block["i0"])
    rows = rows_for(first, RATE)
    rows[:, 6] = 1234  # a different copy of the same samples
    block["d"] = base64.b64encode(rows.astype("<i2").tobytes()).decode()
    summary = decode_line(lines[-1])
    block["q"] = summary["q"]
    summary["q"] = int(summary["q"]) + 1
    lines[-1:] = [reseal(block), reseal(summary)]
    write_lines(clean, lines)
    assert problem_lines(clean) == [
        (len(lines) - 1, f"{RATE} sample(s) of epoch 0 stored twice (index {first}.."
         f"{first + RATE - 1}); the copy written first is kept"),
    ]
    s = read_session(clean)
    assert np.array_equal(s.samples.tilt_cdeg, rows_for(FIRST, SECONDS * RATE)[:, 6])


def test_records_after_the_summary_are_kept_and_reported(clean: Path) -> None:
    lines = lines_of(clean)
    summary = decode_line(lines[-1])
    event = {"k": "event", "src": "coach", "ep": 0, "i": None, "t_s": 9.0, "h": 9.0,
             "e": {"type": "marker"}, "q": int(summary["q"]) + 1}
    lines.append(reseal(event))
    write_lines(clean, lines)
    assert problem_lines(clean) == [
        (len(lines), "event record after the summary (the session had ended); kept")]
    assert read_session(clean).events[-1].t_s == 9.0


def test_a_sample_block_whose_data_does_not_match_its_count_is_skipped(clean: Path) -> None:
    lines = lines_of(clean)
    pos = line_of(clean, "samples", 0)
    block = decode_line(lines[pos])
    block["n"] = int(block["n"]) + 1
    lines[pos] = reseal(block)
    write_lines(clean, lines)
    assert problem_lines(clean) == [
        (pos + 1, "bad samples record: sample data holds 1600 bytes, 101 samples need 1616; "
         "skipped")]


def test_a_crc_valid_line_that_is_not_json_is_reported(clean: Path) -> None:
    body = b'{"k":"event",oops}'
    crc = zlib.crc32(body)
    bad = body[:-1] + b',"crc":"%08x"}' % crc
    lines = lines_of(clean)
    lines.insert(3, bad)
    write_lines(clean, lines)
    ((line, message),) = problem_lines(clean)
    assert line == 4 and message.startswith("CRC matches but the JSON does not parse")


def test_an_empty_line_inside_the_file_is_reported(clean: Path) -> None:
    lines = lines_of(clean)
    lines.insert(4, b"")
    write_lines(clean, lines)
    assert problem_lines(clean) == [(5, "empty line")]


def test_windows_line_endings_are_tolerated(clean: Path) -> None:
    clean.write_bytes(clean.read_bytes().replace(b"\n", b"\r\n"))
    s = read_session(clean, strict=True)
    assert len(s.samples) == SECONDS * RATE and s.complete


def test_problems_become_one_error_line_after_the_valid_part_is_read(clean: Path) -> None:
    where = [line_of(clean, kind) for kind in ("samples", "event", "score")]
    for pos in where:
        flip_bit(clean, pos, byte_in_line=20)
    s = read_session(clean)
    assert len(s.problems) == 3 and len(s.samples) == (SECONDS - 1) * RATE
    with pytest.raises(InputFileError) as e:
        s.raise_for_problems()
    assert str(e.value) == str(s.problems[0]) + " (and 2 more problems)"


def test_every_line_of_a_session_is_valid_json_for_other_tools(clean: Path) -> None:
    for line in lines_of(clean):
        assert isinstance(json.loads(line), dict)
