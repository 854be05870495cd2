"""A register-level fake ST LSM6DSOX for the fake I2C bus, written from the datasheet.

Runs on CPython and MicroPython (no dataclasses, no typing) and allocates nothing on the
sample path (`advance`, FIFO reads), so heap-locked tests can drive it. It shares
`fake_i2c.FakeClock` with the code under test and the bus side (`fake_i2c.FakeChip`:
fault injection, `set_raw`, `advance`, `writes`, burst transactions) with
`fake_i2c.FakeMPU6050`, and produces samples for whatever time has passed;
`advance(n)` lets n sample slots pass.

Modelled (datasheet DS13079 register map):
- WHO_AM_I (0x0F) reads 0x6C at either address (0x6A / 0x6B).
- Reset values: 0 except CTRL3_C = 0x04 (IF_INC) and CTRL9_XL = 0xE0; with both ODR
  fields 0 the chip is powered down and samples nothing. CTRL3_C.SW_RESET restores them
  and empties the FIFO.
- ODR codes 2..10 of CTRL1_XL / CTRL2_G (26 ... 6664 Hz; 104 Hz is code 4, 208 Hz code
  5). Samples come in time slots at the fastest enabled rate; a sensor is batched into
  the FIFO in the slots of its batch data rate (FIFO_CTRL3: BDR_GY in bits 7..4, BDR_XL
  in bits 3..0), gyro word first unless `accel_first` is set.
- FIFO words of 7 bytes: tag (TAG_SENSOR << 3 | TAG_CNT << 1 | parity) then X, Y, Z as
  int16 little-endian; TAG_CNT is a 2-bit counter of the time slot, the same for the
  gyro and accel words of one slot. 512 words. FIFO_CTRL4 mode 0 (bypass) empties it and
  stores nothing, mode 6 (continuous) overwrites the oldest word when full, mode 1
  (FIFO) stops when full; other modes are not modelled and raise.
- FIFO_STATUS1/2 (0x3A/0x3B): DIFF_FIFO (10 bits), FIFO_OVR_IA (overrun and still
  full), FIFO_FULL_IA, FIFO_OVR_LATCHED (cleared when FIFO_STATUS2 is read).
- Reads from FIFO_DATA_OUT_TAG (0x78) .. 0x7E return the oldest word; reading 0x7E pops
  it and the address wraps back to 0x78, so one burst returns several words. Reading an
  empty FIFO returns zeros (tag 0: no sensor).
- Bursts auto-increment the address only when CTRL3_C.IF_INC is set (a driver that
  clears it reads the same register over and over, as the real chip would).
- Output registers OUTX_L_G (0x22) .. OUTZ_H_A (0x2D): the latest sample, little-endian.
- Writes to read-only registers (WHO_AM_I, status, outputs, FIFO status and output) are
  ignored. An absent address or a chip told to fail raises OSError like MicroPython's I2C.
"""

from fake_i2c import FakeChip

WHO_AM_I = 0x0F
FIFO_CTRL3 = 0x09
FIFO_CTRL4 = 0x0A
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
CTRL9_XL = 0x18
OUTX_L_G = 0x22
OUTX_L_A = 0x28
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B
FIFO_DATA_OUT_TAG = 0x78
FIFO_DATA_OUT_Z_H = 0x7E

FIFO_WORDS = 512
WORD = 7
TAG_GYRO = 0x01
TAG_ACCEL = 0x02
ODR_HZ = (0, 0, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)  # by ODR / BDR code


def _read_only(reg):
    """WHO_AM_I, status and output registers, FIFO status, timestamp and FIFO output."""
    return (reg == WHO_AM_I or 0x1A <= reg <= 0x2D or 0x3A <= reg <= 0x43
            or FIFO_DATA_OUT_TAG <= reg <= FIFO_DATA_OUT_Z_H)

ONE_G = 8197  # +-4 g counts for 1 g (0.122 mg/LSB)


def _parity(v):
    p = 0
    while v:
        p ^= v & 1
        v >>= 1
    return p


class FakeLSM6DSOX(FakeChip):
    CLEAR_ON_READ = FIFO_STATUS2  # reading it clears FIFO_OVR_LATCHED

    def __init__(self, clock, accel_first=False):
        FakeChip.__init__(self, clock, ONE_G)
        self.accel_first = accel_first
        self.regs = bytearray(128)
        self.fifo = bytearray(FIFO_WORDS * WORD)
        self.samples = 0  # time slots since power-on
        self.overwritten = 0  # words lost to a full FIFO in continuous mode
        self._head = 0  # oldest word
        self._count = 0  # words queued
        self._slot = 0  # TAG_CNT of the next slot
        self._next_us = 0
        self._period_us = 0
        self._period_rem = 0  # remainder of 1e6 / rate, carried so rates like 104 Hz keep time
        self._acc = 0
        self._rate = 0
        self._ovr = False
        self._ovr_latched = False
        self.power_on()

    # --- test controls ---------------------------------------------------------------

    def power_on(self):
        """Power-on reset: registers to defaults, FIFO empty (also a brown-out)."""
        regs = self.regs
        for i in range(len(regs)):
            regs[i] = 0
        regs[WHO_AM_I] = 0x6C
        regs[CTRL3_C] = 0x04
        regs[CTRL9_XL] = 0xE0
        self._head = 0
        self._count = 0
        self._ovr = False
        self._ovr_latched = False
        self._rate = 0

    def _after_n(self, n):
        if not self._rate:
            return self.clock.us + n * 9615  # powered down: n slots of 104 Hz pass anyway
        target = self._next_us
        acc = self._acc
        for _ in range(n - 1):
            target += self._period_us
            acc += self._period_rem
            if acc >= self._rate:
                acc -= self._rate
                target += 1
        return target

    def fifo_words(self):
        return self._count

    # --- chip behaviour ----------------------------------------------------------------

    def _odr(self, reg):
        code = self.regs[reg] >> 4
        if code >= len(ODR_HZ) or (code and not ODR_HZ[code]):
            raise ValueError("fake LSM6DSOX: ODR code %d is not modelled" % code)
        return ODR_HZ[code]

    def rate_hz(self):
        """The slot rate: the fastest enabled sensor (0 when powered down)."""
        a = self._odr(CTRL1_XL)
        g = self._odr(CTRL2_G)
        return a if a > g else g

    def _restart_sample_clock(self):
        rate = self.rate_hz()
        self._rate = rate
        if rate:
            self._period_us = 1000000 // rate
            self._period_rem = 1000000 % rate
            self._acc = 0
            self._next_us = self.clock.us + self._period_us

    def catch_up(self):
        """Take every sample slot due up to the clock's current time."""
        rate = self._rate
        if not rate:
            return
        now = self.clock.us
        while self._next_us <= now:
            self._sample()
            self._next_us += self._period_us
            self._acc += self._period_rem
            if self._acc >= rate:
                self._acc -= rate
                self._next_us += 1

    def _batched(self, bdr_code, odr_hz):
        """True when a sensor with this BDR code stores a word in the current slot."""
        if not bdr_code or not odr_hz:
            return False
        bdr = ODR_HZ[bdr_code] if bdr_code < len(ODR_HZ) else 0
        if not bdr:
            raise ValueError("fake LSM6DSOX: BDR code %d is not modelled" % bdr_code)
        if bdr > odr_hz:
            bdr = odr_hz  # a sensor is never batched faster than it samples
        return self.samples % (self._rate // bdr) == 0

    def _sample(self):
        regs = self.regs
        mode = regs[FIFO_CTRL4] & 0x07
        bdr = regs[FIFO_CTRL3]
        if mode:
            g = self._batched(bdr >> 4, self._odr(CTRL2_G))
            a = self._batched(bdr & 0x0F, self._odr(CTRL1_XL))
            if self.accel_first:
                if a:
                    self._push(TAG_ACCEL, 0)
                if g:
                    self._push(TAG_GYRO, 3)
            else:
                if g:
                    self._push(TAG_GYRO, 3)
                if a:
                    self._push(TAG_ACCEL, 0)
            if a or g:
                self._slot = (self._slot + 1) & 3
        self.samples += 1

    def _push(self, sensor, first):
        if self._count == FIFO_WORDS:
            if self.regs[FIFO_CTRL4] & 0x07 != 6:
                return  # FIFO mode: stops when full
            self._head = (self._head + 1) % FIFO_WORDS  # continuous: overwrite the oldest
            self._count -= 1
            self.overwritten += 1
            self._ovr = True
            self._ovr_latched = True
        o = ((self._head + self._count) % FIFO_WORDS) * WORD
        tag = (sensor << 3) | (self._slot << 1)
        fifo = self.fifo
        fifo[o] = tag | _parity(tag)
        raw = self.raw
        for i in range(3):
            v = raw[first + i]
            fifo[o + 1 + 2 * i] = v & 0xFF
            fifo[o + 2 + 2 * i] = (v >> 8) & 0xFF
        self._count += 1

    def _read(self, reg):
        if reg == FIFO_STATUS1:
            return self._count & 0xFF
        if reg == FIFO_STATUS2:
            full = self._count >= FIFO_WORDS - 1
            ovr = self._ovr and self._count == FIFO_WORDS
            return ((0x40 if ovr else 0) | (0x20 if full else 0)
                    | (0x08 if self._ovr_latched else 0) | ((self._count >> 8) & 0x03))
        if FIFO_DATA_OUT_TAG <= reg <= FIFO_DATA_OUT_Z_H:
            if not self._count:
                return 0
            b = self.fifo[self._head * WORD + reg - FIFO_DATA_OUT_TAG]
            if reg == FIFO_DATA_OUT_Z_H:  # the last byte of a word pops it
                self._head = (self._head + 1) % FIFO_WORDS
                self._count -= 1
                if self._count < FIFO_WORDS:
                    self._ovr = False
            return b
        if OUTX_L_G <= reg < OUTX_L_A + 6:
            i = (reg - OUTX_L_G) >> 1
            v = self.raw[3 + i] if i < 3 else self.raw[i - 3]
            return v & 0xFF if (reg - OUTX_L_G) % 2 == 0 else (v >> 8) & 0xFF
        return self.regs[reg]

    def _write(self, reg, v):
        self.writes.append((reg, v))
        if _read_only(reg):
            return
        regs = self.regs
        if reg == CTRL3_C:
            if v & 0x01:  # SW_RESET, clears itself
                self.power_on()
                return
            regs[reg] = v & ~0x81  # BOOT and SW_RESET read back 0
            return
        if reg == FIFO_CTRL4:
            mode = v & 0x07
            if mode not in (0, 1, 6):
                raise ValueError("fake LSM6DSOX: FIFO mode %d is not modelled" % mode)
            if mode == 0:
                self._head = 0
                self._count = 0
                self._ovr = False
            regs[reg] = v
            return
        regs[reg] = v
        if reg == CTRL1_XL or reg == CTRL2_G:
            if self.rate_hz() != self._rate:
                self._restart_sample_clock()

    def _next_reg(self, reg):
        if not self.regs[CTRL3_C] & 0x04:
            return reg  # IF_INC off: no auto-increment
        if reg == FIFO_DATA_OUT_Z_H:
            return FIFO_DATA_OUT_TAG  # FIFO output wraps, one word after another
        return (reg + 1) & 0x7F

    def _status_read(self):
        self._ovr_latched = False
