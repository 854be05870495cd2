"""Hip-drop (Trendelenburg) detector on obliquity, in sample-index time.

A drop is the pelvis falling on the unsupported side: standing on the left leg the
right side drops (obliquity negative); standing on the right leg the left side drops
(obliquity positive). With stance EITHER, an excursion to either side counts.

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


def check_config(threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms):
    """Return None when valid, else a short reason (used for refusals with a status code)."""
    if not THRESHOLD_MIN_CDEG <= threshold_cdeg <= THRESHOLD_MAX_CDEG:
        return "threshold out of range"
    if not 0 <= dwell_ms <= DWELL_MAX_MS:
        return "dwell out of range"
    if not 0 <= release_cdeg < threshold_cdeg:
        return "release must be below threshold"
    if stance not in (SIDE_EITHER, SIDE_LEFT, SIDE_RIGHT):
        return "stance must be either, left or right"
    if not 0 <= lockout_ms <= LOCKOUT_MAX_MS:
        return "lockout out of range"
    return None


class HipDropDetector:
    """Feed (index, obliquity) per sample; read the attributes when an event is returned."""

    def __init__(self, rate_hz):
        self.rate_hz = rate_hz
        self.threshold_cdeg = 500
        self.release_cdeg = 100
        self.dwell_samples = 0
        self.lockout_samples = 0
        self.stance = SIDE_EITHER
        self.state = _IDLE
        self.side = SIDE_EITHER  # side of the pelvis that is lower during the drop
        self.onset_index = 0
        self.cue_index = 0
        self.end_index = 0
        self.peak_cdeg = 0
        self._sign = 0
        self._quiet_until = 0
        self.configure(500, 150, 100, SIDE_EITHER, 0)

    def _samples(self, ms):
        # Round up: a dwell never ends before the requested time has passed.
        return (ms * self.rate_hz + 999) // 1000

    def configure(self, threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms):
        reason = check_config(threshold_cdeg, dwell_ms, release_cdeg, stance, lockout_ms)
        if reason is not None:
            raise ValueError(reason)
        self.threshold_cdeg = threshold_cdeg
        self.release_cdeg = release_cdeg
        self.dwell_samples = self._samples(dwell_ms)
        self.lockout_samples = self._samples(lockout_ms)
        self.stance = stance
        self.state = _IDLE

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
            thr = self.threshold_cdeg
            if obl_cdeg <= -thr and stance != SIDE_RIGHT:
                self._sign = -1
                self.side = SIDE_RIGHT
            elif obl_cdeg >= thr and stance != SIDE_LEFT:
                self._sign = 1
                self.side = SIDE_LEFT
            else:
                return EV_NONE
            self.onset_index = index
            self.peak_cdeg = obl_cdeg * self._sign
            self.state = _PENDING
            state = _PENDING
        depth = obl_cdeg * self._sign
        if depth > self.peak_cdeg:
            self.peak_cdeg = depth
        if depth < self.threshold_cdeg - self.release_cdeg:
            if state == _ACTIVE:
                self.end_index = index
                self.state = _IDLE
                q = index + self.lockout_samples
                if q > self._quiet_until:
                    self._quiet_until = q
                return EV_END
            self.state = _IDLE  # shorter than the dwell: a touch-down, not a drop
            return EV_NONE
        if state == _PENDING and index - self.onset_index >= self.dwell_samples:
            self.cue_index = index
            self.state = _ACTIVE
            return EV_CUE
        return EV_NONE
