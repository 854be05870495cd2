"""COMMAND frames: authenticate, validate, apply, answer with an ACK (docs/protocol.md).

The same dispatcher serves USB (frames deframed by usb_in.py) and BLE (control writes
copied out of the IRQ by ble.py); it always runs in the main loop. The answer goes back
on the link the command came from (`link.encoder`); effects that every host should see
(new settings: STATUS; calibration: CALIBRATION and EVENT; a new mount: CALIBRATION)
go out on all links.

Order of checks, each refusal changing nothing:
    too short to hold a tag           BAD_LENGTH
    no key, or the tag does not verify BAD_AUTH
    counter not above the last one    REPLAY (the ACK carries the belt's last counter)
    -- from here the counter is used up: the same frame is never processed twice --
    unknown command ID                UNKNOWN_COMMAND
    args of the wrong length          BAD_LENGTH
    an argument out of its limits     OUT_OF_RANGE
    calibration while moving          MOVING (peak-to-peak of the last 0.5 s in the ring)
    not possible now                  UNAVAILABLE (no IMU, still calibrating, resend busy,
                                      a new mount the settings file cannot keep)
Frames of another version or type are not answered.

`belt` (links.Links on the device) provides: `pipeline`, `ring`, `rate_hz`, `ready()`,
`play(pattern)`, `send_status(encoder)`, `settings_changed()`, `set_mount(text)` (False
when it cannot be kept), `mount_changed()`, `say(text)`.
"""

from belt import align as _align
from belt import detector as _det
from belt import haptics as _hap
from belt import protocol as _p
from belt.pipeline import POSITIONS

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

CMD_HEAD_LEN = const(9)  # header 4 + command 1 + counter 4
FRAME_MIN = const(25)  # CMD_HEAD_LEN + the 16-byte tag: a command without args
STILL_WINDOW_MS = const(500)

# Fixed length of each command's args (bytes).
ARGS_LEN = {
    _p.CMD_CAPTURE_NEUTRAL: 1,
    _p.CMD_SET_DETECTOR: 9,
    _p.CMD_SET_STANCE: 1,
    _p.CMD_CUE: 1,
    _p.CMD_RESEND: 6,
    _p.CMD_CALIBRATE_GYRO: 0,
    _p.CMD_GET_STATUS: 0,
    _p.CMD_SET_MOUNT: 2,
}

_AFTER_NONE = const(0)
_AFTER_STATUS = const(1)  # STATUS on the asking link
_AFTER_SETTINGS = const(2)  # settings changed: persist, STATUS everywhere
_AFTER_RESEND = const(3)  # EVENT RESEND on the asking link
_AFTER_MOUNT = const(4)  # new mount: CALIBRATION everywhere (the neutral to capture)


class Commands:
    def __init__(self, belt, auth):
        self.belt = belt
        self.auth = auth
        self.answered = 0
        self.ignored = 0
        self.refused = 0
        self._after = _AFTER_NONE
        self._resend_first = 0
        self._resend_count = 0
        self._told = False  # the missing key is said on the console at the first refusal

    def _tell_no_key(self):
        self.belt.say(self.auth.reason + "; every command is refused (BAD_AUTH)")

    def handle(self, buf, n, link):
        """One received frame `buf[:n]` from `link`; returns the ACK status sent, or -1."""
        if n < _p.HEADER_LEN or buf[0] != _p.VERSION or buf[1] != _p.FT_COMMAND:
            self.ignored += 1
            return -1
        cmd = buf[4] if n > 4 else 0
        counter = _p.get_u32(buf, 5) if n >= CMD_HEAD_LEN else 0
        self._after = _AFTER_NONE
        if n < FRAME_MIN:
            st = _p.ST_BAD_LENGTH
        else:
            st = self.auth.check(buf, n)
            if st == _p.ST_REPLAY:
                counter = self.auth.counter.last
            elif st == _p.ST_BAD_AUTH and self.auth.mac is None and not self._told:
                self._told = True
                self._tell_no_key()
            if st == _p.ST_OK:
                want = ARGS_LEN.get(cmd)
                if want is None:
                    st = _p.ST_UNKNOWN_COMMAND
                elif n != FRAME_MIN + want:
                    st = _p.ST_BAD_LENGTH
                else:
                    st = self._run(cmd, buf, link)
        link.encoder.ack(cmd, counter, st)
        self.answered += 1
        if st != _p.ST_OK:
            self.refused += 1
            return st
        after = self._after
        if after == _AFTER_STATUS:
            self.belt.send_status(link.encoder)
        elif after == _AFTER_SETTINGS:
            self.belt.settings_changed()
        elif after == _AFTER_MOUNT:
            self.belt.mount_changed()
        elif after == _AFTER_RESEND:
            first = self._resend_first
            avail = self._resend_count
            start = link.reader.resend_next if avail else first
            link.encoder.event(_p.EV_RESEND, 0, first, start, avail)
        return st

    def _run(self, cmd, buf, link):
        b = self.belt
        a = CMD_HEAD_LEN
        if cmd == _p.CMD_GET_STATUS:
            self._after = _AFTER_STATUS
            return _p.ST_OK
        if cmd == _p.CMD_SET_DETECTOR:
            d = b.pipeline.detector
            thr = _p.get_u16(buf, a)
            dwell = _p.get_u16(buf, a + 2)
            rel = _p.get_u16(buf, a + 4)
            stance = buf[a + 6]
            lockout = _p.get_u16(buf, a + 7)
            if _det.check_config(thr, dwell, rel, stance, lockout) is not None:
                return _p.ST_OUT_OF_RANGE
            d.configure(thr, dwell, rel, stance, lockout)
            self._after = _AFTER_SETTINGS
            return _p.ST_OK
        if cmd == _p.CMD_SET_STANCE:
            d = b.pipeline.detector
            if _det.check_stance(buf[a]) is not None:
                return _p.ST_OUT_OF_RANGE
            d.set_stance(buf[a])
            self._after = _AFTER_SETTINGS
            return _p.ST_OK
        if cmd == _p.CMD_SET_MOUNT:
            mount = _align.mount_from_codes(buf[a], buf[a + 1])
            if mount is None:
                return _p.ST_OUT_OF_RANGE
            if not b.set_mount(mount):
                return _p.ST_UNAVAILABLE  # the settings file refused it: nothing changed
            self._after = _AFTER_MOUNT
            return _p.ST_OK
        if cmd == _p.CMD_CUE:
            pattern = buf[a]
            if _hap.check_pattern(pattern) is not None:
                return _p.ST_OUT_OF_RANGE
            return _p.ST_OK if b.play(pattern) else _p.ST_UNAVAILABLE
        if cmd == _p.CMD_RESEND:
            first = _p.get_u32(buf, a)
            count = _p.get_u16(buf, a + 4)
            if count == 0:
                return _p.ST_OUT_OF_RANGE
            avail = link.start_resend(first, count)
            if avail < 0:
                return _p.ST_UNAVAILABLE
            self._resend_first = first
            self._resend_count = avail
            self._after = _AFTER_RESEND
            return _p.ST_OK
        # CAPTURE_NEUTRAL or CALIBRATE_GYRO
        position = buf[a] if cmd == _p.CMD_CAPTURE_NEUTRAL else b.pipeline.position
        if position >= POSITIONS:
            return _p.ST_OUT_OF_RANGE
        if not b.ready():
            return _p.ST_UNAVAILABLE
        if self.moving():
            return _p.ST_MOVING
        if cmd == _p.CMD_CALIBRATE_GYRO:
            b.pipeline.recalibrate(position, True, False)  # bias only; neutral stays
        else:
            b.pipeline.recalibrate(position)
        return _p.ST_OK

    def moving(self):
        """True when the last STILL_WINDOW_MS of samples move more than the calibrator
        would accept (the same peak-to-peak limits), or there are not enough of them."""
        b = self.belt
        ring = b.ring
        n = b.rate_hz * STILL_WINDOW_MS // 1000
        first = ring.newest - n + 1
        if first < 0 or ring.available(first, n) < n:
            return True
        spans = ring.spans(first, ring.newest + 1)
        c = b.pipeline.calib
        for i in range(6):
            if spans[i] > (c.accel_tol if i < 3 else c.gyro_tol):
                return True
        return False

