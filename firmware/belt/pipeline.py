"""Everything the belt does with one IMU sample, as pure code.

calibrate (still start) -> fusion -> neutral/mount alignment -> hip-drop detector ->
frames. The same object runs on the ESP32 (fed from the IMU FIFO), in the simulated
belt and in `levelbelt analyze`, so offline results equal what the belt would do.
Time is the device sample index, never a wall clock.
"""

from belt import calib as _calib
from belt import detector as _det
from belt import protocol as _p
from belt.align import MOUNT_DEFAULT, Alignment
from belt.fusion import TiltFilter

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

STATE_CALIBRATING = const(0)
STATE_RUNNING = const(1)

POSITIONS = const(3)  # 0 standing, 1 seated, 2 prone: each has its own neutral
BIAS_REFRESH_S = const(300)  # after a restore, re-measure the bias in the first 5 min

EV_CALIBRATED = const(10)
EV_MOVING = const(11)


class Pipeline:
    """Feed `push` once per sample; angles are in `tilt_cdeg` / `obl_cdeg` afterwards."""

    def __init__(self, rate_hz, encoder=None, mount=MOUNT_DEFAULT, calib_s=1.0, tau_s=1.0):
        self.rate_hz = rate_hz
        self.encoder = encoder
        self.filter = TiltFilter(rate_hz, tau_s)
        self.align = Alignment(mount)
        self.detector = _det.HipDropDetector(rate_hz)
        self.calib = _calib.StillCalibrator(max(1, int(calib_s * rate_hz)))
        self.state = STATE_CALIBRATING
        self._capture_bias = True
        self._capture_neutral = True
        self._recapturing = False
        self.position = 0
        self.index = -1
        self.tilt_cdeg = 0
        self.obl_cdeg = 0
        self.on_cue = None  # callable(side) driving the motor, set by the board
        self.mount_ok = True
        self._tau_s = tau_s
        self._calib_s = calib_s
        # The neutral up vector (Q14, sensor frame) captured for each position, so the
        # board can keep them across power cycles; `calibrations` counts completed
        # captures (bias or neutral) for it to notice.
        self.neutral = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
        self.neutral_ok = [False, False, False]
        self.calibrations = 0
        self._seed = False  # restored: seed the filter from the first sample
        self._refresh = False  # restored: bias re-measured quietly at the first still second
        self._refresh_until = 0

    def set_rate(self, rate_hz):
        """Run at the IMU's true rate (an LSM6DSOX gives 104 or 208 Hz); call before the
        first sample. Gyro bias and detector settings (in ms) are kept."""
        if rate_hz == self.rate_hz:
            return
        old = self.filter
        self.rate_hz = rate_hz
        self.filter = TiltFilter(rate_hz, self._tau_s)
        self.filter.set_bias(old.bias_x, old.bias_y, old.bias_z)
        self.detector.set_rate(rate_hz)
        self.calib = _calib.StillCalibrator(max(1, int(self._calib_s * rate_hz)))

    def restore(self, bias, neutral, neutral_ok, position):
        """Start from a stored calibration instead of the still window at start-up.

        The gyro bias and each position's neutral come back; with a neutral for
        `position` the pipeline runs from the first sample (the filter seeded from it)
        and announces the restored calibration (CALIBRATION frame, CALIBRATED event).
        The bias drifts between power cycles, so it is re-measured in the background at
        the first still second within BIAS_REFRESH_S (no events while the wearer moves);
        the neutral is kept, since the wearer may be in any posture by then.
        """
        self.filter.set_bias(bias[0], bias[1], bias[2])
        for p in range(POSITIONS):
            self.neutral_ok[p] = bool(neutral_ok[p])
            for i in range(3):
                self.neutral[p][i] = neutral[p][i]
        self.position = position
        if not self.neutral_ok[position] or self.state != STATE_CALIBRATING:
            return False
        u = self.neutral[position]
        self.mount_ok = self.align.capture(u[0], u[1], u[2])
        self.recalibrate(position, True, False)  # from CALIBRATING: bias and neutral
        self.state = STATE_RUNNING
        self._capture_neutral = False
        self._recapturing = True
        self._seed = True
        self._refresh = True
        return True

    def set_mount(self, mount):
        """A new mount (SET_MOUNT): each captured neutral belonged to the old way the clip
        sat on the body, so all are dropped (the gyro bias stays). Until the next capture
        the angles are measured against the declared mount's axes, and `cal_flags()`
        says a neutral is needed. A capture already running finishes with the new mount.
        """
        self.align.set_mount(mount)
        for p in range(POSITIONS):
            self.neutral_ok[p] = False
        self.mount_ok = True

    def cal_flags(self):
        """CALIBRATION flags: NEUTRAL_NEEDED while the current position has no neutral."""
        p = self.position
        return 0 if 0 <= p < POSITIONS and self.neutral_ok[p] else _p.CAL_NEUTRAL_NEEDED

    def send_calibration(self, enc):
        """A CALIBRATION frame on `enc`: gyro bias, neutral up vector, mount error,
        position and flags as they are now."""
        f = self.filter
        a = self.align
        enc.calibration((f.bias_x, f.bias_y, f.bias_z), (a.ux, a.uy, a.uz),
                        a.mount_error_cdeg, self.position, self.cal_flags())

    def recalibrate(self, position=0, with_bias=False, neutral=True):
        """Start a new neutral capture (re-zero between positions); angles keep flowing.

        `with_bias=True, neutral=False` takes only the gyro bias (the CALIBRATE_GYRO
        command): the neutral and the position stay as they were.
        """
        self.calib.reset()
        self._refresh = False  # a commanded capture replaces the quiet bias refresh
        if neutral:
            self.position = position
        self._capture_bias = with_bias or self.state == STATE_CALIBRATING
        self._capture_neutral = neutral or self.state == STATE_CALIBRATING
        if self.state == STATE_CALIBRATING:
            return
        self._recapturing = True

    def _finish_calibration(self):
        c = self.calib
        if self._capture_bias:
            b = c.bias_256()
            self.filter.set_bias(b[0], b[1], b[2])
        m = c.mean_accel()
        if self.state == STATE_CALIBRATING:
            self.filter.reset(m[0], m[1], m[2])
        # False when the declared mount's right axis is near vertical: angles would be
        # meaningless, so the board and the tools report it instead of streaming garbage.
        if self._capture_neutral:
            self.mount_ok = self.align.capture(m[0], m[1], m[2])
            if self.mount_ok and 0 <= self.position < POSITIONS:
                a = self.align
                u = self.neutral[self.position]
                u[0] = a.ux
                u[1] = a.uy
                u[2] = a.uz
                self.neutral_ok[self.position] = True
        self.calibrations += 1
        quiet = self._refresh
        self._refresh = False
        self.state = STATE_RUNNING
        self._capture_bias = False
        self._capture_neutral = True
        self._recapturing = False
        enc = self.encoder
        if enc is not None:
            self.send_calibration(enc)
            if not quiet:
                enc.event(_p.EV_CALIBRATED, self.position, self.index, self.index, 0)
        return not quiet

    def _restored(self, ax, ay, az):
        """First sample after `restore`: seed the filter and announce the calibration."""
        self._seed = False
        self.filter.reset(ax, ay, az)
        self._refresh_until = self.index + BIAS_REFRESH_S * self.rate_hz
        enc = self.encoder
        if enc is not None:
            self.send_calibration(enc)
            enc.event(_p.EV_CALIBRATED, self.position, self.index, self.index, 0)

    def _send_event(self, enc, ev, index):
        d = self.detector
        if ev == _det.EV_CUE:
            enc.event(_p.EV_DROP_CUE, d.side, index, d.onset_index, d.peak_cdeg)
        elif ev == _det.EV_END:
            enc.event(_p.EV_DROP_END, d.side, index, d.onset_index, d.peak_cdeg)
        elif ev == EV_MOVING:
            enc.event(_p.EV_MOVING, self.calib.moving_axis & 0xFF, index, index, 0)

    def push(self, ax, ay, az, gx, gy, gz, n=1):
        """Process one sample that arrived `n` sample periods after the previous one."""
        index = self.index + n
        self.index = index
        ev = 0
        state = self.state
        if state == STATE_CALIBRATING or self._recapturing:
            if self._seed:
                self._restored(ax, ay, az)
            r = self.calib.add(ax, ay, az, gx, gy, gz)
            if r == _calib.DONE:
                if self._finish_calibration():
                    ev = EV_CALIBRATED
            elif r == _calib.MOVING and not self._refresh:
                ev = EV_MOVING
            elif self._refresh and index >= self._refresh_until:
                self._refresh = False  # never still in time: keep the stored bias
                self._recapturing = False
            state = self.state
        if state == STATE_RUNNING:
            f = self.filter
            f.update(ax, ay, az, gx, gy, gz, n)
            a = self.align
            a.angles(f.x, f.y, f.z)
            tilt = a.tilt_cdeg
            obl = a.obl_cdeg
            self.tilt_cdeg = tilt
            self.obl_cdeg = obl
            d = self.detector
            dev = d.update(index, obl)
            if dev:
                if dev == _det.EV_CUE and self.on_cue is not None:
                    self.on_cue(d.side)
                ev = dev
        else:
            tilt = self.tilt_cdeg
            obl = self.obl_cdeg
        enc = self.encoder
        if enc is not None:
            enc.add_sample(index, ax, ay, az, gx, gy, gz, tilt, obl)
            if ev:  # almost every sample has no event: one test on the common path
                self._send_event(enc, ev, index)
        return ev
