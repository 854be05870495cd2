"""An asyncio event loop on a virtual clock, so minutes of radio time take milliseconds.

Everything on the rig (both Bumble controllers and hosts, the belt's firmware loop, the
bleak backend, the code under test) runs as callbacks and tasks of one event loop and
never blocks in a thread. When nothing is ready to run, this loop jumps its clock
straight to the next timer instead of sleeping, so a 20 s outage costs no wall time,
and the order of events is the order a real clock would give.

Rule: nothing on a virtual loop may wait for a thread or for real I/O while timers are
pending (the clock would run ahead of it). `run(..., virtual=False)` gives a normal
loop for measurements that need wall time (CPU share, UI lag).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

_T = TypeVar("_T")


class _SkippingSelector(selectors.BaseSelector):
    """Polls the real selector without waiting; an idle wait moves the clock instead."""

    def __init__(self, loop_clock: VirtualClock) -> None:
        self._inner = selectors.DefaultSelector()
        self._clock = loop_clock

    def register(
        self, fileobj: Any, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            # No timer pending: only another thread can wake us, so really wait.
            return self._inner.select(None)
        ready = self._inner.select(0)
        if not ready and timeout > 0:
            self._clock.now += timeout
        return ready

    def close(self) -> None:
        self._inner.close()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


class VirtualClock:
    """Seconds since the loop was made; only the loop moves it."""

    def __init__(self) -> None:
        self.now = 0.0


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """`loop.time()` is virtual and idle time is skipped, not slept."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        super().__init__(_SkippingSelector(self.clock))

    def time(self) -> float:
        return self.clock.now


def run(main: Coroutine[Any, Any, _T], *, virtual: bool = True) -> _T:
    """Run `main` to completion on a fresh loop (virtual clock unless told otherwise)."""
    if not virtual:
        return asyncio.run(main)
    loop = VirtualClockLoop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
