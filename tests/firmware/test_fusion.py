"""The gravity-vector filter follows rotations and settles on the accelerometer."""

import math

from belt.fixedmath import ONE
from belt.fusion import MAX_GAP_PERIODS, TiltFilter

RATE = 100


def _angle_deg(f, ax, ay):
    """Angle of the up vector in the plane of two sensor axes."""
    v = (f.x, f.y, f.z)
    return math.degrees(math.atan2(v[ax], v[ay]))


def test_settles_on_a_static_accelerometer_reading():
    f = TiltFilter(RATE, tau_s=0.5)
    f.reset(0, 1000, 0)
    s = int(1000 * math.sin(math.radians(10)))
    c = int(1000 * math.cos(math.radians(10)))
    for _ in range(5 * RATE):
        f.update(s, c, 0, 0, 0, 0)
    assert abs(_angle_deg(f, 0, 1) - 10.0) < 0.05


def test_gyro_rotation_is_integrated_when_the_accelerometer_is_gated_out():
    f = TiltFilter(RATE)
    f.reset(0, 1000, 0)
    # 30 deg/s about sensor z for 1 s; accel reads 0 g (free fall) so only the gyro counts.
    for _ in range(RATE):
        f.update(0, 0, 0, 0, 0, 30 * 16)
    # Body turns +30 deg about z: a world-fixed up vector turns -30 deg seen from the body.
    assert abs(_angle_deg(f, 0, 1) - 30.0) < 0.1, _angle_deg(f, 0, 1)
    assert f.accel_used == 0


def test_slow_rotation_is_not_lost_to_fixed_point_truncation():
    f = TiltFilter(RATE)
    f.reset(0, 1000, 0)
    # 0.5 deg/s is about 1.4 Q14 LSB per sample; 10 s must give 5 deg.
    for _ in range(10 * RATE):
        f.update(0, 0, 0, 8, 0, 0)
    assert abs(math.degrees(math.atan2(-f.z, f.y)) - 5.0) < 0.05


def test_gyro_bias_is_removed_before_integration():
    f = TiltFilter(RATE)
    f.reset(0, 1000, 0)
    f.set_bias(0, 0, 3 * 256)  # 3 deg/s bias on z, in 1/256 deg/s
    for _ in range(5 * RATE):
        f.update(0, 0, 0, 0, 0, 3 * 16)
    assert abs(_angle_deg(f, 0, 1)) < 0.02


def test_up_vector_stays_unit_length():
    f = TiltFilter(RATE)
    f.reset(300, 950, -100)
    for i in range(20 * RATE):
        f.update(300, 950, -100, 700 - (i % 50) * 28, 400, -900)
    n2 = f.x * f.x + f.y * f.y + f.z * f.z
    assert abs(n2 - ONE * ONE) < ONE * ONE // 500


def test_a_gap_of_n_periods_integrates_n_times_the_rate():
    a = TiltFilter(RATE)
    b = TiltFilter(RATE)
    a.reset(0, 1000, 0)
    b.reset(0, 1000, 0)
    for _ in range(10):
        a.update(0, 0, 0, 0, 0, 20 * 16)
    for _ in range(5):
        b.update(0, 0, 0, 0, 0, 20 * 16, 2)
    assert abs(_angle_deg(a, 0, 1) - _angle_deg(b, 0, 1)) < 0.02


def test_a_gap_integrates_the_mean_of_the_rates_at_both_ends():
    f = TiltFilter(RATE)
    f.reset(0, 1000, 0)
    f.update(0, 0, 0, 0, 0, 10 * 16)
    # 6 lost periods while the rate ramps from 10 to 30 deg/s: mean 20 deg/s x 60 ms.
    f.update(0, 0, 0, 0, 0, 30 * 16, 6)
    assert abs(_angle_deg(f, 0, 1) - (0.1 + 1.2)) < 0.03


def test_a_long_gap_integrates_a_bounded_rotation_only():
    f = TiltFilter(RATE)
    f.reset(0, 1000, 0)
    f.update(0, 0, 0, 0, 0, 20 * 16)
    # 500 lost periods at 20 deg/s: at most MAX_GAP_PERIODS (250 ms) are integrated.
    f.update(0, 0, 0, 0, 0, 20 * 16, 500)
    assert abs(_angle_deg(f, 0, 1) - (0.2 + 0.2 * MAX_GAP_PERIODS)) < 0.03
