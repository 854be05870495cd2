"""MicroPython's `bluetooth` module (peripheral and GATT server side) over a Bumble device.

The belt's firmware is written against MicroPython 1.27's `bluetooth.BLE` (see
typings/bluetooth.pyi and docs.micropython.org/en/v1.27.0/library/bluetooth.html). This
module gives it the same surface on CPython, backed by a real Bumble host and
controller, so the firmware's own BLE code runs unchanged as the peripheral:

    bt = BluetoothModule(device)      # one per simulated board, like the real module
    ble = bt.BLE()                    # the singleton
    bt.UUID, bt.FLAG_READ, ...        # as in `bluetooth`

Behaviour kept from the ESP32 port (NimBLE):

* IRQ events use MicroPython's integer codes and argument tuples; `addr` is a
  read-only memoryview in display (big-endian) order, released when the handler
  returns (on the board it points into a ring buffer that is reused).
* IRQ handlers run synchronously inside the stack's callbacks, as the ESP32 port runs
  them (synchronous events): a write's handler runs before the write response leaves,
  a read-request handler can refuse the read by returning an ATT error code.
* Local values are 20-byte buffers unless grown by `gatts_write` or
  `gatts_set_buffer`; remote writes are truncated to the buffer (or appended in append
  mode, and `gatts_read` then empties it).
* `gatts_notify` sends whatever the subscription state, truncates to ATT MTU - 3, and
  raises `OSError(ENOMEM)` when the stack's outgoing buffers are full: the controller's
  ACL buffers plus `host_tx_packets` more in the host, drained only at connection
  events (see radio.py). `OSError(ENOTCONN)` for a handle that is not connected,
  `OSError(ENODEV)` for any call while inactive.
* `config(mtu=...)` is the MTU offered in an exchange; `gattc_exchange_mtu` starts one
  from the belt's side; `_IRQ_MTU_EXCHANGED` reports the result either way.

Not modelled: the central role (`gap_scan`, `gap_connect`, GATT client reads and writes),
L2CAP channels, passkey entry (pairing is Just Works) and the `_IRQ_GET_SECRET` /
`_IRQ_SET_SECRET` bond store (bonds live in Bumble's in-memory key store).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from bumble import att, gatt, hci, pairing
from bumble import core as bumble_core
from bumble import device as bumble_device
from bumble import gatt_server as bumble_gatt_server

logger = logging.getLogger(__name__)

FLAG_BROADCAST: Final = 0x0001
FLAG_READ: Final = 0x0002
FLAG_WRITE_NO_RESPONSE: Final = 0x0004
FLAG_WRITE: Final = 0x0008
FLAG_NOTIFY: Final = 0x0010
FLAG_INDICATE: Final = 0x0020
FLAG_AUTHENTICATED_SIGNED_WRITE: Final = 0x0040
FLAG_AUX_WRITE: Final = 0x0100
FLAG_READ_ENCRYPTED: Final = 0x0200
FLAG_READ_AUTHENTICATED: Final = 0x0400
FLAG_READ_AUTHORIZED: Final = 0x0800
FLAG_WRITE_ENCRYPTED: Final = 0x1000
FLAG_WRITE_AUTHENTICATED: Final = 0x2000
FLAG_WRITE_AUTHORIZED: Final = 0x4000

IRQ_CENTRAL_CONNECT: Final = 1
IRQ_CENTRAL_DISCONNECT: Final = 2
IRQ_GATTS_WRITE: Final = 3
IRQ_GATTS_READ_REQUEST: Final = 4
IRQ_GATTS_INDICATE_DONE: Final = 20
IRQ_MTU_EXCHANGED: Final = 21
IRQ_CONNECTION_UPDATE: Final = 27
IRQ_ENCRYPTION_UPDATE: Final = 28

DEFAULT_ATTR_LEN: Final = 20  # MicroPython's default characteristic buffer
DEFAULT_MTU: Final = 256  # NimBLE's preferred ATT MTU unless configured
MAX_ADV_DATA: Final = 31
ADDR_MODE_PUBLIC: Final = 0
ADDR_MODE_RANDOM: Final = 1
IO_NO_INPUT_OUTPUT: Final = 3

_DEVICE_NAME_UUID: Final = bumble_core.UUID.from_16_bits(0x2A00)


class UUID:
    """`bluetooth.UUID`: a 16-bit int, a 128-bit string, or 2/4/16 little-endian bytes."""

    bumble: bumble_core.UUID

    def __init__(self, value: int | str | bytes | bytearray | memoryview | UUID) -> None:
        if isinstance(value, UUID):
            self.bumble = value.bumble
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self.bumble = bumble_core.UUID.from_16_bits(value)
        elif isinstance(value, str):
            try:
                self.bumble = bumble_core.UUID(value)
            except (ValueError, bumble_core.InvalidArgumentError):
                raise ValueError("invalid UUID") from None
        else:
            raw = bytes(value)
            if len(raw) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self.bumble = bumble_core.UUID.from_bytes(raw)

    def __bytes__(self) -> bytes:
        return bytes(self.bumble.uuid_bytes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UUID) and self.bumble == other.bumble

    def __hash__(self) -> int:
        return hash(self.bumble.to_bytes(force_128=True))

    def __repr__(self) -> str:
        raw = self.bumble.uuid_bytes
        if len(raw) == 2:
            return f"UUID(0x{int.from_bytes(raw, 'little'):04x})"
        return f"UUID('{self.bumble.to_hex_str('-').lower()}')"


IrqHandler = Callable[[int, tuple[Any, ...]], Any]


class _Value:
    """One local attribute value, as MicroPython's GATT database keeps it."""

    def __init__(self, ble: BLE, flags: int) -> None:
        self.ble = ble
        self.flags = flags
        self.handle = 0
        self.data = b""
        self.capacity = DEFAULT_ATTR_LEN
        self.append = False

    def read(self, connection: bumble_device.Connection) -> bytes:
        code = self.ble.dispatch(IRQ_GATTS_READ_REQUEST, (connection.handle, self.handle))
        if isinstance(code, int) and code:
            raise att.ATT_Error(error_code=code, att_handle=self.handle)
        return self.data

    def write(self, connection: bumble_device.Connection, value: bytes) -> None:
        if self.append:
            self.data = (self.data + bytes(value))[: self.capacity]
        else:
            self.data = bytes(value)[: self.capacity]
        self.ble.dispatch(IRQ_GATTS_WRITE, (connection.handle, self.handle))


def _permissions(flags: int) -> att.Attribute.Permissions:
    perm = att.Attribute.Permissions
    result = perm(0)
    if flags & (FLAG_READ | FLAG_READ_ENCRYPTED | FLAG_READ_AUTHENTICATED):
        result |= perm.READABLE
    if flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE | FLAG_WRITE_ENCRYPTED):
        result |= perm.WRITEABLE
    if flags & FLAG_WRITE_AUTHENTICATED:
        result |= perm.WRITEABLE
    if flags & FLAG_READ_ENCRYPTED:
        result |= perm.READ_REQUIRES_ENCRYPTION
    if flags & FLAG_READ_AUTHENTICATED:
        result |= perm.READ_REQUIRES_AUTHENTICATION
    if flags & FLAG_WRITE_ENCRYPTED:
        result |= perm.WRITE_REQUIRES_ENCRYPTION
    if flags & FLAG_WRITE_AUTHENTICATED:
        result |= perm.WRITE_REQUIRES_AUTHENTICATION
    return result


def _buffer(data: Any) -> bytes:
    """MicroPython takes any buffer here, `str` included (as its UTF-8 bytes)."""
    if isinstance(data, str):
        return data.encode()
    return bytes(data)


def _properties(flags: int) -> gatt.Characteristic.Properties:
    # MicroPython's low flag bits are the GATT characteristic property bits.
    return gatt.Characteristic.Properties(flags & 0xFF)


class BLE:
    """`bluetooth.BLE()` for one simulated board; see the module docstring."""

    def __init__(self, device: bumble_device.Device, host_tx_packets: int) -> None:
        self.device = device
        self.host_tx_packets = host_tx_packets
        self.irq_errors: list[BaseException] = []
        self.truncated_notifications = 0
        self.enomem_count = 0
        self._active = False
        self._handler: IrqHandler | None = None
        self._values: dict[int, _Value] = {}
        self._connections: dict[int, bumble_device.Connection] = {}
        self._advertising = False
        self._adv_data = b""
        self._resp_data = b""
        self._mtu = DEFAULT_MTU
        self._addr_mode = ADDR_MODE_PUBLIC
        self._bond = False
        self._mitm = False
        self._le_secure = False
        self._io = IO_NO_INPUT_OUTPUT
        self._rxbuf = 1024
        self._commands: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        device.gatt_server.max_mtu = self._mtu
        device.pairing_config_factory = self._pairing_config
        device.on(device.EVENT_CONNECTION, self._on_connection)

    # Event dispatch -------------------------------------------------------------------

    def dispatch(self, event: int, data: tuple[Any, ...]) -> Any:
        """Call the registered handler as the ESP32 port does: synchronously, in-stack.

        A handler that raises is reported (MicroPython prints it and carries on); the
        rig re-raises collected errors from the firmware loop so tests cannot miss one.
        """
        handler = self._handler
        if handler is None or not self._active:
            return None
        try:
            return handler(event, data)
        except Exception as e:
            logger.exception("exception in the bluetooth IRQ handler (event %d)", event)
            self.irq_errors.append(e)
            return None
        finally:
            # As on the board, `addr` and friends are only valid during the handler: a
            # firmware that keeps one without copying it gets an error, not stale bytes.
            for item in data:
                if isinstance(item, memoryview):
                    with contextlib.suppress(BufferError):
                        item.release()

    def _on_connection(self, connection: bumble_device.Connection) -> None:
        if connection.role != hci.Role.PERIPHERAL or not self._active:
            return
        self._advertising = False  # the controller stops advertising on a connection
        handle = connection.handle
        self._connections[handle] = connection
        connection.on(
            connection.EVENT_DISCONNECTION,
            lambda reason: self._on_disconnection(connection, reason),
        )
        connection.on(
            connection.EVENT_CONNECTION_ATT_MTU_UPDATE,
            lambda: self.dispatch(IRQ_MTU_EXCHANGED, (handle, connection.att_mtu)),
        )
        connection.on(
            connection.EVENT_CONNECTION_PARAMETERS_UPDATE,
            lambda: self._on_parameters(connection),
        )
        connection.on(
            connection.EVENT_CONNECTION_ENCRYPTION_CHANGE,
            lambda *_: self._on_encryption(connection),
        )
        self.dispatch(IRQ_CENTRAL_CONNECT, (handle, *_addr(connection.peer_address)))

    def _on_disconnection(self, connection: bumble_device.Connection, reason: int) -> None:
        if self._connections.pop(connection.handle, None) is None:
            return
        self.dispatch(
            IRQ_CENTRAL_DISCONNECT, (connection.handle, *_addr(connection.peer_address))
        )

    def _on_parameters(self, connection: bumble_device.Connection) -> None:
        p = connection.parameters
        self.dispatch(
            IRQ_CONNECTION_UPDATE,
            (
                connection.handle,
                round(p.connection_interval / 1.25),
                p.peripheral_latency,
                round(p.supervision_timeout / 10),
                0,
            ),
        )

    def _on_encryption(self, connection: bumble_device.Connection) -> None:
        bonded = self._bond and connection.authenticated
        self.dispatch(
            IRQ_ENCRYPTION_UPDATE,
            (
                connection.handle,
                bool(connection.encryption),
                bool(connection.authenticated),
                bonded,
                16 if connection.encryption else 0,
            ),
        )

    def _pairing_config(self, connection: bumble_device.Connection) -> pairing.PairingConfig:
        return pairing.PairingConfig(
            sc=self._le_secure,
            mitm=self._mitm,
            bonding=self._bond,
            delegate=pairing.PairingDelegate(
                io_capability=pairing.PairingDelegate.IoCapability(self._io)
            ),
        )

    # Stack commands that take time run in order on one worker -------------------------

    def _submit(self, command: Callable[[], Awaitable[None]]) -> None:
        self._commands.put_nowait(command)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while not self._commands.empty():
            command = self._commands.get_nowait()
            try:
                await command()
            except Exception as e:  # a stack failure must surface, not vanish
                logger.exception("bluetooth stack command failed")
                self.irq_errors.append(e)

    async def settle(self) -> None:
        """Wait until every queued stack command (advertise, disconnect...) is done."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    # Configuration --------------------------------------------------------------------

    def _check_active(self) -> None:
        if not self._active:
            raise OSError(errno.ENODEV, "BLE not active")

    def active(self, state: bool | None = None, /) -> bool:
        if state is None:
            return self._active
        if state and not self._active:
            self._active = True
        elif not state and self._active:
            for connection in list(self._connections.values()):
                self._submit(_disconnect(connection))
            self._connections.clear()
            if self._advertising:
                self._advertising = False
                self._submit(self.device.stop_advertising)
            self._active = False
        return self._active

    def config(self, *args: str, **kwargs: Any) -> Any:
        if args and kwargs:
            raise TypeError("config takes a name or keywords, not both")
        if args:
            if len(args) != 1:
                raise TypeError("config takes one name to query")
            return self._config_get(args[0])
        for name, value in kwargs.items():
            self._config_set(name, value)
        return None

    def _config_get(self, name: str) -> Any:
        if name == "mac":
            self._check_active()
            if self._addr_mode == ADDR_MODE_PUBLIC:
                return (0, _display_bytes(self.device.public_address))
            return (1, _display_bytes(self.device.random_address))
        if name == "gap_name":
            return self.device.name.encode()
        values = {
            "mtu": self._mtu,
            "addr_mode": self._addr_mode,
            "rxbuf": self._rxbuf,
            "bond": self._bond,
            "mitm": self._mitm,
            "le_secure": self._le_secure,
            "io": self._io,
        }
        if name not in values:
            raise ValueError("unknown config param")
        return values[name]

    def _config_set(self, name: str, value: Any) -> None:
        if name == "mtu":
            mtu = int(value)
            if not att.ATT_DEFAULT_MTU <= mtu <= 517:
                raise OSError(errno.EINVAL, "mtu out of range")
            self._mtu = mtu
            self.device.gatt_server.max_mtu = mtu
        elif name == "gap_name":
            name_bytes = value if isinstance(value, bytes | bytearray) else str(value).encode()
            self.device.name = bytes(name_bytes).decode()
            for attribute in self.device.gatt_server.attributes:
                if attribute.type == _DEVICE_NAME_UUID and isinstance(
                    attribute, gatt.Characteristic
                ):
                    attribute.value = bytes(name_bytes)
        elif name == "addr_mode":
            if value not in (ADDR_MODE_PUBLIC, ADDR_MODE_RANDOM):
                raise ValueError("addr_mode: only public (0) and static random (1)")
            self._addr_mode = int(value)
        elif name == "rxbuf":
            self._rxbuf = int(value)
        elif name == "bond":
            self._bond = bool(value)
        elif name == "mitm":
            self._mitm = bool(value)
        elif name == "le_secure":
            self._le_secure = bool(value)
        elif name == "io":
            self._io = int(pairing.PairingDelegate.IoCapability(value))
        else:
            raise ValueError("unknown config param")

    def irq(self, handler: IrqHandler | None, /) -> None:
        self._handler = handler

    # GAP ------------------------------------------------------------------------------

    def gap_advertise(
        self,
        interval_us: int | None,
        adv_data: Any = None,
        *,
        resp_data: Any = None,
        connectable: bool = True,
    ) -> None:
        self._check_active()
        if adv_data is not None:
            self._adv_data = _buffer(adv_data)
        if resp_data is not None:
            self._resp_data = _buffer(resp_data)
        if len(self._adv_data) > MAX_ADV_DATA or len(self._resp_data) > MAX_ADV_DATA:
            raise OSError(errno.EINVAL, "advertising data longer than 31 bytes")
        if interval_us is None:
            if self._advertising:
                self._advertising = False
                self._submit(self.device.stop_advertising)
            return
        interval_ms = max(interval_us, 20000) / 1000.0
        kind = (
            bumble_device.AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE
            if connectable
            else bumble_device.AdvertisingType.UNDIRECTED_SCANNABLE
        )
        own = (
            hci.OwnAddressType.PUBLIC
            if self._addr_mode == ADDR_MODE_PUBLIC
            else hci.OwnAddressType.RANDOM
        )
        adv, resp = self._adv_data, self._resp_data

        async def start() -> None:
            await self.device.start_advertising(
                advertising_type=kind,
                own_address_type=own,
                advertising_data=adv,
                scan_response_data=resp,
                advertising_interval_min=interval_ms,
                advertising_interval_max=interval_ms,
            )

        self._advertising = True
        self._submit(start)

    def gap_disconnect(self, conn_handle: int, /) -> bool:
        self._check_active()
        connection = self._connections.get(conn_handle)
        if connection is None:
            return False
        self._submit(_disconnect(connection))
        return True

    # GATT server ----------------------------------------------------------------------

    def gatts_register_services(
        self, services_definition: Sequence[tuple[Any, ...]], /
    ) -> tuple[tuple[int, ...], ...]:
        self._check_active()
        if self._advertising or self._connections:
            raise OSError(errno.EBUSY, "stop advertising and disconnect first")
        device = self.device
        device.gatt_server = bumble_gatt_server.Server(device)
        device.gatt_server.max_mtu = self._mtu
        device.add_default_services()
        self._values = {}
        per_service: list[list[_Value]] = []
        for service_uuid, characteristics in services_definition:
            slots: list[_Value] = []
            bumble_chars: list[gatt.Characteristic[bytes]] = []
            for definition in characteristics:
                char_uuid, flags = definition[0], definition[1]
                descriptors = definition[2] if len(definition) > 2 else ()
                value = _Value(self, flags)
                slots.append(value)
                bumble_descs: list[gatt.Descriptor] = []
                for desc_uuid, desc_flags in descriptors:
                    desc_value = _Value(self, desc_flags)
                    slots.append(desc_value)
                    bumble_descs.append(
                        gatt.Descriptor(
                            UUID(desc_uuid).bumble,
                            _permissions(desc_flags),
                            gatt.CharacteristicValue(read=desc_value.read, write=desc_value.write),
                        )
                    )
                bumble_chars.append(
                    gatt.Characteristic(
                        UUID(char_uuid).bumble,
                        _properties(flags),
                        _permissions(flags),
                        gatt.CharacteristicValue(read=value.read, write=value.write),
                        bumble_descs,
                    )
                )
            device.add_service(gatt.Service(UUID(service_uuid).bumble, bumble_chars))
            per_service.append(slots)
            # Handles are known once the service is in the database.
            _assign_handles(slots, bumble_chars)
        for slots in per_service:
            for slot in slots:
                self._values[slot.handle] = slot
        return tuple(tuple(slot.handle for slot in slots) for slots in per_service)

    def _value(self, value_handle: int) -> _Value:
        value = self._values.get(value_handle)
        if value is None:
            raise OSError(errno.ENOENT, "unknown value handle")
        return value

    def gatts_read(self, value_handle: int, /) -> bytes:
        self._check_active()
        value = self._value(value_handle)
        data = value.data
        if value.append:
            value.data = b""
        return data

    def gatts_write(
        self, value_handle: int, data: Any, send_update: bool = False, /
    ) -> None:
        self._check_active()
        value = self._value(value_handle)
        raw = _buffer(data)
        value.data = raw
        value.capacity = max(value.capacity, len(raw))
        if send_update:
            for conn_handle, connection in self._connections.items():
                attribute = _attribute(self, value)
                if not isinstance(attribute, gatt.Characteristic):
                    continue
                cccd = self.device.gatt_server.read_cccd(connection, attribute)
                if cccd[0] & 0x01:
                    self.gatts_notify(conn_handle, value_handle)
                elif cccd[0] & 0x02:
                    self.gatts_indicate(conn_handle, value_handle)

    def gatts_set_buffer(self, value_handle: int, len: int, append: bool = False, /) -> None:
        self._check_active()
        value = self._value(value_handle)
        value.capacity = len
        value.append = bool(append)
        value.data = value.data[:len]

    def _connection(self, conn_handle: int) -> bumble_device.Connection:
        connection = self._connections.get(conn_handle)
        if connection is None:
            raise OSError(errno.ENOTCONN, "not connected")
        return connection

    def gatts_notify(self, conn_handle: int, value_handle: int, data: Any = None, /) -> None:
        self._check_active()
        connection = self._connection(conn_handle)
        value = self._value(value_handle)
        payload = value.data if data is None else _buffer(data)
        room = connection.att_mtu - 3
        if len(payload) > room:
            payload = payload[:room]
            self.truncated_notifications += 1
        pdu = bytes(
            att.ATT_Handle_Value_Notification(
                attribute_handle=value_handle, attribute_value=payload
            )
        )
        self._reserve_tx(conn_handle, len(pdu))
        self.device.send_l2cap_pdu(conn_handle, att.ATT_CID, pdu)

    def _reserve_tx(self, conn_handle: int, pdu_len: int) -> None:
        """Refuse (ENOMEM) when the stack holds no room for this PDU's ACL packets."""
        queue = self.device.host.get_data_packet_queue(conn_handle)
        if queue is None:
            raise OSError(errno.ENOTCONN, "not connected")
        l2cap_len = pdu_len + 4
        packets = -(-l2cap_len // queue.max_packet_size)
        if queue.pending + packets > queue.max_in_flight + self.host_tx_packets:
            self.enomem_count += 1
            raise OSError(errno.ENOMEM, "out of buffers")

    def gatts_indicate(self, conn_handle: int, value_handle: int, data: Any = None, /) -> None:
        self._check_active()
        connection = self._connection(conn_handle)
        value = self._value(value_handle)
        payload = value.data if data is None else _buffer(data)
        attribute = _attribute(self, value)
        self._reserve_tx(conn_handle, len(payload) + 3)

        async def indicate() -> None:
            status = 0
            try:
                await self.device.gatt_server.indicate_subscriber(
                    connection, attribute, payload, force=True
                )
            except (TimeoutError, bumble_core.BaseBumbleError):
                status = errno.ETIMEDOUT
            if conn_handle in self._connections:
                self.dispatch(IRQ_GATTS_INDICATE_DONE, (conn_handle, value_handle, status))

        asyncio.get_running_loop().create_task(indicate())

    # GATT client: only the MTU exchange a peripheral may start -----------------------

    def gattc_exchange_mtu(self, conn_handle: int, /) -> None:
        self._check_active()
        connection = self._connection(conn_handle)
        mtu = self._mtu

        async def exchange() -> None:
            await connection.gatt_client.request_mtu(mtu)

        self._submit(exchange)


def _assign_handles(slots: list[_Value], chars: list[gatt.Characteristic[bytes]]) -> None:
    """Values in definition order: each characteristic, then its declared descriptors.

    The stack's own CCCDs are not in `descriptors` and, as on MicroPython, get no slot.
    """
    it = iter(slots)
    for char in chars:
        next(it).handle = char.handle
        for desc in char.descriptors:
            next(it).handle = desc.handle


def _attribute(ble: BLE, value: _Value) -> att.Attribute[Any]:
    attribute = ble.device.gatt_server.get_attribute(value.handle)
    if attribute is None:
        raise OSError(errno.ENOENT, "unknown value handle")
    return attribute


def _disconnect(connection: bumble_device.Connection) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        # Already gone: the disconnect IRQ (or its absence) says so.
        with contextlib.suppress(bumble_core.BaseBumbleError):
            await connection.disconnect()

    return run


def _display_bytes(address: hci.Address) -> bytes:
    """MicroPython shows addresses most significant byte first (display order)."""
    return bytes(reversed(bytes(address)))


def _addr(address: hci.Address) -> tuple[int, memoryview]:
    kind = 0 if address.is_public else 1
    return kind, memoryview(_display_bytes(address))


class BluetoothModule:
    """Stands in for the `bluetooth` module of one board: `BLE()`, `UUID`, `FLAG_*`."""

    FLAG_READ: Final = FLAG_READ
    FLAG_WRITE_NO_RESPONSE: Final = FLAG_WRITE_NO_RESPONSE
    FLAG_WRITE: Final = FLAG_WRITE
    FLAG_NOTIFY: Final = FLAG_NOTIFY
    FLAG_INDICATE: Final = FLAG_INDICATE
    UUID = UUID

    def __init__(self, device: bumble_device.Device, host_tx_packets: int = 8) -> None:
        self._ble = BLE(device, host_tx_packets)

    def BLE(self) -> BLE:
        return self._ble
