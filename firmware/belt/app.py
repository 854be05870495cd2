"""The belt's main loop: IMU FIFO -> pipeline -> USB frames, plus the motor and the LED.

    run()  builds the hal (the only `machine` user), then `start` and `loop` forever.
    start(hal)  finds the MPU-6050 (0x68, then 0x69), sends INFO, returns the app state.
    service(app)  one pass of the loop; tests call it with a fake hal.
    loop(app)  service every LOOP_MS; motor and LED off on any way out.

With no IMU the belt says so once (a text line on the console, an INFO frame with imu
code 0x00), shows a distinct pattern (LED: three quick flashes every 2 s; motor: two
short buzzes once) and keeps retrying the bus every few seconds instead of crashing.

Text lines share the serial link with the frames, so each ends with a 0x00: the host's
deframer drops the line as one damaged block and resynchronises before the next frame.

The motor is driven with plain timed pulses under hard caps (no haptic patterns yet).
"""

import gc

from belt import VERSION, board
from belt import imu_mpu6050 as _imu
from belt import protocol as _p
from belt.pipeline import STATE_RUNNING, Pipeline

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

RATE_HZ = const(100)
USB_BATCH = const(5)  # 50 ms of samples per frame at 100 Hz (docs/protocol.md)
LOOP_MS = const(5)
RETRY_MS = const(5000)  # no IMU: probe the bus again this often

IMU_NONE = const(0x00)
IMU_MPU6050 = const(0x68)

CUE_MS = const(150)
MAX_PULSE_MS = const(300)  # no single on-time is ever longer (in software; see README)
MAX_PULSES = const(5)
NO_IMU_PULSES = const(2)
NO_IMU_PULSE_MS = const(120)
NO_IMU_GAP_MS = const(200)

MODE_RUNNING = const(1)
MODE_NO_IMU = const(2)


class Motor:
    """Timed on/off pulses on one output; `service(now)` must run every loop."""

    def __init__(self, pin, clock):
        self.pin = pin
        self.clock = clock
        self.on = False
        self.on_ms = 0
        self.gap_ms = 0
        self.left = 0  # pulses still to start after the current one
        self.since = 0  # ticks when the current on or off phase began
        self.pulses = 0
        pin.value(0)

    def pulse(self, on_ms, count=1, gap_ms=0):
        """Start `count` pulses of `on_ms` (capped); ignored while a pattern is playing."""
        if self.on or self.left:
            return
        if on_ms > MAX_PULSE_MS:
            on_ms = MAX_PULSE_MS
        if on_ms <= 0 or count <= 0:
            return
        if count > MAX_PULSES:
            count = MAX_PULSES
        self.on_ms = on_ms
        self.gap_ms = gap_ms
        self.left = count - 1
        self._switch(True, self.clock.ticks_ms())

    def cue(self, side):
        """Pipeline hook (`Pipeline.on_cue`): one short buzz for a confirmed drop."""
        self.pulse(CUE_MS)

    def _switch(self, on, now):
        self.on = on
        self.since = now
        if on:
            self.pulses += 1
        self.pin.value(1 if on else 0)

    def service(self, now):
        if self.on:
            if self.clock.ticks_diff(now, self.since) >= self.on_ms:
                self._switch(False, now)
        elif self.left and self.clock.ticks_diff(now, self.since) >= self.gap_ms:
            self.left -= 1
            self._switch(True, now)

    def stop(self):
        self.left = 0
        if self.on:
            self._switch(False, self.clock.ticks_ms())


class App:
    """Everything the loop needs; built by `start`."""

    def __init__(self, hal, rate_hz, batch):
        self.hal = hal
        self.rate_hz = rate_hz
        self.batch = batch
        self.flags = 1 if board.MOTOR_COUNT > 1 else 0
        self.framer = _p.UsbFramer(hal.write)
        self.encoder = _p.FrameEncoder(self.framer.send, batch)
        self.pipeline = Pipeline(rate_hz, self.encoder)
        self.motor = Motor(hal.motor, hal)
        # Pipeline initialises on_cue to None, so pyright infers that as its only type.
        self.pipeline.on_cue = self.motor.cue  # pyright: ignore[reportAttributeAccessIssue]
        self.imu = None
        self.mode = MODE_NO_IMU
        self.retry_at = 0
        self.losses_seen = 0
        self.overflows_seen = 0
        self.resyncs_seen = 0
        self.bus_fault = False
        self.led_level = -1
        self.loops = 0


def say(app, text):
    """One status line on the console, ended by 0x00 so the host resynchronises."""
    app.hal.write(("LevelBelt: " + text + "\r\n").encode())
    app.hal.write(b"\x00")


def find_imu(i2c, clock):
    """(driver, None) for the first MPU-6050 answering, else (None, reason)."""
    reasons = []
    for addr in _imu.ADDRESSES:
        try:
            return _imu.MPU6050(i2c, clock, addr), None
        except _imu.ImuError as e:
            reasons.append(str(e))
    try:
        found = ", ".join("0x%02x" % a for a in i2c.scan())
    except OSError:
        found = "scan failed"
    return None, "; ".join(reasons) + "; devices on the bus: [" + found + "]"


def _attach(app, now):
    """Probe for the IMU; on success configure it and switch to streaming."""
    imu, reason = find_imu(app.hal.i2c, app.hal)
    if imu is not None:
        try:
            imu.configure(app.rate_hz)
        except OSError as e:
            imu = None
            reason = "MPU-6050 stopped answering during set-up (OSError %s)" % e.args[0]
    if imu is None:
        app.retry_at = now + RETRY_MS
        return reason
    app.imu = imu
    app.losses_seen = imu.losses
    app.overflows_seen = imu.overflows
    app.resyncs_seen = imu.resyncs
    app.mode = MODE_RUNNING
    app.encoder.info(VERSION, IMU_MPU6050, app.rate_hz, app.batch, app.flags)
    return None


def start(hal, rate_hz=RATE_HZ, batch=USB_BATCH):
    """Build the app on `hal`, find and start the IMU, send INFO."""
    app = App(hal, rate_hz, batch)
    now = hal.ticks_ms()
    reason = _attach(app, now)
    if reason is not None:
        say(app, "no IMU found, retrying every %d s (%s)" % (RETRY_MS // 1000, reason))
        app.encoder.info(VERSION, IMU_NONE, rate_hz, batch, app.flags)
        app.motor.pulse(NO_IMU_PULSE_MS, NO_IMU_PULSES, NO_IMU_GAP_MS)
    return app


def led_level(app, now):
    """No IMU: three 100 ms flashes every 2 s. Calibrating: on. Running: 50 ms per second."""
    if app.mode == MODE_NO_IMU:
        t = now % 2000
        return 1 if t < 500 and (t // 100) % 2 == 0 else 0
    if app.pipeline.state != STATE_RUNNING:
        return 1
    return 1 if now % 1000 < 50 else 0


def _stream(app):
    imu = app.imu
    n = imu.drain(app.pipeline)
    if imu.losses != app.losses_seen:
        # Close the batch before the gap: a SAMPLES frame holds consecutive samples only.
        # (The host sees every gap as a jump in the index; overflows are also events.)
        app.losses_seen = imu.losses
        app.encoder.flush()
        if imu.overflows != app.overflows_seen:
            app.overflows_seen = imu.overflows
            lost = imu.last_lost
            first = app.pipeline.index + 1
            app.encoder.event(_p.EV_FIFO_OVERFLOW, 0, first, first,
                              lost if lost < 0x7FFF else 0x7FFF)
    if imu.resyncs != app.resyncs_seen:
        app.resyncs_seen = imu.resyncs
        if app.bus_fault:
            app.bus_fault = False
            say(app, "IMU back after a bus error, %d samples lost" % imu.last_lost)
    elif imu.io_errors and not app.bus_fault and imu.resync_pending():
        app.bus_fault = True
        say(app, "IMU bus error, re-initialising (errors so far: %d)" % imu.io_errors)
    return n


def service(app):
    """One pass of the main loop; returns the number of samples processed."""
    hal = app.hal
    now = hal.ticks_ms()
    n = 0
    if app.mode == MODE_RUNNING:
        n = _stream(app)
    elif hal.ticks_diff(now, app.retry_at) >= 0:
        if _attach(app, now) is None:
            say(app, "IMU found, streaming")
    app.motor.service(hal.ticks_ms())
    level = led_level(app, now)
    if level != app.led_level:
        app.led_level = level
        hal.led.value(level)
    app.loops += 1
    return n


def loop(app, loops=-1):
    """`service` every LOOP_MS, forever unless `loops` >= 0 (tests run a bounded number).

    Whatever ends the loop (a bug, Ctrl-C from the REPL), the motor and LED are switched
    off on the way out, so an interrupted pulse cannot stay on.
    """
    hal = app.hal
    try:
        while loops != 0:
            service(app)
            hal.sleep_ms(LOOP_MS)
            if loops > 0:
                loops -= 1
    finally:
        app.motor.stop()
        hal.led.value(0)
    return app


current = None  # the running App, for inspection from the REPL after Ctrl-C


def run(hal=None, rate_hz=RATE_HZ, loops=-1):
    """The firmware: build the hal (unless given), start, loop."""
    global current
    if hal is None:
        from belt import hal as _hal

        hal = _hal.Hal()
    current = start(hal, rate_hz)
    gc.collect()
    return loop(current, loops)
