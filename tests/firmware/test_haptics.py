"""Haptic patterns on one or two motors: sides, rhythms, priorities and the hard caps."""

import heap
from fake_machine import Board, Pin, Timer, install

from belt import haptics as H

LOOP_MS = 5


class Trace:
    """A motor output that logs every edge as (ms, level) on top of a fake pin."""

    def __init__(self, board, pid):
        self.pin = Pin(pid, Pin.OUT, value=0)
        self.board = board
        self.edges = []

    def value(self, x=None):
        if x is None:
            return self.pin.value()
        if (1 if x else 0) != self.pin.value():
            self.edges.append((self.board.clock.us // 1000, 1 if x else 0))
        self.pin.value(x)
        return None

    def pulses(self):
        """[(on_ms, length_ms)] of every completed pulse."""
        out = []
        start = None
        for t, level in self.edges:
            if level:
                start = t
            elif start is not None:
                out.append((start, t - start))
                start = None
        return out


def _setup(motors=1, timer=False):
    b = install(Board())
    m = [Trace(b, 2), Trace(b, 4)][:motors]
    h = H.Haptics(m, b.clock, Timer(0) if timer else None)
    return b, m, h


def _run(b, h, ms):
    for _ in range(ms // LOOP_MS):
        b.clock.sleep_ms(LOOP_MS)
        h.service(b.clock.ticks_ms())


def _rhythm(trace):
    """The pattern as (length, gap before the next pulse) rounded to the 5 ms loop."""
    p = trace.pulses()
    out = []
    for i, (t, n) in enumerate(p):
        gap = p[i + 1][0] - (t + n) if i + 1 < len(p) else 0
        out.append((n, gap))
    return out


def test_pattern_ids_are_the_shared_contract_and_others_are_refused():
    assert (H.PAT_DROP_LEFT, H.PAT_DROP_RIGHT, H.PAT_DROP, H.PAT_GET_READY) == (1, 2, 3, 4)
    assert (H.PAT_HOLD_START, H.PAT_HOLD_END, H.PAT_SESSION_DONE) == (5, 6, 7)
    assert (H.PAT_LOW_BATTERY, H.PAT_NO_IMU, H.PAT_FAULT) == (8, 9, 10)
    for pid in range(1, 11):
        assert H.check_pattern(pid) is None
    for bad in (0, 11, 255, -1):
        assert H.check_pattern(bad) is not None
        b, m, h = _setup()
        assert h.play(bad) is False and m[0].edges == []


def test_one_motor_tells_the_side_by_rhythm_left_long_right_two_short():
    for pid, rhythm in ((H.PAT_DROP_LEFT, [(350, 0)]),
                        (H.PAT_DROP_RIGHT, [(100, 100), (100, 0)]),
                        (H.PAT_DROP, [(200, 0)])):
        b, m, h = _setup(1)
        assert h.play(pid)
        _run(b, h, 1000)
        assert _rhythm(m[0]) == rhythm, pid
        assert not h.active and m[0].pin.value() == 0


def test_two_motors_buzz_the_side_that_dropped():
    b, (left, right), h = _setup(2)
    h.cue(1)  # detector side 1: the left side is lower
    _run(b, h, 600)
    assert _rhythm(left) == [(250, 0)] and right.edges == []
    h.cue(2)
    _run(b, h, 600)
    assert _rhythm(right) == [(250, 0)] and len(left.pulses()) == 1
    h.cue(0)  # side unknown: both
    _run(b, h, 600)
    assert len(left.pulses()) == 2 and len(right.pulses()) == 2


def test_session_cues_have_distinct_rhythms_on_both_motors():
    seen = {}
    for pid in (H.PAT_GET_READY, H.PAT_HOLD_START, H.PAT_HOLD_END, H.PAT_SESSION_DONE,
                H.PAT_LOW_BATTERY, H.PAT_NO_IMU, H.PAT_FAULT):
        b, (left, right), h = _setup(2)
        assert h.play(pid)
        _run(b, h, 3000)
        assert left.edges == right.edges  # both motors together
        seen[pid] = tuple(_rhythm(left))
    assert len(set(seen.values())) == len(seen)  # no two alike
    assert seen[H.PAT_GET_READY] == ((80, 170), (80, 170), (80, 0))
    assert seen[H.PAT_HOLD_START] == ((100, 150), (400, 0))
    assert seen[H.PAT_HOLD_END] == ((400, 150), (100, 0))


def test_a_drop_interrupts_a_low_battery_reminder_but_not_the_other_way_round():
    b, m, h = _setup(1)
    assert h.play(H.PAT_LOW_BATTERY)
    _run(b, h, 20)
    assert h.play(H.PAT_DROP_LEFT)  # higher priority: takes over at once
    assert h.pattern == H.PAT_DROP_LEFT
    _run(b, h, 100)
    assert h.play(H.PAT_LOW_BATTERY) is False  # lower priority: refused, not queued
    _run(b, h, 2000)
    # One continuous buzz: 20 ms of the tick, then the whole 350 ms drop cue.
    assert [n for _, n in m[0].pulses()] == [370]
    assert h.refused == 1 and not h.active


def test_patterns_never_stack_up():
    b, m, h = _setup(1)
    assert h.play(H.PAT_HOLD_START)
    for pid in (H.PAT_HOLD_START, H.PAT_HOLD_END, H.PAT_GET_READY, H.PAT_LOW_BATTERY):
        assert h.play(pid) is False  # equal or lower priority while playing
    _run(b, h, 3000)
    assert _rhythm(m[0]) == [(100, 150), (400, 0)]  # only the first one played
    assert h.play(H.PAT_HOLD_END)  # free again after its tail


def test_hammering_never_breaks_the_on_time_and_duty_caps():
    b, (left, right), h = _setup(2)
    seq = (1, 2, 3, 5, 7, 9, 10, 4, 6, 8)
    for i in range(12000):  # 60 s of requests every 5 ms, highest priorities included
        h.play(seq[i % len(seq)])
        h.cue(1 + i % 2)
        b.clock.sleep_ms(LOOP_MS)
        h.service(b.clock.ticks_ms())
    assert h.trips > 0  # the budget was reached ...
    for trace in (left, right):
        pulses = trace.pulses()
        assert pulses and max(n for _, n in pulses) <= H.MAX_ON_MS + LOOP_MS
        # ... and no 10 s window ever holds more than 40 % on-time (one loop pass slack).
        for start, _ in pulses:
            end = start + H.WINDOW_MS
            on = sum(min(t + n, end) - t for t, n in pulses if start <= t < end)
            assert on <= H.DUTY_BUDGET_MS + LOOP_MS, (start, on)


def test_after_the_budget_trips_nothing_plays_for_the_cool_down():
    b, m, h = _setup(1)
    while h.trips == 0:
        h.play(H.PAT_DROP_LEFT)
        b.clock.sleep_ms(LOOP_MS)
        h.service(b.clock.ticks_ms())
    tripped = b.clock.ticks_ms()
    rises = m[0].pin.state.rises
    while b.clock.ticks_ms() - tripped < H.COOLDOWN_MS - LOOP_MS:
        assert h.play(H.PAT_DROP_LEFT) is False
        b.clock.sleep_ms(LOOP_MS)
        h.service(b.clock.ticks_ms())
    assert m[0].pin.state.rises == rises and m[0].pin.value() == 0
    # Cooled down, it plays again as soon as the rolling window has room for a cue.
    while not h.play(H.PAT_DROP_LEFT):
        b.clock.sleep_ms(LOOP_MS)
        h.service(b.clock.ticks_ms())
    assert b.clock.ticks_ms() - tripped <= H.COOLDOWN_MS + H.WINDOW_MS + 1000


def test_a_stalled_loop_is_cut_off_by_the_timer_backstop():
    b, m, h = _setup(1, timer=True)
    assert h.play(H.PAT_HOLD_START)
    _run(b, h, 260)  # into the 400 ms pulse
    assert m[0].pin.value() == 1
    b.clock.sleep_ms(2000)  # the loop stops calling service
    assert m[0].pin.value() == 0
    on = m[0].pin.state.max_on_ms
    assert on <= H.BACKSTOP_MS


def test_inhibit_switches_everything_off_and_refuses_until_cleared():
    b, m, h = _setup(2)
    assert h.play(H.PAT_HOLD_START)
    _run(b, h, 20)
    h.inhibit(True)
    assert [t.pin.value() for t in m] == [0, 0] and not h.active
    assert h.play(H.PAT_DROP) is False
    h.inhibit(False)
    assert h.play(H.PAT_DROP)


def test_stop_switches_off_mid_pulse():
    b, m, h = _setup(1)
    h.play(H.PAT_NO_IMU)
    _run(b, h, 50)
    h.stop()
    assert m[0].pin.value() == 0 and not h.active and h.pattern == 0


def test_the_one_motor_or_two_rule_is_enforced():
    b = install(Board())
    for motors in ([], [Pin(1, Pin.OUT)] * 3):
        try:
            H.Haptics(motors, b.clock)
        except ValueError:
            pass
        else:
            raise AssertionError("%d motors accepted" % len(motors))


def test_playing_and_servicing_allocate_nothing():
    b = install(Board())
    motors = [Pin(2, Pin.OUT, value=0), Pin(4, Pin.OUT, value=0)]
    h = H.Haptics(motors, b.clock, Timer(0))

    def drive(n):
        for i in range(n):
            if i % 400 == 0:
                h.cue(1 + (i // 400) % 2)
            if i % 700 == 0:
                h.play(H.PAT_GET_READY)
            b.clock.us += LOOP_MS * 1000
            h.service(b.clock.us // 1000)

    drive(2000)  # warm up
    heap.locked(lambda: drive(4000))
    assert h.played > 10 and b.pins[2].rises > 10 and b.pins[4].rises > 10
