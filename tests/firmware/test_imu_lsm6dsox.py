"""LSM6DSOX driver against the register-level fake: identity, set-up, tagged FIFO, overflow."""

import errno

from fake_i2c import FakeClock, FakeI2C
from fake_lsm6dsox import ONE_G, FakeLSM6DSOX
from imu_rig import (
    Counter,
    Rows,
    check_draining_allocates_nothing,
    check_repeated_bus_errors_keep_retrying,
)
from imu_rig import chip as _rig_chip
from imu_rig import raises as _raises

from belt import imu_lsm6dsox as L
from belt.pipeline import Pipeline

UP_Y = (0, ONE_G, 0)


def _chip(addr=0x6A, rate=100, accel_first=False):
    return _rig_chip(L.LSM6DSOX, lambda clock: FakeLSM6DSOX(clock, accel_first), addr, rate)


def test_construction_reads_who_am_i_and_nothing_else():
    clock, dev, i2c, imu = _chip(rate=0)
    assert i2c.transactions == 1 and dev.writes == []
    assert imu.addr == 0x6A and imu.CHIP == 0x6C and imu.NAME == "LSM6DSOX"


def test_the_chip_at_0x6b_works_the_same():
    clock, dev, i2c, imu = _chip(addr=0x6B)
    dev.advance(2, accel=UP_Y)
    assert imu.drain(Rows()) == 2


def test_absent_chip_and_wrong_identity_are_clear_errors():
    clock = FakeClock()
    for err in (errno.ENODEV, errno.ETIMEDOUT):
        msg = _raises(L.ImuAbsent, L.LSM6DSOX, FakeI2C({}, nack_errno=err), clock, 0x6A)
        assert "0x6a" in msg and "no answer" in msg and str(err) in msg
    dev = FakeLSM6DSOX(clock)
    dev.regs[0x0F] = 0x69  # an LSM6DS3 at the same address
    msg = _raises(L.ImuWrongId, L.LSM6DSOX, FakeI2C({0x6A: dev}), clock, 0x6A)
    assert "0x69" in msg and "not an LSM6DSOX" in msg
    assert issubclass(L.ImuWrongId, L.ImuError) and issubclass(L.ImuAbsent, L.ImuError)


def _registers(dev):
    r = dev.regs
    return (r[0x12], r[0x10], r[0x11], r[0x13], r[0x15], r[0x17], r[0x09], r[0x0A])


def test_configure_100_hz_runs_the_chip_at_104_hz_with_the_documented_values():
    clock, dev, i2c, imu = _chip(rate=100)
    # BDU + IF_INC; accel 104 Hz +-4 g LPF2; gyro 104 Hz +-500 dps; gyro LPF1; FTYPE 0;
    # LPF2 at ODR/4; both batched at 104 Hz; continuous mode.
    assert _registers(dev) == (0x44, 0x4A, 0x44, 0x02, 0x00, 0x00, 0x44, 0x06)
    assert imu.rate_hz == 104 and dev.rate_hz() == 104
    assert dev.writes[0] == (0x12, 0x01)  # software reset first ...
    assert clock.slept_ms >= L.RESET_MS  # ... and its settling time
    order = [reg for reg, _ in dev.writes]
    assert order.index(0x09) < len(order) - 1  # batching set before the FIFO starts
    assert dev.writes[-2:] == [(0x0A, 0x00), (0x0A, 0x06)]  # emptied, then continuous


def test_configure_200_hz_runs_at_208_hz_and_other_rates_are_refused():
    clock, dev, i2c, imu = _chip(rate=200)
    assert _registers(dev) == (0x44, 0x5A, 0x54, 0x02, 0x00, 0x00, 0x55, 0x06)
    assert imu.rate_hz == 208 and dev.rate_hz() == 208
    imu = _chip(rate=0)[3]
    _raises(ValueError, imu.configure, 50)
    _raises(ValueError, imu.configure, 1000)
    assert L.rate_for(100) == 104 and L.rate_for(208) == 208


def test_the_chip_clock_is_104_hz_so_the_index_is_in_104ths_of_a_second():
    clock, dev, i2c, imu = _chip()
    sink = Counter()
    start = clock.us
    for _ in range(104):
        dev.advance(1)
        imu.drain(sink)
    assert sink.count == 104 and sink.gaps == 104
    assert 999000 <= clock.us - start <= 1000000  # 104 samples are one second


def test_tagged_words_pair_into_samples_in_canonical_units_either_order():
    for accel_first in (False, True):
        clock, dev, i2c, imu = _chip(accel_first=accel_first)
        sink = Rows()
        assert imu.drain(sink) == 0  # nothing due yet
        # +1 g on Y; gyro +10 dps (571.4 counts -> 571) and -2 dps (-114.3 -> -114)
        dev.advance(3, accel=UP_Y, gyro=(571, -114, 0))
        dev.advance(1, accel=(-8197, 4098, 0x1234), gyro=(-32768, 32767, 1))
        dev.advance(1, accel=(32767, -32768, -1), gyro=(0, 0, -1))
        assert imu.drain(sink) == 5
        assert sink.rows[:3] == [(0, 1000, 0, 160, -32, 0)] * 3
        # 0x1234 = 4660 -> 568.52 mg; 32767 -> 3997.6 mg;
        # +-32768 x 17.5 mdps = 573.4 dps -> 9175 in 1/16 deg/s
        assert sink.rows[3] == (-1000, 500, 569, -9175, 9175, 0)
        assert sink.rows[4] == (3998, -3998, 0, 0, 0, 0)
        assert sink.gaps == [1] * 5
        assert imu.samples == 5 and dev.fifo_words() == 0 and imu.unpaired == 0


def test_little_endian_words_are_read_in_the_chips_byte_order():
    clock, dev, i2c, imu = _chip()
    dev.advance(1, accel=(0x0102, -2, 0x7F00), gyro=(0x0302, -0x0100, 5))
    raw = bytearray(14)
    i2c.readfrom_mem_into(0x6A, 0x78, raw)  # the gyro word, then the accel word
    assert raw[0] >> 3 == 1 and raw[7] >> 3 == 2
    assert bytes(raw[1:7]) == bytes([0x02, 0x03, 0x00, 0xFF, 0x05, 0x00])
    assert bytes(raw[8:14]) == bytes([0x02, 0x01, 0xFE, 0xFF, 0x00, 0x7F])


def test_conversions_use_the_datasheet_sensitivities_over_the_whole_range():
    for raw in range(-32768, 32768):
        assert L.accel_mg(raw) == round(raw * 0.122), raw
        assert L.gyro_dps16(raw) == round(raw * 17.5 * 16 / 1000), raw
    assert L.accel_mg(250) == 30 and L.accel_mg(750) == 92  # 30.5 and 91.5: ties to even
    assert L.accel_mg(-250) == -30
    assert L.accel_mg(ONE_G) == 1000 and L.gyro_dps16(571) == 160  # 1 g; 10 dps


class LateWord(FakeI2C):
    """Reports one word fewer in FIFO_STATUS1 once: the drain looks at the FIFO between
    the gyro and the accel word of a slot (the chip writes them one after the other)."""

    hide = 0

    def readfrom_mem_into(self, addr, memaddr, buf):
        FakeI2C.readfrom_mem_into(self, addr, memaddr, buf)
        if memaddr == 0x3A and self.hide:
            self.hide -= 1
            buf[0] -= 1


def test_half_a_sample_is_kept_and_paired_on_the_next_drain():
    clock = FakeClock()
    dev = FakeLSM6DSOX(clock)
    i2c = LateWord({0x6A: dev})
    imu = L.LSM6DSOX(i2c, clock, 0x6A)
    imu.configure(100)
    sink = Rows()
    dev.advance(2, accel=UP_Y, gyro=(571, 0, 0))
    i2c.hide = 1
    assert imu.drain(sink) == 1  # slot 0 whole; only the gyro word of slot 1 was counted
    assert dev.fifo_words() == 1
    assert imu.drain(sink) == 1  # its accel word completes the pair
    assert sink.rows == [(0, 1000, 0, 160, 0, 0)] * 2 and sink.gaps == [1, 1]
    assert imu.unpaired == 0


def test_a_word_whose_partner_is_gone_counts_as_a_lost_sample():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(2, accel=UP_Y, gyro=(10, 20, 30))
    i2c.readfrom_mem_into(0x6A, 0x78, bytearray(7))  # someone popped the first gyro word
    assert imu.drain(sink) == 1 and imu.unpaired == 1
    assert sink.gaps == [2]  # the lost slot still advances the index
    dev.advance(1)
    assert imu.drain(sink) == 1 and sink.gaps == [2, 1]


def test_drain_reads_a_long_backlog_in_bursts_of_whole_words():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(25, accel=UP_Y)  # 50 words
    before = i2c.transactions
    assert imu.drain(sink) == 25
    assert i2c.transactions - before == 1 + 4  # FIFO_STATUS1/2, then 16 + 16 + 16 + 2 words
    assert len(sink.rows) == 25 and dev.fifo_words() == 0


def test_overflow_is_detected_counted_recovered_and_the_index_advances_by_the_loss():
    for rate in (100, 200):
        clock, dev, i2c, imu = _chip(rate=rate)
        p = Pipeline(imu.rate_hz)
        dev.advance(5, accel=UP_Y)
        assert imu.drain(p) == 5 and p.index == 4
        dev.advance(300)  # the loop stalls: 600 words, the FIFO holds 512
        assert dev.overwritten > 0 and dev.fifo_words() == 512
        assert imu.drain(p) == 0  # detected: FIFO reset, nothing pushed
        assert imu.overflows == 1 and imu.losses == 1
        assert 299 <= imu.last_lost <= 301 and imu.lost == imu.last_lost
        assert dev.fifo_words() == 0
        dev.advance(3)
        assert imu.drain(p) == 3
        assert p.index == 4 + imu.last_lost + 3
        assert abs(p.index - (dev.samples - 1)) <= 1  # the chip's own slot count
        assert imu.drain(p) == 0 and imu.overflows == 1  # the flag was cleared


def test_the_latched_overflow_flag_alone_is_enough_to_detect_it():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(257, accel=UP_Y)  # 514 words: two overwritten
    i2c.readfrom_mem_into(0x6A, 0x78, bytearray(70))  # someone read ten words
    assert dev.fifo_words() == 502  # no longer full, so FIFO_OVR_IA is 0 again
    assert imu.drain(sink) == 0 and imu.overflows == 1  # FIFO_OVR_LATCHED remembered it
    assert 256 <= imu.last_lost <= 258
    dev.advance(1)
    assert imu.drain(sink) == 1 and sink.gaps == [imu.last_lost + 1]


def test_a_bus_error_is_counted_and_the_chip_reinitialised_even_after_power_loss():
    clock, dev, i2c, imu = _chip()
    sink = Rows()
    dev.advance(4, accel=UP_Y)
    imu.drain(sink)
    good = clock.ticks_ms()  # the last FIFO count the driver saw
    dev.advance(5)
    dev.fail(1)
    assert imu.drain(sink) == 0  # OSError swallowed and counted
    assert imu.io_errors == 1 and imu.resync_pending()
    dev.power_on()  # the chip browned out: powered down, FIFO off
    clock.sleep_ms(100)
    assert imu.drain(sink) == 0  # re-initialised (reset, 10 ms), the loss accounted
    assert not imu.resync_pending() and imu.resyncs == 1 and imu.losses == 1
    assert dev.regs[0x0A] == 0x06 and dev.regs[0x10] == 0x4A
    # From the last good count to the FIFO restart at 104 Hz.
    assert imu.last_lost == ((imu._t0 - good) * 104 + 500) // 1000
    assert imu.last_lost > 15
    dev.advance(2)
    assert imu.drain(sink) == 2
    assert sink.gaps == [1, 1, 1, 1, imu.last_lost + 1, 1]


def test_repeated_bus_errors_keep_retrying_without_raising():
    clock, dev, i2c, imu = _chip()
    check_repeated_bus_errors_keep_retrying(dev, imu)


def test_draining_the_fifo_allocates_nothing():
    clock, dev, i2c, imu = _chip()
    check_draining_allocates_nothing(dev, imu, ONE_G)
