"""Resend ring: the last RING_SECONDS of samples by device index, and frames built from it.

Every sample the pipeline produces is stored once, as its 16-byte SAMPLES record
(`ax ay az gx gy gz tilt obliquity`, i16), in slot `index % capacity` of one preallocated
`array('h')`, next to a u16 lap tag per slot. Writing goes through `struct.pack_into`,
reading is plain array indexing: neither allocates.

A sample counts as present only if its slot still carries its own lap tag and it lies in
the window of the last `capacity` indices. Slots skipped by a FIFO overflow keep the tag
of an older lap, so samples that never existed are never returned; samples older than
the window have been overwritten or are out of reach. (Tags count laps modulo 65535: a
slot would have to go unwritten for 65535 laps, 24 days at 100 Hz, to alias.)

`RingReader` turns ring contents into SAMPLES / TILT frames for one link: the BLE live
stream reads from the ring (so a notification refused with ENOMEM is simply retried from
the same place and nothing is lost), and a RESEND walks a requested range, skipping what
is not there. Frame headers are left to the link, which stamps its own `seq` when the
frame actually goes out.
"""

import struct
from array import array

from belt import protocol as _p

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

RING_SECONDS = const(32)  # kept per rate: >= 30 s as the protocol promises
REC_WORDS = const(8)  # i16 per record
REC_BYTES = const(16)
TAG_LAPS = const(65535)
_HDR = const(8)  # BATCH_HEADER_LEN


_CHUNK = const(512)  # items added per step when building a large array
_pack_into = struct.pack_into  # one global load per sample instead of a global and a lookup


def _zeros(typecode, n):
    """A zeroed 2-byte-item array of n items, grown in small steps.

    `array(typecode, bytes(2 * n))` would need a second n-sized block for the zero bytes
    at the same moment (and a stale pointer can keep it alive); growing the newest heap
    block in place needs only one 1 KiB chunk besides it.
    """
    chunk = array(typecode, bytes(2 * _CHUNK))  # from bytes: raw zeros on both interpreters
    a = array(typecode)
    left = n
    while left >= _CHUNK:
        a.extend(chunk)
        left -= _CHUNK
    if left:
        a.extend(chunk[:left])
    return a


def capacity_for(rate_hz, seconds=RING_SECONDS):
    return rate_hz * seconds


def ring_bytes(capacity):
    """Bytes of sample storage for `capacity` samples (records + tags)."""
    return capacity * (REC_BYTES + 2)


class SampleRing:
    """The last `capacity` samples, addressed by device sample index."""

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("ring capacity must be >= 1")
        self.capacity = capacity
        self.rec = _zeros("h", REC_WORDS * capacity)
        self.tags = _zeros("H", capacity)
        self.clear()

    def clear(self):
        """Forget everything (the tags of every slot become stale)."""
        t = self.tags
        for i in range(self.capacity):
            t[i] = 0
        self.newest = -1  # newest index stored; -1 when empty
        self.resumed_at = 0  # first index after the most recent gap (or the first sample)
        self.stored = 0  # samples stored since clear() (for status and tests)
        self._next = -1
        self._slot = 0
        self._tag = 1

    def put(self, index, ax, ay, az, gx, gy, gz, tilt, obl):
        """Store one sample. An index that does not increase starts the ring afresh."""
        if index != self._next:
            if index <= self.newest:
                self.clear()
            cap = self.capacity
            self._slot = index % cap
            self._tag = index // cap % TAG_LAPS + 1
            self.resumed_at = index
        s = self._slot
        _pack_into("<8h", self.rec, s << 4, ax, ay, az, gx, gy, gz, tilt, obl)
        self.tags[s] = self._tag
        s += 1
        if s == self.capacity:
            s = 0
            self._tag = self._tag % TAG_LAPS + 1
        self._slot = s
        self._next = index + 1
        self.newest = index
        self.stored += 1

    def oldest(self):
        """Lowest index that can still be present (the window start); -1 when empty."""
        if self.newest < 0:
            return -1
        o = self.newest - self.capacity + 1
        return o if o > 0 else 0

    def has(self, index):
        newest = self.newest
        if index > newest or index < 0 or index <= newest - self.capacity:
            return False
        cap = self.capacity
        return self.tags[index % cap] == index // cap % TAG_LAPS + 1

    def next_present(self, index, end):
        """First present index in [index, end), or `end` when there is none."""
        low = self.oldest()
        if index < low:
            index = low
        top = self.newest + 1
        if end > top:
            end_scan = top
        else:
            end_scan = end
        while index < end_scan:
            if self.has(index):
                return index
            index += 1
        return end

    def available(self, first, count):
        """How many samples of [first, first + count) are present."""
        n = 0
        i = self.next_present(first, first + count)
        end = first + count
        top = self.newest + 1
        if end > top:
            end = top
        while i < end:
            if self.has(i):
                n += 1
            i += 1
        return n

    def spans(self, first, end):
        """Peak-to-peak of each raw axis (ax ay az gx gy gz) over present samples in
        [first, end); used by commands to refuse a calibration while the wearer moves."""
        lo = [32767] * 6
        hi = [-32768] * 6
        rec = self.rec
        cap = self.capacity
        for i in range(first, end):
            if self.has(i):
                k = (i % cap) << 3
                for a in range(6):
                    v = rec[k + a]
                    if v < lo[a]:
                        lo[a] = v
                    if v > hi[a]:
                        hi[a] = v
        return [hi[a] - lo[a] if hi[a] >= lo[a] else 0 for a in range(6)]

    def run_into(self, buf, first, end, nmax, raw):
        """Pack the run of consecutive present samples from `first` (at most `nmax`, below
        `end`) into `buf` after the 8-byte batch header; writes first_index, returns n."""
        if first <= self.newest - self.capacity or first < 0:
            return 0
        cap = self.capacity
        rec = self.rec
        tags = self.tags
        slot = first % cap
        tag = first // cap % TAG_LAPS + 1
        o = _HDR
        n = 0
        i = first
        pack = struct.pack_into
        while n < nmax and i < end:
            if tags[slot] != tag:
                break
            k = slot << 3
            if raw:
                pack("<8h", buf, o, rec[k], rec[k + 1], rec[k + 2], rec[k + 3], rec[k + 4],
                     rec[k + 5], rec[k + 6], rec[k + 7])
                o += REC_BYTES
            else:
                pack("<2h", buf, o, rec[k + 6], rec[k + 7])
                o += 4
            n += 1
            i += 1
            slot += 1
            if slot == cap:
                slot = 0
                tag = tag % TAG_LAPS + 1
        _p.put_u32(buf, 4, first)
        return n


class RingReader:
    """Sample frames built from the ring for one link: a live cursor and one RESEND range.

    `configure(batch, raw, resend_batch)` sets the frame shape for the link's payload
    size. Frames come back as preallocated memoryviews with the type and first index
    written; the caller writes version and seq (`stamp`) and sends.
    """

    def __init__(self, ring, max_payload=_p.BLE_DEFAULT_PAYLOAD):
        self.ring = ring
        self._buf = bytearray(max_payload if max_payload > _HDR + 4 else _HDR + 4)
        mv = memoryview(self._buf)
        self._max_raw = (len(self._buf) - _HDR) // REC_BYTES
        self._max_tilt = (len(self._buf) - _HDR) // _p.TILT_LEN
        self._raw_views = [mv[: _HDR + REC_BYTES * k] for k in range(self._max_raw + 1)]
        self._tilt_views = [mv[: _HDR + _p.TILT_LEN * k] for k in range(self._max_tilt + 1)]
        self.live_next = 0
        self.resend_next = 0
        self.resend_end = 0
        self.batch = 1
        self.raw = False
        self.resend_batch = 1
        self.configure(3, False, 3)

    def configure(self, batch, raw, resend_batch):
        top = self._max_raw if raw else self._max_tilt
        if batch < 1 or batch > top or resend_batch < 1 or resend_batch > top:
            raise ValueError("batch does not fit the reader's buffer")
        self.batch = batch
        self.raw = raw
        self.resend_batch = resend_batch

    def follow(self):
        """Start the live cursor after the newest stored sample (a fresh connection)."""
        self.live_next = self.ring.newest + 1

    def _frame(self, ftype, n):
        buf = self._buf
        buf[1] = ftype
        return self._raw_views[n] if self.raw else self._tilt_views[n]

    def live_frame(self):
        """The next live frame when a batch is complete (or cut by a gap), else None.

        Samples the ring no longer holds (the link stalled for longer than the ring) are
        skipped: the host sees the jump in index like any other gap.
        """
        ring = self.ring
        newest = ring.newest
        nxt = self.live_next
        if nxt > newest:
            return None
        if not ring.has(nxt):
            nxt = ring.next_present(nxt, newest + 1)
            self.live_next = nxt
            if nxt > newest:
                return None
        if newest + 1 - nxt < self.batch and ring.resumed_at <= nxt:
            return None  # contiguous up to the newest sample: wait for a full batch
        n = ring.run_into(self._buf, nxt, newest + 1, self.batch, self.raw)
        self.live_next = nxt + n
        return self._frame(_p.FT_SAMPLES if self.raw else _p.FT_TILT, n)

    def resend_start(self, first, count):
        """Begin re-sending [first, first + count); returns how many samples are there."""
        n = self.ring.available(first, count)
        self.resend_next = first
        self.resend_end = first + count if n else first
        return n

    def resending(self):
        return self.resend_next < self.resend_end

    def cancel_resend(self):
        self.resend_end = self.resend_next

    def resend_frame(self):
        """The next RESENT_SAMPLES / RESENT_TILT frame of the range, or None when done."""
        ring = self.ring
        end = self.resend_end
        nxt = ring.next_present(self.resend_next, end)
        if nxt >= end:
            self.resend_next = end
            return None
        n = ring.run_into(self._buf, nxt, end, self.resend_batch, self.raw)
        self.resend_next = nxt + n
        return self._frame(_p.FT_RESENT_SAMPLES if self.raw else _p.FT_RESENT_TILT, n)


def stamp(buf, seq):
    """Write version and seq into a frame header (the type is already there)."""
    buf[0] = _p.VERSION
    buf[2] = seq & 0xFF
    buf[3] = (seq >> 8) & 0xFF
