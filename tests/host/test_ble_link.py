"""The host's BLE transport (transports/ble_link.py) over the rig, against the belt's BLE code.

bleak is the real library; only its OS backend is swapped for the rig's Bumble central
(`backend=`), and the peripheral is firmware/belt/ble.py on the rig's MicroPython
`bluetooth` adapter.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Awaitable, Callable

import pytest
from ble_belt_fixture import RATE_HZ, Belt, Stream

from levelbelt import protocol as p
from levelbelt.blerig import BleRig, Central, CentralProfile, Peripheral, run
from levelbelt.errors import ConfigError, LinkError
from levelbelt.transports import ble_link
from levelbelt.transports.ble_link import BleTransport
from levelbelt.transports.serial_transport import SerialTransport
from levelbelt.transports.transport import LinkLost, Transport, open_transport

Scenario = Callable[[BleRig, list[Belt], Central], Awaitable[None]]


def on_rig(scenario: Scenario, belts: int = 1, profile: CentralProfile | None = None) -> None:
    async def main() -> None:
        async with BleRig() as rig:
            made = []
            for _ in range(belts):
                made.append(Belt(rig, await rig.add_peripheral()))
            central = await rig.add_central(profile=profile)
            await scenario(rig, made, central)

    run(main())


def transport_for(target: str, host: Central, **kwargs: float) -> BleTransport:
    return BleTransport(
        target,
        scanner_backend=host.scanner_backend,
        client_backend=host.client_backend,
        **kwargs,
    )


def belt_name(board: Peripheral) -> str:
    return "LevelBelt-" + board.address.replace(":", "")[-4:]


async def collect(transport: BleTransport, stream: Stream, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        try:
            async with asyncio.timeout(end - loop.time()):
                for frame in await transport.receive():
                    stream.feed(frame)
        except TimeoutError:
            return


def test_scan_lists_belts_with_name_address_and_rssi_strongest_first() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        belts[0].board.rssi_dbm = -80
        belts[1].board.rssi_dbm = -55
        found = await ble_link.scan(1.0, backend=host.scanner_backend)
        assert [b.name for b in found] == [belt_name(belts[1].board), belt_name(belts[0].board)]
        assert [b.rssi for b in found] == [-55, -80]
        assert found[0].address == belts[1].board.address
        assert found[0].battery_percent is None  # not measured yet: nothing advertised
        belts[1].ble.set_battery(57)  # the advertisement is renewed with the level
        found = await ble_link.scan(1.0, backend=host.scanner_backend)
        assert [(b.name, b.battery_percent) for b in found] == [
            (belt_name(belts[1].board), 57), (belt_name(belts[0].board), None)]

    on_rig(scenario, belts=2)


@pytest.mark.parametrize("mtu", [23, 247])
@pytest.mark.parametrize("by", ["name", "address"])
def test_connects_by_name_or_address_and_yields_frames_that_decode(mtu: int, by: str) -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        board = belts[0].board
        target = belt_name(board) if by == "name" else board.address
        transport = transport_for(target, host)
        assert isinstance(transport, Transport)
        await transport.connect()
        assert transport.connected
        assert transport.mtu == mtu
        stream = Stream()
        await collect(transport, stream, 5.0)
        await transport.disconnect()
        assert stream.decoder.frames_bad == 0
        assert len(stream.indices) > 4 * RATE_HZ
        assert stream.gaps() == 0
        assert all((b.raw is not None) == (mtu > 23) for b in stream.batches)

    on_rig(scenario, profile=CentralProfile(mtu=mtu))


def test_reads_the_battery_level_and_follows_its_notifications() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        belts[0].ble.set_battery(64)
        transport = transport_for(belt_name(belts[0].board), host)
        await transport.connect()
        assert transport.battery_percent == 64
        assert transport.rssi == belts[0].board.rssi_dbm
        belts[0].ble.set_battery(63)  # notified to the subscribed host
        await asyncio.sleep(0.5)
        assert transport.battery_percent == 63
        await transport.disconnect()

    on_rig(scenario)


def test_asks_for_a_short_connection_interval_where_the_backend_allows() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        transport = transport_for(belt_name(belts[0].board), host, connection_interval_ms=15.0)
        await transport.connect()
        await asyncio.sleep(0.1)  # the belt's main loop picks up the connection
        link = belts[0].board.controller.link_state(belts[0].ble.conn)
        assert link is not None
        assert link.interval_s == pytest.approx(0.015)
        await transport.disconnect()

    on_rig(scenario, profile=CentralProfile(interval_ms=50.0))


def test_commands_written_to_control_reach_the_belt_as_sent() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        transport = transport_for(belt_name(belts[0].board), host)
        await transport.connect()
        command = p.encode_command(p.CMD_GET_STATUS, 7, b"", bytes(16), seq=3)
        await transport.send(command)
        await asyncio.sleep(0.1)
        assert belts[0].commands == [command]
        await transport.disconnect()

    on_rig(scenario)


def test_a_belt_that_is_not_there_gives_a_one_line_error_naming_it() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        transport = transport_for("LevelBelt-FFFF", host, scan_timeout_s=2.0)
        with pytest.raises(LinkError, match=r"no belt LevelBelt-FFFF found within 2 s"):
            await transport.connect()
        assert not transport.connected

    on_rig(scenario)


def test_a_lost_link_hands_out_what_arrived_then_raises_link_lost_and_can_reconnect() -> None:
    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        board = belts[0].board
        transport = transport_for(belt_name(board), host)
        await transport.connect()
        stream = Stream()
        await collect(transport, stream, 1.0)
        outage = asyncio.get_running_loop().create_task(rig.outage(board, 4.0))
        with pytest.raises(LinkLost):
            while True:
                for frame in await transport.receive():
                    stream.feed(frame)
        assert not transport.connected
        with pytest.raises(LinkLost):
            await transport.send(b"\x01\x40\x00\x00")
        await outage
        before = len(stream.indices)
        await transport.connect()
        await collect(transport, stream, 1.0)
        assert len(stream.indices) > before
        assert transport.connects == 2
        await transport.disconnect()

    on_rig(scenario, profile=CentralProfile(supervision_timeout_ms=1000))


def test_uris_choose_the_transport_and_bad_ones_say_what_is_accepted() -> None:
    assert isinstance(open_transport("ble:LevelBelt-1A2B"), BleTransport)
    assert open_transport("ble:24:0A:C4:00:1A:2B").uri == "ble:24:0A:C4:00:1A:2B"
    assert isinstance(open_transport("serial:/dev/ttyUSB0"), SerialTransport)
    for bad in ("bluetooth:x", "ble:", "/dev/ttyUSB0"):
        with pytest.raises(ConfigError, match="use ble:NAME-OR-ADDRESS"):
            open_transport(bad)


def test_frames_over_ble_are_raw_protocol_frames() -> None:
    """No COBS and no CRC over BLE: the first bytes are the protocol header."""

    async def scenario(rig: BleRig, belts: list[Belt], host: Central) -> None:
        transport = transport_for(belt_name(belts[0].board), host)
        await transport.connect()
        frames = await transport.receive()
        version, _, _ = struct.unpack_from("<BBH", frames[0])
        assert version == p.VERSION
        await transport.disconnect()

    on_rig(scenario)


HAS_SYSTEM_BUS = any(
    os.path.exists(path)
    for path in ("/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket")
)


@pytest.mark.skipif(HAS_SYSTEM_BUS, reason="this machine has a D-Bus system bus: BlueZ may answer")
def test_without_a_bluetooth_stack_scanning_says_so_in_one_line() -> None:
    with pytest.raises(LinkError, match="Bluetooth is not available"):
        ble_link.scan_blocking(0.5)


@pytest.mark.skipif(HAS_SYSTEM_BUS, reason="this machine has a D-Bus system bus: BlueZ may answer")
def test_levelbelt_scan_without_bluetooth_prints_one_line_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from levelbelt.cli import main

    assert main(["scan", "--seconds", "0.2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("levelbelt: error: Bluetooth is not available")
