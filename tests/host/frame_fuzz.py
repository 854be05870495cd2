"""Frames to fuzz the host decoders with: a corpus, mutations, and what must hold.

Used by tests/host/test_decoder_fuzz.py (hypothesis draws the cases) and
benchmarks/decoder_fuzz.py (a seeded random generator draws many more of the same).

* `CORPUS`: valid frames of every type the host decodes, from the golden vectors and
  from the firmware's own encoder and resend ring.
* Mutations (`FlipBit`, `Truncate`, `Cut`, `Insert`, `Duplicate`, `Splice`, `LieLength`)
  change a byte string and keep, for every byte, where it came from (`tags`), so after
  any number of them it is known which USB blocks are still exactly as sent.
* `verdict` is docs/protocol.md written out as an oracle: the reason a frame must be
  refused for, or "ok". `encode` re-encodes a decoded frame; an accepted frame must
  encode back to exactly its bytes, reserved bytes aside (nothing lost, nothing
  invented).
* `check_raw_case` (BLE: one frame per notification) and `check_usb_case` (a COBS byte
  stream in arbitrary chunks) run one case and return the invariants it broke.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import golden
from levelbelt import protocol as p
from levelbelt.firmware import belt_module
from levelbelt.framing import Deframer, cobs_encode, crc16

MODIFIED = -1  # the tag of a byte that is not as it was sent
TAG_STRIDE = 1 << 12  # tag = source * TAG_STRIDE + offset in that source's bytes

FIXED_LENGTHS = {
    p.FT_INFO: p.INFO_LEN,
    p.FT_STATUS: p.STATUS_LEN,
    p.FT_CALIBRATION: p.CALIBRATION_LEN,
    p.FT_EVENT: p.EVENT_LEN,
    p.FT_ACK: p.ACK_LEN,
}
RECORD_LENGTHS = {
    p.FT_SAMPLES: p.SAMPLE_LEN,
    p.FT_RESENT_SAMPLES: p.SAMPLE_LEN,
    p.FT_TILT: p.TILT_LEN,
    p.FT_RESENT_TILT: p.TILT_LEN,
}
KNOWN_TYPES = (*FIXED_LENGTHS, *RECORD_LENGTHS, p.FT_COMMAND)
REASONS = ("truncated", "unknown version", "unknown type", "wrong length")


# -- the corpus ----------------------------------------------------------------------


def _firmware_frames() -> list[bytes]:
    proto = belt_module("protocol")
    ring_mod = belt_module("ring")
    out: list[bytes] = []

    def send(view: memoryview) -> None:
        out.append(bytes(view))

    rng = random.Random(4)
    for raw, batch in ((True, 1), (True, 5), (True, 14), (False, 1), (False, 3), (False, 60)):
        enc = proto.FrameEncoder(send, batch, raw)
        enc.seq = rng.randrange(0x10000)
        first = rng.randrange((1 << 32) - 100)
        for i in range(batch):
            row = [rng.randrange(-32768, 32768) for _ in range(8)]
            enc.add_sample(first + i, *row)
        enc.add_sample(first + batch + 7, 1, 2, 3, 4, 5, 6, 7, 8)  # a gap: a short batch
        enc.flush()
    enc = proto.FrameEncoder(send, 5)
    enc.seq = 0xFFFE
    enc.info((0, 1, 0), 0x68, 100, 10, 1)
    enc.status(1, 2, 3990, 3, 500, 150, 100, 0xFFFFFFFF)
    enc.calibration((-300, 12, 7), (0, 16384, -3), 250, 2)
    enc.event(proto.EV_DROP_CUE, 1, 123456, 123440, 612)
    enc.event(proto.EV_RESEND, 0, 9, 11, 0x7FFF)
    enc.ack(proto.CMD_RESEND, 0xFFFFFFFF, proto.ST_UNAVAILABLE)
    ring = ring_mod.SampleRing(ring_mod.capacity_for(100))
    for i in range(40):
        ring.put(i, i, -i, 1000, 3 * i, 0, -1, i * 7, -i * 11)
    for raw, batch in ((True, 14), (False, 3)):
        reader = ring_mod.RingReader(ring, 244)
        reader.configure(batch, raw, batch)
        reader.resend_start(5, 30)
        while (view := reader.resend_frame()) is not None:
            ring_mod.stamp(view, 77)
            out.append(bytes(view))
    return out


def _golden_frames() -> list[bytes]:
    return [
        bytes.fromhex(h)
        for h in (golden.SAMPLES_HEX, golden.TILT_HEX, golden.EVENT_HEX, golden.ACK_HEX)
    ]


CORPUS: tuple[bytes, ...] = tuple(_golden_frames() + _firmware_frames())


# -- the oracle ----------------------------------------------------------------------


def verdict(frame: bytes) -> str:
    """"ok" when docs/protocol.md says the host decodes `frame`, else the reason."""
    if len(frame) < p.HEADER_LEN:
        return "truncated"
    if frame[0] != p.VERSION:
        return "unknown version"
    ftype = frame[1]
    if ftype in FIXED_LENGTHS:
        return "ok" if len(frame) == FIXED_LENGTHS[ftype] else "wrong length"
    if ftype in RECORD_LENGTHS:
        per = RECORD_LENGTHS[ftype]
        body = len(frame) - p.BATCH_HEADER_LEN
        return "ok" if body >= per and body % per == 0 else "wrong length"
    return "unknown type"  # COMMAND too: the host never receives one


def encode(frame: p.Frame) -> bytes:
    """The wire bytes of a decoded frame, from the layouts in docs/protocol.md."""
    if isinstance(frame, p.SampleBatch):
        if frame.raw is None:
            ftype = p.FT_RESENT_TILT if frame.resent else p.FT_TILT
            rows = np.column_stack([frame.tilt_cdeg, frame.obl_cdeg])
        else:
            ftype = p.FT_RESENT_SAMPLES if frame.resent else p.FT_SAMPLES
            rows = np.column_stack([frame.raw, frame.tilt_cdeg, frame.obl_cdeg])
        head = struct.pack("<BBHI", p.VERSION, ftype, frame.seq, frame.first_index)
        return head + rows.astype("<i2").tobytes()
    if isinstance(frame, p.Event):
        return struct.pack("<BBHBBIIh", p.VERSION, p.FT_EVENT, frame.seq, frame.kind,
                           frame.side, frame.index, frame.onset_index, frame.value)
    if isinstance(frame, p.Info):
        return struct.pack("<BBHBBBBHBB", p.VERSION, p.FT_INFO, frame.seq, *frame.firmware,
                           frame.imu_kind, frame.rate_hz, frame.batch, frame.flags)
    if isinstance(frame, p.Status):
        return struct.pack("<BBHBBHHHHHI", p.VERSION, p.FT_STATUS, frame.seq, frame.state,
                           frame.stance, frame.battery_mv, frame.fifo_overflows,
                           frame.threshold_cdeg, frame.dwell_ms, frame.release_cdeg,
                           frame.last_index)
    if isinstance(frame, p.Calibration):
        return struct.pack("<BBHhhhhhhHBB", p.VERSION, p.FT_CALIBRATION, frame.seq,
                           *frame.gyro_bias_256dps, *frame.up_q14, frame.mount_error_cdeg,
                           frame.position, 0)
    return struct.pack("<BBHBIB", p.VERSION, p.FT_ACK, frame.seq, frame.command,
                       frame.counter, frame.status)


def reserved_cleared(frame: bytes) -> bytes:
    """`frame` with its reserved bytes zeroed (CALIBRATION's last byte: receivers ignore
    it, so it cannot survive a decode)."""
    if len(frame) == p.CALIBRATION_LEN and frame[1] == p.FT_CALIBRATION:
        return frame[:-1] + b"\0"
    return frame


def frame_key(frame: p.Frame | None) -> object:
    """A comparable form of a decoded frame (numpy arrays as tuples)."""
    if not isinstance(frame, p.SampleBatch):
        return frame
    raw = None if frame.raw is None else tuple(map(tuple, frame.raw.tolist()))
    return ("batch", frame.seq, frame.first_index, tuple(frame.tilt_cdeg.tolist()),
            tuple(frame.obl_cdeg.tolist()), raw, frame.resent)


# -- mutations -----------------------------------------------------------------------


class Bytes:
    """A byte string being mutated, with where each byte came from."""

    def __init__(self, data: bytes, tags: list[int], donors: Sequence[bytes],
                 stream: bool) -> None:
        self.data = bytearray(data)
        self.tags = tags
        self.donors = donors  # material for Splice (other frames or streams)
        self.stream = stream  # a USB byte stream rather than one raw frame

    def _at(self, position: int, extra: int = 0) -> int:
        return position % (len(self.data) + extra) if self.data or extra else 0


@dataclass(frozen=True)
class FlipBit:
    bit: int

    def apply(self, b: Bytes) -> None:
        if b.data:
            i = (self.bit // 8) % len(b.data)
            b.data[i] ^= 1 << (self.bit % 8)
            b.tags[i] = MODIFIED


@dataclass(frozen=True)
class Truncate:
    keep: int

    def apply(self, b: Bytes) -> None:
        n = b._at(self.keep, 1)
        del b.data[n:], b.tags[n:]


@dataclass(frozen=True)
class Cut:
    start: int
    length: int

    def apply(self, b: Bytes) -> None:
        s = b._at(self.start)
        del b.data[s : s + self.length], b.tags[s : s + self.length]


@dataclass(frozen=True)
class Insert:
    at: int
    data: bytes

    def apply(self, b: Bytes) -> None:
        i = b._at(self.at, 1)
        b.data[i:i] = self.data
        b.tags[i:i] = [MODIFIED] * len(self.data)


@dataclass(frozen=True)
class Duplicate:
    start: int
    length: int
    at: int

    def apply(self, b: Bytes) -> None:
        if not b.data:
            return
        s = b._at(self.start)
        piece, tags = b.data[s : s + self.length], b.tags[s : s + self.length]
        i = b._at(self.at, 1)
        b.data[i:i] = piece
        b.tags[i:i] = tags


@dataclass(frozen=True)
class Splice:
    """A frame's head joined to another frame's tail; in a stream, a piece of another
    stream (up to `length` bytes) inserted."""

    donor: int
    start: int
    at: int
    length: int = 0

    def apply(self, b: Bytes) -> None:
        if not b.donors:
            return
        donor = b.donors[self.donor % len(b.donors)]
        s = self.start % (len(donor) + 1)
        i = b._at(self.at, 1)
        end = i if b.stream else len(b.data)
        piece = donor[s : s + self.length] if b.stream else donor[s:]
        b.data[i:end] = piece
        b.tags[i:end] = [MODIFIED] * len(piece)


@dataclass(frozen=True)
class LieLength:
    """A length that says something else: a frame's type byte (which fixes its length)
    for a raw frame, or a COBS code byte (the distance to the next zero) in a stream."""

    which: int
    value: int

    def apply(self, b: Bytes) -> None:
        if len(b.data) < 2:
            return
        if not b.stream:
            b.data[1] = KNOWN_TYPES[self.value % len(KNOWN_TYPES)]
            b.tags[1] = MODIFIED
            return
        starts = [0] + [i + 1 for i, v in enumerate(b.data[:-1]) if v == 0]
        i = starts[self.which % len(starts)]
        b.data[i] = 1 + self.value % 255
        b.tags[i] = MODIFIED


Mutation = FlipBit | Truncate | Cut | Insert | Duplicate | Splice | LieLength


def mutate(data: bytes, mutations: Sequence[Mutation], donors: Sequence[bytes],
           tags: list[int] | None = None) -> tuple[bytes, list[int]]:
    """`data` after `mutations`, and its tags; given `tags`, it is a USB stream."""
    stream = tags is not None
    b = Bytes(data, list(tags) if tags is not None else list(range(len(data))), donors,
              stream)
    for m in mutations:
        m.apply(b)
    return bytes(b.data), b.tags


# -- BLE: one frame per notification --------------------------------------------------


@dataclass(frozen=True)
class RawItem:
    """One notification: a corpus frame (or `random` bytes when given), mutated."""

    source: int
    mutations: tuple[Mutation, ...] = ()
    random: bytes | None = None

    def original(self) -> bytes:
        return self.random if self.random is not None else CORPUS[self.source % len(CORPUS)]


@dataclass
class Outcome:
    frames: int = 0
    bad: int = 0
    broken: list[str] | None = None

    def fail(self, what: str) -> None:
        self.broken = (self.broken or []) + [what]


def check_raw_case(items: Sequence[RawItem]) -> Outcome:
    """Decode the notifications in order with one decoder; what broke, if anything."""
    out = Outcome()
    dec = p.Decoder()
    for n, item in enumerate(items):
        original = item.original()
        data, _ = mutate(original, item.mutations, CORPUS)
        before = dict(dec.bad)
        frame = dec.decode(data)
        want = verdict(data)
        got = {r: dec.bad[r] - before.get(r, 0) for r in dec.bad if dec.bad[r] != before.get(r, 0)}
        if want == "ok":
            if frame is None:
                out.fail(f"item {n}: valid frame refused ({got})")
            elif encode(frame) != reserved_cleared(data):
                out.fail(f"item {n}: decoded frame does not encode back to its bytes")
            elif not item.mutations and frame_key(frame) != frame_key(p.Decoder().decode(data)):
                out.fail(f"item {n}: an intact frame decoded differently in a stream")
        elif frame is not None:
            out.fail(f"item {n}: accepted a frame that is {want}")
        elif got != {want: 1}:
            out.fail(f"item {n}: counted {got}, expected one {want!r}")
        out.frames += 1
    if dec.frames_ok + dec.frames_bad != len(items):
        out.fail("frames ok + bad differs from frames given")
    if set(dec.bad) - set(REASONS):
        out.fail(f"unknown reasons {set(dec.bad) - set(REASONS)}")
    out.bad = dec.frames_bad
    return out


# -- USB: COBS + CRC byte stream --------------------------------------------------------


def usb_stream(sources: Sequence[int]) -> tuple[bytes, list[int], dict[tuple[int, ...], bytes]]:
    """Corpus frames framed by the firmware's own UsbFramer: (wire, tags, blocks), where
    `blocks` maps the tags of each frame's intact block (without its 0x00) to the frame."""
    proto = belt_module("protocol")
    wire = bytearray()
    tags: list[int] = []
    blocks: dict[tuple[int, ...], bytes] = {}
    for k, source in enumerate(sources):
        frame = CORPUS[source % len(CORPUS)]
        out: list[bytes] = []
        proto.UsbFramer(lambda v, out=out: out.append(bytes(v))).send(frame)
        block_tags = [k * TAG_STRIDE + i for i in range(len(out[0]))]
        blocks[tuple(block_tags[:-1])] = frame
        wire += out[0]
        tags += block_tags
    return bytes(wire), tags, blocks


@dataclass(frozen=True)
class UsbCase:
    sources: tuple[int, ...]
    mutations: tuple[Mutation, ...]
    chunks: tuple[int, ...]  # read sizes, cycled
    donor_sources: tuple[int, ...] = (0,)


def _split_blocks(data: bytes, tags: list[int]) -> list[tuple[bytes, tuple[int, ...]]]:
    """Zero-terminated, non-empty blocks (a trailing unterminated part is still pending)."""
    out = []
    start = 0
    for i, v in enumerate(data):
        if v == 0:
            if i > start:
                out.append((data[start:i], tuple(tags[start:i])))
            start = i + 1
    return out


def _well_formed(frame: bytes, block: bytes) -> bool:
    """`block` is exactly `frame` framed for USB (a damaged block can be, by chance)."""
    crc = crc16(frame)
    return cobs_encode(frame + bytes((crc & 0xFF, crc >> 8))) == block


def check_usb_case(case: UsbCase) -> Outcome:
    out = Outcome()
    wire, tags, blocks = usb_stream(case.sources)
    donor, _, _ = usb_stream(case.donor_sources)
    data, tags = mutate(wire, case.mutations, [donor], tags)
    deframer = Deframer()
    frames: list[bytes] = []
    i = 0
    k = 0
    sizes = case.chunks or (len(data) or 1,)
    while i < len(data):
        n = max(1, sizes[k % len(sizes)])
        frames.extend(deframer.feed(data[i : i + n]))
        i += n
        k += 1
    bad = sum(deframer.bad.values())
    oversize = deframer.bad.get("oversize", 0) > 0
    expected = _split_blocks(data, tags)
    intact = [blocks[t] for _, t in expected if t in blocks]
    # Every block still exactly as sent comes out, in order, as the frame it carried.
    it = iter(frames)
    if not all(any(f == want for f in it) for want in intact):
        out.fail("an intact frame was lost, changed or reordered")
    if not oversize:
        # Block by block: intact -> its frame; damaged -> counted once, unless it is by
        # chance a well-formed block, which then comes out as exactly that block's frame.
        queue = list(frames)
        uncounted = 0
        for block, t in expected:
            if t in blocks:
                if not queue or queue.pop(0) != blocks[t]:
                    out.fail("frames out of step with the blocks sent")
                    break
            elif queue and _well_formed(queue[0], block):
                queue.pop(0)
            else:
                uncounted += 1
        else:
            if queue:
                out.fail(f"{len(queue)} frames out of nowhere")
            if uncounted != bad:
                out.fail(f"{uncounted} damaged blocks but {bad} counted bad")
    if set(deframer.bad) - {"bad cobs", "bad crc", "oversize"}:
        out.fail(f"unknown reasons {set(deframer.bad)}")
    dec = p.Decoder()
    for f in frames:
        frame = dec.decode(f)
        if f in intact and frame_key(frame) != frame_key(p.Decoder().decode(f)):
            out.fail("an intact frame decoded differently")
    out.frames = len(frames)
    out.bad = bad + dec.frames_bad
    return out


# -- a seeded generator of the same cases (for the benchmark) ---------------------------


def random_mutation(rng: random.Random, stream: bool) -> Mutation:
    kind = rng.randrange(7)
    n = rng.randrange(1 << 16)
    if kind == 0:
        return FlipBit(n)
    if kind == 1:
        return Truncate(n)
    if kind == 2:
        return Cut(n, rng.randrange(1, 40 if stream else 12))
    if kind == 3:
        return Insert(n, rng.randbytes(rng.randrange(1, 300 if stream else 30)))
    if kind == 4:
        return Duplicate(n, rng.randrange(1, 300 if stream else 30), rng.randrange(1 << 16))
    if kind == 5:
        return Splice(rng.randrange(64), n, rng.randrange(1 << 16), rng.randrange(1, 400))
    return LieLength(n, rng.randrange(256))


def random_raw_case(rng: random.Random) -> list[RawItem]:
    items = []
    for _ in range(rng.randrange(1, 9)):
        r = rng.random()
        if r < 0.1:
            items.append(RawItem(0, (), rng.randbytes(rng.randrange(0, 260))))
        elif r < 0.2:
            head = bytes((p.VERSION, rng.choice(KNOWN_TYPES)))
            items.append(RawItem(0, (), head + rng.randbytes(rng.randrange(0, 60))))
        else:
            muts = tuple(random_mutation(rng, False) for _ in range(rng.randrange(0, 4)))
            items.append(RawItem(rng.randrange(len(CORPUS)), muts))
    return items


def random_usb_case(rng: random.Random) -> UsbCase:
    sources = tuple(rng.randrange(len(CORPUS)) for _ in range(rng.randrange(1, 9)))
    muts = tuple(random_mutation(rng, True) for _ in range(rng.randrange(0, 5)))
    chunks = tuple(rng.randrange(1, 600) for _ in range(rng.randrange(1, 5)))
    donors = tuple(rng.randrange(len(CORPUS)) for _ in range(rng.randrange(1, 4)))
    return UsbCase(sources, muts, chunks, donors)
