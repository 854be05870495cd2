"""Runs that must allocate nothing: heap-locked on MicroPython, plain on CPython.

    heap.locked(lambda: drive(900))

On MicroPython `micropython.heap_lock()` makes any allocation raise MemoryError, and
`gc.mem_alloc()` must not move. CPython boxes every int, so there the same run only
checks that the code works; the allocation proof is the MicroPython tier.
"""

import gc
import sys

MICROPYTHON = sys.implementation.name == "micropython"


def locked(run):
    """Call `run()` (no arguments: a call with *args would itself allocate) after a
    collection; on MicroPython with the heap locked, and assert nothing was allocated."""
    gc.collect()
    if not MICROPYTHON:
        run()
        return
    import micropython

    before = gc.mem_alloc()
    micropython.heap_lock()
    try:
        run()
    finally:
        micropython.heap_unlock()
    assert gc.mem_alloc() - before == 0
