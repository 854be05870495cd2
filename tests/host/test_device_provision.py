"""`levelbelt device provision` against MicroPython 1.27 on a pty.

The wasm interpreter has no radio, so it cannot say its name: that path needs --name.
The path a real ESP32 takes (name from the Bluetooth MAC, else Wi-Fi's) is exercised by
putting a `bluetooth` or `network` module on the board's filesystem that answers
`config('mac')` the way the ESP32 port does (Bluetooth only while active).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_helpers import run_cli
from mpy_board import PtyBoard

from levelbelt import keys

MAC = bytes.fromhex("24587cd13a4f")
BLUETOOTH_STANDIN = f"""\
class BLE:
    _on = False
    def active(self, *on):
        if on:
            BLE._on = bool(on[0])
        return BLE._on
    def config(self, name):
        if name != 'mac':
            raise ValueError(name)
        if not BLE._on:
            raise OSError(1)  # EPERM: the ESP32 port wants the radio on first
        return (0, {MAC!r})
"""
NETWORK_STANDIN = f"""\
STA_IF = 0
class WLAN:
    def __init__(self, which=STA_IF):
        pass
    def config(self, name):
        return {bytes.fromhex('24587cd13a4d')!r}
"""


@pytest.fixture(scope="module")
def board() -> Iterator[PtyBoard]:
    with PtyBoard() as b:
        yield b


@pytest.fixture
def clean(board: PtyBoard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PtyBoard:
    """An empty board, and a fresh host config directory."""
    board.wipe()
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "config"))
    return board


def _board_key_sha(board: PtyBoard) -> str:
    return board.run(
        "import hashlib, binascii\n"
        "print(binascii.hexlify(hashlib.sha256(open('/belt.key', 'rb').read()).digest())"
        ".decode())"
    ).strip()


def _put(board: PtyBoard, path: str, text: str) -> None:
    board.run(
        "import os\n"
        "try:\n os.mkdir('/lib')\nexcept OSError:\n pass\n"
        f"f = open({path!r}, 'w'); f.write({text!r}); f.close()"
    )


def test_a_board_without_a_radio_mac_needs_a_name(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "device", "provision", "--port", clean.port)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("levelbelt: error: ")
    assert "no Bluetooth or Wi-Fi MAC to name it by: give the name with --name" in err
    assert "/belt.key" not in clean.run("import os; print(os.listdir('/'))")
    assert not (Path(os.environ["LEVELBELT_CONFIG_DIR"]) / "belts").exists()


def test_provision_puts_the_same_new_key_on_the_belt_and_in_the_host_store(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "device", "provision", "--port", clean.port, "--name", "LevelBelt-0A0B"
    )
    assert code == 0, err
    path = keys.key_path("LevelBelt-0A0B")
    key = path.read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert _board_key_sha(clean) == hashlib.sha256(key).hexdigest()
    assert keys.load_key("LevelBelt-0A0B") == key
    for secret in (key.hex(), key.hex().upper(), repr(key)):
        assert secret not in out + err
    assert "verified" in out
    listing = clean.run("import os; print(sorted(os.listdir('/')))")
    assert "belt.key.new" not in listing
    assert not list(path.parent.glob("*.new"))


def test_each_provisioning_makes_a_different_key(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("device", "provision", "--port", clean.port, "--name", "LevelBelt-0A0B")
    assert run_cli(capsys, *args)[0] == 0
    first = keys.load_key("LevelBelt-0A0B")
    assert run_cli(capsys, *args, "--force")[0] == 0
    second = keys.load_key("LevelBelt-0A0B")
    assert first != second
    assert _board_key_sha(clean) == hashlib.sha256(second).hexdigest()


def test_an_existing_host_key_is_not_replaced_without_force(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("device", "provision", "--port", clean.port, "--name", "LevelBelt-0A0B")
    assert run_cli(capsys, *args)[0] == 0
    before = keys.load_key("LevelBelt-0A0B")
    board_before = _board_key_sha(clean)
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert "already holds a key for LevelBelt-0A0B: --force" in err
    assert keys.load_key("LevelBelt-0A0B") == before
    assert _board_key_sha(clean) == board_before, "the belt keeps its key too"


def test_a_belt_keyed_by_another_computer_is_not_rekeyed_without_force(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    clean.run("f = open('/belt.key', 'wb'); f.write(bytes(range(32))); f.close()")
    code, _, err = run_cli(
        capsys, "device", "provision", "--port", clean.port, "--name", "LevelBelt-0A0B"
    )
    assert code == 2
    assert "already has a key (/belt.key) that this computer does not hold" in err
    assert _board_key_sha(clean) == hashlib.sha256(bytes(range(32))).hexdigest()
    assert not keys.has_key("LevelBelt-0A0B")
    assert not keys.key_path("LevelBelt-0A0B").with_name("LevelBelt-0A0B.key.new").exists()


def test_the_name_comes_from_the_bluetooth_mac_when_the_board_has_one(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    _put(clean, "/lib/bluetooth.py", BLUETOOTH_STANDIN)
    code, out, err = run_cli(capsys, "device", "provision", "--port", clean.port)
    assert code == 0, err
    assert "belt LevelBelt-3A4F:" in out
    assert _board_key_sha(clean) == hashlib.sha256(keys.load_key("LevelBelt-3A4F")).hexdigest()


def test_without_bluetooth_the_wifi_mac_names_the_belt(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    _put(clean, "/lib/network.py", NETWORK_STANDIN)
    code, _, err = run_cli(capsys, "device", "provision", "--port", clean.port)
    assert code == 0, err
    assert keys.has_key("LevelBelt-3A4D")


def test_a_name_that_disagrees_with_the_belts_own_is_refused(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    _put(clean, "/lib/bluetooth.py", BLUETOOTH_STANDIN)
    code, _, err = run_cli(
        capsys, "device", "provision", "--port", clean.port, "--name", "LevelBelt-0000"
    )
    assert code == 2
    assert "is LevelBelt-3A4F (from its bluetooth MAC), not LevelBelt-0000" in err
    assert "belt.key" not in clean.run("import os; print(os.listdir('/'))")


def test_a_name_unfit_for_a_file_name_is_refused_before_the_board_changes(
    clean: PtyBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "device", "provision", "--port", clean.port, "--name", "../escape"
    )
    assert code == 2
    assert "belt name '../escape' is not usable" in err
    assert "belt.key" not in clean.run("import os; print(os.listdir('/'))")
