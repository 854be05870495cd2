"""The rig: belts and hosts as Bumble devices on one simulated radio, in one event loop.

    async with BleRig() as rig:
        belt = await rig.add_peripheral()           # a board: belt.bluetooth is its module
        host = await rig.add_central()              # a PC: host.scanner_backend / client_backend
        rig.start_loop(lambda: app.service(), 5, belt.ble)   # the firmware's main loop
        ...
        await rig.outage(belt, 2.0)                 # out of range for 2 s
        await rig.drop(belt, 0.5)                   # forced disconnect, back after 0.5 s

Every part runs in the one asyncio loop (normally `clock.run`'s virtual-time loop). The
firmware's synchronous main loop is a task that calls its `service()` every few ms and
yields between calls; the stack calls the firmware's IRQ handler from its own callbacks
in between, the way ESP32 MicroPython runs BLE events (synchronously, in the stack's
context). A firmware pass is never interrupted half-way, which is kinder than the board
(where an event can land between two bytecodes): code that is correct here must still
keep its IRQ handler short and its shared state consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from bumble import device as bumble_device
from bumble import hci
from bumble.host import Host
from bumble.transport.common import AsyncPipeSink

from levelbelt.blerig.bleak_backend import BumbleClient, BumbleScanner
from levelbelt.blerig.mpy_bluetooth import BLE, BluetoothModule
from levelbelt.blerig.radio import DEFAULT_RSSI_DBM, RadioTiming, RigController, RigLink

BELT_OUI = "24:0A:C4"  # Espressif: the belt is an ESP32
HOST_OUI = "00:1A:7D"


@dataclass(frozen=True)
class CentralProfile:
    """How the host's Bluetooth stack sets up the connections it makes.

    `mtu`: the ATT MTU it offers, in the exchange it starts on connecting (unless
    `exchange_mtu` is off, or `mtu` is 23) and in answer to one the belt starts.
    `interval_ms`: the connection interval it uses unless the app asks for another.
    `supervision_timeout_ms`: how long a silent link lives before both ends drop it.
    """

    mtu: int = 247
    exchange_mtu: bool = True
    interval_ms: float = 30.0
    supervision_timeout_ms: int = 2000
    timing: RadioTiming = field(default_factory=RadioTiming)


def _static_random(public: str) -> hci.Address:
    """A static random address derived from the public one (top two bits set)."""
    first, rest = public.split(":", 1)
    return hci.Address(f"{int(first, 16) | 0xC0:02X}:{rest}")


async def _power_on(
    rig_link: RigLink, name: str, address: str, timing: RadioTiming
) -> tuple[RigController, bumble_device.Device]:
    controller = RigController(name, rig_link, address, timing)
    device = bumble_device.Device(
        name=name,
        address=_static_random(address),
        host=Host(controller, AsyncPipeSink(controller)),
    )
    await device.power_on()
    return controller, device


class Peripheral:
    """One simulated board's radio; the firmware talks to it through `bluetooth`."""

    def __init__(
        self,
        rig: BleRig,
        controller: RigController,
        device: bumble_device.Device,
        host_tx_packets: int,
    ) -> None:
        self.rig = rig
        self.controller = controller
        self.device = device
        self.bluetooth = BluetoothModule(device, host_tx_packets)

    @property
    def ble(self) -> BLE:
        return self.bluetooth.BLE()

    @property
    def address(self) -> str:
        return self.controller.public_address.to_string(with_type_qualifier=False)

    @property
    def rssi_dbm(self) -> int:
        return self.rig.link.rssi_of(self.controller)

    @rssi_dbm.setter
    def rssi_dbm(self, value: int) -> None:
        self.rig.link.rssi_dbm[id(self.controller)] = value

    def set_in_range(self, in_range: bool) -> None:
        self.rig.link.set_in_range(self.controller, in_range)


class Central:
    """One simulated host adapter, used through bleak with the backends below."""

    def __init__(
        self, controller: RigController, device: bumble_device.Device, profile: CentralProfile
    ) -> None:
        self.controller = controller
        self.device = device
        self.profile = profile
        self._scanners = 0
        self._connect_lock = asyncio.Lock()
        central = self
        self.scanner_backend: type[BumbleScanner] = type(
            "BumbleScanner", (BumbleScanner,), {"central": central}
        )
        self.client_backend: type[BumbleClient] = type(
            "BumbleClient", (BumbleClient,), {"central": central}
        )

    async def start_scanning(self, active: bool) -> None:
        self._scanners += 1
        if self._scanners == 1:
            await self.device.start_scanning(active=active, filter_duplicates=False)

    async def stop_scanning(self) -> None:
        self._scanners = max(0, self._scanners - 1)
        if self._scanners == 0 and self.device.is_scanning:
            await self.device.stop_scanning()

    async def connect(
        self, target: hci.Address, interval_ms: float | None
    ) -> bumble_device.Connection:
        """One connection attempt at a time, as a controller allows."""
        interval = interval_ms if interval_ms is not None else self.profile.interval_ms
        prefs = bumble_device.ConnectionParametersPreferences(
            connection_interval_min=interval,
            connection_interval_max=interval,
            supervision_timeout=self.profile.supervision_timeout_ms,
        )
        async with self._connect_lock:
            try:
                return await self.device.connect(
                    target,
                    connection_parameters_preferences={hci.Phy.LE_1M: prefs},
                    timeout=None,
                )
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await self.device.cancel_connection(target)  # type: ignore[no-untyped-call]
                raise


class BleRig:
    """Owns the radio and everything on it; use as `async with BleRig() as rig`."""

    def __init__(self) -> None:
        self.link = RigLink()
        self.peripherals: list[Peripheral] = []
        self.centrals: list[Central] = []
        self._loops: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> BleRig:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(raise_loop_errors=exc is None)

    async def add_peripheral(
        self,
        address: str | None = None,
        *,
        timing: RadioTiming | None = None,
        host_tx_packets: int = 8,
        rssi_dbm: int = DEFAULT_RSSI_DBM,
    ) -> Peripheral:
        """A board. `host_tx_packets`: outgoing packets its host stack can hold beyond
        the controller's buffers before `gatts_notify` fails with ENOMEM (NimBLE's
        mbuf pool; the ESP-IDF configuration sets the real number)."""
        n = len(self.peripherals) + 1
        address = address or f"{BELT_OUI}:00:{n >> 8:02X}:{n & 0xFF:02X}"
        controller, device = await _power_on(
            self.link, f"belt{n}", address, timing or RadioTiming()
        )
        peripheral = Peripheral(self, controller, device, host_tx_packets)
        peripheral.rssi_dbm = rssi_dbm
        self.peripherals.append(peripheral)
        return peripheral

    async def add_central(
        self, address: str | None = None, *, profile: CentralProfile | None = None
    ) -> Central:
        n = len(self.centrals) + 1
        address = address or f"{HOST_OUI}:00:00:{n:02X}"
        profile = profile or CentralProfile()
        controller, device = await _power_on(self.link, f"host{n}", address, profile.timing)
        device.gatt_server.max_mtu = max(profile.mtu, 23)
        central = Central(controller, device, profile)
        self.centrals.append(central)
        return central

    async def outage(self, peripheral: Peripheral, seconds: float) -> None:
        """Take a board out of range for `seconds`, then bring it back."""
        peripheral.set_in_range(False)
        try:
            await asyncio.sleep(seconds)
        finally:
            peripheral.set_in_range(True)

    async def drop(self, peripheral: Peripheral, seconds: float) -> None:
        """A forced disconnect: the board's links end now on both ends (as after a
        supervision timeout) and it stays out of range for `seconds`."""
        peripheral.set_in_range(False)
        self.link.drop(peripheral.controller)
        try:
            await asyncio.sleep(seconds)
        finally:
            peripheral.set_in_range(True)

    def start_loop(
        self, service: Callable[[], object], period_ms: float, ble: BLE | None = None
    ) -> asyncio.Task[None]:
        """Run a firmware main loop: `service()` every `period_ms`, yielding in between.

        An exception from `service` or from the board's IRQ handler ends the loop and
        is raised again by `close()` (and by awaiting the task).
        """

        async def drive() -> None:
            while True:
                service()
                if ble is not None and ble.irq_errors:
                    raise ble.irq_errors[0]
                await asyncio.sleep(period_ms / 1000.0)

        task = asyncio.get_running_loop().create_task(drive())
        self._loops.append(task)
        return task

    async def close(self, raise_loop_errors: bool = True) -> None:
        """Stop the firmware loops (re-raising the first failure) and the radios."""
        failure: BaseException | None = None
        for task in self._loops:
            if task.done() and not task.cancelled() and task.exception() is not None:
                failure = failure or task.exception()
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        for peripheral in self.peripherals:
            if peripheral.ble.irq_errors:
                failure = failure or peripheral.ble.irq_errors[0]
        if failure is not None and raise_loop_errors:
            raise failure
