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
        self._recapturing = False
        self.position = 0
        self.index = -1
        self.tilt_cdeg = 0
        self.obl_cdeg = 0
        self.on_cue = None  # callable(side) driving the motor, set by the board
        self.mount_ok = True

    def recalibrate(self, position=0, with_bias=False):
        """Start a new neutral capture (re-zero between positions); angles keep flowing."""
        self.calib.reset()
        self.position = position
        self._capture_bias = with_bias or self.state == STATE_CALIBRATING
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
        self.mount_ok = self.align.capture(m[0], m[1], m[2])
        self.state = STATE_RUNNING
        self._capture_bias = False
        self._recapturing = False
        enc = self.encoder
        if enc is not None:
            f = self.filter
            enc.calibration((f.bias_x, f.bias_y, f.bias_z), (self.align.ux, self.align.uy,
                            self.align.uz), self.align.mount_error_cdeg, self.position)
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
        self.index += n
        index = self.index
        ev = 0
        if self.state == STATE_CALIBRATING or self._recapturing:
            r = self.calib.add(ax, ay, az, gx, gy, gz)
            if r == _calib.DONE:
                self._finish_calibration()
                ev = EV_CALIBRATED
            elif r == _calib.MOVING:
                ev = EV_MOVING
        if self.state == STATE_RUNNING:
            f = self.filter
            f.update(ax, ay, az, gx, gy, gz, n)
            a = self.align
            a.angles(f.x, f.y, f.z)
            self.tilt_cdeg = a.tilt_cdeg
            self.obl_cdeg = a.obl_cdeg
            d = self.detector
            dev = d.update(index, a.obl_cdeg)
            if dev:
                if dev == _det.EV_CUE and self.on_cue is not None:
                    self.on_cue(d.side)
                ev = dev
        enc = self.encoder
        if enc is not None:
            enc.add_sample(index, ax, ay, az, gx, gy, gz, self.tilt_cdeg, self.obl_cdeg)
            if ev:  # almost every sample has no event: one test on the common path
                self._send_event(enc, ev, index)
        return ev
