"""`BeltClient.set_mount` against the whole belt firmware on the BLE rig, its settings kept
in the belt's flash: a valid mount is taken, kept over a reboot and asks for a neutral;
the belt refuses axes that make no pair with OUT_OF_RANGE and changes nothing; a bad
text never leaves the host. The text form is the firmware's own (`analyze --mount`)."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from ble_firmware_belt import KEY, FirmwareBelt, rig_transport, running, until

from belt import align as fw_align
from belt import protocol as fw_protocol
from belt import settings as fw_settings
from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient, CommandRefused
from levelbelt.blerig import BleRig, Central, run
from levelbelt.cli import main
from levelbelt.command_auth import CommandCounter
from levelbelt.errors import ConfigError
from levelbelt.mount import AXIS_CODES, mount_text, parse_mount, set_mount_args

Scenario = Callable[[BleRig, FirmwareBelt, Central], Awaitable[None]]


def on_rig(scenario: Scenario) -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral()
            belt = FirmwareBelt(rig, board, key=KEY, settings=True)
            host = await rig.add_central()
            await asyncio.sleep(11.0)  # start-up calibration, kept after the first 10 s
            await scenario(rig, belt, host)

    run(main())


class Calibrations:
    def __init__(self) -> None:
        self.frames: list[p.Calibration] = []

    def on_frame(self, frame: p.Frame) -> None:
        if isinstance(frame, p.Calibration):
            self.frames.append(frame)


def client_for(host: Central, seen: Calibrations) -> BeltClient:
    return BeltClient(rig_transport(host), key=KEY, counter=CommandCounter(1),
                      on_frame=seen.on_frame, seed=1)


def settings_file(belt: FirmwareBelt) -> bytes:
    with open(os.path.join(belt.root, "belt.cfg"), "rb") as f:
        return f.read()


def test_a_valid_mount_is_taken_kept_over_a_reboot_and_asks_for_a_new_neutral() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        assert fw_settings.load(os.path.join(belt.root, "belt.cfg")).neutral_ok[0]
        seen = Calibrations()
        client = client_for(host, seen)
        task = await running(client)
        ack = await client.set_mount(" -X+y ")  # the analyze form: case and spaces allowed
        assert ack.status == p.ST_OK
        assert belt.app.pipeline.align.mount == "-x+y"
        await until(lambda: bool(seen.frames))
        assert [(c.neutral_needed, c.position) for c in seen.frames] == [(True, 0)]
        await belt.reboot()
        await until(lambda: belt.app.pipeline.state == 1)  # a still start: no neutral stored
        assert belt.app.pipeline.align.mount == "-x+y"
        assert belt.app.pipeline.neutral_ok == [True, False, False]
        await client.stop()
        await task

    on_rig(scenario)


def test_axes_that_make_no_pair_are_refused_out_of_range_and_nothing_changes() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        seen = Calibrations()
        client = client_for(host, seen)
        task = await running(client)
        kept = settings_file(belt)
        frames = len(seen.frames)
        # Past the host's own check: the belt is the one that refuses these.
        for args in (bytes([1, 2]), bytes([3, 3]), bytes([0, 3]), bytes([7, 3])):
            with pytest.raises(CommandRefused, match="OUT_OF_RANGE") as refused:
                await client.command(p.CMD_SET_MOUNT, args)
            assert refused.value.status == p.ST_OUT_OF_RANGE
        assert belt.app.pipeline.align.mount == "+x+y"
        assert belt.app.pipeline.neutral_ok == [True, False, False]
        assert settings_file(belt) == kept and len(seen.frames) == frames
        await client.stop()
        await task

    on_rig(scenario)


def test_a_bad_mount_text_is_a_one_line_error_and_nothing_is_sent() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        client = client_for(host, Calibrations())
        task = await running(client)
        answered = belt.app.links.commands.answered
        for text in ("sideways", "+x-x", "+x+x", "x+y", "+x+y+z", "+w+y", ""):
            with pytest.raises(ConfigError, match=r"mount must look like '\+x\+y'"):
                await client.set_mount(text)
        assert belt.app.links.commands.answered == answered
        assert belt.app.pipeline.align.mount == "+x+y"
        await client.stop()
        await task

    on_rig(scenario)


def test_the_host_takes_exactly_the_mount_texts_the_firmware_takes() -> None:
    alphabet = "+-xyzXw "
    for n in (3, 4, 5):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            try:
                want = fw_align.parse_mount(text)
            except ValueError:
                want = None
            try:
                codes: tuple[int, int] | None = parse_mount(text)
            except ConfigError as e:
                assert "\n" not in str(e)
                codes = None
            assert (codes is None) == (want is None), text
            if codes is not None and want is not None:
                assert fw_align.mount_from_codes(*codes) == text.strip().lower()
                assert mount_text(*codes) == text.strip().lower()


def test_set_mount_arguments_are_the_documented_axis_codes() -> None:
    assert AXIS_CODES == {"+x": 1, "-x": 2, "+y": 3, "-y": 4, "+z": 5, "-z": 6}
    assert set_mount_args("+x+y") == b"\x01\x03"
    assert set_mount_args("-z+x") == b"\x06\x01"
    with pytest.raises(ConfigError, match="no mount has the axis codes 1, 2"):
        mount_text(1, 2)
    assert p.CMD_SET_MOUNT == 0x08


def test_levelbelt_set_mount_tells_a_belt_and_says_to_capture_the_neutral(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["set-mount", "sim:", "--mount=-x+y"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["sim:1: mount -x+y kept; capture the neutral again (stand still) before "
                   "the next drill"]


def test_levelbelt_set_mount_refuses_a_bad_text_or_a_belt_without_a_key_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["set-mount", "sim:", "--mount=sideways"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("levelbelt: error: mount must look like")
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path))
    assert main(["set-mount", "serial:/dev/null", "--mount=+x+y"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no command key for this belt" in err[0]


def test_the_calibration_flag_byte_is_read_as_neutral_needed() -> None:
    sent: list[bytes] = []
    enc = fw_protocol.FrameEncoder(lambda b: sent.append(bytes(b)), 1)
    enc.calibration((1, 2, 3), (0, 16384, 0), 0, 1, fw_protocol.CAL_NEUTRAL_NEEDED)
    enc.calibration((1, 2, 3), (0, 16384, 0), 250, 0)
    needed, captured = (p.Decoder().decode(f) for f in sent)
    assert isinstance(needed, p.Calibration) and isinstance(captured, p.Calibration)
    assert needed.neutral_needed and needed.position == 1
    assert not captured.neutral_needed and captured.mount_error_cdeg == 250
    assert p.CAL_NEUTRAL_NEEDED == fw_protocol.CAL_NEUTRAL_NEEDED
