"""The board's hardware access: the only module that imports `machine`.

Everything else takes the objects built here as parameters, so tests pass fakes with the
same shape (see tests/firmware/fake_i2c.py and tests/firmware/test_app.py):

    hal.i2c          machine.I2C on the pins in board.py
    hal.motor        motor output, .value(1) on / .value(0) off
    hal.led          user LED as a machine.Signal (1 = lit, whatever the pin polarity)
    hal.write(buf)   raw bytes to the USB serial console (no newline translation)
    hal.ticks_ms()   hal.ticks_diff(a, b)   hal.sleep_ms(ms)

Nothing here runs on import except looking up functions; pins are claimed by `Hal()`.
"""

import sys
import time

import machine

from belt import board, safemode


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
    """Claims the bus and pins of board.py; attributes as in the module docstring."""

    def __init__(self):
        self.i2c = machine.I2C(
            board.I2C_ID,
            scl=machine.Pin(board.I2C_SCL),
            sda=machine.Pin(board.I2C_SDA),
            freq=board.I2C_FREQ,
        )
        self.motor = machine.Pin(board.MOTOR_PIN, machine.Pin.OUT, value=0)
        self.led = _led()
        # The binary stream under sys.stdout: COBS frames contain 0x0A bytes that the text
        # stream would turn into CR LF.
        self.write = sys.stdout.buffer.write
        self.ticks_ms = time.ticks_ms
        self.ticks_diff = time.ticks_diff
        self.sleep_ms = time.sleep_ms
