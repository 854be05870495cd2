"""USB framing: the host reads the firmware's COBS+CRC frames and resynchronises after damage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import golden
from belt import protocol as fw
from levelbelt import framing


def _firmware_wrap(frame: bytes) -> bytes:
    out: list[bytes] = []
    fw.UsbFramer(lambda v: out.append(bytes(v))).send(frame)
    return out[0]


def test_host_wrap_matches_the_golden_wire_bytes() -> None:
    assert framing.wrap(bytes.fromhex(golden.USB_FRAME_HEX)).hex() == golden.USB_WIRE_HEX
    assert framing.crc16(b"123456789") == golden.CRC_CHECK_VALUE


@given(st.binary(min_size=1, max_size=framing.MAX_FRAME))
def test_firmware_and_host_framing_agree_and_round_trip(frame: bytes) -> None:
    wire = _firmware_wrap(frame)
    assert wire == framing.wrap(frame)
    assert framing.Deframer().feed(wire) == [frame]


def test_split_reads_reassemble() -> None:
    frames = [bytes([i, 0, i + 1, 0, 0]) * (i + 1) for i in range(5)]
    wire = b"".join(framing.wrap(f) for f in frames)
    d = framing.Deframer()
    got: list[bytes] = []
    for i in range(0, len(wire), 3):
        got += d.feed(wire[i : i + 3])
    assert got == frames


def test_a_corrupted_frame_is_dropped_and_counted_and_the_next_one_survives() -> None:
    a, b = framing.wrap(b"\x01\x10hello"), framing.wrap(b"\x01\x10world")
    damaged = bytearray(a)
    damaged[3] ^= 0x40
    d = framing.Deframer()
    assert d.feed(bytes(damaged) + b) == [b"\x01\x10world"]
    assert d.bad["bad crc"] + d.bad["bad cobs"] == 1


def test_line_noise_without_delimiters_is_bounded() -> None:
    d = framing.Deframer()
    assert d.feed(b"\xff" * 10_000) == []
    assert d.bad["oversize"] >= 1
    assert d.feed(framing.wrap(b"\x01\x02ok")) == [b"\x01\x02ok"]
