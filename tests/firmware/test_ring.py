"""The resend ring keeps the last samples by device index and gives back exactly what it has."""

import gc
import sys

import heap

from belt import protocol as P
from belt import ring as R

MICROPYTHON = sys.implementation.name == "micropython"


def _row(i):
    """A distinct record for index i (ax..gz, tilt, obliquity), all within i16."""
    b = i % 30000
    return (b, -b, 7, i % 97, -(i % 89), 3, (i * 7) % 20000 - 10000, -((i * 3) % 15000))


def _fill(ring, indices):
    for i in indices:
        ring.put(i, *_row(i))


def _decode(frame):
    """(type, [(index, record)]) of a SAMPLES / TILT / RESENT_* frame."""
    ftype = frame[1]
    raw = ftype in (P.FT_SAMPLES, P.FT_RESENT_SAMPLES)
    per = P.SAMPLE_LEN if raw else P.TILT_LEN
    first = P.get_u32(frame, 4)
    out = []
    for k, o in enumerate(range(P.BATCH_HEADER_LEN, len(frame), per)):
        vals = tuple(P.get_i16(frame, o + 2 * j) for j in range(per // 2))
        out.append((first + k, vals))
    return ftype, out


def _drain_resend(reader):
    frames = []
    while True:
        v = reader.resend_frame()
        if v is None:
            return frames
        frames.append(bytes(v))


def test_samples_come_back_by_index_with_their_exact_record():
    ring = R.SampleRing(50)
    _fill(ring, range(20))
    assert ring.newest == 19 and ring.oldest() == 0
    assert all(ring.has(i) for i in range(20))
    assert not ring.has(20) and not ring.has(-1)
    reader = R.RingReader(ring, 244)
    reader.configure(10, True, 14)
    assert reader.resend_start(3, 5) == 5
    (ftype, recs), = [_decode(f) for f in _drain_resend(reader)]
    assert ftype == P.FT_RESENT_SAMPLES
    assert recs == [(i, _row(i)) for i in range(3, 8)]


def test_wrap_around_keeps_only_the_last_capacity_samples():
    ring = R.SampleRing(40)
    _fill(ring, range(130))  # more than three laps
    assert ring.oldest() == 90
    assert [i for i in range(130) if ring.has(i)] == list(range(90, 130))
    reader = R.RingReader(ring, 244)
    reader.configure(10, True, 14)
    assert reader.resend_start(0, 200) == 40
    got = []
    for f in _drain_resend(reader):
        got += _decode(f)[1]
    assert got == [(i, _row(i)) for i in range(90, 130)]


def test_a_fifo_gap_is_never_filled_with_stale_samples():
    ring = R.SampleRing(40)
    _fill(ring, range(0, 30))
    _fill(ring, range(55, 70))  # 25 samples lost in an overflow
    # The window is 30..69. Slots of 40..54 still hold 0..14 from the lap before: they
    # must not pass for the lost samples.
    assert [i for i in range(0, 70) if ring.has(i)] == list(range(55, 70))
    assert ring.available(0, 70) == 15 and ring.available(40, 10) == 0
    assert ring.resumed_at == 55
    reader = R.RingReader(ring, 244)
    reader.configure(10, True, 14)
    assert reader.resend_start(40, 20) == 5
    (ftype, recs), = [_decode(f) for f in _drain_resend(reader)]
    assert recs == [(i, _row(i)) for i in range(55, 60)]


def test_a_resend_range_partly_outside_the_ring_returns_what_is_inside():
    ring = R.SampleRing(100)
    _fill(ring, range(0, 250))  # ring holds 150..249
    reader = R.RingReader(ring, 20)
    reader.configure(3, False, 3)  # 20-byte payload: tilt records, 3 per frame
    assert reader.resend_start(120, 40) == 10  # 120..159: only 150..159 are still there
    frames = _drain_resend(reader)
    assert [f[1] for f in frames] == [P.FT_RESENT_TILT] * 4
    got = []
    for f in frames:
        got += _decode(f)[1]
    assert got == [(i, _row(i)[6:]) for i in range(150, 160)]
    assert reader.resend_start(240, 100) == 10  # beyond the newest: what exists so far
    assert reader.resend_start(500, 10) == 0 and not reader.resending()
    assert reader.resend_start(0, 100) == 0 and reader.resend_frame() is None


def test_resend_frames_split_at_gaps_and_report_the_real_first_index():
    ring = R.SampleRing(200)
    _fill(ring, list(range(0, 10)) + list(range(13, 20)) + list(range(40, 45)))
    reader = R.RingReader(ring, 244)
    reader.configure(10, True, 14)
    assert reader.resend_start(0, 50) == 22
    frames = [_decode(f)[1] for f in _drain_resend(reader)]
    assert [[i for i, _ in recs] for recs in frames] == [
        list(range(0, 10)), list(range(13, 20)), list(range(40, 45))]


def test_live_frames_wait_for_a_full_batch_but_a_gap_closes_one_early():
    ring = R.SampleRing(100)
    reader = R.RingReader(ring, 244)
    reader.configure(5, True, 14)
    reader.follow()
    _fill(ring, range(0, 4))
    assert reader.live_frame() is None  # 4 of 5: wait
    _fill(ring, [4, 5])
    recs = _decode(bytes(reader.live_frame()))[1]
    assert recs == [(i, _row(i)) for i in range(5)]
    assert reader.live_frame() is None  # 5 alone waits for 6..9
    _fill(ring, [9, 10])  # 6..8 lost
    assert [i for i, _ in _decode(bytes(reader.live_frame()))[1]] == [5]
    assert reader.live_frame() is None  # 9, 10: wait for more
    _fill(ring, range(11, 14))
    assert [i for i, _ in _decode(bytes(reader.live_frame()))[1]] == [9, 10, 11, 12, 13]


def test_a_live_cursor_that_fell_out_of_the_ring_skips_to_the_oldest_sample():
    ring = R.SampleRing(30)
    reader = R.RingReader(ring, 20)
    reader.configure(3, False, 3)
    reader.follow()
    _fill(ring, range(0, 100))  # the link sent nothing for longer than the ring holds
    ftype, recs = _decode(bytes(reader.live_frame()))
    assert ftype == P.FT_TILT and [i for i, _ in recs] == [70, 71, 72]


def test_an_index_that_goes_back_starts_the_ring_afresh():
    ring = R.SampleRing(30)
    _fill(ring, range(0, 20))
    _fill(ring, range(5, 8))  # a new stream (the pipeline was rebuilt)
    assert [i for i in range(0, 20) if ring.has(i)] == [5, 6, 7]


def test_ring_memory_at_100_and_200_hz_covers_thirty_seconds():
    for rate in (100, 200):
        cap = R.capacity_for(rate)
        assert cap >= 30 * rate
        assert R.ring_bytes(cap) == cap * 18
    assert R.ring_bytes(R.capacity_for(100)) == 57600
    assert R.ring_bytes(R.capacity_for(200)) == 115200
    ring = R.SampleRing(R.capacity_for(100))
    assert len(ring.rec) * 2 + len(ring.tags) * 2 == R.ring_bytes(ring.capacity)


def test_storing_and_building_frames_allocates_nothing():
    ring = R.SampleRing(300)
    reader = R.RingReader(ring, 244)
    reader.configure(10, True, 14)
    reader.follow()
    sent = [0]

    def run(n, start):
        for i in range(start, start + n):
            ring.put(i, 1, 2, 3, 4, 5, 6, 7, 8)
            v = reader.live_frame()
            if v is not None:
                sent[0] += 1

    run(100, 0)
    heap.locked(lambda: run(1000, 100))
    assert sent[0] == 110


def test_the_ring_holds_about_its_sample_storage_on_the_heap():
    if not MICROPYTHON:
        return  # heap accounting is MicroPython's; CPython objects have other overheads
    gc.collect()
    before = gc.mem_alloc()
    ring = R.SampleRing(R.capacity_for(100))
    gc.collect()
    held = gc.mem_alloc() - before
    assert R.ring_bytes(ring.capacity) <= held <= R.ring_bytes(ring.capacity) * 115 // 100
