"""Specification of the session writer: private, never overwrites, flushes on time and at
set end, keeps memory flat, and records everything the session needs to be re-derived."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from session_helpers import META, RATE, FakeClock, batch, lines_of, rows_for, write_session

from levelbelt import protocol as p
from levelbelt.session import (
    SessionExistsError,
    SessionMeta,
    SessionWriteError,
    SessionWriter,
    read_session,
    session_file_name,
)
from levelbelt.session.records import decode_line

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def records(path: Path) -> list[dict[str, Any]]:
    return [decode_line(line) for line in lines_of(path)]


def kinds(path: Path) -> list[str]:
    return [str(rec["k"]) for rec in records(path)]


def test_file_is_named_by_time_athlete_and_belt_in_ascii() -> None:
    meta = SessionMeta(athlete="Ana Ödegaard / U18", belt="LevelBelt-1A2B", rate_hz=100)
    assert session_file_name(meta, WHEN) == "20250304-050607-Ana-Odegaard-U18-LevelBelt-1A2B.lbs"
    assert session_file_name(meta, WHEN, attempt=1).endswith("-LevelBelt-1A2B-2.lbs")
    odd = SessionMeta(athlete="???", belt="....", rate_hz=100)
    assert session_file_name(odd, WHEN) == "20250304-050607-athlete-belt.lbs"


def test_file_and_missing_folders_are_private_from_creation_even_with_a_permissive_umask(
        tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    old = os.umask(0)
    try:
        w = SessionWriter.create(tmp_path / "share" / "levelbelt" / "sessions", META,
                                 created=WHEN)
    finally:
        os.umask(old)
    assert stat.S_IMODE(w.path.stat().st_mode) == 0o600
    for folder in ("share", "share/levelbelt", "share/levelbelt/sessions"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # existing folders: untouched
    w.close()
    assert stat.S_IMODE(w.path.stat().st_mode) == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "taken.lbs"
    target.write_bytes(b"precious")
    with pytest.raises(SessionExistsError, match="never overwritten"):
        SessionWriter(target, META)
    assert target.read_bytes() == b"precious"


def test_name_collisions_get_a_numbered_suffix(tmp_path: Path) -> None:
    first = SessionWriter.create(tmp_path, META, created=WHEN)
    second = SessionWriter.create(tmp_path, META, created=WHEN)
    third = SessionWriter.create(tmp_path, META, created=WHEN)
    names = [w.path.name for w in (first, second, third)]
    assert names[0].endswith("LevelBelt-1A2B.lbs")
    assert names[1].endswith("LevelBelt-1A2B-2.lbs")
    assert names[2].endswith("LevelBelt-1A2B-3.lbs")
    for w in (first, second, third):
        w.close()


def test_header_describes_the_session_on_the_first_line(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, created=WHEN)
    w.close()
    head = records(w.path)[0]
    assert head["k"] == "header" and head["format"] == "levelbelt-session"
    assert head["schema"] == "1.0" and head["q"] == 0
    assert head["created"] == "2025-03-04T05:06:07+00:00"
    assert head["athlete"] == "Ana Test" and head["belt"] == "LevelBelt-1A2B"
    assert head["firmware"] == "1.0.0" and head["rate_hz"] == RATE
    assert head["calibration"] == dict(META.calibration or {})
    assert head["detector"] == dict(META.detector or {})
    assert head["plan"] == {"name": "glute-iso-quick"}
    units = head["units"]
    assert isinstance(units, dict) and "mg" in units["ax ay az"]
    assert str(head["writer"]).startswith("levelbelt ")


def test_every_line_is_plain_json_with_its_crc(tmp_path: Path) -> None:
    path = write_session(tmp_path, seconds=2)
    for line in lines_of(path):
        obj = json.loads(line)
        assert isinstance(obj["crc"], str) and len(obj["crc"]) == 8


def test_samples_wait_at_most_the_flush_interval_when_the_stream_is_slow(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    w = SessionWriter.create(tmp_path, META, clock=clock)
    w.append_samples(batch(0, 5))
    clock.now += 0.5
    w.append_samples(batch(5, 5))
    assert kinds(w.path) == ["header", "time"]  # still in the block, not yet due
    clock.now += 0.5
    w.append_samples(batch(10, 5))  # the first sample has now waited 1 s
    assert kinds(w.path) == ["header", "time", "samples"]
    assert records(w.path)[-1]["n"] == 15
    w.close()


def test_poll_writes_samples_that_are_due_when_the_stream_stalls(tmp_path: Path) -> None:
    clock = FakeClock()
    w = SessionWriter.create(tmp_path, META, clock=clock)
    w.append_samples(batch(0, 5))
    clock.now += 0.9
    w.poll()
    assert kinds(w.path) == ["header", "time"]
    clock.now += 0.2
    w.poll()
    assert kinds(w.path) == ["header", "time", "samples"]
    w.close()


def test_a_full_second_of_samples_is_written_as_one_block(tmp_path: Path) -> None:
    clock = FakeClock()  # never advances: only the block size triggers the write
    w = SessionWriter.create(tmp_path, META, clock=clock)
    for k in range(0, 3 * RATE + 20, 7):
        w.append_samples(batch(k, 7))
    blocks = [rec for rec in records(w.path) if rec["k"] == "samples"]
    assert [(b["i0"], b["n"]) for b in blocks] == [(0, 100), (100, 100), (200, 100)]
    w.close()


def test_flush_at_set_end_writes_pending_samples_immediately(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 5))
    w.flush()
    assert kinds(w.path)[-1] == "samples"
    w.close()


def test_an_index_jump_or_a_layout_change_starts_a_new_block(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 5))
    w.append_samples(batch(5, 5))
    w.append_samples(batch(20, 5))  # samples 10..19 were not delivered
    w.append_samples(batch(25, 3, tilt_only=True))  # the link fell back to TILT frames
    w.close()
    blocks = [(b["i0"], b["n"], b["f"]) for b in records(w.path) if b["k"] == "samples"]
    assert blocks == [(0, 10, "s"), (20, 5, "s"), (25, 3, "t")]


def test_memory_is_one_preallocated_block_however_long_the_session(tmp_path: Path) -> None:
    clock = FakeClock()
    w = SessionWriter.create(tmp_path, META, clock=clock)
    buffer = w._block
    for k in range(0, 20 * RATE, 5):
        w.append_samples(batch(k, 5))
        clock.now += 0.05
    assert w._block is buffer and buffer.shape == (RATE, 8)
    w.close()


def test_events_without_a_time_are_stamped_with_the_newest_sample(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(500, 5))
    w.append_event("coach", {"type": "marker", "label": "bad"})
    w.append_event("engine", {"type": "phase_started", "phase": "hold"}, t_s=1.5)
    w.append_belt_event(p.Event(seq=0, kind=p.EV_DROP_CUE, side=2, index=503, onset_index=488,
                                value=712))
    w.close()
    events = [rec for rec in records(w.path) if rec["k"] == "event"]
    assert [(e["src"], e["i"], e["t_s"]) for e in events] == [
        ("coach", 504, None), ("engine", None, 1.5), ("belt", 503, None)]
    assert events[2]["e"] == {"type": "drop_cue", "side": "right", "onset_index": 488,
                              "peak_cdeg": 712}


def test_numpy_values_are_stored_and_non_finite_numbers_become_null(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_score("hold", {"rms": np.float32(1.5), "drops": np.int64(2), "t_first": np.nan,
                            "trace": np.array([1, 2]), "pair": (1, 2)})
    w.close()
    score = next(rec for rec in records(w.path) if rec["k"] == "score")
    assert score["s"] == {"rms": 1.5, "drops": 2, "t_first": None, "trace": [1, 2],
                          "pair": [1, 2]}


def test_data_a_file_cannot_hold_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    before = w.path.read_bytes()
    with pytest.raises(ValueError, match="cannot store a object"):
        w.append_event("engine", {"x": object()})
    with pytest.raises(ValueError, match="scope"):
        w.append_score("week", {})
    with pytest.raises(ValueError, match="gap"):
        w.append_gap(10, 10)
    with pytest.raises(ValueError, match="source"):
        w.append_event("", {})
    assert w.path.read_bytes() == before
    w.close()
    assert read_session(w.path).problems == ()


def test_bad_session_details_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="athlete"):
        SessionMeta(athlete=" ", belt="b", rate_hz=100)
    with pytest.raises(ValueError, match="rate_hz"):
        SessionMeta(athlete="a", belt="b", rate_hz=0)


def test_close_writes_the_summary_last_and_refuses_later_writes(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock())
    w.append_samples(batch(0, 5))
    w.close({"lsi": 91})
    last = records(w.path)[-1]
    assert last["k"] == "summary" and last["s"] == {"lsi": 91}
    assert last["stats"]["samples"] == 5
    assert w.complete
    with pytest.raises(SessionWriteError, match="closed"):
        w.append_samples(batch(5, 5))
    w.close()  # closing twice is harmless


def test_an_exception_in_the_session_leaves_a_file_without_summary(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), \
            SessionWriter.create(tmp_path, META, clock=FakeClock()) as w:
        w.append_samples(batch(0, 5))
        raise RuntimeError("link lost")
    assert kinds(w.path) == ["header", "time", "samples"]
    assert not read_session(w.path).complete


def test_a_belt_reboot_starts_a_new_epoch_that_continues_session_time(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    w = SessionWriter.create(tmp_path, META, clock=clock)
    for k in range(0, 200, 5):
        w.append_samples(batch(7000 + k, 5))
        clock.now += 0.05
    clock.now += 3.0  # the belt was off for 3 s, then counts from 0 again
    w.belt_restarted()
    for k in range(0, 100, 5):
        w.append_samples(batch(k, 5))
        clock.now += 0.05
    w.close()
    s = read_session(w.path)
    assert s.problems == ()
    assert np.array_equal(np.unique(s.samples.epoch), [0, 1])
    assert s.samples.t_s[199] == pytest.approx(1.99)
    assert s.samples.t_s[200] == pytest.approx(1.99 + 3.05)  # the outage plus one period
    assert np.all(np.diff(s.samples.t_s) > 0)


def test_an_origin_index_fixes_where_session_time_starts(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META, clock=FakeClock(), origin_index=900)
    w.append_samples(batch(1000, 5))
    w.close()
    assert read_session(w.path).samples.t_s[0] == pytest.approx(1.0)


def test_samples_and_events_from_two_threads_are_all_recorded(tmp_path: Path) -> None:
    w = SessionWriter.create(tmp_path, META)

    def samples() -> None:
        for k in range(0, 3000, 5):
            w.append_samples(batch(k, 5))

    def events() -> None:
        for n in range(300):
            w.append_event("engine", {"n": n})

    threads = [threading.Thread(target=samples), threading.Thread(target=events)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    s = read_session(w.path)
    assert s.problems == () and len(s.samples) == 3000 and len(s.events) == 300
    assert np.array_equal(s.samples.tilt_cdeg, rows_for(0, 3000)[:, 6])
