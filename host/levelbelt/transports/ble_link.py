"""Bluetooth LE transport on bleak: find a belt, connect, subscribe, move raw frames.

Over BLE every notification and every control write is exactly one protocol frame
(no COBS, no CRC: the link layer checks integrity). The belt notifies SAMPLES, TILT
and EVENT frames on the stream characteristic and INFO, STATUS, CALIBRATION and ACK
frames on the status characteristic, with one `seq` counter across both, so both
subscriptions feed one queue in arrival order.

Finding a belt: a scan filtered by the LevelBelt service UUID (the belt puts it in its
scan response), matched by advertised name (`LevelBelt-1A2B`) or by address. The
address is a MAC on Linux and Windows and a per-host UUID on macOS. The belt advertises
its battery level as Battery Service data, so a scan lists it without connecting.

Battery: on connecting the transport reads Battery Level (0x2A19) and subscribes to its
notifications, so `battery_percent` follows the belt while connected. (The belt's STATUS
frames carry the cell voltage every second as well; the dashboard turns that into a
percentage with the belt's own curve, the one source that works over USB too.)

Connection set-up: the host's stack does the ATT MTU exchange on connecting (BlueZ,
CoreBluetooth and WinRT all do; the belt also asks for 247), so `mtu` is what was
negotiated. A short connection interval is requested only where bleak's backend takes
one (the BLE rig's does; see docs/troubleshooting.md for what each OS allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Any, Final

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from levelbelt.errors import LinkError
from levelbelt.transports.transport import FrameInbox, LinkLost

SERVICE_UUID: Final = "6c620001-8e3b-4b6f-a1d2-5f0c9e7d4a10"
STREAM_UUID: Final = "6c620002-8e3b-4b6f-a1d2-5f0c9e7d4a10"
CONTROL_UUID: Final = "6c620003-8e3b-4b6f-a1d2-5f0c9e7d4a10"
STATUS_UUID: Final = "6c620004-8e3b-4b6f-a1d2-5f0c9e7d4a10"
BATTERY_SERVICE_UUID: Final = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID: Final = "00002a19-0000-1000-8000-00805f9b34fb"
NAME_PREFIX: Final = "LevelBelt-"
DEFAULT_MTU: Final = 23

SCAN_TIMEOUT_S: Final = 5.0
CONNECT_TIMEOUT_S: Final = 15.0
WRITE_TIMEOUT_S: Final = 5.0
SHORT_INTERVAL_MS: Final = 15.0  # asked for where the backend takes it: 1 frame per ~15 ms

_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_CB_UUID = re.compile(r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")

_STACK_ERRORS = (BleakError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class BeltAdvert:
    """One belt seen in a scan."""

    name: str
    address: str
    rssi: int
    battery_percent: int | None  # from Battery Service data in the advertisement, if any
    device: BLEDevice


def is_address(target: str) -> bool:
    return bool(_MAC.match(target) or _CB_UUID.match(target))


def _unavailable(e: BaseException) -> LinkError:
    if isinstance(e, FileNotFoundError):
        detail = "no D-Bus system bus: is bluetoothd (BlueZ) running?"
    else:
        detail = str(e) or type(e).__name__
    return LinkError(
        f"Bluetooth is not available ({detail}): is an adapter present and switched on? "
        "See docs/troubleshooting.md"
    )


def _advert(device: BLEDevice, adv: AdvertisementData) -> BeltAdvert:
    battery = adv.service_data.get(BATTERY_SERVICE_UUID)
    return BeltAdvert(
        name=adv.local_name or device.name or device.address,
        address=device.address,
        rssi=adv.rssi,
        battery_percent=battery[0] if battery else None,
        device=device,
    )


async def scan(
    timeout_s: float = SCAN_TIMEOUT_S, *, backend: type[BaseBleakScanner] | None = None
) -> list[BeltAdvert]:
    """Belts advertising the LevelBelt service, strongest signal first."""
    try:
        async with BleakScanner(service_uuids=[SERVICE_UUID], backend=backend) as scanner:
            await asyncio.sleep(timeout_s)
    except _STACK_ERRORS as e:
        raise _unavailable(e) from None
    found = scanner.discovered_devices_and_advertisement_data
    belts = [
        _advert(device, adv)
        for device, adv in found.values()
        if SERVICE_UUID in adv.service_uuids
    ]
    return sorted(belts, key=lambda b: (-b.rssi, b.name))


def scan_blocking(timeout_s: float = SCAN_TIMEOUT_S) -> list[BeltAdvert]:
    """`scan` for callers outside asyncio (e.g. a UI worker thread)."""
    return asyncio.run(scan(timeout_s))


async def find(
    target: str,
    timeout_s: float = SCAN_TIMEOUT_S,
    *,
    backend: type[BaseBleakScanner] | None = None,
) -> BeltAdvert:
    """The belt named `target` (or at address `target`); a LinkError if none answers."""
    by_address = is_address(target)
    wanted = target.lower()

    def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
        if SERVICE_UUID not in adv.service_uuids:
            return False
        if by_address:
            return device.address.lower() == wanted
        return (adv.local_name or "").lower() == wanted

    result: asyncio.Future[BeltAdvert] = asyncio.get_running_loop().create_future()

    def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
        if matches(device, adv) and not result.done():
            result.set_result(_advert(device, adv))

    try:
        async with BleakScanner(on_advert, [SERVICE_UUID], backend=backend):
            async with asyncio.timeout(timeout_s):
                return await result
    except TimeoutError:
        hint = (
            "is it switched on, in range and not connected to another device?"
            if target.lower().startswith(NAME_PREFIX.lower()) or by_address
            else f"belts advertise as {NAME_PREFIX}XXXX; run a scan to see their names"
        )
        raise LinkError(f"no belt {target} found within {timeout_s:g} s ({hint})") from None
    except _STACK_ERRORS as e:
        raise _unavailable(e) from None


def _negotiated_mtu(client: BleakClient) -> int:
    """The ATT MTU in use. bleak's `mtu_size` is always 23 on BlueZ; the write size of a
    characteristic is right everywhere (BlueZ >= 5.62), so that is asked first."""
    control = client.services.get_characteristic(CONTROL_UUID)
    if control is not None:
        return control.max_write_without_response_size + 3
    return client.mtu_size


class BleTransport:
    """A belt over Bluetooth LE (see the module docstring); implements `Transport`.

    `scanner_backend` / `client_backend` override bleak's OS backend (the BLE rig's
    backends run the same code over a simulated radio).
    """

    def __init__(
        self,
        target: str,
        *,
        scan_timeout_s: float = SCAN_TIMEOUT_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        connection_interval_ms: float = SHORT_INTERVAL_MS,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
    ) -> None:
        self.target = target
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.connection_interval_ms = connection_interval_ms
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._client: BleakClient | None = None
        self._inbox = FrameInbox()
        self._lost = False
        self._closing = False
        self.advert: BeltAdvert | None = None
        self.battery_percent: int | None = None
        self.mtu = DEFAULT_MTU
        self.connects = 0
        self.frames_received = 0
        self.bytes_received = 0  # notification values (frames), without ATT/L2CAP headers

    @property
    def uri(self) -> str:
        return f"ble:{self.target}"

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected and not self._lost

    @property
    def rssi(self) -> int | None:
        """Signal strength from the last advertisement seen (bleak has no link RSSI)."""
        return self.advert.rssi if self.advert else None

    async def connect(self) -> None:
        if self.connected:
            return
        await self._drop_client()
        advert = await find(self.target, self.scan_timeout_s, backend=self._scanner_backend)
        self.advert = advert
        self.battery_percent = advert.battery_percent
        self._lost = False
        self._closing = False
        kwargs: dict[str, Any] = {}
        if getattr(self._client_backend, "supports_connection_interval", False):
            kwargs["connection_interval_ms"] = self.connection_interval_ms
        client = BleakClient(
            advert.device,
            self._on_disconnected,
            timeout=self.connect_timeout_s,
            backend=self._client_backend,
            **kwargs,
        )
        self._client = client
        try:
            await client.connect()
            self.mtu = _negotiated_mtu(client)
            await client.start_notify(STATUS_UUID, self._on_frame)
            await client.start_notify(STREAM_UUID, self._on_frame)
            self.battery_percent = await self._read_battery(client)
            await self._follow_battery(client)
        except _STACK_ERRORS as e:
            await self._drop_client()
            raise LinkError(f"{advert.name}: could not set up the connection ({e})") from None
        self.connects += 1

    async def _read_battery(self, client: BleakClient) -> int | None:
        try:
            level = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        except (BleakError, KeyError):
            return self.battery_percent
        return level[0] if level else self.battery_percent

    async def _follow_battery(self, client: BleakClient) -> None:
        """Battery Level notifications; a belt without them keeps the value read."""
        with contextlib.suppress(BleakError, KeyError):
            await client.start_notify(BATTERY_LEVEL_UUID, self._on_battery)

    def _on_battery(self, _: BleakGATTCharacteristic, data: bytearray) -> None:
        if data and data[0] <= 100:
            self.battery_percent = data[0]

    def _on_frame(self, _: BleakGATTCharacteristic, data: bytearray) -> None:
        self._inbox.append(bytes(data))
        self.frames_received += 1
        self.bytes_received += len(data)

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is self._client and not self._closing:
            self._lost = True
            self._inbox.wake()

    def _check_up(self) -> None:
        if self._lost or self._client is None:
            raise LinkLost(f"{self.uri}: connection lost")

    async def receive(self) -> list[bytes]:
        return await self._inbox.take(self._check_up)

    async def send(self, frame: bytes) -> None:
        client = self._client
        if client is None or self._lost:
            raise LinkLost(f"{self.uri}: not connected")
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await client.write_gatt_char(CONTROL_UUID, frame, response=True)
        except _STACK_ERRORS as e:
            if not client.is_connected:
                self._lost = True
                raise LinkLost(f"{self.uri}: connection lost while sending") from None
            raise LinkError(f"{self.uri}: command not delivered ({e})") from None

    async def disconnect(self) -> None:
        self._closing = True
        await self._drop_client()
        self._inbox.clear()

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._closing = True
            with contextlib.suppress(*_STACK_ERRORS):  # already gone
                await client.disconnect()
