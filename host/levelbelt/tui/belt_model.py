"""Everything the screens show about one belt, computed once per display tick.

`BeltModel.poll` takes the belt's latest snapshot, works out the drill phase from belt
time, updates the running per-side figures, notices new hip-drop cues and pushes the
detector settings for the phase to the belt. It returns one `BeltFrame` that any screen
(drill, coach grid, calibrate) renders without further work. No Textual here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from levelbelt.engine import STANCE_EITHER, STANCE_LEFT, STANCE_RIGHT
from levelbelt.errors import LevelBeltError
from levelbelt.feeds import BeltFeed, LinkFigures
from levelbelt.live import DropAlert, LiveSnapshot
from levelbelt.live_session import SessionView
from levelbelt.plans import POSITIONS
from levelbelt.scoring import ScoringConfig
from levelbelt.tui.drill_view import IDLE_VIEW, DrillDriver, DrillView, SessionDriver
from levelbelt.tui.prefs import DashboardPrefs, DetectorPrefs
from levelbelt.tui.tally import SideTally, Tallies

ALERT_HOLD_S = 1.5  # how long a drop alert stays up, in belt time
FLASH_HZ = 4.0  # alert flash rate, in belt time (so a paused belt freezes the flash)
STALE_S = 2.0  # no frame for this long: the link is shown as lost
LEVEL_BAND_DEG = ScoringConfig().band_deg  # |obliquity| inside this counts as level
STANCE_CODES = {"either": STANCE_EITHER, "left": STANCE_LEFT, "right": STANCE_RIGHT}
MARKER_KINDS = ("good", "bad", "note")
CAPTURE_TIMEOUT_S = 10.0  # belt time without an answer before a capture counts as lost
MOUNT_WARN_DEG = 15.0  # a larger angle between measured and declared up: check the clip
AXIS_NAMES = ("accel x", "accel y", "accel z", "gyro x", "gyro y", "gyro z")
POSITION_NAMES = POSITIONS  # index: the belt's position code

# LiPo open-circuit voltage (mV) -> charge (%), a common single-cell curve.
_LIPO_MV = (3300, 3500, 3600, 3700, 3750, 3800, 3850, 3900, 4000, 4100, 4200)
_LIPO_PCT = (0, 3, 8, 20, 32, 45, 55, 65, 78, 90, 100)


def battery_pct(mv: int | None) -> int | None:
    if mv is None or mv <= 0:
        return None
    return round(float(np.interp(mv, _LIPO_MV, _LIPO_PCT)))


@dataclass(frozen=True)
class AlertView:
    side: str  # the side of the pelvis that dropped (the lower one)
    peak_deg: float
    stance: str
    flash_on: bool
    received_s: float = 0.0  # host monotonic time the belt's cue arrived


@dataclass(frozen=True)
class LinkView:
    quality: str  # "good", "fair", "poor", "lost", "waiting"
    detail: str
    samples_missing: int = 0  # lost for good where the feed knows it, else not yet seen


@dataclass(frozen=True)
class CaptureView:
    """Where the neutral capture stands: none, waiting, moving, lost or done."""

    state: str
    position: int
    detail: str
    mount_ok: bool = True


def mount_check(mount_error_cdeg: int) -> tuple[bool, str]:
    deg = mount_error_cdeg / 100.0
    if deg <= MOUNT_WARN_DEG:
        return True, f"mount OK: clip within {deg:.1f}° of its declared orientation"
    return False, (f"mount check: the clip sits {deg:.0f}° off its declared orientation; "
                   "wear it upright at the sacrum (or set the mount) and capture again")


@dataclass(frozen=True)
class Marker:
    t_s: float
    index: int
    kind: str  # good / bad / note
    note: str = ""


@dataclass(frozen=True)
class BeltFrame:
    label: str
    snap: LiveSnapshot
    t_s: float
    view: DrillView
    alert: AlertView | None
    new_alert: bool  # a cue arrived since the last frame: ring the bell now
    tallies: dict[str, SideTally]
    last_squeeze_deg: float | None
    link: LinkView
    battery_pct: int | None
    detector: DetectorPrefs
    capture: CaptureView
    message: str  # the latest status line (replaces the previous one)
    session: SessionView | None = None  # a plan run by the drill engine, if any


@dataclass
class BeltModel:
    feed: BeltFeed
    driver: DrillDriver | None
    prefs: Callable[[], DashboardPrefs]
    clock: Callable[[], float] = time.monotonic
    tallies: Tallies = field(default_factory=Tallies)
    markers: list[Marker] = field(default_factory=list)
    alert_lags_ms: list[float] = field(default_factory=list)
    message: str = ""

    def __post_init__(self) -> None:
        self._seen_cue_index = -1
        self._last_index = -1
        self._restarts = 0
        self._last_cue: tuple[DropAlert, str] | None = None
        self._applied: tuple[str, str, DetectorPrefs] | None = None
        self._prev_view: DrillView = IDLE_VIEW
        self._frame: BeltFrame | None = None
        self._capture_req: tuple[int, int, int] | None = None  # position, index, count
        self._session_message = ""
        self._command_error: str | None = None

    def reset_figures(self) -> None:
        """Fresh running figures for a new session on this belt."""
        self.tallies = Tallies()
        self.markers.clear()

    def request_capture(self, position: int) -> None:
        """Note a neutral capture just sent, so the answer can be recognised."""
        snap = self.feed.live.snapshot()
        self._capture_req = (position, snap.last_index, snap.calibrations)
        self.message = f"capturing neutral ({POSITION_NAMES[position]}): hold still"

    def _capture(self, snap: LiveSnapshot) -> CaptureView:
        req = self._capture_req
        if req is not None:
            position, index, count = req
            if snap.calibrations > count:
                self._capture_req = None
                self.message = f"neutral captured ({POSITION_NAMES[position]})"
            elif snap.moving is not None and snap.moving.index > index:
                axis = snap.moving.side
                name = AXIS_NAMES[axis] if axis < len(AXIS_NAMES) else "?"
                return CaptureView("moving", position, f"refused while moving ({name} "
                                   "changed too much): hold still, the belt tries again")
            elif (snap.last_index - index) / float(snap.rate_hz) > CAPTURE_TIMEOUT_S:
                self._capture_req = None
                self.message = "no answer to the neutral capture: press enter to retry"
                return CaptureView("lost", position, self.message)
            else:
                return CaptureView("waiting", position, "hold still: capturing neutral")
        cal = snap.calibration
        if cal is None:
            return CaptureView("none", 0, "not calibrated yet: the belt calibrates when still")
        ok, text = mount_check(cal.mount_error_cdeg)
        pos = cal.position if cal.position < len(POSITION_NAMES) else 0
        return CaptureView("done", pos, f"neutral: {POSITION_NAMES[pos]} · {text}", ok)

    @property
    def last_frame(self) -> BeltFrame | None:
        return self._frame

    def view_at(self, t_s: float, session: SessionView | None = None) -> DrillView:
        """The drill view at belt time `t_s`; `session`: the session's snapshot for this
        tick, if the driver runs one (so it is taken once per tick, not per call)."""
        if session is not None and isinstance(self.driver, SessionDriver):
            return self.driver.view(t_s, session)
        return self.driver.view(t_s) if self.driver is not None else IDLE_VIEW

    def poll(self) -> BeltFrame:
        snap = self.feed.live.snapshot()
        if snap.restarts != self._restarts:  # the belt rebooted: its index starts again
            self._restarts = snap.restarts
            self._seen_cue_index = self._last_index = -1
            self._last_cue = None
        rate = float(snap.rate_hz)
        t_s = (snap.last_index + 1) / rate if snap.last_index >= 0 else 0.0
        session = None
        if isinstance(self.driver, SessionDriver):
            session = self.driver.session.snapshot()
        view = self.view_at(t_s, session)
        capture = self._capture(snap)
        self._apply_detector(view)
        self._update_tallies(snap, view)
        new_alert = self._take_cues(snap, session)
        alert = None
        if self._last_cue is not None:
            cue, stance = self._last_cue
            since = t_s - cue.index / rate
            if since <= ALERT_HOLD_S:
                alert = AlertView(cue.side, cue.peak_deg, stance,
                                  int(since * FLASH_HZ * 2) % 2 == 0, cue.received_s)
        if session is not None and session.message != self._session_message:
            self._session_message = self.message = session.message
        refused = getattr(self.feed, "command_error", None)
        if refused and refused != self._command_error:
            self.message = f"belt command: {refused}"
        self._command_error = refused
        if self.feed.error:
            self.message = f"LINK ERROR: {self.feed.error}"
        self._prev_view = view
        self._last_index = snap.last_index
        figures = self._figures()
        self._frame = BeltFrame(
            label=self.feed.label, snap=snap, t_s=t_s, view=view, alert=alert,
            new_alert=new_alert, tallies=self.tallies.snapshot(),
            last_squeeze_deg=self.tallies.last_squeeze_deg, link=self._link(snap, figures),
            battery_pct=self._battery(snap, figures), detector=self._detector(view),
            capture=capture, message=self.message, session=session,
        )
        return self._frame

    def _detector(self, view: DrillView) -> DetectorPrefs:
        side = view.stance if view.stance in ("left", "right") else "left"
        return self.prefs().detector_for(view.exercise or "single-leg", side)

    def _apply_detector(self, view: DrillView) -> None:
        """Send the phase's detector settings when the exercise or stance changes."""
        if not view.exercise or self.driver is None or self.driver.sends_commands:
            return
        prefs = self._detector(view)
        key = (view.exercise, view.stance, prefs)
        if key == self._applied:
            return
        self._applied = key
        try:
            self.feed.set_detector(prefs.threshold_cdeg, prefs.dwell_ms, prefs.release_cdeg,
                                   STANCE_CODES.get(view.stance, 0))
        except LevelBeltError as e:
            self.message = f"detector settings not sent: {e}"

    def _update_tallies(self, snap: LiveSnapshot, view: DrillView) -> None:
        prev = self._prev_view
        if prev.kind == "work" and view.kind != "work":
            self.tallies.end_squeeze()
        if snap.last_index <= self._last_index or snap.history_t_s.size == 0:
            return
        first_new = (self._last_index + 1) / float(snap.rate_hz)
        new = snap.history_t_s >= first_new - 1e-9
        if view.detecting:
            self.tallies.add_hold(view.stance, snap.history_obl_deg[new], LEVEL_BAND_DEG)
        elif view.kind == "work":
            self.tallies.squeeze(view.side, snap.history_tilt_deg[new])

    def _take_cues(self, snap: LiveSnapshot, session: SessionView | None) -> bool:
        # LiveBelt keeps the last few drops only, so new cues are told apart by index.
        fresh = [d for d in snap.drops if not d.ended and d.index > self._seen_cue_index]
        if not fresh:
            return False
        self._seen_cue_index = fresh[-1].index
        now = self.clock()
        for cue in fresh:
            view = self.view_at(cue.index / float(snap.rate_hz), session)
            if view.detecting:
                self.tallies.add_drop(view.stance, cue.peak_deg)
            self._last_cue = (cue, view.stance)
            if cue.received_s:
                self.alert_lags_ms.append((now - cue.received_s) * 1000.0)
        return True

    def _link(self, snap: LiveSnapshot, figures: LinkFigures | None) -> LinkView:
        # With a belt client, the samples lost for good (the belt could no longer resend
        # them); those still to be resent after an outage are not counted. Otherwise the
        # holes seen so far.
        missing = figures.samples_lost if figures is not None else snap.samples_missing
        if self.feed.error:
            return LinkView("lost", self.feed.error, missing)
        if snap.last_rx_s == 0.0:
            return LinkView("waiting", "waiting for the belt", missing)
        age = self.clock() - snap.last_rx_s
        if age > STALE_S:
            return LinkView("lost", f"no data for {age:.0f} s", missing)
        note = getattr(self.feed, "link_note", None)
        text = note() if callable(note) else ""
        if figures is not None:
            missing_pct = figures.loss_percent  # the note says it when there is any
            parts = [text] if text else []
            if snap.frames_bad:
                parts.append(f"{snap.frames_bad} bad frames")
            detail = " · ".join(parts) or "no loss"
        else:
            missing_pct = 100.0 * missing / max(1, snap.last_index + 1)
            detail = (f"{missing_pct:.1f}% missing · {snap.frames_bad} bad frames"
                      if missing or snap.frames_bad else "no loss")
            if text:
                detail = f"{text} · {detail}"
        if figures is not None and figures.quality in ("fair", "poor"):
            quality = figures.quality  # the client's word also weighs the signal
        elif missing_pct < 0.5 and snap.frames_bad <= 2:
            quality = "good"
        else:
            quality = "fair" if missing_pct < 5.0 else "poor"
        return LinkView(quality, detail, missing)

    def _battery(self, snap: LiveSnapshot, figures: LinkFigures | None) -> int | None:
        """The belt's own charge curve (as its Battery Service reports) where the feed
        knows it, so the link line and the battery figure agree; else the LiPo curve."""
        if figures is not None and figures.battery_percent is not None:
            return figures.battery_percent
        return battery_pct(snap.battery_mv)

    def _figures(self) -> LinkFigures | None:
        link = getattr(self.feed, "link", None)
        figures = link() if callable(link) else None
        return figures if isinstance(figures, LinkFigures) else None

    def marker_time(self) -> tuple[float, int]:
        """(belt time, sample index) of a marker placed now: the newest frame shown."""
        snap = self._frame.snap if self._frame else self.feed.live.snapshot()
        t_s = (snap.last_index + 1) / float(snap.rate_hz) if snap.last_index >= 0 else 0.0
        return t_s, max(0, snap.last_index)

    def add_marker(self, kind: str, note: str = "",
                   at: tuple[float, int] | None = None) -> Marker:
        """A coach marker now, or `at` an earlier `marker_time()` (a note is stamped
        when the coach starts typing it, not when it is saved)."""
        if kind not in MARKER_KINDS:
            raise ValueError(f"marker kind must be one of {MARKER_KINDS}")
        t_s, index = at if at is not None else self.marker_time()
        marker = Marker(t_s, index, kind, note)
        self.markers.append(marker)
        text = f": {note}" if note else ""
        self.message = f"marker {kind.upper()} at {t_s:.1f} s{text}"
        return marker
