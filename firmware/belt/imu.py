"""Which IMU is fitted: both supported chips probed by WHO_AM_I at their I2C addresses.

    find(i2c, clock) -> (driver, FIND_OK, None)
                      | (None, FIND_NONE, reason)     nothing answers at an IMU address
                      | (None, FIND_UNKNOWN, reason)  a chip answers with another identity

MPU-6050 at 0x68 / 0x69 (WHO_AM_I 0x75 reads 0x68), LSM6DSOX at 0x6A / 0x6B (WHO_AM_I
0x0F reads 0x6C), probed in that order; the first supported chip wins. The reason names
what answered and what is on the bus, for the console line and the status report.

Every driver has the same surface, so the app never asks which one it has:

    CHIP, NAME          INFO imu code (0x68, 0x6C) and a name for messages
    addr, rate_hz       bus address; the chip's true sample rate after configure
    configure(rate_hz)  100 or 200 (the LSM6DSOX runs at 104 / 208); ValueError, OSError
    drain(sink)         sink.push(ax, ay, az, gx, gy, gz, n) per sample; returns the count
    resync_pending()    True after a bus error until the chip is re-initialised
    samples, overflows, resyncs, losses, lost, last_lost, io_errors   counters

What the two drivers share (identity check, loss accounting, bus-error recovery) is
`imu_fifo.FifoImu`; each driver keeps its own set-up and its own per-sample loop.
"""

from belt import imu_lsm6dsox as _lsm
from belt import imu_mpu6050 as _mpu
from belt.imu_fifo import ImuAbsent, ImuWrongId

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

CHIP_NONE = const(0x00)  # INFO imu code when nothing usable was found
CHIP_MPU6050 = const(0x68)
CHIP_LSM6DSOX = const(0x6C)

FIND_OK = const(0)
FIND_NONE = const(1)
FIND_UNKNOWN = const(2)


def _scan(i2c):
    try:
        return ", ".join("0x%02x" % a for a in i2c.scan())
    except OSError:
        return "scan failed"


def find(i2c, clock):
    """The first supported IMU answering on `i2c`, as (driver, status, reason)."""
    wrong = []
    for mod, cls in ((_mpu, _mpu.MPU6050), (_lsm, _lsm.LSM6DSOX)):
        for addr in mod.ADDRESSES:
            try:
                return cls(i2c, clock, addr), FIND_OK, None
            except ImuWrongId as e:
                wrong.append(str(e))
            except ImuAbsent:
                pass
    bus = "devices on the bus: [" + _scan(i2c) + "]"
    if wrong:
        return None, FIND_UNKNOWN, "unsupported IMU: " + "; ".join(wrong) + "; " + bus
    return None, FIND_NONE, (
        "no answer at 0x68/0x69 (MPU-6050) or 0x6a/0x6b (LSM6DSOX): check SDA/SCL, "
        "3V3, GND and pull-ups; " + bus)
