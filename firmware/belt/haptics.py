"""Vibration cues for one or two motors: a pattern table, priorities and hard caps.

    h = Haptics(motors, clock, timer=None)   motors: 1 or 2 outputs with .value(0/1)
    check_pattern(pid)   None if pid is a pattern ID, else the reason (CUE command: refuse)
    h.play(pid)          True if it started; False if refused (busy with an equal or
                         higher priority, cooling down, inhibited)
    h.cue(side)          the pipeline's drop hook: side 1 left low, 2 right low, else unknown
    h.service(now_ms)    every loop pass: steps patterns and enforces the caps
    h.active             True while a pattern plays (the app blanks the detector then)
    h.inhibit(flag)      critical battery: everything off and refused until cleared
    h.stop()             all motors off now (loop exit)

Pattern IDs (shared with the CUE command): 1 DROP_LEFT, 2 DROP_RIGHT, 3 DROP, 4 GET_READY,
5 HOLD_START, 6 HOLD_END, 7 SESSION_DONE, 8 LOW_BATTERY, 9 NO_IMU, 10 FAULT. With two
motors (index 0 on the left hip, 1 on the right) a drop buzzes the side that dropped;
with one motor the rhythm tells the side: left = one long, right = two short.

Priorities: drops 3, session and fault cues 2, low battery 1. A request of higher priority
interrupts what plays (a drop cue cuts a low-battery reminder short); anything else is
refused, never queued, so patterns cannot stack up. Each pattern ends with a short quiet
tail that still counts as playing, so two cues never run into one another.

Hard caps, whatever is asked, enforced here and tested by hammering: no single on-time
longer than MAX_ON_MS; at most DUTY_BUDGET_MS of on-time in any WINDOW_MS (40 % of 10 s,
counted in 1 s buckets over the last 10 to 11 s, so every 10 s window is covered); when
a pattern would exceed the budget it is refused, a running pulse is cut, and nothing
plays for COOLDOWN_MS. With a `timer` (machine.Timer), every pulse also arms a one-shot
that switches the motors off a little after MAX_ON_MS even if the loop stalls.

`play`, `cue` and `service` allocate nothing (the pattern table is built at import).
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

PAT_DROP_LEFT = const(1)
PAT_DROP_RIGHT = const(2)
PAT_DROP = const(3)
PAT_GET_READY = const(4)
PAT_HOLD_START = const(5)
PAT_HOLD_END = const(6)
PAT_SESSION_DONE = const(7)
PAT_LOW_BATTERY = const(8)
PAT_NO_IMU = const(9)
PAT_FAULT = const(10)
PAT_COUNT = const(10)

MAX_ON_MS = const(500)
WINDOW_MS = const(10000)
DUTY_BUDGET_MS = const(4000)  # 40 % of the window
COOLDOWN_MS = const(5000)
TAIL_MS = const(100)  # quiet time after each pattern, still "playing"
BACKSTOP_MS = const(520)  # the one-shot timer's limit (MAX_ON_MS plus a loop pass or so)

_BUCKET_MS = const(1000)
_BUCKETS = const(11)

_L = const(1)  # motor masks: left (or the only motor), right, both
_R = const(2)
_LR = const(3)

# Steps per pattern: (motor mask, on ms, off ms after). Index = pattern ID.
_TWO = (
    None,
    ((_L, 250, 0),),  # DROP_LEFT: the left motor
    ((_R, 250, 0),),  # DROP_RIGHT: the right motor
    ((_LR, 250, 0),),  # DROP: both
    ((_LR, 80, 170), (_LR, 80, 170), (_LR, 80, 0)),  # GET_READY: three ticks
    ((_LR, 100, 150), (_LR, 400, 0)),  # HOLD_START: short, long
    ((_LR, 400, 150), (_LR, 100, 0)),  # HOLD_END (rest begins): long, short
    ((_LR, 150, 100), (_LR, 150, 100), (_LR, 450, 0)),  # SESSION_DONE: short, short, long
    ((_LR, 40, 160), (_LR, 40, 0)),  # LOW_BATTERY: two faint ticks
    ((_LR, 300, 200), (_LR, 300, 0)),  # NO_IMU: long, long
    ((_LR, 60, 90), (_LR, 60, 90), (_LR, 60, 90), (_LR, 60, 90), (_LR, 60, 0)),  # FAULT
)
# One motor: the drops say their side by rhythm; the rest is the same as with two.
_ONE = (
    None,
    ((_L, 350, 0),),  # DROP_LEFT: one long
    ((_L, 100, 100), (_L, 100, 0)),  # DROP_RIGHT: two short
    ((_L, 200, 0),),  # DROP: one medium
) + _TWO[4:]

_PRIORITY = (0, 3, 3, 3, 2, 2, 2, 2, 1, 2, 2)


def check_pattern(pid):
    """None when `pid` is a pattern ID, else a short reason (for OUT_OF_RANGE)."""
    if not 1 <= pid <= PAT_COUNT:
        return "pattern must be 1..%d" % PAT_COUNT
    return None


def drop_pattern(side):
    """The pattern for a drop whose lower side is `side` (detector side code)."""
    if side == 1:
        return PAT_DROP_LEFT
    if side == 2:
        return PAT_DROP_RIGHT
    return PAT_DROP


class Haptics:
    """Plays patterns on 1 or 2 motors under the caps in the module docstring."""

    def __init__(self, motors, clock, timer=None):
        if not 1 <= len(motors) <= 2:
            raise ValueError("one or two motors")
        self.motors = motors
        self.clock = clock
        self.timer = timer
        self.table = _TWO if len(motors) == 2 else _ONE
        self.active = False
        self.pattern = 0  # what plays, 0 for nothing
        self.inhibited = False
        self.played = 0  # patterns started
        self.refused = 0  # requests refused (priority, cool-down, inhibited)
        self.trips = 0  # times the duty budget stopped a pattern
        self.on = False
        self.on_since = 0  # ticks when the motors last switched on
        self.cooldown_until = 0
        self._cooling = False
        self._steps = _TWO[1]
        self._step = 0
        self._phase_at = 0  # ticks when the current on or off phase began
        self._tail = False
        self._buckets = [0] * _BUCKETS
        self._bucket = 0
        self._bucket_at = clock.ticks_ms()
        self._acc_at = self._bucket_at
        self._backstop_cb = self._backstop  # bound once: arming allocates nothing
        for m in motors:
            m.value(0)

    # --- requests ------------------------------------------------------------------

    def play(self, pid, now=None):
        """Start pattern `pid`; True if it started (see the module docstring)."""
        if check_pattern(pid) is not None:
            return False
        if now is None:
            now = self.clock.ticks_ms()
        self._account(now)
        if self.inhibited or self._cooling_at(now):
            self.refused += 1
            return False
        if self.active and _PRIORITY[pid] <= _PRIORITY[self.pattern]:
            self.refused += 1
            return False
        steps = self.table[pid]
        need = 0
        for s in steps:
            need += s[1]
        if self.window_on_ms() + need > DUTY_BUDGET_MS:
            self._trip(now)
            self.refused += 1
            return False
        self.pattern = pid
        self._steps = steps
        self._step = 0
        self._tail = False
        self.active = True
        self.played += 1
        self._start_step(now)
        return True

    def cue(self, side):
        """Pipeline hook for a confirmed drop (`Pipeline.on_cue`)."""
        self.play(drop_pattern(side))

    def inhibit(self, flag):
        """Critical battery: stop and refuse everything while `flag` is set."""
        self.inhibited = bool(flag)
        if flag:
            self.stop()

    def stop(self):
        """Everything off at once; the pattern is abandoned."""
        if self.on:
            self._switch(0, self.clock.ticks_ms())
        self.active = False
        self.pattern = 0

    # --- time ----------------------------------------------------------------------

    def service(self, now):
        """Advance the pattern and enforce the caps; call every loop pass."""
        if not self.active and not self.on and (
                self.clock.ticks_diff(now, self._bucket_at) < _BUCKET_MS):
            self._acc_at = now  # all `_account` would do: nothing on, no bucket to roll
            return
        self._account(now)
        if not self.active:
            return
        c = self.clock
        if self.on:
            step = self._steps[self._step]
            if (c.ticks_diff(now, self._phase_at) >= step[1]
                    or c.ticks_diff(now, self.on_since) >= MAX_ON_MS):
                self._switch(0, now)
                self._phase_at = now
            elif self.window_on_ms() >= DUTY_BUDGET_MS:
                self._trip(now)
            return
        if self._tail:
            if c.ticks_diff(now, self._phase_at) >= TAIL_MS:
                self.active = False
                self.pattern = 0
            return
        step = self._steps[self._step]
        if c.ticks_diff(now, self._phase_at) < step[2]:
            return
        self._step += 1
        if self._step >= len(self._steps):
            self._tail = True
            self._phase_at = now
            return
        self._start_step(now)

    def _start_step(self, now):
        step = self._steps[self._step]
        on = step[1]
        if self.window_on_ms() + on > DUTY_BUDGET_MS:
            self._trip(now)
            return
        self._switch(step[0], now)
        self._phase_at = now

    def _switch(self, mask, now):
        """Drive the motors: mask bit 0 left (or the only motor), bit 1 right."""
        self._account(now)
        motors = self.motors
        if len(motors) == 1:
            motors[0].value(1 if mask else 0)
        else:
            motors[0].value(mask & 1)
            motors[1].value((mask >> 1) & 1)
        was = self.on
        self.on = mask != 0
        if self.on and not was:
            self.on_since = now
            self._acc_at = now
            if self.timer is not None:
                self.timer.init(mode=0, period=BACKSTOP_MS, callback=self._backstop_cb)
        elif was and not self.on and self.timer is not None:
            self.timer.deinit()

    def _backstop(self, t):
        """One-shot timer callback: the loop did not switch the motors off in time."""
        for m in self.motors:
            m.value(0)
        self.on = False

    def _trip(self, now):
        """The duty budget is spent: stop, and play nothing for COOLDOWN_MS."""
        self.trips += 1
        self.stop()
        self.cooldown_until = now + COOLDOWN_MS
        self._cooling = True

    def _cooling_at(self, now):
        if self._cooling and self.clock.ticks_diff(self.cooldown_until, now) <= 0:
            self._cooling = False
        return self._cooling

    # --- the rolling on-time window -------------------------------------------------

    def _account(self, now):
        """Add the on-time since the last call to 1 s buckets, rolling old ones out."""
        c = self.clock
        b = self._buckets
        if not self.on and c.ticks_diff(now, self._bucket_at) >= _BUCKETS * _BUCKET_MS:
            for i in range(_BUCKETS):  # idle for longer than the window: all rolled out
                b[i] = 0
            self._bucket_at = now
        while c.ticks_diff(now, self._bucket_at) >= _BUCKET_MS:
            end = self._bucket_at + _BUCKET_MS
            if self.on and c.ticks_diff(end, self._acc_at) > 0:
                b[self._bucket] += c.ticks_diff(end, self._acc_at)
                self._acc_at = end
            self._bucket = (self._bucket + 1) % _BUCKETS
            b[self._bucket] = 0
            self._bucket_at = end
        if self.on:
            gap = c.ticks_diff(now, self._acc_at)
            if gap > 0:
                b[self._bucket] += gap
        self._acc_at = now

    def window_on_ms(self):
        """Motor on-time over the last 10 to 11 s (at least every 10 s window)."""
        total = 0
        for v in self._buckets:
            total += v
        return total
