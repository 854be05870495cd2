"""A stand-in for MicroPython's `machine` module on the ESP32, so `belt.hal` itself runs
in the tests on CPython and on MicroPython 1.27.

    board = fake_machine.Board()        clock, I2C devices, pin levels, ADC voltages
    hal = fake_machine.load_hal(board)  a fresh `belt.hal` bound to this board

`load_hal` installs this module as `machine` and, while `belt.hal` is imported, a `time`
whose ticks and sleeps run on the board's clock (MicroPython looks in sys.modules before
its built-in modules, so this works on both interpreters). Every object built from here
belongs to the board that was current when it was constructed.

What is modelled (ESP32 port, MicroPython 1.27 docs):
- Pin(id, mode, pull, value=): IN / OUT / OPEN_DRAIN, PULL_UP / PULL_DOWN; value(),
  on(), off(), irq(handler, trigger). An input reads the level the test drives with
  `board.drive(id, level)`, else its pull (up 1, down or none 0). Output levels are
  recorded per pin without allocating: rises, time on, longest on.
- Signal(pin, invert=): value() through an optional inversion.
- I2C(id, scl=, sda=, freq=): the fake bus of fake_i2c over `board.devices`.
- PWM(pin, freq=, duty_u16=): freq(), duty_u16(), deinit(); the pin counts as high
  while the duty is above 0.
- ADC(pin, atten=): atten(), read_u16(), read_uv(); the pin voltage comes from
  `board.volts_uv[id]`, clipped to the attenuation's range (0 dB 950 mV, 2.5 dB 1250 mV,
  6 dB 1750 mV, 11 dB 3100 mV; ESP32-S3 ranges, as the calibrated read_uv reports).
- WDT(id=0, timeout=ms): starts the watchdog; constructing it again changes the timeout
  (the ESP32 port reconfigures the task watchdog). When the board's clock passes the
  last feed + timeout, the next time read, sleep or feed raises `WatchdogReset`, and
  `board.cause` becomes WDT_RESET for the next boot.
- Timer(id): init(mode=, period=, callback=) ONE_SHOT / PERIODIC, deinit(); callbacks
  run when the board's clock sleeps past their time.
- reset_cause() and its constants (values of the ESP32 port: a brown-out reads as
  PWRON_RESET there).
- `board.interrupt_at_ms`: a KeyboardInterrupt (Ctrl-C at the REPL) raised from the
  sleep that reaches that time.
"""

import sys

from fake_i2c import FakeClock, FakeI2C

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class WatchdogReset(Exception):
    """The fake watchdog expired: on a board, the chip would reset here."""


class Board:
    """One fake board: its clock and everything wired to it."""

    def __init__(self, cause=PWRON_RESET):
        self.clock = BoardClock(self)
        self.devices = {}  # I2C address -> fake device (fake_i2c, fake_lsm6dsox)
        self.pins = {}  # pin id -> PinState
        self.volts_uv = {}  # pin id -> microvolts at an ADC pin
        self.cause = cause  # what reset_cause() returns on this boot
        self.wdt_timeout = 0  # ms; 0 until a WDT is created (and again after it fired)
        self.wdt_timeout_set = 0
        self.wdt_fed = 0
        self.wdt_feeds = 0
        self.timers = []
        self.interrupt_at_ms = None  # Ctrl-C from the REPL arrives while sleeping then

    def pin(self, pid):
        st = self.pins.get(pid)
        if st is None:
            st = PinState(self.clock)
            self.pins[pid] = st
        return st

    def drive(self, pid, level):
        """Drive an input from outside (a button, a sensor line); fires its irq."""
        st = self.pin(pid)
        old = st.external
        st.external = level
        if st.handler is not None and old is not None and old != level:
            rising = level and not old
            if st.trigger & (Pin.IRQ_RISING if rising else Pin.IRQ_FALLING):
                st.handler(st.owner)

    def check_watchdog(self):
        if self.wdt_timeout and self.clock.us // 1000 - self.wdt_fed > self.wdt_timeout:
            self.wdt_timeout = 0
            self.cause = WDT_RESET
            raise WatchdogReset("watchdog not fed for over %d ms" % self.wdt_timeout_set)

    def run_timers(self, until_us):
        """Fire every timer due before `until_us`, in time order."""
        while True:
            due = None
            for t in self.timers:
                if t.armed and (due is None or t.due_us < due.due_us):
                    due = t
            if due is None or due.due_us > until_us:
                return
            if due.due_us > self.clock.us:
                self.clock.us = due.due_us
            if due.periodic:
                due.due_us += due.period_us
            else:
                due.armed = False
            due.callback(due)


class BoardClock(FakeClock):
    """The fake clock, plus the watchdog and timers of its board."""

    def __init__(self, board):
        FakeClock.__init__(self)
        self.board = board

    def ticks_ms(self):
        ms = self.us // 1000
        b = self.board
        if b.wdt_timeout and ms - b.wdt_fed > b.wdt_timeout:
            b.check_watchdog()
        return ms

    def sleep_ms(self, ms):
        target = self.us + ms * 1000
        b = self.board
        b.run_timers(target)
        stop = b.interrupt_at_ms
        if stop is not None and target >= stop * 1000:
            b.interrupt_at_ms = None
            self.us = max(self.us, stop * 1000)
            raise KeyboardInterrupt()
        self.us = target
        self.slept_ms += ms
        b.check_watchdog()


class PinState:
    """What one pin is doing; shared by every Pin object built for that id."""

    def __init__(self, clock):
        self.clock = clock
        self.mode = -1
        self.pull = -1
        self.level = 0  # what the firmware drives (outputs)
        self.external = None  # what the outside drives (inputs), None: nothing
        self.handler = None
        self.trigger = 0
        self.owner = None
        self.rises = 0
        self.on_since = 0
        self.max_on_ms = 0
        self.total_on_ms = 0
        self.pwm = None

    def set(self, x):
        now = self.clock.us // 1000
        if x and not self.level:
            self.rises += 1
            self.on_since = now
        elif self.level and not x:
            on = now - self.on_since
            self.total_on_ms += on
            if on > self.max_on_ms:
                self.max_on_ms = on
        self.level = x

    def read(self):
        if self.mode == Pin.OUT:
            return self.level
        if self.external is not None:
            return self.external
        return 1 if self.pull == Pin.PULL_UP else 0


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, pid, mode=-1, pull=-1, value=None):
        self.id = pid
        self.board = _board()
        self.state = self.board.pin(pid)
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        st = self.state
        if mode != -1:
            st.mode = mode
        if pull != -1:
            st.pull = pull
        if value is not None:
            st.set(1 if value else 0)

    def value(self, x=None):
        if x is None:
            return self.state.read()
        self.state.set(1 if x else 0)
        return None

    def on(self):
        self.state.set(1)

    def off(self):
        self.state.set(0)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING):
        st = self.state
        st.handler = handler
        st.trigger = trigger
        st.owner = self


class Signal:
    def __init__(self, pin, invert=False):
        self.pin = pin
        self.invert = 1 if invert else 0

    def value(self, x=None):
        if x is None:
            return self.pin.value() ^ self.invert
        self.pin.value((1 if x else 0) ^ self.invert)
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class I2C(FakeI2C):
    def __init__(self, bus_id, scl=None, sda=None, freq=400000):
        board = _board()
        FakeI2C.__init__(self, board.devices)
        self.id = bus_id
        self.scl = scl
        self.sda = sda
        self.frequency = freq


class PWM:
    def __init__(self, pin, freq=5000, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = 0
        pin.state.pwm = self
        self.duty_u16(duty_u16)

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz
        return None

    def duty_u16(self, duty=None):
        if duty is None:
            return self._duty
        if not 0 <= duty <= 65535:
            raise ValueError("duty_u16 must be 0-65535")
        self._duty = duty
        self.pin.state.set(1 if duty else 0)
        return None

    def deinit(self):
        self.duty_u16(0)
        self.pin.state.pwm = None


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    _RANGE_UV = (950000, 1250000, 1750000, 3100000)

    def __init__(self, pin, atten=ATTN_0DB):
        self.pin = pin
        self.board = _board()
        self._atten = atten
        self.reads = 0

    def atten(self, atten):
        self._atten = atten

    def read_uv(self):
        self.reads += 1
        uv = self.board.volts_uv.get(self.pin.id, 0)
        top = self._RANGE_UV[self._atten]
        return 0 if uv < 0 else (top if uv > top else uv)

    def read_u16(self):
        return self.read_uv() * 65535 // self._RANGE_UV[self._atten]


class WDT:
    def __init__(self, id=0, timeout=5000):
        if id != 0:
            raise ValueError("WDT id must be 0")
        if timeout < 1000:
            raise ValueError("WDT timeout too short")
        b = _board()
        self.board = b
        b.wdt_timeout = timeout
        b.wdt_timeout_set = timeout
        b.wdt_fed = b.clock.us // 1000

    def feed(self):
        b = self.board
        b.check_watchdog()
        b.wdt_fed = b.clock.us // 1000
        b.wdt_feeds += 1


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, tid=0):
        self.id = tid
        self.board = _board()
        self.armed = False
        self.periodic = False
        self.period_us = 0
        self.due_us = 0
        self.callback = None
        self.board.timers.append(self)

    def init(self, mode=PERIODIC, period=-1, callback=None):
        self.periodic = mode == Timer.PERIODIC
        self.period_us = period * 1000
        self.due_us = self.board.clock.us + self.period_us
        self.callback = callback
        self.armed = callback is not None

    def deinit(self):
        self.armed = False


_current = [Board()]


def _board():
    return _current[0]


def reset_cause():
    return _board().cause


class _Time:
    """The `time` functions hal binds at import, on the current board's clock."""

    def ticks_ms(self):
        return _board().clock.ticks_ms()

    def ticks_us(self):
        return _board().clock.us

    def ticks_diff(self, a, b):
        return a - b

    def ticks_add(self, a, b):
        return a + b

    def sleep_ms(self, ms):
        _board().clock.sleep_ms(ms)


def install(board):
    """Make `board` current and this module importable as `machine`."""
    _current[0] = board
    sys.modules["machine"] = sys.modules[__name__]
    return board


def load_hal(board):
    """A freshly imported `belt.hal` whose `machine` and `time` are this board's."""
    install(board)
    saved = sys.modules.get("time")
    sys.modules.pop("belt.hal", None)
    sys.modules["time"] = _Time()
    try:
        __import__("belt.hal")
        hal = sys.modules["belt.hal"]
    finally:
        if saved is None:
            sys.modules.pop("time", None)
        else:
            sys.modules["time"] = saved
    return hal
