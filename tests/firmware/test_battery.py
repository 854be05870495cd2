"""Battery reading through the ADC divider: mV, smoothing, percent, low/critical, reminders."""

from fake_machine import ADC, Board, Pin, install

from belt import battery as B
from belt import board

PIN = board.BATTERY_ADC_PIN


def _battery(cell_mv=3900):
    b = install(Board())
    adc = ADC(Pin(PIN), atten=ADC.ATTN_11DB)
    bat = B.Battery(adc, b.clock, board.BATTERY_DIVIDER)
    _set(b, cell_mv)
    return b, adc, bat


def _set(b, cell_mv):
    b.volts_uv[PIN] = cell_mv * 1000 // board.BATTERY_DIVIDER


def _step(b, bat, seconds, loaded=False):
    for _ in range(seconds):
        bat.update(b.clock.ticks_ms(), loaded)
        b.clock.sleep_ms(1000)


def test_the_first_reading_gives_the_cell_voltage_through_the_divider():
    b, adc, bat = _battery(3900)
    assert bat.update(b.clock.ticks_ms())
    assert bat.mv == 3900 and bat.present and bat.percent == B.percent(3900)
    assert adc.reads == B.READS_PER_UPDATE


def test_readings_are_taken_once_a_second_and_never_while_the_motor_runs():
    b, adc, bat = _battery()
    assert bat.update(0)
    assert not bat.update(500) and adc.reads == B.READS_PER_UPDATE
    assert not bat.update(1500, loaded=True)  # motor on: the cell sags, so no reading
    assert bat.update(1600) and bat.readings == 2


def test_readings_are_smoothed_so_a_dip_does_not_flip_the_level():
    b, adc, bat = _battery(3900)
    _step(b, bat, 3)
    _set(b, 3500)  # one bad second (a radio burst)
    _step(b, bat, 1)
    assert 3780 <= bat.mv <= 3820 and not bat.low
    _set(b, 3900)
    _step(b, bat, 10)
    assert bat.mv >= 3890


def test_percent_follows_the_lipo_curve_and_is_clamped():
    assert B.percent(4250) == 100 and B.percent(4200) == 100
    assert B.percent(3840) == 50 and B.percent(3300) == 0 and B.percent(3000) == 0
    assert B.percent(3855) == 55  # halfway between 3840 (50) and 3870 (60)
    values = [B.percent(mv) for mv in range(3000, 4300, 5)]
    assert values == sorted(values)  # never goes down as the voltage rises


def test_low_battery_has_hysteresis_and_reminds_on_entry_then_every_five_minutes():
    b, adc, bat = _battery(3700)
    _step(b, bat, 2)
    assert not bat.low and not bat.remind(b.clock.ticks_ms())
    _set(b, 3500)
    _step(b, bat, 10)
    assert bat.low and not bat.critical
    now = b.clock.ticks_ms()
    assert bat.remind(now) and not bat.remind(now + 1000)
    assert not bat.remind(now + B.REMIND_MS - 1) and bat.remind(now + B.REMIND_MS)
    _set(b, 3600)  # back above LOW_MV but inside the hysteresis band: still low
    _step(b, bat, 10)
    assert bat.low
    _set(b, 3700)  # charged a little: clears, and the next low reminds at once
    _step(b, bat, 10)
    assert not bat.low
    _set(b, 3500)
    _step(b, bat, 10)
    assert bat.remind(b.clock.ticks_ms())


def test_critical_is_flagged_with_hysteresis_and_silences_the_reminder():
    b, adc, bat = _battery(3400)
    _step(b, bat, 2)
    assert bat.low and not bat.critical
    _set(b, 3300)
    _step(b, bat, 10)
    assert bat.critical and bat.percent == 0
    assert not bat.remind(b.clock.ticks_ms())  # the motor is off anyway
    _set(b, 3420)
    _step(b, bat, 10)
    assert bat.critical  # inside the band
    _set(b, 3500)
    _step(b, bat, 10)
    assert not bat.critical and bat.low


def test_no_cell_reads_as_not_present_full_level_and_zero_millivolts():
    b, adc, bat = _battery(0)
    _step(b, bat, 2)
    assert not bat.present and bat.mv == 0 and bat.percent == 100
    assert not bat.low and not bat.critical
    _set(b, 4100)  # a cell is plugged in: the first reading seeds the mean
    _step(b, bat, 1)
    assert bat.present and bat.mv == 4100
