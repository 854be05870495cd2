"""Gravity-vector complementary filter in integer arithmetic.

The filter tracks the direction of "up" (the specific force at rest) in the sensor
frame as a Q14 vector. Each sample rotates it by the gyro increment (v' = v + v x dtheta,
the exact first-order rotation of a world-fixed vector seen from a rotating body) and
pulls it toward the accelerometer when the accelerometer reads close to 1 g. Working on
the gravity vector rather than integrating per-axis angles keeps tilt right when the
pelvis also turns about the vertical.

Q14 alone would lose slow rotations (0.5 deg/s at 100 Hz is about 1.4 LSB per sample),
so both the rotation increment and the per-axis update carry their remainders to the
next sample (error feedback): the mean is exact, the dither is below 0.01 deg.

Units in: accel in mg, gyro in 1/16 deg/s (canonical wire units), gyro bias in
1/256 deg/s. All state is small ints, so `update` allocates nothing.
"""

import math

from belt.fixedmath import ONE, isqrt

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_Q = const(14)
_K_SHIFT = const(16)
_K_MASK = const(0xFFFF)  # the bits below _K_SHIFT
_Q_MASK = const(0x3FFF)  # the bits below _Q
_ACC_TO_Q14 = const(16777)  # 16384 / 1000 mg in Q10
_ACC_MAX_MG = const(2000)  # beyond this an axis is clearly not gravity alone
_NORM_TOL = const(3)  # renormalise when |v|^2 is off by more than this many LSB
# Across a FIFO gap the rate is taken as the mean of the rates at both ends, over at
# most this many periods (250 ms at 100 Hz); the accelerometer corrects the rest.
MAX_GAP_PERIODS = const(25)
_MAX_STEP = const(4096)  # 0.25 rad per update keeps every product a small int


class TiltFilter:
    """Up-vector estimate in the sensor frame, Q14 (x, y, z attributes)."""

    def __init__(self, rate_hz, tau_s=1.0, gate=0.1):
        self.rate_hz = rate_hz
        # rad per sample per (1/256 deg/s), scaled by 2^(14+16): gyro*k >> 16 is Q14 rad.
        self._k = int(round(math.pi / 180.0 / 256.0 / rate_hz * (1 << (_Q + _K_SHIFT))))
        # Blend weight per sample in Q14; tau is the accelerometer correction time constant.
        self._alpha = max(1, int(round(ONE / (tau_s * rate_hz))))
        lo = int((1.0 - gate) * 1000)
        hi = int((1.0 + gate) * 1000)
        self._gate_lo = lo * lo
        self._gate_hi = hi * hi
        self.bias_x = 0
        self.bias_y = 0
        self.bias_z = 0
        self.x = 0
        self.y = ONE
        self.z = 0
        self._rdx = 0
        self._rdy = 0
        self._rdz = 0
        self._rx = 0
        self._ry = 0
        self._rz = 0
        self.accel_used = 0  # samples whose accelerometer passed the 1 g gate
        self._primed = False  # previous gyro reading known (trapezoidal integration)
        self._gap_rem = 0
        self._pgx = 0
        self._pgy = 0
        self._pgz = 0

    def set_bias(self, bx, by, bz):
        """Gyro bias in 1/256 deg/s, subtracted before integration."""
        self.bias_x = bx
        self.bias_y = by
        self.bias_z = bz

    def reset(self, ax, ay, az):
        """Seed the up vector from an accelerometer reading (mg); not a hot-path call."""
        n = isqrt(ax * ax + ay * ay + az * az)
        if n == 0:
            return False
        self.x = (ax * ONE) // n
        self.y = (ay * ONE) // n
        self.z = (az * ONE) // n
        self._rdx = self._rdy = self._rdz = 0
        self._rx = self._ry = self._rz = 0
        self._primed = False
        return True

    def _gap_step(self, rate, m, rem):
        """Q14 rotation over m periods, split so every product stays a small int.

        The new remainder goes to `self._gap_rem` (returning a tuple would allocate).
        """
        t = rate * self._k
        q = t >> _K_SHIFT
        t = (t - (q << _K_SHIFT)) * m + rem
        s = t >> _K_SHIFT
        self._gap_rem = t - (s << _K_SHIFT)
        d = q * m + s
        return -_MAX_STEP if d < -_MAX_STEP else (_MAX_STEP if d > _MAX_STEP else d)

    def update(self, ax, ay, az, gx, gy, gz, n=1):
        """Advance by one sample (or `n` sample periods after a FIFO gap).

        The rotation uses the mean of this and the previous gyro reading (trapezoidal
        rule): exact for a rate that changes linearly between samples.
        """
        if not self._primed:
            self._pgx = gx
            self._pgy = gy
            self._pgz = gz
            self._primed = True
        rx = (gx + self._pgx) * 8 - self.bias_x
        ry = (gy + self._pgy) * 8 - self.bias_y
        rz = (gz + self._pgz) * 8 - self.bias_z
        self._pgx = gx
        self._pgy = gy
        self._pgz = gz
        if n == 1:
            # Rotation increment in Q14 rad with the truncation carried forward (the
            # remainder t - ((t >> 16) << 16) is t & 0xFFFF, also for negative t).
            k = self._k
            t = rx * k + self._rdx
            dx = t >> _K_SHIFT
            self._rdx = t & _K_MASK
            t = ry * k + self._rdy
            dy = t >> _K_SHIFT
            self._rdy = t & _K_MASK
            t = rz * k + self._rdz
            dz = t >> _K_SHIFT
            self._rdz = t & _K_MASK
        else:
            m = n if n <= MAX_GAP_PERIODS else MAX_GAP_PERIODS
            dx = self._gap_step(rx, m, self._rdx)
            self._rdx = self._gap_rem
            dy = self._gap_step(ry, m, self._rdy)
            self._rdy = self._gap_rem
            dz = self._gap_step(rz, m, self._rdz)
            self._rdz = self._gap_rem

        x = self.x
        y = self.y
        z = self.z
        # v x dtheta, Q28 before the shift.
        ix = y * dz - z * dy
        iy = z * dx - x * dz
        iz = x * dy - y * dx

        # Each axis within +-_ACC_MAX_MG first: that keeps |a|^2 a small int.
        if (ax < _ACC_MAX_MG and ax > -_ACC_MAX_MG and ay < _ACC_MAX_MG
                and ay > -_ACC_MAX_MG and az < _ACC_MAX_MG and az > -_ACC_MAX_MG):
            m2 = ax * ax + ay * ay + az * az
            if self._gate_lo <= m2 <= self._gate_hi:
                a = self._alpha
                ix += (((ax * _ACC_TO_Q14) >> 10) - x) * a
                iy += (((ay * _ACC_TO_Q14) >> 10) - y) * a
                iz += (((az * _ACC_TO_Q14) >> 10) - z) * a
                self.accel_used += 1

        t = ix + self._rx
        x += t >> _Q
        self._rx = t & _Q_MASK
        t = iy + self._ry
        y += t >> _Q
        self._ry = t & _Q_MASK
        t = iz + self._rz
        z += t >> _Q
        self._rz = t & _Q_MASK

        # Keep |v| == 1: one Newton step for 1/sqrt is exact enough this close to 1.
        m2 = ((x * x) >> _Q) + ((y * y) >> _Q) + ((z * z) >> _Q)
        d = m2 - ONE
        if d > _NORM_TOL or d < -_NORM_TOL:
            f = (3 * ONE - m2) >> 1
            x = (x * f + 8192) >> _Q
            y = (y * f + 8192) >> _Q
            z = (z * f + 8192) >> _Q
        self.x = x
        self.y = y
        self.z = z
