"""Whole simulated sessions: a plan run by the engine on belt time, a simulated athlete,
the firmware's own pipeline and detector, then scoring. A weak side must be flagged as
that side, a symmetric athlete not at all, over several seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from levelbelt.engine import CaptureNeutral, Done, PhaseEnded
from levelbelt.plans import expand, load_builtin
from levelbelt.scoring import Gap, SessionScores, score_session
from levelbelt.sim.drill_athlete import SimulatedSession, WeakSide, run_plan_offline
from levelbelt.weaker_side import WeakerSide, resolve_weaker_side

SEEDS = (1, 2, 3)


def scored(s: SimulatedSession) -> SessionScores:
    return score_session(s.t_s, s.tilt_deg, s.obl_deg, s.events, rate_hz=s.rate_hz,
                         drops=s.drops)


@pytest.mark.parametrize("plan_name", ["trendelenburg-30s", "glute-iso-quick"])
@pytest.mark.parametrize("weak", ["left", "right", "none"])
def test_the_weak_side_is_flagged_and_a_symmetric_athlete_is_not(
        plan_name: str, weak: WeakSide) -> None:
    for seed in SEEDS:
        session = run_plan_offline(expand(load_builtin(plan_name)), weak, seed)
        assert isinstance(session.events[-1], Done)
        m = scored(session).summary
        assert m.metric == "stability"
        assert m.lsi is not None
        if weak == "none":
            assert m.flagged_side is None, (seed, m.lsi)
            assert m.lsi > 92.0, seed
        else:
            assert m.flagged_side == weak, (seed, m.lsi)
            assert m.lsi < 80.0, seed


def test_the_weak_leg_drops_sooner_and_more_often_in_the_trendelenburg_test() -> None:
    session = run_plan_offline(expand(load_builtin("trendelenburg-30s")), "right", 5)
    holds = {h.side: h for h in scored(session).holds}
    assert holds["right"].drops > holds["left"].drops >= 1
    right_peak = holds["right"].peak_drop_deg
    assert holds["right"].time_to_first_drop_s is not None
    assert right_peak is not None and right_peak > 7.0
    assert all(h.coverage == 1.0 and h.outcome == "completed" for h in holds.values())


def test_a_link_gap_during_the_weak_legs_hold_does_not_hide_the_asymmetry() -> None:
    session = run_plan_offline(expand(load_builtin("trendelenburg-30s")), "right", 2)
    hold = next(e for e in session.events if isinstance(e, PhaseEnded) and e.kind == "hold"
                and e.side == "right")
    gap = Gap(hold.t_s - 20.0, hold.t_s - 17.0)
    keep = ~((session.t_s >= gap.start_s) & (session.t_s < gap.end_s))
    s = score_session(session.t_s[keep], session.tilt_deg[keep], session.obl_deg[keep],
                      session.events, rate_hz=session.rate_hz, drops=session.drops,
                      gaps=[gap])
    right = next(h for h in s.holds if h.side == "right")
    assert right.coverage == pytest.approx(0.9, abs=0.01) and right.gap_s == pytest.approx(3.0)
    assert s.summary.flagged_side == "right"


def test_the_reference_programme_rezeroes_through_the_belt_and_scores_each_glute() -> None:
    plan = expand(load_builtin("glute-iso-daily"), WeakerSide("right", "manual", "test"))
    session = run_plan_offline(plan, "right", 1)
    captures = [e for e in session.events if isinstance(e, CaptureNeutral)]
    rezeros = [e for e in session.events if isinstance(e, PhaseEnded) and e.kind == "rezero"]
    assert [c.position for c in captures] == ["seated", "prone"]
    assert [r.outcome for r in rezeros] == ["completed", "completed"]  # CALIBRATED came back
    s = scored(session)
    assert len(s.reps) == 45 and s.summary.reps_scored == 45
    assert not any("no_movement" in r.flags for r in s.reps)
    for position in ("seated", "prone"):  # a fresh neutral: baselines near zero
        baselines = [r.baseline_deg or 0.0 for r in s.reps if r.position == position]
        assert np.max(np.abs(baselines)) < 1.5
    m = s.summary
    assert m.metric == "activation" and m.weaker == "right"
    assert m.right_activation is not None and m.left_activation is not None
    assert m.right_activation < m.left_activation


def test_three_sessions_with_a_weak_right_leg_move_the_extra_volume_to_the_right() -> None:
    plan = expand(load_builtin("trendelenburg-30s"))
    history = [scored(run_plan_offline(plan, "right", seed)).summary for seed in (7, 8, 9)]
    weaker = resolve_weaker_side(history)
    assert (weaker.side, weaker.source) == ("right", "history")
    ladder = expand(load_builtin("balance-ladder"), weaker)
    right = sum(h.planned_s for h in ladder.holds if h.side == "right")
    left = sum(h.planned_s for h in ladder.holds if h.side == "left")
    assert right == 2 * left


def test_the_scoring_benchmark_runs_and_ends_with_its_json_line() -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "scoring_sim.py"
    proc = subprocess.run([sys.executable, str(script), "--seeds", "1", "--plans",
                           "trendelenburg-30s"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == {"correct_flag_rate", "lsi_weak_max", "lsi_none_min", "sessions",
                           "per_plan"}
    assert result["sessions"] == 3 and result["correct_flag_rate"] == 1.0
    assert result["lsi_weak_max"] < 85.0 <= result["lsi_none_min"]
