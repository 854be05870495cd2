"""The per-sample path allocates nothing (checked on MicroPython with the heap locked).

On MicroPython `micropython.heap_lock()` makes any allocation raise MemoryError, and
`gc.mem_alloc()` must not move. CPython boxes every int, so there the same run only
checks that the path works; the allocation proof is the MicroPython tier.
"""

import gc
import sys

from belt import protocol as P
from belt.pipeline import STATE_RUNNING, Pipeline

MICROPYTHON = sys.implementation.name == "micropython"


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
    gc.collect()
    if MICROPYTHON:
        import micropython

        before = gc.mem_alloc()
        micropython.heap_lock()
        try:
            _drive(p, 1000)
        finally:
            micropython.heap_unlock()
        assert gc.mem_alloc() - before == 0
    else:
        _drive(p, 1000)


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
    gc.collect()
    if MICROPYTHON:
        import micropython

        micropython.heap_lock()
        try:
            for _ in range(50):
                p.push(5, 990, -20, 300, -40, 12, 7)
        finally:
            micropython.heap_unlock()
    else:
        for _ in range(50):
            p.push(5, 990, -20, 300, -40, 12, 7)
    assert p.state == STATE_RUNNING
