"""A MicroPython 1.27 board on a pseudo-terminal, for the `levelbelt device` tests.

tests/mpy/repl_pty.mjs runs the real interpreter (WebAssembly, under node) behind the
master side of a pty; the slave path is the board's "USB serial port", so mpremote,
pyserial and `levelbelt device` reach it through the same serial code as a real belt.

Run it by hand to poke at it: `python tests/host/mpy_board.py` prints the port, then e.g.
`mpremote connect /dev/pts/N ls` (Ctrl-C stops it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import serial

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "tests" / "mpy" / "repl_pty.mjs"
WASM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"
KEEP = ("tmp", "home", "dev", "proc")  # the Emscripten runtime's own directories
WIPE = f"""
import os
def _rm(p):
    if os.stat(p)[0] & 0x4000:
        for n in os.listdir(p):
            _rm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for n in os.listdir('/'):
    if n not in {KEEP!r}:
        _rm('/' + n)
"""


def _exchange(s: serial.Serial, data: bytes, until: bytes, timeout_s: float) -> bytes:
    s.write(data)
    got = b""
    deadline = time.monotonic() + timeout_s
    while not got.endswith(until):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited for {until!r}, got {got[-200:]!r}")
        got += s.read(max(1, s.in_waiting))
    return got


def _quiet(s: serial.Serial, quiet_s: float) -> None:
    """Read and drop whatever arrives until the line has been silent for `quiet_s`."""
    last = time.monotonic()
    while time.monotonic() - last < quiet_s:
        if s.read(max(1, s.in_waiting)):
            last = time.monotonic()


class PtyBoard:
    """The interpreter behind a pty; `port` is the path to open. Use as a context manager."""

    def __init__(self, ready_timeout_s: float = 30.0) -> None:
        node = shutil.which("node")
        assert node, "node is not on PATH: install Node.js 20+, then run `npm ci`"
        assert WASM_PACKAGE.is_dir(), "the MicroPython wasm package is missing: run `npm ci`"
        self._master, self._slave = os.openpty()
        # Raw before anything is written: a cooked slave would echo the board's own output
        # back to it as input. Holding the slave open keeps the line up between clients.
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._proc = subprocess.Popen(
            [node, str(BRIDGE), "--fd", str(self._master)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(self._master,),
        )
        self._wait_ready(ready_timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        """The banner appears on the line once the interpreter is up; read it away."""
        seen = b""
        deadline = time.monotonic() + timeout_s
        os.set_blocking(self._slave, False)
        try:
            while b">>> " not in seen:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"MicroPython bridge did not start: {self.stderr()}")
                try:
                    seen += os.read(self._slave, 4096)
                except BlockingIOError:
                    time.sleep(0.02)
        finally:
            os.set_blocking(self._slave, True)

    def run(self, code: str, timeout_s: float = 20.0) -> str:
        """Run `code` in the raw REPL over a line of our own; its output (errors raise).

        Independent of `levelbelt.device`, so tests set up and check the board with it.
        """
        with serial.Serial(self.port, timeout=0.1, exclusive=True) as s:
            _exchange(s, b"\r\x03\r\x01", RAW_PROMPT, timeout_s)
            _quiet(s, 0.1)  # a banner still on its way (a board that was booting)
            _exchange(s, b"\x01", RAW_PROMPT, timeout_s)
            got = _exchange(s, code.encode() + b"\x04", b"\x04>", timeout_s)
            s.write(b"\x02")  # back to the friendly REPL, as mpremote leaves it
        if not got.startswith(b"OK"):
            raise RuntimeError(f"the board did not take the code: {got!r}")
        out, err, _ = got[2:].split(b"\x04")
        if err:
            raise RuntimeError(err.decode(errors="replace"))
        return out.decode(errors="replace")

    def wipe(self) -> None:
        """Delete every file a test may have left (the board's flash back to empty)."""
        self.run(WIPE)

    def stderr(self) -> str:
        if self._proc.poll() is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        for fd in (self._slave, self._master):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()

    def __enter__(self) -> PtyBoard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class PtyResponder:
    """A serial port where something other than MicroPython answers (or nothing does).

    `answer` maps each chunk the host writes to the bytes sent back; None: silence.
    """

    def __init__(self, answer: Callable[[bytes], bytes] | None) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._answer = answer
        self.received = bytearray()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            if not data:
                return
            self.received += data
            if self._answer is not None:
                reply = self._answer(data)
                if reply:
                    with contextlib.suppress(OSError):
                        os.write(self._master, reply)

    def close(self) -> None:
        for fd in (self._slave, self._master):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread.join(timeout=5)

    def __enter__(self) -> PtyResponder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` stops the interpreter too
    with PtyBoard() as board:
        print(f"MicroPython 1.27 (wasm) on {board.port}; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while board._proc.poll() is None:
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
