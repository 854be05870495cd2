"""LiveBelt keeps the last seconds the screen draws; resent samples fill holes only."""

from __future__ import annotations

import numpy as np
from frame_fuzz import encode

from levelbelt import protocol as p
from levelbelt.live import LinkGap, LiveBelt


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


def test_a_belt_restart_starts_the_history_again_so_the_new_boot_is_drawn() -> None:
    live = LiveBelt(rate_hz=100, history_s=10.0)
    heard: list[object] = []
    live.listeners.append(heard.append)
    live.feed(tilt_batch(5000, 5, value=300))
    live.restart()  # the belt rebooted: its index starts again below the old one
    live.feed(tilt_batch(0, 5, value=-200))
    snap = live.snapshot()
    assert snap.restarts == 1 and snap.last_index == 4
    assert list(np.round(snap.history_t_s * 100).astype(int)) == [0, 1, 2, 3, 4]
    assert snap.tilt_deg == -2.0
    assert [type(h).__name__ for h in heard] == ["SampleBatch", "BeltRestarted", "SampleBatch"]


def test_a_gap_stays_missing_and_reaches_the_listeners() -> None:
    live = LiveBelt(rate_hz=100, history_s=10.0)
    heard: list[object] = []
    live.listeners.append(heard.append)
    live.feed(tilt_batch(0, 3))
    live.feed(tilt_batch(10, 3))
    live.gap(3, 7)  # the belt no longer had them
    assert heard[-1] == LinkGap(3, 7)
    assert live.snapshot().samples_missing == 7


def test_decoded_frames_from_a_client_count_like_fed_ones() -> None:
    live = LiveBelt(rate_hz=100, history_s=10.0)
    tilt = np.zeros(4, dtype=np.int16)
    live.add(p.SampleBatch(0, 0, tilt, tilt, None, False))
    live.add(p.SampleBatch(1, 8, tilt, tilt, None, False))
    live.add(p.SampleBatch(2, 4, tilt, tilt, None, True))  # resent, once each
    snap = live.snapshot()
    assert snap.samples_missing == 0 and snap.last_index == 11
