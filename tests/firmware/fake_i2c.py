"""A fake I2C bus and a register-level fake MPU-6050, written from the register map.

Runs on CPython and MicroPython (no dataclasses, no typing) and allocates nothing on the
sample path (`advance`, FIFO reads), so heap-locked tests can drive it. `FakeChip` is
what every fake chip on the bus shares (fault injection, the counts it measures, the
write log, burst transactions); fake_lsm6dsox.py builds on it too.

Time: a `FakeClock` in microseconds is shared by the chip and the code under test
(ticks_ms / ticks_diff / sleep_ms). The chip produces samples on its own sample clock
(gyro output rate / (1 + SMPLRT_DIV), 1 kHz with the DLPF on, 8 kHz with it off) for
whatever time has passed, so sleeping in the code under test fills the FIFO too.
`advance(n)` moves time forward by exactly n sample periods.

Modelled from the datasheet / register map (rev 4.2):
- WHO_AM_I (0x75) reads 0x68 at either address (AD0 is not reflected).
- Reset values: 0 everywhere except PWR_MGMT_1 = 0x40 (asleep) and WHO_AM_I. DEVICE_RESET
  (PWR_MGMT_1 bit 7) restores them and empties the FIFO. Asleep, nothing is sampled.
- Burst reads and writes auto-increment the register address, except at FIFO_R_W
  (0x74), where every byte read pops the FIFO (reading it empty repeats the last byte).
- FIFO_COUNT_H/L (0x72/0x73) big-endian. The FIFO is 1024 bytes, filled only while
  USER_CTRL.FIFO_EN is set, one record per sample holding the sources enabled in FIFO_EN
  in register order: accel X/Y/Z, temperature, gyro X, Y, Z, each int16 big-endian.
- Overflow: the oldest bytes are dropped to make room (so reads become misaligned, 1024
  not being a multiple of 12) and INT_STATUS.FIFO_OFLOW_INT is set, but only when
  FIFO_OFLOW_EN is on in INT_ENABLE (the stricter reading of the register map, so a
  driver that forgets to enable it fails here). INT_STATUS clears when read.
- USER_CTRL.FIFO_RESET empties the FIFO only when written with FIFO_EN = 0 (as the
  register map requires) and always reads back 0.
- An absent address, or a present chip told to fail, raises OSError(errno) the way
  MicroPython's machine.I2C does for a NACK (ENODEV) or a bus timeout (ETIMEDOUT).
"""

import errno

WHO_AM_I = 0x75
SMPLRT_DIV = 0x19
CONFIG = 0x1A
FIFO_EN = 0x23
INT_ENABLE = 0x38
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
TEMP_OUT_H = 0x41
GYRO_XOUT_H = 0x43
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
FIFO_COUNT_H = 0x72
FIFO_COUNT_L = 0x73
FIFO_R_W = 0x74

FIFO_SIZE = 1024
_READ_ONLY = (INT_STATUS, FIFO_COUNT_H, FIFO_COUNT_L, WHO_AM_I)


class FakeClock:
    """Microsecond clock with the MicroPython `time` functions the firmware uses."""

    def __init__(self):
        self.us = 0
        self.slept_ms = 0

    def ticks_ms(self):
        return self.us // 1000

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.us += ms * 1000
        self.slept_ms += ms


class FakeChip:
    """The bus side every fake chip shares; a chip supplies `catch_up()` (take the samples
    due by now), `_read(reg)`, `_write(reg, value)`, `_next_reg(reg)` (the address after
    one byte of a burst), `_after_n(n)` (the clock time when n more samples are taken)
    and, for a clear-on-read status register, CLEAR_ON_READ and `_status_read()`.

    Tests drive it with `fail` (bus errors), `set_raw` / `advance` (what it measures and
    how much time passes) and read `writes` ((register, value) in order).
    """

    CLEAR_ON_READ = -1  # no such register unless a chip names one

    def __init__(self, clock, one_g):
        self.clock = clock
        self.raw = [0, 0, one_g, 0, 0, 0]  # ax ay az gx gy gz counts (+1 g on Z at rest)
        self.writes = []  # (register, value) in order, for the configuration tests
        self.fail_count = 0
        self.fail_after = 0
        self.fail_errno = errno.ETIMEDOUT

    def fail(self, count, err=errno.ETIMEDOUT, after=0):
        """After `after` good transactions, the next `count` raise OSError(err)."""
        self.fail_count = count
        self.fail_after = after
        self.fail_errno = err

    def set_raw(self, ax, ay, az, gx, gy, gz):
        """Counts the chip measures from now on (after sampling the time already past)."""
        self.catch_up()
        raw = self.raw
        raw[0] = ax
        raw[1] = ay
        raw[2] = az
        raw[3] = gx
        raw[4] = gy
        raw[5] = gz

    def advance(self, n, accel=None, gyro=None):
        """Let exactly `n` sample periods pass (new accel/gyro counts first, if given)."""
        self.catch_up()
        if accel is not None:
            self.raw[0], self.raw[1], self.raw[2] = accel
        if gyro is not None:
            self.raw[3], self.raw[4], self.raw[5] = gyro
        if n <= 0:
            return
        target = self._after_n(n)
        if target > self.clock.us:
            self.clock.us = target
        self.catch_up()

    def _next_reg(self, reg):
        return (reg + 1) & 0x7F

    def _status_read(self):
        pass

    def _check(self):
        if self.fail_count:
            if self.fail_after:
                self.fail_after -= 1
                return
            self.fail_count -= 1
            raise OSError(self.fail_errno)

    def read_into(self, reg, buf):
        """One burst read (FakeI2C.readfrom_mem_into): a byte per register in turn."""
        self._check()
        self.catch_up()
        status = False
        for i in range(len(buf)):
            buf[i] = self._read(reg)
            if reg == self.CLEAR_ON_READ:
                status = True
            reg = self._next_reg(reg)
        if status:
            self._status_read()

    def write_from(self, reg, buf):
        """One burst write (FakeI2C.writeto_mem)."""
        self._check()
        self.catch_up()
        for i in range(len(buf)):
            self._write(reg, buf[i])
            reg = self._next_reg(reg)


class FakeMPU6050(FakeChip):
    CLEAR_ON_READ = INT_STATUS

    def __init__(self, clock, temp_raw=-3920):
        FakeChip.__init__(self, clock, 8192)
        self.regs = bytearray(128)
        self.fifo = bytearray(FIFO_SIZE)
        self.temp_raw = temp_raw  # -3920: 25 degC (raw / 340 + 36.53)
        self.samples = 0  # samples taken since power-on
        self.overflowed = 0  # records that did not fit
        self._head = 0
        self._count = 0
        self._last = 0
        self._next_us = 0
        self.power_on()

    # --- test controls ---------------------------------------------------------------

    def power_on(self):
        """Power-on reset: registers to defaults, FIFO empty (also a brown-out)."""
        regs = self.regs
        for i in range(len(regs)):
            regs[i] = 0
        regs[PWR_MGMT_1] = 0x40
        regs[WHO_AM_I] = 0x68
        self._head = 0
        self._count = 0

    def _after_n(self, n):
        if self.awake():
            return self._next_us + (n - 1) * self.period_us()
        return self.clock.us + n * self.period_us()

    def fifo_bytes(self):
        return self._count

    # --- chip behaviour ----------------------------------------------------------------

    def awake(self):
        return not self.regs[PWR_MGMT_1] & 0x40

    def rate_hz(self):
        return 1000000 // self.period_us()

    def period_us(self):
        dlpf = self.regs[CONFIG] & 0x07
        base = 125 if dlpf == 0 or dlpf == 7 else 1000  # 8 kHz / 1 kHz gyro output
        return base * (1 + self.regs[SMPLRT_DIV])

    def catch_up(self):
        """Take every sample due up to the clock's current time."""
        if not self.awake():
            return
        period = self.period_us()
        now = self.clock.us
        while self._next_us <= now:
            self._sample()
            self._next_us += period

    def _restart_sample_clock(self):
        self._next_us = self.clock.us + self.period_us()

    def _sample(self):
        self.samples += 1
        regs = self.regs
        if regs[INT_ENABLE] & 0x01:
            regs[INT_STATUS] |= 0x01  # DATA_RDY_INT
        if not regs[USER_CTRL] & 0x40:
            return
        en = regs[FIFO_EN]
        raw = self.raw
        if en & 0x08:
            self._push16(raw[0])
            self._push16(raw[1])
            self._push16(raw[2])
        if en & 0x80:
            self._push16(self.temp_raw)
        if en & 0x40:
            self._push16(raw[3])
        if en & 0x20:
            self._push16(raw[4])
        if en & 0x10:
            self._push16(raw[5])

    def _push16(self, v):
        self._push(((v >> 8) & 0xFF))
        self._push(v & 0xFF)

    def _push(self, byte):
        if self._count == FIFO_SIZE:  # full: the oldest byte makes room
            self._head = (self._head + 1) % FIFO_SIZE
            self._count -= 1
            self.overflowed += 1
            if self.regs[INT_ENABLE] & 0x10:
                self.regs[INT_STATUS] |= 0x10  # FIFO_OFLOW_INT
        self.fifo[(self._head + self._count) % FIFO_SIZE] = byte
        self._count += 1

    def _pop(self):
        if self._count:
            self._last = self.fifo[self._head]
            self._head = (self._head + 1) % FIFO_SIZE
            self._count -= 1
        return self._last

    def _sensor_byte(self, reg):
        if reg < TEMP_OUT_H:
            v = self.raw[(reg - ACCEL_XOUT_H) >> 1]
        elif reg < GYRO_XOUT_H:
            v = self.temp_raw
        else:
            v = self.raw[3 + ((reg - GYRO_XOUT_H) >> 1)]
        return (v >> 8) & 0xFF if (reg - ACCEL_XOUT_H) % 2 == 0 else v & 0xFF

    def _read(self, reg):
        if reg == FIFO_R_W:
            return self._pop()
        if reg == FIFO_COUNT_H:
            return self._count >> 8
        if reg == FIFO_COUNT_L:
            return self._count & 0xFF
        if ACCEL_XOUT_H <= reg < GYRO_XOUT_H + 6:
            return self._sensor_byte(reg)
        return self.regs[reg]

    def _write(self, reg, v):
        self.writes.append((reg, v))
        if reg in _READ_ONLY:
            return
        regs = self.regs
        if reg == PWR_MGMT_1:
            if v & 0x80:  # DEVICE_RESET, clears itself
                self.power_on()
                return
            was_awake = self.awake()
            regs[reg] = v
            if self.awake() and not was_awake:
                self._restart_sample_clock()
            return
        if reg == USER_CTRL:
            if v & 0x04 and not v & 0x40:  # FIFO_RESET while FIFO_EN = 0
                self._head = 0
                self._count = 0
            regs[reg] = v & ~0x07  # the reset bits clear themselves
            return
        if reg == SMPLRT_DIV or reg == CONFIG:
            regs[reg] = v
            self._restart_sample_clock()
            return
        regs[reg] = v

    def _next_reg(self, reg):
        return reg if reg == FIFO_R_W else (reg + 1) & 0x7F  # every FIFO byte pops

    def _status_read(self):
        self.regs[INT_STATUS] = 0


class FakeI2C:
    """The `machine.I2C` methods the firmware uses, over a dict address -> device."""

    def __init__(self, devices=None, nack_errno=errno.ENODEV):
        self.devices = devices if devices is not None else {}
        self.nack_errno = nack_errno
        self.transactions = 0

    def _device(self, addr):
        self.transactions += 1
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(self.nack_errno)
        return dev

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._device(addr).read_into(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes):
        buf = bytearray(nbytes)
        self._device(addr).read_into(memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._device(addr).write_from(memaddr, buf)

    def scan(self):
        return sorted(self.devices)
