"""The per-sample path allocates nothing (checked on MicroPython with the heap locked).

On MicroPython `micropython.heap_lock()` makes any allocation raise MemoryError, and
`gc.mem_alloc()` must not move. CPython boxes every int, so there the same run only
checks that the path works; the allocation proof is the MicroPython tier.
"""

import heap

from belt import protocol as P
from belt.pipeline import STATE_RUNNING, Pipeline


def _running_pipeline(framer):
    sink = framer.send if framer is not None else (lambda v: None)
    enc = P.FrameEncoder(sink, 5)
    p = Pipeline(100, enc, calib_s=0.2)
    for _ in range(40):
        p.push(3, 998, -20, 2, -3, 1)
    assert p.state == STATE_RUNNING
    return p


def _drive(p, n):
    """A wobbling pose with drops, so every branch of the hot path runs."""
    for i in range(n):
        k = i % 200
        ax = -150 if 40 <= k < 120 else 2
        p.push(ax, 985, -30, (k - 100) * 3, 17, -9)


def _assert_no_allocation(p):
    _drive(p, 400)  # warm up: first-use views and dict entries
    heap.locked(lambda: _drive(p, 1000))


def test_sample_path_with_ble_frames_allocates_nothing():
    p = _running_pipeline(None)
    _assert_no_allocation(p)


def test_sample_path_with_usb_framing_allocates_nothing():
    out = []

    def write(view):
        if len(out) < 1:
            out.append(len(view))

    _assert_no_allocation(_running_pipeline(P.UsbFramer(write)))
    assert out[0] > 0


def test_the_sample_after_a_fifo_gap_allocates_nothing_either():
    p = _running_pipeline(None)
    _drive(p, 400)

    def gaps():
        for _ in range(50):
            p.push(5, 990, -20, 300, -40, 12, 7)

    heap.locked(gaps)
    assert p.state == STATE_RUNNING


def test_a_run_that_allocates_fails_the_check():
    keep = []

    def allocate():
        keep.append(bytearray(16))

    if heap.MICROPYTHON:
        try:
            heap.locked(allocate)
        except MemoryError:
            return
        raise AssertionError("an allocation went unnoticed")
    heap.locked(allocate)  # CPython: the run happens; the proof is the MicroPython tier
    assert len(keep) == 1
