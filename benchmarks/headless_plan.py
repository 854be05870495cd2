"""How fast and how faithfully does a headless plan run go? The whole real path, timed.

`levelbelt demo --headless --plan` runs the simulated athlete and belt on a pty, reads it
with pyserial and runs the live session (engine, session file, scores). Per seed it runs
`glute-iso-quick` with a weak right hip at the rig's top speed (50x) and reports:

* `achieved_speed_x`: belt seconds per wall second (requested 50: the reference);
* `cpu_realtime_factor`: belt seconds per CPU second of the whole process (simulated
  athlete, firmware pipeline, host), i.e. how much faster than real time the machine
  could go: the headroom above the 50x cap;
* `flags_correct`: sessions whose LSI flag named the weak side;
* `capture_lag_s`: for a plan with two position changes, the neutral captures' worst
  time beyond the belt's 1 s still window, in belt time (the link's latency, held to a
  few frames at any speed by the rig's lockstep), and `capture_lag_free_s`, the same
  with the belt on its own clock (the reference: what the lockstep is for);
* `report_kb` / `report_ratio`: size of the HTML report of the last session and the time
  to write it as a fraction of reading and reviewing the same file.

    .venv/bin/python benchmarks/headless_plan.py [--seeds 3]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from levelbelt.headless import LEAD_FRAMES, run_plan_headless
from levelbelt.report_html import write_report
from levelbelt.review import read_one
from levelbelt.session import read_session
from levelbelt.sim.drill_athlete import CALIB_S

SPEED = 50.0
POSITIONS = """name = "positions"
description = "standing, seated, prone"
rezero_settle_s = 3
[[blocks]]
kind = "isometric"
side = "both"
reps = 2
hold_s = 3
get_ready_s = 2
[[blocks]]
kind = "isometric"
position = "seated"
side = "both"
reps = 2
hold_s = 3
get_ready_s = 2
[[blocks]]
kind = "isometric"
position = "prone"
side = "both"
reps = 2
hold_s = 3
get_ready_s = 2
"""


def _quiet(line: str) -> None:
    pass


def capture_lag(plan: Path, out: Path, lead_frames: int | None) -> float:
    """Worst delay of a neutral capture beyond the still window, in belt seconds."""
    run = run_plan_headless(str(plan), weak_side="none", seed=1, speed=SPEED, out_dir=out,
                            say=_quiet, lead_frames=lead_frames)
    events = read_session(run.path).events
    asked = [e.t_s for e in events if e.data.get("type") == "capture_neutral"]
    got = [e.t_s for e in events if e.source == "belt" and e.data.get("type") == "calibrated"]
    return max((b - a - CALIB_S for a, b in zip(asked, got, strict=True)
                if a is not None and b is not None), default=float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        speeds, factors, correct = [], [], 0
        last = None
        print(f"{'seed':>4} {'belt s':>7} {'wall s':>7} {'cpu s':>6} {'speed':>6} {'flag':>6}")
        for seed in range(1, args.seeds + 1):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            run = run_plan_headless("glute-iso-quick", weak_side="right", seed=seed,
                                    speed=SPEED, out_dir=out, athlete=f"b{seed}",
                                    say=_quiet)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            flag = run.summary.flagged_side if run.summary else None
            correct += flag == "right"
            speeds.append(run.belt_s / wall)
            factors.append(run.belt_s / cpu)
            last = run.path
            print(f"{seed:>4} {run.belt_s:7.1f} {wall:7.2f} {cpu:6.2f} "
                  f"{run.belt_s / wall:6.1f} {flag or '-':>6}")
        plan = out / "positions.toml"
        plan.write_text(POSITIONS)
        lag = capture_lag(plan, out / "lockstep", lead_frames=LEAD_FRAMES)
        lag_free = capture_lag(plan, out / "free", lead_frames=None)
        assert last is not None
        t0 = time.perf_counter()
        read_one(last)
        review_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_report(last, out / "report.html")
        report_s = time.perf_counter() - t0
        report_kb = (out / "report.html").stat().st_size / 1024
    print(f"capture beyond the {CALIB_S:g} s still window: {lag:.3f} s of belt time "
          f"({lag_free:.3f} s without the lockstep); "
          f"report {report_kb:.0f} KB in {report_s / review_s:.1f}x the time to review")
    print(json.dumps({
        "requested_speed_x": SPEED,
        "achieved_speed_x": round(min(speeds), 1),
        "cpu_realtime_factor": round(min(factors), 1),
        "flags_correct": f"{correct}/{args.seeds}",
        "capture_lag_s": round(lag, 3),
        "capture_lag_free_s": round(lag_free, 3),
        "report_kb": round(report_kb, 1),
        "report_ratio": round(report_s / review_s, 2),
    }))


if __name__ == "__main__":
    main()
