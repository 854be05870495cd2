"""`levelbelt demo --headless --plan NAME`: a whole drill plan on the simulated belt, no screen.

The real path end to end, only faster than real time: the simulated athlete follows
the plan (dropping more on the weak side's stance), the simulated belt runs the
firmware on a pty, pyserial reads it, the decoder feeds `LiveBelt`, and `LiveSession`
drives the drill engine on belt time, sends its stance, cue and capture commands back
to the belt, writes the session file and scores it. The plan's weaker side comes from
the athlete's earlier sessions in the output folder, as the dashboard's "auto" does.

Progress goes to stdout as the plan runs (one line per hold); the last line printed is
the session file's path, so scripts can pick it up with `tail -n 1`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from levelbelt.demo import DemoRig
from levelbelt.demo_script import WeakSide
from levelbelt.errors import ConfigError, LevelBeltError, LinkError
from levelbelt.history import athlete_history, list_sessions, sessions_dir
from levelbelt.live_session import LiveSession, SessionView
from levelbelt.plans import ExpandedPlan, PlannedPhase, expand, format_duration, resolve_plan
from levelbelt.review import num
from levelbelt.scoring import SessionSummary
from levelbelt.sim.drill_athlete import LEAD_S, athlete_script
from levelbelt.weaker_side import resolve_weaker_side

POLL_S = 0.02
LEAD_FRAMES = 2
"""The belt runs at most 2 frames (10 samples) ahead of the host, so a command lands at
most 3 frames (0.15 s of belt time) late at any speed, as over a real link at 1x: the
simulated athlete and the engine stay in step (docs/architecture.md)."""
TAIL_S = 30.0
"""Belt time the athlete stands at ease after the plan (the engine's end, scoring)."""
START_SLACK_S = 20.0
"""Real seconds allowed on top of the plan's belt time / speed: start-up, scoring."""

Say = Callable[[str], None]


@dataclass(frozen=True)
class HeadlessRun:
    path: Path
    summary: SessionSummary | None
    belt_s: float  # session time covered
    wall_s: float  # real time it took


def _say(line: str) -> None:
    print(line, flush=True)


def plan_for(name: str, athlete: str, out_dir: Path) -> ExpandedPlan:
    """The plan expanded for `athlete`: weaker side from their sessions in `out_dir`."""
    plan = resolve_plan(name)
    past = athlete_history(list_sessions(out_dir), athlete)
    return expand(plan, resolve_weaker_side([p.summary for p in past]))


def budget_s(plan: ExpandedPlan) -> float:
    """Longest belt time the plan can take: every rezero may wait for its timeout."""
    rezeros = sum(1 for p in plan.phases if p.kind == "rezero")
    return LEAD_S + plan.estimated_s + rezeros * plan.plan.rezero_timeout_s


def describe_hold(phase: PlannedPhase, total: int, number: int) -> str:
    if phase.block_kind == "isometric":
        what = ("both glutes" if phase.side == "bilateral" else f"{phase.side} glute") + \
            f" squeeze, {phase.position}"
    else:
        what = f"stand on the {phase.side} leg"
    return f"hold {number}/{total}: {what}, {phase.planned_s:g} s"


def summary_lines(summary: SessionSummary | None) -> list[str]:
    if summary is None:
        return ["no scores (the session ended before any hold)"]
    out = []
    for metric in ("stability", "activation"):
        left, right = (summary.side_value(metric, s) for s in ("left", "right"))
        if left is not None or right is not None:
            out.append(f"{metric} (0-100): left {num(left)}, right {num(right)}")
    if summary.lsi is None:
        out.append("LSI: not available (needs both sides scored)")
    elif summary.flagged_side is not None:
        other = "left" if summary.flagged_side == "right" else "right"
        out.append(f"LSI {summary.lsi:.0f} ({summary.metric}): {summary.flagged_side} side "
                   f"flagged, more than {summary.asymmetry_pct:g}% below the {other}")
    else:
        out.append(f"LSI {summary.lsi:.0f} ({summary.metric}): sides within "
                   f"{summary.asymmetry_pct:g}%, no flag")
    return out


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a directory")


def run_plan_headless(plan_name: str, *, weak_side: WeakSide, seed: int, speed: float,
                      out_dir: Path, athlete: str = "demo", say: Say = _say,
                      lead_frames: int | None = LEAD_FRAMES) -> HeadlessRun:
    """Run the plan to its end; the session file is complete (scores and summary).

    `lead_frames=None` lets the belt run on its own clock (to measure what the lockstep
    is for); otherwise see `LEAD_FRAMES`."""
    _check_out_dir(out_dir)
    plan = plan_for(plan_name, athlete, out_dir)
    longest = budget_s(plan)
    script = athlete_script(plan, weak_side, seed, tail_s=longest - LEAD_S -
                            plan.estimated_s + TAIL_S)
    rig = DemoRig(weak_side=weak_side, seed=seed, speed=speed, script=script,
                  max_lead_frames=lead_frames)
    session = LiveSession(rig, plan, athlete=athlete, out_dir=out_dir, start_at_s=LEAD_S)
    weaker = plan.weaker
    say(f"plan {plan.plan.name}: {len(plan.holds)} holds, about "
        f"{format_duration(plan.estimated_s)}; weaker side "
        f"{weaker.side or 'unknown'} ({weaker.reason})")
    say(f"simulated athlete {athlete}: weak side {weak_side}, seed {seed}, "
        f"{speed:g}x real time")
    started = time.monotonic()
    deadline = started + (longest + TAIL_S) / speed + START_SLACK_S
    view: SessionView | None = None
    try:
        rig.start()
        view = _follow(rig, session, deadline, say)
    finally:
        rig.stop()
        if view is None:
            session.close()  # keeps the unfinished file (no summary)
            path = session.snapshot().path
            if path is not None:
                print(f"stopped: the unfinished session is kept in {path}", file=sys.stderr)
    assert view is not None and view.path is not None
    wall = time.monotonic() - started
    summary = view.scores.summary if view.scores is not None else None
    say(f"done: {view.engine.holds_completed}/{view.engine.holds_total} holds, "
        f"{view.t_s:.0f} s of belt time in {wall:.1f} s")
    for line in summary_lines(summary):
        say(line)
    say(str(view.path))
    return HeadlessRun(view.path, summary, view.t_s, wall)


def _follow(rig: DemoRig, session: LiveSession, deadline: float, say: Say) -> SessionView:
    """Poll until the final scores are in the file; report each hold as it starts."""
    shown_path = False
    last_hold = 0
    while True:
        view = session.snapshot()
        if view.error is not None:  # not (fully) saved: a one-line error, not a summary
            raise LevelBeltError(view.error)
        if view.final:
            return view
        if rig.error:
            raise LinkError(f"simulated belt: {rig.error}")
        if view.path is not None and not shown_path:
            shown_path = True
            say(f"recording to {view.path}")
        snap = view.engine
        if snap.hold_number != last_hold and snap.phase is not None \
                and snap.phase.kind == "hold":
            last_hold = snap.hold_number
            say(describe_hold(snap.phase, snap.holds_total, snap.hold_number))
        if time.monotonic() > deadline:
            raise LinkError(f"the plan did not finish in time (belt time {view.t_s:.0f} s, "
                            f"phase {snap.phase.kind if snap.phase else snap.state}); "
                            f"the unfinished session is in {view.path}")
        time.sleep(POLL_S)


def run_plan_cli(args: argparse.Namespace) -> int:
    """`levelbelt demo --headless --plan NAME [--out DIR] ...`."""
    if args.duration:
        raise ConfigError("--duration does not apply with --plan: the run ends with the plan")
    out_dir = args.out if args.out is not None else sessions_dir()
    run_plan_headless(args.plan, weak_side=args.weak_side, seed=args.seed, speed=args.speed,
                      out_dir=out_dir, athlete=args.athlete)
    return 0
