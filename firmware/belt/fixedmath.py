"""Integer trigonometry for the sample path.

On the ESP32 every float is a heap object, so the per-sample path works on small ints
only: vectors in Q14 (16384 == 1.0) and angles in centidegrees (0.01 deg).
"""

import math

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

ONE = const(16384)  # 1.0 in Q14
_RATIO_BITS = const(14)  # atan argument resolution (Q14)
_STEP_BITS = const(8)  # ratio bits below one table step of 1/64
_STEPS = const(64)
_STEP_MASK = const(255)
_STEP_HALF = const(128)

# atan(i/64) in centidegrees for i = 0..64; linear interpolation between entries is
# accurate to about 0.001 deg, well below the 0.01 deg output resolution.
ATAN_CDEG = tuple(int(round(math.atan(i / _STEPS) * 18000 / math.pi)) for i in range(_STEPS + 1))


def atan_unit_cdeg(num, den):
    """atan(num/den) in centidegrees for 0 <= num <= den, den > 0."""
    r = (num << _RATIO_BITS) // den
    i = r >> _STEP_BITS
    if i >= _STEPS:
        return ATAN_CDEG[_STEPS]
    lo = ATAN_CDEG[i]
    return lo + (((ATAN_CDEG[i + 1] - lo) * (r & _STEP_MASK) + _STEP_HALF) >> _STEP_BITS)


def atan2_cdeg(y, x):
    """Four-quadrant atan2 in centidegrees (-18000..18000) without floats."""
    ax = -x if x < 0 else x
    ay = -y if y < 0 else y
    if ax == 0 and ay == 0:
        return 0
    if ax >= ay:
        a = atan_unit_cdeg(ay, ax)
    else:
        a = 9000 - atan_unit_cdeg(ax, ay)
    if x < 0:
        a = 18000 - a
    return -a if y < 0 else a


def isqrt(n, guess=0):
    """floor(sqrt(n)) by Newton's method; a `guess` near the root saves iterations.

    One step from any positive start lands at or above the root, after which the
    iteration decreases monotonically to the floor.
    """
    if n <= 0:
        return 0
    x = guess if guess > 0 else n
    x = (x + n // x) >> 1
    while True:
        y = (x + n // x) >> 1
        if y >= x:
            return x
        x = y
