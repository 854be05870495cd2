"""A belt over Bluetooth LE for the dashboard: `BeltClient` in a thread, `LiveBelt` out.

    feed = BleFeed.named("LevelBelt-1A2B")   # bleak; the key from this host's key store
    feed = BleFeed.simulated()               # or the simulated belt over an in-process stack
    feed.wait_for_belt()                     # a one-line LinkError if it never answers
    feed.live.snapshot()                     # what every BeltFeed offers the screens
    feed.link()                              # LinkFigures: loss, reconnects, quality, ...
    feed.set_stance(1)                       # signed; a refusal lands in command_error
    feed.stop()

The client (reconnects with backoff, keep-alive, RESEND of what an outage cost, signed
commands) runs on an asyncio loop of its own in a daemon thread. Every frame it
receives goes to the `LiveBelt` as it arrives, the resent ones included, so after an
outage the screen first shows the gap and then the samples filling it. `link()` gives
what the client knows and the screen cannot: samples really lost (the belt no longer
had them), samples resent, reconnects, signal, MTU, battery, and a link quality.

`BleFeed(make_transport, ...)` runs any transport an async factory builds inside the
feed's loop: `sim+ble:` does, and the BLE test rig does with its virtual clock
(`loop_factory`).
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
from typing import Final

from levelbelt import keys
from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient
from levelbelt.errors import ConfigError, LevelBeltError, LinkError
from levelbelt.firmware import belt_module
from levelbelt.live import LiveBelt
from levelbelt.transports.transport import Transport

TransportFactory = Callable[[], Awaitable[Transport]]

ANSWER_TIMEOUT_S: Final = 25.0  # a scan, then the connection set-up
GOOD_RSSI_DBM: Final = -70  # stronger: good; down to POOR_RSSI_DBM: fair; weaker: poor
POOR_RSSI_DBM: Final = -85
FAIR_LOSS_PERCENT: Final = 0.5  # samples lost for good (not counting those resent)
POOR_LOSS_PERCENT: Final = 5.0


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


def stored_key(name: str) -> bytes | None:
    """This host's key for the belt named `name`, if one was provisioned."""
    try:
        return keys.load_key(name) if keys.has_key(name) else None
    except ConfigError:
        return None  # not a name a key could be stored under


class BleFeed:
    """A `BeltFeed` (levelbelt.feeds) for one belt over any transport, BLE by default."""

    link_kind = "ble"

    def __init__(
        self,
        make_transport: TransportFactory,
        label: str,
        key: bytes | None = None,
        *,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        """`key` signs commands; without one, a transport's own `key` (a simulated belt)."""
        self.label = label
        self.live = LiveBelt()
        self.error: str | None = None
        self.command_error: str | None = None
        self.client: BeltClient | None = None
        self.transport: Transport | None = None
        self._make_transport = make_transport
        self._key = key
        self._gaps: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()  # the client exists
        self._loop = loop_factory()
        self._main: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name=f"belt {label}", daemon=True)
        self._thread.start()

    @classmethod
    def named(cls, target: str, key: bytes | None = None) -> BleFeed:
        """A belt found by its advertised name (or address) with bleak."""

        async def make() -> Transport:
            from levelbelt.transports.ble_link import BleTransport

            return BleTransport(target)

        return cls(make, target, key if key is not None else stored_key(target))

    @classmethod
    def simulated(cls, seed: int = 1, label: str = "simulated belt (BLE)") -> BleFeed:
        """The simulated belt over the in-process BLE stack (`sim+ble:`): the real BLE
        path, from the firmware's peripheral to bleak, with no adapter."""

        async def make() -> Transport:
            from levelbelt.transports.sim_transport import SimBleTransport

            return SimBleTransport(seed)

        return cls(make, label)

    # -- the loop thread -------------------------------------------------------------

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._main = loop.create_task(self._serve())
            loop.run_until_complete(self._main)
        except asyncio.CancelledError:
            pass  # stopped before the client existed
        except Exception as e:  # a crashed link must reach the screen, not vanish
            self.error = f"{self.label}: link stopped ({e})"
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

    async def _serve(self) -> None:
        transport = await self._make_transport()
        self.transport = transport
        key = self._key if self._key is not None else getattr(transport, "key", None)
        self.client = BeltClient(transport, key=key, name=self.label,
                                 on_payload=self._payload, on_gap=self._gap)
        self._ready.set()
        try:
            await self.client.run()
        finally:
            close = getattr(transport, "close", None)  # a simulated belt: power it off
            if close is not None:
                await close()

    def _payload(self, data: bytes) -> None:
        self.live.feed(data)

    def _gap(self, first: int, count: int) -> None:
        with self._lock:
            self._gaps.append((first, count))

    # -- what the screens read -------------------------------------------------------

    @property
    def gaps(self) -> tuple[tuple[int, int], ...]:
        """(first index, count) of every range the belt could no longer resend."""
        with self._lock:
            return tuple(self._gaps)

    def link(self) -> LinkFigures:
        client = self.client
        if client is None:
            return LinkFigures("idle", "waiting", 0.0, 0, 0, 0, 0, 0.0, None, None, None, False)
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
        """From the belt's STATUS (every second) by the belt's own curve; else what the
        Battery Service said at connection time."""
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

    def wait_for_belt(self, timeout_s: float = ANSWER_TIMEOUT_S) -> None:
        """Return once the belt has sent a frame; else a clear one-line `LinkError`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.error:
                raise LinkError(self.error)
            if self.live.decoder.frames_ok:
                return
            time.sleep(0.02)
        last = self.client.stats.last_error if self.client is not None else None
        raise LinkError(f"no answer from {self.label} within {timeout_s:g} s"
                        + (f" ({last})" if last else ""))

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
        """Disconnect and end the thread (waits up to a few seconds)."""
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._end)
        self._thread.join(timeout=5.0)

    def _end(self) -> None:
        """In the loop: stop the client (it disconnects), or the start-up before it."""
        if self.client is not None:
            self._loop.create_task(self.client.stop())
        elif self._main is not None:
            self._main.cancel()
