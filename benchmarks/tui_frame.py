"""Dashboard cost with 1 and 4 simulated belts at 100 Hz: frame time, CPU per belt, alert lag.

Each case runs the real dashboard (headless Textual driver, its 30 Hz timer) on simulated
belts streaming over pseudo-terminals in real time, as `levelbelt demo` does. The
athletes do the Trendelenburg plan with a weak left hip, so they drop within seconds.

* frame_ms: from the start of a display tick (snapshots, phase, tallies, widget
  updates) until the screen has been painted (Textual's `call_after_refresh`).
* cpu_percent_per_belt: CPU of everything the host does (serial readers, decoding,
  the live session, the UI) over wall time, per belt, in % of one core. The simulators'
  own threads (body model and firmware pipeline standing in for the belts) are
  measured per thread from /proc and left out; they are reported as `sim_cpu_percent`.
* max_alert_lag_ms: from the moment the belt's DROP_CUE frame reached the host to the
  moment the screen showing the alert was painted. The belt buzzes on the cue sample
  itself, so this is how far the screen trails the buzz (plus the pty's microseconds).

    .venv/bin/python benchmarks/tui_frame.py [--seconds 30]

The last line printed is one JSON object (figures for 1 belt at top level, `belts_4`
for four).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from levelbelt.demo import DemoRig
from levelbelt.demo_script import WeakSide
from levelbelt.plans import expand, load_builtin
from levelbelt.sim.drill_athlete import athlete_script
from levelbelt.tui.demo_app import DemoApp
from levelbelt.tui.prefs import PrefsStore

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SIDES: tuple[WeakSide, ...] = ("left", "left", "right", "none")


def thread_cpu_s(native_id: int) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc."""
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def sim_threads(rigs: list[DemoRig]) -> list[threading.Thread]:
    return [t for rig in rigs for t in rig._threads if t.name == "sim-belt"]


async def run_case(belts: int, seconds: float, folder: Path) -> dict[str, Any]:
    plan = expand(load_builtin("trendelenburg-30s"))
    rigs = [DemoRig(weak_side=SIDES[i], seed=10 + i, speed=1.0, label=f"sim {i + 1}",
                    script=athlete_script(plan, SIDES[i], 10 + i, tail_s=600))
            for i in range(belts)]
    for rig in rigs:
        rig.start()
    app = DemoApp(rigs, plan=plan, prefs_store=PrefsStore(folder), sessions=folder / "s")
    app.measure = True
    try:
        async with app.run_test(size=(120, 36)):
            await asyncio.sleep(2.0)  # settle: first frames, widgets mounted
            app.frame_ms.clear()
            app.alert_lag_ms.clear()
            sims = sim_threads(rigs)
            sim0 = sum(thread_cpu_s(t.native_id or 0) for t in sims)
            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            wall = time.monotonic() - wall0
            cpu = time.process_time() - cpu0
            sim = sum(thread_cpu_s(t.native_id or 0) for t in sims) - sim0
            frames = np.asarray(app.frame_ms)
            lags = app.alert_lag_ms[:]
            ticks = len(frames)
            missing = sum(f.snap.samples_missing for f in app.frames)
    finally:
        for rig in rigs:
            rig.stop()
    return {
        "belts": belts,
        "frame_ms_p50": round(float(np.percentile(frames, 50)), 2),
        "frame_ms_p95": round(float(np.percentile(frames, 95)), 2),
        "frame_ms_max": round(float(frames.max()), 2),
        "frames_per_s": round(ticks / wall, 1),
        "cpu_percent_per_belt": round(100.0 * (cpu - sim) / wall / belts, 2),
        "sim_cpu_percent": round(100.0 * sim / wall, 1),
        "alerts": len(lags),
        "max_alert_lag_ms": round(max(lags), 1) if lags else None,
        "samples_missing": missing,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds per case")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for belts in (1, 4):
            r = asyncio.run(run_case(belts, args.seconds, Path(tmp) / str(belts)))
            results[belts] = r
            print(f"{belts} belt(s): frame p50 {r['frame_ms_p50']} ms, p95 "
                  f"{r['frame_ms_p95']} ms, max {r['frame_ms_max']} ms at "
                  f"{r['frames_per_s']} frames/s; host CPU {r['cpu_percent_per_belt']}% of a "
                  f"core per belt (simulators {r['sim_cpu_percent']}%); {r['alerts']} alerts, "
                  f"max lag {r['max_alert_lag_ms']} ms; samples missing {r['samples_missing']}")
    one, four = results[1], results[4]
    print(json.dumps({
        "frame_ms_p95": one["frame_ms_p95"],
        "cpu_percent_per_belt": one["cpu_percent_per_belt"],
        "max_alert_lag_ms": one["max_alert_lag_ms"],
        "belts_4": {k: v for k, v in four.items() if k != "belts"},
        "seconds": args.seconds,
    }, sort_keys=False))


if __name__ == "__main__":
    main()
