"""A bleak backend on a Bumble central: the host's bleak code runs over the rig's radio.

bleak picks its OS backend unless given `backend=`; `Central.scanner_backend` and
`Central.client_backend` are subclasses of bleak's `BaseBleakScanner` and
`BaseBleakClient` bound to one rig central, so

    BleakScanner(service_uuids=[...], backend=central.scanner_backend)
    BleakClient(device, backend=central.client_backend)

behave as on a PC: active scanning with the advertisement and scan response merged
(name, service UUIDs, manufacturer data, RSSI), connect with the central's connection
parameters, the OS's own MTU exchange on connect (`mtu_size`), service discovery,
reads, writes with and without response, notifications, and a disconnected callback
for disconnections nobody asked for.

The one option beyond bleak's own: `BleakClient(..., connection_interval_ms=7.5)` asks
for a connection interval, as the transport does where a platform allows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, hci
from bumble import core as bumble_core
from bumble import device as bumble_device
from bumble import gatt_client as bumble_gatt_client

if TYPE_CHECKING:
    from levelbelt.blerig.rig import Central

_AD = bumble_core.AdvertisingData.Type
_UUID_LISTS = {
    _AD.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    _AD.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA = {
    _AD.SERVICE_DATA_16_BIT_UUID: 2,
    _AD.SERVICE_DATA_32_BIT_UUID: 4,
    _AD.SERVICE_DATA_128_BIT_UUID: 16,
}


class _QuietUnsubscribed(logging.Filter):
    """A peripheral may notify before the host subscribes (MicroPython's `gatts_notify`
    does not check); OS stacks drop such notifications silently, and so does this one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "with no subscriber" not in record.getMessage()


logging.getLogger("bumble.gatt_client").addFilter(_QuietUnsubscribed())


def uuid_str(uuid: bumble_core.UUID) -> str:
    """bleak's form: the full 128-bit UUID, lower case, with dashes."""
    h = uuid.to_bytes(force_128=True)[::-1].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def address_str(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False)


def advertisement_data(adv: bumble_device.Advertisement) -> AdvertisementData:
    """Parse the merged advertisement + scan response the way an OS stack reports it."""
    name: str | None = None
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    uuids: list[str] = []
    tx_power: int | None = None
    for ad_type, data in adv.data.ad_structures:
        if ad_type == _AD.COMPLETE_LOCAL_NAME or (
            ad_type == _AD.SHORTENED_LOCAL_NAME and name is None
        ):
            name = data.decode("utf-8", errors="replace")
        elif ad_type == _AD.MANUFACTURER_SPECIFIC_DATA and len(data) >= 2:
            manufacturer[int.from_bytes(data[:2], "little")] = bytes(data[2:])
        elif ad_type in _UUID_LISTS:
            size = _UUID_LISTS[ad_type]
            for i in range(0, len(data) - size + 1, size):
                u = uuid_str(bumble_core.UUID.from_bytes(data[i : i + size]))
                if u not in uuids:
                    uuids.append(u)
        elif ad_type in _SERVICE_DATA:
            size = _SERVICE_DATA[ad_type]
            if len(data) >= size:
                key = uuid_str(bumble_core.UUID.from_bytes(data[:size]))
                service_data[key] = bytes(data[size:])
        elif ad_type == _AD.TX_POWER_LEVEL and len(data) == 1:
            tx_power = int.from_bytes(data, "little", signed=True)
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=uuids,
        tx_power=tx_power,
        rssi=adv.rssi,
        platform_data=(adv,),
    )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend; `central` is set on the per-central subclass."""

    central: ClassVar[Central]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode != "passive"
        self._scanning = False

    async def start(self) -> None:
        self.seen_devices = {}
        self.central.device.on(self.central.device.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._scanning = True
        await self.central.start_scanning(self._active)

    async def stop(self) -> None:
        if not self._scanning:
            return
        self._scanning = False
        self.central.device.remove_listener(
            self.central.device.EVENT_ADVERTISEMENT, self._on_advertisement
        )
        await self.central.stop_scanning()

    def _on_advertisement(self, adv: bumble_device.Advertisement) -> None:
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = address_str(adv.address)
        device = self.create_or_update_device(address, address, data.local_name, adv.address, data)
        self.call_detection_callbacks(device, data)


class BumbleClient(BaseBleakClient):
    """bleak client backend; `central` is set on the per-central subclass."""

    central: ClassVar[Central]
    supports_connection_interval: ClassVar[bool] = True  # takes connection_interval_ms

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 30.0,
        services: set[str] | None = None,
        connection_interval_ms: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._target: hci.Address | None = None
        self._device_name: str | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._device_name = address_or_ble_device.name
            if isinstance(address_or_ble_device.details, hci.Address):
                self._target = address_or_ble_device.details
        self._only_services = services
        self._interval_ms = connection_interval_ms
        self._connection: bumble_device.Connection | None = None
        self._closing = False
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._proxies: dict[int, bumble_gatt_client.CharacteristicProxy[bytes]] = {}

    # Connection -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        target = self._target or await self._find(self.address)
        try:
            async with asyncio.timeout(self._timeout):
                connection = await self.central.connect(target, self._interval_ms)
        except TimeoutError:
            raise BleakDeviceNotFoundError(self.address, "connection timed out") from None
        self._connection = connection
        self._closing = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            async with asyncio.timeout(self._timeout):
                profile = self.central.profile
                if profile.exchange_mtu and profile.mtu > att.ATT_DEFAULT_MTU:
                    await connection.gatt_client.request_mtu(profile.mtu)
                if pair:
                    await connection.pair()
                self.services = await self._discover(connection)
        except (TimeoutError, bumble_core.BaseBumbleError, att.ATT_Error) as e:
            await self.disconnect()
            raise BleakError(f"connection set-up failed: {e}") from None

    async def _find(self, address: str) -> hci.Address:
        found: asyncio.Future[hci.Address] = asyncio.get_running_loop().create_future()

        def on_adv(adv: bumble_device.Advertisement) -> None:
            if address_str(adv.address).lower() == address.lower() and not found.done():
                found.set_result(adv.address)

        device = self.central.device
        device.on(device.EVENT_ADVERTISEMENT, on_adv)
        await self.central.start_scanning(True)
        try:
            async with asyncio.timeout(self._timeout):
                return await found
        except TimeoutError:
            raise BleakDeviceNotFoundError(address, f"device {address} not found") from None
        finally:
            device.remove_listener(device.EVENT_ADVERTISEMENT, on_adv)
            await self.central.stop_scanning()

    def _on_disconnection(self, reason: int) -> None:
        solicited = self._closing
        self._connection = None
        self._subscriptions.clear()
        if not solicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        with contextlib.suppress(bumble_core.BaseBumbleError):
            await connection.disconnect()
        self._connection = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        await self._require().pair()

    async def unpair(self) -> None:
        keystore = self.central.device.keystore
        if keystore is not None:
            with contextlib.suppress(KeyError):
                await keystore.delete(self.address)
        await self.disconnect()

    def _require(self) -> bumble_device.Connection:
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    # Services -------------------------------------------------------------------------

    async def _discover(self, connection: bumble_device.Connection) -> BleakGATTServiceCollection:
        client = connection.gatt_client
        wanted = (
            [bumble_core.UUID(u) for u in self._only_services] if self._only_services else []
        )
        await client.discover_services(wanted)
        collection = BleakGATTServiceCollection()
        self._proxies = {}
        for service in client.services:
            bleak_service = BleakGATTService(service, service.handle, uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in await client.discover_characteristics((), service):
                self._proxies[char.handle] = char
                properties: list[CharacteristicPropertyName] = [
                    name for bit, name in CHARACTERISTIC_PROPERTIES.items() if char.properties & bit
                ]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    uuid_str(char.uuid),
                    properties,
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in await client.discover_descriptors(char):
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str(desc.type), bleak_char)
                    )
        return collection

    # I/O ------------------------------------------------------------------------------

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._read(characteristic.handle))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._read(descriptor.handle))

    async def _read(self, handle: int) -> bytes:
        client = self._require().gatt_client
        try:
            return bytes(await client.read_value(handle))
        except att.ATT_Error as e:
            raise BleakGATTProtocolError(e.error_code) from None

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        await self._write(characteristic.handle, bytes(data), response)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        await self._write(descriptor.handle, bytes(data), True)

    async def _write(self, handle: int, data: bytes, response: bool) -> None:
        client = self._require().gatt_client
        try:
            await client.write_value(handle, data, with_response=response)
        except att.ATT_Error as e:
            raise BleakGATTProtocolError(e.error_code) from None

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        client = self._require().gatt_client
        proxy = self._proxies[characteristic.handle]
        old = self._subscriptions.pop(characteristic.handle, None)
        if old is not None:
            await client.unsubscribe(proxy, old)

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = on_value
        await client.subscribe(proxy, on_value, prefer_notify=True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        client = self._require().gatt_client
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        await client.unsubscribe(self._proxies[characteristic.handle], subscriber, force=True)
