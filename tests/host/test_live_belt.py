"""LiveBelt keeps the last seconds the screen draws; resent samples fill holes only."""

from __future__ import annotations

import numpy as np
from frame_fuzz import encode

from levelbelt import protocol as p
from levelbelt.live import LiveBelt


def tilt_batch(first: int, n: int, resent: bool = False, value: int = 0) -> bytes:
    tilt = np.full(n, value, dtype=np.int16)
    return encode(p.SampleBatch(0, first, tilt, tilt.copy(), None, resent))


def test_a_jump_in_the_index_counts_as_missing_until_the_resend_fills_it() -> None:
    live = LiveBelt(rate_hz=100, history_s=10.0)
    live.feed(tilt_batch(0, 3))
    live.feed(tilt_batch(10, 3))
    assert live.snapshot().samples_missing == 7
    live.feed(tilt_batch(3, 3, resent=True))
    snap = live.snapshot()
    assert snap.samples_missing == 4
    assert list(np.round(snap.history_t_s * 100).astype(int)) == [0, 1, 2, 3, 4, 5, 10, 11, 12]


def test_a_resend_older_than_the_history_never_overwrites_newer_samples() -> None:
    live = LiveBelt(rate_hz=100, history_s=1.0)  # 100 slots
    live.feed(tilt_batch(0, 3))
    live.feed(tilt_batch(150, 100, value=500))  # an outage, then a full window of new data
    live.feed(tilt_batch(50, 3, resent=True, value=-900))  # would land in slots 50..52
    snap = live.snapshot()
    assert snap.history_t_s.size == 100
    assert round(snap.history_t_s[0] * 100) == 150 and round(snap.history_t_s[-1] * 100) == 249
    assert np.all(snap.history_tilt_deg == 5.0)
