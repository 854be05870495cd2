"""Still-window calibration: gyro bias and the neutral gravity direction.

Collects a window of samples while checking the wearer is still (peak-to-peak limits
per axis). A window with movement is refused rather than averaged into a wrong bias
or a tilted neutral.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

COLLECTING = const(0)
DONE = const(1)
MOVING = const(2)

GYRO_TOL_16DPS = const(64)  # 4 deg/s peak-to-peak per axis
ACCEL_TOL_MG = const(60)


class StillCalibrator:
    def __init__(self, samples, gyro_tol=GYRO_TOL_16DPS, accel_tol=ACCEL_TOL_MG):
        if samples < 1:
            raise ValueError("calibration window must hold at least one sample")
        self.samples = samples
        self.gyro_tol = gyro_tol
        self.accel_tol = accel_tol
        self.reset()

    def reset(self):
        self.count = 0
        self.sax = self.say = self.saz = 0
        self.sgx = self.sgy = self.sgz = 0
        self.lo = [32767] * 6
        self.hi = [-32768] * 6
        self.moving_axis = -1

    def _span(self, i, v):
        lo = self.lo
        hi = self.hi
        if v < lo[i]:
            lo[i] = v
        if v > hi[i]:
            hi[i] = v
        return hi[i] - lo[i]

    def add(self, ax, ay, az, gx, gy, gz):
        """Add one sample; returns COLLECTING, DONE or MOVING (window then restarts)."""
        at = self.accel_tol
        gt = self.gyro_tol
        if (self._span(0, ax) > at or self._span(1, ay) > at or self._span(2, az) > at
                or self._span(3, gx) > gt or self._span(4, gy) > gt or self._span(5, gz) > gt):
            for i in range(6):
                if self.hi[i] - self.lo[i] > (at if i < 3 else gt):
                    self.moving_axis = i
                    break
            axis = self.moving_axis
            self.reset()
            self.moving_axis = axis
            return MOVING
        self.sax += ax
        self.say += ay
        self.saz += az
        self.sgx += gx
        self.sgy += gy
        self.sgz += gz
        self.count += 1
        return DONE if self.count >= self.samples else COLLECTING

    def bias_256(self):
        """Mean gyro in 1/256 deg/s (16x the wire unit, so the rounding stays small)."""
        n = self.count
        h = n // 2
        return ((self.sgx * 16 + h) // n, (self.sgy * 16 + h) // n, (self.sgz * 16 + h) // n)

    def mean_accel(self):
        n = self.count
        h = n // 2
        return ((self.sax + h) // n, (self.say + h) // n, (self.saz + h) // n)
