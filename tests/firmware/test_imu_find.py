"""IMU detection at boot: either chip at either address, unknown chips, nothing at all."""

from fake_i2c import FakeClock, FakeI2C, FakeMPU6050
from fake_lsm6dsox import FakeLSM6DSOX

from belt import imu


class Silent:
    """A device that acknowledges but is not an IMU we know (reads as 0xFF everywhere)."""

    def read_into(self, reg, buf):
        for i in range(len(buf)):
            buf[i] = 0xFF

    def write_from(self, reg, buf):
        pass


class Gaps:
    def __init__(self):
        self.gaps = []

    def push(self, ax, ay, az, gx, gy, gz, n=1):
        self.gaps.append(n)


def _find(devices):
    clock = FakeClock()
    built = {addr: make(clock) for addr, make in devices.items()}
    return imu.find(FakeI2C(built), clock)


def test_each_supported_chip_is_found_at_each_of_its_addresses():
    for addr, make, chip, name in (
        (0x68, FakeMPU6050, imu.CHIP_MPU6050, "MPU-6050"),
        (0x69, FakeMPU6050, imu.CHIP_MPU6050, "MPU-6050"),
        (0x6A, FakeLSM6DSOX, imu.CHIP_LSM6DSOX, "LSM6DSOX"),
        (0x6B, FakeLSM6DSOX, imu.CHIP_LSM6DSOX, "LSM6DSOX"),
    ):
        driver, status, reason = _find({addr: make})
        assert status == imu.FIND_OK and reason is None
        assert driver.addr == addr and driver.CHIP == chip and driver.NAME == name


def test_the_found_driver_streams_through_the_common_interface():
    for make, rate in ((FakeMPU6050, 100), (FakeLSM6DSOX, 104)):
        clock = FakeClock()
        dev = make(clock)
        addr = 0x68 if make is FakeMPU6050 else 0x6A
        driver, status, reason = imu.find(FakeI2C({addr: dev}), clock)
        driver.configure(100)
        assert driver.rate_hz == rate
        dev.advance(7)
        sink = Gaps()
        assert driver.drain(sink) == 7 and sink.gaps == [1] * 7
        assert driver.samples == 7 and driver.losses == 0 and not driver.resync_pending()


def test_a_supported_chip_wins_over_an_unknown_one_on_the_same_bus():
    driver, status, reason = _find({0x68: lambda c: Silent(), 0x6B: FakeLSM6DSOX})
    assert status == imu.FIND_OK and driver.addr == 0x6B


def test_an_unknown_chip_is_reported_with_its_identity_and_the_bus():
    def mpu6500(clock):
        dev = FakeMPU6050(clock)
        dev.regs[0x75] = 0x70
        return dev

    driver, status, reason = _find({0x68: mpu6500, 0x3C: lambda c: Silent()})
    assert driver is None and status == imu.FIND_UNKNOWN
    assert "unsupported IMU" in reason and "WHO_AM_I 0x70" in reason
    assert "devices on the bus: [0x3c, 0x68]" in reason


def test_nothing_answering_is_no_imu_with_what_to_check():
    driver, status, reason = _find({0x3C: lambda c: Silent()})
    assert driver is None and status == imu.FIND_NONE
    assert "0x68/0x69" in reason and "0x6a/0x6b" in reason and "pull-ups" in reason
    assert "devices on the bus: [0x3c]" in reason
    driver, status, reason = _find({})
    assert status == imu.FIND_NONE and "devices on the bus: []" in reason


def test_a_bus_that_cannot_even_scan_is_still_a_clear_no_imu():
    class Dead(FakeI2C):
        def scan(self):
            raise OSError(116)

    clock = FakeClock()
    driver, status, reason = imu.find(Dead({}), clock)
    assert status == imu.FIND_NONE and "scan failed" in reason
