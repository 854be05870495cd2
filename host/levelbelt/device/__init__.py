"""Putting MicroPython and the LevelBelt firmware on a board over USB, and asking it things.

    ports      find the belt's USB serial port; say why a port cannot be opened
    repl       one raw-REPL session through mpremote's transport
    probe      small board-side snippets: system, MAC/name, key, firmware, IMU, battery
    mpy        mpy-cross and .mpy compatibility
    flash      MicroPython via esptool          install    firmware, only what changed
    provision  the command key                  info       what is on the board
    cli        the `levelbelt device` subcommands

Only `cli` is imported by `levelbelt.cli`; it loads the rest (and esptool, mpremote)
when a device command actually runs.
"""
