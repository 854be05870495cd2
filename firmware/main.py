"""Boot entry: hold BOOT just after reset for safe mode (app not started, REPL free)."""

from belt import hal

if hal.safe_mode_requested():
    print("LevelBelt safe mode: BOOT held at start, app not started; the REPL is yours.")
else:
    from belt import app

    app.run()
