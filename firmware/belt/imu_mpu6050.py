"""InvenSense MPU-6050 on I2C: set-up, FIFO draining and conversion to canonical units.

The chip samples on its own clock and queues records in its 1024-byte FIFO; the belt's
time base is that sample stream, so samples are only ever taken from the FIFO. With
accel + gyro enabled (temperature not) a record is 12 bytes in register order:
AX AY AZ GX GY GZ, each int16 big-endian. Conversions (integer only, round to nearest,
ties to even, exactly as the host's sensor model quantises):

    accel ±4 g,     8192 LSB/g    -> mg        = raw * 1000 / 8192
    gyro  ±500 °/s, 65.5 LSB/°/s  -> 1/16 °/s  = raw * 16 / 65.5 = raw * 32 / 131

`drain(sink)` calls `sink.push(ax, ay, az, gx, gy, gz, n)` per sample (the signature of
`belt.pipeline.Pipeline.push`), where n is the number of sample periods since the
previous sample: 1, or 1 + the samples lost to a FIFO overflow or a bus fault. The path
allocates nothing: one preallocated buffer, its memoryview slices built once, and a
method call on `sink` (calling a stored bound method with more than four arguments makes
MicroPython allocate a temporary argument array; a method call does not).

The FIFO cannot be read after an overflow: 1024 is not a multiple of 12, so the chip
drops the oldest bytes and the next read starts inside a record. The driver resets the
FIFO instead and estimates what was lost from the elapsed time (the chip's clock and the
ESP32's agree to about 1 %), never less than the records that were in the FIFO. That
accounting, the WHO_AM_I check and the bus-error recovery are shared with the LSM6DSOX
driver (`belt.imu_fifo.FifoImu`); the set-up and the per-sample loop are this chip's.
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

CHIP_ID = const(0x68)  # INFO imu code
WHO_AM_I_VALUE = const(0x68)  # bits 6..1 of the address; AD0 is not reflected
ADDRESSES = (0x68, 0x69)  # AD0 low, AD0 high

# Register map (MPU-6000/6050 register map, rev 4.2).
SMPLRT_DIV = const(0x19)
CONFIG = const(0x1A)
GYRO_CONFIG = const(0x1B)
ACCEL_CONFIG = const(0x1C)
FIFO_EN = const(0x23)
INT_ENABLE = const(0x38)
INT_STATUS = const(0x3A)
USER_CTRL = const(0x6A)
PWR_MGMT_1 = const(0x6B)
FIFO_COUNT_H = const(0x72)  # FIFO_COUNT_L follows at 0x73
FIFO_R_W = const(0x74)
WHO_AM_I = const(0x75)

# Register values.
DLPF_CFG_44HZ = const(3)  # accel 44 Hz / gyro 42 Hz bandwidth; gyro output rate 1 kHz
GYRO_FS_500DPS = const(0x08)  # FS_SEL = 1: 65.5 LSB/(°/s)
ACCEL_FS_4G = const(0x08)  # AFS_SEL = 1: 8192 LSB/g
FIFO_ACCEL_GYRO = const(0x78)  # XG_FIFO_EN | YG_FIFO_EN | ZG_FIFO_EN | ACCEL_FIFO_EN
FIFO_OFLOW = const(0x10)  # FIFO_OFLOW_EN in INT_ENABLE, FIFO_OFLOW_INT in INT_STATUS
USER_FIFO_EN = const(0x40)
USER_FIFO_RESET = const(0x04)  # acts only while FIFO_EN is 0; clears itself
PWR_DEVICE_RESET = const(0x80)
PWR_CLK_PLL_XGYRO = const(0x01)  # SLEEP = 0, CLKSEL = 1 (PLL on the X gyro)

GYRO_OUTPUT_HZ = const(1000)  # with the DLPF on
RATES_HZ = (100, 200)
RESET_MS = const(100)
FIFO_SIZE = const(1024)
RECORD = const(12)
CHUNK = const(10)  # records per I2C burst: 120 bytes, about 3 ms at 400 kHz


def accel_mg(raw):
    """±4 g count -> mg, nearest, ties to even."""
    v = raw * 1000 + 4096
    q = v >> 13
    if (v & 0x1FFF) == 0 and q & 1:
        q -= 1
    return q


def gyro_dps16(raw):
    """±500 °/s count -> 1/16 °/s, nearest (131 is odd, so there are no ties)."""
    return (raw * 64 + 131) // 262


def _high_byte_tables():
    """The conversion tables of `accel_mg` (raw * 1000 + 4096) and `gyro_dps16` (raw * 64 + 131)
    by high byte (imu_fifo.high_byte_tables); all values are small ints (|v| < 2^26)."""
    return high_byte_tables(1000, 4096, 64, 131)


class MPU6050(FifoImu):
    """One chip on `i2c` at `addr`; `clock` has ticks_ms(), ticks_diff(a, b), sleep_ms(ms).

    The constructor only reads WHO_AM_I (raises ImuAbsent / ImuWrongId); call
    `configure(rate_hz)` before `drain`. `rate_hz` is the chip's sample rate, which for
    this chip is exactly the rate asked for.
    """

    CHIP = CHIP_ID  # INFO imu code
    NAME = "MPU-6050"

    def __init__(self, i2c, clock, addr=0x68):
        FifoImu.__init__(self, i2c, clock, addr, RECORD, CHUNK, WHO_AM_I, WHO_AM_I_VALUE,
                         "an MPU-6500/9250 reads 0x70/0x71")
        self._acc_hi, self._gyr_hi = _high_byte_tables()  # per-sample conversion

    def configure(self, rate_hz):
        """Reset the chip and start the FIFO at 100 or 200 Hz (takes about 100 ms)."""
        if rate_hz not in RATES_HZ:
            raise ValueError("rate must be 100 or 200 Hz")
        w = self._write8
        w(PWR_MGMT_1, PWR_DEVICE_RESET)  # registers to defaults, whatever ran before
        self.clock.sleep_ms(RESET_MS)
        w(PWR_MGMT_1, PWR_CLK_PLL_XGYRO)
        w(SMPLRT_DIV, GYRO_OUTPUT_HZ // rate_hz - 1)
        w(CONFIG, DLPF_CFG_44HZ)
        w(GYRO_CONFIG, GYRO_FS_500DPS)
        w(ACCEL_CONFIG, ACCEL_FS_4G)
        w(INT_ENABLE, FIFO_OFLOW)  # so INT_STATUS reports overflows (INT pin unused)
        w(FIFO_EN, FIFO_ACCEL_GYRO)
        self.rate_hz = rate_hz
        self._reset_fifo()
        self._t0 = self.clock.ticks_ms()

    def _reset_fifo(self):
        w = self._write8
        w(USER_CTRL, USER_FIFO_RESET)  # FIFO_EN = 0 in the same write, as the reset needs
        w(USER_CTRL, USER_FIFO_EN)
        self._read8(INT_STATUS)  # clear an overflow flagged before the reset

    def _drain(self, sink):
        i2c = self.i2c
        addr = self.addr
        reg = self._reg
        i2c.readfrom_mem_into(addr, INT_STATUS, self._reg1)
        status = reg[0]
        i2c.readfrom_mem_into(addr, FIFO_COUNT_H, reg)
        count = (reg[0] << 8) | reg[1]
        now = self.clock.ticks_ms()
        if status & FIFO_OFLOW or count >= FIFO_SIZE:
            self._overflowed(now, count // RECORD)
            return
        self._t0 = now
        n = count // RECORD
        self._unread = n
        if n == 0:
            return
        b = self._buf
        views = self._views
        ahi = self._acc_hi
        ghi = self._gyr_hi
        while n > 0:
            k = n if n < CHUNK else CHUNK
            i2c.readfrom_mem_into(addr, FIFO_R_W, views[k])
            o = 0
            for _ in range(k):
                # accel_mg / gyro_dps16 of each big-endian count, inlined (per sample).
                x = ahi[b[o]] + b[o + 1] * 1000
                ax = x >> 13
                if not x & 0x1FFF and ax & 1:
                    ax -= 1  # a tie: round to even
                x = ahi[b[o + 2]] + b[o + 3] * 1000
                ay = x >> 13
                if not x & 0x1FFF and ay & 1:
                    ay -= 1
                x = ahi[b[o + 4]] + b[o + 5] * 1000
                az = x >> 13
                if not x & 0x1FFF and az & 1:
                    az -= 1
                sink.push(ax, ay, az, (ghi[b[o + 6]] + (b[o + 7] << 6)) // 262,
                          (ghi[b[o + 8]] + (b[o + 9] << 6)) // 262,
                          (ghi[b[o + 10]] + (b[o + 11] << 6)) // 262, self._gap)
                self._gap = 1
                self._unread -= 1
                self.samples += 1
                o += RECORD
            n -= k
