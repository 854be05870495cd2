"""Several belts at 100 Hz into one host: CPU of the host's code and UI responsiveness.

    .venv/bin/python benchmarks/multi_belt.py [--belts 4] [--seconds 30] [--mtu 247]

Each belt is the whole firmware (belt.app on a register-level fake MPU-6050) on the BLE
rig (levelbelt.blerig: Bumble's host stack over a simulated radio); the host runs one
BeltClient per belt over the bleak transport, feeds one LiveBelt per belt, and a UI task
takes a snapshot of every belt 30 times a second, as the dashboard does. Everything shares
one asyncio loop in real time (not the rig's virtual clock), the worst case for the UI.

Figures (last line, JSON):
  belts              belts streaming at 100 Hz
  host_cpu_percent   CPU spent in the host's own code (transport queue, client, decoder,
                     LiveBelt, UI snapshots), per cent of one core, all belts together,
                     timed around those calls. The simulated belts, the simulated radio
                     and the Bumble + bleak stand-in for the OS Bluetooth stack are not
                     in it; `process_cpu_percent` is everything in the process.
  max_ui_lag_ms      worst lateness of a 30 Hz UI tick (when it ran vs when it was due)
  p99_ui_lag_ms      99th percentile of the same
  samples_lost       samples missing from any belt's log (gaps reported or not)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for extra in ("firmware", "tests/firmware", "tests/host"):  # the belt and its test stand-ins
    sys.path.insert(0, str(ROOT / extra))

from ble_firmware_belt import KEY, FirmwareBelt  # noqa: E402

from levelbelt import protocol as p  # noqa: E402
from levelbelt.belt_client import BeltClient  # noqa: E402
from levelbelt.blerig import BleRig, CentralProfile, run  # noqa: E402
from levelbelt.command_auth import CommandCounter  # noqa: E402
from levelbelt.live import LiveBelt  # noqa: E402
from levelbelt.transports.ble_link import BleTransport  # noqa: E402

UI_HZ = 30


class HostTimer:
    """Adds up the time spent inside the wrapped host-side calls."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.seconds += time.perf_counter() - t0

        return timed


async def belts_into_one_host(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    timer = HostTimer()
    async with BleRig() as rig:
        host = await rig.add_central(profile=CentralProfile(mtu=args.mtu))
        belts = [FirmwareBelt(rig, await rig.add_peripheral()) for _ in range(args.belts)]
        await asyncio.sleep(1.5)
        lives = [LiveBelt() for _ in belts]
        logged = [set[int]() for _ in belts]
        clients = []
        for belt, live, seen in zip(belts, lives, logged, strict=True):
            transport = BleTransport(
                belt.peripheral.name,
                scanner_backend=host.scanner_backend,
                client_backend=host.client_backend,
            )
            transport._on_frame = timer.wrap(transport._on_frame)  # type: ignore[method-assign]

            def keep(batch: p.SampleBatch, seen: set[int] = seen) -> None:
                seen.update(range(batch.first_index, batch.first_index + batch.count))

            client = BeltClient(
                transport,
                key=KEY,
                on_samples=keep,
                on_payload=live.feed,
                counter=CommandCounter(1),
            )
            client._handle = timer.wrap(client._handle)  # type: ignore[method-assign]
            clients.append(client)
        tasks = [loop.create_task(c.run()) for c in clients]
        async with asyncio.timeout(60):
            while not all(c.stats.samples_logged > 0 for c in clients):
                await asyncio.sleep(0.05)

        lags: list[float] = []
        snapshot = timer.wrap(lambda: [live.snapshot() for live in lives])
        timer.seconds = 0.0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        due = loop.time()
        for _ in range(round(args.seconds * UI_HZ)):
            due += 1.0 / UI_HZ
            await asyncio.sleep(max(0.0, due - loop.time()))
            lags.append(max(0.0, loop.time() - due))
            snapshot()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        host_s = timer.seconds
        for c in clients:
            await c.stop()
        await asyncio.gather(*tasks)

    lost = sum(
        c.stats.samples_expected - len(seen) for c, seen in zip(clients, logged, strict=True)
    )
    lag_ms = np.array(lags) * 1000.0
    return {
        "belts": args.belts,
        "host_cpu_percent": round(100.0 * host_s / wall, 2),
        "host_cpu_percent_per_belt": round(100.0 * host_s / wall / args.belts, 2),
        "process_cpu_percent": round(100.0 * cpu / wall, 1),
        "max_ui_lag_ms": round(float(lag_ms.max()), 1),
        "p99_ui_lag_ms": round(float(np.percentile(lag_ms, 99)), 1),
        "ui_ticks": len(lags),
        "samples_lost": lost,
        "samples_per_s": round(sum(c.stats.samples_logged for c in clients) / wall, 0),
        "mtu": args.mtu,
        "seconds": round(wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--belts", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--mtu", type=int, default=247, choices=(23, 247))
    args = ap.parse_args()
    result = run(belts_into_one_host(args), virtual=False)
    for key, value in result.items():
        print(f"{key:28s} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
