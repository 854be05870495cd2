"""MicroPython `bluetooth` (ESP32), corrected where micropython-esp32-stubs 1.27.0.post1 is wrong.

A stub in `typings/` replaces the whole module, so this is the complete BLE surface the
ESP32 build exposes, written from docs.micropython.org/en/v1.27.0/library/bluetooth.html.
Fixed versus the upstream stub: handles are ints (not memoryview); `gap_advertise` accepts
`adv_data=` by keyword; `gatts_notify`/`gatts_indicate` take `conn_handle` first and an
optional payload; `gatts_set_buffer` takes a value handle; `irq` returns None.
"""

from typing import Any, Callable, Final, overload

from _mpy_shed import AnyReadableBuf
from typing_extensions import TypeAlias

FLAG_READ: Final[int] = 0x0002
FLAG_WRITE_NO_RESPONSE: Final[int] = 0x0004
FLAG_WRITE: Final[int] = 0x0008
FLAG_NOTIFY: Final[int] = 0x0010
FLAG_INDICATE: Final[int] = 0x0020

class UUID:
    def __init__(self, value: int | str | AnyReadableBuf, /) -> None: ...

_Flag: TypeAlias = int
_Descriptor: TypeAlias = tuple[UUID, _Flag]
_Characteristic: TypeAlias = (
    tuple[UUID, _Flag] | tuple[UUID, _Flag, tuple[_Descriptor, ...]]
)
_Service: TypeAlias = tuple[UUID, tuple[_Characteristic, ...]]

class BLE:
    def __init__(self) -> None: ...
    @overload
    def active(self) -> bool: ...
    @overload
    def active(self, active: bool, /) -> bool: ...
    @overload
    def config(self, param: str, /) -> Any: ...
    @overload
    def config(self, **kwargs: Any) -> None: ...
    def irq(self, handler: Callable[[int, Any], Any], /) -> None: ...
    def gap_advertise(
        self,
        interval_us: int | None,
        adv_data: AnyReadableBuf | None = None,
        *,
        resp_data: AnyReadableBuf | None = None,
        connectable: bool = True,
    ) -> None: ...
    def gap_scan(
        self,
        duration_ms: int | None,
        interval_us: int = 1280000,
        window_us: int = 11250,
        active: bool = False,
        /,
    ) -> None: ...
    def gap_connect(
        self,
        addr_type: int,
        addr: AnyReadableBuf,
        scan_duration_ms: int = 2000,
        min_conn_interval_us: int | None = None,
        max_conn_interval_us: int | None = None,
        /,
    ) -> None: ...
    def gap_disconnect(self, conn_handle: int, /) -> bool: ...
    def gap_pair(self, conn_handle: int, /) -> None: ...
    def gap_passkey(self, conn_handle: int, action: int, passkey: int, /) -> None: ...
    def gatts_register_services(
        self, services_definition: tuple[_Service, ...] | list[_Service], /
    ) -> tuple[tuple[int, ...], ...]: ...
    def gatts_read(self, value_handle: int, /) -> bytes: ...
    def gatts_write(
        self, value_handle: int, data: AnyReadableBuf, send_update: bool = False, /
    ) -> None: ...
    def gatts_notify(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf | None = None, /
    ) -> None: ...
    def gatts_indicate(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf | None = None, /
    ) -> None: ...
    def gatts_set_buffer(self, value_handle: int, len: int, append: bool = False, /) -> None: ...
    def gattc_discover_services(self, conn_handle: int, uuid: UUID | None = None, /) -> None: ...
    def gattc_discover_characteristics(
        self, conn_handle: int, start_handle: int, end_handle: int, uuid: UUID | None = None, /
    ) -> None: ...
    def gattc_discover_descriptors(
        self, conn_handle: int, start_handle: int, end_handle: int, /
    ) -> None: ...
    def gattc_read(self, conn_handle: int, value_handle: int, /) -> None: ...
    def gattc_write(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf, mode: int = 0, /
    ) -> None: ...
    def gattc_exchange_mtu(self, conn_handle: int, /) -> None: ...
