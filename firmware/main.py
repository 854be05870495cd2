"""Boot entry: hold BOOT just after reset for safe mode (app not started, REPL free).

Brown-out safe start: the motors are driven low first (hal.Hal), nothing is written to
flash while starting (settings are only read; a calibration is saved 10 s later at the
earliest), and why the chip reset is passed on, so a watchdog reset is reported on the
console and in INFO.
"""

from belt import hal

if hal.safe_mode_requested():
    print("LevelBelt safe mode: BOOT held at start, app not started; the REPL is yours.")
else:
    from belt import app

    app.run(reset_cause=hal.reset_cause())
