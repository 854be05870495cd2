"""One connected belt as the dashboard sees it: live state in, commands out.

Frames are read and decoded away from the UI into a `LiveBelt`; the UI polls snapshots
at display rate and sends commands through the same object without waiting for the
answer (a refused command shows up as `command_error`). Two kinds fit `BeltFeed`:
`DemoRig` (levelbelt.demo: the simulated athlete and belt on a pty) and `ClientFeed`,
every real belt, over Bluetooth LE or USB:

    feed = ClientFeed("ble:LevelBelt-1A2B", "LevelBelt-1A2B", "ble",
                      key_name_for("ble", "LevelBelt-1A2B"))   # or "serial:/dev/ttyUSB0"
    feed.wait_for_belt()             # a one-line LinkError if it never answers
    feed.live.snapshot()             # what every BeltFeed offers the screens
    feed.link()                      # LinkFigures: true loss, reconnects, quality, ...
    feed.set_stance(1)               # signed; a refusal lands in command_error
    feed.stop()

`ClientFeed` runs `BeltClient` (reconnects with backoff, keep-alive, RESEND of what an
outage cost, signed commands) on an asyncio loop of its own in a daemon thread, or on a
loop the caller already runs (`loop=`). The live state gets what the client logs: each
sample once, live or resent, so after an outage the screen first shows the hole and then
the samples filling it; a range the belt no longer had arrives as a `LinkGap` and a
belt reboot as `BeltRestarted` (a live session records both in its file). `link()` gives
what only the client knows: samples lost for good (not those resent), reconnects,
signal, MTU, battery, and a link quality.

The first argument is a belt URI (`ble:`, `serial:`, `sim:`, `sim+ble:`) or an async
factory that builds a transport inside the feed's loop (the BLE test rig does).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from levelbelt import keys
from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient
from levelbelt.errors import LevelBeltError, LinkError
from levelbelt.firmware import belt_module
from levelbelt.live import LiveBelt
from levelbelt.transports.transport import Transport, open_transport

TransportFactory = Callable[[], Awaitable[Transport]]

ANSWER_TIMEOUT_S: Final = {"usb": 3.0, "ble": 25.0}  # BLE: a scan, then the connection
STOP_WAIT_S: Final = 5.0
GOOD_RSSI_DBM: Final = -70  # stronger: good; down to POOR_RSSI_DBM: fair; weaker: poor
POOR_RSSI_DBM: Final = -85
FAIR_LOSS_PERCENT: Final = 0.5  # samples lost for good (not counting those resent)
POOR_LOSS_PERCENT: Final = 5.0


class BeltFeed(Protocol):
    """Optional extras the dashboard shows when a feed has them: `command_error` (the
    last refused command, one line), `link_note()` (signal, reconnects, loss) and
    `link()` (`LinkFigures`: the loss figure that does not count resent samples)."""

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


@dataclass(frozen=True)
class LinkFigures:
    """The link as the client sees it, for the link line and the coach grid."""

    state: str  # "idle", "connecting", "connected", "lost", "stopped"
    quality: str  # "waiting", "good", "fair", "poor", "lost"
    loss_percent: float  # of the samples expected, lost for good
    samples_lost: int
    samples_resent: int
    gaps: int  # explicit gaps recorded (ranges the belt no longer had)
    reconnects: int
    mean_recovery_s: float
    rssi_dbm: int | None
    mtu: int | None
    battery_percent: int | None
    key_refused: bool  # the belt refused this host's key: commands and RESEND fail


IDLE_FIGURES: Final = LinkFigures("idle", "waiting", 0.0, 0, 0, 0, 0, 0.0, None, None, None,
                                  False)


def link_quality(state: str, connects: int, rssi_dbm: int | None, loss_percent: float) -> str:
    """One word for the link: waiting (never connected), lost, or good / fair / poor by
    the signal and by what was lost for good."""
    if state != "connected":
        return "waiting" if connects == 0 else "lost"
    if loss_percent >= POOR_LOSS_PERCENT or (rssi_dbm is not None and rssi_dbm < POOR_RSSI_DBM):
        return "poor"
    if loss_percent >= FAIR_LOSS_PERCENT or (rssi_dbm is not None and rssi_dbm < GOOD_RSSI_DBM):
        return "fair"
    return "good"


def key_name_for(kind: str, name: str) -> str | None:
    """Whose key signs commands: a Bluetooth belt's own name; on USB (which cannot tell
    the name) the one belt provisioned on this host, if there is exactly one."""
    if kind == "ble":
        return name
    names = keys.stored_belts()
    return names[0] if len(names) == 1 else None


class ClientFeed:
    """A real (or simulated) belt kept connected by `BeltClient`; see the module
    docstring. `key` signs commands; without one, the key stored on this host under
    `key_name`, else a simulated transport's own `key`."""

    def __init__(
        self,
        link: str | TransportFactory,
        label: str,
        link_kind: str = "ble",
        key_name: str | None = None,
        *,
        key: bytes | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self.label = label
        self.link_kind = link_kind
        self.key_name = key_name
        self.live = LiveBelt()
        self.error: str | None = None
        self.command_error: str | None = None
        self.client: BeltClient | None = None
        self.transport: Transport | None = None
        self._key = key
        if key is None and key_name is not None:
            try:
                self._key = keys.load_key(key_name) if keys.has_key(key_name) else None
            except LevelBeltError as e:  # damaged, unreadable, or not a usable name
                self.command_error = str(e)
        self._gaps: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._stop_asked = False
        self._task: asyncio.Task[None] | None = None
        if isinstance(link, str):
            self._attach(open_transport(link))  # a bad URI fails here, in one line
            self._make: TransportFactory | None = None
        else:
            self._make = link
        self._thread: threading.Thread | None = None
        self._done: concurrent.futures.Future[None] | None = None
        if loop is None:
            self._loop = loop_factory()
            self._thread = threading.Thread(target=self._run, name=f"belt {label}",
                                            daemon=True)
            self._thread.start()
        else:
            self._loop = loop
            self._done = asyncio.run_coroutine_threadsafe(self._main(), loop)

    # -- the loop ---------------------------------------------------------------------

    def _attach(self, transport: Transport) -> None:
        self.transport = transport
        key = self._key if self._key is not None else getattr(transport, "key", None)
        client = BeltClient(transport, key=key, name=self.label,
                            on_samples=self.live.add, on_frame=self.live.add,
                            on_gap=self._gap, on_reset=self.live.restart)
        self.live.decoder = client.decoder  # frames ok / bad as the client counts them
        self.client = client

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            try:
                leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in leftovers:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        try:
            await self._serve()
        except asyncio.CancelledError:
            pass  # stopped before the client existed
        except Exception as e:  # a crashed link must reach the screen, not vanish
            self.error = f"{self.label}: link stopped ({e})"

    async def _serve(self) -> None:
        if self._make is not None:
            self._attach(await self._make())
        client, transport = self.client, self.transport
        assert client is not None and transport is not None
        if self._stop_asked:
            await client.stop()
        try:
            await client.run()
        finally:
            close = getattr(transport, "close", None)  # a simulated belt: power it off
            if close is not None:
                await close()

    def _gap(self, first: int, count: int) -> None:
        with self._lock:
            self._gaps.append((first, count))
        self.live.gap(first, count)

    # -- what the screens read --------------------------------------------------------

    @property
    def gaps(self) -> tuple[tuple[int, int], ...]:
        """(first index, count) of every range the belt could no longer resend."""
        with self._lock:
            return tuple(self._gaps)

    def link(self) -> LinkFigures:
        client = self.client
        if client is None:
            return IDLE_FIGURES
        s = client.stats
        return LinkFigures(
            state=client.state,
            quality=link_quality(client.state, s.connects, s.rssi_dbm, s.loss_percent),
            loss_percent=s.loss_percent,
            samples_lost=s.samples_lost,
            samples_resent=s.samples_resent,
            gaps=len(self.gaps),
            reconnects=s.reconnects,
            mean_recovery_s=s.mean_recovery_s,
            rssi_dbm=s.rssi_dbm,
            mtu=s.mtu,
            battery_percent=self._battery_percent(client),
            key_refused=s.key_refused,
        )

    def _battery_percent(self, client: BeltClient) -> int | None:
        """From the belt's STATUS (every second, the cell voltage through the belt's own
        curve); before the first one, the Battery Service level if the link has one."""
        status = client.status
        if status is not None and status.battery_mv > 0:
            return int(belt_module("battery").percent(status.battery_mv))
        level = getattr(self.transport, "battery_percent", None)
        return level if isinstance(level, int) else None

    def link_note(self) -> str:
        """Signal, recovery and battery for the link line."""
        f = self.link()
        parts = [f"RSSI {f.rssi_dbm} dBm"] if f.rssi_dbm is not None else []
        if f.state != "connected":
            parts.append(f.state)
        if f.reconnects:
            parts.append(f"{f.reconnects} reconnect{'s' if f.reconnects != 1 else ''}")
        if f.samples_resent:
            parts.append(f"{f.samples_resent} resent")
        if f.samples_lost:
            parts.append(f"{f.loss_percent:.1f}% lost")
        if f.battery_percent is not None:
            parts.append(f"battery {f.battery_percent}%")
        if f.key_refused:
            parts.append("key refused: run `levelbelt device provision`")
        return " · ".join(parts)

    def wait_for_belt(self, timeout_s: float | None = None) -> None:
        """Return once the belt has sent a frame; else a clear one-line `LinkError`."""
        if timeout_s is None:
            timeout_s = ANSWER_TIMEOUT_S.get(self.link_kind, 5.0)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.error:
                raise LinkError(self.error)
            if self.live.decoder.frames_ok:
                return
            client = self.client
            if self.link_kind == "usb" and client is not None and \
                    client.stats.connect_failures:
                break  # a port that cannot be opened will not open by waiting
            time.sleep(0.02)
        stats = self.client.stats if self.client is not None else None
        last = stats.last_error if stats is not None else None
        if last and stats is not None and stats.connect_failures and self.link_kind == "usb":
            raise LinkError(last)
        bad = (stats.frames_bad if stats is not None else 0) or self.live.decoder.frames_bad
        if last:
            hint = last
        elif bad:
            hint = f"{bad} damaged frames: wrong baud rate or not a LevelBelt?"
        else:
            hint = "is the belt's firmware running?"
        raise LinkError(f"no belt answered on {self.label} within {timeout_s:g} s ({hint})")

    # -- commands: sent without waiting; a refusal lands in `command_error` ------------

    def _send(self, command: int, args: bytes) -> None:
        client = self.client
        if client is None or self._loop.is_closed():
            raise LinkError(f"{self.label}: not connected")
        future = asyncio.run_coroutine_threadsafe(client.command(command, args), self._loop)
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
        """Disconnect and end the client (waits up to a few seconds)."""
        self._stop_asked = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._end)
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_S)
        elif self._done is not None:
            with contextlib.suppress(concurrent.futures.TimeoutError,
                                     concurrent.futures.CancelledError):
                self._done.result(STOP_WAIT_S)

    def _end(self) -> None:
        """In the loop: stop the client (it disconnects), or the start-up before it."""
        if self.client is not None:
            self._loop.create_task(self.client.stop())
        elif self._task is not None:
            self._task.cancel()
