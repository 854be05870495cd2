"""Integer trig used on the sample path agrees with float math."""

import math

from belt.fixedmath import ONE, atan2_cdeg, isqrt


def test_atan2_matches_float_atan2_within_two_hundredths_of_a_degree():
    worst = 0
    for y in range(-ONE, ONE + 1, 1021):
        for x in range(-ONE, ONE + 1, 977):
            if x == 0 and y == 0:
                continue
            want = math.atan2(y, x) * 18000 / math.pi
            err = abs(atan2_cdeg(y, x) - want)
            if err > 18000:
                err = 36000 - err
            if err > worst:
                worst = err
    assert worst <= 2, worst


def test_atan2_quadrants_and_axes():
    assert atan2_cdeg(0, 0) == 0
    assert atan2_cdeg(0, ONE) == 0
    assert atan2_cdeg(ONE, 0) == 9000
    assert atan2_cdeg(-ONE, 0) == -9000
    assert atan2_cdeg(ONE, ONE) == 4500
    assert atan2_cdeg(-ONE, -ONE) == -13500
    assert atan2_cdeg(0, -ONE) == 18000


def test_isqrt_is_the_exact_floor_from_any_guess():
    for n in (0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 268435456, 268435455, 800000000):
        want = int(math.sqrt(n))
        while want * want > n:
            want -= 1
        while (want + 1) * (want + 1) <= n:
            want += 1
        for guess in (0, 1, want, want + 7, max(1, want - 9)):
            assert isqrt(n, guess) == want, (n, guess)
