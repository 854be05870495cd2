"""The board loop on a fake board: INFO + SAMPLES over the USB framer, drops, faults, safe mode."""

import gc
import os
import sys

from fake_i2c import FakeClock, FakeI2C, FakeMPU6050

import belt
from belt import app as A
from belt import board, safemode
from belt import protocol as P
from belt.pipeline import STATE_RUNNING

MICROPYTHON = sys.implementation.name == "micropython"
LEVEL = (0, 8192, 0)  # default mount: sensor +Y up, so the belt reads +1 g on Y standing
RIGHT_DOWN_10 = (-1423, 8068, 0)  # right side 10 deg lower: -sin, cos of 10 deg in counts


class FakePin:
    """Output pin that remembers how it was driven (allocation-free)."""

    def __init__(self, clock):
        self.clock = clock
        self.level = 0
        self.rises = 0
        self.on_since = 0
        self.max_on_ms = 0
        self.total_on_ms = 0

    def value(self, x=None):
        if x is None:
            return self.level
        x = 1 if x else 0
        now = self.clock.ticks_ms()
        if x and not self.level:
            self.rises += 1
            self.on_since = now
        elif self.level and not x:
            on = now - self.on_since
            self.total_on_ms += on
            if on > self.max_on_ms:
                self.max_on_ms = on
        self.level = x
        return None


class FakeHal:
    """The attributes `belt.hal.Hal` has, over a fake clock and bus."""

    def __init__(self, clock, i2c, write):
        self.i2c = i2c
        self.motor = FakePin(clock)
        self.led = FakePin(clock)
        self.write = write
        self.ticks_ms = clock.ticks_ms
        self.ticks_diff = clock.ticks_diff
        self.sleep_ms = clock.sleep_ms


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


def cobs_decode(block):
    out = bytearray()
    i = 0
    while i < len(block):
        code = block[i]
        if code == 0 or i + code > len(block):
            return None
        out.extend(block[i + 1 : i + code])
        i += code
        if code < 0xFF and i < len(block):
            out.append(0)
    return bytes(out)


def unframe(data):
    """(frames, other blocks): COBS blocks whose CRC checks, and everything else (text)."""
    frames = []
    other = []
    for block in bytes(data).split(b"\x00"):
        if not block:
            continue
        raw = cobs_decode(block)
        n = len(raw) - 2 if raw is not None else 0
        if n < 4 or P.crc16(raw, n) != P.get_u16(raw, n):
            other.append(block)
        else:
            frames.append(raw[:-2])
    return frames, other


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


def _board(addrs=(0x68,), wire=None):
    clock = FakeClock()
    devices = {}
    for a in addrs:
        devices[a] = FakeMPU6050(clock)
    wire = wire if wire is not None else Wire()
    hal = FakeHal(clock, FakeI2C(devices), wire.write)
    return clock, devices, hal, wire


def _step(app, dev, n, accel=None):
    """n sample periods, servicing the loop after each (as the 5 ms loop would)."""
    for _ in range(n):
        dev.advance(1, accel=accel)
        A.service(app)


def _running(wire=None):
    clock, devices, hal, wire = _board(wire=wire)
    dev = devices[0x68]
    app = A.start(hal)
    _step(app, dev, 110, LEVEL)
    assert app.pipeline.state == STATE_RUNNING
    return clock, dev, hal, wire, app


def test_start_sends_info_then_streams_samples_through_the_usb_framer():
    clock, devices, hal, wire = _board()
    dev = devices[0x68]
    app = A.start(hal)
    assert app.mode == A.MODE_RUNNING
    _step(app, dev, 200, LEVEL)
    frames, other = unframe(wire.data)
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


def test_run_loop_paces_itself_with_sleep_and_the_chip_fills_the_fifo_meanwhile():
    clock, devices, hal, wire = _board()
    devices[0x68].set_raw(0, 8192, 0, 0, 0, 0)
    app = A.run(hal, loops=100)  # serviced at 100, 105, ... 595 ms after the 100 ms reset
    frames, other = unframe(wire.data)
    assert frames[0][1] == P.FT_INFO
    assert A.current is app  # kept for inspection from the REPL
    assert app.loops == 100 and app.imu.samples == 49  # one sample per 10 ms from 110 ms
    assert sample_indices(frames) == list(range(45))  # 9 full batches; 4 samples pending


def test_no_imu_is_reported_and_shown_and_the_belt_idles_then_finds_it_later():
    clock, devices, hal, wire = _board(addrs=())
    app = A.start(hal)
    assert app.mode == A.MODE_NO_IMU
    for _ in range(400):  # 2 s of loop
        A.service(app)
        clock.sleep_ms(A.LOOP_MS)
    frames, other = unframe(wire.data)
    assert len(other) == 1 and b"no IMU found" in other[0] and b"0x68" in other[0]
    assert [f[1] for f in frames] == [P.FT_INFO] and frames[0][7] == A.IMU_NONE
    # Distinct pattern: two short buzzes once; the LED flashes three times every 2 s.
    assert hal.motor.rises == A.NO_IMU_PULSES and hal.motor.level == 0
    assert hal.motor.max_on_ms <= A.NO_IMU_PULSE_MS + A.LOOP_MS
    assert hal.led.rises == 3 and hal.led.max_on_ms <= 100 + A.LOOP_MS
    # Plugged in later (at the other address): found at the next retry, then streams.
    dev = FakeMPU6050(clock)
    hal.i2c.devices[0x69] = dev
    while app.mode != A.MODE_RUNNING:
        A.service(app)
        clock.sleep_ms(A.LOOP_MS)
    assert clock.ticks_ms() <= A.RETRY_MS + 200
    _step(app, dev, 20, LEVEL)
    frames, other = unframe(wire.data)
    assert b"IMU found" in other[-1]
    infos = [f for f in frames if f[1] == P.FT_INFO]
    assert [f[7] for f in infos] == [A.IMU_NONE, A.IMU_MPU6050]
    assert sample_indices(frames) == list(range(20))


def test_a_chip_with_the_wrong_identity_is_no_imu_with_the_reason_given():
    clock, devices, hal, wire = _board()
    devices[0x68].regs[0x75] = 0x70
    app = A.start(hal)
    assert app.mode == A.MODE_NO_IMU
    frames, other = unframe(wire.data)
    assert b"WHO_AM_I 0x70" in other[0] and b"devices on the bus: [0x68]" in other[0]
    assert frames[0][7] == A.IMU_NONE


def test_a_drop_buzzes_the_motor_once_with_a_capped_on_time_and_streams_the_cue():
    clock, dev, hal, wire, app = _running()
    _step(app, dev, 300, RIGHT_DOWN_10)
    _step(app, dev, 200, LEVEL)
    assert hal.motor.rises == 1 and hal.motor.level == 0
    assert A.CUE_MS <= hal.motor.max_on_ms <= A.CUE_MS + 10  # serviced every 10 ms here
    assert hal.motor.max_on_ms <= A.MAX_PULSE_MS
    frames, other = unframe(wire.data)
    events = [(f[4], f[5]) for f in frames if f[1] == P.FT_EVENT]
    assert (P.EV_DROP_CUE, 2) in events and (P.EV_DROP_END, 2) in events  # right side low


def test_motor_pulses_are_capped_and_do_not_stack():
    clock = FakeClock()
    pin = FakePin(clock)
    m = A.Motor(pin, clock)
    m.pulse(10000)
    m.pulse(200)  # ignored while on
    for _ in range(200):
        clock.sleep_ms(5)
        m.service(clock.ticks_ms())
    assert pin.rises == 1 and pin.max_on_ms == A.MAX_PULSE_MS and pin.level == 0
    m.pulse(50, count=100, gap_ms=50)
    for _ in range(400):
        clock.sleep_ms(5)
        m.service(clock.ticks_ms())
    assert pin.rises == 1 + A.MAX_PULSES and pin.max_on_ms == A.MAX_PULSE_MS
    m.pulse(100)
    m.stop()
    assert pin.level == 0 and m.pulse(0) is None and pin.rises == 2 + A.MAX_PULSES


def test_the_motor_is_switched_off_when_the_loop_dies():
    class Broken(Exception):
        pass

    clock, dev, hal, wire, app = _running()

    def write(buf):
        raise Broken()

    app.framer.write = write
    app.motor.pulse(A.MAX_PULSE_MS)
    dev.advance(10)
    try:
        A.loop(app)
    except Broken:
        pass
    else:
        raise AssertionError("the loop swallowed the error")
    assert hal.motor.level == 0 and hal.led.level == 0 and hal.motor.rises == 1


def test_a_fifo_overflow_closes_the_batch_reports_the_loss_and_indices_jump_by_it():
    clock, dev, hal, wire, app = _running()
    _step(app, dev, 3, LEVEL)  # 113 samples: a batch of 5 is part-filled
    dev.advance(300)  # the loop stalls for 3 s
    A.service(app)
    _step(app, dev, 15, LEVEL)
    frames, other = unframe(wire.data)
    assert other == []
    ev = [f for f in frames if f[1] == P.FT_EVENT and f[4] == P.EV_FIFO_OVERFLOW]
    assert len(ev) == 1
    assert P.get_u32(ev[0], 6) == 113 and P.get_i16(ev[0], 14) == 300
    idx = sample_indices(frames)
    assert idx == list(range(113)) + list(range(413, 428))
    assert idx[-1] == dev.samples - 1  # the index is still the chip's sample count


def test_a_bus_error_is_reported_once_and_streaming_resumes_with_the_gap():
    clock, dev, hal, wire, app = _running()
    _step(app, dev, 3, LEVEL)  # a part-filled batch must be closed before the gap
    dev.fail(6)
    _step(app, dev, 6, LEVEL)
    _step(app, dev, 10, LEVEL)
    frames, other = unframe(wire.data)
    assert len(other) == 2
    assert b"bus error" in other[0] and b"IMU back" in other[1]
    assert app.imu.io_errors == 6 and app.imu.resyncs == 1 and app.imu.overflows == 0
    assert not [f for f in frames if f[1] == P.FT_EVENT and f[4] == P.EV_FIFO_OVERFLOW]
    idx = sample_indices(frames)
    assert idx[:113] == list(range(113))
    gap = idx[113] - idx[112]
    assert gap == app.imu.last_lost + 1 and gap > 6
    assert idx[113:] == list(range(idx[113], idx[113] + len(idx) - 113))


def test_the_sample_path_through_driver_pipeline_and_usb_framer_allocates_nothing():
    wire = CountingWire()
    clock, dev, hal, wire, app = _running(wire)

    def drive(n):
        for i in range(n):
            k = i % 300
            if k < 150:
                dev.set_raw(-1423, 8068, 0, 0, 0, 0)
            else:
                dev.set_raw(0, 8192, 0, 3, -2, 1)
            dev.advance(1)
            A.service(app)

    drive(600)  # warm up: first-use views and dict entries
    cues = hal.motor.rises
    written = wire.bytes
    gc.collect()
    if MICROPYTHON:
        import micropython

        before = gc.mem_alloc()
        micropython.heap_lock()
        try:
            drive(900)
        finally:
            micropython.heap_unlock()
        assert gc.mem_alloc() - before == 0
    else:
        drive(900)
    assert hal.motor.rises - cues == 3  # the cue path ran inside the locked section
    assert wire.bytes > written and app.imu.losses == 0


def test_safe_mode_needs_a_steady_press_inside_the_window():
    def trace(levels):
        clock = FakeClock()
        seq = list(levels)

        def read():
            t = clock.ticks_ms() // 10
            return seq[t] if t < len(seq) else 1

        return safemode.held(read, clock.sleep_ms, 1000), clock.ticks_ms()

    assert trace([0] * 5) == (True, 20)  # held from the start: decided in 30 ms
    assert trace([1] * 200) == (False, 1000)
    assert trace([0, 0, 1] * 50) == (False, 1000)  # bounce, never 3 polls in a row
    assert trace([1] * 90 + [0] * 5)[0]  # pressed late in the window still counts
    assert not trace([1] * 101 + [0] * 5)[0]  # after the window it does not


def test_board_pins_are_distinct_ints_and_only_hal_imports_machine():
    pins = (board.I2C_SDA, board.I2C_SCL, board.MOTOR_PIN, board.SAFE_MODE_PIN,
            board.BATTERY_ADC_PIN, board.LED_PIN)
    assert len(set(pins)) == len(pins) and all(type(p) is int for p in pins)
    assert board.I2C_FREQ == 400000 and board.SAFE_MODE_PIN == 0
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
