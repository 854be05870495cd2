"""The USB serial link behind the async `Transport` interface.

`SerialLink` (pyserial, blocking) is read in a thread that hands whole frames to the
event loop; writes go through a worker thread, so the loop never blocks on the port.
Unplugging the belt ends the reader with `LinkLost`; `connect` opens the port again
once it is back (a client retries with backoff).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from levelbelt.errors import LinkError
from levelbelt.transports.serial_link import DEFAULT_BAUD, SerialLink
from levelbelt.transports.transport import FrameInbox, LinkLost


class SerialTransport:
    def __init__(self, port: str, baud: int = DEFAULT_BAUD) -> None:
        self.port = port
        self.baud = baud
        self._link: SerialLink | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._inbox = FrameInbox()
        self._lost = False
        self.connects = 0

    @property
    def uri(self) -> str:
        return f"serial:{self.port}"

    @property
    def connected(self) -> bool:
        return self._link is not None and not self._lost

    async def connect(self) -> None:
        if self.connected:
            return
        await self.disconnect()
        self._link = await asyncio.to_thread(SerialLink, self.port, self.baud)
        self._lost = False
        self._stop = threading.Event()
        loop = asyncio.get_running_loop()
        self._reader = threading.Thread(
            target=self._read, args=(self._link, self._stop, loop), name=self.uri, daemon=True
        )
        self._reader.start()
        self.connects += 1

    def _read(
        self, link: SerialLink, stop: threading.Event, loop: asyncio.AbstractEventLoop
    ) -> None:
        while not stop.is_set():
            try:
                frames = link.read_frames()
            except LinkError:
                self._post(loop, self._mark_lost)
                return
            if frames:
                self._post(loop, lambda f=frames: self._inbox.extend(f))

    @staticmethod
    def _post(loop: asyncio.AbstractEventLoop, callback: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while we were reading
            loop.call_soon_threadsafe(callback)  # type: ignore[arg-type]

    def _mark_lost(self) -> None:
        self._lost = True
        self._inbox.wake()

    def _check_up(self) -> None:
        if self._lost or self._link is None:
            raise LinkLost(f"{self.uri}: the port went away")

    async def receive(self) -> list[bytes]:
        return await self._inbox.take(self._check_up)

    async def send(self, frame: bytes) -> None:
        link = self._link
        if link is None or self._lost:
            raise LinkLost(f"{self.uri}: not connected")
        try:
            await asyncio.to_thread(link.send_frame, frame)
        except LinkError as e:
            self._lost = True
            raise LinkLost(str(e)) from None

    async def disconnect(self) -> None:
        link, reader = self._link, self._reader
        self._link = self._reader = None
        self._stop.set()
        if reader is not None:
            await asyncio.to_thread(reader.join, 2.0)
        if link is not None:
            link.close()
        self._inbox.clear()
