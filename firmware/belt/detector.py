"""Hip-drop (Trendelenburg) detector on obliquity, in sample-index time.

A drop is the pelvis falling on the unsupported side: standing on the left leg the
right side drops (obliquity negative); standing on the right leg the left side drops
(obliquity positive). With stance EITHER, an excursion to either side counts; with
stance OFF nothing does.

Settings are kept per stance side, because athletes are often weaker on one leg: the
left-stance settings judge drops of the right side (obliquity negative), the
right-stance settings drops of the left side. With stance EITHER each direction uses its
own side's settings.

States: IDLE -> PENDING (beyond threshold, waiting out the dwell so a foot touch-down
or a noise spike does not buzz) -> ACTIVE (cue given) -> back inside threshold minus
release -> IDLE, then an optional lockout. While blanked (the motor is running and
shakes the IMU) no new drop can start.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

SIDE_EITHER = const(0)
SIDE_LEFT = const(1)
SIDE_RIGHT = const(2)
SIDE_OFF = const(3)  # stance code 3: detection off

EV_NONE = const(0)
EV_CUE = const(1)
EV_END = const(2)

_IDLE = const(0)
_PENDING = const(1)
_ACTIVE = const(2)

# Limits of what the belt accepts; config writes outside are refused, never clamped.
THRESHOLD_MIN_CDEG = const(100)
THRESHOLD_MAX_CDEG = const(3000)
DWELL_MAX_MS = const(2000)
LOCKOUT_MAX_MS = const(10000)

# Factory settings (both sides): 5.00 deg, 150 ms dwell, 1.00 deg release, no lockout.
DEFAULT_THRESHOLD_CDEG = const(500)
DEFAULT_DWELL_MS = const(150)
DEFAULT_RELEASE_CDEG = const(100)
DEFAULT_LOCKOUT_MS = const(0)

# Index of each field in a side's settings list (`HipDropDetector.cfg[side]`).
CFG_THRESHOLD = const(0)
CFG_DWELL = const(1)
CFG_RELEASE = const(2)
CFG_LOCKOUT = const(3)


def check_config(threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms):
    """Return None when valid, else a short reason (used for refusals with a status code).

    The single source of the limits: the belt, the settings file and the host's tools
    all ask this function.
    """
    if not THRESHOLD_MIN_CDEG <= threshold_cdeg <= THRESHOLD_MAX_CDEG:
        return "threshold out of range"
    if not 0 <= dwell_ms <= DWELL_MAX_MS:
        return "dwell out of range"
    if not 0 <= release_cdeg < threshold_cdeg:
        return "release must be below threshold"
    reason = check_stance(stance)
    if reason is not None:
        return reason
    if not 0 <= lockout_ms <= LOCKOUT_MAX_MS:
        return "lockout out of range"
    return None


def check_stance(stance):
    """None for a valid stance code (0 either, 1 left, 2 right, 3 off), else the reason."""
    if stance not in (SIDE_EITHER, SIDE_LEFT, SIDE_RIGHT, SIDE_OFF):
        return "stance must be 0 either, 1 left, 2 right or 3 off"
    return None


class HipDropDetector:
    """Feed (index, obliquity) per sample; read the attributes when an event is returned.

    `cfg[0]` holds the left-stance settings and `cfg[1]` the right-stance ones, each
    `[threshold_cdeg, dwell_ms, release_cdeg, lockout_ms]`. `threshold_cdeg`,
    `release_cdeg`, `dwell_samples` and `lockout_samples` are the settings of the
    current stance (the left-stance ones for EITHER and OFF) for status reports; during a
    drop the settings of the side that dropped apply.
    """

    def __init__(self, rate_hz):
        self.rate_hz = rate_hz
        self.cfg = [
            [DEFAULT_THRESHOLD_CDEG, DEFAULT_DWELL_MS, DEFAULT_RELEASE_CDEG, DEFAULT_LOCKOUT_MS],
            [DEFAULT_THRESHOLD_CDEG, DEFAULT_DWELL_MS, DEFAULT_RELEASE_CDEG, DEFAULT_LOCKOUT_MS],
        ]
        self.stance = SIDE_EITHER
        self.state = _IDLE
        self.side = SIDE_EITHER  # side of the pelvis that is lower during the drop
        self.onset_index = 0
        self.cue_index = 0
        self.end_index = 0
        self.peak_cdeg = 0
        self.threshold_cdeg = 0
        self.release_cdeg = 0
        self.dwell_samples = 0
        self.lockout_samples = 0
        self._sign = 0
        self._quiet_until = 0
        # Working copies in samples: [threshold, dwell, release, lockout] per side.
        self._left = [0, 0, 0, 0]
        self._right = [0, 0, 0, 0]
        # Settings of the drop in progress.
        self._thr = 0
        self._dwell = 0
        self._rel = 0
        self._lock = 0
        self._apply()

    def _samples(self, ms):
        # Round up: a dwell never ends before the requested time has passed.
        return (ms * self.rate_hz + 999) // 1000

    def _apply(self):
        for c, w in ((self.cfg[0], self._left), (self.cfg[1], self._right)):
            w[0] = c[CFG_THRESHOLD]
            w[1] = self._samples(c[CFG_DWELL])
            w[2] = c[CFG_RELEASE]
            w[3] = self._samples(c[CFG_LOCKOUT])
        shown = self._right if self.stance == SIDE_RIGHT else self._left
        self.threshold_cdeg = shown[0]
        self.dwell_samples = shown[1]
        self.release_cdeg = shown[2]
        self.lockout_samples = shown[3]
        self.state = _IDLE

    def set_rate(self, rate_hz):
        """New sample rate (the chip's true rate); the settings in ms are kept."""
        self.rate_hz = rate_hz
        self._apply()

    def configure(self, threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms):
        """Settings for the side named by `stance` (1 left, 2 right; 0 and 3 set both
        sides), then that stance becomes the current one. Raises ValueError (and changes
        nothing) when `check_config` refuses the values.
        """
        reason = check_config(threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms)
        if reason is not None:
            raise ValueError(reason)
        for side in (SIDE_LEFT, SIDE_RIGHT):
            if stance == side or stance in (SIDE_EITHER, SIDE_OFF):
                c = self.cfg[side - 1]
                c[CFG_THRESHOLD] = threshold_cdeg
                c[CFG_DWELL] = dwell_ms
                c[CFG_RELEASE] = release_cdeg
                c[CFG_LOCKOUT] = lockout_ms
        self.stance = stance
        self._apply()

    def set_stance(self, stance):
        """Switch the stance (0 either, 1 left, 2 right, 3 off) keeping each side's
        settings. Raises ValueError for another code; a drop in progress is dropped."""
        reason = check_stance(stance)
        if reason is not None:
            raise ValueError(reason)
        self.stance = stance
        self._apply()

    def side_config(self, stance):
        """`[threshold_cdeg, dwell_ms, release_cdeg, lockout_ms]` used for that stance
        (the left-stance list for EITHER and OFF). The list is the live one: read it."""
        return self.cfg[1] if stance == SIDE_RIGHT else self.cfg[0]

    def blank(self, until_index):
        """No new drop starts before `until_index` (motor running, settling)."""
        if until_index > self._quiet_until:
            self._quiet_until = until_index
        if self.state == _PENDING:
            self.state = _IDLE

    def update(self, index, obl_cdeg):
        state = self.state
        if state == _IDLE:
            if index < self._quiet_until:
                return EV_NONE
            stance = self.stance
            # Right side low (negative) is watched standing on the left or either leg,
            # left side low standing on the right or either: stance bit 1 / bit 0 clear.
            w = self._left
            if obl_cdeg <= -w[0] and not stance & 2:
                self._sign = -1
                self.side = SIDE_RIGHT
            else:
                w = self._right
                if obl_cdeg >= w[0] and not stance & 1:
                    self._sign = 1
                    self.side = SIDE_LEFT
                else:
                    return EV_NONE
            self._thr = w[0]
            self._dwell = w[1]
            self._rel = w[2]
            self._lock = w[3]
            self.onset_index = index
            self.peak_cdeg = obl_cdeg * self._sign
            self.state = _PENDING
            state = _PENDING
        depth = obl_cdeg * self._sign
        if depth > self.peak_cdeg:
            self.peak_cdeg = depth
        if depth < self._thr - self._rel:
            if state == _ACTIVE:
                self.end_index = index
                self.state = _IDLE
                q = index + self._lock
                if q > self._quiet_until:
                    self._quiet_until = q
                return EV_END
            self.state = _IDLE  # shorter than the dwell: a touch-down, not a drop
            return EV_NONE
        if state == _PENDING and index - self.onset_index >= self._dwell:
            self.cue_index = index
            self.state = _ACTIVE
            return EV_CUE
        return EV_NONE
