"""The board's hardware access: the only module that imports `machine`.

Everything else takes the objects built here as parameters, so tests pass fakes with the
same shape (tests/firmware/fake_machine.py runs this very module on a fake board):

    hal.i2c          machine.I2C on the pins in board.py
    hal.motors       MOTOR_COUNT motor outputs (left hip first), .value(1) on / .value(0) off
    hal.motor        the first motor (for the REPL)
    hal.led          user LED as a machine.Signal (1 = lit, whatever the pin polarity)
    hal.battery_adc  machine.ADC on the battery divider (11 dB: read_uv up to ~3.1 V)
    hal.timer        machine.Timer for the motor's one-shot backstop (see haptics.py)
    hal.write(buf)   raw bytes to the USB serial console (no newline translation)
    hal.ticks_ms()   hal.ticks_diff(a, b)   hal.sleep_ms(ms)
    hal.start_watchdog()   hal.feed()   hal.relax_watchdog()
    hal.ble          bluetooth.BLE() (None on a build without Bluetooth), and
    hal.uuid         the bluetooth.UUID class, both handed to belt/ble.py

`reset_cause()` says why the chip started (MicroPython's ESP32 port reports a brown-out
as a power-on reset, so the two cannot be told apart). Nothing here runs on import
except looking up functions; pins are claimed by `Hal()`, and the watchdog only starts
when the app asks, so a REPL session that builds a `Hal()` is never reset under it.
"""

import sys
import time

import machine

from belt import board, safemode

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

WDT_TIMEOUT_MS = const(5000)  # the loop feeds it every pass (5 ms); a stall resets the chip
WDT_RELAXED_MS = const(3600000)  # after Ctrl-C: an hour of REPL before it bites
BACKSTOP_TIMER_ID = const(0)

CAUSE_NAMES = {
    machine.PWRON_RESET: "power-on or brown-out",
    machine.HARD_RESET: "hard reset or crash",
    machine.WDT_RESET: "watchdog",
    machine.DEEPSLEEP_RESET: "deep sleep",
    machine.SOFT_RESET: "soft reset",
}


def reset_cause():
    """(code, name) of the last reset; code as machine.reset_cause() (3 = watchdog)."""
    code = machine.reset_cause()
    return code, CAUSE_NAMES.get(code, "unknown (%d)" % code)


def _led():
    pin = machine.Pin(board.LED_PIN, machine.Pin.OUT, value=1 if board.LED_ACTIVE_LOW else 0)
    return machine.Signal(pin, invert=bool(board.LED_ACTIVE_LOW))


def safe_mode_requested():
    """True when BOOT is held in the window after reset (LED lit while the window is open).

    BOOT held *through* reset selects the ESP32 ROM download mode instead of MicroPython,
    so the button counts when it is pressed right after reset.
    """
    pin = machine.Pin(board.SAFE_MODE_PIN, machine.Pin.IN, machine.Pin.PULL_UP)
    led = _led()
    led.value(1)
    try:
        return safemode.held(pin.value, time.sleep_ms, board.SAFE_MODE_WINDOW_MS)
    finally:
        led.value(0)


class Hal:
    """Claims the bus and pins of board.py; attributes as in the module docstring.

    `write` replaces the USB console writer (tests capture the bytes with it).
    """

    def __init__(self, write=None):
        # Motors first and low: they must never run while the rest comes up.
        pins = (board.MOTOR_PIN, board.MOTOR2_PIN)[: board.MOTOR_COUNT]
        self.motors = [machine.Pin(p, machine.Pin.OUT, value=0) for p in pins]
        self.motor = self.motors[0]
        self.i2c = machine.I2C(
            board.I2C_ID,
            scl=machine.Pin(board.I2C_SCL),
            sda=machine.Pin(board.I2C_SDA),
            freq=board.I2C_FREQ,
        )
        self.led = _led()
        self.battery_adc = machine.ADC(machine.Pin(board.BATTERY_ADC_PIN),
                                       atten=machine.ADC.ATTN_11DB)
        self.timer = machine.Timer(BACKSTOP_TIMER_ID)
        self.wdt = None
        # The binary stream under sys.stdout: COBS frames contain 0x0A bytes that the text
        # stream would turn into CR LF.
        self.write = write if write is not None else sys.stdout.buffer.write
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.sleep_ms = time.sleep_ms
        # The radio: this is the only `bluetooth` import, belt/ble.py gets the objects.
        try:
            import bluetooth
        except ImportError:
            self.ble = None
            self.uuid = None
        else:
            self.ble = bluetooth.BLE()
            self.uuid = bluetooth.UUID

    def start_watchdog(self, timeout_ms=WDT_TIMEOUT_MS):
        """Start the hardware watchdog: from now on `feed` must run every timeout_ms."""
        self.wdt = machine.WDT(timeout=timeout_ms)

    def feed(self):
        """Once per loop pass; a loop that stalls stops feeding and the chip resets."""
        if self.wdt is not None:
            self.wdt.feed()

    def relax_watchdog(self):
        """The app was stopped from the REPL (Ctrl-C): the ESP32 cannot stop its
        watchdog, so give it an hour instead of resetting under the user."""
        if self.wdt is not None:
            self.wdt = machine.WDT(timeout=WDT_RELAXED_MS)
            self.wdt.feed()
