"""Host decoder throughput: USB bytes -> deframed, CRC-checked, decoded sample batches.

Builds a minute of 100 Hz frames with the firmware's own encoder and framer, then times
the host path. Prints figures; the last line is one JSON object.

    .venv/bin/python benchmarks/decoder.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from levelbelt.firmware import belt_module
from levelbelt.framing import Deframer
from levelbelt.protocol import Decoder, SampleBatch

RATE = 100


def build_wire(seconds: int, batch: int) -> tuple[bytes, list[bytes]]:
    proto = belt_module("protocol")
    frames: list[bytes] = []
    wire: list[bytes] = []
    framer = proto.UsbFramer(lambda v: wire.append(bytes(v)))

    def send(v: memoryview) -> None:
        frames.append(bytes(v))
        framer.send(v)

    enc = proto.FrameEncoder(send, batch)
    rng = np.random.default_rng(0)
    rows = rng.integers(-2000, 2000, size=(seconds * RATE, 8)).tolist()
    for i, r in enumerate(rows):
        enc.add_sample(i, *r)
    enc.flush()
    return b"".join(wire), frames


def best_of(fn: object, repeats: int = 5) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600, help="simulated seconds of samples")
    args = ap.parse_args()
    samples = args.seconds * RATE
    results: dict[str, float | int] = {"samples": samples}
    for batch in (5, 14):
        wire, frames = build_wire(args.seconds, batch)

        def decode_only(frames: list[bytes] = frames) -> None:
            d = Decoder()
            n = 0
            for f in frames:
                b = d.decode(f)
                if isinstance(b, SampleBatch):
                    n += b.count
            assert n == samples

        def usb_path(wire: bytes = wire) -> None:
            d, fr = Decoder(), Deframer()
            n = 0
            for i in range(0, len(wire), 4096):  # serial reads arrive in chunks
                for f in fr.feed(wire[i : i + 4096]):
                    b = d.decode(f)
                    if isinstance(b, SampleBatch):
                        n += b.count
            assert n == samples

        t_dec = best_of(decode_only)
        t_usb = best_of(usb_path)
        results[f"decode_samples_per_s_batch{batch}"] = round(samples / t_dec)
        results[f"usb_path_samples_per_s_batch{batch}"] = round(samples / t_usb)
        results[f"usb_bytes_per_sample_batch{batch}"] = round(len(wire) / samples, 2)
        print(f"batch {batch:2d}: decode {samples / t_dec:12,.0f} samples/s, "
              f"USB deframe+CRC+decode {samples / t_usb:10,.0f} samples/s, "
              f"{len(wire) / samples:.2f} wire bytes/sample")
    results["realtime_factor_usb_batch5"] = round(
        float(results["usb_path_samples_per_s_batch5"]) / RATE
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
