"""The belt's own BLE code (firmware/belt/ble.py) as the peripheral on the BLE rig.

The firmware's `Peripheral` gets the rig's `bluetooth` BLE object and UUID class (as
hal.py hands it the real ones), reads its frames from the firmware's resend ring, and
is serviced from a main loop task on the rig's virtual clock. The host side is plain
bleak plus the host decoder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from ble_belt_fixture import RATE_HZ, Belt, Stream, fw_ble
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDeviceNotFoundError

from levelbelt.blerig import BleRig, Central, CentralProfile, Peripheral, RadioTiming, run


async def find_belt(central: Central) -> BLEDevice:
    device = await BleakScanner.find_device_by_filter(
        lambda d, ad: fw_ble.SERVICE_UUID in ad.service_uuids,
        timeout=5.0,
        service_uuids=[fw_ble.SERVICE_UUID],
        backend=central.scanner_backend,
    )
    assert device is not None
    return device


async def subscribe(client: BleakClient, stream: Stream) -> None:
    await client.start_notify(fw_ble.STREAM_UUID, stream.on_notify)
    await client.start_notify(fw_ble.STATUS_UUID, stream.on_notify)


Scenario = Callable[[BleRig, Peripheral, Belt, Central], Awaitable[None]]


def on_rig(
    scenario: Scenario,
    profile: CentralProfile | None = None,
    timing: RadioTiming | None = None,
    host_tx_packets: int = 8,
) -> None:
    async def main() -> None:
        async with BleRig() as rig:
            board = await rig.add_peripheral(timing=timing, host_tx_packets=host_tx_packets)
            belt = Belt(rig, board)
            central = await rig.add_central(profile=profile)
            await scenario(rig, board, belt, central)

    run(main())


def test_belt_advertises_its_name_with_the_service_uuid_in_the_scan_response() -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        found = await BleakScanner.discover(
            timeout=1.0,
            return_adv=True,
            service_uuids=[fw_ble.SERVICE_UUID],
            backend=host.scanner_backend,
        )
        _, adv = found[board.address]
        assert adv.local_name == "LevelBelt-" + board.address.replace(":", "")[-4:]
        assert adv.service_uuids == [fw_ble.SERVICE_UUID]
        adv_data, resp = fw_ble.advertising(adv.local_name, fw_ble.uuid128_le(fw_ble.SERVICE_UUID))
        assert len(adv_data) <= 31 and len(resp) <= 31

    on_rig(scenario)


@pytest.mark.parametrize(
    ("mtu", "frame_len", "raw"),
    [(23, 8 + 3 * 4, False), (247, 8 + 10 * 16, True)],
)
def test_belt_streams_every_sample_in_batches_shaped_by_the_mtu(
    mtu: int, frame_len: int, raw: bool
) -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        stream = Stream()
        async with BleakClient(await find_belt(host), backend=host.client_backend) as client:
            await subscribe(client, stream)
            await asyncio.sleep(10.0)
            assert client.mtu_size == mtu
        assert len(stream.indices) > 9 * RATE_HZ
        assert stream.gaps() == 0
        assert stream.decoder.frames_bad == 0
        full = [b for b in stream.batches if b.count == stream.batches[0].count]
        assert (8 + full[0].count * (16 if raw else 4)) == frame_len
        assert all((b.raw is not None) == raw for b in stream.batches)

    on_rig(scenario, profile=CentralProfile(mtu=mtu))


def test_belt_survives_enomem_on_a_slow_link_without_losing_samples() -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        stream = Stream()
        async with BleakClient(await find_belt(host), backend=host.client_backend) as client:
            await subscribe(client, stream)
            await asyncio.sleep(20.0)
        assert belt.ble.enomem > 0
        assert board.ble.enomem_count == belt.ble.enomem
        assert stream.gaps() == 0
        assert len(stream.indices) > 19 * RATE_HZ

    # MTU 23: 34 notifications/s needed; 1 packet per 25 ms event carries 40/s, and the
    # stack holds only 3 packets, so the belt's pacing meets ENOMEM again and again.
    on_rig(
        scenario,
        profile=CentralProfile(mtu=23, interval_ms=25.0),
        timing=RadioTiming(packets_per_event=1, acl_buffers=2),
        host_tx_packets=1,
    )


def test_belt_serves_device_information_and_battery() -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        belt.ble.set_battery(87)
        async with BleakClient(await find_belt(host), backend=host.client_backend) as client:
            manufacturer = await client.read_gatt_char("00002a29-0000-1000-8000-00805f9b34fb")
            level = await client.read_gatt_char("00002a19-0000-1000-8000-00805f9b34fb")
        assert manufacturer == b"LevelBelt"
        assert level == bytes([87])

    on_rig(scenario)


def test_a_second_central_cannot_reach_the_belt_while_one_is_connected() -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        other = await rig.add_central()
        stream = Stream()
        device = await find_belt(host)
        async with BleakClient(device, backend=host.client_backend) as client:
            await subscribe(client, stream)
            # Connected, the belt no longer advertises: the second host's attempt to
            # connect (with the device it saw before) finds nobody to connect to.
            intruder = BleakClient(device, backend=other.client_backend, timeout=3.0)
            with pytest.raises(BleakDeviceNotFoundError):
                await intruder.connect()
            await asyncio.sleep(1.0)
            assert client.is_connected
        assert stream.gaps() == 0
        assert belt.ble.connections == 1

    on_rig(scenario)


def test_belt_advertises_again_after_a_disconnect_and_streams_to_the_next_connection() -> None:
    async def scenario(rig: BleRig, board: Peripheral, belt: Belt, host: Central) -> None:
        for _ in range(3):
            stream = Stream()
            async with BleakClient(await find_belt(host), backend=host.client_backend) as client:
                await subscribe(client, stream)
                await asyncio.sleep(1.0)
            assert len(stream.indices) > 0.8 * RATE_HZ
            assert stream.gaps() == 0
        assert belt.ble.connections == 3

    on_rig(scenario)
