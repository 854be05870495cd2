"""ST LSM6DSOX on I2C: set-up, tagged-FIFO draining and conversion to canonical units.

The chip has no 100/200 Hz setting: its output data rates are 104 and 208 Hz, so the
belt's 100 Hz maps to 104 Hz and 200 Hz to 208 Hz, and `rate_hz` (what INFO reports and
what the sample index counts) is the chip's rate. Accel and gyro run at that rate and
are both batched into the FIFO at it, in continuous mode (the oldest word is overwritten
when full). Each FIFO word is 7 bytes: a tag (sensor in bits 7..3, a 2-bit time-slot
counter in bits 2..1, parity in bit 0) and X, Y, Z as int16 little-endian. A burst read
from FIFO_DATA_OUT_TAG (0x78) pops one word per 7 bytes (the address wraps from 0x7E
back to 0x78), so several words come in one I2C transaction.

Set-up (datasheet DS13079 register map):

    CTRL3_C   0x44  BDU (output registers never mix two samples), IF_INC (bursts)
    CTRL1_XL  ODR 104/208 Hz, +-4 g, LPF2 on; CTRL8_XL 0x00: LPF2 cut-off ODR/4
    CTRL2_G   ODR 104/208 Hz, +-500 dps; CTRL4_C LPF1_SEL_G: gyro low-pass LPF1 on
    FIFO_CTRL3 gyro and accel batch data rate = the ODR; FIFO_CTRL4 continuous mode

Conversions (integer only, round to nearest, ties to even):

    accel +-4 g,     0.122 mg/LSB    -> mg        = raw * 122 / 1000
    gyro  +-500 dps, 17.5 mdps/LSB   -> 1/16 deg/s = raw * 17.5 * 16 / 1000 = raw * 7 / 25

(gyro sensitivities per full scale: 125 dps 4.375, 250 dps 8.75, 500 dps 17.5, 1000 dps
35, 2000 dps 70 mdps/LSB; not full scale / 32768.)

A gyro word and an accel word with the same time-slot counter make one sample; the
driver keeps a half pair across drains (the FIFO count can end between the two words).
`drain(sink)` calls `sink.push(ax, ay, az, gx, gy, gz, n)` exactly like the MPU-6050
driver: n is 1, or 1 + the samples lost to an overflow or a bus fault. Overflow and bus
faults are handled as there: the FIFO is reset and the loss estimated from the elapsed
time (never less than the pairs that were queued). Nothing is allocated per sample.
"""

# The errors are the shared ones, named here too so callers need only this module.
from belt.imu_fifo import FifoImu, high_byte_tables
from belt.imu_fifo import ImuAbsent as ImuAbsent
from belt.imu_fifo import ImuError as ImuError
from belt.imu_fifo import ImuWrongId as ImuWrongId

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

CHIP_ID = const(0x6C)  # INFO imu code
WHO_AM_I_VALUE = const(0x6C)  # the LSM6DSO reads the same and is register compatible
ADDRESSES = (0x6A, 0x6B)  # SDO/SA0 low, high

# Register map.
FIFO_CTRL3 = const(0x09)
FIFO_CTRL4 = const(0x0A)
WHO_AM_I = const(0x0F)
CTRL1_XL = const(0x10)
CTRL2_G = const(0x11)
CTRL3_C = const(0x12)
CTRL4_C = const(0x13)
CTRL6_C = const(0x15)
CTRL8_XL = const(0x17)
FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO[7:0]; FIFO_STATUS2 follows at 0x3B
FIFO_DATA_OUT_TAG = const(0x78)

# Register values.
SW_RESET = const(0x01)  # CTRL3_C, clears itself
BDU_IF_INC = const(0x44)  # CTRL3_C: BDU | IF_INC
XL_FS_4G_LPF2 = const(0x0A)  # CTRL1_XL low bits: FS_XL = 10 (+-4 g), LPF2_XL_EN
G_FS_500DPS = const(0x04)  # CTRL2_G low bits: FS_G = 01 (+-500 dps)
LPF1_SEL_G = const(0x02)  # CTRL4_C
FIFO_MODE_BYPASS = const(0x00)  # FIFO_CTRL4: empties the FIFO
FIFO_MODE_CONTINUOUS = const(0x06)
FIFO_OVR_IA = const(0x40)  # FIFO_STATUS2: overrun now
FIFO_OVR_LATCHED = const(0x08)  # FIFO_STATUS2: overrun since this register was read
DIFF_FIFO_HI = const(0x03)  # FIFO_STATUS2: DIFF_FIFO[9:8]

TAG_GYRO = const(0x01)  # TAG_SENSOR of gyro and accel words (non-compressed)
TAG_ACCEL = const(0x02)

RATES_HZ = (100, 200)  # what the belt asks for
ODR_HZ = (104, 208)  # what the chip does
ODR_CODE = (0x4, 0x5)  # CTRL1_XL / CTRL2_G ODR field and FIFO_CTRL3 BDR field
RESET_MS = const(10)
FIFO_WORDS = const(512)  # 3 KB of 6-byte words
WORD = const(7)
CHUNK = const(16)  # words per I2C burst: 112 bytes, about 2.6 ms at 400 kHz


def accel_mg(raw):
    """+-4 g count -> mg (0.122 mg/LSB), nearest, ties to even."""
    v = raw * 122 + 500
    q = v // 1000
    if v - q * 1000 == 0 and q & 1:
        q -= 1
    return q


def gyro_dps16(raw):
    """+-500 dps count -> 1/16 deg/s (17.5 mdps/LSB), nearest (no ties: 25 is odd)."""
    return (raw * 14 + 25) // 50


def rate_for(rate_hz):
    """The chip's rate for a belt rate: 100 -> 104, 200 -> 208 (ValueError otherwise)."""
    for i in range(len(RATES_HZ)):
        if rate_hz == RATES_HZ[i] or rate_hz == ODR_HZ[i]:
            return ODR_HZ[i]
    raise ValueError("rate must be 100 or 200 Hz (the chip runs at 104 or 208 Hz)")


def _high_byte_tables():
    """The conversion tables of `accel_mg` (raw * 122 + 500) and `gyro_dps16` (raw * 14 + 25)
    by high byte (imu_fifo.high_byte_tables); all values are small ints (|v| < 2^23)."""
    return high_byte_tables(122, 500, 14, 25)


class LSM6DSOX(FifoImu):
    """One chip on `i2c` at `addr`; `clock` has ticks_ms(), ticks_diff(a, b), sleep_ms(ms).

    The constructor only reads WHO_AM_I (raises ImuAbsent / ImuWrongId); call
    `configure(rate_hz)` before `drain`. Same attributes as `imu_mpu6050.MPU6050`, plus
    `unpaired`. `rate_hz` is the chip's output data rate (104 or 208).
    """

    CHIP = CHIP_ID  # INFO imu code
    NAME = "LSM6DSOX"

    def __init__(self, i2c, clock, addr=0x6A):
        FifoImu.__init__(self, i2c, clock, addr, WORD, CHUNK, WHO_AM_I, WHO_AM_I_VALUE,
                         "an LSM6DS3 reads 0x69, an LSM6DSL 0x6A")
        self.unpaired = 0  # words whose partner never came (counted as lost samples)
        # Half of a pair carried between words (and drains): slot counter or -1.
        self._g_slot = -1
        self._a_slot = -1
        self._gx = self._gy = self._gz = 0
        self._ax = self._ay = self._az = 0
        self._acc_hi, self._gyr_hi = _high_byte_tables()  # per-sample conversion

    def configure(self, rate_hz):
        """Reset the chip and start the FIFO at 104 or 208 Hz (asked as 100 or 200)."""
        odr = rate_for(rate_hz)
        code = ODR_CODE[ODR_HZ.index(odr)]
        w = self._write8
        w(CTRL3_C, SW_RESET)  # registers to defaults, whatever ran before
        self.clock.sleep_ms(RESET_MS)
        w(CTRL3_C, BDU_IF_INC)
        w(CTRL8_XL, 0x00)  # accel LPF2 at ODR/4
        w(CTRL4_C, LPF1_SEL_G)
        w(CTRL6_C, 0x00)  # gyro LPF1 bandwidth FTYPE 000
        w(CTRL1_XL, (code << 4) | XL_FS_4G_LPF2)
        w(CTRL2_G, (code << 4) | G_FS_500DPS)
        w(FIFO_CTRL3, (code << 4) | code)  # BDR_GY | BDR_XL
        self.rate_hz = odr
        self._reset_fifo()
        self._t0 = self.clock.ticks_ms()

    def _reset_fifo(self):
        self._write8(FIFO_CTRL4, FIFO_MODE_BYPASS)  # empties it
        self._write8(FIFO_CTRL4, FIFO_MODE_CONTINUOUS)
        self._g_slot = -1
        self._a_slot = -1

    def _drain(self, sink):
        i2c = self.i2c
        addr = self.addr
        reg = self._reg
        i2c.readfrom_mem_into(addr, FIFO_STATUS1, reg)  # clears FIFO_OVR_LATCHED
        flags = reg[1]
        words = reg[0] | ((flags & DIFF_FIFO_HI) << 8)
        now = self.clock.ticks_ms()
        if flags & (FIFO_OVR_IA | FIFO_OVR_LATCHED) or words >= FIFO_WORDS:
            self._overflowed(now, words // 2)
            return
        self._t0 = now
        self._unread = words // 2
        if words == 0:
            return
        b = self._buf
        views = self._views
        ahi = self._acc_hi
        ghi = self._gyr_hi
        # The half pair carried between words (and drains), kept in locals meanwhile.
        g_slot = self._g_slot
        a_slot = self._a_slot
        gx = self._gx
        gy = self._gy
        gz = self._gz
        ax = self._ax
        ay = self._ay
        az = self._az
        while words > 0:
            k = words if words < CHUNK else CHUNK
            i2c.readfrom_mem_into(addr, FIFO_DATA_OUT_TAG, views[k])
            o = 0
            for _ in range(k):
                # One tagged word: keep it as half a pair, or complete the pair and push.
                tag = b[o]
                sensor = tag >> 3
                slot = (tag >> 1) & 3
                if sensor == TAG_GYRO:
                    if g_slot >= 0:
                        self._lose_half()  # a second gyro word before its accel: lost slot
                    # gyro_dps16 of each little-endian count, inlined (per sample).
                    gx = (ghi[b[o + 2]] + b[o + 1] * 14) // 50
                    gy = (ghi[b[o + 4]] + b[o + 3] * 14) // 50
                    gz = (ghi[b[o + 6]] + b[o + 5] * 14) // 50
                    g_slot = slot
                    o += WORD
                    if a_slot < 0:
                        continue
                    if a_slot != slot:
                        a_slot = -1  # the waiting accel half belongs to an older slot
                        self._lose_half()
                        continue
                elif sensor == TAG_ACCEL:
                    if a_slot >= 0:
                        self._lose_half()
                    # accel_mg inlined: nearest, ties to even.
                    x = ahi[b[o + 2]] + b[o + 1] * 122
                    ax = x // 1000
                    if x == ax * 1000 and ax & 1:
                        ax -= 1
                    x = ahi[b[o + 4]] + b[o + 3] * 122
                    ay = x // 1000
                    if x == ay * 1000 and ay & 1:
                        ay -= 1
                    x = ahi[b[o + 6]] + b[o + 5] * 122
                    az = x // 1000
                    if x == az * 1000 and az & 1:
                        az -= 1
                    a_slot = slot
                    o += WORD
                    if g_slot < 0:
                        continue
                    if g_slot != slot:
                        g_slot = -1
                        self._lose_half()
                        continue
                else:
                    o += WORD
                    continue  # another sensor's word (none is enabled): skip it
                g_slot = -1
                a_slot = -1
                sink.push(ax, ay, az, gx, gy, gz, self._gap)
                self._gap = 1
                if self._unread:
                    self._unread -= 1
                self.samples += 1
            words -= k
        self._g_slot = g_slot
        self._a_slot = a_slot
        self._gx = gx
        self._gy = gy
        self._gz = gz
        self._ax = ax
        self._ay = ay
        self._az = az

    def _lose_half(self):
        """An unpaired half was dropped: its time slot counts as one lost sample."""
        self.unpaired += 1
        self._gap += 1
