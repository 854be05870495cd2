"""The device commands' failures: one line naming the cause and what to do, exit status 2.

Each port here is real: a pty where nothing or something else answers, a pty another
program holds locked, paths that are not serial devices. Autodetection is run against
pyserial's own port records.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from device_helpers import run_cli
from mpy_board import PtyBoard, PtyResponder
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from levelbelt.device.errors import NoBoardError, PortError
from levelbelt.device.ports import _classify, esp32_ports, pick_port

COMMANDS = (("info",), ("install",), ("provision", "--name", "LevelBelt-0001"))


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("levelbelt: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_port_that_answers_garbage_has_no_micropython(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    # Something streaming binary frames and ignoring Ctrl-C/Ctrl-A, e.g. other firmware.
    with PtyResponder(lambda _: b"\x00\x17\xfe\xa5 frame \x99\x00") as port:
        code, out, err = run_cli(
            capsys, "device", *command, "--port", port.port, "--timeout", "1.5"
        )
    assert code == 2
    line = _one_line_error(err)
    assert f"no MicroPython REPL on {port.port}: it answered " in line
    assert "frame" in line, "shows what answered"
    assert "flash MicroPython (levelbelt device flash)" in line
    assert out == ""


def test_a_silent_port_has_no_micropython(capsys: pytest.CaptureFixture[str]) -> None:
    with PtyResponder(None) as port:
        code, _, err = run_cli(capsys, "device", "info", "--port", port.port, "--timeout", "1")
        sent = bytes(port.received)
    assert code == 2
    assert f"no MicroPython REPL on {port.port}: nothing answered within 1 s" in (
        _one_line_error(err)
    )
    assert b"\x03" in sent and b"\x01" in sent, "it interrupted and asked for the raw REPL"


def test_a_board_in_the_rom_download_mode_is_told_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rom = b"ESP-ROM:esp32s3-20210327\r\nboot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download\r\n"
    with PtyResponder(lambda _: rom) as port:
        code, _, err = run_cli(capsys, "device", "info", "--port", port.port, "--timeout", "1")
    assert code == 2
    assert "is in the ESP32 ROM download mode (BOOT held at reset)" in _one_line_error(err)


def test_a_port_another_program_holds_is_busy(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    with serial.Serial(board.port, exclusive=True):
        code, _, err = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 2
    assert f"{board.port} is busy: another program has it open" in _one_line_error(err)
    code, _, _ = run_cli(capsys, "device", "info", "--port", board.port)
    assert code == 0, "free again once the other program lets go"


def test_a_board_that_does_not_come_back_from_a_soft_reset_points_at_boot_py(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    board.wipe()
    board.run("f = open('/boot.py', 'w'); f.write('import time\\ntime.sleep(6)\\n'); f.close()")
    try:
        code, _, err = run_cli(capsys, "device", "info", "--port", board.port, "--timeout", "1")
    finally:
        board.wipe()  # waits for the slow boot.py to finish
    assert code == 2
    line = _one_line_error(err)
    assert f"MicroPython on {board.port} did not come back from a soft reset within 5 s" in line
    assert "boot.py" in line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_port_that_does_not_exist_says_so(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "device", *command, "--port", "/dev/ttyNOPE9")
    assert code == 2
    assert "/dev/ttyNOPE9 does not exist: is the belt plugged in?" in _one_line_error(err)


def test_paths_that_are_not_serial_devices_are_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    regular = tmp_path / "notes.txt"
    regular.write_text("hello")
    for port, what in (
        (str(regular), "a regular file"),
        (str(tmp_path), "a directory"),
        ("/dev/null", "it does not take serial settings"),
    ):
        code, _, err = run_cli(capsys, "device", "info", "--port", port)
        assert code == 2
        assert f"{port} is not a serial port ({what})" in _one_line_error(err)


def test_permission_denied_names_the_group_to_join(tmp_path: Path) -> None:
    device = tmp_path / "ttyACM0"
    device.write_text("")
    gid = os.stat(device).st_gid
    import grp

    group = grp.getgrgid(gid).gr_name
    message = str(_classify(str(device), serial.SerialException(errno.EACCES, "denied")))
    assert f"permission denied on {device}" in message
    assert f"group '{group}'" in message
    assert f"sudo usermod -aG {group} $USER" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any device; needs a normal user")
def test_a_port_the_user_may_not_open_names_the_group(
    board: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    mode = os.stat(board.port).st_mode
    os.chmod(board.port, 0o000)
    try:
        code, _, err = run_cli(capsys, "device", "info", "--port", board.port)
    finally:
        os.chmod(board.port, mode & 0o7777)
    assert code == 2
    assert f"permission denied on {board.port}" in _one_line_error(err)


def _port(device: str, vid: int | None, pid: int | None, description: str = "") -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.description = vid, pid, description
    return info


def test_autodetection_takes_the_one_port_with_an_esp32_usb_id() -> None:
    ports = [
        _port("/dev/ttyS0", None, None, "built-in UART"),
        _port("/dev/ttyACM1", 0x2341, 0x0043, "Arduino Uno"),
        _port("/dev/ttyACM0", 0x303A, 0x4001, "MicroPython CDC"),
    ]
    assert pick_port(ports) == "/dev/ttyACM0"
    for vid, pid in ((0x10C4, 0xEA60), (0x1A86, 0x7523), (0x1A86, 0x55D4), (0x0403, 0x6001)):
        assert pick_port([_port("/dev/ttyUSB0", vid, pid)]) == "/dev/ttyUSB0"


def test_autodetection_with_no_esp32_port_says_no_board_found() -> None:
    with pytest.raises(NoBoardError, match="no board found: no USB serial port with an ESP32"):
        pick_port([_port("/dev/ttyACM1", 0x2341, 0x0043)])


def test_autodetection_with_two_boards_asks_for_one() -> None:
    ports = [_port("/dev/ttyUSB0", 0x10C4, 0xEA60), _port("/dev/ttyACM0", 0x303A, 0x1001)]
    with pytest.raises(NoBoardError, match=r"several boards found: /dev/ttyACM0 \(Espressif"):
        pick_port(ports)


@pytest.mark.parametrize("command", (*COMMANDS, ("flash", "--image", "x.bin")),
                         ids=lambda c: c[0])
def test_without_port_on_a_machine_with_no_board_no_board_is_found(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if esp32_ports(list_ports.comports()):
        pytest.skip("an ESP32 board is plugged into this machine")
    if command[0] == "flash":
        from test_device_flash import esp_image

        command = ("flash", "--image", str(esp_image(tmp_path / "fw.bin", "esp32s3")))
    code, _, err = run_cli(capsys, "device", *command)
    assert code == 2
    assert "no board found" in _one_line_error(err)


def test_port_errors_are_link_errors_for_callers_that_retry() -> None:
    from levelbelt.errors import LinkError

    assert issubclass(PortError, LinkError) and issubclass(NoBoardError, LinkError)
