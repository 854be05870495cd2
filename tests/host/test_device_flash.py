"""`levelbelt device flash`: image checks before the board is touched, and esptool's real
connection attempt against ports where no ESP32 bootloader answers.

Writing flash needs a real ESP32 in download mode (docs/flashing.md, "Verify on
hardware"); everything up to "no bootloader answers" runs here for real: esptool opens the
pty, tries its reset sequences and the SYNC exchange, and gives up.
"""

from __future__ import annotations

from pathlib import Path

import esptool.bin_image
import pytest
from device_helpers import run_cli
from esptool.loader import DEFAULT_CONNECT_ATTEMPTS
from esptool.targets import CHIP_DEFS
from mpy_board import PtyResponder

from levelbelt.device.defaults import CHIPS, CONNECT_ATTEMPTS, DEFAULT_CHIP
from levelbelt.device.errors import ImageError, WrongChipError
from levelbelt.device.flash import check_image


def esp_image(path: Path, chip: str) -> Path:
    """A genuine (tiny) flash image for `chip`, written by esptool's own image classes."""
    image = CHIP_DEFS[chip].BOOTLOADER_IMAGE()
    image.entrypoint = 0x40080000
    image.segments = [esptool.bin_image.ELFSection(b".dram0.data", 0x3FC90000, bytes(64), 0)]
    image.save(str(path))
    return path


def test_the_defaults_are_esptools_own_and_every_offered_chip_exists_in_esptool() -> None:
    assert CONNECT_ATTEMPTS == DEFAULT_CONNECT_ATTEMPTS
    assert DEFAULT_CHIP in CHIPS
    assert all(chip in CHIP_DEFS for chip in CHIPS)


@pytest.mark.parametrize(
    ("chip", "offset"), [("esp32", 0x1000), ("esp32s3", 0), ("esp32c3", 0), ("esp32c6", 0)]
)
def test_an_image_for_the_chip_is_accepted_with_its_flash_offset(
    tmp_path: Path, chip: str, offset: int
) -> None:
    facts = check_image(esp_image(tmp_path / "fw.bin", chip), chip)
    assert (facts.chip, facts.offset) == (chip, offset)


def test_an_image_built_for_another_chip_is_refused(tmp_path: Path) -> None:
    image = esp_image(tmp_path / "c3.bin", "esp32c3")
    with pytest.raises(WrongChipError, match=r"built for ESP32-C3, not ESP32-S3"):
        check_image(image, "esp32s3")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"UF2\n" + bytes(508), "is a UF2 file"),
        (b"\x7fELF" + bytes(60), "is an ELF file"),
        (b"<html>not found</html>" + bytes(10), r"starts with 0x3C, expected 0xE9"),
        (b"\xe9\x01", "is not an ESP32 flash image"),
        (b"", "starts with nothing"),
    ],
)
def test_a_file_that_is_not_an_esp32_image_is_refused_with_what_it_is(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "download.bin"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason):
        check_image(path, "esp32s3")


def test_a_missing_image_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.bin: no such file"):
        check_image(tmp_path / "nope.bin", "esp32s3")
    with pytest.raises(ImageError, match="not a file"):
        check_image(tmp_path, "esp32s3")


def test_flash_checks_the_image_before_it_opens_the_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "device", "flash", "--port", str(tmp_path / "no-such-port"),
        "--image", str(tmp_path / "missing.bin"),
    )  # fmt: skip
    assert code == 2
    assert "missing.bin: no such file" in err


def test_flash_to_a_port_that_does_not_exist_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = esp_image(tmp_path / "fw.bin", "esp32s3")
    code, _, err = run_cli(
        capsys, "device", "flash", "--port", "/dev/ttyNOPE9", "--image", str(image)
    )
    assert code == 2
    assert "levelbelt: error: /dev/ttyNOPE9 does not exist: is the belt plugged in?" in err


def test_silence_on_the_port_means_no_bootloader_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = esp_image(tmp_path / "fw.bin", "esp32s3")
    with PtyResponder(None) as port:
        code, _, err = run_cli(
            capsys, "device", "flash", "--port", port.port, "--image", str(image),
            "--connect-attempts", "1",
        )  # fmt: skip
        sent = bytes(port.received)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"levelbelt: error: no ESP32 bootloader answered on {port.port}")
    assert "No serial data received" in last
    assert "hold BOOT while plugging the board in" in last
    # esptool really tried: a SLIP-framed SYNC command (0xC0, direction 0, command 0x08).
    assert b"\xc0\x00\x08" in sent


def test_garbage_on_the_port_means_no_bootloader_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = esp_image(tmp_path / "fw.bin", "esp32s3")
    # What a board running an app prints: log lines, then more whenever poked.
    with PtyResponder(lambda _: b"I (1234) app: tick\r\n") as port:
        code, _, err = run_cli(
            capsys, "device", "flash", "--port", port.port, "--image", str(image),
            "--connect-attempts", "1",
        )  # fmt: skip
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert f"no ESP32 bootloader answered on {port.port}" in last
    assert "hold BOOT" in last
