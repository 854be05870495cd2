"""What both FIFO IMU drivers share: identity check, register access, loss accounting.

`FifoImu` holds everything that is the same for the MPU-6050 and the LSM6DSOX: the
WHO_AM_I check in the constructor (ImuAbsent / ImuWrongId), one-register reads and
writes through a preallocated buffer, the FIFO read buffer with its memoryview slices
built once, the counters of the drivers' common surface (belt/imu.py), the elapsed-time
estimate of what an overflow or a bus fault lost, and `drain`, which turns bus errors
into a re-initialisation on the next call instead of an exception.

A driver subclass supplies `configure(rate_hz)`, `_reset_fifo()` and `_drain(sink)`.
The per-sample loop stays written out inside each driver's `_drain` (one loop per
burst, state in locals): only per-drain and per-fault work lives here, so the shared
code adds no work per sample.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

LOST_MAX = const(0x3FFFFFFF)  # a loss is clamped so the index arithmetic stays small ints


def high_byte_tables(acc_mul, acc_add, gyr_mul, gyr_add):
    """Two 256-entry tables, per high byte h of a signed count: the part of a count-to-unit
    conversion `(raw * mul + add) // div` that does not depend on the low byte l, with
    raw = h * 256 (h read as signed). Adding l * mul gives the numerator without
    assembling the count first, so a driver's per-sample loop needs no helper calls.
    The caller keeps every value a small int (|v| < 2^30)."""
    from array import array

    acc = array("i", bytes(1024))
    gyr = array("i", bytes(1024))
    for h in range(256):
        s = h - 256 if h & 0x80 else h
        acc[h] = s * 256 * acc_mul + acc_add
        gyr[h] = s * 256 * gyr_mul + gyr_add
    return acc, gyr


class ImuError(Exception):
    """No usable IMU at an address; the message says what was found and what to check."""


class ImuAbsent(ImuError):
    pass


class ImuWrongId(ImuError):
    pass


class FifoImu:
    """One chip on `i2c` at `addr`; `clock` has ticks_ms(), ticks_diff(a, b), sleep_ms(ms).

    The constructor only reads WHO_AM_I at `who_reg` (ImuAbsent when nothing answers,
    ImuWrongId with `other_ids` in the message when something else does). `frame` is
    the bytes per FIFO record or word, `chunk` how many one I2C burst reads.
    """

    NAME = "IMU"

    def __init__(self, i2c, clock, addr, frame, chunk, who_reg, who_value, other_ids):
        self.i2c = i2c
        self.clock = clock
        self.addr = addr
        self._reg = bytearray(2)
        self._reg1 = memoryview(self._reg)[:1]
        self._buf = bytearray(frame * chunk)
        mv = memoryview(self._buf)
        self._views = [mv[: frame * k] for k in range(chunk + 1)]
        self.rate_hz = 0  # the chip's sample rate after configure
        self.samples = 0  # samples handed to sinks
        self.overflows = 0
        self.resyncs = 0  # re-initialisations after a bus error
        self.losses = 0  # overflows + resyncs: bumps whenever samples were lost
        self.lost = 0  # samples lost in total
        self.last_lost = 0  # samples lost at the latest loss
        self.io_errors = 0
        self._gap = 1  # sample periods from the previous pushed sample to the next one
        self._unread = 0  # samples counted in the FIFO but not yet pushed
        self._t0 = 0  # ticks_ms when the FIFO last held nothing we had not counted
        self._resync = False
        try:
            who = self._read8(who_reg)
        except OSError as e:
            raise ImuAbsent(
                "no %s at I2C 0x%02x (no answer, OSError %s): check SDA/SCL, 3V3, GND and "
                "pull-ups" % (self.NAME, addr, e.args[0] if e.args else "?")
            ) from None
        if who != who_value:
            raise ImuWrongId(
                "I2C 0x%02x answered WHO_AM_I 0x%02x, expected 0x%02x: not an %s (%s)"
                % (addr, who, who_value, self.NAME, other_ids)
            )

    # --------------------------------------------------------------- what a driver gives

    def configure(self, rate_hz):
        """Reset the chip and start its FIFO at `rate_hz`; sets `rate_hz` and `_t0`."""
        raise NotImplementedError

    def _reset_fifo(self):
        """Empty the chip's FIFO and keep it filling."""
        raise NotImplementedError

    def _drain(self, sink):
        """Push every whole sample queued in the FIFO (OSError on a bus fault)."""
        raise NotImplementedError

    # --------------------------------------------------------------- shared

    def _read8(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._reg1)
        return self._reg[0]

    def _write8(self, reg, value):
        self._reg[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._reg1)

    def _due(self, since, now):
        """Samples the chip produced between two ticks_ms readings, rounded."""
        ms = self.clock.ticks_diff(now, since)
        if ms < 0:
            ms = 0
        return (ms * self.rate_hz + 500) // 1000

    def _record_loss(self, lost):
        if lost > LOST_MAX:
            lost = LOST_MAX
        self.losses += 1
        self.last_lost = lost
        self.lost += lost
        self._gap += lost

    def _overflowed(self, now, queued):
        """The FIFO overflowed: reset it, and count as lost what the chip produced since
        the last look (from the elapsed time), never less than the `queued` samples."""
        self._reset_fifo()
        lost = self._due(self._t0, now)
        if lost < queued:
            lost = queued
        self._t0 = now
        self.overflows += 1
        self._record_loss(lost)

    def drain(self, sink):
        """Hand every complete sample in the FIFO to `sink.push`; returns how many.

        `sink.push(ax, ay, az, gx, gy, gz, n)` as `belt.pipeline.Pipeline.push`: n is 1,
        or 1 + the samples lost to an overflow or a bus fault. A drain that finds an
        overflow (or recovers from a bus error) resets the FIFO and pushes nothing, so a
        caller can close its batch before the gap. Bus errors (OSError) are counted in
        `io_errors`, never raised; the next drain re-initialises the chip (it may have
        lost power) and accounts the samples missed meanwhile.
        """
        before = self.samples
        try:
            if self._resync:
                self._recover()
            else:
                self._drain(sink)
        except OSError:
            self.io_errors += 1
            self._resync = True
        return self.samples - before

    def resync_pending(self):
        """True after a bus error until the chip has been re-initialised."""
        return self._resync

    def _recover(self):
        since = self._t0
        self.configure(self.rate_hz)  # sets _t0 to the moment the FIFO restarted
        lost = self._due(since, self._t0) + self._unread
        self._unread = 0
        self._resync = False
        self.resyncs += 1
        self._record_loss(lost)
