"""USB serial transport on pyserial: COBS/CRC frames in both directions.

The same code reads a belt on /dev/ttyUSB0 and the simulated belt on a pty.
"""

from __future__ import annotations

import serial

from levelbelt.errors import LinkError
from levelbelt.framing import Deframer, wrap

DEFAULT_BAUD = 921600


class SerialLink:
    def __init__(self, port: str, baud: int = DEFAULT_BAUD, timeout_s: float = 0.05) -> None:
        self.port = port
        self.deframer = Deframer()
        try:
            self._serial = serial.Serial(port, baud, timeout=timeout_s)
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"cannot open serial port {port}: {e}") from None

    def read_frames(self) -> list[bytes]:
        """Whatever whole frames arrived; waits at most the read timeout."""
        try:
            waiting = self._serial.in_waiting
            data = self._serial.read(max(1, waiting))
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"serial port {self.port} failed: {e}") from None
        return self.deframer.feed(data) if data else []

    def send_frame(self, frame: bytes) -> None:
        try:
            self._serial.write(wrap(frame))
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"serial port {self.port} failed: {e}") from None

    def close(self) -> None:
        self._serial.close()
