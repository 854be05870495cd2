"""The MicroPython-on-a-pty board behaves like a board on USB where the device tests rely on it.

These talk to it byte by byte with pyserial: the REPL modes, the raw-REPL exchange,
raw-paste requests (answered as a port without raw-paste, which mpremote falls back
from), soft reset (filesystem kept, interpreter state gone, REPL mode kept, main.py run
in the friendly REPL), filesystem errors with MicroPython's errno numbers, and mpremote's
own command line over the same line.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from mpy_board import PtyBoard

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


@pytest.fixture
def line(board: PtyBoard) -> Iterator[serial.Serial]:
    s = serial.Serial(board.port, timeout=0.1, exclusive=True)
    try:
        _talk(s, b"\r\x03\r\x02", b">>> ")  # a known state: the friendly REPL
        yield s
    finally:
        s.close()


def _talk(s: serial.Serial, data: bytes, until: bytes, timeout_s: float = 10.0) -> bytes:
    s.write(data)
    got = b""
    deadline = time.monotonic() + timeout_s
    while not got.endswith(until):
        assert time.monotonic() < deadline, f"waited for {until!r}, got {got!r}"
        got += s.read(max(1, s.in_waiting))
    return got


def _raw_exec(s: serial.Serial, code: str) -> tuple[bytes, bytes]:
    """(output, error text) of `code` in the raw REPL, as mpremote's exec reads them."""
    got = _talk(s, code.encode() + b"\x04", b"\x04>")
    assert got.startswith(b"OK"), got
    out, err, _ = got[2:].split(b"\x04")
    return out, err


def test_ctrl_a_enters_the_raw_repl_with_its_banner_and_prompt(line: serial.Serial) -> None:
    assert _talk(line, b"\r\x01", RAW_BANNER).endswith(RAW_BANNER)


def test_raw_repl_runs_code_and_separates_output_from_errors(line: serial.Serial) -> None:
    _talk(line, b"\r\x01", RAW_BANNER)
    assert _raw_exec(line, "print(6 * 7)") == (b"42\n", b"")
    out, err = _raw_exec(line, "1 / 0")
    assert out == b""
    assert err.rstrip().endswith(b"ZeroDivisionError: divide by zero")


def test_a_raw_paste_request_gets_the_answer_of_a_port_without_raw_paste(
    line: serial.Serial,
) -> None:
    _talk(line, b"\r\x01", RAW_BANNER)
    # mpremote reads two bytes: b"R\x01" would start raw-paste, b"ra" means "fall back".
    assert _talk(line, b"\x05A\x01", RAW_BANNER) == RAW_BANNER
    assert _raw_exec(line, "print('still here')") == (b"still here\n", b"")


def test_soft_reset_keeps_files_and_forgets_the_interpreter_state(line: serial.Serial) -> None:
    _talk(line, b"\r\x01", RAW_BANNER)
    _raw_exec(line, "f = open('/kept.txt', 'w'); f.write('x'); f.close(); LIVE = 1")
    reboot = _talk(line, b"\x04", RAW_BANNER)  # Ctrl-D on an empty raw line
    assert b"MPY: soft reboot\r\n" in reboot, "the board stays in the raw REPL"
    out, _ = _raw_exec(line, "import os; print('kept.txt' in os.listdir('/'), 'LIVE' in globals())")
    assert out == b"True False\n"
    _raw_exec(line, "os.remove('/kept.txt')")


def test_soft_reset_in_the_friendly_repl_runs_main_py(line: serial.Serial) -> None:
    _talk(line, b"\r\x01", RAW_BANNER)
    _raw_exec(line, "f = open('/main.py', 'w'); f.write('print(\"main.py ran\")\\n'); f.close()")
    _talk(line, b"\x02", b">>> ")
    try:
        boot = _talk(line, b"\x04", b">>> ")
        assert b"MPY: soft reboot" in boot
        assert b"main.py ran" in boot
        assert boot.index(b"main.py ran") < boot.index(b"MicroPython v1.27"), "main.py first"
    finally:
        _talk(line, b"\x01", RAW_BANNER)
        _raw_exec(line, "import os; os.remove('/main.py')")


def test_an_error_in_main_py_prints_its_traceback_and_the_repl_still_comes_up(
    line: serial.Serial,
) -> None:
    _talk(line, b"\r\x01", RAW_BANNER)
    _raw_exec(line, "f = open('/main.py', 'w'); f.write('import machine\\n'); f.close()")
    _talk(line, b"\x02", b">>> ")
    try:
        boot = _talk(line, b"\x04", b">>> ")
        assert b"ImportError: no module named 'machine'" in boot
    finally:
        _talk(line, b"\x01", RAW_BANNER)
        _raw_exec(line, "import os; os.remove('/main.py')")


def _mpremote(port: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpremote", "connect", port, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_mpremote_exec_eval_and_soft_reset_work_over_the_serial_path(board: PtyBoard) -> None:
    proc = _mpremote(board.port, "exec", "import sys; print(sys.implementation.version[:2])")
    assert (proc.returncode, proc.stdout) == (0, "(1, 27)\n"), proc.stderr
    proc = _mpremote(board.port, "exec", "GONE = 1", "soft-reset", "eval", "'GONE' in globals()")
    assert (proc.returncode, proc.stdout.strip()) == (0, "False"), proc.stderr


def test_mpremote_mount_serves_a_host_directory_to_the_board(
    board: PtyBoard, tmp_path: Path
) -> None:
    (tmp_path / "greeting.py").write_text("TEXT = 'hello from the host'\n")
    proc = _mpremote(
        board.port, "mount", str(tmp_path), "exec", "import greeting; print(greeting.TEXT)"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "hello from the host"


def test_mpremote_fs_commands_copy_list_read_hash_and_remove_files(
    board: PtyBoard, tmp_path: Path
) -> None:
    src = tmp_path / "hello.py"
    src.write_text("X = 42\n")
    assert _mpremote(board.port, "mkdir", ":lib").returncode == 0
    steps = [
        ("cp", str(src), ":lib/hello.py"),
        ("ls", ":lib"),
        ("cat", ":lib/hello.py"),
        ("exec", "import hello; print(hello.X)"),
        ("sha256sum", ":lib/hello.py"),
        ("cp", ":lib/hello.py", str(tmp_path / "back.py")),
        ("rm", ":lib/hello.py"),
        ("rm", "-r", ":lib"),
    ]
    outputs = []
    for step in steps:
        proc = _mpremote(board.port, *step)
        assert proc.returncode == 0, (step, proc.stderr)
        outputs.append(proc.stdout)
    assert "hello.py" in outputs[1]
    assert "X = 42" in outputs[2]
    assert outputs[3].strip() == "42"
    assert hashlib.sha256(b"X = 42\n").hexdigest() in outputs[4]
    assert (tmp_path / "back.py").read_text() == "X = 42\n"
    missing = _mpremote(board.port, "rm", ":lib")
    assert missing.returncode == 1
    assert "No such file or directory" in missing.stderr


def test_filesystem_errors_carry_micropythons_errno_numbers(line: serial.Serial) -> None:
    # The wasm port's VfsPosix would raise Emscripten's (ENOENT 44); a board's LittleFS
    # raises MicroPython's, which is what the bridge's root filesystem reports.
    _talk(line, b"\r\x01", RAW_BANNER)
    out, err = _raw_exec(
        line,
        "import os, errno\n"
        "for f, a in ((os.stat, '/nope'), (os.mkdir, '/tmp'), (os.rmdir, '/tmp/nope')):\n"
        "    try:\n"
        "        f(a)\n"
        "    except OSError as e:\n"
        "        print(errno.errorcode.get(e.errno, e.errno))\n",
    )
    assert (out, err) == (b"ENOENT\nEEXIST\nENOENT\n", b"")
