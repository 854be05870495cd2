"""Scoring on synthetic signals with known answers: reps, holds, gaps, sides, LSI, trends."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from levelbelt.engine import (
    EngineEvent,
    Outcome,
    Paused,
    PhaseEnded,
    PhaseStarted,
    Resumed,
    event_to_json,
)
from levelbelt.errors import RecordFormatError
from levelbelt.plans import BlockKind, HoldSide, PositionName
from levelbelt.scoring import (
    DropEvent,
    Gap,
    HoldScore,
    RepScore,
    ScoringConfig,
    SessionScores,
    SessionSummary,
    SideScore,
    TrendPoint,
    hold_windows,
    score_session,
    symmetry,
    trend,
)
from levelbelt.weaker_side import Side

RATE = 100


def times(duration_s: float) -> NDArray[np.float64]:
    return np.arange(round(duration_s * RATE)) / RATE


def hold(start: float, end: float, kind: BlockKind = "isometric", side: HoldSide = "left",
         index: int = 1, rep: int = 1, outcome: Outcome = "completed",
         position: PositionName = "standing") -> list[EngineEvent]:
    return [
        PhaseStarted(start, index, "hold", 1, kind, side, position, rep, 1, end - start),
        PhaseEnded(end, index, "hold", 1, kind, side, position, rep, 1, outcome, end - start),
    ]


def score(t: NDArray[np.float64], tilt: NDArray[np.float64] | None = None,
          obl: NDArray[np.float64] | None = None, events: list[EngineEvent] | None = None,
          **kw: object) -> SessionScores:
    tilt = np.zeros_like(t) if tilt is None else tilt
    obl = np.zeros_like(t) if obl is None else obl
    return score_session(t, tilt, obl, events or [], rate_hz=RATE, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reps


def squeeze(t: NDArray[np.float64], start: float, depth: float, ramp_s: float,
            end: float, base: float = 0.0) -> NDArray[np.float64]:
    """Tilt: base, a linear ramp to base - depth over ramp_s, flat until end, back."""
    x = np.clip((t - start) / ramp_s, 0.0, 1.0)
    tilt = base - depth * x
    tilt[t >= end] = base
    return tilt


def test_a_rep_reaching_minus_four_degrees_in_0_8_s_scores_its_depth_and_speed() -> None:
    t = times(20.0)
    rep = score(t, squeeze(t, 10.0, 4.0, 0.8, 13.0), events=hold(10.0, 13.0)).reps[0]
    assert rep.posterior_change_deg == pytest.approx(4.0)
    assert rep.baseline_deg == 0.0
    assert rep.time_to_reach_s == pytest.approx(0.72, abs=1.0 / RATE)  # 90 % of 4 deg
    assert rep.steadiness_sd_deg == pytest.approx(0.0, abs=0.15)  # only the ramp's top
    assert rep.flags == () and rep.coverage == 1.0
    assert rep.score is not None and rep.score > 90.0


def test_rep_baseline_is_the_posture_just_before_the_hold() -> None:
    t = times(20.0)
    tilt = squeeze(t, 10.0, 3.0, 0.5, 13.0, base=6.0)  # anterior posture, squeeze to +3
    rep = score(t, tilt, events=hold(10.0, 13.0)).reps[0]
    assert rep.baseline_deg == pytest.approx(6.0)
    assert rep.posterior_change_deg == pytest.approx(3.0)


def test_plateau_wobble_shows_as_steadiness_and_lowers_the_score() -> None:
    t = times(20.0)
    base = squeeze(t, 10.0, 4.0, 0.5, 13.0)
    wobble = base + np.where((t >= 11.0) & (t < 13.0), 1.0 * np.sin(2 * np.pi * 3.0 * t), 0.0)
    steady = score(t, base, events=hold(10.0, 13.0)).reps[0]
    shaky = score(t, wobble, events=hold(10.0, 13.0)).reps[0]
    assert shaky.steadiness_sd_deg is not None and steady.steadiness_sd_deg is not None
    assert shaky.steadiness_sd_deg == pytest.approx(1 / math.sqrt(2), abs=0.1)
    assert shaky.score is not None and steady.score is not None
    assert shaky.score < steady.score / 2


def test_a_flat_contraction_is_flagged_no_movement_and_scores_zero() -> None:
    t = times(20.0)
    rng = np.random.default_rng(3)
    tilt = rng.normal(0.0, 0.1, t.size)
    rep = score(t, tilt, events=hold(10.0, 13.0)).reps[0]
    assert "no_movement" in rep.flags
    assert rep.score == 0.0 and rep.time_to_reach_s is None
    assert rep.posterior_change_deg is not None and rep.posterior_change_deg < 1.0


def test_an_anterior_movement_is_not_a_posterior_squeeze() -> None:
    t = times(20.0)
    rep = score(t, -squeeze(t, 10.0, 4.0, 0.5, 13.0), events=hold(10.0, 13.0)).reps[0]
    assert "no_movement" in rep.flags and rep.score == 0.0


def test_a_rep_without_samples_before_it_has_no_baseline_and_no_score() -> None:
    t = times(5.0) + 10.0  # the recording starts when the hold does
    rep = score(t, squeeze(t, 10.0, 4.0, 0.5, 13.0), events=hold(10.0, 13.0)).reps[0]
    assert rep.flags == ("no_baseline",) and rep.score is None


# --------------------------------------------------------------------------- holds


def two_drops(t: NDArray[np.float64], sign: float) -> NDArray[np.float64]:
    obl = np.zeros_like(t)
    obl[(t >= 13.0) & (t < 14.0)] = 8.0 * sign
    obl[(t >= 20.0) & (t < 20.5)] = 8.0 * sign
    return obl


def expected_hold_score(in_band: float, drops: int, active: float, rms: float,
                        sway: float, cfg: ScoringConfig) -> float:
    """docs/scoring.md, single-leg hold score."""
    return 100.0 * (0.40 * in_band
                    + 0.30 / (1.0 + drops * cfg.drop_norm_s / active)
                    + 0.15 * max(0.0, 1.0 - rms / (2 * cfg.band_deg))
                    + 0.15 * max(0.0, 1.0 - sway / cfg.sway_ref_dps))


@pytest.mark.parametrize(("stance", "drop_side", "sign"),
                         [("left", "right", -1.0), ("right", "left", 1.0)])
def test_a_hold_with_exactly_two_drops(stance: Side, drop_side: Side, sign: float) -> None:
    t = times(45.0)
    drops = [
        DropEvent(13.0, drop_side, 8.0, 13.15, 14.0),
        DropEvent(20.0, drop_side, 8.0, 20.15, 20.5),
        DropEvent(30.0, stance, 4.0, 30.2, 30.5),  # the stance side: a hike, not a drop
        DropEvent(41.0, drop_side, 9.0, 41.2, 42.0),  # after the hold
    ]
    h = score(t, obl=two_drops(t, sign), events=hold(10.0, 40.0, "single_leg", stance),
              drops=drops).holds[0]
    assert h.drops == 2
    assert h.time_to_first_drop_s == pytest.approx(3.0)
    assert h.peak_drop_deg == pytest.approx(8.0)
    assert h.in_band_pct == pytest.approx(95.0)  # 1.5 s of 30 s beyond 3 deg
    assert h.rms_obliquity_deg == pytest.approx(math.sqrt(150 * 64 / 3000))
    assert h.sway_velocity_dps == pytest.approx(4 * 8.0 / 2999 * RATE)  # four 8-deg edges
    cfg = ScoringConfig()
    want = expected_hold_score(0.95, 2, 30.0, math.sqrt(3.2), 32.0 / 2999 * RATE, cfg)
    assert h.score == pytest.approx(want)
    assert h.coverage == 1.0 and h.gap_s == 0.0 and h.flags == ()


def test_a_rise_of_the_free_side_is_not_a_drop() -> None:
    t = times(45.0)
    h = score(t, obl=two_drops(t, +1.0), events=hold(10.0, 40.0, "single_leg", "left")).holds[0]
    assert h.peak_drop_deg == 0.0  # standing on the left, positive obliquity is a hike
    assert h.in_band_pct == pytest.approx(95.0)  # but it is not level either


def test_a_level_hold_without_drops_scores_near_the_top() -> None:
    t = times(45.0)
    obl = 0.3 * np.sin(2 * np.pi * 0.3 * t)
    h = score(t, obl=obl, events=hold(10.0, 40.0, "single_leg", "right")).holds[0]
    assert h.drops == 0 and h.time_to_first_drop_s is None
    assert h.in_band_pct == 100.0
    assert h.score is not None and h.score > 95.0


def test_a_gap_in_the_middle_of_a_hold_uses_observed_samples_only() -> None:
    t = times(45.0)
    obl = np.where(t < 22.0, 0.0, 2.0)  # a within-band step while the link was down
    obl[(t >= 20.0) & (t < 25.0)] = -20.0  # what the belt saw during the gap: never received
    keep = ~((t >= 20.0) & (t < 25.0))
    h = score(t[keep], obl=obl[keep], events=hold(10.0, 40.0, "single_leg", "left"),
              gaps=[Gap(20.0, 25.0)]).holds[0]
    assert h.coverage == pytest.approx(25.0 / 30.0)
    assert h.gap_s == pytest.approx(5.0)
    assert h.in_band_pct == 100.0 and h.peak_drop_deg == 0.0
    assert h.sway_velocity_dps == 0.0  # the step across the gap is not a velocity
    assert h.score is not None


def test_an_empty_hold_and_a_hold_inside_a_gap_are_reported_not_scored() -> None:
    t = times(45.0)
    keep = ~((t >= 9.0) & (t < 21.0))
    events = hold(5.0, 5.0, "single_leg", "left", index=1) + \
        hold(10.0, 20.0, "single_leg", "left", index=3)
    s = score(t[keep], events=events, gaps=[Gap(9.0, 21.0)])
    empty, lost = s.holds
    for h in (empty, lost):
        assert h.flags == ("no_data",) and h.score is None and h.coverage == 0.0
        assert h.in_band_pct is None and h.rms_obliquity_deg is None
    assert lost.gap_s == pytest.approx(10.0)
    assert s.summary.left_stability is None and s.summary.holds_scored == 0
    assert s.summary.gap_s == pytest.approx(12.0)


def test_a_mostly_missing_hold_keeps_its_figures_but_gets_no_score() -> None:
    t = times(45.0)
    keep = ~((t >= 12.0) & (t < 40.0))
    h = score(t[keep], events=hold(10.0, 40.0, "single_leg", "left")).holds[0]
    assert "low_coverage" in h.flags and h.score is None
    assert h.in_band_pct == 100.0


def test_paused_time_is_left_out_of_a_hold() -> None:
    t = times(60.0)
    obl = np.zeros_like(t)
    obl[(t >= 15.0) & (t < 35.0)] = -15.0  # foot down while paused
    obl[(t >= 37.0) & (t < 38.0)] = -8.0
    started, ended = hold(10.0, 45.0, "single_leg", "left")
    events = [started, Paused(15.0), Resumed(35.0, 20.0), ended]
    drops = [DropEvent(16.0, "right", 15.0), DropEvent(37.0, "right", 8.0)]
    h = score(t, obl=obl, events=events, drops=drops).holds[0]
    assert h.active_s == pytest.approx(15.0) and h.coverage == 1.0
    assert h.drops == 1 and h.time_to_first_drop_s == pytest.approx(7.0)  # 5 s + 2 s
    assert h.peak_drop_deg == pytest.approx(8.0)


def test_a_hold_the_log_left_open_is_scored_up_to_the_end_as_incomplete() -> None:
    t = times(30.0)
    started = hold(10.0, 40.0, "single_leg", "left")[0]
    h = score(t, events=[started]).holds[0]
    assert h.outcome == "incomplete" and h.end_s == pytest.approx(30.0)
    assert h.active_s == pytest.approx(20.0) and h.score is not None
    assert score(t, events=[started]).summary.left_stability is None  # not completed


# --------------------------------------------------------------------------- sides


def test_side_stability_weights_holds_by_observed_time_and_skips_unfinished_ones() -> None:
    t = times(200.0)
    obl = np.zeros_like(t)
    obl[(t >= 50.0) & (t < 60.0)] = -8.0  # a bad 10 s hold
    events = (hold(10.0, 40.0, "single_leg", "left", index=1)
              + hold(50.0, 60.0, "single_leg", "left", index=3)
              + hold(70.0, 80.0, "single_leg", "left", index=5, outcome="skipped"))
    s = score(t, obl=obl, events=events)
    good, bad, skipped = s.holds
    assert good.score is not None and bad.score is not None
    left = next(x for x in s.sides if x.side == "left")
    assert left.stability == pytest.approx((30 * good.score + 10 * bad.score) / 40)
    assert left.holds_scored == 2 and left.hold_s == pytest.approx(40.0)
    assert skipped.score is not None  # still reported per hold


def test_one_side_only_gives_no_lsi_and_no_flag() -> None:
    t = times(50.0)
    s = score(t, events=hold(10.0, 40.0, "single_leg", "left"))
    assert s.summary.left_stability is not None and s.summary.right_stability is None
    assert s.summary.lsi is None and s.summary.flagged_side is None
    assert s.summary.metric is None


def test_lsi_is_weaker_over_stronger_and_flags_strictly_below_85() -> None:
    at = symmetry("stability", 85.0, 100.0)
    assert at.lsi == pytest.approx(85.0) and at.weaker == "left" and not at.flagged
    below = symmetry("stability", 100.0, 84.9)
    assert below.lsi == pytest.approx(84.9) and below.weaker == "right" and below.flagged
    assert symmetry("stability", 90.0, 100.0, asymmetry_pct=5.0).flagged
    same = symmetry("activation", 70.0, 70.0)
    assert same.lsi == 100.0 and same.weaker is None and not same.flagged
    assert symmetry("activation", 0.0, 0.0).lsi is None
    assert symmetry("activation", None, 50.0).lsi is None


def test_session_summary_flags_the_weaker_leg_from_single_leg_holds() -> None:
    t = times(100.0)
    obl = np.zeros_like(t)
    for k in range(4):  # four drops standing on the right: the left side drops
        obl[(t >= 55.0 + 6 * k) & (t < 56.0 + 6 * k)] = 9.0
    drops = [DropEvent(55.0 + 6 * k, "left", 9.0) for k in range(4)]
    events = (hold(10.0, 40.0, "single_leg", "left", index=1)
              + hold(50.0, 80.0, "single_leg", "right", index=3))
    s = score(t, obl=obl, events=events, drops=drops)
    m = s.summary
    assert m.metric == "stability" and m.weaker == "right" and m.flagged_side == "right"
    assert m.lsi is not None and m.lsi < 85.0
    assert m.lsi == pytest.approx(100.0 * m.right_stability / m.left_stability)  # type: ignore
    right = next(x for x in s.sides if x.side == "right")
    assert right.drops == 4 and right.drops_per_min == pytest.approx(8.0)


def test_activation_decides_when_only_squeezes_were_done() -> None:
    t = times(60.0)
    tilt = squeeze(t, 10.0, 4.0, 0.5, 13.0) + squeeze(t, 30.0, 1.8, 0.5, 33.0)
    events = hold(10.0, 13.0, side="left", index=1) + hold(30.0, 33.0, side="right", index=3)
    m = score(t, tilt, events=events).summary
    assert m.metric == "activation" and m.weaker == "right" and m.flagged_side == "right"
    assert m.left_stability is None and m.reps_scored == 2


def test_bilateral_squeezes_are_reported_apart_from_the_sides() -> None:
    t = times(30.0)
    m = score(t, squeeze(t, 10.0, 4.0, 0.5, 13.0),
              events=hold(10.0, 13.0, side="bilateral")).summary
    assert m.bilateral_activation is not None and m.bilateral_activation > 90.0
    assert m.left_activation is None and m.lsi is None


# --------------------------------------------------------------------------- records


def test_every_score_is_a_json_record_that_reads_back() -> None:
    t = times(100.0)
    tilt = squeeze(t, 10.0, 4.0, 0.5, 13.0)
    events = (hold(10.0, 13.0, side="left", index=1)
              + hold(50.0, 80.0, "single_leg", "right", index=3))
    s = score(t, tilt, events=events, gaps=[Gap(60.0, 61.0)])
    records = s.records()
    text = json.dumps(records, allow_nan=False)
    back = json.loads(text)
    assert [r["scope"] for r in back] == ["rep", "hold", "side", "side", "session"]
    assert RepScore.from_json(back[0]) == s.reps[0]
    assert HoldScore.from_json(back[1]) == s.holds[0]
    assert SideScore.from_json(back[2]) == s.sides[0]
    assert SessionSummary.from_json(back[-1]) == s.summary


def test_windows_come_from_event_json_as_stored_in_session_files() -> None:
    events = hold(10.0, 13.0) + hold(20.0, 50.0, "single_leg", "right", index=3)
    stored = [event_to_json(e) for e in events]
    assert hold_windows(stored) == hold_windows(events)
    t = times(60.0)
    assert score(t, events=stored).summary == score(t, events=events).summary  # type: ignore


def test_stored_events_of_the_wrong_shape_are_refused_in_one_line() -> None:
    stored = [event_to_json(e) for e in hold(10.0, 40.0, "single_leg", "left")]
    stored[0]["side"] = None
    with pytest.raises(RecordFormatError, match="single-leg hold needs side left or right"):
        score(times(50.0), events=stored)  # type: ignore[arg-type]
    stored[0]["side"] = "middle"
    with pytest.raises(RecordFormatError, match=r"phase_started.side: 'middle' is not one of"):
        score(times(50.0), events=stored)  # type: ignore[arg-type]


def test_inputs_of_different_lengths_or_unordered_times_are_refused() -> None:
    t = times(5.0)
    with pytest.raises(ValueError, match="differ in length"):
        score_session(t, t[:-1], t, [], rate_hz=RATE)
    with pytest.raises(ValueError, match="strictly increasing"):
        score_session(t[::-1], t, t, [], rate_hz=RATE)


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-20.0, 20.0), min_size=30, max_size=400),
       st.integers(0, 50), st.sampled_from(["left", "right"]))
def test_hold_scores_stay_between_0_and_100_for_any_signal(
        obl_values: list[float], n_drops: int, stance: Side) -> None:
    obl = np.asarray(obl_values)
    t = np.arange(obl.size) / RATE
    end = obl.size / RATE
    drop_side: Side = "right" if stance == "left" else "left"
    drops = [DropEvent(end * k / (n_drops + 1), drop_side, 6.0) for k in range(n_drops)]
    h = score(t, obl=obl, events=hold(0.0, end, "single_leg", stance), drops=drops).holds[0]
    assert h.score is not None and 0.0 <= h.score <= 100.0
    assert h.in_band_pct is not None and 0.0 <= h.in_band_pct <= 100.0
    assert h.drops == n_drops


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 99), st.integers(0, 40))
def test_samples_outside_the_holds_do_not_change_any_score(
        seed: int, cut_before: int, cut_after: int) -> None:
    signal = np.random.default_rng(seed).normal(0.0, 4.0, 500)
    t = np.arange(signal.size) / RATE
    # The rep's baseline is the second before it: 1.0 <= t < 2.0.
    events = hold(2.0, 3.0, index=1) + hold(3.2, 4.5, "single_leg", "left", index=3)
    full = score(t, signal, signal, events)
    keep = np.ones(t.size, dtype=bool)
    keep[:100 - cut_before] = False
    keep[460 + cut_after:] = False
    trimmed = score(t[keep], signal[keep], signal[keep], events, end_s=5.0)
    assert trimmed.holds == full.holds
    assert trimmed.reps == full.reps


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-10.0, 10.0), min_size=100, max_size=300),
       st.floats(0.5, 5.0), st.floats(0.0, 5.0))
def test_a_wider_band_never_lowers_time_in_band(values: list[float], band: float,
                                                 extra: float) -> None:
    obl = np.asarray(values)
    t = np.arange(obl.size) / RATE
    events = hold(0.0, obl.size / RATE, "single_leg", "left")
    narrow = score(t, obl=obl, events=events, config=ScoringConfig(band_deg=band)).holds[0]
    wide = score(t, obl=obl, events=events,
                 config=ScoringConfig(band_deg=band + extra)).holds[0]
    assert wide.in_band_pct >= narrow.in_band_pct  # type: ignore[operator]


# --------------------------------------------------------------------------- trends


def summary(left: float | None, right: float | None) -> SessionSummary:
    sym = symmetry("stability", left, right)
    return SessionSummary(left, right, None, None, None, (sym,),
                          "stability" if sym.lsi is not None else None, sym.lsi, sym.weaker,
                          sym.weaker if sym.flagged else None, 15.0, 2, 0, 1.0, 0.0)


def test_trend_series_and_slopes_per_session() -> None:
    points = [TrendPoint(f"s{i}", "trendelenburg-30s", summary(l_, r_))
              for i, (l_, r_) in enumerate([(80, 50), (80, 60), (80, 70)])]
    tr = trend(points)
    assert tr.metric == "stability" and tr.labels == ("s0", "s1", "s2")
    assert tr.right == (50, 60, 70) and tr.right_slope == pytest.approx(10.0)
    assert tr.left_slope == pytest.approx(0.0)
    assert tr.lsi[0] == pytest.approx(62.5) and tr.lsi_slope is not None and tr.lsi_slope > 0
    json.dumps(tr.to_json(), allow_nan=False)


def test_minimal_detectable_change_is_not_yet_known_without_retest_data() -> None:
    one = trend([TrendPoint("a", "p", summary(80, 70))])
    assert one.mdc95 is None and one.mdc_note.startswith("not yet known")
    two_plans = trend([TrendPoint("a", "p", summary(80, 70)),
                       TrendPoint("b", "q", summary(82, 71))])
    assert two_plans.mdc95 is None and two_plans.left_slope == pytest.approx(2.0)


def test_minimal_detectable_change_from_two_sessions_of_the_same_plan() -> None:
    tr = trend([TrendPoint("a", "p", summary(80, 70)), TrendPoint("b", "q", summary(50, 50)),
                TrendPoint("c", "p", summary(84, 68))])
    # differences +4 (left) and -2 (right): SEM = RMS / sqrt 2, MDC95 = 1.96 sqrt2 SEM
    assert tr.mdc95 == pytest.approx(1.96 * math.sqrt((16 + 4) / 2))
    assert tr.mdc_pairs == 2
    assert tr.last_change_real == {"left": True, "right": True}  # vs the "q" session


def test_trend_of_sessions_without_two_sided_scores_says_so() -> None:
    tr = trend([TrendPoint("a", "p", summary(80, None))])
    assert tr.metric is None and "no session has scores for both sides" in tr.mdc_note
