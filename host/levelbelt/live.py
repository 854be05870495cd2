"""Live state of one belt, fed from a reader thread and read by the UI at display rate.

The reader calls `feed` per frame (or `add` with frames a belt client already decoded,
`gap` for a range the belt could no longer resend and `restart` when the belt rebooted);
the UI takes a `snapshot` (≤ 30 Hz) that replaces the previous one, so the UI never sees
a message per sample and never queues up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt import protocol as p
from levelbelt.firmware import belt_module

STILL_WINDOW_S = 1.0
"""Length of the belt's neutral-capture window (the pipeline's default `calib_s`)."""


@dataclass(frozen=True)
class DropAlert:
    side: str  # side of the pelvis that dropped (the lower one)
    index: int
    onset_index: int
    peak_deg: float
    ended: bool
    received_s: float = 0.0  # host monotonic clock when the event frame arrived


@dataclass(frozen=True)
class LinkGap:
    """Samples `first` .. `first + count - 1` will never arrive: the belt no longer had
    them when asked to resend (a gap to record, never to fill in)."""

    first: int
    count: int


@dataclass(frozen=True)
class BeltRestarted:
    """The belt rebooted: its sample index starts again, later samples are a new boot."""


LiveItem = p.Frame | LinkGap | BeltRestarted
"""What `LiveBelt.listeners` are called with."""


@dataclass(frozen=True)
class LiveSnapshot:
    rate_hz: int
    last_index: int
    tilt_deg: float
    obliquity_deg: float
    history_t_s: NDArray[np.float64]
    history_tilt_deg: NDArray[np.float64]
    history_obl_deg: NDArray[np.float64]
    drops: tuple[DropAlert, ...]
    calibrated: bool
    frames_ok: int
    frames_bad: int
    samples_missing: int
    firmware: tuple[int, int, int] | None
    battery_mv: int | None = None  # from the last STATUS frame
    calibration: p.Calibration | None = None  # the last CALIBRATION frame
    calibrations: int = 0  # CALIBRATED events so far (a new one means a capture finished)
    moving: p.Event | None = None  # the last MOVING event (a capture refused)
    still_s: float = 0.0  # how long the wearer has been still, by the belt's own test
    last_rx_s: float = 0.0  # host monotonic clock of the last frame (0: none yet)
    restarts: int = 0  # belt reboots seen (the index started again each time)


@dataclass
class LiveBelt:
    rate_hz: int = 100
    history_s: float = 10.0
    decoder: p.Decoder = field(default_factory=p.Decoder)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Called in the reader thread with every decoded frame, gap and restart, after the
    # state above is updated (a live drill session follows the samples here, not at
    # display rate).
    listeners: list[Callable[[LiveItem], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = int(self.history_s * self.rate_hz)
        self._idx = np.full(n, -1, dtype=np.int64)
        self._tilt = np.zeros(n, dtype=np.float64)
        self._obl = np.zeros(n, dtype=np.float64)
        self._last_index = -1
        self._missing = 0
        self._drops: list[DropAlert] = []
        self._calibrated = False
        self._firmware: tuple[int, int, int] | None = None
        self._battery_mv: int | None = None
        self._calibration: p.Calibration | None = None
        self._calibrations = 0
        self._moving: p.Event | None = None
        self._last_rx_s = 0.0
        self._restarts = 0
        # The belt's own stillness test, run on the raw samples, so the screen can show
        # how close a neutral capture is before asking for one.
        self._still: Any = belt_module("calib").StillCalibrator(
            max(1, int(STILL_WINDOW_S * self.rate_hz)))

    def feed(self, payload: bytes) -> p.Frame | None:
        """Decode one frame payload and take it in (bad frames are counted and skipped)."""
        frame = self.decoder.decode(payload)
        if frame is not None:
            self.add(frame)
        return frame

    def add(self, frame: p.Frame) -> None:
        """Take in a decoded frame. Resent samples must come once each (as a belt client
        hands them out): each one takes a sample off the missing count."""
        with self._lock:
            self._last_rx_s = time.monotonic()
            if isinstance(frame, p.SampleBatch):
                self._add_batch(frame)
            elif isinstance(frame, p.Event):
                self._add_event(frame)
            elif isinstance(frame, p.Info):
                self._firmware = frame.firmware
                self.rate_hz = frame.rate_hz
            elif isinstance(frame, p.Status):
                self._battery_mv = frame.battery_mv
            elif isinstance(frame, p.Calibration):
                self._calibration = frame
        self._tell(frame)

    def gap(self, first: int, count: int) -> None:
        """A range the belt no longer had: it stays missing, and listeners record it."""
        self._tell(LinkGap(first, count))

    def restart(self) -> None:
        """The belt rebooted: forget the old boot's history so the new one is drawn."""
        with self._lock:
            self._idx.fill(-1)
            self._last_index = -1
            self._drops.clear()
            self._still.reset()
            self._restarts += 1
        self._tell(BeltRestarted())

    def _tell(self, item: LiveItem) -> None:
        for listener in self.listeners:
            listener(item)

    def _add_batch(self, b: p.SampleBatch) -> None:
        n = b.count
        idx = np.arange(b.first_index, b.first_index + n, dtype=np.int64)
        if b.resent:
            # Resent samples fill a hole counted as missing when it opened; they are
            # only kept where no newer sample already holds the history slot.
            self._missing = max(0, self._missing - n)
        elif self._last_index >= 0 and b.first_index > self._last_index + 1:
            self._missing += b.first_index - self._last_index - 1
        self._last_index = max(self._last_index, int(idx[-1]))
        slots = idx % self._idx.size
        keep = idx > self._idx[slots]
        slots, idx = slots[keep], idx[keep]
        self._idx[slots] = idx
        self._tilt[slots] = b.tilt_cdeg[keep] / 100.0
        self._obl[slots] = b.obl_cdeg[keep] / 100.0
        if b.raw is not None and not b.resent:  # stillness is about now, not the past
            add = self._still.add
            for row in b.raw.tolist():
                add(*row)

    def _add_event(self, e: p.Event) -> None:
        if e.kind == p.EV_CALIBRATED:
            self._calibrated = True
            self._calibrations += 1
        elif e.kind == p.EV_MOVING:
            self._moving = e
        elif e.kind in (p.EV_DROP_CUE, p.EV_DROP_END):
            alert = DropAlert(
                side=p.SIDE_NAMES.get(e.side, "?"),
                index=e.index,
                onset_index=e.onset_index,
                peak_deg=e.value / 100.0,
                ended=e.kind == p.EV_DROP_END,
                received_s=self._last_rx_s,
            )
            self._drops.append(alert)
            del self._drops[:-50]

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            last = self._last_index
            valid = (self._idx >= 0) & (self._idx > last - self._idx.size)
            order = np.argsort(self._idx[valid])
            idx = self._idx[valid][order]
            tilt = self._tilt[valid][order]
            obl = self._obl[valid][order]
            k = (last % self._idx.size) if last >= 0 else 0
            return LiveSnapshot(
                rate_hz=self.rate_hz,
                last_index=last,
                tilt_deg=float(self._tilt[k]) if last >= 0 else 0.0,
                obliquity_deg=float(self._obl[k]) if last >= 0 else 0.0,
                history_t_s=idx / float(self.rate_hz),
                history_tilt_deg=tilt,
                history_obl_deg=obl,
                drops=tuple(self._drops),
                calibrated=self._calibrated,
                frames_ok=self.decoder.frames_ok,
                frames_bad=self.decoder.frames_bad,
                samples_missing=self._missing,
                firmware=self._firmware,
                battery_mv=self._battery_mv,
                calibration=self._calibration,
                calibrations=self._calibrations,
                moving=self._moving,
                still_s=self._still.count / float(self.rate_hz),
                last_rx_s=self._last_rx_s,
                restarts=self._restarts,
            )
