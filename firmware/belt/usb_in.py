"""COMMAND frames from the USB serial input, read without blocking.

The host sends each frame as on the way out: `COBS(frame || crc16_le) || 0x00` (a
leading 0x00 is allowed and recommended). `poll` reads only what `readable()` says is
waiting, one byte at a time into a preallocated buffer, decodes COBS on the fly and
hands every frame whose CRC checks to `on_frame(buf, n)` (whatever its version: the
dispatcher ignores versions it does not know). Damaged or oversized blocks
are counted and dropped at the next 0x00.

Ctrl-C: COMMAND frames are binary and may contain 0x03, so while the app runs the
console's Ctrl-C is switched off (`micropython.kbd_intr(-1)`, see `from_stdin`) and this
reader recognises an interrupt itself. Every frame starts with its version byte, which
COBS leaves as the block's second byte; versions stay below 0x10 and never take the value
3 (docs/protocol.md). So these are Ctrl-C, never a frame:
    * 0x03 as a block's second byte (mpremote sends CR then Ctrl-C; a terminal, Ctrl-C
      twice);
    * 0x03 anywhere in a block whose second byte is 0x10 or more (text typed at the
      console, then Ctrl-C);
    * 0x03 in a block already too long to be a command;
    * a lone 0x03 starting a block with nothing after it for INTERRUPT_WAIT_MS.
A frame's bytes arrive together, so a block left unfinished for INTERRUPT_WAIT_MS (a
host that died mid-frame) is dropped when the next byte comes, and that byte starts a
new block: a Ctrl-C after such a fragment is still seen.
Each raises KeyboardInterrupt exactly as the console would: the app's loop stops the
motor and `close()` gives Ctrl-C back to the REPL.
"""

from belt import protocol as _p

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

MAX_FRAME = const(64)  # the longest COMMAND is 34 bytes
INTERRUPT_WAIT_MS = const(100)
POLL_BUDGET = const(256)  # bytes read per pass at most
_CTRL_C = const(0x03)
_TEXT_MIN = const(0x10)  # protocol versions stay below this


class UsbInput:
    """`stream.readinto(buf)` reads exactly len(buf) bytes; `readable()` says if one waits."""

    def __init__(self, stream, readable, on_frame, ticks_diff=None, restore=None):
        self.stream = stream
        self.readable = readable
        self.on_frame = on_frame
        self.ticks_diff = ticks_diff
        self.restore = restore
        self._one = bytearray(1)
        self._buf = bytearray(MAX_FRAME + 2)
        self._view = memoryview(self._buf)
        self.frames = 0
        self.bad = 0
        self._reset()
        self._lone_since = 0
        self._last_ms = 0

    def _reset(self):
        self._n = 0  # decoded bytes so far
        self._raw = 0  # block bytes so far
        self._left = 0  # bytes left in the current COBS group
        self._code = 0
        self._first = 0
        self._text = False  # second byte cannot be any version: console text
        self._over = False  # too long for a command

    def poll(self, now=0):
        """Read what is waiting (up to POLL_BUDGET bytes); returns the frames handed on."""
        got = 0
        one = self._one
        budget = POLL_BUDGET
        while budget and self.readable():
            budget -= 1
            self.stream.readinto(one)
            got += self._byte(one[0], now)
        if self._raw == 1 and self._first == _CTRL_C and self.ticks_diff is not None:
            if self.ticks_diff(now, self._lone_since) >= INTERRUPT_WAIT_MS:
                self._reset()
                raise KeyboardInterrupt
        return got

    def _byte(self, b, now):
        if b == 0:
            done = self._end()
            self._reset()
            return done
        if self._raw and self.ticks_diff is not None:
            if self.ticks_diff(now, self._last_ms) >= INTERRUPT_WAIT_MS:
                self.bad += 1  # an abandoned fragment
                self._reset()
        self._last_ms = now
        self._raw += 1
        if self._raw == 1:
            self._first = b
            if b == _CTRL_C:
                self._lone_since = now
        elif self._raw == 2:
            if b == _CTRL_C:
                self._reset()
                raise KeyboardInterrupt
            self._text = b >= _TEXT_MIN
        elif b == _CTRL_C and self._text:
            self._reset()
            raise KeyboardInterrupt
        if self._over:
            return 0
        if self._left == 0:  # a code byte
            if self._raw > 1 and self._code != 0xFF:
                self._put(0)
            self._code = b
            self._left = b - 1
        else:
            self._put(b)
            self._left -= 1
        return 0

    def _put(self, b):
        if self._n >= len(self._buf):
            self._over = True
            self._text = True  # not a command: a 0x03 from here on is Ctrl-C
            return
        self._buf[self._n] = b
        self._n += 1

    def _end(self):
        if self._raw == 0:
            return 0  # an empty block (leading or repeated 0x00)
        n = self._n
        if self._over or self._text or self._left != 0 or n < _p.HEADER_LEN + 2:
            self.bad += 1
            return 0
        n -= 2
        if _p.crc16(self._buf, n) != _p.get_u16(self._buf, n):
            self.bad += 1
            return 0
        self.frames += 1
        self.on_frame(self._view, n)
        return 1

    def close(self):
        """Hand Ctrl-C back to the console (when this reader took it)."""
        if self.restore is not None:
            self.restore()
            self.restore = None


def from_stdin(on_frame, ticks_diff):
    """A UsbInput on the board's USB serial console; takes Ctrl-C over (see above)."""
    import select
    import sys

    import micropython

    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)

    def readable():
        for _ in poller.ipoll(0):  # allocation-free form of poll()
            return True
        return False

    micropython.kbd_intr(-1)
    return UsbInput(sys.stdin.buffer, readable, on_frame, ticks_diff,
                    lambda: micropython.kbd_intr(3))
