"""The host decoder reads the golden frames and survives every kind of malformed frame."""

from __future__ import annotations

import numpy as np

import golden
from belt import protocol as fw
from levelbelt import protocol as p


def test_host_and_firmware_share_one_id_table() -> None:
    names = [n for n in dir(fw) if n.isupper() and n[:3] in ("FT_", "EV_", "CMD", "ST_")]
    names += ["VERSION", "SAMPLE_LEN", "TILT_LEN", "BATCH_HEADER_LEN", "EVENT_LEN", "ACK_LEN"]
    assert len(names) > 25
    for name in names:
        assert getattr(p, name) == getattr(fw, name), name


def test_samples_frame_decodes_to_golden_rows() -> None:
    frame = p.Decoder().decode(bytes.fromhex(golden.SAMPLES_HEX))
    assert isinstance(frame, p.SampleBatch)
    assert (frame.seq, frame.first_index, frame.count) == (7, 1000, 2)
    assert frame.raw is not None
    rows = np.column_stack([frame.raw, frame.tilt_cdeg, frame.obl_cdeg])
    assert rows.tolist() == [list(r) for r in golden.SAMPLES_ROWS]


def test_tilt_only_frame_has_no_raw_columns() -> None:
    frame = p.Decoder().decode(bytes.fromhex(golden.TILT_HEX))
    assert isinstance(frame, p.SampleBatch)
    assert frame.raw is None and frame.first_index == golden.TILT_INDEX
    assert list(zip(frame.tilt_cdeg.tolist(), frame.obl_cdeg.tolist(), strict=True)) == list(
        golden.TILT_ROWS
    )


def test_event_and_ack_decode() -> None:
    d = p.Decoder()
    ev = d.decode(bytes.fromhex(golden.EVENT_HEX))
    ack = d.decode(bytes.fromhex(golden.ACK_HEX))
    assert ev == p.Event(0, p.EV_DROP_CUE, 2, 1234, 1219, 612)
    assert ack == p.Ack(0, p.CMD_SET_DETECTOR, 5, p.ST_OUT_OF_RANGE)
    assert d.frames_ok == 2 and d.frames_bad == 0


def test_malformed_frames_are_counted_by_reason_and_never_raise() -> None:
    good = bytes.fromhex(golden.SAMPLES_HEX)
    d = p.Decoder()
    bad_frames = {
        "truncated": [b"", b"\x01", good[:3]],
        "unknown version": [b"\x02" + good[1:], b"\x00" + good[1:]],
        "unknown type": [b"\x01\x7f\x00\x00\x00"],
        "wrong length": [good[:-1], good[:8], good + b"\x00", bytes.fromhex(golden.EVENT_HEX)[:-1]],
    }
    for frames in bad_frames.values():
        for f in frames:
            assert d.decode(f) is None
    assert dict(d.bad) == {k: len(v) for k, v in bad_frames.items()}
    assert d.decode(good) is not None  # still decoding after all that


def test_command_frame_layout() -> None:
    frame = p.encode_command(p.CMD_SET_STANCE, 9, b"\x01", b"T" * 16, seq=3)
    assert frame.hex() == "0140" "0300" "03" "09000000" "01" + "54" * 16
