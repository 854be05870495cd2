"""The host decoders against random and mutated frames (hypothesis).

Starting from valid frames (golden vectors, the firmware's encoder and resend ring),
frames are bit-flipped, truncated, cut, spliced, duplicated, padded and given lying
lengths, then decoded: raw, as BLE delivers them (`protocol.Decoder`), and as a USB
byte stream read in arbitrary chunks (`framing.Deframer`, then the decoder). Whatever
the bytes, nothing raises, every refused frame is counted once under the reason the
protocol gives, an accepted frame is exactly what its bytes say, and frames that were
not damaged come through unchanged. benchmarks/decoder_fuzz.py runs 100k+ of these.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from frame_fuzz import (
    CORPUS,
    KNOWN_TYPES,
    Cut,
    Duplicate,
    FlipBit,
    Insert,
    LieLength,
    Mutation,
    RawItem,
    Splice,
    Truncate,
    UsbCase,
    check_raw_case,
    check_usb_case,
    mutate,
    random_raw_case,
    random_usb_case,
    verdict,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from levelbelt import framing
from levelbelt import protocol as p

ROOT = Path(__file__).resolve().parents[2]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

positions = st.integers(0, 1 << 16)


def mutations(stream: bool) -> st.SearchStrategy[Mutation]:
    most = 300 if stream else 30
    return st.one_of(
        st.builds(FlipBit, positions),
        st.builds(Truncate, positions),
        st.builds(Cut, positions, st.integers(1, most)),
        st.builds(Insert, positions, st.binary(min_size=1, max_size=most)),
        st.builds(Duplicate, positions, st.integers(1, most), positions),
        st.builds(Splice, st.integers(0, 63), positions, positions, st.integers(1, most)),
        st.builds(LieLength, positions, st.integers(0, 255)),
    )


corpus_index = st.integers(0, len(CORPUS) - 1)
raw_items = st.one_of(
    st.builds(RawItem, corpus_index, st.lists(mutations(False), max_size=4).map(tuple)),
    st.builds(RawItem, st.just(0), st.just(()), st.binary(max_size=260)),
    st.builds(
        RawItem,
        st.just(0),
        st.just(()),
        st.tuples(st.sampled_from(KNOWN_TYPES), st.binary(max_size=60)).map(
            lambda t: bytes((p.VERSION, t[0])) + t[1]
        ),
    ),
)
usb_cases = st.builds(
    UsbCase,
    st.lists(corpus_index, min_size=1, max_size=8).map(tuple),
    st.lists(mutations(True), max_size=5).map(tuple),
    st.lists(st.integers(1, 600), min_size=1, max_size=4).map(tuple),
    st.lists(corpus_index, min_size=1, max_size=3).map(tuple),
)


@FUZZ
@given(st.lists(raw_items, min_size=1, max_size=8))
def test_ble_frames_never_raise_and_each_bad_one_is_counted_under_its_reason(
    items: list[RawItem],
) -> None:
    outcome = check_raw_case(items)
    assert outcome.broken is None, outcome.broken


@FUZZ
@given(usb_cases)
def test_usb_streams_never_raise_and_intact_frames_survive_damage_around_them(
    case: UsbCase,
) -> None:
    outcome = check_usb_case(case)
    assert outcome.broken is None, outcome.broken


def test_the_oracle_agrees_with_the_decoder_on_every_corpus_frame() -> None:
    dec = p.Decoder()
    for frame in CORPUS:
        assert verdict(frame) == "ok"
        assert dec.decode(frame) is not None
    types = {f[1] for f in CORPUS}
    assert types == {p.FT_INFO, p.FT_STATUS, p.FT_CALIBRATION, p.FT_SAMPLES, p.FT_TILT,
                     p.FT_EVENT, p.FT_ACK, p.FT_RESENT_SAMPLES, p.FT_RESENT_TILT}


def test_each_kind_of_damage_is_refused_for_the_reason_the_protocol_gives() -> None:
    samples = CORPUS[0]
    cases = [
        RawItem(0, (Truncate(3),)),  # shorter than a header
        RawItem(0, (FlipBit(1),)),  # version 1 -> 0
        RawItem(0, (LieLength(0, KNOWN_TYPES.index(p.FT_COMMAND)),)),  # not for the host
        RawItem(0, (Truncate(len(samples) - 1),)),  # a record cut short
        RawItem(0, (LieLength(0, KNOWN_TYPES.index(p.FT_EVENT)),)),  # a type that lies
    ]
    outcome = check_raw_case(cases)
    assert outcome.broken is None, outcome.broken
    assert outcome.bad == len(cases)
    dec = p.Decoder()
    for item in cases:
        dec.decode(mutate(item.original(), item.mutations, CORPUS)[0])
    assert dict(dec.bad) == {
        "truncated": 1, "unknown version": 1, "unknown type": 1, "wrong length": 2
    }


def test_the_checks_catch_a_deframer_that_drops_an_intact_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The invariants are not vacuous: a deframer that loses one frame in ten fails."""
    real = framing.Deframer._unwrap
    calls = {"n": 0}

    def lossy(self: framing.Deframer, block: bytes) -> bytes | None:
        calls["n"] += 1
        return None if calls["n"] % 10 == 0 else real(self, block)

    monkeypatch.setattr(framing.Deframer, "_unwrap", lossy)
    outcome = check_usb_case(UsbCase(tuple(range(12)), (), (7,)))
    assert outcome.broken is not None


def test_the_seeded_generator_makes_cases_that_pass_the_same_checks() -> None:
    rng = random.Random(11)
    for _ in range(40):
        assert check_raw_case(random_raw_case(rng)).broken is None
        assert check_usb_case(random_usb_case(rng)).broken is None


def test_the_fuzz_benchmark_keeps_its_output_contract() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "decoder_fuzz.py"), "--cases", "300"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["cases"] == 300
    assert result["exceptions"] == 0 and result["broken"] == 0
    assert result["frames_bad_counted"] > 0 and result["cases_per_s"] > 0
