"""Float filters written the way a typical MicroPython user would, for comparison only.

Neither runs on the belt. They exist so the benchmark can put the belt's integer
per-sample path next to a plain float implementation in the same MicroPython run:

* `MadgwickIMU`: Madgwick's gradient-descent orientation filter, IMU form (gyro +
  accelerometer, no magnetometer), quaternion state, floats, `math.sqrt`.
* `Complementary`: per-axis angles from the accelerometer (`math.atan2`) blended with
  the integrated gyro rate, in degrees.

Both take the belt's canonical units directly (accelerometer in mg, gyro in 1/16 deg/s,
as ints or floats) so a benchmark can feed them the same sample arrays as the pipeline.
Every float operation boxes a new float on MicroPython, so these allocate on every call;
that is the point of the comparison.
"""

import math

_DEG_TO_RAD = math.pi / 180.0
_GYRO_TO_DPS = 1.0 / 16.0  # canonical gyro unit is 1/16 deg/s
_GYRO_TO_RADS = _GYRO_TO_DPS * _DEG_TO_RAD
_RAD_TO_DEG = 180.0 / math.pi


class MadgwickIMU:
    """Quaternion q = (w, x, y, z) rotating the sensor frame into the earth frame.

    `update` takes the gyro in rad/s and the accelerometer in any unit (it is
    normalised); `update_raw` converts canonical belt units first.
    """

    def __init__(self, rate_hz, beta=0.1):
        self.dt = 1.0 / rate_hz
        self.beta = beta
        self.q0 = 1.0
        self.q1 = 0.0
        self.q2 = 0.0
        self.q3 = 0.0

    def update(self, gx, gy, gz, ax, ay, az):
        q0 = self.q0
        q1 = self.q1
        q2 = self.q2
        q3 = self.q3

        # Rate of change of the quaternion from the gyro: 0.5 * q (x) (0, g).
        dq0 = 0.5 * (-q1 * gx - q2 * gy - q3 * gz)
        dq1 = 0.5 * (q0 * gx + q2 * gz - q3 * gy)
        dq2 = 0.5 * (q0 * gy - q1 * gz + q3 * gx)
        dq3 = 0.5 * (q0 * gz + q1 * gy - q2 * gx)

        norm = math.sqrt(ax * ax + ay * ay + az * az)
        if norm > 0.0:
            ax /= norm
            ay /= norm
            az /= norm
            # Error between gravity predicted by q and the measured direction.
            f1 = 2.0 * (q1 * q3 - q0 * q2) - ax
            f2 = 2.0 * (q0 * q1 + q2 * q3) - ay
            f3 = 1.0 - 2.0 * (q1 * q1 + q2 * q2) - az
            # Gradient J^T f (a common factor of 2 dropped; the step is normalised).
            s0 = q1 * f2 - q2 * f1
            s1 = q3 * f1 + q0 * f2 - 2.0 * q1 * f3
            s2 = q3 * f2 - q0 * f1 - 2.0 * q2 * f3
            s3 = q1 * f1 + q2 * f2
            norm = math.sqrt(s0 * s0 + s1 * s1 + s2 * s2 + s3 * s3)
            if norm > 0.0:
                b = self.beta / norm
                dq0 -= b * s0
                dq1 -= b * s1
                dq2 -= b * s2
                dq3 -= b * s3

        dt = self.dt
        q0 += dq0 * dt
        q1 += dq1 * dt
        q2 += dq2 * dt
        q3 += dq3 * dt
        norm = math.sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
        self.q0 = q0 / norm
        self.q1 = q1 / norm
        self.q2 = q2 / norm
        self.q3 = q3 / norm

    def update_raw(self, ax, ay, az, gx, gy, gz):
        """Same update from canonical belt units (mg, 1/16 deg/s), pipeline argument order."""
        k = _GYRO_TO_RADS
        self.update(gx * k, gy * k, gz * k, ax, ay, az)

    def gravity(self):
        """Unit 'up' vector in the sensor frame (what the accelerometer reads at rest)."""
        q0 = self.q0
        q1 = self.q1
        q2 = self.q2
        q3 = self.q3
        return (2.0 * (q1 * q3 - q0 * q2), 2.0 * (q0 * q1 + q2 * q3),
                1.0 - 2.0 * (q1 * q1 + q2 * q2))


class Complementary:
    """Tilt and obliquity in degrees for the belt's default mount (+x right, +y up).

    Obliquity turns about the sensor z axis (gyro z), tilt about the sensor x axis
    (gyro -x); `alpha` is the weight kept from the gyro-propagated angle each sample.
    """

    def __init__(self, rate_hz, tau_s=1.0):
        self.dt = 1.0 / rate_hz
        self.alpha = tau_s / (tau_s + self.dt)
        self.tilt = 0.0
        self.obl = 0.0

    def update(self, ax, ay, az, gx, gy, gz):
        """Canonical belt units in (mg, 1/16 deg/s), pipeline argument order."""
        dt = self.dt
        a = self.alpha
        acc_obl = math.atan2(ax, ay) * _RAD_TO_DEG
        acc_tilt = math.atan2(az, math.sqrt(ax * ax + ay * ay)) * _RAD_TO_DEG
        self.obl = a * (self.obl + gz * _GYRO_TO_DPS * dt) + (1.0 - a) * acc_obl
        self.tilt = a * (self.tilt - gx * _GYRO_TO_DPS * dt) + (1.0 - a) * acc_tilt
