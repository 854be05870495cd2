"""USB command input: COBS + CRC deframing without blocking, and Ctrl-C while the app runs."""

import belt_rig
import heap

from belt import protocol as P
from belt import usb_in as U


class Clock:
    def __init__(self):
        self.ms = 0

    def ticks_diff(self, a, b):
        return a - b


def _reader():
    got = []
    s = belt_rig.SerialIn()
    clock = Clock()
    r = U.UsbInput(s, s.readable, lambda buf, n: got.append(bytes(buf[:n])), clock.ticks_diff)
    return r, s, got, clock


FRAME = belt_rig.command(belt_rig.KEY, P.CMD_SET_DETECTOR, 0x030303,
                         bytes((3, 3, 0, 0, 3, 0, 1, 3, 3)), seq=0x0300)


def _interrupted(r, now=0):
    try:
        r.poll(now)
    except KeyboardInterrupt:
        return True
    return False


def test_frames_are_deframed_whole_even_when_they_arrive_a_byte_at_a_time():
    r, s, got, _ = _reader()
    block = belt_rig.usb_block(FRAME)
    assert b"\x03" in FRAME  # counter, args and seq all hold 0x03 bytes: data, not Ctrl-C
    for b in block:
        s.feed(bytes((b,)))
        assert not _interrupted(r)
    assert got == [FRAME] and r.frames == 1 and r.bad == 0
    s.feed(belt_rig.usb_block(FRAME) + belt_rig.usb_block(FRAME[:-1] + b"\x00"))
    r.poll()
    assert got == [FRAME, FRAME, FRAME[:-1] + b"\x00"]


def test_damaged_blocks_are_counted_and_the_next_frame_still_arrives():
    r, s, got, _ = _reader()
    block = bytearray(belt_rig.usb_block(FRAME))
    block[10] ^= 0x40  # CRC fails
    s.feed(bytes(block))
    s.feed(b"hello\r\n\x00")  # console text typed at the belt
    s.feed(b"\x00\x01" + bytes(range(1, 200)) + b"\x00")  # longer than any command
    s.feed(belt_rig.usb_block(FRAME))
    while s.readable():
        r.poll()
    assert got == [FRAME] and r.bad == 3


def test_poll_reads_only_what_is_waiting_and_at_most_a_budget_per_pass():
    r, s, got, _ = _reader()
    assert r.poll() == 0 and s.reads == 0  # nothing waiting: no read (it would block)
    for _ in range(20):
        s.feed(belt_rig.usb_block(FRAME))
    r.poll()
    assert s.reads == U.POLL_BUDGET and 0 < len(got) < 20
    while s.readable():
        r.poll()
    assert len(got) == 20


def test_ctrl_c_from_mpremote_or_a_terminal_interrupts_the_app():
    for keys in (b"\r\x03", b"\x03\x03", b"\x00\r\x03\x03", b"abc\x03",
                 b"print(1)\r\n\x00import x\x03"):
        r, s, got, _ = _reader()
        s.feed(keys)
        assert _interrupted(r), keys
    r, s, got, clock = _reader()
    s.feed(b"\x03")  # one Ctrl-C, nothing after it
    assert not _interrupted(r, 0)
    assert not _interrupted(r, U.INTERRUPT_WAIT_MS - 1)
    assert _interrupted(r, U.INTERRUPT_WAIT_MS)
    s.feed(belt_rig.usb_block(FRAME))  # reading goes on normally afterwards
    r.poll(200)
    assert got == [FRAME]


def test_ctrl_c_after_an_unfinished_fragment_still_interrupts():
    r, s, got, _ = _reader()
    s.feed(belt_rig.usb_block(FRAME)[:12])  # a host died mid-frame: no 0x00 follows
    assert not _interrupted(r, 0)
    s.feed(b"\r\x03")  # mpremote, a second later
    assert _interrupted(r, 1000) and r.bad == 1
    r, s, got, _ = _reader()
    s.feed(b"\x00\x01" + bytes(range(4, 104)) + b"\r\x03")  # over-long, then Ctrl-C
    assert _interrupted(r, 0)


def test_a_frame_of_another_version_with_0x03_bytes_is_not_a_ctrl_c():
    r, s, got, _ = _reader()
    for version in (2, 4, 0x0F):
        f = bytes((version,)) + FRAME[1:]
        s.feed(belt_rig.usb_block(f))
        assert not _interrupted(r, 1000)
        assert got[-1] == f  # handed on; the dispatcher ignores versions it does not know


def test_close_gives_ctrl_c_back_once():
    calls = []
    s = belt_rig.SerialIn()
    r = U.UsbInput(s, s.readable, lambda buf, n: None, None, lambda: calls.append(1))
    r.close()
    r.close()
    assert calls == [1]


def test_polling_and_deframing_allocate_nothing():
    count = [0]

    def on_frame(buf, n):
        count[0] += 1

    s = belt_rig.SerialIn()
    s.data = bytearray(belt_rig.usb_block(FRAME) * 40)
    r = U.UsbInput(s, s.readable, on_frame, Clock().ticks_diff)
    r.poll()  # warm-up

    def poll_40():
        for _ in range(40):
            r.poll()

    heap.locked(poll_40)
    assert count[0] == 40 and r.bad == 0
