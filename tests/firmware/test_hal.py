"""belt.hal itself on a fake board (fake_machine): pins, bus, LED, ADC, watchdog, safe mode."""

from fake_i2c import FakeMPU6050
from fake_machine import (
    PWM,
    WDT_RESET,
    Board,
    Pin,
    Timer,
    WatchdogReset,
    load_hal,
)

from belt import board


def _hal(**kw):
    b = Board(**kw)
    return b, load_hal(b)


def _expect_watchdog(fn, *args):
    try:
        fn(*args)
    except WatchdogReset:
        return
    raise AssertionError("the watchdog did not fire")


def test_hal_claims_the_board_pins_motors_first_and_off():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    assert len(h.motors) == board.MOTOR_COUNT and h.motor is h.motors[0]
    motor = b.pins[board.MOTOR_PIN]
    assert motor.mode == Pin.OUT and motor.level == 0 and motor.rises == 0
    assert (h.i2c.id, h.i2c.frequency) == (board.I2C_ID, board.I2C_FREQ)
    assert (h.i2c.scl.id, h.i2c.sda.id) == (board.I2C_SCL, board.I2C_SDA)
    h.motor.value(1)
    assert motor.level == 1 and motor.rises == 1


def test_the_led_signal_hides_the_active_low_pin():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    led = b.pins[board.LED_PIN]
    h.led.value(1)
    assert led.level == (0 if board.LED_ACTIVE_LOW else 1) and h.led.value() == 1
    h.led.value(0)
    assert led.level == (1 if board.LED_ACTIVE_LOW else 0) and h.led.value() == 0


def test_the_i2c_bus_reaches_the_chips_wired_to_the_board():
    b, H = _hal()
    b.devices[0x68] = FakeMPU6050(b.clock)
    h = H.Hal(write=lambda buf: None)
    assert h.i2c.scan() == [0x68]
    assert h.i2c.readfrom_mem(0x68, 0x75, 1) == b"\x68"


def test_the_battery_adc_reads_the_divider_pin_at_11_db():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    b.volts_uv[board.BATTERY_ADC_PIN] = 1_950_000  # a 3.9 V cell through the 2:1 divider
    assert h.battery_adc.read_uv() == 1_950_000
    b.volts_uv[board.BATTERY_ADC_PIN] = 3_600_000  # beyond the 11 dB range: clipped
    assert h.battery_adc.read_uv() == 3_100_000


def test_clock_functions_run_on_the_boards_clock():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    t0 = h.ticks_ms()
    h.sleep_ms(250)
    assert h.ticks_diff(h.ticks_ms(), t0) == 250 and b.clock.us == 250_000


def test_the_watchdog_starts_only_when_asked_and_resets_a_stalled_loop():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    h.feed()  # no watchdog yet: nothing happens, whatever the delay
    h.sleep_ms(20_000)
    h.start_watchdog()
    assert b.wdt_timeout == H.WDT_TIMEOUT_MS == 5000
    for _ in range(100):  # a loop that feeds every 40 ms runs for ever
        h.sleep_ms(40)
        h.feed()
    assert b.cause != WDT_RESET
    h.sleep_ms(4_900)
    h.feed()  # just in time
    _expect_watchdog(h.sleep_ms, 5_001)  # the loop stalled
    assert b.cause == WDT_RESET
    # Next boot on the same board reports it.
    b2, H2 = _hal(cause=b.cause)
    assert H2.reset_cause() == (WDT_RESET, "watchdog")


def test_relaxing_the_watchdog_gives_the_repl_time_after_ctrl_c():
    b, H = _hal()
    h = H.Hal(write=lambda buf: None)
    h.relax_watchdog()  # never started: stays off
    assert h.wdt is None and b.wdt_timeout == 0
    h.start_watchdog()
    h.sleep_ms(3_000)
    h.relax_watchdog()
    h.sleep_ms(600_000)  # ten minutes at the REPL
    h.feed()
    assert b.cause != WDT_RESET and b.wdt_timeout == H.WDT_RELAXED_MS


def test_reset_causes_have_names_and_a_brown_out_reads_as_power_on():
    for cause, name in ((1, "power-on or brown-out"), (2, "hard reset or crash"),
                        (3, "watchdog"), (5, "soft reset"), (9, "unknown (9)")):
        b, H = _hal(cause=cause)
        assert H.reset_cause() == (cause, name)


def test_safe_mode_needs_boot_held_in_the_window_and_lights_the_led_meanwhile():
    b, H = _hal()
    b.drive(board.SAFE_MODE_PIN, 0)  # held from the start
    assert H.safe_mode_requested() is True
    assert b.clock.ticks_ms() < 100
    led = b.pins[board.LED_PIN]
    assert led.rises + (1 if board.LED_ACTIVE_LOW else 0) >= 1
    assert led.level == (1 if board.LED_ACTIVE_LOW else 0)  # off again afterwards
    b, H = _hal()
    assert H.safe_mode_requested() is False  # released: the pull-up reads 1
    assert b.clock.ticks_ms() == board.SAFE_MODE_WINDOW_MS


def test_the_stand_in_timer_fires_one_shots_and_periodic_callbacks_in_time_order():
    b, H = _hal()
    fired = []
    one = Timer(0)
    per = Timer(1)
    one.init(mode=Timer.ONE_SHOT, period=520, callback=lambda t: fired.append(("one", b.clock.us)))
    per.init(mode=Timer.PERIODIC, period=200, callback=lambda t: fired.append(("per", b.clock.us)))
    b.clock.sleep_ms(700)
    assert fired == [("per", 200_000), ("per", 400_000), ("one", 520_000), ("per", 600_000)]
    per.deinit()
    b.clock.sleep_ms(1000)
    assert len(fired) == 4


def test_the_stand_in_pwm_counts_as_on_while_its_duty_is_above_zero():
    b, H = _hal()
    pwm = PWM(Pin(4, Pin.OUT), freq=20000, duty_u16=0)
    st = b.pins[4]
    assert st.level == 0 and pwm.freq() == 20000
    pwm.duty_u16(40000)
    b.clock.sleep_ms(30)
    pwm.deinit()
    assert st.rises == 1 and st.max_on_ms == 30 and st.level == 0
    try:
        pwm.duty_u16(70000)
    except ValueError:
        pass
    else:
        raise AssertionError("duty beyond 16 bits accepted")


def test_main_py_in_safe_mode_starts_nothing_and_leaves_the_repl_free():
    b, H = _hal()
    b.devices[0x68] = FakeMPU6050(b.clock)
    b.drive(board.SAFE_MODE_PIN, 0)
    printed = _run_main(H)
    assert "safe mode" in printed
    assert b.devices[0x68].writes == [] and b.wdt_timeout == 0  # no app, no watchdog
    assert b.pins[board.LED_PIN].level == (1 if board.LED_ACTIVE_LOW else 0)


def _main_source():
    import belt

    here = belt.__file__.replace("\\", "/").rsplit("/", 1)[0]
    with open(here.rsplit("/", 1)[0] + "/main.py") as f:
        return f.read()


def _run_main(hal_module, app_module=None):
    """Execute firmware/main.py as the board would; returns what it printed."""
    out = []

    def fake_print(*args):
        out.append(" ".join(str(a) for a in args))

    env = {"__name__": "__main__", "print": fake_print}
    exec(compile(_main_source(), "main.py", "exec"), env)
    return "\n".join(out)
