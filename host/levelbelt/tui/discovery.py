"""What the connect screen offers, and opening the chosen belt. No Textual here.

Candidates: the belt used last time, the simulated belt, USB serial ports that belong
to a USB device (pyserial's list), and belts found by a Bluetooth scan. Opening blocks
(up to a few seconds while a belt is asked to answer), so the screen runs it in a
worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

from levelbelt.errors import LevelBeltError, LinkError
from levelbelt.feeds import BeltFeed, ClientFeed, key_name_for
from levelbelt.tui.drill_view import DemoDriver, DrillDriver
from levelbelt.tui.prefs import BeltRef

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


def ble_candidates(timeout_s: float = 4.0) -> tuple[str, list[Candidate]]:
    """One Bluetooth scan as (status line, belts found); never raises."""
    try:
        from levelbelt.transports import ble_link
    except ImportError as e:
        return f"Bluetooth: not available ({e})", []
    try:
        found = ble_link.scan_blocking(timeout_s)
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


def open_feed(ref: BeltRef) -> tuple[BeltFeed, DrillDriver | None]:
    """Connect to `ref` and wait until it answers; a `LinkError` says why not."""
    if ref.kind == "sim":
        from levelbelt.demo import DemoRig

        seed = int(ref.address) if ref.address.isdigit() else 1
        rig = DemoRig(weak_side="right", seed=seed, speed=1.0, label=ref.name).start()
        return rig, DemoDriver()
    uri = f"serial:{ref.address}" if ref.kind == "usb" else f"ble:{ref.name}"
    feed = ClientFeed(uri, ref.name, ref.kind, key_name_for(ref.kind, ref.name))
    try:
        feed.wait_for_belt()
    except LinkError:
        feed.stop()
        raise
    return feed, None
