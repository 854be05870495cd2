"""MPU-6050 driver against the register-level fake: identity, set-up, FIFO, overflow, faults."""

import errno

from fake_i2c import FakeClock, FakeI2C, FakeMPU6050
from imu_rig import Rows, check_draining_allocates_nothing, check_repeated_bus_errors_keep_retrying
from imu_rig import chip as _rig_chip
from imu_rig import raises as _raises

from belt import imu_mpu6050 as M
from belt.pipeline import Pipeline


def _chip(addr=0x68, rate=100):
    return _rig_chip(M.MPU6050, FakeMPU6050, addr, rate)


def test_construction_reads_who_am_i_and_nothing_else():
    clock, dev, i2c, imu = _chip(rate=0)
    assert i2c.transactions == 1
    assert dev.writes == []
    assert imu.addr == 0x68


def test_the_chip_at_0x69_reads_who_am_i_0x68_too():
    clock, dev, i2c, imu = _chip(addr=0x69)
    dev.advance(2, accel=(0, 8192, 0))
    assert imu.drain(Rows()) == 2


def test_absent_chip_is_a_clear_error_for_a_nack_and_a_timeout():
    clock = FakeClock()
    for err in (errno.ENODEV, errno.ETIMEDOUT):
        msg = _raises(M.ImuAbsent, M.MPU6050, FakeI2C({}, nack_errno=err), clock, 0x68)
        assert "0x68" in msg and "no answer" in msg and str(err) in msg
    # A chip at the other address does not answer for this one.
    msg = _raises(M.ImuAbsent, M.MPU6050, FakeI2C({0x69: FakeMPU6050(clock)}), clock, 0x68)
    assert "0x68" in msg


def test_wrong_who_am_i_is_a_clear_error():
    clock = FakeClock()
    dev = FakeMPU6050(clock)
    dev.regs[0x75] = 0x70  # an MPU-6500 answering at 0x68
    msg = _raises(M.ImuWrongId, M.MPU6050, FakeI2C({0x68: dev}), clock, 0x68)
    assert "0x70" in msg and "not an MPU-6050" in msg
    assert issubclass(M.ImuWrongId, M.ImuError) and issubclass(M.ImuAbsent, M.ImuError)


def _final_registers(rate):
    clock, dev, i2c, imu = _chip(rate=rate)
    r = dev.regs
    return clock, dev, (r[0x19], r[0x1A], r[0x1B], r[0x1C], r[0x23], r[0x38], r[0x6A], r[0x6B])


def test_configure_100_hz_writes_the_documented_values():
    clock, dev, regs = _final_registers(100)
    # SMPLRT_DIV 9 (1 kHz / 10), DLPF 44 Hz, +-500 dps, +-4 g, FIFO accel+gyro, FIFO_OFLOW
    # interrupt flag, FIFO enabled, awake on the X-gyro PLL.
    assert regs == (9, 3, 0x08, 0x08, 0x78, 0x10, 0x40, 0x01)
    assert dev.rate_hz() == 100
    assert dev.writes[0] == (0x6B, 0x80)  # device reset first ...
    assert clock.slept_ms >= 100  # ... and its settling time
    order = [reg for reg, _ in dev.writes]
    assert order.index(0x23) < order.index(0x6A)  # FIFO sources set before the FIFO starts
    assert (0x6A, 0x04) in dev.writes  # FIFO reset with FIFO_EN = 0
    assert dev.writes[-1] == (0x6A, 0x40)


def test_configure_200_hz_and_refuses_other_rates():
    clock, dev, regs = _final_registers(200)
    assert regs == (4, 3, 0x08, 0x08, 0x78, 0x10, 0x40, 0x01)
    assert dev.rate_hz() == 200
    imu = _chip(rate=0)[3]
    _raises(ValueError, imu.configure, 50)
    _raises(ValueError, imu.configure, 1000)


def test_fifo_samples_come_out_in_canonical_units():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    assert imu.drain(sink) == 0  # nothing due yet
    dev.advance(3, accel=(0, 8192, 0), gyro=(655, -131, 0))  # +1 g on Y; +10, -2 dps
    dev.advance(1, accel=(-8192, 4096, 0x1234), gyro=(-32768, 32767, 1))
    dev.advance(1, accel=(32767, -32768, -1), gyro=(0, 0, -1))
    assert imu.drain(sink) == 5
    assert sink.rows[:3] == [(0, 1000, 0, 160, -32, 0)] * 3
    # 0x1234 = 4660 -> 568.8 mg; 32767 -> 4000 mg; +-500 dps full scale -> +-8004
    assert sink.rows[3] == (-1000, 500, 569, -8004, 8004, 0)
    assert sink.rows[4] == (4000, -4000, 0, 0, 0, 0)
    assert sink.gaps == [1] * 5
    assert imu.samples == 5 and dev.fifo_bytes() == 0


def test_conversions_round_to_nearest_ties_to_even_over_the_whole_range():
    for raw in range(-32768, 32768):
        assert M.accel_mg(raw) == round(raw * 1000 / 8192), raw
        assert M.gyro_dps16(raw) == round(raw * 32 / 131), raw
    assert M.accel_mg(512) == 62 and M.accel_mg(1536) == 188  # 62.5 and 187.5: ties
    assert M.accel_mg(-512) == -62


def test_drain_reads_a_long_backlog_in_bursts_of_whole_records():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(25, accel=(0, 8192, 0))
    before = i2c.transactions
    assert imu.drain(sink) == 25
    # INT_STATUS, FIFO_COUNT, then 10 + 10 + 5 records
    assert i2c.transactions - before == 5
    assert len(sink.rows) == 25 and dev.fifo_bytes() == 0


def test_overflow_is_detected_counted_recovered_and_the_index_advances_by_the_loss():
    for rate in (100, 200):
        clock, dev, i2c, imu = _chip(rate=rate)
        p = Pipeline(rate)
        dev.advance(5, accel=(0, 8192, 0))
        assert imu.drain(p) == 5 and p.index == 4
        dev.advance(200)  # the loop stalls: 200 samples, the FIFO holds 85.3 records
        assert dev.overflowed > 0 and dev.fifo_bytes() == 1024
        assert imu.drain(p) == 0  # detected: FIFO reset, nothing pushed
        assert imu.overflows == 1 and imu.losses == 1
        assert imu.last_lost == 200 and imu.lost == 200
        assert dev.fifo_bytes() == 0
        dev.advance(3)
        assert imu.drain(p) == 3
        assert p.index == 4 + 200 + 3  # = the chip's own sample count - 1
        assert p.index == dev.samples - 1
        assert imu.drain(p) == 0 and imu.overflows == 1  # the flag was cleared


def test_overflow_flag_alone_is_enough_to_detect_it():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(86, accel=(0, 8192, 0))  # one record too many: 8 bytes dropped
    i2c.readfrom_mem_into(0x68, 0x74, bytearray(100))  # someone read part of it
    assert dev.fifo_bytes() < 1024
    assert imu.drain(sink) == 0 and imu.overflows == 1
    assert imu.last_lost == 86
    dev.advance(1)
    imu.drain(sink)
    assert sink.gaps == [87] and sink.rows == [(0, 1000, 0, 0, 0, 0)]


def test_a_bus_error_is_counted_and_the_chip_reinitialised_even_after_power_loss():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(4, accel=(0, 8192, 0))
    imu.drain(sink)
    dev.advance(5)
    dev.fail(1)
    assert imu.drain(sink) == 0  # OSError swallowed and counted
    assert imu.io_errors == 1 and imu.resync_pending()
    dev.power_on()  # the chip browned out: asleep, FIFO off
    clock.sleep_ms(100)
    assert imu.drain(sink) == 0  # re-initialised (reset, 100 ms), the loss accounted
    assert not imu.resync_pending() and imu.resyncs == 1 and imu.losses == 1
    assert dev.regs[0x6A] == 0x40 and dev.regs[0x6B] == 0x01
    # From the last good FIFO count (140 ms) to the FIFO restart (390 ms) at 100 Hz.
    assert clock.ticks_ms() == 390
    assert imu.last_lost == 25
    dev.advance(2)
    assert imu.drain(sink) == 2
    assert sink.gaps == [1, 1, 1, 1, imu.last_lost + 1, 1]


def test_records_counted_but_not_read_before_a_bus_error_are_lost_too():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(25, accel=(0, 8192, 0))
    dev.fail(1, after=3)  # INT_STATUS, FIFO_COUNT, first burst fine; the second fails
    assert imu.drain(sink) == 10
    assert imu.io_errors == 1
    imu.drain(sink)  # recovery: 15 unread + 100 ms of reset at 100 Hz
    assert imu.last_lost == 15 + 10
    dev.advance(1)
    imu.drain(sink)
    assert sink.gaps[-1] == 26 and len(sink.rows) == 11


def test_repeated_bus_errors_keep_retrying_without_raising():
    clock, dev, i2c, imu = _chip()
    check_repeated_bus_errors_keep_retrying(dev, imu)


def test_draining_the_fifo_allocates_nothing():
    clock, dev, i2c, imu = _chip()
    check_draining_allocates_nothing(dev, imu, 8192)
