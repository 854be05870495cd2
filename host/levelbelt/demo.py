"""`levelbelt demo`: the simulated belt on a pty, read back over pyserial, shown live.

Threads: the belt emits samples paced to (simulated) real time; a reader pulls frames
from the serial port into `LiveBelt`; the UI (or the headless loop) polls snapshots.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from levelbelt.demo_script import WeakSide, demo_script
from levelbelt.errors import ConfigError, LinkError
from levelbelt.live import LiveBelt
from levelbelt.sim.belt import SimulatedBelt
from levelbelt.sim.pty_link import PtyPair
from levelbelt.sim.source import sample_chunks
from levelbelt.transports.serial_link import SerialLink

RATE_HZ = 100


@dataclass
class DemoRig:
    """A running simulated belt plus the host side reading it over a pty."""

    weak_side: WeakSide
    seed: int
    speed: float
    live: LiveBelt = field(default_factory=lambda: LiveBelt(rate_hz=RATE_HZ))
    error: str | None = None

    def __post_init__(self) -> None:
        if not 0.1 <= self.speed <= 50:
            raise ConfigError(f"--speed must be between 0.1 and 50, got {self.speed:g}")
        self._stop = threading.Event()
        self._pty = PtyPair()
        self.link = SerialLink(self._pty.slave_path)
        chunks = sample_chunks(demo_script(self.weak_side, self.seed), RATE_HZ, self.seed)
        self.belt = SimulatedBelt(chunks, RATE_HZ, self._pty.write)
        self._threads = [
            threading.Thread(target=self._run_belt, name="sim-belt", daemon=True),
            threading.Thread(target=self._read, name="serial-reader", daemon=True),
        ]

    def start(self) -> DemoRig:
        for t in self._threads:
            t.start()
        return self

    def _run_belt(self) -> None:
        self.belt.run_paced(self.speed, self._stop)

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                for frame in self.link.read_frames():
                    self.live.feed(frame)
            except LinkError as e:
                self.error = str(e)
                return

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self.link.close()
        self._pty.close()


def run_headless(rig: DemoRig, duration_s: float) -> int:
    """Run for `duration_s` of belt time and print what the host received."""
    deadline = time.monotonic() + duration_s / rig.speed + 5.0
    target = int(duration_s * RATE_HZ) - 1
    while rig.live.snapshot().last_index < target and time.monotonic() < deadline:
        if rig.error:
            raise LinkError(rig.error)
        time.sleep(0.05)
    snap = rig.live.snapshot()
    cues = Counter(d.side for d in snap.drops if not d.ended)
    print(f"samples received: {snap.last_index + 1} ({(snap.last_index + 1) / RATE_HZ:.1f} s)")
    print(f"frames ok: {snap.frames_ok}, bad: {snap.frames_bad}, samples missing: "
          f"{snap.samples_missing}")
    print(f"hip-drop cues: left side dropped {cues['left']}, right side dropped {cues['right']}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    rig = DemoRig(weak_side=args.weak_side, seed=args.seed, speed=args.speed).start()
    try:
        if args.headless:
            return run_headless(rig, args.duration or 60.0)
        from levelbelt.tui.demo_app import DemoApp

        DemoApp(rig, duration_s=args.duration).run()
        return 0
    finally:
        rig.stop()
