"""What the connect screen offers, and opening the chosen belt. No Textual here.

Candidates: the belt used last time, the simulated belt, USB serial ports that belong
to a USB device (pyserial's list), and belts found by a Bluetooth scan
(`transports.ble_link`: name, signal, battery). A real belt, USB or Bluetooth, opens as
a `ClientFeed` (the belt client: reconnects, resends, signed commands). Opening blocks
(up to a few seconds while a belt is asked to answer), so the screen runs it in a
worker thread.

`Bluetooth` says which stack the scan and the connection use: the computer's, through
bleak's own backend, unless a bleak backend and the loop it runs on are given (the BLE
test rig's, so the whole connect path runs without an adapter).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from serial.tools import list_ports

from levelbelt.errors import LevelBeltError, LinkError
from levelbelt.feeds import BeltFeed, ClientFeed, key_name_for
from levelbelt.transports.transport import Transport
from levelbelt.tui.drill_view import DrillDriver
from levelbelt.tui.prefs import BeltRef

if TYPE_CHECKING:
    from levelbelt.transports.ble_link import BeltAdvert

SCAN_S = 4.0
SCAN_GRACE_S = 10.0  # beyond the scan itself, for a scan run on another loop


@dataclass(frozen=True)
class Bluetooth:
    """The Bluetooth stack for the connect screen (see the module docstring)."""

    scanner_backend: Any = None  # a bleak BaseBleakScanner subclass, or the OS's
    client_backend: Any = None  # a bleak BaseBleakClient subclass, or the OS's
    loop: asyncio.AbstractEventLoop | None = None  # a running loop the backends live on

    def scan(self, timeout_s: float) -> list[BeltAdvert]:
        from levelbelt.transports import ble_link

        coro = ble_link.scan(timeout_s, backend=self.scanner_backend)
        if self.loop is None:
            return asyncio.run(coro)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(
            timeout_s + SCAN_GRACE_S)

    def feed(self, ref: BeltRef) -> ClientFeed:
        """The belt client for a belt found by name, its key from this host's store."""
        key_name = key_name_for("ble", ref.name)
        if self.scanner_backend is None and self.client_backend is None and self.loop is None:
            return ClientFeed(f"ble:{ref.name}", ref.name, "ble", key_name)

        async def make() -> Transport:
            from levelbelt.transports.ble_link import BleTransport

            return BleTransport(ref.name, scanner_backend=self.scanner_backend,
                                client_backend=self.client_backend)

        return ClientFeed(make, ref.name, "ble", key_name, loop=self.loop)


SYSTEM_BLUETOOTH = Bluetooth()

SIM_REF = BeltRef("sim", "1", "simulated belt")


@dataclass(frozen=True)
class Candidate:
    ref: BeltRef
    detail: str  # second column: what it is, signal, battery
    last_used: bool = False


def usb_candidates() -> tuple[list[Candidate], int]:
    """USB serial ports, and how many other (non-USB) serial ports were left out."""
    found, hidden = [], 0
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        if port.hwid in ("", "n/a"):
            hidden += 1
            continue
        desc = port.description if port.description != "n/a" else port.hwid
        found.append(Candidate(BeltRef("usb", port.device, port.device), f"USB · {desc}"))
    return found, hidden


def candidates(last: BeltRef | None, ble: list[Candidate]) -> tuple[list[Candidate], str]:
    """Everything to offer (last used first) and a one-line summary of what was found."""
    usb, hidden = usb_candidates()
    offer = [Candidate(SIM_REF, "simulated athlete and belt, no hardware"), *usb, *ble]
    if last is not None:
        match = [c for c in offer if c.ref == last]
        rest = [c for c in offer if c.ref != last]
        first = Candidate(last, match[0].detail if match else "not found right now", True)
        offer = [first, *rest]
    parts = [f"{len(usb)} USB port{'s' if len(usb) != 1 else ''}"]
    if hidden:
        parts.append(f"{hidden} non-USB serial port{'s' if hidden != 1 else ''} not shown")
    return offer, " · ".join(parts)


def ble_candidates(timeout_s: float = SCAN_S,
                   bluetooth: Bluetooth = SYSTEM_BLUETOOTH) -> tuple[str, list[Candidate]]:
    """One Bluetooth scan as (status line, belts found); never raises."""
    try:
        from levelbelt.transports import ble_link  # noqa: F401  (bleak is importable)
    except ImportError as e:
        return f"Bluetooth: not available ({e})", []
    try:
        found = bluetooth.scan(timeout_s)
    except LevelBeltError as e:
        text = str(e)
        return (text if text.startswith("Bluetooth") else f"Bluetooth: {text}"), []
    out = []
    for b in found:
        battery = f" · battery {b.battery_percent}%" if b.battery_percent is not None else ""
        out.append(Candidate(BeltRef("ble", b.address, b.name),
                             f"Bluetooth · {b.rssi} dBm{battery}"))
    noun = "belt" if len(out) == 1 else "belts"
    return f"Bluetooth: {len(out)} {noun} in range", out


def open_feed(ref: BeltRef, bluetooth: Bluetooth = SYSTEM_BLUETOOTH,
              ) -> tuple[BeltFeed, DrillDriver | None]:
    """Connect to `ref` and wait until it answers; a `LinkError` says why not."""
    if ref.kind == "sim":
        from levelbelt.demo import DemoRig

        seed = int(ref.address) if ref.address.isdigit() else 1
        rig = DemoRig(weak_side="right", seed=seed, speed=1.0, label=ref.name).start()
        # Like a real belt: no drill until enter starts the plan (the simulated athlete
        # keeps repeating the demo's squeezes and holds meanwhile).
        return rig, None
    if ref.kind == "ble":
        feed = bluetooth.feed(ref)
    else:
        feed = ClientFeed(f"serial:{ref.address}", ref.name, ref.kind,
                          key_name_for(ref.kind, ref.name))
    try:
        feed.wait_for_belt()
    except LinkError:
        feed.stop()
        raise
    return feed, None
