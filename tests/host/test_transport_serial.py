"""The serial transport over a real pty pair: frames both ways, unplug and replug.

A symlink stands for a stable device name (like /dev/serial/by-id/...): the "belt" is
unplugged by closing its pty and plugged back in as a new pty behind the same link.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from levelbelt.errors import LinkError
from levelbelt.framing import Deframer, wrap
from levelbelt.sim.pty_link import PtyPair
from levelbelt.transports.serial_transport import SerialTransport
from levelbelt.transports.transport import LinkLost, Transport

FRAME_A = bytes([1, 0x20, 1, 0]) + bytes(12)
FRAME_B = bytes([1, 0x20, 2, 0]) + bytes(range(12))


def plug(link: Path) -> PtyPair:
    pty = PtyPair()
    tmp = link.with_suffix(".new")
    os.symlink(pty.slave_path, tmp)
    os.replace(tmp, link)
    return pty


async def receive_n(transport: SerialTransport, n: int) -> list[bytes]:
    got: list[bytes] = []
    async with asyncio.timeout(5.0):
        while len(got) < n:
            got.extend(await transport.receive())
    return got


def test_frames_arrive_deframed_and_commands_leave_framed(tmp_path: Path) -> None:
    async def main() -> None:
        link = tmp_path / "belt"
        pty = plug(link)
        transport = SerialTransport(str(link))
        assert isinstance(transport, Transport)
        await transport.connect()
        pty.write(wrap(FRAME_A) + wrap(FRAME_B))
        assert await receive_n(transport, 2) == [FRAME_A, FRAME_B]
        await transport.send(b"\x01\x40\x05\x00command")
        await asyncio.sleep(0.05)
        assert Deframer().feed(pty.read()) == [b"\x01\x40\x05\x00command"]
        await transport.disconnect()
        pty.close()

    asyncio.run(main())


def test_unplugging_raises_link_lost_and_replugging_connects_again(tmp_path: Path) -> None:
    async def main() -> None:
        link = tmp_path / "belt"
        pty = plug(link)
        transport = SerialTransport(str(link))
        await transport.connect()
        pty.write(wrap(FRAME_A))
        assert await receive_n(transport, 1) == [FRAME_A]
        pty.close()  # unplugged
        with pytest.raises(LinkLost):
            async with asyncio.timeout(5.0):
                while True:
                    await transport.receive()
        assert not transport.connected
        os.unlink(link)
        with pytest.raises(LinkError, match="cannot open serial port"):
            await transport.connect()
        pty = plug(link)  # plugged back in (a new tty behind the same name)
        await transport.connect()
        pty.write(wrap(FRAME_B))
        assert await receive_n(transport, 1) == [FRAME_B]
        assert transport.connects == 2
        await transport.disconnect()
        pty.close()

    asyncio.run(main())


def test_link_test_command_streams_the_simulated_belt_over_a_pty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import threading

    from levelbelt.cli import main
    from levelbelt.demo_script import demo_script
    from levelbelt.sim.belt import SimulatedBelt
    from levelbelt.sim.source import sample_chunks

    pty = PtyPair()
    belt = SimulatedBelt(sample_chunks(demo_script("right", 3), 100, 3), 100, pty.write)
    stop = threading.Event()
    runner = threading.Thread(target=belt.run_paced, args=(1.0, stop), daemon=True)
    runner.start()
    try:
        code = main(["link-test", f"serial:{pty.slave_path}", "--seconds", "2"])
    finally:
        stop.set()
        runner.join(2.0)
        pty.close()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no command key on this host" in out
    summary = out.strip().splitlines()[-1]
    assert "0 lost (0.00 %), 0 reconnects" in summary
    logged = int(summary.split(": ", 1)[1].split(" ")[0])
    assert logged >= 100  # at least 1 s of the 2 s at 100 Hz, whatever the machine's load


def test_link_test_with_a_bad_uri_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from levelbelt.cli import main

    assert main(["link-test", "/dev/ttyUSB0"]) == 2
    assert capsys.readouterr().err.startswith("levelbelt: error: unknown belt link")
