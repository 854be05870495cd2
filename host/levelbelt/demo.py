"""`levelbelt demo`: the simulated belt on a pty, read back over pyserial, shown live.

Threads: the belt emits samples paced to (simulated) real time; a reader pulls frames
from the serial port into `LiveBelt`; the UI (or the headless loop) polls snapshots.
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from levelbelt.demo_script import WeakSide, demo_script
from levelbelt.errors import ConfigError, LinkError
from levelbelt.firmware import belt_module
from levelbelt.live import LiveBelt
from levelbelt.plans import ExpandedPlan
from levelbelt.sim.belt import USB_BATCH, SimulatedBelt
from levelbelt.sim.body import Segment
from levelbelt.sim.pty_link import PtyPair
from levelbelt.sim.source import sample_chunks
from levelbelt.transports.serial_link import SerialLink

RATE_HZ = 100
STATUS_EVERY_S = 5.0
SIM_BATTERY_MV = 3990  # a charged LiPo under load; drains 1 mV per simulated minute


def send_status(belt: SimulatedBelt, battery_mv: int) -> None:
    """A STATUS frame from the simulated belt's pipeline, as the firmware sends one."""
    pipe: Any = belt.pipeline
    d = pipe.detector
    belt.encoder.status(pipe.state, d.stance, battery_mv, 0, d.threshold_cdeg,
                        (d.dwell_samples * 1000) // belt.rate_hz, d.release_cdeg,
                        max(0, pipe.index))


@dataclass
class DemoRig:
    """A running simulated belt plus the host side reading it over a pty."""

    weak_side: WeakSide
    seed: int
    speed: float
    live: LiveBelt = field(default_factory=lambda: LiveBelt(rate_hz=RATE_HZ))
    error: str | None = None
    label: str = "simulated belt"
    link_kind: str = "sim"
    script: Iterable[Segment] | None = None  # what the athlete does; default: demo loop
    max_lead_frames: int | None = None
    """None: the belt runs on its own clock, as a real one does. A number: the belt waits
    whenever it is that many frames ahead of what the host has handled, so commands land
    as few samples late at 50x as in real time (an accelerated run stays in step)."""

    def __post_init__(self) -> None:
        if not 0.1 <= self.speed <= 50:
            raise ConfigError(f"--speed must be between 0.1 and 50, got {self.speed:g}")
        self._stop = threading.Event()
        # Commands run on the belt thread between samples, as the firmware's loop would.
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.cues: list[int] = []
        self._pty = PtyPair()
        self.link = SerialLink(self._pty.slave_path)
        script = self.script if self.script is not None else demo_script(self.weak_side,
                                                                         self.seed)
        chunks = sample_chunks(script, RATE_HZ, self.seed)
        self._frames_sent = 0
        self._frames_handled = 0
        self._handled = threading.Condition()
        self.belt = SimulatedBelt(chunks, RATE_HZ, self._write)
        self._threads = [
            threading.Thread(target=self._run_belt, name="sim-belt", daemon=True),
            threading.Thread(target=self._read, name="serial-reader", daemon=True),
        ]

    def start(self) -> DemoRig:
        for t in self._threads:
            t.start()
        return self

    def _run_belt(self) -> None:
        """Emit samples at `speed` x real time; apply commands; a STATUS frame every 5 s."""
        belt = self.belt
        status_every = int(STATUS_EVERY_S * RATE_HZ)
        next_status = 0
        start = time.monotonic()
        while not self._stop.is_set() and not belt.exhausted:
            while not self._commands.empty():
                self._commands.get_nowait()()
            due = int((time.monotonic() - start) * self.speed * RATE_HZ)
            if self.max_lead_frames is not None:
                self._step_with_host(due, self.max_lead_frames)
            elif due > belt.samples_sent:
                belt.step(due - belt.samples_sent)
            if belt.samples_sent >= next_status:
                next_status += status_every
                self._send_status()
            self._stop.wait(0.01)

    def _write(self, data: memoryview) -> None:
        self._pty.write(data)
        self._frames_sent += 1  # one write per frame (the firmware's UsbFramer)

    def _step_with_host(self, due: int, lead: int) -> None:
        """Whole frames (USB_BATCH samples) up to `due`, each once the host is at most
        `lead` frames behind, the host's commands applied in between: a command lands at
        most (lead + 1) frames after the sample that caused it."""
        belt = self.belt
        while due - belt.samples_sent >= USB_BATCH and not belt.exhausted \
                and not self._stop.is_set():
            with self._handled:
                self._handled.wait_for(
                    lambda: self._frames_handled + lead >= self._frames_sent
                    or self._stop.is_set(), timeout=1.0)  # a dead reader sets `error`
            while not self._commands.empty():
                self._commands.get_nowait()()
            belt.step(USB_BATCH)

    def _send_status(self) -> None:
        minutes = self.belt.samples_sent // (60 * RATE_HZ)
        send_status(self.belt, SIM_BATTERY_MV - minutes)

    def capture_neutral(self, position: int) -> None:
        """Start a neutral capture; the belt answers with CALIBRATED, or MOVING if refused."""
        if position not in (0, 1, 2):
            raise ConfigError(f"position must be 0, 1 or 2, got {position}")
        self._commands.put(lambda: self.belt.pipeline.recalibrate(position))

    def set_detector(self, threshold_cdeg: int, dwell_ms: int, release_cdeg: int,
                     stance: int, lockout_ms: int = 0) -> None:
        """Configure the belt's hip-drop detector; out-of-range values are refused."""
        reason = belt_module("detector").check_config(
            threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms)
        if reason is not None:
            raise ConfigError(f"detector settings refused: {reason}")
        self._commands.put(lambda: self.belt.pipeline.detector.configure(
            threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms))

    def set_stance(self, stance: int) -> None:
        """0 either, 1 left, 2 right, 3 detection off; each side keeps its settings."""
        reason = belt_module("detector").check_stance(stance)
        if reason is not None:
            raise ConfigError(f"stance refused: {reason}")
        self._commands.put(lambda: self.belt.pipeline.detector.set_stance(stance))

    def cue(self, pattern: int) -> None:
        """The simulated belt has no motor: a cue is only counted (`cues`)."""
        if not 1 <= pattern <= 10:
            raise ConfigError(f"cue pattern must be 1-10, got {pattern}")
        self.cues.append(pattern)

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                frames = self.link.read_frames()
                for frame in frames:
                    self.live.feed(frame)
                if frames:
                    with self._handled:
                        self._frames_handled += len(frames)
                        self._handled.notify_all()
            except LinkError as e:
                self.error = str(e)
                return

    def stop(self) -> None:
        self._stop.set()
        with self._handled:
            self._handled.notify_all()  # a belt waiting for the host
        for t in self._threads:
            if t.is_alive():  # a rig that never started has nothing to join
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


OTHER_WEAK_SIDES: tuple[WeakSide, ...] = ("left", "none", "right")
AT_EASE_S = 6 * 3600.0  # after the plan the simulated athlete stands at ease
DEFAULT_UI_PLAN = "glute-iso-quick"


def demo_rigs(count: int, weak_side: WeakSide, seed: int, speed: float,
              plan: ExpandedPlan | None = None) -> list[DemoRig]:
    """`count` simulated athletes: the first as asked, the others with other weak sides.

    With a plan each athlete follows it (and then stands at ease); without one they loop
    the demo script.
    """
    if not 1 <= count <= 4:
        raise ConfigError(f"--belts must be between 1 and 4, got {count}")
    sides = [weak_side, *OTHER_WEAK_SIDES]
    rigs = []
    for i in range(count):
        script = None
        if plan is not None:
            from levelbelt.sim.drill_athlete import athlete_script

            script = athlete_script(plan, sides[i], seed + i, tail_s=AT_EASE_S)
        rigs.append(DemoRig(
            weak_side=sides[i], seed=seed + i, speed=speed, script=script,
            label=f"sim {i + 1} · weak {sides[i]}" if count > 1 else "simulated belt"))
    return rigs


def run_demo(args: argparse.Namespace) -> int:
    count = getattr(args, "belts", 1)
    if args.headless and count != 1:
        raise ConfigError("--headless runs one belt; leave out --belts")
    if args.headless and getattr(args, "plan", None):
        from levelbelt.headless import run_plan_cli

        return run_plan_cli(args)
    if args.headless and getattr(args, "out", None) is not None:
        raise ConfigError("--out needs --plan: the headless demo without a plan saves no "
                          "session")
    ui_plan = None
    if not args.headless:
        from levelbelt.plans import expand, resolve_plan

        ui_plan = expand(resolve_plan(getattr(args, "plan", None) or DEFAULT_UI_PLAN))
    rigs = demo_rigs(count, args.weak_side, args.seed, args.speed, ui_plan)
    rig = rigs[0]
    try:
        app = None
        if not args.headless:
            # The app (and each athlete's live session) first, the belts after: a session
            # that starts listening late starts its plan late, out of step with the
            # simulated athlete (the UI's imports alone take seconds of belt time at 10x).
            from levelbelt.tui.demo_app import DemoApp

            app = DemoApp(rigs, duration_s=args.duration, plan=ui_plan,
                          sessions=getattr(args, "out", None))
        for r in rigs:
            r.start()
        if app is None:
            return run_headless(rig, args.duration or 60.0)
        app.run()
        return 0
    finally:
        for r in rigs:
            r.stop()
