"""Neutral and mount alignment give the documented signs (docs/units.md)."""

import math

from belt.align import Alignment, parse_mount
from belt.fixedmath import ONE


def _up_in_default_sensor_frame(tilt_deg, obl_deg):
    """World up seen by a pelvis with Z-Y-X tilt/obliquity, as sensor-frame Q14 ints.

    Pelvis frame: forward, left, up. Default mount: sensor x = right, y = up, z = back.
    """
    th = math.radians(tilt_deg)
    ph = -math.radians(obl_deg)  # obliquity is minus the roll
    f = -math.sin(th)
    left = math.cos(th) * math.sin(ph)
    up = math.cos(th) * math.cos(ph)
    return (int(round(-left * ONE)), int(round(up * ONE)), int(round(-f * ONE)))


def test_neutral_reads_zero():
    a = Alignment()
    a.capture(0, 1000, 0)
    a.angles(0, ONE, 0)
    assert a.tilt_cdeg == 0 and a.obl_cdeg == 0


def test_right_side_higher_is_positive_obliquity_and_anterior_tilt_is_positive():
    a = Alignment()
    a.capture(0, 1000, 0)
    for tilt, obl in ((0, 6), (0, -6), (8, 0), (-8, 0), (5, -7), (-12, 9)):
        x, y, z = _up_in_default_sensor_frame(tilt, obl)
        a.angles(x, y, z)
        assert abs(a.tilt_cdeg - tilt * 100) <= 3, (tilt, obl, a.tilt_cdeg)
        assert abs(a.obl_cdeg - obl * 100) <= 3, (tilt, obl, a.obl_cdeg)


def test_a_tilted_clip_is_zeroed_by_the_neutral_capture():
    a = Alignment()
    # Clip pitched 10 deg on the sacrum: gravity is off the sensor's +Y axis at neutral.
    up = (0, int(1000 * math.cos(math.radians(10))), int(1000 * math.sin(math.radians(10))))
    a.capture(*up)
    a.angles(0, int(ONE * math.cos(math.radians(10))), int(ONE * math.sin(math.radians(10))))
    assert abs(a.tilt_cdeg) <= 6 and abs(a.obl_cdeg) <= 6  # 1 mg is about 0.06 deg
    assert abs(a.mount_error_cdeg - 1000) <= 5


def test_an_upside_down_mount_flips_right_and_up():
    a = Alignment("-x-y")
    a.capture(0, -1000, 0)
    # Right side higher by 6 deg: up leans toward the pelvis' right = sensor -x here.
    s = int(ONE * math.sin(math.radians(6)))
    c = int(ONE * math.cos(math.radians(6)))
    a.angles(-s, -c, 0)
    assert abs(a.obl_cdeg - 600) <= 3


def test_mount_strings_are_validated():
    assert parse_mount("+x+y") == ((0, 1), (1, 1))
    assert parse_mount("-z+x") == ((2, -1), (0, 1))
    for bad in ("x+y", "+x+x", "+q+y", "+x+y+z", ""):
        try:
            parse_mount(bad)
        except ValueError as e:
            assert "mount" in str(e)
        else:
            raise AssertionError("accepted " + bad)


def test_capture_refuses_when_right_axis_is_vertical():
    a = Alignment()
    assert not a.capture(1000, 0, 0)
    assert not a.capture(0, 0, 0)
