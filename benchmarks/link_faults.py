"""Forced disconnects during a set: does the host's log stay complete?

    .venv/bin/python benchmarks/link_faults.py [--outages 100] [--min-s 0.1] [--max-s 20]
        [--mtu 247] [--seed 7]

The whole belt firmware (belt.app: IMU driver on a register-level fake MPU-6050, pipeline,
resend ring, BLE peripheral, commands) runs on the BLE rig (Bumble's host stack over a
simulated radio, levelbelt.blerig) and streams at 100 Hz to the host's BeltClient over
the bleak transport. Every few seconds the link is dropped at once on both ends (as a
supervision timeout does) and the belt stays out of range for a time drawn log-uniformly
from [min-s, max-s]; then it comes back, the client reconnects with backoff and asks for
the missed range with RESEND. All of it runs on the rig's virtual clock.

Figures (last line, JSON):
  disconnects               links dropped (each one a reconnect for the client)
  samples_expected          indices from the first to the last one logged
  samples_logged            distinct indices in the log
  samples_lost_within_ring  expected - logged - reported gaps for outages the ring covers
                            (the belt keeps 32 s; every outage here is shorter)
  samples_reported_gap      samples the client reported as explicit gaps
  mean_recovery_s           belt back in range -> log complete again (the RESEND done)
  wire_bytes_per_sample     notification bytes (frames + 3 B ATT + 4 B L2CAP header each)
                            per sample received, live and resent
  notifications_per_s       notifications received per second of the run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in ("firmware", "tests/firmware", "tests/host"):  # the belt and its test stand-ins
    sys.path.insert(0, str(ROOT / extra))

from ble_firmware_belt import KEY, FirmwareBelt  # noqa: E402

from levelbelt import protocol as p  # noqa: E402
from levelbelt.belt_client import BeltClient  # noqa: E402
from levelbelt.blerig import BleRig, CentralProfile, run  # noqa: E402
from levelbelt.command_auth import CommandCounter  # noqa: E402
from levelbelt.transports.ble_link import BleTransport  # noqa: E402

ATT_L2CAP_HEADER = 3 + 4
UP_S = (2.0, 6.0)  # streaming time between outages


class Log:
    def __init__(self) -> None:
        self.samples: set[int] = set()
        self.duplicates = 0
        self.gap_samples = 0

    def on_samples(self, batch: p.SampleBatch) -> None:
        for i in range(batch.first_index, batch.first_index + batch.count):
            if i in self.samples:
                self.duplicates += 1
            self.samples.add(i)

    def on_gap(self, first: int, count: int) -> None:
        self.gap_samples += count


async def faults(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    loop = asyncio.get_running_loop()
    async with BleRig() as rig:
        board = await rig.add_peripheral()
        belt = FirmwareBelt(rig, board)
        host = await rig.add_central(profile=CentralProfile(mtu=args.mtu))
        await asyncio.sleep(1.5)
        log = Log()
        transport = BleTransport(
            belt.peripheral.name,
            scanner_backend=host.scanner_backend,
            client_backend=host.client_backend,
        )
        client = BeltClient(
            transport,
            key=KEY,
            on_samples=log.on_samples,
            on_gap=log.on_gap,
            counter=CommandCounter(1),
            seed=args.seed,
        )
        task = loop.create_task(client.run())
        start = loop.time()
        recoveries: list[float] = []
        outages: list[float] = []
        for _ in range(args.outages):
            await asyncio.sleep(rng.uniform(*UP_S))
            seconds = math.exp(rng.uniform(math.log(args.min_s), math.log(args.max_s)))
            outages.append(seconds)
            await rig.drop(board, seconds)
            back = loop.time()
            newest = belt.newest_index
            # Complete again: every sample the belt had when it came back is logged (or
            # reported as a gap), i.e. reconnected and the RESEND answered.
            async with asyncio.timeout(120):
                while not (
                    client.coverage.frontier is not None
                    and client.coverage.frontier > newest
                    and not client.coverage.holes
                ):
                    await asyncio.sleep(0.01)
            recoveries.append(loop.time() - back)
        await asyncio.sleep(2.0)
        await client.stop()
        await task
        elapsed = loop.time() - start
        stats = client.stats
        expected = stats.samples_expected
        logged = len(log.samples)
        received = logged + log.duplicates
        ring_s = belt.app.links.ring.capacity / 100
        within = [s for s in outages if s < ring_s - 5.0]
        return {
            "disconnects": stats.reconnects,
            "outages": len(outages),
            "outages_within_ring": len(within),
            "outage_s_min": round(min(outages), 3),
            "outage_s_max": round(max(outages), 3),
            "samples_expected": expected,
            "samples_logged": logged,
            "samples_lost_within_ring": expected - logged - log.gap_samples,
            "samples_reported_gap": log.gap_samples,
            "samples_duplicated": log.duplicates,
            "samples_resent": stats.samples_resent,
            "resend_requests": stats.resend_requests,
            "mean_recovery_s": round(statistics.fmean(recoveries), 3),
            "max_recovery_s": round(max(recoveries), 3),
            "wire_bytes_per_sample": round(
                (transport.bytes_received + ATT_L2CAP_HEADER * transport.frames_received)
                / received,
                2,
            ),
            "notifications_per_s": round(transport.frames_received / elapsed, 1),
            "mtu": args.mtu,
            "simulated_s": round(elapsed, 1),
            "belt_enomem": belt.peripheral.enomem,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outages", type=int, default=100)
    ap.add_argument("--min-s", type=float, default=0.1)
    ap.add_argument("--max-s", type=float, default=20.0)
    ap.add_argument("--mtu", type=int, default=247, choices=(23, 247))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    wall = time.perf_counter()
    result = run(faults(args))
    result["wall_s"] = round(time.perf_counter() - wall, 1)
    for key, value in result.items():
        print(f"{key:28s} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
