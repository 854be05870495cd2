"""Real session files for the review and report tests, recorded without a pty.

A simulated athlete follows the plan on the stepped belt (the firmware pipeline and the
USB deframer in-process), `LiveSession` runs the engine on belt time and writes the file,
exactly as the dashboard does; the creation time is fixed so names and dates are known.
Also: small edits that damage a file the way disks, copies and crashes do.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from tui_helpers import SteppedBelt

from levelbelt.live_session import LiveSession
from levelbelt.plans import expand, load_builtin
from levelbelt.session.records import decode_line
from levelbelt.sim.drill_athlete import LEAD_S, WeakSide, athlete_script


def record(folder: Path, athlete: str, weak: WeakSide, seed: int, created: datetime,
           plan_name: str = "glute-iso-quick", stop_at_s: float | None = None) -> Path:
    """One session of `plan_name`; `stop_at_s` (plan time) leaves it unfinished there."""
    plan = expand(load_builtin(plan_name))
    feed = SteppedBelt(athlete_script(plan, weak, seed), seed=seed)
    session = LiveSession(feed, plan, athlete=athlete, out_dir=folder, start_at_s=LEAD_S,
                          created=created)
    if stop_at_s is not None:
        feed.run_to(LEAD_S + stop_at_s)
        path = session.snapshot().path
        session.close()
        assert path is not None
        return path
    feed.run_to(LEAD_S + plan.estimated_s + 1.0)
    deadline = time.monotonic() + 30.0
    while not session.snapshot().final:
        assert time.monotonic() < deadline, "the final scores never arrived"
        time.sleep(0.01)
    path = session.snapshot().path
    assert path is not None
    return path


def line_numbers(path: Path, kind: str) -> list[int]:
    """1-based numbers of the lines holding records of `kind`."""
    lines = path.read_bytes().split(b"\n")
    return [k + 1 for k, raw in enumerate(lines) if raw and decode_line(raw)["k"] == kind]


def flip_byte(path: Path, line: int) -> None:
    """Damage one line in the middle (a bit flip on disk): its CRC no longer matches."""
    lines = path.read_bytes().split(b"\n")
    raw = bytearray(lines[line - 1])
    at = len(raw) // 2
    raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
    lines[line - 1] = bytes(raw)
    path.write_bytes(b"\n".join(lines))


def cut_inside_line(path: Path, line: int) -> None:
    """End the file in the middle of `line`, as a writer killed mid-write leaves it."""
    lines = path.read_bytes().split(b"\n")
    keep = b"\n".join(lines[: line - 1]) + b"\n" + lines[line - 1][: len(lines[line - 1]) // 2]
    path.write_bytes(keep)
