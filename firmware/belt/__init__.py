"""LevelBelt firmware: pure modules (fusion, detection, protocol) plus the board glue.

Only `hal.py` may import `machine` or `bluetooth`; everything else is pure so it runs on
the ESP32, on CPython in tests and inside the simulated belt.
"""

VERSION = (0, 1, 0)
