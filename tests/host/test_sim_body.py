"""Specification of the simulated athlete: conventions, kinematic consistency, labels."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from levelbelt.sim.body import (
    HIP_LEFT_M,
    POSITIONS,
    STANCES,
    Hike,
    HipDrop,
    NearMiss,
    Position,
    PositionName,
    Segment,
    Side,
    Squeeze,
    Still,
    Sway,
    TouchDown,
    WeightShift,
    concatenate_traces,
    exp_so3,
    iter_body,
    log_so3,
    neutral_orientation,
    rot_y,
    simulate_body,
    tilt_obliquity_deg,
)
from levelbelt.sim.scenarios import (
    ASSUMED_DWELL_RANGE_S,
    ASSUMED_THRESHOLD_DEG,
    demo_loop,
    labelled_session,
    squeeze_set,
)

RATE = 100


def at(trace_t: np.ndarray, t_s: float) -> int:
    return int(np.argmin(np.abs(trace_t - t_s)))


def test_still_standing_is_the_identity_at_rest() -> None:
    tr = simulate_body([Still(1.0)], RATE, seed=0)
    assert len(tr) == 100
    np.testing.assert_allclose(tr.R_world_from_pelvis, np.broadcast_to(np.eye(3), (100, 3, 3)))
    np.testing.assert_allclose(tr.omega_pelvis_dps, 0.0, atol=1e-9)
    np.testing.assert_allclose(tr.acc_world_mps2, 0.0, atol=1e-6)
    assert np.all(tr.tilt_deg == 0.0) and np.all(tr.obliquity_deg == 0.0)
    assert set(tr.position.tolist()) == {POSITIONS.index("standing")}


def test_anterior_tilt_is_positive_and_tips_the_up_axis_forward() -> None:
    tilt, obl = tilt_obliquity_deg(rot_y(math.radians(10.0))[None])
    assert tilt[0] == pytest.approx(10.0) and obl[0] == pytest.approx(0.0)
    assert (rot_y(math.radians(10.0)) @ [0, 0, 1])[0] > 0  # pelvis up leans to world +x


def test_squeeze_is_posterior_tilt() -> None:
    tr = simulate_body([Still(0.5), Squeeze(depth_deg=4.0, hold_s=0.5)], RATE, seed=0)
    k = at(tr.t_s, 0.5 + 0.3 + 0.25)
    assert tr.tilt_deg[k] == pytest.approx(-4.0, abs=1e-9)
    assert tr.R_world_from_pelvis[k, 0, 2] < 0  # up axis leans backward
    assert tr.events[0].kind == "squeeze" and tr.events[0].peak_deg == pytest.approx(-4.0)


@pytest.mark.parametrize(
    ("stance", "dropping", "sign"), [("left", "right", -1), ("right", "left", 1)]
)
def test_drop_on_the_unsupported_side_has_the_contract_sign(
    stance: Side, dropping: str, sign: int
) -> None:
    script: list[Segment] = [Still(0.5), WeightShift(stance), HipDrop(stance, 8.0, hold_s=0.5)]
    tr = simulate_body(script, RATE, seed=0)
    k = at(tr.t_s, 0.5 + 0.5 + 0.2 + 0.25)
    assert tr.obliquity_deg[k] == pytest.approx(sign * 8.0, abs=1e-9)
    # The dropping side really is lower: world z of the pelvis left axis.
    left_up = tr.R_world_from_pelvis[k, 2, 1]
    assert (left_up > 0) == (dropping == "right")
    (event,) = tr.events
    assert (event.kind, event.side) == ("drop", dropping)
    assert event.peak_deg == pytest.approx(sign * 8.0, abs=1e-6)


def test_weight_shift_hikes_the_free_side_slightly_and_moves_toward_the_stance_leg() -> None:
    tr = simulate_body([Still(0.5), WeightShift("left", hike_deg=1.0), Still(0.5)], RATE, 0)
    assert tr.obliquity_deg[-1] == pytest.approx(1.0)  # right (free) side higher
    assert 0.05 < tr.pos_world_m[-1, 1] < 0.08  # +y is left
    assert tr.stance[-1] == STANCES.index("left")
    hike = simulate_body([Still(0.5), WeightShift("right"), Hike("right", 4.0)], RATE, 0)
    assert hike.events[0].side == "left" and hike.events[0].peak_deg == pytest.approx(-4.0)


def test_scripts_are_checked_against_the_current_stance_and_position() -> None:
    with pytest.raises(ValueError, match="stance"):
        simulate_body([Still(1.0), HipDrop("left")], RATE, 0)
    with pytest.raises(ValueError, match="position"):
        simulate_body([Position("seated"), WeightShift("left")], RATE, 0)
    with pytest.raises(ValueError):
        Still(0.0)


def test_integrating_omega_reproduces_the_orientation() -> None:
    script: list[Segment] = [
        Still(0.5), Sway(1.0, 1.0), WeightShift("left"), HipDrop("left", 10.0, hold_s=0.2),
        TouchDown("left", 7.0, 0.1), WeightShift("both"), Squeeze(5.0, hold_s=0.2),
        Position("prone", 1.5), Sway(0.5, 0.5),
    ]
    worst = {}
    for rate in (200, 800):
        tr = simulate_body(script, rate, seed=4)
        w = np.radians(tr.omega_pelvis_dps) / rate
        # Second-order step: mean rate plus the commutator term of the rate change.
        steps = 0.5 * (w[:-1] + w[1:]) + np.cross(w[:-1], w[1:]) / 12.0
        r = tr.R_world_from_pelvis[0]
        err = []
        for k, step in enumerate(exp_so3(steps)):
            r = r @ step
            err.append(np.linalg.norm(log_so3((r.T @ tr.R_world_from_pelvis[k + 1])[None])))
        worst[rate] = math.degrees(max(err))
        assert math.degrees(err[-1]) < 1e-3
    assert worst[200] < 0.1
    assert worst[800] < worst[200] / 10  # discretisation error only: shrinks as dt^2


def test_single_leg_motion_pivots_about_the_stance_hip() -> None:
    script: list[Segment] = [
        Still(0.5), WeightShift("left"), Still(0.2), HipDrop("left", 9.0, hold_s=0.3)
    ]
    tr = simulate_body(script, RATE, seed=0)
    drop = slice(at(tr.t_s, 1.2), len(tr))
    hip = tr.pos_world_m[drop] + tr.R_world_from_pelvis[drop] @ np.array(HIP_LEFT_M)
    np.testing.assert_allclose(hip, np.broadcast_to(hip[0], hip.shape), atol=1e-12)
    # So the sacrum translates: real lateral and vertical acceleration during the drop.
    acc = tr.acc_world_mps2[drop]
    assert np.abs(acc[:, 1]).max() > 1.0 and np.abs(acc[:, 2]).max() > 1.0
    # Integrating the acceleration twice (from rest) reproduces the sensor trajectory.
    a, h = tr.acc_world_mps2, 1.0 / RATE
    v = np.concatenate([np.zeros((1, 3)), np.cumsum(0.5 * (a[:-1] + a[1:]) * h, axis=0)])
    p = tr.pos_world_m[0] + np.concatenate(
        [np.zeros((1, 3)), np.cumsum(v[:-1] * h + (2 * a[:-1] + a[1:]) * h * h / 6, axis=0)]
    )
    np.testing.assert_allclose(p, tr.pos_world_m, atol=1e-3)  # drop moves it ~15 mm


def test_truth_is_relative_to_each_positions_neutral() -> None:
    tr = simulate_body([Still(0.5), Position("seated", 2.0), Still(0.5), Squeeze(3.0, 0.3, 0.4),
                        Position("prone", 2.0), Still(0.5), Squeeze(3.0, 0.3, 0.4)], RATE, 0)
    checks: tuple[tuple[PositionName, float], ...] = (("seated", 2.7), ("prone", 6.7))
    for name, t_still in checks:
        k = at(tr.t_s, t_still)
        assert tr.position[k] == POSITIONS.index(name)
        np.testing.assert_allclose(tr.R_world_from_pelvis[k], neutral_orientation(name),
                                   atol=1e-12)
        assert tr.tilt_deg[k] == pytest.approx(0.0, abs=1e-9)
        assert tr.obliquity_deg[k] == pytest.approx(0.0, abs=1e-9)
    squeezes = [e for e in tr.events if e.kind == "squeeze"]
    assert [round(e.peak_deg, 6) for e in squeezes] == [-3.0, -3.0]
    # Prone: lying face down, pelvis forward points at the floor.
    assert tr.R_world_from_pelvis[-1, 2, 0] == pytest.approx(-1.0, abs=0.06)


def test_same_seed_same_trace_and_the_seed_drives_the_sway() -> None:
    script: list[Segment] = [Still(0.5), Sway(2.0, 1.0)]
    a, b, c = (simulate_body(script, RATE, s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.R_world_from_pelvis, b.R_world_from_pelvis)
    np.testing.assert_array_equal(a.acc_world_mps2, b.acc_world_mps2)
    assert not np.allclose(a.obliquity_deg, c.obliquity_deg)
    assert np.abs(a.obliquity_deg).max() <= 1.0  # amplitude is a hard bound
    assert np.abs(a.obliquity_deg).max() > 0.1


def test_chunked_streaming_equals_one_batch() -> None:
    script: list[Segment] = [
        Still(0.5), Sway(1.0), WeightShift("right"), TouchDown("right"), HipDrop("right")
    ]
    whole = simulate_body(script, 200, seed=3)
    chunks = list(iter_body(iter(script), 200, seed=3, chunk_s=0.37))
    joined = concatenate_traces(chunks)
    np.testing.assert_array_equal(joined.t_s, whole.t_s)
    np.testing.assert_allclose(joined.R_world_from_pelvis, whole.R_world_from_pelvis, atol=1e-15)
    np.testing.assert_allclose(joined.acc_world_mps2, whole.acc_world_mps2, atol=1e-9)
    assert joined.events == whole.events


def test_labelled_session_labels_match_the_assumed_threshold() -> None:
    tr = labelled_session(RATE, seed=11)
    assert np.all(tr.obliquity_deg[: 2 * RATE] == 0.0)  # >= 2 s still neutral first
    kinds = {k: [e for e in tr.events if e.kind == k] for k in
             ("drop", "near_miss", "touchdown", "hike", "squeeze")}
    for side in ("left", "right"):
        assert sum(e.side == side for e in kinds["drop"]) >= 3
    th = ASSUMED_THRESHOLD_DEG
    for e in kinds["drop"]:
        assert abs(e.peak_deg) >= 6.0 and np.sign(e.peak_deg) == (-1 if e.side == "right" else 1)
        inside = (tr.t_s >= e.start_s) & (tr.t_s <= e.end_s)
        beyond = np.count_nonzero(np.abs(tr.obliquity_deg[inside]) > th) / RATE
        assert beyond > ASSUMED_DWELL_RANGE_S[1]
    for e in kinds["near_miss"]:
        assert 2.0 < abs(e.peak_deg) < th
    for e in kinds["touchdown"]:
        assert e.end_s - e.start_s < 0.15 and abs(e.peak_deg) > th
    for e in kinds["hike"]:
        assert np.sign(e.peak_deg) == (1 if e.side == "right" else -1)
    assert all(-6.5 < e.peak_deg < -1.5 for e in kinds["squeeze"])
    # Between labelled excursions obliquity stays well inside the threshold.
    quiet = np.ones(len(tr), dtype=bool)
    for e in tr.events:
        quiet &= ~((tr.t_s >= e.start_s) & (tr.t_s <= e.end_s))
    assert np.abs(tr.obliquity_deg[quiet]).max() < 2.0
    assert np.abs(tr.omega_pelvis_dps).max() < 500.0  # gyro never saturates


def test_demo_loop_and_squeeze_set_are_valid_scripts() -> None:
    demo = list(itertools.islice(demo_loop("left", seed=1), 60))
    chunks = iter_body(demo_loop("left", seed=1), RATE, seed=1, chunk_s=5.0)
    tr = concatenate_traces(list(itertools.islice(chunks, 8)))
    assert len(tr) == 40 * RATE
    drops = [e for e in tr.events if e.kind == "drop"]
    assert sum(e.side == "right" for e in drops) > sum(e.side == "left" for e in drops)
    assert isinstance(demo[0], Still)
    for position in POSITIONS:
        tr = simulate_body(squeeze_set(reps=2, position=position), RATE, seed=2)
        assert [e.kind for e in tr.events if e.kind == "squeeze"] == ["squeeze"] * 2
        assert tr.position[-1] == POSITIONS.index(position)


def test_near_miss_is_a_drop_shape_with_its_own_label() -> None:
    tr = simulate_body([Still(0.2), WeightShift("right"), NearMiss("right", 3.0)], RATE, 0)
    assert tr.events[0].kind == "near_miss"
    assert tr.events[0].peak_deg == pytest.approx(3.0)
