"""A drill plan run live on one belt: the engine on belt time, the session file, scores.

Everything here runs in the link's reader thread as frames arrive (a `LiveBelt`
listener): the engine advances on the time of the newest sample, its stance, cue and
capture requests go to the belt at once, and every sample, belt event and engine event
goes into the session file. A busy screen therefore never delays a phase change, a
command or the file. The screen reads `snapshot()` and calls pause / resume / skip /
abort / mark from its own thread; a lock keeps the engine consistent.

Session time is 0 at the sample where the plan starts; the engine, the file's events
and the scores all use it. A range the link could not recover (`LinkGap`) is written to
the file as a gap; a belt that reboots mid-session (`BeltRestarted`: its index starts
again) ends the session there, aborted and saved, since its sample clock no longer
continues the session's. Scores are recomputed in a background thread after every
hold (the running per-side figures) and once more at the end, when they are written
to the file with the summary.

A file that cannot be created, or a disk that fails mid-session (full, removed), stops
the recording but never the drill, the scores or the link: the file keeps what was
written, and `SessionView.error` says why the session is not (fully) saved.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt import protocol as p
from levelbelt.engine import (
    STANCE_LEFT,
    STANCE_RIGHT,
    CaptureNeutral,
    Cue,
    Done,
    DrillEngine,
    EngineEvent,
    EngineSnapshot,
    PhaseEnded,
    SetStance,
    event_to_json,
)
from levelbelt.errors import LevelBeltError
from levelbelt.feeds import BeltFeed
from levelbelt.live import BeltRestarted, LinkGap, LiveItem
from levelbelt.plans import ExpandedPlan
from levelbelt.scoring import (
    DropEvent,
    Gap,
    ScoringConfig,
    SessionScores,
    sample_holes,
    score_session,
)
from levelbelt.session import (
    SessionMeta,
    SessionWriter,
    calibration_json,
    detector_json,
    firmware_text,
)
from levelbelt.weaker_side import Side

SIDE_NAMES: dict[int, Side] = {1: "left", 2: "right"}
DetectorFor = Callable[[str, str], tuple[int, int, int]]
"""(exercise, stance side) -> (threshold 0.01°, dwell ms, release 0.01°)."""


def plan_json(plan: ExpandedPlan) -> dict[str, Any]:
    """What the header says about the plan as the engine ran it."""
    return {
        "name": plan.plan.name,
        "source": plan.plan.source,
        "description": plan.plan.description,
        "weaker": plan.weaker.side,
        "weaker_source": plan.weaker.source,
        "asymmetry_pct": plan.plan.asymmetry_pct,
        "holds": len(plan.holds),
        "phases": len(plan.phases),
        "notes": list(plan.notes),
    }


@dataclass(frozen=True)
class SessionView:
    """What the screen needs from a running session, in one immutable object."""

    engine: EngineSnapshot
    started: bool
    t_s: float  # session time of the newest sample (0 before the start)
    scores: SessionScores | None  # latest running (or final) scores
    final: bool  # True once the final scores are in the file
    path: Path | None
    message: str
    error: str | None = None
    """Why the session is not (fully) saved: the file could not be created or written."""


class _Samples:
    """Session-time samples for scoring, grown in chunks (no per-sample objects)."""

    def __init__(self) -> None:
        self._chunks: list[NDArray[np.float64]] = []

    def add(self, t: NDArray[np.float64], tilt: NDArray[np.float64],
            obl: NDArray[np.float64]) -> None:
        self._chunks.append(np.stack([t, tilt, obl]))

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """t, tilt, obliquity in time order, each sample once (resent ones included)."""
        if not self._chunks:
            empty = np.zeros(0, dtype=np.float64)
            return empty, empty, empty
        if len(self._chunks) > 1:
            a = np.concatenate(self._chunks, axis=1)
            _, first = np.unique(a[0], return_index=True)
            self._chunks = [a[:, first]]
        a = self._chunks[0]
        return a[0], a[1], a[2]


class LiveSession:
    def __init__(
        self,
        feed: BeltFeed,
        plan: ExpandedPlan,
        *,
        athlete: str,
        out_dir: Path | None,
        detector_for: DetectorFor | None = None,
        start_at_s: float | None = None,
        created: datetime | None = None,
    ) -> None:
        """`start_at_s`: belt time (index / rate) to start at by itself; else `start()`.

        `created`: the session's creation time for the file (default: when it starts).
        """
        self.feed = feed
        self.plan = plan
        self.athlete = athlete
        self.out_dir = out_dir
        self.detector_for = detector_for
        self.created = created
        self.engine = DrillEngine(plan)
        self._scoring_config = ScoringConfig(asymmetry_pct=plan.plan.asymmetry_pct)
        holds = [ph for ph in plan.phases if ph.kind == "hold"]
        self._set_ends = {max(ph.index for ph in holds if ph.block == b)  # each block's
                          for b in {ph.block for ph in holds}}            # last hold
        self._lock = threading.RLock()
        self._start_at_s = start_at_s
        self._armed = False
        self._origin: int | None = None
        self._rate = feed.live.rate_hz
        self._now_index = -1
        self.writer: SessionWriter | None = None
        self._samples = _Samples()
        self._events: list[EngineEvent] = []
        self._drops: list[DropEvent] = []
        self._pending_cue: tuple[float, float, Side] | None = None
        self._exercise = ""
        self._scores: SessionScores | None = None
        self._final = False
        self._scoring = threading.Lock()
        self.message = ""
        self.cues: list[int] = []
        self._status: p.Status | None = None
        self._calibration: p.Calibration | None = None
        self._firmware: tuple[int, int, int] | None = None
        self._boot_over = False  # the belt rebooted during the session
        self._save_error: str | None = None
        self._closed = False
        feed.live.listeners.append(self.on_frame)

    # -- called by the screen -----------------------------------------------------------

    def start(self) -> None:
        """Start the plan at the next sample that arrives."""
        with self._lock:
            if self.engine.state == "ready":
                self._armed = True
                self.message = "starting"

    def _now_s(self) -> float:
        if self._origin is None:
            return 0.0
        return (self._now_index - self._origin) / self._rate

    def pause(self) -> None:
        self._control(self.engine.pause)

    def resume(self) -> None:
        self._control(self.engine.resume)

    def skip(self) -> None:
        self._control(self.engine.skip)

    def abort(self) -> None:
        self._control(self.engine.abort)

    def _control(self, action: Callable[[float], list[EngineEvent]]) -> None:
        with self._lock:
            if self._origin is None:
                return
            self._apply(action(self._now_s()))

    def mark(self, kind: str, note: str = "", index: int | None = None) -> None:
        """A coach marker (good / bad / note) at the belt's sample `index` (a note is
        stamped when the coach started typing it), else at the newest sample."""
        with self._lock:
            self._record(lambda w: w.append_event("coach", {"type": "marker", "kind": kind,
                                                            "note": note}, index=index))

    def snapshot(self) -> SessionView:
        """The session now. Also writes out samples a stalled link has left waiting, so
        the file stays within a second of what arrived (the screen calls this often)."""
        with self._lock:
            self._record(lambda w: w.poll())
            return SessionView(self.engine.snapshot(), self._origin is not None,
                               self._now_s(), self._scores, self._final,
                               self.writer.path if self.writer else None, self.message,
                               self._save_error)

    def close(self) -> None:
        """Stop listening; an unfinished session keeps what it has (no summary)."""
        with self._lock:
            if self.on_frame in self.feed.live.listeners:
                self.feed.live.listeners.remove(self.on_frame)
            self._record(lambda w: w.abandon())
            self._closed = True

    def _record(self, write: Callable[[SessionWriter], None]) -> None:
        """One write to the open session file, if there is one. A failure stops the
        recording (the file keeps what it had) and is reported, never raised: the
        drill, the scores and the link go on."""
        w = self.writer
        if w is None or self._final or self._closed or self._save_error is not None:
            return
        try:
            write(w)
        except LevelBeltError as e:
            self._save_error = f"recording stopped: {e}; the file keeps what was written"
            self.message = self._save_error
            with contextlib.suppress(LevelBeltError):
                w.abandon()

    # -- called in the reader thread ---------------------------------------------------

    def on_frame(self, frame: LiveItem) -> None:
        with self._lock:
            if self._boot_over:
                return  # a later boot's samples are not this session's
            if isinstance(frame, p.SampleBatch):
                self._on_samples(frame)
            elif isinstance(frame, p.Event):
                self._on_event(frame)
            elif isinstance(frame, p.Status):
                self._status = frame
            elif isinstance(frame, p.Calibration):
                self._calibration = frame
            elif isinstance(frame, p.Info):
                self._firmware = frame.firmware
                self._rate = frame.rate_hz
            elif isinstance(frame, LinkGap):
                self._on_gap(frame)
            elif isinstance(frame, BeltRestarted):
                self._on_restart()

    def _on_gap(self, gap: LinkGap) -> None:
        """Samples the belt could no longer resend: an explicit gap in the file."""
        if self._origin is None or self.writer is None or self._final:
            return
        first, end = max(gap.first, self._origin), gap.first + gap.count
        if end > first:
            self._record(lambda w: w.append_gap(first, end))

    def _on_restart(self) -> None:
        if self._origin is None:
            self._now_index = -1  # not started: belt time simply starts again
            return
        self._boot_over = True
        self._record(lambda w: w.append_event("client", {"type": "belt_restarted"}))
        if self.engine.state in ("running", "paused"):
            self._apply(self.engine.abort(self._now_s()))
        self.message = "the belt restarted: the session ends here"

    def _t(self, index: int) -> float:
        assert self._origin is not None
        return (index - self._origin) / self._rate

    def _on_samples(self, b: p.SampleBatch) -> None:
        last = b.first_index + b.count - 1
        self._now_index = max(self._now_index, last)
        if self._origin is None:
            first = self._start_index(b)
            if first is None:
                return
            self._begin(first)
            b = _tail(b, first)
        assert self._origin is not None
        if b.first_index + b.count <= self._origin:
            return  # resent samples from before the session
        b = _tail(b, self._origin)
        tail = b
        self._record(lambda w: w.append_samples(tail))
        idx = np.arange(b.first_index, b.first_index + b.count, dtype=np.float64)
        self._samples.add((idx - self._origin) / self._rate, b.tilt_cdeg / 100.0,
                          b.obl_cdeg / 100.0)
        if self.engine.state in ("running", "paused"):
            # The newest sample is "now" (resent samples fill the past, never move time).
            self._apply(self.engine.advance(self._now_s()))

    def _start_index(self, b: p.SampleBatch) -> int | None:
        """Index in `b` where the plan starts, or None (not yet)."""
        if self._armed:
            return int(b.first_index)
        if self._start_at_s is None:
            return None
        at = math.ceil(self._start_at_s * self._rate - 1e-9)
        last = b.first_index + b.count - 1
        if last < at:
            return None
        return max(at, int(b.first_index))

    def _begin(self, origin: int) -> None:
        self._origin = origin
        if self.out_dir is not None:
            meta = SessionMeta(
                athlete=self.athlete, belt=self.feed.label, rate_hz=self._rate,
                firmware=firmware_text(self._firmware) if self._firmware else None,
                calibration=calibration_json(self._calibration) if self._calibration else None,
                detector=detector_json(self._status) if self._status else None,
                plan=plan_json(self.plan),
                extra={"link": self.feed.link_kind},
            )
            try:
                self.writer = SessionWriter.create(self.out_dir, meta, origin_index=origin,
                                                   created=self.created)
            except LevelBeltError as e:
                self._save_error = f"session not saved: {e}"
        self._apply(self.engine.start(0.0))
        self.message = f"session started: {self.plan.plan.name}" + \
            (f"; {self._save_error}" if self._save_error else "")

    def _on_event(self, e: p.Event) -> None:
        if self._origin is None or e.index < self._origin:
            return
        self._record(lambda w: w.append_belt_event(e))
        t = self._t(e.index)
        if e.kind == p.EV_CALIBRATED:
            self._apply(self.engine.neutral_captured(max(t, self._now_s()), e.side))
        elif e.kind == p.EV_MOVING:
            self._apply(self.engine.neutral_refused(max(t, self._now_s())))
        elif e.kind == p.EV_DROP_CUE and e.side in SIDE_NAMES:
            self._pending_cue = (self._t(e.onset_index), t, SIDE_NAMES[e.side])
        elif e.kind == p.EV_DROP_END and self._pending_cue is not None:
            onset, cue, side = self._pending_cue
            self._drops.append(DropEvent(onset, side, e.value / 100.0, cue, t))
            self._pending_cue = None

    # -- engine actions -----------------------------------------------------------------

    def _apply(self, events: list[EngineEvent]) -> None:
        for ev in events:
            self._events.append(ev)
            self._log(ev)
            try:
                if isinstance(ev, SetStance):
                    self._send_stance(ev.stance)
                elif isinstance(ev, Cue):
                    self.cues.append(ev.pattern)
                    self.feed.cue(ev.pattern)
                elif isinstance(ev, CaptureNeutral):
                    self.feed.capture_neutral(ev.position_code)
            except LevelBeltError as err:
                self.message = f"belt command failed: {err}"
            if isinstance(ev, PhaseEnded) and ev.kind == "hold":
                self._hold_ended(ev)
                self._score_async(final=False)
            elif isinstance(ev, Done):
                self._pending_cue = None
                self._score_async(final=True)

    def _hold_ended(self, ev: PhaseEnded) -> None:
        """Every hold's samples go to the file now; at the end of a set (a plan block)
        they are also forced to the disk, so a power cut loses at most the set."""
        set_end = ev.index in self._set_ends
        self._record(lambda w: w.flush(sync=set_end))

    def _log(self, ev: EngineEvent) -> None:
        self._record(lambda w: w.append_event("engine", event_to_json(ev), t_s=ev.t_s))

    def _send_stance(self, stance: int) -> None:
        """The phase's detector settings (per exercise and stance side), then the stance."""
        phase = self.engine.phase
        exercise = phase.block_kind.replace("_", "-") if phase is not None else ""
        if self.detector_for is not None and exercise and exercise != self._exercise:
            self._exercise = exercise
            for code, side in ((STANCE_LEFT, "left"), (STANCE_RIGHT, "right")):
                thr, dwell, rel = self.detector_for(exercise, side)
                self.feed.set_detector(thr, dwell, rel, code)
        self.feed.set_stance(stance)

    # -- scores -------------------------------------------------------------------------

    def _score_async(self, final: bool) -> None:
        t, tilt, obl = self._samples.arrays()
        args = (t.copy(), tilt.copy(), obl.copy(), tuple(self._events), tuple(self._drops),
                tuple(sample_holes(t, self._rate)), final)
        threading.Thread(target=self._score, args=args, name="scoring", daemon=True).start()

    def _score(self, t: NDArray[np.float64], tilt: NDArray[np.float64],
               obl: NDArray[np.float64], events: tuple[EngineEvent, ...],
               drops: tuple[DropEvent, ...], gaps: tuple[Gap, ...], final: bool) -> None:
        with self._scoring:  # one at a time, in order: the final result lands last
            scores = score_session(t, tilt, obl, events, rate_hz=self._rate, drops=drops,
                                   gaps=gaps, config=self._scoring_config)
            with self._lock:
                if self._final:
                    return
                self._scores = scores
                if not final:
                    return
                self._record(lambda w: _finish(w, scores))
                self._final = True
                if self._save_error is not None:
                    self.message = self._save_error
                elif self.writer is not None and self.writer.complete:
                    self.message = f"session saved: {self.writer.path}"
                else:
                    self.message = "session done (not saved)"


def _finish(w: SessionWriter, scores: SessionScores) -> None:
    """The final scores, then the summary as the file's last line."""
    for rec in scores.records():
        w.append_score(str(rec["scope"]), rec)
    w.close(summary=scores.summary.to_json())


def _tail(b: p.SampleBatch, first: int) -> p.SampleBatch:
    """The samples of `b` from index `first` on."""
    k = first - b.first_index
    if k <= 0:
        return b
    raw = b.raw[k:] if b.raw is not None else None
    return p.SampleBatch(b.seq, first, b.tilt_cdeg[k:], b.obl_cdeg[k:], raw)
