"""Specification of the IMU model: axes, units, quantisation, saturation, errors, CSV."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from levelbelt.sim.body import (
    BodyTrace,
    HipDrop,
    Position,
    PositionName,
    Segment,
    Still,
    Sway,
    WeightShift,
    iter_body,
    rot_x,
    simulate_body,
)
from levelbelt.sim.sensor import (
    CSV_HEADER,
    DEFAULT_MOUNT,
    SensorModel,
    SensorStream,
    measure,
    write_raw_csv,
)

RATE = 100
IDEAL = SensorModel.ideal()


def still(seconds: float = 1.0, rate: float = RATE) -> BodyTrace:
    return simulate_body([Still(seconds)], rate, seed=0)


def test_default_mount_axes() -> None:
    # Columns are the sensor axes in the pelvis frame: x -> right, y -> up, z -> backward.
    np.testing.assert_array_equal(DEFAULT_MOUNT[:, 0], [0, -1, 0])
    np.testing.assert_array_equal(DEFAULT_MOUNT[:, 1], [0, 0, 1])
    np.testing.assert_array_equal(DEFAULT_MOUNT[:, 2], [-1, 0, 0])
    assert np.linalg.det(DEFAULT_MOUNT) == pytest.approx(1.0)


def test_at_rest_standing_the_accelerometer_reads_plus_1g_on_sensor_y() -> None:
    s = measure(still(), IDEAL, seed=0)
    assert s.accel_mg.shape == (RATE, 3) and s.gyro_16dps.shape == (RATE, 3)
    assert np.all(s.accel_mg == [0, 1000, 0])
    assert np.all(s.gyro_16dps == 0)


@pytest.mark.parametrize(
    ("position", "expected_g"),
    [("seated", (0.0, math.cos(math.radians(15)), -math.sin(math.radians(15)))),
     ("prone", (0.0, 0.0, 1.0))],
)
def test_at_rest_in_other_positions_gravity_follows_the_neutral(
    position: PositionName, expected_g: tuple[float, float, float]
) -> None:
    tr = simulate_body([Still(0.2), Position(position, 1.0), Still(0.5)], RATE, 0)
    s = measure(tr, IDEAL, seed=0)
    np.testing.assert_allclose(s.accel_true_g[-1], expected_g, atol=1e-9)


def test_a_real_sensor_still_reads_about_1g_up_with_small_offsets() -> None:
    s = measure(still(2.0), SensorModel(), seed=5)
    mean = s.accel_mg.mean(axis=0)
    assert 985 < mean[1] < 1010
    # 3 deg pitch / 2 deg roll misalignment shows up on the other axes (tens of mg).
    assert 20 < np.hypot(mean[0], mean[2]) < 80
    assert np.all(np.abs(s.gyro_dps.mean(axis=0)) < 2.1)
    assert 1.0 < s.accel_mg[:, 1].std() < 6.0  # ~400 ug/rtHz over ~44 Hz -> ~2.7 mg


def test_canonical_units_are_rounded_adc_counts() -> None:
    tr = simulate_body([Still(0.2), Sway(2.0, 1.0), WeightShift("left"), HipDrop("left")],
                       RATE, seed=1)
    s = measure(tr, SensorModel(), seed=2)
    counts_a = np.rint(s.accel_g * 8192)
    counts_g = np.rint(s.gyro_dps * 65.5)
    np.testing.assert_array_equal(s.accel_mg, np.rint(counts_a * 1000 / 8192))
    np.testing.assert_array_equal(s.gyro_16dps, np.rint(counts_g * 16 / 65.5))
    assert s.accel_mg.dtype.kind == "i" and s.gyro_16dps.dtype.kind == "i"


def _spinning(rate_dps: float, acc_mps2: float, n: int = 20) -> BodyTrace:
    """Hand-made trace: constant spin about pelvis x and a huge lateral acceleration."""
    t = np.arange(n) / RATE
    angles = np.radians(rate_dps) * t
    return BodyTrace(
        rate_hz=RATE,
        t_s=t,
        R_world_from_pelvis=np.stack([rot_x(a) for a in angles]),
        omega_pelvis_dps=np.tile([rate_dps, 0.0, 0.0], (n, 1)),
        acc_world_mps2=np.tile([0.0, acc_mps2, 0.0], (n, 1)),
        pos_world_m=np.zeros((n, 3)),
        tilt_deg=np.zeros(n),
        obliquity_deg=-np.degrees(angles),
        position=np.zeros(n, dtype=np.int64),
        stance=np.zeros(n, dtype=np.int64),
        events=(),
    )


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_saturation_at_full_scale_stays_inside_int16(sign: float) -> None:
    s = measure(_spinning(sign * 2000.0, sign * 100.0), IDEAL, seed=0)
    # pelvis x (forward) is sensor -z; pelvis y (left) is sensor -x.
    # Spin about pelvis forward = about sensor -Z: ADC clips at int16 counts (~500 deg/s).
    assert np.all(s.gyro_16dps[:, 2] == (-8004 if sign > 0 else 8004))
    # Lateral push toward the left = toward sensor -X: clipped at 4 g.
    assert s.accel_mg[0, 0] == (-4000 if sign > 0 else 4000)
    for arr in (s.accel_mg, s.gyro_16dps):
        assert arr.min() >= -32768 and arr.max() <= 32767
    big = replace(IDEAL, accel_lsb_per_g=1.0)  # absurd LSB: canonical values clip at int16
    assert measure(_spinning(0.0, sign * 1e6), big, seed=0).accel_mg.max() <= 32767


def test_gyro_sees_pelvis_rotation_in_the_sensor_frame() -> None:
    s = measure(_spinning(100.0, 0.0), IDEAL, seed=0)
    # Right side dropping = +roll about pelvis forward = rotation about sensor -Z.
    assert np.all(s.gyro_16dps[:, 2] == -1600)
    assert np.all(s.gyro_16dps[:, :2] == 0)


def test_same_seed_same_samples_different_seed_different_errors() -> None:
    tr = still(0.5)
    a, b, c = (measure(tr, SensorModel(), seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a.accel_mg, b.accel_mg)
    np.testing.assert_array_equal(a.gyro_16dps, b.gyro_16dps)
    assert not np.array_equal(a.gyro_16dps, c.gyro_16dps)


def test_gyro_bias_is_constant_per_seed_within_its_bound_and_drifts_slowly() -> None:
    model = replace(SensorModel(), gyro_noise_dps_rthz=0.0)
    s = measure(still(10.0), model, seed=9)
    first, last = s.gyro_dps[:100].mean(axis=0), s.gyro_dps[-100:].mean(axis=0)
    assert np.all(np.abs(first) <= 2.0 + 0.05)
    assert np.all(np.abs(last - first) < 0.2)
    assert np.any(last != first)


def test_lever_arm_gives_lateral_specific_force_during_a_drop() -> None:
    script: list[Segment] = [
        Still(0.5), WeightShift("left"), Still(0.3), HipDrop("left", 9.0, hold_s=0.3)
    ]
    tr = simulate_body(script, RATE, seed=0)
    s = measure(tr, IDEAL, seed=0)
    gravity_only = np.einsum("nji,j->ni", tr.R_world_from_pelvis, [0.0, 0.0, 1.0]) @ DEFAULT_MOUNT
    linear = s.accel_true_g - gravity_only
    drop = tr.t_s >= 1.3
    assert np.abs(linear[drop, 0]).max() > 0.1  # sensor x = wearer's right, in g
    assert np.abs(linear[~drop]).max() < 0.2  # weight shift itself is gentler


def test_misalignment_tilts_the_measured_gravity_by_the_configured_angles() -> None:
    model = replace(IDEAL, misalign_pitch_deg=3.0, misalign_roll_deg=2.0, misalign_yaw_deg=0.5)
    s = measure(still(0.1), model, seed=0)
    up = s.accel_true_g[0]
    assert math.degrees(math.acos(up[1])) == pytest.approx(math.hypot(3.0, 2.0), abs=0.05)
    with pytest.raises(ValueError, match="rotation"):
        measure(still(0.1), IDEAL, seed=0, mount=np.eye(3) * 2)


def test_chunked_sensor_stream_equals_one_measure() -> None:
    script: list[Segment] = [Still(0.5), Sway(2.0)]
    whole = measure(simulate_body(script, RATE, 1), SensorModel(), seed=6)
    stream = SensorStream(SensorModel(), seed=6)
    parts = [stream.measure(c) for c in iter_body(script, RATE, 1, chunk_s=0.3)]
    np.testing.assert_array_equal(np.concatenate([p.accel_mg for p in parts]), whole.accel_mg)
    np.testing.assert_array_equal(np.concatenate([p.gyro_16dps for p in parts]), whole.gyro_16dps)


def test_raw_csv_has_the_analyze_format(tmp_path: Path) -> None:
    s = measure(simulate_body([Still(0.3), Sway(0.5)], RATE, 0), SensorModel(), seed=1)
    path = tmp_path / "raw.csv"
    rows = write_raw_csv(path, s)
    text = path.read_text(encoding="utf-8").splitlines()
    assert text[0] == CSV_HEADER == "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"
    assert rows == len(s) == len(text) - 1
    data = np.array([[float(x) for x in row] for row in csv.reader(text[1:])])
    np.testing.assert_array_equal(data[:, 0], s.t_s.round(6))
    # Exact decimals: a reader recovers the firmware ints by rounding.
    np.testing.assert_array_equal(np.rint(data[:, 1:4] * 1000), s.accel_mg)
    np.testing.assert_array_equal(data[:, 4:7] * 16, s.gyro_16dps)  # x/16 is exact in binary


def test_raw_csv_jitter_and_gaps(tmp_path: Path) -> None:
    s = measure(still(1.0), SensorModel(), seed=1)
    path = tmp_path / "gappy.csv"
    rows = write_raw_csv(path, s, jitter_s=0.002, drop_rows=range(40, 50), seed=3)
    t = np.loadtxt(path, delimiter=",", skiprows=1)[:, 0]
    assert rows == len(s) - 10 == t.size
    dt = np.diff(t)
    assert np.all(dt > 0) and dt.max() > 0.1 and np.abs(dt[:30] - 0.01).max() <= 0.004
    assert not np.allclose(dt[:30], 0.01, atol=1e-7)
    with pytest.raises(ValueError, match="jitter"):
        write_raw_csv(path, s, jitter_s=0.01)
