"""The BLE rig: a MicroPython-API peripheral and bleak, over Bumble's real stack.

Each test runs on the rig's virtual clock (`blerig.run`), so link timing is exact and
seconds of radio time cost milliseconds.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Awaitable, Callable

import ble_peripheral_fixture as fx
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError, BleakGATTProtocolError

from levelbelt.blerig import BleRig, Central, CentralProfile, Peripheral, RadioTiming, run

IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_GATTS_WRITE = 3
IRQ_MTU_EXCHANGED = 21


async def find(central: Central, timeout: float = 5.0) -> BLEDevice:
    device = await BleakScanner.find_device_by_filter(
        lambda d, ad: fx.SERVICE_UUID in ad.service_uuids,
        timeout=timeout,
        service_uuids=[fx.SERVICE_UUID],
        backend=central.scanner_backend,
    )
    assert device is not None, "peripheral not found"
    return device


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


Scenario = Callable[[BleRig, Peripheral, fx.Peripheral, Central], Awaitable[None]]


def on_rig(
    scenario: Scenario,
    profile: CentralProfile | None = None,
    timing: RadioTiming | None = None,
    mtu: int = 247,
    exchange_mtu: bool = False,
) -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral(timing=timing)
            app = fx.Peripheral(board.bluetooth, mtu=mtu, exchange_mtu=exchange_mtu)
            rig.start_loop(app.service, 5, board.ble)
            central = await rig.add_central(profile=profile)
            await scenario(rig, board, app, central)

    run(main())


def test_scan_finds_the_peripheral_by_service_uuid_with_name_and_rssi() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        board.rssi_dbm = -71
        found = await BleakScanner.discover(
            timeout=1.0,
            return_adv=True,
            service_uuids=[fx.SERVICE_UUID],
            backend=host.scanner_backend,
        )
        assert list(found) == [board.address]
        device, adv = found[board.address]
        assert device.name == "RigTest"
        assert adv.local_name == "RigTest"
        # The UUID only travels in the scan response: active scanning merged it in.
        assert adv.service_uuids == [fx.SERVICE_UUID]
        assert adv.rssi == -71

    on_rig(scenario)


def test_scan_filter_leaves_out_devices_without_the_service() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        found = await BleakScanner.discover(
            timeout=1.0,
            service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"],
            backend=host.scanner_backend,
        )
        assert found == []

    on_rig(scenario)


@pytest.mark.parametrize("central_mtu", [23, 247])
def test_mtu_negotiated_by_the_central_is_seen_on_both_sides(central_mtu: int) -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await until(lambda: bool(app.connections))
            await asyncio.sleep(0.1)
            assert client.mtu_size == central_mtu
            assert list(app.connections.values()) == [central_mtu]
            exchanged = [e for e, _ in app.events if e == IRQ_MTU_EXCHANGED]
            assert len(exchanged) == (1 if central_mtu > 23 else 0)

    on_rig(scenario, profile=CentralProfile(mtu=central_mtu))


def test_mtu_exchange_started_by_the_peripheral_takes_the_smaller_mtu() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await until(lambda: 185 in app.connections.values())
            assert client.mtu_size == 185

    # A host that never starts an exchange itself but answers one with 517.
    on_rig(
        scenario,
        profile=CentralProfile(mtu=517, exchange_mtu=False),
        mtu=185,
        exchange_mtu=True,
    )


def test_notifications_arrive_complete_and_in_order() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        got: list[bytes] = []
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await client.start_notify(fx.NOTIFY_UUID, lambda _, data: got.append(bytes(data)))
            for i in range(600):
                app.send(i.to_bytes(4, "little") * 5)
            await until(lambda: len(got) == 600)
            assert [int.from_bytes(g[:4], "little") for g in got] == list(range(600))
            assert all(len(g) == 20 for g in got)

    on_rig(scenario)


def test_a_notification_longer_than_the_mtu_allows_is_truncated_and_counted() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        got: list[bytes] = []
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await client.start_notify(fx.NOTIFY_UUID, lambda _, data: got.append(bytes(data)))
            app.send(bytes(range(30)))
            await until(lambda: len(got) == 1)
            assert got == [bytes(range(20))]  # ATT MTU 23 leaves 20 bytes
            assert board.ble.truncated_notifications == 1

    on_rig(scenario, profile=CentralProfile(mtu=23))


def test_notify_storm_raises_enomem_and_the_peripheral_recovers_without_loss() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        got: list[bytes] = []
        ble = board.ble
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await client.start_notify(fx.NOTIFY_UUID, lambda _, data: got.append(bytes(data)))
            (conn,) = app.connections
            accepted = 0
            with pytest.raises(OSError) as refused:
                for i in range(1000):
                    ble.gatts_notify(conn, app.notify_handle, i.to_bytes(2, "little"))
                    accepted += 1
            assert refused.value.errno == errno.ENOMEM
            # Room for the controller's buffers plus the host's, and no more.
            assert accepted == RadioTiming().acl_buffers + 8
            await until(lambda: len(got) == accepted)
            # The stack drained: the firmware's retrying loop now gets everything through.
            for i in range(accepted, 400):
                app.send(i.to_bytes(2, "little"))
            await until(lambda: len(got) == 400)
            assert [int.from_bytes(g, "little") for g in got] == list(range(400))
            assert app.enomem > 0

    on_rig(scenario)


def test_notification_rate_is_bounded_by_connection_events() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        got: list[float] = []
        loop = asyncio.get_running_loop()
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await client.start_notify(fx.NOTIFY_UUID, lambda _, d: got.append(loop.time()))
            for i in range(200):
                app.send(bytes([i]))
            await until(lambda: len(got) == 200)
            # 2 packets per 20 ms event: 100 notifications per second, in steps of 2.
            span = got[-1] - got[0]
            assert span == pytest.approx(0.02 * 99, abs=1e-6)
            assert len(set(got)) == 100

    on_rig(
        scenario,
        profile=CentralProfile(interval_ms=20.0),
        timing=RadioTiming(packets_per_event=2),
    )


def test_writes_arrive_as_gatts_write_events_with_the_data() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            await client.write_gatt_char(fx.WRITE_UUID, b"with response", response=True)
            assert app.writes == [b"with response"]  # handled before the response came back
            await client.write_gatt_char(fx.WRITE_UUID, b"without", response=False)
            await until(lambda: len(app.writes) == 2)
            await client.write_gatt_char(fx.WRITE_UUID, bytes(230), response=True)
            assert app.writes[1:] == [b"without", bytes(fx.WRITE_BUFFER)]
            writes = [e for e, _ in app.events if e == IRQ_GATTS_WRITE]
            assert len(writes) == 3

    on_rig(scenario)


def test_reads_return_the_local_value_unless_the_read_request_is_refused() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            assert await client.read_gatt_char(fx.STATUS_UUID) == b"ok"
            app.deny_reads = True
            with pytest.raises(BleakGATTProtocolError) as refused:
                await client.read_gatt_char(fx.STATUS_UUID)
            assert refused.value.code == fx.READ_DENIED

    on_rig(scenario)


def test_disconnect_by_the_central_raises_the_irq_and_the_peripheral_readvertises() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        calls: list[object] = []
        device = await find(host)
        client = BleakClient(device, lambda c: calls.append(c), backend=host.client_backend)
        await client.connect()
        await until(lambda: bool(app.connections))
        (conn,) = app.connections
        await client.disconnect()
        await until(lambda: not app.connections)
        assert app.events[-1] == (IRQ_CENTRAL_DISCONNECT, conn)
        assert calls == []  # asked for: not an unexpected disconnection
        # Advertising again, so the same host connects again.
        await client.connect()
        await until(lambda: bool(app.connections))
        assert client.is_connected
        await client.disconnect()

    on_rig(scenario)


def test_disconnect_by_the_peripheral_reaches_bleaks_disconnected_callback() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        calls: list[object] = []
        client = BleakClient(
            await find(host), lambda c: calls.append(c), backend=host.client_backend
        )
        await client.connect()
        await until(lambda: bool(app.connections))
        (conn,) = app.connections
        assert board.ble.gap_disconnect(conn) is True
        await until(lambda: bool(calls))
        assert calls == [client]
        assert not client.is_connected
        assert board.ble.gap_disconnect(conn) is False
        with pytest.raises(BleakError):
            await client.read_gatt_char(fx.STATUS_UUID)
        # Reconnect after the peripheral re-advertised.
        await client.connect()
        got: list[bytes] = []
        await client.start_notify(fx.NOTIFY_UUID, lambda _, data: got.append(bytes(data)))
        app.send(b"again")
        await until(lambda: got == [b"again"])
        await client.disconnect()

    on_rig(scenario)


def test_an_outage_shorter_than_the_supervision_timeout_only_delays_data() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        got: list[bytes] = []
        calls: list[object] = []
        client = BleakClient(
            await find(host), lambda c: calls.append(c), backend=host.client_backend
        )
        await client.connect()
        await client.start_notify(fx.NOTIFY_UUID, lambda _, data: got.append(bytes(data)))
        board.set_in_range(False)
        for i in range(50):
            app.send(bytes([i]))
        await asyncio.sleep(1.5)
        assert got == []
        assert app.enomem > 0  # buffers filled while nothing could leave
        board.set_in_range(True)
        await until(lambda: len(got) == 50)
        assert got == [bytes([i]) for i in range(50)]
        assert calls == [] and client.is_connected
        await client.disconnect()

    on_rig(scenario, profile=CentralProfile(supervision_timeout_ms=2000))


def test_an_outage_longer_than_the_supervision_timeout_drops_both_ends() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        calls: list[object] = []
        loop = asyncio.get_running_loop()
        client = BleakClient(
            await find(host), lambda c: calls.append(loop.time()), backend=host.client_backend
        )
        await client.connect()
        await until(lambda: bool(app.connections))
        (conn,) = app.connections
        lost_at = loop.time()
        outage = loop.create_task(rig.outage(board, 5.0))
        await until(lambda: bool(calls))
        assert calls[0] - lost_at == pytest.approx(1.0, abs=0.01)
        assert (IRQ_CENTRAL_DISCONNECT, conn) in app.events
        # Out of range: not found until it comes back, then found and connected again.
        assert await BleakScanner.find_device_by_address(
            board.address, timeout=2.0, backend=host.scanner_backend
        ) is None
        await outage
        await client.connect()
        assert client.is_connected
        await client.disconnect()

    on_rig(scenario, profile=CentralProfile(supervision_timeout_ms=1000))


def test_calls_on_a_dead_connection_or_an_inactive_radio_raise_like_micropython() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        ble = board.ble
        with pytest.raises(OSError) as not_connected:
            ble.gatts_notify(7, app.notify_handle, b"x")
        assert not_connected.value.errno == errno.ENOTCONN
        with pytest.raises(OSError) as too_long:
            ble.gap_advertise(100_000, bytes(32))
        assert too_long.value.errno == errno.EINVAL
        with pytest.raises(OSError) as busy:
            ble.gatts_register_services(())
        assert busy.value.errno == errno.EBUSY  # still advertising
        with pytest.raises(ValueError):
            ble.config("no_such_param")
        ble.active(False)
        with pytest.raises(OSError) as inactive:
            ble.gatts_read(app.notify_handle)
        assert inactive.value.errno == errno.ENODEV
        # After active(False) nothing advertises any more.
        await board.ble.settle()
        assert await BleakScanner.find_device_by_address(
            board.address, timeout=1.0, backend=host.scanner_backend
        ) is None

    on_rig(scenario)


def test_config_reports_the_public_mac_and_gap_name_seen_by_the_host() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        ble = board.ble
        addr_type, mac = ble.config("mac")
        assert addr_type == 0
        assert ":".join(f"{b:02X}" for b in mac) == board.address
        assert ble.config("gap_name") == b"RigTest"
        ble.config(gap_name="Renamed")
        async with BleakClient(await find(host), backend=host.client_backend) as client:
            name = await client.read_gatt_char("00002a00-0000-1000-8000-00805f9b34fb")
            assert name == b"Renamed"

    on_rig(scenario)


def test_an_exception_in_the_irq_handler_fails_the_run() -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral()
            app = fx.Peripheral(board.bluetooth)

            def broken(event: int, data: tuple[object, ...]) -> None:
                raise RuntimeError("bug in the handler")

            board.ble.irq(broken)
            rig.start_loop(app.service, 5, board.ble)
            host = await rig.add_central()
            async with BleakClient(await find(host), backend=host.client_backend):
                await asyncio.sleep(0.1)

    with pytest.raises(RuntimeError, match="bug in the handler"):
        run(main())


def test_the_virtual_clock_skips_idle_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(3600.0)
        return loop.time()

    assert run(main()) == pytest.approx(3600.0)


def test_pairing_with_le_secure_connections_encrypts_the_link() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        board.ble.config(bond=True, le_secure=True, mitm=False, io=3)
        device = await find(host)
        async with BleakClient(device, pair=True, backend=host.client_backend) as client:
            await until(lambda: app.encrypted)
            assert client.is_connected
            assert await client.read_gatt_char(fx.STATUS_UUID) == b"ok"

    on_rig(scenario)


def test_uuids_compare_by_value_whatever_form_they_were_given_in() -> None:
    from levelbelt.blerig.mpy_bluetooth import UUID

    battery = UUID(0x180F)
    assert battery == UUID(bytes([0x0F, 0x18]))
    assert battery == UUID("0000180f-0000-1000-8000-00805f9b34fb")
    assert hash(battery) == hash(UUID("0000180F-0000-1000-8000-00805F9B34FB"))
    assert repr(battery) == "UUID(0x180f)"
    service = UUID(fx.SERVICE_UUID)
    assert repr(service) == f"UUID('{fx.SERVICE_UUID}')"
    assert UUID(bytes(service)) == service
    for bad in (0x10000, "not-a-uuid", b"\x01\x02\x03"):
        with pytest.raises(ValueError):
            UUID(bad)


def test_a_peripheral_that_resets_silently_is_dropped_by_the_host_after_the_timeout() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        loop = asyncio.get_running_loop()
        lost: list[float] = []
        client = BleakClient(
            await find(host), lambda c: lost.append(loop.time()), backend=host.client_backend
        )
        await client.connect()
        await until(lambda: bool(app.connections))
        # The board's controller resets: it forgets the link, nothing goes over the air,
        # and it is back (and advertising) well within the supervision timeout.
        reset_at = loop.time()
        board.controller.forget_links()
        await until(lambda: bool(lost))
        assert lost[0] - reset_at == pytest.approx(1.5, abs=0.01)  # not at once: timed out
        await client.connect()
        assert client.is_connected
        await client.disconnect()

    on_rig(scenario, profile=CentralProfile(supervision_timeout_ms=1500))


def test_an_address_kept_from_an_irq_without_copying_it_is_unusable_afterwards() -> None:
    async def scenario(rig: BleRig, board: Peripheral, app: fx.Peripheral, host: Central) -> None:
        kept: list[memoryview] = []
        copied: list[bytes] = []
        handler = app._irq

        def keeping(event: int, data: tuple[object, ...]) -> object:
            if event == IRQ_CENTRAL_CONNECT:
                addr = data[2]
                assert isinstance(addr, memoryview)
                kept.append(addr)
                copied.append(bytes(addr))
            return handler(event, data)

        board.ble.irq(keeping)
        async with BleakClient(await find(host), backend=host.client_backend):
            await until(lambda: bool(kept))
        with pytest.raises(ValueError):
            bytes(kept[0])
        assert ":".join(f"{b:02X}" for b in copied[0]) == host.controller.random_address.to_string(
            with_type_qualifier=False
        )

    on_rig(scenario)


def test_indications_are_confirmed_with_the_indicate_done_irq() -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral()
            bt = board.bluetooth
            ble = board.ble
            done: list[tuple[int, int, int]] = []
            conns: list[int] = []

            def irq(event: int, data: tuple[int, ...]) -> None:
                if event == IRQ_CENTRAL_CONNECT:
                    conns.append(data[0])
                elif event == 20:  # _IRQ_GATTS_INDICATE_DONE
                    done.append(data)

            ble.active(True)
            ble.irq(irq)
            char_uuid = "9f3c0010-5a1e-4c2b-9d7e-0b6f1a2c3d4e"
            ((handle,),) = ble.gatts_register_services(
                ((bt.UUID(fx.SERVICE_UUID), ((bt.UUID(char_uuid), bt.FLAG_INDICATE),)),)
            )
            ble.gap_advertise(
                100_000,
                fx.advertising_payload("Ind"),
                resp_data=fx.scan_response_payload(bt.UUID(fx.SERVICE_UUID)),
            )
            host = await rig.add_central()
            got: list[bytes] = []
            async with BleakClient(await find(host), backend=host.client_backend) as client:
                await client.start_notify(char_uuid, lambda _, data: got.append(bytes(data)))
                (conn,) = conns
                ble.gatts_indicate(conn, handle, b"first")
                ble.gatts_indicate(conn, handle, b"second")
                await until(lambda: len(done) == 2)
            assert got == [b"first", b"second"]
            assert done == [(conn, handle, 0), (conn, handle, 0)]

    run(main())
