"""Pelvis motion for the fake IMU chips: a still start, then standing sway with hip drops.

Pure Python (runs on MicroPython too), computed once into int arrays before a test loop
so driving the fake chips from it allocates nothing. The angles follow docs/units.md
with the default mount (sensor +X to the wearer's right, +Y up, +Z backward):
obliquity is right-side-up positive, so a drop of the right side is negative.

    track = Track(rate_hz, seconds, drops, accel_lsb_per_g, gyro_lsb_per_dps)
    track.set(dev, k)   put sample k's counts into a fake chip (before dev.advance(1))

`drops` are (start_s, ramp_s, hold_s, depth_deg, sign); sign -1 lowers the right side.
Sway is 0.8 deg at 0.5 Hz in obliquity and 1.5 deg at 0.25 Hz in tilt, whole cycles over
the track so it can be replayed end to end. Gyro counts are the body rate at each
sample instant; accel counts are 1 g along "up" with a small vertical bounce.
"""

import math
from array import array

MPU6050_SCALE = (8192.0, 65.5)  # LSB per g, LSB per deg/s at +-4 g, +-500 deg/s
LSM6DSOX_SCALE = (1000.0 / 0.122, 1000.0 / 17.5)

_H = 0.0005  # s: half-step for the rate by central difference


def _shape(t, start, ramp, hold):
    """0..1: raised-cosine ramp in, hold, raised-cosine ramp out."""
    t -= start
    if t <= 0.0:
        return 0.0
    if t < ramp:
        return 0.5 - 0.5 * math.cos(math.pi * t / ramp)
    t -= ramp
    if t < hold:
        return 1.0
    t -= hold
    if t < ramp:
        return 0.5 + 0.5 * math.cos(math.pi * t / ramp)
    return 0.0


class Track:
    def __init__(self, rate_hz, seconds, drops, scale, still_s=0.0):
        self.rate_hz = rate_hz
        self.drops = drops
        self.still_s = still_s
        n = int(seconds * rate_hz)
        self.n = n
        self.ax = array("h", [0] * n)
        self.ay = array("h", [0] * n)
        self.az = array("h", [0] * n)
        self.gx = array("h", [0] * n)
        self.gy = array("h", [0] * n)
        self.gz = array("h", [0] * n)
        self.seconds = seconds
        g_lsb, w_lsb = scale
        deg = 180.0 / math.pi
        for k in range(n):
            t = k / rate_hz
            v = self.up(t)
            a = self.up(t - _H)
            b = self.up(t + _H)
            # Body rate w with dv/dt = v x w (the filter's convention), no yaw.
            d0 = (b[0] - a[0]) / (2 * _H)
            d1 = (b[1] - a[1]) / (2 * _H)
            d2 = (b[2] - a[2]) / (2 * _H)
            wx = d1 * v[2] - d2 * v[1]
            wy = d2 * v[0] - d0 * v[2]
            wz = d0 * v[1] - d1 * v[0]
            mag = 1.0
            if t >= still_s:
                mag += 0.03 * math.sin(2.0 * math.pi * 2.0 * t)
            self.ax[k] = round(v[0] * mag * g_lsb)
            self.ay[k] = round(v[1] * mag * g_lsb)
            self.az[k] = round(v[2] * mag * g_lsb)
            self.gx[k] = round(wx * deg * w_lsb)
            self.gy[k] = round(wy * deg * w_lsb)
            self.gz[k] = round(wz * deg * w_lsb)

    def obl_deg(self, t):
        if t < self.still_s:
            return 0.0
        o = 0.8 * math.sin(2.0 * math.pi * 0.5 * (t - self.still_s))
        for d in self.drops:
            o += d[4] * d[3] * _shape(t, d[0], d[1], d[2])
        return o

    def tilt_deg(self, t):
        if t < self.still_s:
            return 0.0
        return 1.5 * math.sin(2.0 * math.pi * 0.25 * (t - self.still_s))

    def up(self, t):
        """Unit up vector in the sensor frame for the pelvis angles at time t."""
        phi = math.radians(self.obl_deg(t))
        th = math.radians(self.tilt_deg(t))
        return (math.cos(th) * math.sin(phi), math.cos(th) * math.cos(phi), math.sin(th))

    def set(self, dev, k):
        """The counts of sample k (wrapping) into a fake chip; allocates nothing."""
        if k >= self.n:
            k %= self.n
        dev.set_raw(self.ax[k], self.ay[k], self.az[k], self.gx[k], self.gy[k], self.gz[k])

    def drop_windows(self):
        """(first index, last index, side) of every drop; side 1 left low, 2 right low."""
        out = []
        r = self.rate_hz
        for d in self.drops:
            out.append((int(d[0] * r), int((d[0] + 2 * d[1] + d[2]) * r) + 1,
                        2 if d[4] < 0 else 1))
        return out
