"""The board loop on a fake board (belt.hal on fake_machine): INFO and SAMPLES over the USB
framer, both IMUs, haptics, battery, settings, watchdog, faults, safe mode, main.py."""

import os
import sys

import heap
from belt_rig import unframe
from fake_i2c import FakeMPU6050
from fake_lsm6dsox import ONE_G, FakeLSM6DSOX
from fake_machine import WDT_RESET, Board, Pin, WatchdogReset, load_hal

import belt
from belt import app as A
from belt import board, safemode, usb_in
from belt import haptics as HP
from belt import protocol as P
from belt import settings as S
from belt.pipeline import STATE_CALIBRATING, STATE_RUNNING

MICROPYTHON = sys.implementation.name == "micropython"
LEVEL = (0, 8192, 0)  # default mount: sensor +Y up, so the belt reads +1 g on Y standing
RIGHT_DOWN_10 = (-1423, 8068, 0)  # right side 10 deg lower: -sin, cos of 10 deg in counts
LEFT_DOWN_10 = (1423, 8068, 0)


class Wire:
    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data.extend(buf)


class CountingWire:
    def __init__(self):
        self.bytes = 0
        self.writes = 0

    def write(self, buf):
        self.bytes += len(buf)
        self.writes += 1


def sample_indices(frames):
    """Device index of every streamed sample, from the SAMPLES batch headers."""
    out = []
    for f in frames:
        if f[1] == P.FT_SAMPLES:
            first = P.get_u32(f, 4)
            for k in range((len(f) - P.BATCH_HEADER_LEN) // P.SAMPLE_LEN):
                out.append(first + k)
    return out


def samples(frames):
    out = []
    for f in frames:
        if f[1] == P.FT_SAMPLES:
            for o in range(P.BATCH_HEADER_LEN, len(f), P.SAMPLE_LEN):
                out.append(tuple(P.get_i16(f, o + 2 * i) for i in range(6)))
    return out


def events(frames, kind=None):
    return [(f[4], f[5]) for f in frames
            if f[1] == P.FT_EVENT and (kind is None or f[4] == kind)]


class Rig:
    """A fake board with the real belt.hal: chips on the bus, the USB wire, the pins."""

    def __init__(self, chips=((0x68, FakeMPU6050),), cause=1, wire=None, cell_mv=3900):
        self.board = Board(cause)
        for addr, make in chips:
            self.board.devices[addr] = make(self.board.clock)
        self.wire = wire if wire is not None else Wire()
        self.H = load_hal(self.board)
        self.hal = self.H.Hal(write=self.wire.write)
        self.clock = self.board.clock
        self.set_cell(cell_mv)

    def set_cell(self, mv):
        self.board.volts_uv[board.BATTERY_ADC_PIN] = mv * 1000 // board.BATTERY_DIVIDER

    @property
    def motor(self):
        return self.board.pins[board.MOTOR_PIN]

    @property
    def led(self):
        return self.board.pins[board.LED_PIN]

    def dev(self, addr=0x68):
        return self.board.devices[addr]

    def frames(self):
        return unframe(self.wire.data)


def _step(app, dev, n, accel=None):
    """n sample periods, servicing the loop after each (as the 5 ms loop would)."""
    for _ in range(n):
        dev.advance(1, accel=accel)
        A.service(app)


def _idle(rig, app, ms):
    for _ in range(ms // A.LOOP_MS):
        A.service(app)
        rig.clock.sleep_ms(A.LOOP_MS)


def _running(wire=None, settings=None):
    rig = Rig(wire=wire)
    dev = rig.dev()
    app = A.start(rig.hal, settings=settings)
    _step(app, dev, 110, LEVEL)
    assert app.pipeline.state == STATE_RUNNING
    return rig, dev, app


def test_start_sends_info_then_streams_samples_through_the_usb_framer():
    rig = Rig()
    dev = rig.dev()
    app = A.start(rig.hal)
    assert app.mode == A.MODE_RUNNING and A.status_state(app) == STATE_CALIBRATING
    _step(app, dev, 200, LEVEL)
    frames, other = rig.frames()
    assert other == []  # no text on a healthy start
    info = frames[0]
    assert info[1] == P.FT_INFO and len(info) == P.INFO_LEN
    assert (info[4], info[5], info[6]) == belt.VERSION
    assert info[7] == 0x68 and P.get_u16(info, 8) == 100
    assert info[10] == A.USB_BATCH and info[11] == 0
    assert [P.get_u16(f, 2) for f in frames] == list(range(len(frames)))  # seq
    assert sum(1 for f in frames if f[1] == P.FT_CALIBRATION) == 1
    assert sample_indices(frames) == list(range(200))
    assert samples(frames)[0][:6] == (0, 1000, 0, 0, 0, 0)
    assert app.pipeline.state == STATE_RUNNING and app.imu.samples == 200
    assert A.status_state(app) == STATE_RUNNING


def test_an_lsm6dsox_board_streams_at_the_chips_104_hz():
    rig = Rig(chips=((0x6A, FakeLSM6DSOX),))
    dev = rig.dev(0x6A)
    app = A.start(rig.hal)
    _step(app, dev, 208, (0, ONE_G, 0))
    frames, other = rig.frames()
    assert other == []
    info = frames[0]
    assert info[7] == 0x6C and P.get_u16(info, 8) == 104  # INFO: the true rate
    assert app.pipeline.rate_hz == 104 and app.pipeline.detector.rate_hz == 104
    assert sample_indices(frames) == list(range(205))  # 41 batches of 5; 3 pending
    assert samples(frames)[0][:3] == (0, 1000, 0)
    assert app.pipeline.state == STATE_RUNNING


def test_run_loop_paces_itself_feeds_the_watchdog_and_the_chip_fills_the_fifo():
    rig = Rig()
    rig.dev().set_raw(0, 8192, 0, 0, 0, 0)
    app = A.run(rig.hal, loops=100, settings=S.Settings(""))
    frames, other = rig.frames()
    assert frames[0][1] == P.FT_INFO
    assert A.current is app  # kept for inspection from the REPL
    assert app.loops == 100 and app.imu.samples == 49  # one sample per 10 ms from 110 ms
    assert sample_indices(frames) == list(range(45))  # 9 full batches; 4 samples pending
    assert rig.board.wdt_timeout == 5000 and rig.board.wdt_feeds == 100


def test_a_stalled_loop_is_reset_by_the_watchdog_and_the_next_start_says_so():
    rig = Rig()
    dev = rig.dev()
    app = A.run(rig.hal, loops=10, settings=S.Settings(""))
    dev.advance(600)  # six seconds without a loop pass (say a bug spinning in a loop)
    try:
        A.service(app)
    except WatchdogReset:
        pass
    else:
        raise AssertionError("the watchdog did not fire")
    assert rig.board.cause == WDT_RESET
    # The next boot.
    rig2 = Rig(cause=rig.board.cause)
    app2 = A.start(rig2.hal, reset_cause=rig2.H.reset_cause())
    frames, other = rig2.frames()
    assert b"watchdog reset" in other[0]
    assert frames[0][11] & A.FLAG_WATCHDOG_RESET
    assert app2.mode == A.MODE_RUNNING


def test_ctrl_c_relaxes_the_watchdog_so_the_repl_is_not_reset():
    rig = Rig()
    rig.board.interrupt_at_ms = 400
    try:
        A.run(rig.hal, settings=S.Settings(""))
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("Ctrl-C was swallowed")
    assert rig.board.wdt_timeout == rig.H.WDT_RELAXED_MS
    assert rig.motor.level == 0 and rig.led.level == (1 if board.LED_ACTIVE_LOW else 0)
    rig.clock.sleep_ms(60_000)  # a minute at the REPL: no reset
    assert rig.board.cause != WDT_RESET


def test_no_imu_is_reported_and_shown_and_the_belt_idles_then_finds_it_later():
    rig = Rig(chips=())
    app = A.start(rig.hal)
    assert app.mode == A.MODE_NO_IMU and A.status_state(app) == A.STATE_NO_IMU
    _idle(rig, app, 2000)
    frames, other = rig.frames()
    assert len(other) == 1 and b"no IMU found" in other[0] and b"0x68" in other[0]
    assert [f[1] for f in frames] == [P.FT_INFO] and frames[0][7] == A.IMU_NONE
    # Distinct pattern: NO_IMU (long, long) once; the LED flashes three times every 2 s.
    assert rig.motor.rises == 2 and rig.motor.level == 0
    assert 300 <= rig.motor.max_on_ms <= 300 + A.LOOP_MS
    led_on_rises = rig.led.rises if not board.LED_ACTIVE_LOW else None
    if led_on_rises is not None:
        assert led_on_rises == 3
    # Plugged in later (an LSM6DSOX at 0x6B): found at the next retry, then streams.
    dev = FakeLSM6DSOX(rig.clock)
    rig.board.devices[0x6B] = dev
    while app.mode != A.MODE_RUNNING:
        A.service(app)
        rig.clock.sleep_ms(A.LOOP_MS)
    assert rig.clock.ticks_ms() <= A.RETRY_MS + 200
    _step(app, dev, 20, (0, ONE_G, 0))
    frames, other = rig.frames()
    assert b"IMU found" in other[-1]
    infos = [f for f in frames if f[1] == P.FT_INFO]
    assert [f[7] for f in infos] == [A.IMU_NONE, A.IMU_LSM6DSOX]
    assert P.get_u16(infos[1], 8) == 104
    assert sample_indices(frames) == list(range(20))


def test_an_unsupported_chip_is_its_own_state_with_the_reason_and_the_fault_pattern():
    def mpu6500(clock):
        dev = FakeMPU6050(clock)
        dev.regs[0x75] = 0x70
        return dev

    rig = Rig(chips=((0x68, mpu6500),))
    app = A.start(rig.hal)
    assert A.status_state(app) == A.STATE_BAD_IMU
    _idle(rig, app, 1500)
    frames, other = rig.frames()
    assert b"unsupported IMU" in other[0] and b"WHO_AM_I 0x70" in other[0]
    assert b"devices on the bus: [0x68]" in other[0]
    assert frames[0][7] == A.IMU_NONE
    assert rig.motor.rises == 5  # FAULT: five quick pulses


def test_a_drop_plays_the_side_pattern_once_and_streams_the_cue():
    rig, dev, app = _running()
    _step(app, dev, 300, RIGHT_DOWN_10)
    _step(app, dev, 200, LEVEL)
    # One motor: the right side dropped, so two short pulses.
    assert rig.motor.rises == 2 and rig.motor.level == 0
    assert 100 <= rig.motor.max_on_ms <= 100 + 10  # serviced every 10 ms here
    frames, other = rig.frames()
    assert (P.EV_DROP_CUE, 2) in events(frames) and (P.EV_DROP_END, 2) in events(frames)


def _first_cue(with_pattern):
    rig, dev, app = _running()
    app.pipeline.detector.configure(500, 0, 100, 0, 0)  # no dwell: cue at the crossing
    start = app.pipeline.index
    if with_pattern:
        assert app.haptics.play(HP.PAT_HOLD_START)  # 100 + 150 + 400 ms, then a 100 ms tail
    _step(app, dev, 200, RIGHT_DOWN_10)
    frames, other = rig.frames()
    cues = [P.get_u32(f, 6) for f in frames if f[1] == P.FT_EVENT and f[4] == P.EV_DROP_CUE]
    assert len(cues) == 1
    return cues[0] - start


def test_the_detector_is_blanked_while_the_motor_runs_and_settles():
    # The buzz shakes the clip, so no drop may start during a pattern or SETTLE_MS after.
    free = _first_cue(False)
    blanked = _first_cue(True)
    assert free < 75  # the crossing, about 0.7 s into the tilt
    # Pattern 750 ms + settle 150 ms at 100 Hz: nothing starts before sample 90.
    assert 90 <= blanked <= 92


def test_two_motors_buzz_the_hip_that_dropped():
    rig = Rig()
    right = Pin(board.MOTOR2_PIN, Pin.OUT, value=0)
    rig.hal.motors.append(right)  # the two-motor build
    dev = rig.dev()
    app = A.start(rig.hal)
    _step(app, dev, 110, LEVEL)
    frames, other = rig.frames()
    assert frames[0][11] & A.FLAG_TWO_MOTORS
    _step(app, dev, 100, LEFT_DOWN_10)
    _step(app, dev, 100, LEVEL)
    left_state = rig.board.pins[board.MOTOR_PIN]
    right_state = rig.board.pins[board.MOTOR2_PIN]
    assert left_state.rises == 1 and right_state.rises == 0
    _step(app, dev, 100, RIGHT_DOWN_10)
    _step(app, dev, 100, LEVEL)
    assert left_state.rises == 1 and right_state.rises == 1


def test_the_motor_is_switched_off_when_the_loop_dies():
    class Broken(Exception):
        pass

    rig, dev, app = _running()

    def write(buf):
        raise Broken()

    app.framer.write = write
    app.haptics.play(HP.PAT_HOLD_END)  # starts with a 400 ms pulse
    dev.advance(10)
    try:
        A.loop(app)
    except Broken:
        pass
    else:
        raise AssertionError("the loop swallowed the error")
    assert rig.motor.level == 0 and rig.motor.rises == 1
    assert rig.led.level == (1 if board.LED_ACTIVE_LOW else 0)


def test_low_battery_reminds_with_its_pattern_and_critical_switches_the_motor_off():
    rig, dev, app = _running()
    rig.set_cell(3500)
    _idle(rig, app, 12_000)  # the smoothed reading falls below 3.55 V
    assert app.battery.low and rig.motor.rises == 2  # LOW_BATTERY: two faint ticks
    assert rig.motor.max_on_ms <= 40 + A.LOOP_MS
    _idle(rig, app, 60_000)
    assert rig.motor.rises == 2  # not again within five minutes
    rig.set_cell(3200)
    _idle(rig, app, 8000)
    assert app.battery.critical and app.haptics.inhibited
    frames, other = rig.frames()
    assert b"battery critical" in other[-1]
    rises = rig.motor.rises
    _step(app, dev, 300, RIGHT_DOWN_10)  # a drop: still detected and streamed ...
    _step(app, dev, 100, LEVEL)
    frames, other = rig.frames()
    assert (P.EV_DROP_CUE, 2) in events(frames)
    assert rig.motor.rises == rises  # ... but the motor stays off


def test_stored_calibration_runs_from_the_first_sample_and_is_flagged_in_info():
    stored = S.Settings("")
    stored.bias = [48, -32, 16]
    stored.bias_ok = True
    stored.neutral[0] = [0, 16384, 0]
    stored.neutral_ok[0] = True
    stored.detector[0] = [700, 200, 100, 0]
    rig = Rig()
    app = A.start(rig.hal, settings=stored)
    assert app.pipeline.state == STATE_RUNNING
    _step(app, rig.dev(), 10, LEVEL)
    frames, other = rig.frames()
    assert frames[0][11] & A.FLAG_CALIBRATION_RESTORED
    assert frames[1][1] == P.FT_CALIBRATION and events(frames)[0] == (P.EV_CALIBRATED, 0)
    assert app.pipeline.detector.side_config(1)[0] == 700


def test_unreadable_settings_are_reported_and_the_defaults_used():
    bad = S.Settings("")
    bad.status = S.CORRUPT
    bad.reason = "settings file fails its CRC"
    rig = Rig()
    A.start(rig.hal, settings=bad)
    frames, other = rig.frames()
    assert b"factory settings in use: settings file fails its CRC" in other[0]
    assert frames[0][11] & A.FLAG_SETTINGS_DEFAULTED


def _scratch_path():
    if MICROPYTHON:
        try:
            os.mkdir("/tmp/app_settings")
        except OSError:
            pass
        path = "/tmp/app_settings/belt.cfg"
        for p in (path, path + ".new"):
            try:
                os.remove(p)
            except OSError:
                pass
        return path
    import tempfile

    return tempfile.mkdtemp() + "/belt.cfg"


def test_a_calibration_is_saved_but_never_in_the_first_ten_seconds():
    path = _scratch_path()
    s = S.load(path)
    rig, dev, app = _running(settings=s)
    assert app.pipeline.calibrations == 1 and s.saves == 0  # the start-up capture, at 1 s
    _step(app, dev, 950, LEVEL)  # past ten seconds
    assert s.saves == 1
    back = S.load(path)
    assert back.status == S.LOADED and back.bias_ok and back.neutral_ok[0]
    # Next power-up starts from it.
    rig2 = Rig()
    app2 = A.start(rig2.hal, settings=S.load(path))
    assert app2.pipeline.state == STATE_RUNNING


def test_a_fifo_overflow_closes_the_batch_reports_the_loss_and_indices_jump_by_it():
    rig, dev, app = _running()
    _step(app, dev, 3, LEVEL)  # 113 samples: a batch of 5 is part-filled
    dev.advance(300)  # the loop stalls for 3 s (under the watchdog's 5 s)
    A.service(app)
    _step(app, dev, 15, LEVEL)
    frames, other = rig.frames()
    assert other == []
    ev = [f for f in frames if f[1] == P.FT_EVENT and f[4] == P.EV_FIFO_OVERFLOW]
    assert len(ev) == 1
    assert P.get_u32(ev[0], 6) == 113 and P.get_i16(ev[0], 14) == 300
    idx = sample_indices(frames)
    assert idx == list(range(113)) + list(range(413, 428))
    assert idx[-1] == dev.samples - 1  # the index is still the chip's sample count


def test_a_bus_error_is_reported_once_and_streaming_resumes_with_the_gap():
    rig, dev, app = _running()
    _step(app, dev, 3, LEVEL)  # a part-filled batch must be closed before the gap
    dev.fail(6)
    _step(app, dev, 6, LEVEL)
    _step(app, dev, 10, LEVEL)
    frames, other = rig.frames()
    assert len(other) == 2
    assert b"bus error" in other[0] and b"IMU back" in other[1]
    assert app.imu.io_errors == 6 and app.imu.resyncs == 1 and app.imu.overflows == 0
    assert not [f for f in frames if f[1] == P.FT_EVENT and f[4] == P.EV_FIFO_OVERFLOW]
    idx = sample_indices(frames)
    assert idx[:113] == list(range(113))
    gap = idx[113] - idx[112]
    assert gap == app.imu.last_lost + 1 and gap > 6
    assert idx[113:] == list(range(idx[113], idx[113] + len(idx) - 113))


def test_the_whole_loop_pass_allocates_nothing():
    wire = CountingWire()
    rig, dev, app = _running(wire)
    rig.hal.start_watchdog()

    def drive(n):
        for i in range(n):
            k = i % 300
            if k < 150:
                dev.set_raw(-1423, 8068, 0, 0, 0, 0)
            else:
                dev.set_raw(0, 8192, 0, 3, -2, 1)
            dev.advance(1)
            A.service(app)

    # Warm up: first-use views and dict entries, and past the first ten seconds, when the
    # start-up calibration is saved (a file write, outside the sample path).
    drive(1200)
    assert app.settings.saves == 1
    cues = rig.motor.rises
    written = wire.bytes
    reads = app.battery.readings
    heap.locked(lambda: drive(900))
    # The cue, the haptics, the battery and the watchdog all ran inside the locked section.
    assert rig.motor.rises - cues == 6  # three drops, two pulses each
    assert app.battery.readings > reads and rig.board.wdt_feeds >= 900
    assert wire.bytes > written and app.imu.losses == 0


def test_main_py_starts_the_app_with_the_reset_cause_and_ctrl_c_leaves_a_usable_repl():
    rig = Rig(cause=WDT_RESET)
    frames_out = rig.wire

    Base = rig.H.Hal

    class BoardHal(Base):
        def __init__(self, write=None):
            Base.__init__(self, write=frames_out.write)

    class Quiet:
        """The USB console with nothing typed into it."""

        def readinto(self, buf):
            raise AssertionError("read without readable()")

    rig.H.Hal = BoardHal  # main.py builds its own Hal: give it the test's wire
    saved = (S.load, usb_in.from_stdin)
    S.load = lambda path=S.PATH, files=None: S.Settings("")  # no real flash here
    usb_in.from_stdin = lambda on_frame, ticks_diff: usb_in.UsbInput(
        Quiet(), lambda: False, on_frame, ticks_diff)
    rig.board.interrupt_at_ms = 1500
    try:
        env = {"__name__": "__main__"}
        exec(compile(_main_source(), "main.py", "exec"), env)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("main.py returned while the app should run")
    finally:
        S.load, usb_in.from_stdin = saved
    frames, other = rig.frames()
    assert b"watchdog reset" in other[0]
    assert frames[0][1] == P.FT_INFO and frames[0][11] & A.FLAG_WATCHDOG_RESET
    assert sample_indices(frames)  # it streamed
    assert rig.board.wdt_timeout == rig.H.WDT_RELAXED_MS


def _main_source():
    here = belt.__file__.replace("\\", "/").rsplit("/", 1)[0]
    with open(here.rsplit("/", 1)[0] + "/main.py") as f:
        return f.read()


def test_safe_mode_needs_a_steady_press_inside_the_window():
    class Clock:
        def __init__(self):
            self.ms = 0

        def sleep_ms(self, ms):
            self.ms += ms

    def trace(levels):
        clock = Clock()
        seq = list(levels)

        def read():
            t = clock.ms // 10
            return seq[t] if t < len(seq) else 1

        return safemode.held(read, clock.sleep_ms, 1000), clock.ms

    assert trace([0] * 5) == (True, 20)  # held from the start: decided in 30 ms
    assert trace([1] * 200) == (False, 1000)
    assert trace([0, 0, 1] * 50) == (False, 1000)  # bounce, never 3 polls in a row
    assert trace([1] * 90 + [0] * 5)[0]  # pressed late in the window still counts
    assert not trace([1] * 101 + [0] * 5)[0]  # after the window it does not


def test_board_pins_are_distinct_ints_and_only_hal_imports_machine():
    pins = (board.I2C_SDA, board.I2C_SCL, board.MOTOR_PIN, board.MOTOR2_PIN,
            board.SAFE_MODE_PIN, board.BATTERY_ADC_PIN, board.LED_PIN)
    assert len(set(pins)) == len(pins) and all(type(p) is int for p in pins)
    assert board.I2C_FREQ == 400000 and board.SAFE_MODE_PIN == 0
    assert board.MOTOR_COUNT in (1, 2)
    here = belt.__file__.replace("\\", "/").rsplit("/", 1)[0]
    names = [n for n in os.listdir(here) if n.endswith(".py")]
    assert "hal.py" in names and "app.py" in names
    for name in names:
        with open(here + "/" + name) as f:
            text = f.read()
        uses = "import machine" in text or "from machine" in text
        assert uses == (name == "hal.py"), name
    with open(here.rsplit("/", 1)[0] + "/main.py") as f:
        main = f.read()
    assert "import machine" not in main and "safe_mode_requested" in main
