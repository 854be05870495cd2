"""Neutral posture and mount alignment: sensor-frame up vector -> tilt and obliquity.

At calibration the athlete stands (or sits, or lies) in neutral. "Up" is the measured
gravity direction; "right" is the mount's right axis made orthogonal to up; forward is
up x right. Angles are then Z-Y-X Euler angles of the pelvis relative to that neutral:
tilt = pitch (anterior positive), obliquity = -roll (right side higher positive).

Axes are computed once (floats allowed there); `angles` runs per sample in ints only.
"""

import math

from belt.fixedmath import ATAN_CDEG, ONE

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_Q = const(14)
_STEPS = const(64)  # fixedmath's table: atan(i/64), i = 0..64, in centidegrees
_STEP_BITS = const(8)
_STEP_MASK = const(255)
_STEP_HALF = const(128)

# Mount = which sensor axis points to the wearer's right and which points up, each as
# (axis index, sign). Default clip: sensor +X -> right, +Y -> up, +Z -> backward.
MOUNT_DEFAULT = "+x+y"
_AXES = "xyz"


def parse_mount(text):
    """'+x+y' -> ((0, 1), (1, 1)); raises ValueError with the allowed form."""
    t = text.strip().lower()
    if len(t) != 4 or t[0] not in "+-" or t[2] not in "+-" or t[1] not in _AXES or (
        t[3] not in _AXES
    ) or t[1] == t[3]:
        raise ValueError("mount must look like '+x+y' (right axis, then up axis), got %r" % text)
    return ((_AXES.index(t[1]), 1 if t[0] == "+" else -1),
            (_AXES.index(t[3]), 1 if t[2] == "+" else -1))


# SET_MOUNT's axis codes (docs/protocol.md): 1 +x, 2 -x, 3 +y, 4 -y, 5 +z, 6 -z, that is
# 1 + 2 * axis + (1 if negative). 0 is no axis, so an all-zero argument is refused.
AXIS_CODE_MAX = const(6)


def mount_from_codes(right, up):
    """SET_MOUNT's (right, up) axis codes -> the mount text, e.g. (1, 3) -> '+x+y'.

    None for an unknown code or two codes on one axis (the same or opposite directions):
    such a clip has no right/up pair to align with.
    """
    if not (1 <= right <= AXIS_CODE_MAX and 1 <= up <= AXIS_CODE_MAX):
        return None
    r = right - 1
    u = up - 1
    if r >> 1 == u >> 1:
        return None
    return ("-" if r & 1 else "+") + _AXES[r >> 1] + ("-" if u & 1 else "+") + _AXES[u >> 1]


def _unit(v):
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


class Alignment:
    """Pelvis axes in the sensor frame (Q14 rows: forward, right, up) and the angles."""

    def __init__(self, mount=MOUNT_DEFAULT):
        self.set_mount(mount)
        self.tilt_cdeg = 0
        self.obl_cdeg = 0
        self.mount_error_cdeg = 0

    def set_mount(self, mount):
        right, up = parse_mount(mount)
        self.mount = mount
        self._right_hint = [0.0, 0.0, 0.0]
        self._right_hint[right[0]] = float(right[1])
        self._up_hint = [0.0, 0.0, 0.0]
        self._up_hint[up[0]] = float(up[1])
        # Until a neutral is captured, trust the declared mount.
        self.capture(self._up_hint[0], self._up_hint[1], self._up_hint[2])

    def capture(self, ux, uy, uz):
        """Neutral from a mean accelerometer reading (any units). Returns False if degenerate."""
        if ux == 0 and uy == 0 and uz == 0:
            return False
        u = _unit((ux, uy, uz))
        h = self._right_hint
        d = h[0] * u[0] + h[1] * u[1] + h[2] * u[2]
        r = (h[0] - d * u[0], h[1] - d * u[1], h[2] - d * u[2])
        if r[0] * r[0] + r[1] * r[1] + r[2] * r[2] < 0.25:  # right hint within 30 deg of up
            return False
        r = _unit(r)
        f = _cross(u, r)
        self.fx, self.fy, self.fz = (int(round(c * ONE)) for c in f)
        self.rx, self.ry, self.rz = (int(round(c * ONE)) for c in r)
        self.ux, self.uy, self.uz = (int(round(c * ONE)) for c in u)
        # The same nine numbers in one tuple: `angles` unpacks them in one step.
        self._rows = (self.fx, self.fy, self.fz, self.rx, self.ry, self.rz, self.ux, self.uy,
                      self.uz)
        cosang = u[0] * self._up_hint[0] + u[1] * self._up_hint[1] + u[2] * self._up_hint[2]
        cosang = max(-1.0, min(1.0, cosang))
        self.mount_error_cdeg = int(round(math.degrees(math.acos(cosang)) * 100))
        return True

    def angles(self, x, y, z):
        """Up vector (sensor frame, Q14) -> self.tilt_cdeg, self.obl_cdeg.

        Per sample, so fixedmath's `isqrt` and `atan2_cdeg` are written out here (the
        same integer steps, bit for bit; tests hold them to the functions): calls cost
        more than the arithmetic on the bytecode interpreter. The tilt and obliquity
        blocks below are deliberately two copies: folding them into one loop costs
        about 28 bytecode instructions per sample (benchmarks/firmware_path.py).
        """
        fx, fy, fz, rx, ry, rz, ux, uy, uz = self._rows
        gf = (fx * x + fy * y + fz * z) >> _Q
        gr = (rx * x + ry * y + rz * z) >> _Q
        gu = (ux * x + uy * y + uz * z) >> _Q
        table = ATAN_CDEG
        # Up seen from a pitched body leans backward: tilt = atan2(-g_f, sqrt(g_r^2 + g_u^2)).
        # isqrt(n, guess=g_u or ONE): Newton from the guess, down to the floor.
        n = gr * gr + gu * gu
        if n <= 0:
            h = 0
        else:
            h = gu if gu > 0 else ONE
            h = (h + n // h) >> 1
            while True:
                t = (h + n // h) >> 1
                if t >= h:
                    break
                h = t
        # atan2_cdeg(-gf, h) with h >= 0.
        ay = gf if gf > 0 else -gf
        if h == 0 and ay == 0:
            a = 0
        else:
            if h >= ay:
                r = (ay << _Q) // h
                i = r >> _STEP_BITS
                if i >= _STEPS:
                    a = table[_STEPS]
                else:
                    lo = table[i]
                    a = lo + (((table[i + 1] - lo) * (r & _STEP_MASK) + _STEP_HALF)
                              >> _STEP_BITS)
            else:
                r = (h << _Q) // ay
                i = r >> _STEP_BITS
                if i >= _STEPS:
                    a = 9000 - table[_STEPS]
                else:
                    lo = table[i]
                    a = 9000 - lo - (((table[i + 1] - lo) * (r & _STEP_MASK) + _STEP_HALF)
                                     >> _STEP_BITS)
            if gf > 0:
                a = -a
        self.tilt_cdeg = a
        # Right side higher: up leans toward the body's right. atan2_cdeg(gr, gu).
        ax = gu if gu >= 0 else -gu
        ay = gr if gr >= 0 else -gr
        if ax == 0 and ay == 0:
            a = 0
        else:
            if ax >= ay:
                r = (ay << _Q) // ax
                i = r >> _STEP_BITS
                if i >= _STEPS:
                    a = table[_STEPS]
                else:
                    lo = table[i]
                    a = lo + (((table[i + 1] - lo) * (r & _STEP_MASK) + _STEP_HALF)
                              >> _STEP_BITS)
            else:
                r = (ax << _Q) // ay
                i = r >> _STEP_BITS
                if i >= _STEPS:
                    a = 9000 - table[_STEPS]
                else:
                    lo = table[i]
                    a = 9000 - lo - (((table[i + 1] - lo) * (r & _STEP_MASK) + _STEP_HALF)
                                     >> _STEP_BITS)
            if gu < 0:
                a = 18000 - a
            if gr < 0:
                a = -a
        self.obl_cdeg = a
