"""Decide safe mode at boot: the BOOT button held during a short window after reset.

Pure (the pin read and the sleep are passed in) so it is tested without a board; main.py
asks `hal.safe_mode_requested()`, which calls `held` with the real pin. Safe mode has to
work when the app itself is broken, so this module imports nothing else from `belt`.
"""

POLL_MS = 10
PRESSED_POLLS = 3  # 30 ms of steady low: a bounce or a glitch is not a request


def held(read, sleep_ms, window_ms, poll_ms=POLL_MS, needed=PRESSED_POLLS):
    """True once `read()` returns 0 (pressed, active low) for `needed` polls in a row.

    Returns as soon as that happens, otherwise after `window_ms`.
    """
    run = 0
    waited = 0
    while True:
        if read() == 0:
            run += 1
            if run >= needed:
                return True
        else:
            run = 0
        if waited >= window_ms:
            return False
        sleep_ms(poll_ms)
        waited += poll_ms
