"""Append-only session writer: private from creation, never overwrites, survives kills.

Every record reaches the operating system as one whole line in one `os.write`, so a
process killed at any moment leaves complete lines plus at most one partial last line.
Samples wait in one preallocated block of at most a second (`rate_hz` rows) and are
written when the block is full, when the index jumps, when they have waited
`flush_interval_s`, and on `flush()` (which the owner calls at every set end and which
also fsyncs). Events, gaps and scores are written at once. Memory does not grow with
the length of the session.
"""

from __future__ import annotations

import binascii
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np

from levelbelt import __version__
from levelbelt import protocol as p
from levelbelt.errors import LevelBeltError
from levelbelt.session import records as r
from levelbelt.session.meta import SessionMeta, belt_event_json

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
FLUSH_INTERVAL_S: Final = 1.0
_MAX_NAME_TRIES: Final = 1000


class SessionExistsError(LevelBeltError):
    """The session file already exists; session files are never overwritten."""


class SessionWriteError(LevelBeltError):
    """The session file could not be written (disk full, removed medium, closed writer)."""


def _slug(text: str, fallback: str) -> str:
    """File-name-safe ASCII: 'Anna Ödegaard' -> 'Anna-Odegaard'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_text).strip("-")[:32].strip("-")
    return slug or fallback


def _aware(when: datetime | None) -> datetime:
    """`when` with its time zone (local time for a naive or missing one)."""
    when = when or datetime.now()
    return when if when.tzinfo is not None else when.astimezone()


def session_file_name(meta: SessionMeta, created: datetime, attempt: int = 0) -> str:
    """`YYYYmmdd-HHMMSS-<athlete>-<belt>.lbs`, with `-2`, `-3`, ... for later attempts."""
    stem = "-".join((
        created.strftime("%Y%m%d-%H%M%S"),
        _slug(meta.athlete, "athlete"),
        _slug(meta.belt, "belt"),
    ))
    return f"{stem}-{attempt + 1}{r.SUFFIX}" if attempt else f"{stem}{r.SUFFIX}"


class SessionWriter:
    """Writes one session file. Thread-safe: a link thread can append samples while the
    drill engine's thread appends events."""

    def __init__(
        self,
        path: Path,
        meta: SessionMeta,
        *,
        created: datetime | None = None,
        origin_index: int | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create `path` (O_CREAT|O_EXCL, mode 0600) and write the header line.

        t_s = 0 is at `origin_index` (default: the first sample appended).
        """
        if flush_interval_s <= 0:
            raise ValueError("flush_interval_s must be positive")
        self.path = Path(path)
        self.meta = meta
        self.created = _aware(created)
        self._clock = clock
        self._t_open = clock()
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        rate = meta.rate_hz
        self._rate = rate
        self._block = np.empty((rate, 8), dtype="<i2")
        self._block_n = 0
        self._block_first = 0
        self._block_layout = r.LAYOUT_SAMPLES
        self._block_since = 0.0
        self._seq = 0
        self._epoch = 0
        self._origin: int | None = origin_index
        self._timebase_written = False
        self._epoch_t0_s = 0.0
        self._last_index: int | None = None
        self._last_sample_h = self._t_open
        self._samples = 0
        self._blocks = 0
        self._events = 0
        self._scores = 0
        self._gaps = 0
        self._fd: int | None = None
        self.complete = False
        try:
            self._fd = os.open(
                self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC,
                FILE_MODE,
            )
        except FileExistsError:
            raise SessionExistsError(
                f"{self.path}: already exists; session files are never overwritten"
            ) from None
        except OSError as e:
            raise SessionWriteError(f"{self.path}: cannot create: {e.strerror}") from None
        header = {
            "k": r.K_HEADER,
            "format": r.FORMAT,
            "schema": r.SCHEMA,
            "created": self.created.isoformat(timespec="seconds"),
            "writer": f"levelbelt {__version__}",
            "athlete": meta.athlete,
            "belt": meta.belt,
            "firmware": meta.firmware,
            "rate_hz": rate,
            "calibration": meta.calibration,
            "detector": meta.detector,
            "plan": meta.plan,
            "units": r.UNITS,
            "extra": dict(meta.extra),
        }
        with self._lock:
            self._write_record(header)
            if origin_index is not None:
                self._write_timebase(origin_index)

    @classmethod
    def create(
        cls,
        directory: Path,
        meta: SessionMeta,
        *,
        created: datetime | None = None,
        **kwargs: Any,
    ) -> SessionWriter:
        """A new file in `directory` under a name no file has yet. A missing `directory`
        is made 0700, and so is every missing folder above it (`mkdir -p` would make
        those with the umask's mode); existing folders are left as they are."""
        directory = Path(directory)
        try:
            missing = [d for d in (directory, *directory.parents) if not d.exists()]
            for d in reversed(missing):
                d.mkdir(mode=DIR_MODE, exist_ok=True)
        except OSError as e:
            raise SessionWriteError(f"{directory}: cannot create directory: {e.strerror}") \
                from None
        when = _aware(created)
        for attempt in range(_MAX_NAME_TRIES):
            try:
                return cls(directory / session_file_name(meta, when, attempt), meta,
                           created=when, **kwargs)
            except SessionExistsError:
                continue
        raise SessionWriteError(f"{directory}: no free session file name for {when}")

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    # -- appending ------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def last_index(self) -> int | None:
        """Device index of the newest sample appended in the current epoch."""
        return self._last_index

    def append_samples(self, batch: p.SampleBatch) -> None:
        """Add one decoded batch; writes out the block when it is due."""
        n = batch.count
        if n == 0:
            return
        first = int(batch.first_index)
        if first < 0:
            raise ValueError(f"sample index must be >= 0, got {first}")
        layout = r.LAYOUT_TILT if batch.raw is None else r.LAYOUT_SAMPLES
        if batch.raw is not None and batch.raw.shape != (n, 6):
            raise ValueError(f"raw readings must have shape ({n}, 6), got {batch.raw.shape}")
        with self._lock:
            self._check_open()
            now = self._clock()
            if self._origin is None:
                self._origin = first
            if not self._timebase_written:
                self._write_timebase(self._origin)
            if self._block_n and (
                first != self._block_first + self._block_n or layout != self._block_layout
            ):
                self._write_block()
            done = 0
            while done < n:
                if self._block_n == 0:
                    self._block_first = first + done
                    self._block_layout = layout
                    self._block_since = now
                take = min(n - done, self._rate - self._block_n)
                rows = self._block[self._block_n : self._block_n + take]
                if batch.raw is not None:
                    rows[:, :6] = batch.raw[done : done + take]
                rows[:, 6] = batch.tilt_cdeg[done : done + take]
                rows[:, 7] = batch.obl_cdeg[done : done + take]
                self._block_n += take
                done += take
                if self._block_n == self._rate:
                    self._write_block()
            last = first + n - 1
            if self._last_index is None or last > self._last_index:
                self._last_index = last
            self._last_sample_h = now
            self._samples += n
            if self._block_n and now - self._block_since >= self._flush_interval_s:
                self._write_block()

    def poll(self) -> None:
        """Write out samples that have waited `flush_interval_s`; for owners whose stream
        may stall (a timer calls this so a silent link cannot hold samples back)."""
        with self._lock:
            if self._fd is not None and self._block_n and \
                    self._clock() - self._block_since >= self._flush_interval_s:
                self._write_block()

    def append_belt_event(self, event: p.Event) -> None:
        """An EVENT frame from the belt, stamped with its own sample index."""
        self.append_event("belt", belt_event_json(event), index=event.index)

    def append_event(
        self,
        source: str,
        data: Mapping[str, Any],
        *,
        index: int | None = None,
        t_s: float | None = None,
    ) -> None:
        """Record an event (drill phase, belt event, coach marker, reconnect ...).

        `source` says who produced it ("engine", "belt", "client", "coach"). Give the
        device `index` or the session time `t_s` it belongs to; with neither, it is
        stamped with the newest sample's index (the belt's "now").
        """
        if not isinstance(source, str) or not source:
            raise ValueError("event source must be a non-empty string")
        with self._lock:
            self._check_open()
            if index is None and t_s is None:
                index = self._last_index
            rec: dict[str, Any] = {
                "k": r.K_EVENT, "src": source, "ep": self._epoch, "i": index,
                "t_s": t_s, "h": self._host_s(), "e": dict(data),
            }
            self._write_record(rec)
            self._events += 1

    def append_gap(self, first_missing: int, end_index: int) -> None:
        """Samples first_missing .. end_index-1 of the current epoch will never arrive."""
        if not 0 <= first_missing < end_index:
            raise ValueError(f"gap needs 0 <= first < end, got {first_missing}..{end_index}")
        with self._lock:
            self._check_open()
            self._write_record({
                "k": r.K_GAP, "ep": self._epoch, "i0": first_missing, "i1": end_index,
                "h": self._host_s(),
            })
            self._gaps += 1

    def append_score(self, scope: str, data: Mapping[str, Any]) -> None:
        """A per-rep, per-hold, per-side or per-session score (opaque to the file)."""
        if scope not in r.SCORE_SCOPES:
            raise ValueError(f"score scope must be one of {', '.join(r.SCORE_SCOPES)}")
        with self._lock:
            self._check_open()
            self._write_record({"k": r.K_SCORE, "scope": scope, "s": dict(data)})
            self._scores += 1

    def belt_restarted(self) -> None:
        """The belt rebooted: its sample index starts again. Later samples belong to a new
        epoch whose t_s continues from the last sample plus the time the link was down."""
        with self._lock:
            self._check_open()
            if self._block_n:
                self._write_block()
            last_t = self._epoch_t0_s
            if self._last_index is not None and self._origin is not None:
                last_t += (self._last_index - self._origin) / self._rate
            self._epoch_t0_s = last_t + max(
                self._clock() - self._last_sample_h, 1.0 / self._rate
            )
            self._epoch += 1
            self._origin = None
            self._timebase_written = False
            self._last_index = None

    # -- flushing and closing -------------------------------------------------------

    def flush(self, sync: bool = True) -> None:
        """Write out pending samples now; with `sync`, also force them to the disk."""
        with self._lock:
            self._check_open()
            if self._block_n:
                self._write_block()
            if sync:
                self._fsync()

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """End the session cleanly: pending samples, then the summary as the last line."""
        with self._lock:
            if self._fd is None:
                return
            if self._block_n:
                self._write_block()
            stats = {
                "samples": self._samples, "blocks": self._blocks, "events": self._events,
                "scores": self._scores, "gaps": self._gaps, "epochs": self._epoch + 1,
                "host_s": self._host_s(),
            }
            self._write_record({"k": r.K_SUMMARY, "stats": stats, "s": dict(summary or {})})
            self._fsync()
            self._close_fd()
            self.complete = True

    def abandon(self) -> None:
        """Stop without a summary (the session did not end cleanly); keeps what was sent."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if self._block_n:
                    self._write_block()
                self._fsync()
            finally:
                self._close_fd()

    # -- internals (lock held) ------------------------------------------------------

    def _check_open(self) -> None:
        if self._fd is None:
            raise SessionWriteError(f"{self.path}: session already closed")

    def _host_s(self) -> float:
        return round(self._clock() - self._t_open, 3)

    def _write_timebase(self, origin: int) -> None:
        self._write_record({"k": r.K_TIME, "ep": self._epoch, "i0": origin,
                            "t0_s": round(self._epoch_t0_s, 6)})
        self._timebase_written = True

    def _write_block(self) -> None:
        n = self._block_n
        rows = self._block[:n]
        if self._block_layout == r.LAYOUT_TILT:
            rows = rows[:, 6:]
        data = binascii.b2a_base64(np.ascontiguousarray(rows).tobytes(), newline=False)
        self._block_n = 0
        self._write_record({
            "k": r.K_SAMPLES, "ep": self._epoch, "i0": self._block_first, "n": n,
            "f": self._block_layout, "h": self._host_s(), "d": data.decode("ascii"),
        })
        self._blocks += 1

    def _write_record(self, record: dict[str, Any]) -> None:
        record["q"] = self._seq
        line = r.encode_line(record)
        assert self._fd is not None
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            raise SessionWriteError(f"{self.path}: cannot write: {e.strerror}") from None
        self._seq += 1

    def _fsync(self) -> None:
        assert self._fd is not None
        try:
            os.fsync(self._fd)
        except OSError as e:
            raise SessionWriteError(f"{self.path}: cannot sync to disk: {e.strerror}") \
                from None

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
