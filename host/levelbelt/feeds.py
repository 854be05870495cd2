"""One connected belt as the dashboard sees it: live state in, commands out.

Frames are read and decoded in a background thread into a `LiveBelt`; the UI polls
snapshots at display rate and sends commands through the same object without waiting
for the answer (a refused command shows up as `command_error`). `DemoRig` (the
simulated belt on a pty) and `ClientFeed` (a real belt over USB or Bluetooth, through
`BeltClient`: reconnects, resends, signed commands) both fit `BeltFeed`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import struct
import threading
import time
from typing import Protocol

from levelbelt import keys
from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient
from levelbelt.errors import LevelBeltError, LinkError
from levelbelt.live import LiveBelt
from levelbelt.transports.transport import open_transport

ANSWER_TIMEOUT_S = {"usb": 3.0, "ble": 25.0}  # BLE: a scan, then the connection set-up


class BeltFeed(Protocol):
    """Optional extras the dashboard shows when a feed has them: `command_error` (the
    last refused command, one line) and `link_note()` (signal, reconnects, loss)."""

    @property
    def label(self) -> str: ...

    @property
    def link_kind(self) -> str: ...  # "sim", "usb" or "ble"

    @property
    def live(self) -> LiveBelt: ...

    @property
    def error(self) -> str | None: ...  # the link failed for good; one line for the screen

    def capture_neutral(self, position: int) -> None: ...

    def set_detector(self, threshold_cdeg: int, dwell_ms: int, release_cdeg: int,
                     stance: int, lockout_ms: int = 0) -> None: ...

    def set_stance(self, stance: int) -> None: ...

    def cue(self, pattern: int) -> None: ...

    def stop(self) -> None: ...


def key_name_for(kind: str, name: str) -> str | None:
    """Whose key signs commands: a Bluetooth belt's own name; on USB (which cannot tell
    the name) the one belt provisioned on this host, if there is exactly one."""
    if kind == "ble":
        return name
    folder = keys.belts_dir()
    names = sorted(k.stem for k in folder.glob("*.key")) if folder.is_dir() else []
    return names[0] if len(names) == 1 else None


class ClientFeed:
    """A belt over `serial:PORT` or `ble:NAME`, kept connected by `BeltClient`, whose
    asyncio loop runs in a thread of its own."""

    def __init__(self, uri: str, label: str, link_kind: str,
                 key_name: str | None = None) -> None:
        self.label = label
        self.link_kind = link_kind
        self.live = LiveBelt()
        self.error: str | None = None
        self.command_error: str | None = None
        self.key_name = key_name
        key = None
        if key_name is not None and keys.has_key(key_name):
            try:
                key = keys.load_key(key_name)
            except LevelBeltError as e:
                self.command_error = str(e)
        self.client = BeltClient(open_transport(uri), key=key, name=label,
                                 on_payload=self._payload)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"belt {label}", daemon=True)
        self._thread.start()

    def _payload(self, data: bytes) -> None:
        self.live.feed(data)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.client.run())
        except Exception as e:  # a crashed link must reach the screen, not vanish
            self.error = f"{self.label}: link stopped ({e})"
        finally:
            self._loop.close()

    def wait_for_belt(self, timeout_s: float | None = None) -> None:
        """Return once the belt has sent a frame; else a clear one-line `LinkError`."""
        timeout_s = ANSWER_TIMEOUT_S.get(self.link_kind, 5.0) if timeout_s is None \
            else timeout_s
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.error:
                raise LinkError(self.error)
            if self.live.decoder.frames_ok:
                return
            if self.link_kind == "usb" and self.client.stats.connect_failures:
                break  # a port that cannot be opened will not open by waiting
            time.sleep(0.02)
        last = self.client.stats.last_error
        bad = self.client.stats.frames_bad or self.live.decoder.frames_bad
        if last and self.client.stats.connect_failures and self.link_kind == "usb":
            raise LinkError(last)
        if last:
            hint = last
        elif bad:
            hint = f"{bad} damaged frames: wrong baud rate or not a LevelBelt?"
        else:
            hint = "is the belt's firmware running?"
        raise LinkError(f"no belt answered on {self.label} within {timeout_s:g} s ({hint})")

    def link_note(self) -> str:
        """Signal strength and what the client recovered, for the link line."""
        s = self.client.stats
        parts = [f"RSSI {s.rssi_dbm} dBm"] if s.rssi_dbm is not None else []
        if self.client.state != "connected":
            parts.append(self.client.state)
        if s.reconnects:
            parts.append(f"{s.reconnects} reconnects")
        if s.samples_lost:
            parts.append(f"{s.loss_percent:.1f}% lost")
        return " · ".join(parts)

    # -- commands: sent without waiting; a refusal lands in `command_error` --------------

    def _send(self, command: int, args: bytes) -> None:
        if self._loop.is_closed():
            raise LinkError(f"{self.label}: the link is closed")
        future = asyncio.run_coroutine_threadsafe(self.client.command(command, args),
                                                  self._loop)
        future.add_done_callback(self._answered)

    def _answered(self, future: concurrent.futures.Future[p.Ack]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, LevelBeltError):
            self.command_error = str(error)
        elif error is not None:
            self.command_error = f"{self.label}: command failed ({error})"

    def capture_neutral(self, position: int) -> None:
        self._send(p.CMD_CAPTURE_NEUTRAL, bytes([position]))

    def set_detector(self, threshold_cdeg: int, dwell_ms: int, release_cdeg: int,
                     stance: int, lockout_ms: int = 0) -> None:
        self._send(p.CMD_SET_DETECTOR, struct.pack("<HHHBH", threshold_cdeg, dwell_ms,
                                                   release_cdeg, stance, lockout_ms))

    def set_stance(self, stance: int) -> None:
        self._send(p.CMD_SET_STANCE, bytes([stance]))

    def cue(self, pattern: int) -> None:
        self._send(p.CMD_CUE, bytes([pattern]))

    def stop(self) -> None:
        if not self._loop.is_closed():
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(self.client.stop(), self._loop).result(2.0)
        self._thread.join(timeout=5.0)
