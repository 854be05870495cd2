"""One belt kept connected over any transport, with a sample log that has no silent gaps.

    client = BeltClient(open_transport("ble:LevelBelt-1A2B"), key=load_key("LevelBelt-1A2B"),
                        on_samples=log.samples, on_gap=log.gap, on_frame=live.feed)
    task = asyncio.create_task(client.run())     # until client.stop()
    ack = await client.command(p.CMD_SET_STANCE, bytes([1]))
    await client.set_mount("-x+y")               # the clip worn another way round

What it does on top of the transport:

* **Reconnect with backoff.** A lost link (or a failed connect) is retried after 0.25 s,
  doubling to at most 4 s (each wait jittered by +-10 % so several belts do not retry in
  step); a working connection resets the wait. `connect` re-subscribes.
* **Keep-alive.** The belt streams continuously, so silence means trouble: after
  `keepalive_s` without a frame the client asks for STATUS (traffic that also keeps an
  OS from idling the link), and after `dead_s` it drops the link and reconnects.
* **No silent gaps.** `Coverage` tracks which sample indices were logged. A jump in the
  index (after a reconnect, or a FIFO overflow on the belt) is a hole; the client asks
  the belt to RESEND it from its ring (about 30 s deep) and logs what comes back. What
  the belt no longer has is reported once through `on_gap(first, count)`: the log
  records it as a gap and nothing is ever interpolated. A belt that rebooted (its index
  went back) ends the old boot: its open holes become gaps and `on_reset` is called.
* **Authenticated commands.** COMMAND frames carry the HMAC tag and counter
  (command_auth.py). BAD_AUTH raises `KeyMismatch` with what to do about it; REPLAY
  moves the counter above the belt's and tries once more.
* **Figures for the UI** in `stats`: samples expected / logged / lost, loss %,
  connects, reconnects, recovery time, RSSI and MTU where the transport knows them.

Samples reach `on_samples` once each, live or resent, as SampleBatch slices; every
other frame goes to `on_frame`; `on_payload` sees every frame as received (raw bytes,
e.g. for `LiveBelt.feed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from levelbelt import protocol as p
from levelbelt.command_auth import CommandCounter, sign_command
from levelbelt.coverage import Coverage
from levelbelt.errors import LinkError
from levelbelt.mount import set_mount_args
from levelbelt.transports.transport import LinkLost, Transport

MAX_RESEND: Final = 0xFFFF  # RESEND count is a u16
RESEND_QUIET_S: Final = 1.0  # a RESEND with no resent sample for this long is over
RESEND_ATTEMPTS: Final = 3  # unanswered RESENDs for one hole before it is a gap
# A belt back after an outage must have counted on by about the time it was away (its
# IMU clock and the host's agree to a few %); one that counted much less rebooted.
CLOCK_TOLERANCE: Final = 0.05
RECOUNT_SLACK_S: Final = 2.0
DEFAULT_RATE_HZ: Final = 100  # until the belt's INFO says otherwise


class KeyMismatch(LinkError):
    """The belt refused the command tag: this host's key is not the belt's."""


class CommandRefused(LinkError):
    """The belt answered a command with a status other than OK."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


STATUS_TEXT: Final = {
    p.ST_BAD_AUTH: "BAD_AUTH",
    p.ST_REPLAY: "REPLAY",
    p.ST_OUT_OF_RANGE: "OUT_OF_RANGE",
    p.ST_UNKNOWN_COMMAND: "UNKNOWN_COMMAND",
    p.ST_BAD_LENGTH: "BAD_LENGTH",
    p.ST_MOVING: "MOVING",
    p.ST_UNAVAILABLE: "UNAVAILABLE",
}


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.25
    factor: float = 2.0
    max_s: float = 4.0
    jitter: float = 0.1

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_s, self.first_s * self.factor ** min(attempt, 32))
        return base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


@dataclass
class ClientStats:
    """What the UI shows about the link; all counts since the client started."""

    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    frames: int = 0
    frames_bad: int = 0
    samples_expected: int = 0
    samples_logged: int = 0
    samples_lost: int = 0  # declared gaps: the belt no longer had them
    samples_resent: int = 0
    resend_requests: int = 0
    resets: int = 0  # belt reboots seen
    key_refused: bool = False  # the belt answered BAD_AUTH: this host's key is wrong
    recoveries_s: list[float] = field(default_factory=list)  # link lost -> streaming again
    rssi_dbm: int | None = None
    mtu: int | None = None
    last_error: str | None = None

    @property
    def loss_percent(self) -> float:
        return 100.0 * self.samples_lost / self.samples_expected if self.samples_expected else 0.0

    @property
    def mean_recovery_s(self) -> float:
        return sum(self.recoveries_s) / len(self.recoveries_s) if self.recoveries_s else 0.0


SamplesCallback = Callable[[p.SampleBatch], None]
GapCallback = Callable[[int, int], None]
FrameCallback = Callable[[p.Frame], None]


def _slice(batch: p.SampleBatch, start: int, end: int) -> p.SampleBatch:
    a, b = start - batch.first_index, end - batch.first_index
    if a == 0 and b == batch.count:
        return batch
    raw = batch.raw[a:b] if batch.raw is not None else None
    return p.SampleBatch(
        batch.seq, start, batch.tilt_cdeg[a:b], batch.obl_cdeg[a:b], raw, batch.resent
    )


class BeltClient:
    def __init__(
        self,
        transport: Transport,
        *,
        key: bytes | None = None,
        name: str | None = None,
        on_samples: SamplesCallback | None = None,
        on_gap: GapCallback | None = None,
        on_frame: FrameCallback | None = None,
        on_reset: Callable[[], None] | None = None,
        on_payload: Callable[[bytes], None] | None = None,
        backoff: Backoff | None = None,
        keepalive_s: float = 2.0,
        dead_s: float = 5.0,
        command_timeout_s: float = 3.0,
        counter: CommandCounter | None = None,
        seed: int | None = None,
    ) -> None:
        self.transport = transport
        self.key = key
        self.name = name or transport.uri
        self.on_samples = on_samples
        self.on_gap = on_gap
        self.on_frame = on_frame
        self.on_reset = on_reset
        self.on_payload = on_payload
        self.backoff = backoff or Backoff()
        self.keepalive_s = keepalive_s
        self.dead_s = dead_s
        self.command_timeout_s = command_timeout_s
        self.counter = counter or CommandCounter()
        self.decoder = p.Decoder()
        self.coverage = Coverage()
        self.stats = ClientStats()
        self.state = "idle"
        self.info: p.Info | None = None
        self.status: p.Status | None = None
        self._rng = random.Random(seed)
        self._stopping = asyncio.Event()
        self._command_lock = asyncio.Lock()
        self._ack: asyncio.Future[p.Ack] | None = None
        self._ack_command = -1
        self._resend_event: asyncio.Future[p.Event] | None = None
        self._resend_progress = asyncio.Event()
        self._holes_changed = asyncio.Event()
        self._lost_at: float | None = None
        self._last_live_s: float | None = None  # when the newest live batch arrived
        self._away: tuple[float, int] | None = None  # (last live time, frontier) at a loss
        self._side_tasks: list[asyncio.Task[None]] = []
        self._resend_failures = 0
        self._past_expected = 0  # expected / logged / lost of earlier boots
        self._past_logged = 0
        self._past_lost = 0

    # Running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until `stop()`; never raises for link trouble (see stats)."""
        loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while not self._stopping.is_set():
                self.state = "connecting"
                try:
                    await self.transport.connect()
                except LinkError as e:
                    self.stats.connect_failures += 1
                    self.stats.last_error = str(e)
                    await self._pause(self.backoff.delay(attempt, self._rng))
                    attempt += 1
                    continue
                attempt = 0
                self.stats.connects += 1
                if self.stats.connects > 1:
                    self.stats.reconnects += 1
                self.state = "connected"
                self._refresh_link_figures()
                try:
                    await self._connected()
                except LinkLost as e:
                    self.stats.last_error = str(e)
                if self._lost_at is None:
                    self._lost_at = loop.time()
                    if self._last_live_s is not None and self.coverage.frontier is not None:
                        self._away = (self._last_live_s, self.coverage.frontier)
                self.state = "lost"
                with contextlib.suppress(LinkError):
                    await self.transport.disconnect()
        finally:
            self.state = "stopped"
            with contextlib.suppress(LinkError):
                await self.transport.disconnect()

    async def stop(self) -> None:
        self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _connected(self) -> None:
        """Receive and fill holes until the link is lost (LinkLost) or `stop()`."""
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._receive()),
            loop.create_task(self._fill_holes()),
            loop.create_task(self._stopping.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [*tasks, *self._side_tasks]:
                task.cancel()
            await asyncio.gather(*tasks, *self._side_tasks, return_exceptions=True)
            self._side_tasks.clear()
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        asked = False
        while True:
            try:
                async with asyncio.timeout(self.keepalive_s):
                    frames = await self.transport.receive()
            except TimeoutError:
                silent = loop.time() - quiet_since
                if silent >= self.dead_s:
                    raise LinkLost(f"{self.name}: no data for {silent:.1f} s") from None
                if not asked and self.key is not None:
                    asked = True
                    self._side_tasks.append(loop.create_task(self._keepalive()))
                continue
            quiet_since = loop.time()
            asked = False
            for data in frames:
                self._handle(data)

    async def _keepalive(self) -> None:
        with contextlib.suppress(LinkError):  # a lost link shows up in _receive
            await self.command(p.CMD_GET_STATUS)

    # Frames ---------------------------------------------------------------------------

    def _handle(self, data: bytes) -> None:
        self.stats.frames += 1
        if self.on_payload is not None:
            self.on_payload(data)
        frame = self.decoder.decode(data)
        self.stats.frames_bad = self.decoder.frames_bad
        if frame is None:
            return
        if isinstance(frame, p.SampleBatch):
            self._samples(frame)
            return
        if isinstance(frame, p.Ack):
            self._on_ack(frame)
        elif isinstance(frame, p.Event) and frame.kind == p.EV_RESEND:
            if self._resend_event is not None and not self._resend_event.done():
                self._resend_event.set_result(frame)
        elif isinstance(frame, p.Info):
            self.info = frame
        elif isinstance(frame, p.Status):
            self.status = frame
            self._check_reboot(frame.last_index)
        if self.on_frame is not None:
            self.on_frame(frame)

    def _samples(self, batch: p.SampleBatch) -> None:
        if self._lost_at is not None and not batch.resent:
            self.stats.recoveries_s.append(asyncio.get_running_loop().time() - self._lost_at)
            self._lost_at = None
        if not batch.resent:
            self._check_reboot(batch.first_index + batch.count - 1)
            self._last_live_s = asyncio.get_running_loop().time()
        cov = self.coverage
        holes_before = len(cov.holes)
        fresh = cov.add(batch.first_index, batch.count)
        if batch.resent:
            self.stats.samples_resent += sum(b - a for a, b in fresh)
            self._resend_progress.set()
        if len(cov.holes) != holes_before or cov.holes:
            self._holes_changed.set()
        self._update_counts()
        if self.on_samples is not None:
            for start, end in fresh:
                self.on_samples(_slice(batch, start, end))

    def _check_reboot(self, newest: int) -> None:
        """A live index below what was logged means the belt started counting again; so
        does the first one after an outage that is far below where a belt that kept
        running would be by now (a reboot while away, its index already past the old
        one: asking it for the old boot's missing range would log other samples)."""
        cov = self.coverage
        away, self._away = self._away, None
        if cov.frontier is None:
            return
        if newest >= cov.frontier - 1 and not self._counted_again(newest, away):
            return
        for start, end in cov.close(cov.first or 0, cov.frontier):
            self._declare_gap(start, end)
        self._past_expected += cov.expected
        self._past_logged += cov.logged
        self._past_lost += cov.gap_samples
        self.coverage = Coverage()
        self.stats.resets += 1
        self._update_counts()
        if self.on_reset is not None:
            self.on_reset()

    def _counted_again(self, newest: int, away: tuple[float, int] | None) -> bool:
        if away is None:
            return False
        last_live_s, frontier = away
        rate = self.info.rate_hz if self.info is not None else DEFAULT_RATE_HZ
        elapsed = asyncio.get_running_loop().time() - last_live_s
        least = frontier + (elapsed * (1.0 - CLOCK_TOLERANCE) - RECOUNT_SLACK_S) * rate
        return newest < least

    def _declare_gap(self, start: int, end: int) -> None:
        if self.on_gap is not None and end > start:
            self.on_gap(start, end - start)

    def _update_counts(self) -> None:
        cov = self.coverage
        self.stats.samples_expected = self._past_expected + cov.expected
        self.stats.samples_logged = self._past_logged + cov.logged
        self.stats.samples_lost = self._past_lost + cov.gap_samples

    def _refresh_link_figures(self) -> None:
        self.stats.rssi_dbm = getattr(self.transport, "rssi", None)
        self.stats.mtu = getattr(self.transport, "mtu", None)

    # RESEND ---------------------------------------------------------------------------

    async def _fill_holes(self) -> None:
        """Ask for the oldest hole, log what comes back, give up on what does not."""
        while True:
            cov = self.coverage
            if not cov.holes:
                self._holes_changed.clear()
                await self._holes_changed.wait()
                continue
            start, end = cov.holes[0]
            end = min(end, start + MAX_RESEND)
            if (self.key is None or self.stats.key_refused
                    or self._resend_failures >= RESEND_ATTEMPTS):
                # The belt cannot be asked (no key or the wrong one, or it never
                # answers): a gap now.
                self._resend_failures = 0
                self._give_up(start, end)
                continue
            try:
                await self._resend(start, end)
                self._resend_failures = 0
            except LinkLost:
                raise
            except KeyMismatch:
                continue  # the key will not start working: the hole is a gap (above)
            except (LinkError, TimeoutError) as e:
                self.stats.last_error = str(e) or "RESEND got no answer"
                self._resend_failures += 1
                await asyncio.sleep(RESEND_QUIET_S)

    def _give_up(self, start: int, end: int) -> None:
        for a, b in self.coverage.close(start, end):
            self._declare_gap(a, b)
        self._update_counts()

    async def _resend(self, start: int, end: int) -> None:
        loop = asyncio.get_running_loop()
        self._resend_event = loop.create_future()
        self.stats.resend_requests += 1
        args = start.to_bytes(4, "little") + (end - start).to_bytes(2, "little")
        try:
            await self.command(p.CMD_RESEND, args)
        except CommandRefused as e:
            if e.status == p.ST_UNAVAILABLE:  # one still running on the belt
                await asyncio.sleep(RESEND_QUIET_S)
                return
            raise
        event = await asyncio.wait_for(self._resend_event, self.command_timeout_s)
        # Everything before the first sample the belt still has is gone.
        self._give_up(start, event.onset_index if event.value else end)
        # Resent frames follow; the RESEND is over when none came for a while.
        while True:
            self._resend_progress.clear()
            try:
                await asyncio.wait_for(self._resend_progress.wait(), RESEND_QUIET_S)
            except TimeoutError:
                break
        self._give_up(start, end)

    # Commands -------------------------------------------------------------------------

    def _on_ack(self, ack: p.Ack) -> None:
        future = self._ack
        if future is not None and not future.done() and ack.command == self._ack_command:
            future.set_result(ack)

    async def command(self, command: int, args: bytes = b"") -> p.Ack:
        """Send one authenticated command and wait for its ACK (status OK)."""
        if self.key is None:
            raise KeyMismatch(
                f"{self.name}: no command key for this belt on this host; put the belt on "
                "USB and run `levelbelt device provision`"
            )
        async with self._command_lock:
            for attempt in range(2):
                ack = await self._exchange(command, args)
                if ack.status == p.ST_OK:
                    return ack
                if ack.status == p.ST_REPLAY and attempt == 0:
                    self.counter.resync(ack.counter)
                    continue
                if ack.status == p.ST_BAD_AUTH:
                    error = KeyMismatch(
                        f"{self.name}: the belt refused this host's command key (BAD_AUTH); "
                        "the key stored here is not the one on the belt. Put the belt on "
                        "USB and run `levelbelt device provision` again"
                    )
                    self.stats.key_refused = True
                    self.stats.last_error = str(error)
                    raise error
                text = STATUS_TEXT.get(ack.status, str(ack.status))
                raise CommandRefused(f"{self.name}: command refused ({text})", ack.status)
            raise CommandRefused(f"{self.name}: command refused (REPLAY)", p.ST_REPLAY)

    async def set_mount(self, mount: str) -> p.Ack:
        """Tell the belt how the clip is worn: `mount` as for `levelbelt analyze --mount`
        (the sensor axis pointing right, then the one pointing up, e.g. "-x+y").

        A malformed text is a `ConfigError` before anything is sent. The belt keeps the
        mount over reboots and drops the neutrals captured with the old one: its next
        CALIBRATION says `neutral_needed` until a CAPTURE_NEUTRAL. Refusals raise
        `CommandRefused` (OUT_OF_RANGE, or UNAVAILABLE when its flash cannot keep it).
        """
        return await self.command(p.CMD_SET_MOUNT, set_mount_args(mount))

    async def _exchange(self, command: int, args: bytes) -> p.Ack:
        assert self.key is not None
        loop = asyncio.get_running_loop()
        self._ack = loop.create_future()
        self._ack_command = command
        frame = sign_command(self.key, command, self.counter.take(), args)
        try:
            await self.transport.send(frame)
            return await asyncio.wait_for(self._ack, self.command_timeout_s)
        except TimeoutError:
            raise LinkError(
                f"{self.name}: no answer to a command within {self.command_timeout_s:g} s"
            ) from None
        finally:
            self._ack = None
