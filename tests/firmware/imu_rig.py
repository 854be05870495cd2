"""What the two IMU driver tests share: sinks, a driver on a fake chip, and the checks
that hold for every FIFO driver (the behaviour lives in belt/imu_fifo.py for both).

    clock, dev, i2c, imu = chip(LSM6DSOX, FakeLSM6DSOX, 0x6A, rate=100)
    msg = raises(ImuAbsent, LSM6DSOX, i2c, clock, 0x6A)
"""

import heap
from fake_i2c import FakeClock, FakeI2C


class Rows:
    """A sink keeping every pushed sample and its gap."""

    def __init__(self):
        self.rows = []
        self.gaps = []

    def push(self, ax, ay, az, gx, gy, gz, n=1):
        self.rows.append((ax, ay, az, gx, gy, gz))
        self.gaps.append(n)


class Counter:
    """A sink that allocates nothing."""

    def __init__(self):
        self.count = 0
        self.gaps = 0
        self.last_ay = 0

    def push(self, ax, ay, az, gx, gy, gz, n=1):
        self.count += 1
        self.gaps += n
        self.last_ay = ay


def chip(driver, make, addr, rate=100):
    """(clock, fake chip, bus, driver) with the chip `make(clock)` alone at `addr`; the
    driver configured for `rate` unless it is 0."""
    clock = FakeClock()
    dev = make(clock)
    i2c = FakeI2C({addr: dev})
    imu = driver(i2c, clock, addr)
    if rate:
        imu.configure(rate)
    return clock, dev, i2c, imu


def raises(exc_type, fn, *args):
    """The message of the `exc_type` that `fn(*args)` raises (AssertionError if none)."""
    try:
        fn(*args)
    except exc_type as e:
        return str(e)
    raise AssertionError("%s not raised" % exc_type.__name__)


def check_repeated_bus_errors_keep_retrying(dev, imu):
    """Twenty failing drains in a row: each counted, none raises, no resync until the bus
    answers again; then one re-initialisation."""
    dev.fail(50)
    for _ in range(20):
        dev.advance(1)
        assert imu.drain(Rows()) == 0
    assert imu.io_errors == 20 and imu.resyncs == 0
    dev.fail(0)
    imu.drain(Rows())
    assert imu.resyncs == 1 and not imu.resync_pending()


def check_draining_allocates_nothing(dev, imu, one_g):
    """200 drains of 3 samples into a counting sink: nothing allocated (heap locked on
    MicroPython), every sample pushed with a gap of 1 and +1 g on Y in mg."""
    sink = Counter()
    dev.set_raw(10, one_g, -20, 3, -4, 5)
    for _ in range(30):  # warm up
        dev.advance(3)
        imu.drain(sink)

    def drain_200():
        for _ in range(200):
            dev.advance(3)
            imu.drain(sink)

    heap.locked(drain_200)
    assert sink.count == 690 and sink.gaps == 690 and sink.last_ay == 1000
