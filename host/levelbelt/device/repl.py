"""One session with a MicroPython board over USB serial: mpremote's transport, our errors.

mpremote does the raw-REPL protocol (exec, raw-paste with fallback, file writes). This
module opens the port with a reason when it cannot, gets into the raw REPL within a time
limit (interrupting a running app with Ctrl-C first) and names what answered when it is
not MicroPython, soft-resets there so the session starts on a clean board, and turns the
board's tracebacks into one-line errors. Closing soft-resets again from the friendly
REPL, which runs main.py: the belt's app starts again.
"""

from __future__ import annotations

import contextlib
import json
import time
from types import TracebackType
from typing import Any, Final

import serial
from mpremote.transport import (  # type: ignore[import-untyped]
    TransportError,
    TransportExecError,
)
from mpremote.transport_serial import SerialTransport  # type: ignore[import-untyped]

from levelbelt.device.defaults import REPL_TIMEOUT_S
from levelbelt.device.errors import BoardCommandError, NoMicroPythonError, PortError
from levelbelt.device.ports import explain_open_failure
from levelbelt.errors import LinkError

BAUD: Final = 115200  # ignored by USB CDC, right for USB-UART bridges
IO_TIMEOUT_S: Final = 2.0  # longest wait for one read inside an exchange
RAW_BANNER: Final = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT: Final = b"soft reboot\r\n"
BOOT_TIMEOUT_S: Final = 5.0  # soft reset to raw REPL banner (boot.py runs in between)
ROM_DOWNLOAD_MARK: Final = b"waiting for download"
_ATTEMPT_S: Final = 1.0
SEEN_KEEP: Final = 4096  # what an unknown answer is judged by (its tail)


def _preview(data: bytes, limit: int = 48) -> str:
    tail = bytes(data[-limit:])
    return repr(tail)


class Board:
    """A board in the raw REPL. `close(restart=True)` soft-resets it so its app runs again."""

    def __init__(self, port: str, *, repl_timeout_s: float = REPL_TIMEOUT_S) -> None:
        self.port = port
        try:
            self._t = SerialTransport(port, baudrate=BAUD, timeout=IO_TIMEOUT_S)
        except TransportError:
            raise explain_open_failure(port) from None
        try:
            self._enter_raw_repl(repl_timeout_s)
        except BaseException:
            self._close_port()
            raise

    # -- the line ---------------------------------------------------------------------

    @property
    def _serial(self) -> serial.Serial:
        s: serial.Serial = self._t.serial
        return s

    def _read_available(self) -> bytes:
        n = self._serial.in_waiting
        return self._serial.read(n) if n else b""

    def _read_until(self, ending: bytes, deadline: float) -> bytes:
        got = bytearray()
        while not got.endswith(ending):
            chunk = self._serial.read(1) if self._serial.in_waiting else b""
            if chunk:
                got += chunk
                continue
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        return bytes(got)

    def _drain_quiet(self, quiet_s: float, deadline: float) -> bytes:
        """Read until nothing has arrived for `quiet_s` (or the deadline)."""
        got = bytearray()
        last = time.monotonic()
        while True:
            chunk = self._read_available()
            now = time.monotonic()
            if chunk:
                got += chunk
                last = now
            elif now - last >= quiet_s or now >= deadline:
                return bytes(got)
            else:
                time.sleep(0.01)

    def _enter_raw_repl(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        seen = bytearray()
        try:
            while True:
                self._serial.write(b"\r\x03")  # Ctrl-C: stop the app (or whatever runs)
                seen += self._drain_quiet(0.05, time.monotonic() + 0.3)
                self._serial.write(b"\r\x01")  # Ctrl-A: raw REPL
                got = self._read_until(RAW_BANNER, min(deadline, time.monotonic() + _ATTEMPT_S))
                seen += got
                del seen[:-SEEN_KEEP]
                if got.endswith(RAW_BANNER):
                    break
                if time.monotonic() >= deadline:
                    raise self._no_repl(bytes(seen), timeout_s)
            # In the raw REPL. Let late echoes of earlier attempts pass, then soft-reset:
            # a fresh heap, and nothing of the app left running (its timers and radio IRQs
            # would otherwise keep printing into the exchange). In the raw REPL a soft
            # reset does not run main.py. Its banner's '>' is left for mpremote to read.
            self._drain_quiet(0.05, time.monotonic() + 1.0)
            self._serial.write(b"\x04")
            wait = max(timeout_s, BOOT_TIMEOUT_S)
            boot_deadline = time.monotonic() + wait
            if not (
                self._read_until(SOFT_REBOOT, boot_deadline).endswith(SOFT_REBOOT)
                and self._read_until(RAW_BANNER, boot_deadline).endswith(RAW_BANNER)
            ):
                raise NoMicroPythonError(
                    f"MicroPython on {self.port} did not come back from a soft reset within "
                    f"{wait:g} s (a /boot.py that hangs?): interrupt it with Ctrl-C in "
                    f"`mpremote connect {self.port} repl` and remove /boot.py"
                )
        except serial.SerialException as e:
            raise LinkError(f"lost {self.port} while looking for the REPL: {e}") from None
        self._t.in_raw_repl = True

    def _no_repl(self, seen: bytes, timeout_s: float) -> NoMicroPythonError:
        if ROM_DOWNLOAD_MARK in seen:
            return NoMicroPythonError(
                f"the board on {self.port} is in the ESP32 ROM download mode (BOOT held at "
                "reset): tap RESET without holding BOOT, or flash MicroPython now "
                "(levelbelt device flash)"
            )
        if not seen.strip(b"\r\n\x00"):
            return NoMicroPythonError(
                f"no MicroPython REPL on {self.port}: nothing answered within {timeout_s:g} s "
                "(is MicroPython flashed? levelbelt device flash --port PORT --image FILE)"
            )
        return NoMicroPythonError(
            f"no MicroPython REPL on {self.port}: it answered {_preview(seen)} instead "
            f"within {timeout_s:g} s; flash MicroPython (levelbelt device flash), or if the "
            "belt's app does not stop, start it in safe mode (firmware/README.md)"
        )

    # -- running code -----------------------------------------------------------------

    def exec(self, code: str) -> str:
        """Run `code` on the board; its printed output. Board exceptions become errors."""
        try:
            out: bytes = self._t.exec(code)
        except TransportExecError as e:
            raise BoardCommandError(self._last_line(e.error_output)) from None
        except (TransportError, serial.SerialException, OSError) as e:
            raise LinkError(f"lost contact with the board on {self.port}: {e}") from None
        return out.decode("utf-8", errors="replace")

    @staticmethod
    def _last_line(traceback_text: str) -> str:
        lines = [ln.strip() for ln in traceback_text.splitlines() if ln.strip()]
        return f"the board raised {lines[-1]}" if lines else "the board raised an exception"

    def eval_json(self, code: str) -> Any:
        """Run `code`, whose last printed line is JSON; that value."""
        out = self.exec(code).strip().splitlines()
        if not out:
            raise LinkError(f"the board on {self.port} printed nothing where a reply was due")
        try:
            return json.loads(out[-1])
        except ValueError:
            raise LinkError(
                f"the board on {self.port} replied {out[-1][:60]!r}, not JSON"
            ) from None

    def write_file(self, path: str, data: bytes) -> None:
        """Write `data` to `path` on the board through mpremote (the directory must exist)."""
        try:
            self._t.fs_writefile(path, data, chunk_size=1024)
        except TransportExecError as e:
            raise BoardCommandError(
                f"writing {path}: {self._last_line(e.error_output)}"
            ) from None
        except (TransportError, serial.SerialException, OSError) as e:
            raise LinkError(f"lost contact with the board on {self.port}: {e}") from None

    # -- leaving ----------------------------------------------------------------------

    def _close_port(self) -> None:
        with contextlib.suppress(OSError, serial.SerialException):
            self._t.close()

    def close(self, *, restart: bool = True) -> None:
        """Back to the friendly REPL; `restart` soft-resets so main.py (the app) runs."""
        try:
            if self._t.in_raw_repl:
                self._t.exit_raw_repl()
                if restart:
                    self._serial.write(b"\x04")  # Ctrl-D at the friendly prompt: soft reset
                    self._serial.flush()
        except (OSError, serial.SerialException):
            pass
        finally:
            self._close_port()

    def __enter__(self) -> Board:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(restart=True)


def open_board(port: str, *, repl_timeout_s: float = REPL_TIMEOUT_S) -> Board:
    """A Board on `port`; PortError / NoMicroPythonError with the reason otherwise."""
    if not port:
        raise PortError("empty port name")
    return Board(port, repl_timeout_s=repl_timeout_s)
