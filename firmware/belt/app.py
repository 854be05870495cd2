"""The belt's main loop: IMU FIFO -> pipeline -> frames, plus haptics, battery, LED.

    run()  builds the hal (the only `machine` user), loads the settings, starts the
           watchdog, then `start` and `loop` forever.
    start(hal, settings=)  applies the settings, finds the IMU (imu.find: MPU-6050 or
           LSM6DSOX), sends INFO, returns the app state. Nothing is written at start.
    service(app)  one pass of the loop (tests call it on a fake board): feed the
           watchdog, drain the FIFO through the pipeline, links, haptics (the detector is
           blanked while a motor runs), battery, a changed calibration saved, the LED.
    loop(app)  service every LOOP_MS; motors and LED off on any way out.

With no IMU (or an unsupported one) the belt says so once (a text line on the console,
an INFO frame with imu code 0x00, STATUS state 2 or 3), shows a distinct pattern (LED:
three quick flashes every 2 s; motor: NO_IMU, long-long, or FAULT for an unsupported
chip) and keeps retrying the bus every few seconds instead of crashing.

Text lines share the serial link with the frames, so each ends with a 0x00: the host's
deframer drops the line as one damaged block and resynchronises before the next frame.
"""

import gc

from belt import VERSION, board
from belt import battery as _battery
from belt import haptics as _haptics
from belt import imu as _imu
from belt import protocol as _p
from belt import settings as _settings
from belt.links import Links
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

IMU_NONE = const(0x00)  # INFO imu codes (imu.CHIP_*)
IMU_MPU6050 = const(0x68)
IMU_LSM6DSOX = const(0x6C)

SETTLE_MS = const(150)  # the detector stays blanked this long after a motor stops
SAVE_AFTER_MS = const(10000)  # no settings writes in the first 10 s after power-up
WDT_RESET = const(3)  # machine.WDT_RESET (hal.reset_cause code)

MODE_RUNNING = const(1)
MODE_NO_IMU = const(2)

# STATUS `state`: the pipeline's 0 calibrating / 1 running, or why nothing streams.
STATE_NO_IMU = const(2)
STATE_BAD_IMU = const(3)  # a chip answered with an identity this firmware does not drive

# INFO `flags`.
FLAG_TWO_MOTORS = const(0x01)
FLAG_WATCHDOG_RESET = const(0x02)  # this start followed a watchdog reset
FLAG_SETTINGS_DEFAULTED = const(0x04)  # the settings file was unreadable or out of range
FLAG_CALIBRATION_RESTORED = const(0x08)  # bias and neutral came from the settings file


class App:
    """Everything the loop needs; built by `start`."""

    def __init__(self, hal, rate_hz, batch, usb_input=False, settings=None):
        self.hal = hal
        self.settings = settings if settings is not None else _settings.Settings("")
        self.rate_hz = rate_hz
        self.batch = batch
        # A hal with one `motor` and no watchdog, timer or battery ADC works too: the
        # host's simulated board (levelbelt.sim.board) and the link test rigs.
        motors = getattr(hal, "motors", None) or [hal.motor]
        self._feed = getattr(hal, "feed", None)  # bound once: calling it allocates nothing
        self.flags = FLAG_TWO_MOTORS if len(motors) > 1 else 0
        if self.settings.status in (_settings.CORRUPT, _settings.INVALID):
            self.flags |= FLAG_SETTINGS_DEFAULTED
        # Motors first (all off), so nothing below can leave one running.
        self.haptics = _haptics.Haptics(motors, hal, getattr(hal, "timer", None))
        adc = getattr(hal, "battery_adc", None)
        self.battery = (_battery.Battery(adc, hal, board.BATTERY_DIVIDER)
                        if adc is not None else None)
        self.framer = _p.UsbFramer(hal.write)
        # The links (resend ring, USB, BLE when the hal has a radio, commands) wrap the USB
        # encoder; `encoder` is their fan-out, so every frame reaches every link.
        self.links = Links(self, _p.FrameEncoder(self.framer.send, batch), self._say,
                           getattr(hal, "ble", None), getattr(hal, "uuid", None), usb_input,
                           status_state)
        self.encoder = self.links.outlet
        self.pipeline = Pipeline(rate_hz, self.encoder)
        self.settings.apply(self.pipeline)
        if self.pipeline.state == STATE_RUNNING:
            self.flags |= FLAG_CALIBRATION_RESTORED
        self.calibrations_saved = self.pipeline.calibrations
        # Pipeline initialises on_cue to None, so pyright infers that as its only type.
        self.pipeline.on_cue = self.haptics.cue  # pyright: ignore[reportAttributeAccessIssue]
        self.blank_samples = 1
        self.started_at = hal.ticks_ms()
        self.imu = None
        self.imu_status = _imu.FIND_NONE
        self.mode = MODE_NO_IMU
        self.retry_at = 0
        self.losses_seen = 0
        self.overflows_seen = 0
        self.resyncs_seen = 0
        self.bus_fault = False
        self.led_level = -1
        self.loops = 0

    def _say(self, text):
        say(self, text)


def say(app, text):
    """One status line on the console, ended by 0x00 so the host resynchronises."""
    app.hal.write(("LevelBelt: " + text + "\r\n").encode())
    app.hal.write(b"\x00")


def status_state(app):
    """STATUS `state`: 0 calibrating, 1 running, 2 no IMU, 3 unsupported IMU."""
    if app.mode == MODE_NO_IMU:
        return STATE_BAD_IMU if app.imu_status == _imu.FIND_UNKNOWN else STATE_NO_IMU
    return app.pipeline.state


def _attach(app, now):
    """Probe for the IMU; on success configure it and switch to streaming."""
    imu, status, reason = _imu.find(app.hal.i2c, app.hal)
    if imu is not None:
        try:
            imu.configure(app.rate_hz)
        except OSError as e:
            imu = None
            status = _imu.FIND_NONE
            reason = "IMU stopped answering during set-up (OSError %s)" % e.args[0]
    if imu is None:
        app.imu_status = status
        app.retry_at = now + RETRY_MS
        return reason
    app.imu = imu
    app.imu_status = _imu.FIND_OK
    # The sample index counts the chip's own samples: 104 Hz for an LSM6DSOX asked for 100.
    app.pipeline.set_rate(imu.rate_hz)
    app.blank_samples = (SETTLE_MS * imu.rate_hz + 999) // 1000 + 1
    app.losses_seen = imu.losses
    app.overflows_seen = imu.overflows
    app.resyncs_seen = imu.resyncs
    app.mode = MODE_RUNNING
    app.encoder.info(VERSION, imu.CHIP, imu.rate_hz, app.batch, app.flags)
    return None


def start(hal, rate_hz=None, batch=USB_BATCH, usb_input=False, settings=None,
          reset_cause=None):
    """Build the app on `hal`, find and start the IMU, send INFO.

    `settings` (settings.Settings) are applied as they are; without them the factory
    defaults are used and nothing is ever written. `rate_hz` (100 or 200) overrides the
    stored rate. `reset_cause` is hal.reset_cause()'s (code, name): a watchdog reset is
    reported on the console and in the INFO flags.
    """
    if rate_hz is None:
        rate_hz = settings.rate_hz if settings is not None else RATE_HZ
    app = App(hal, rate_hz, batch, usb_input, settings)
    if reset_cause is not None and reset_cause[0] == WDT_RESET:
        app.flags |= FLAG_WATCHDOG_RESET
        say(app, "started after a watchdog reset: the loop had stalled")
    s = app.settings
    if s.status in (_settings.CORRUPT, _settings.INVALID):
        say(app, "factory settings in use: %s" % s.reason)
    now = hal.ticks_ms()
    reason = _attach(app, now)
    if reason is not None:
        say(app, "no IMU found, retrying every %d s (%s)" % (RETRY_MS // 1000, reason))
        app.encoder.info(VERSION, IMU_NONE, rate_hz, batch, app.flags)
        app.haptics.play(_haptics.PAT_FAULT if app.imu_status == _imu.FIND_UNKNOWN
                         else _haptics.PAT_NO_IMU)
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


def _haptics_and_battery(app, now):
    hap = app.haptics
    hap.service(now)
    if hap.active:
        # The buzz shakes the IMU: no new drop starts while it runs and SETTLE_MS after.
        p = app.pipeline
        p.detector.blank(p.index + app.blank_samples)
    bat = app.battery
    if bat is None or not bat.update(now, hap.active):
        return
    if bat.critical != hap.inhibited:
        hap.inhibit(bat.critical)
        say(app, ("battery critical (%d mV): motor off, streaming on" if bat.critical
                  else "battery recovered (%d mV): motor on again") % bat.mv)
    elif bat.remind(now):
        hap.play(_haptics.PAT_LOW_BATTERY)


def _save_calibration(app, now):
    """Keep a completed calibration, but never in the first seconds after power-up (a
    supply that is still coming up, or browning out, must not meet a flash write)."""
    bat = app.battery
    if app.hal.ticks_diff(now, app.started_at) < SAVE_AFTER_MS or (
            bat is not None and bat.critical):
        return
    app.calibrations_saved = app.pipeline.calibrations
    reason = app.settings.save_calibration(app.pipeline)
    if reason is not None:
        say(app, reason)


def service(app):
    """One pass of the main loop; returns the number of samples processed."""
    hal = app.hal
    if app._feed is not None:
        app._feed()
    now = hal.ticks_ms()
    n = 0
    if app.mode == MODE_RUNNING:
        n = _stream(app)
    elif hal.ticks_diff(now, app.retry_at) >= 0:
        if _attach(app, now) is None:
            say(app, "IMU found, streaming")
    app.links.service(now)
    _haptics_and_battery(app, hal.ticks_ms())
    if app.pipeline.calibrations != app.calibrations_saved:
        _save_calibration(app, now)
    level = led_level(app, now)
    if level != app.led_level:
        app.led_level = level
        hal.led.value(level)
    app.loops += 1
    return n


def loop(app, loops=-1):
    """`service` every LOOP_MS, forever unless `loops` >= 0 (tests run a bounded number).

    Whatever ends the loop (a bug, Ctrl-C from the REPL), the motors and LED are switched
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
        app.haptics.stop()
        app.links.close()
        hal.led.value(0)
    return app


current = None  # the running App, for inspection from the REPL after Ctrl-C


def run(hal=None, rate_hz=None, loops=-1, settings=None, reset_cause=None):
    """The firmware: build the hal (unless given), load the settings (unless given),
    start, start the watchdog, loop.

    A crash leaves the watchdog running, so the board restarts by itself within 5 s;
    Ctrl-C (KeyboardInterrupt) relaxes it so the REPL stays usable.
    """
    global current
    board_hal = hal is None  # on the board: also read commands from the USB console
    if hal is None:
        from belt import hal as _hal

        hal = _hal.Hal()
    if settings is None:
        settings = _settings.load()
    current = start(hal, rate_hz, usb_input=board_hal, settings=settings,
                    reset_cause=reset_cause)
    gc.collect()
    if hasattr(hal, "start_watchdog"):
        hal.start_watchdog()
    try:
        return loop(current, loops)
    except KeyboardInterrupt:
        if hasattr(hal, "relax_watchdog"):
            hal.relax_watchdog()
        raise
