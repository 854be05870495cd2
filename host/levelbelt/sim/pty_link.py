"""A pseudo-terminal pair standing in for the belt's USB serial port.

The simulated belt writes to the master side; the host opens the slave path with
pyserial exactly as it would open /dev/ttyUSB0.
"""

from __future__ import annotations

import contextlib
import os
import tty


class PtyPair:
    def __init__(self) -> None:
        self.master_fd, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd)  # no echo, no newline translation: binary frames
        self.slave_path = os.ttyname(self._slave_fd)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.master_fd, view)
            view = view[n:]

    def read(self, limit: int = 4096) -> bytes:
        return os.read(self.master_fd, limit)

    def close(self) -> None:
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
