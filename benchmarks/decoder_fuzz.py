"""Fuzzing the host decoders: 100k+ random and mutated frames, none may raise.

    .venv/bin/python benchmarks/decoder_fuzz.py [--cases 100000] [--seed 1]
        [--engine random|hypothesis]

Each case is either a run of BLE notifications (raw frames through
`protocol.Decoder`) or a USB byte stream read in arbitrary chunks (`framing.Deframer`,
then the decoder). Frames start as valid ones (golden vectors, the firmware's encoder
and resend ring) and are bit-flipped, truncated, cut, spliced, duplicated, padded with
random bytes and given lying lengths; some are random bytes outright. The checks are
those of tests/host/test_decoder_fuzz.py (tests/host/frame_fuzz.py): nothing raises,
every refused frame is counted once under the reason docs/protocol.md gives, accepted
frames encode back to their own bytes, and undamaged frames come through unchanged.

`--engine random` (default) draws the cases from a seeded generator; `--engine
hypothesis` lets hypothesis draw them (the unit tests' strategies, slower per case).

Figures (last line, JSON): cases, frames_bad_counted (damaged frames and blocks the
decoders counted and skipped), exceptions (must be 0), broken (cases where a check
failed; must be 0), cases_per_s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in ("firmware", "tests/firmware", "tests/host"):  # golden vectors, frame_fuzz.py
    sys.path.insert(0, str(ROOT / extra))

import frame_fuzz as ff  # noqa: E402


class Tally:
    def __init__(self) -> None:
        self.cases = 0
        self.frames = 0
        self.bad = 0
        self.exceptions: Counter[str] = Counter()
        self.broken: Counter[str] = Counter()

    def run(self, check: Callable[[], ff.Outcome]) -> None:
        self.cases += 1
        try:
            outcome = check()
        except Exception as e:  # the figure this benchmark exists for
            self.exceptions[f"{type(e).__name__}: {e}"] += 1
            return
        self.frames += outcome.frames
        self.bad += outcome.bad
        for what in outcome.broken or ():
            self.broken[what.split(":", 1)[-1].strip()] += 1


def with_random(tally: Tally, cases: int, seed: int) -> None:
    rng = random.Random(seed)
    for k in range(cases):
        if k % 2:
            items = ff.random_raw_case(rng)
            tally.run(partial(ff.check_raw_case, items))
        else:
            case = ff.random_usb_case(rng)
            tally.run(partial(ff.check_usb_case, case))


def with_hypothesis(tally: Tally, cases: int, seed: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st
    from test_decoder_fuzz import raw_items, usb_cases

    case_strategy = st.one_of(
        st.lists(raw_items, min_size=1, max_size=8), usb_cases
    )

    @hseed(seed)
    @settings(max_examples=cases, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case_strategy)
    def one(case: list[ff.RawItem] | ff.UsbCase) -> None:
        if isinstance(case, ff.UsbCase):
            tally.run(partial(ff.check_usb_case, case))
        else:
            tally.run(lambda: ff.check_raw_case(case))

    one()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", choices=("random", "hypothesis"), default="random")
    args = ap.parse_args()
    tally = Tally()
    t0 = time.perf_counter()
    if args.engine == "random":
        with_random(tally, args.cases, args.seed)
    else:
        with_hypothesis(tally, args.cases, args.seed)
    elapsed = time.perf_counter() - t0
    print(f"{tally.cases} cases ({args.engine}, seed {args.seed}) in {elapsed:.1f} s: "
          f"{tally.frames} frames decoded, {tally.bad} bad frames counted and skipped")
    for what, n in (tally.exceptions + tally.broken).most_common(10):
        print(f"  {n:6d} x {what}")
    print(json.dumps({
        "engine": args.engine,
        "cases": tally.cases,
        "frames_decoded": tally.frames,
        "frames_bad_counted": tally.bad,
        "exceptions": sum(tally.exceptions.values()),
        "broken": sum(tally.broken.values()),
        "cases_per_s": round(tally.cases / elapsed),
    }))


if __name__ == "__main__":
    main()
