"""The firmware encoder produces the golden bytes of docs/protocol.md."""

import golden
from belt import protocol as P


def _capture(batch, raw=True):
    frames = []
    enc = P.FrameEncoder(lambda v: frames.append(bytes(v)), batch, raw)
    return enc, frames


def _hex(b):
    return "".join("%02x" % x for x in b)


def test_samples_frame_matches_golden_bytes():
    enc, frames = _capture(2)
    enc.seq = golden.SAMPLES_SEQ
    for k, row in enumerate(golden.SAMPLES_ROWS):
        enc.add_sample(golden.SAMPLES_INDEX + k, *row)
    assert [_hex(f) for f in frames] == [golden.SAMPLES_HEX]
    assert enc.seq == golden.SAMPLES_SEQ + 1


def test_tilt_frame_and_sequence_wrap():
    enc, frames = _capture(3, raw=False)
    enc.seq = golden.TILT_SEQ
    for k, (t, o) in enumerate(golden.TILT_ROWS):
        enc.add_sample(golden.TILT_INDEX + k, 0, 0, 0, 0, 0, 0, t, o)
    assert [_hex(f) for f in frames] == [golden.TILT_HEX]
    assert enc.seq == 0


def test_event_and_ack_frames_match_golden_bytes():
    enc, frames = _capture(1)
    enc.event(P.EV_DROP_CUE, 2, 1234, 1219, 612)
    assert [_hex(f) for f in frames] == [golden.EVENT_HEX]
    enc, frames = _capture(1)
    enc.ack(P.CMD_SET_DETECTOR, 5, P.ST_OUT_OF_RANGE)
    assert [_hex(f) for f in frames] == [golden.ACK_HEX]


def test_batch_size_follows_the_ble_payload():
    assert P.samples_per_frame(P.BLE_DEFAULT_PAYLOAD, True) == 0
    assert P.samples_per_frame(P.BLE_DEFAULT_PAYLOAD, False) == 3
    assert P.samples_per_frame(244, True) == 14  # ATT MTU 247


def test_crc16_ccitt_false_check_value():
    data = golden.CRC_CHECK_INPUT.encode()
    assert P.crc16(data, len(data)) == golden.CRC_CHECK_VALUE


def test_usb_framing_matches_golden_cobs_bytes():
    out = []
    P.UsbFramer(lambda v: out.append(bytes(v))).send(bytes.fromhex(golden.USB_FRAME_HEX))
    assert _hex(out[0]) == golden.USB_WIRE_HEX
    assert out[0].count(b"\x00") == 1 and out[0][-1] == 0


def test_usb_framing_refuses_an_oversized_frame():
    try:
        P.UsbFramer(lambda v: None).send(bytes(P.UsbFramer.MAX_FRAME + 1))
    except ValueError:
        return
    raise AssertionError("oversized frame accepted")


def test_a_gap_in_indices_closes_the_batch_so_every_sample_keeps_its_index():
    enc, frames = _capture(4)
    for i in (0, 1, 7, 8, 9, 10):
        enc.add_sample(i, 0, 1000, 0, 0, 0, 0, i, -i)
    assert [(P.get_u32(f, 4), (len(f) - 8) // 16) for f in frames] == [(0, 2), (7, 4)]
    # The obliquity column of the second frame holds -7..-10: indices stayed aligned.
    assert [P.get_i16(frames[1], 8 + 16 * k + 14) for k in range(4)] == [-7, -8, -9, -10]
