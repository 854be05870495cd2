"""Scores for a drill session: per isometric rep, per single-leg hold, per side, symmetry,
and trends across sessions. Pure numpy; the formulas and constants are in docs/scoring.md.

Inputs are the session's observed samples (t_s from the device sample index / rate,
tilt and obliquity in degrees), the drill engine's events (which give the hold windows),
the belt's drop events and the link gaps. Samples inside gaps are absent and never
interpolated: every figure uses observed samples only, and each score reports its
coverage (observed / expected samples). Everything serialises to JSON records with a
`scope` of rep, hold, side or session.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, Self, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from levelbelt.engine import (
    EngineEvent,
    Paused,
    PhaseEnded,
    PhaseStarted,
    Resumed,
    event_from_json,
)
from levelbelt.errors import RecordFormatError
from levelbelt.jsonrecord import from_record, to_record
from levelbelt.plans import DEFAULT_ASYMMETRY_PCT
from levelbelt.weaker_side import Side

F64: TypeAlias = NDArray[np.float64]
Metric: TypeAlias = Literal["stability", "activation"]
SIDES: Final[tuple[Side, Side]] = ("left", "right")


@dataclass(frozen=True)
class ScoringConfig:
    """Every constant of the formulas (docs/scoring.md says why each value)."""

    band_deg: float = 3.0
    """Single-leg holds: |obliquity| within this counts as level."""
    min_change_deg: float = 1.0
    """Isometric reps: less posterior tilt than this is `no_movement`."""
    depth_ref_deg: float = 3.0
    """Posterior tilt change that earns the full depth term."""
    steadiness_ref_deg: float = 0.5
    """Plateau SD at which the steadiness term is one half."""
    reach_fraction: float = 0.9
    """Time to reach = first time the change is this fraction of its peak."""
    baseline_s: float = 1.0
    """Rep baseline: median tilt over this long before the hold starts."""
    min_plateau_s: float = 0.5
    lowpass_s: float = 0.1
    """Centred moving average (odd number of samples) before peaks and velocities."""
    min_coverage: float = 0.5
    """Windows with fewer observed samples than this fraction are reported, not scored."""
    sway_ref_dps: float = 10.0
    """Mean obliquity velocity at which the calm term reaches zero."""
    drop_norm_s: float = 30.0
    """Drops are counted per this many seconds of hold."""
    asymmetry_pct: float = DEFAULT_ASYMMETRY_PCT
    """Flag when the weaker side is more than this far below the stronger (LSI < 85)."""

    def __post_init__(self) -> None:
        for name in ("band_deg", "min_change_deg", "depth_ref_deg", "steadiness_ref_deg",
                     "baseline_s", "lowpass_s", "sway_ref_dps", "drop_norm_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not 0 < self.reach_fraction <= 1:
            raise ValueError("reach_fraction must be in (0, 1]")
        if not 0 <= self.min_coverage <= 1:
            raise ValueError("min_coverage must be in [0, 1]")
        if not 0 <= self.asymmetry_pct < 100:
            raise ValueError("asymmetry_pct must be in [0, 100)")
        if not self.min_plateau_s >= 0:
            raise ValueError("min_plateau_s must be >= 0")

    @property
    def flag_below_lsi(self) -> float:
        return 100.0 - self.asymmetry_pct


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class DropEvent:
    """A drop the belt confirmed. side: the side of the pelvis that was lower."""

    onset_s: float
    side: Side
    peak_deg: float
    cue_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class Gap:
    """Link gap: no samples were received for start_s <= t < end_s."""

    start_s: float
    end_s: float


def sample_holes(t_s: F64, rate_hz: float) -> list[Gap]:
    """The spans with no sample between the observed times `t_s` (ascending): the link
    gaps no resend filled."""
    dt = 1.0 / rate_hz
    jumps = np.nonzero(np.diff(t_s) > 1.5 * dt)[0]
    return [Gap(float(t_s[k]) + dt, float(t_s[k + 1])) for k in jumps]


@dataclass(frozen=True)
class HoldWindow:
    """One hold as the engine ran it; paused intervals are excluded from every figure."""

    block_kind: str
    block: int
    rep: int
    side: str
    position: str
    start_s: float
    end_s: float
    outcome: str
    paused: tuple[tuple[float, float], ...] = ()

    @property
    def active_s(self) -> float:
        return max(0.0, self.end_s - self.start_s - sum(b - a for a, b in self.paused))

    def active_between(self, t0: float, t1: float) -> float:
        """Active (unpaused) time from t0 to t1 within this window."""
        a0, a1 = max(t0, self.start_s), min(t1, self.end_s)
        if a1 <= a0:
            return 0.0
        return a1 - a0 - sum(max(0.0, min(b, a1) - max(a, a0)) for a, b in self.paused)


def hold_windows(events: Iterable[EngineEvent | Mapping[str, Any]],
                 end_s: float | None = None) -> list[HoldWindow]:
    """Hold windows from the engine's events (objects or their JSON dicts), in order.

    A hold still open at the end of the events (the writer died mid-hold) closes at
    `end_s` with outcome "incomplete", or is left out when end_s is None.
    """
    out: list[HoldWindow] = []
    open_hold: PhaseStarted | None = None
    paused: list[tuple[float, float]] = []
    pause_start: float | None = None
    for raw in events:
        ev = event_from_json(raw) if isinstance(raw, Mapping) else raw
        if isinstance(ev, PhaseStarted) and ev.kind == "hold":
            open_hold, paused, pause_start = ev, [], None
        elif isinstance(ev, Paused) and open_hold is not None:
            pause_start = ev.t_s
        elif isinstance(ev, Resumed) and open_hold is not None and pause_start is not None:
            paused.append((pause_start, ev.t_s))
            pause_start = None
        elif (isinstance(ev, PhaseEnded) and open_hold is not None
              and ev.index == open_hold.index):
            out.append(_window(open_hold, ev.t_s, ev.outcome, paused, pause_start))
            open_hold = None
    if open_hold is not None and end_s is not None and end_s > open_hold.t_s:
        out.append(_window(open_hold, end_s, "incomplete", paused, pause_start))
    return out


def _window(start: PhaseStarted, end_s: float, outcome: str,
            paused: list[tuple[float, float]], pause_start: float | None) -> HoldWindow:
    if start.block_kind == "single_leg" and start.side not in ("left", "right"):
        raise RecordFormatError(f"drill event phase_started at t={start.t_s:g} s: a "
                                f"single-leg hold needs side left or right, got {start.side!r}")
    spans = list(paused)
    if pause_start is not None:
        spans.append((pause_start, end_s))
    return HoldWindow(start.block_kind, start.block, start.rep, start.side or "bilateral",
                      start.position, start.t_s, end_s, outcome, tuple(spans))


# --------------------------------------------------------------------------- outputs


class _ScopedRecord:
    """A score as the JSON record a session file stores: its fields and its `scope`."""

    scope: ClassVar[str]
    what: ClassVar[str]  # names the record in a read error

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, **to_record(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return from_record(cls, data, cls.what)


@dataclass(frozen=True)
class RepScore(_ScopedRecord):
    """An isometric rep. posterior_change_deg: baseline - tilt at its (smoothed) peak."""

    block: int
    rep: int
    side: str
    position: str
    start_s: float
    end_s: float
    outcome: str
    coverage: float
    baseline_deg: float | None
    posterior_change_deg: float | None
    time_to_reach_s: float | None
    steadiness_sd_deg: float | None
    score: float | None
    flags: tuple[str, ...]

    scope: ClassVar[str] = "rep"
    what: ClassVar[str] = "rep score"


@dataclass(frozen=True)
class HoldScore(_ScopedRecord):
    """A single-leg hold; side is the stance leg. Drops are toward the unsupported side."""

    block: int
    rep: int
    side: str
    start_s: float
    end_s: float
    outcome: str
    active_s: float
    coverage: float
    gap_s: float
    in_band_pct: float | None
    rms_obliquity_deg: float | None
    peak_drop_deg: float | None
    drops: int
    time_to_first_drop_s: float | None
    """None when no drop happened (held level for the whole hold)."""
    sway_velocity_dps: float | None
    score: float | None
    flags: tuple[str, ...]

    scope: ClassVar[str] = "hold"
    what: ClassVar[str] = "hold score"


@dataclass(frozen=True)
class SideScore(_ScopedRecord):
    """One side in one session: stability from single-leg holds on that leg, activation
    from isometric reps of that glute ("bilateral" for two-sided squeezes)."""

    side: str
    stability: float | None
    holds_scored: int
    hold_s: float
    drops: int
    drops_per_min: float | None
    in_band_pct: float | None
    activation: float | None
    reps_scored: int
    no_movement_reps: int
    mean_posterior_change_deg: float | None

    scope: ClassVar[str] = "side"
    what: ClassVar[str] = "side score"


@dataclass(frozen=True)
class Symmetry:
    """LSI = weaker / stronger x 100; flagged when LSI < 100 - asymmetry_pct."""

    metric: Metric
    left: float | None
    right: float | None
    lsi: float | None
    weaker: Side | None
    flagged: bool


@dataclass(frozen=True)
class SessionSummary(_ScopedRecord):
    """The per-session record review, trends and the weaker-side choice read back."""

    left_stability: float | None
    right_stability: float | None
    left_activation: float | None
    right_activation: float | None
    bilateral_activation: float | None
    symmetry: tuple[Symmetry, ...]
    metric: Metric | None
    """The metric the session's verdict uses: stability when both legs held, else
    activation when both glutes were squeezed, else None."""
    lsi: float | None
    weaker: Side | None
    flagged_side: Side | None
    asymmetry_pct: float
    holds_scored: int
    reps_scored: int
    coverage: float | None
    gap_s: float

    scope: ClassVar[str] = "session"
    what: ClassVar[str] = "session summary"

    def side_value(self, metric: Metric, side: Side) -> float | None:
        value: float | None = getattr(self, f"{side}_{metric}")
        return value


@dataclass(frozen=True)
class SessionScores:
    reps: tuple[RepScore, ...]
    holds: tuple[HoldScore, ...]
    sides: tuple[SideScore, ...]
    summary: SessionSummary

    def records(self) -> list[dict[str, Any]]:
        """Every score as a JSON record, summary last (what a session file stores)."""
        out = [r.to_json() for r in self.reps]
        out += [h.to_json() for h in self.holds]
        out += [s.to_json() for s in self.sides]
        out.append(self.summary.to_json())
        return out


# --------------------------------------------------------------------------- signals


class _Signal:
    """The observed samples, with helpers that respect gaps (no interpolation)."""

    def __init__(self, t_s: ArrayLike, tilt_deg: ArrayLike, obl_deg: ArrayLike,
                 rate_hz: float) -> None:
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        self.t = np.asarray(t_s, dtype=np.float64).ravel()
        self.tilt = np.asarray(tilt_deg, dtype=np.float64).ravel()
        self.obl = np.asarray(obl_deg, dtype=np.float64).ravel()
        if not self.t.size == self.tilt.size == self.obl.size:
            raise ValueError(f"t_s, tilt_deg and obl_deg differ in length: {self.t.size}, "
                             f"{self.tilt.size}, {self.obl.size}")
        if self.t.size > 1 and not bool(np.all(np.diff(self.t) > 0)):
            raise ValueError("t_s must be strictly increasing (sample index / rate)")
        self.rate = float(rate_hz)
        self.dt = 1.0 / self.rate

    def select(self, start: float, end: float,
               excluded: Sequence[tuple[float, float]] = ()) -> NDArray[np.intp]:
        """Indices of samples with start <= t < end, outside the excluded spans."""
        i0 = int(np.searchsorted(self.t, start - 1e-9, side="left"))
        i1 = int(np.searchsorted(self.t, end - 1e-9, side="left"))
        idx = np.arange(i0, i1)
        if excluded and idx.size:
            t = self.t[idx]
            keep = np.ones(idx.size, dtype=bool)
            for a, b in excluded:
                keep &= ~((t >= a - 1e-9) & (t < b - 1e-9))
            idx = idx[keep]
        return idx

    def runs(self, idx: NDArray[np.intp]) -> NDArray[np.int64]:
        """Run label per selected sample: a new run starts after any missing sample."""
        if idx.size == 0:
            return np.zeros(0, dtype=np.int64)
        breaks = np.diff(self.t[idx]) > 1.5 * self.dt
        return np.concatenate([[0], np.cumsum(breaks)]).astype(np.int64)

    def smooth(self, values: F64, runs: NDArray[np.int64], width_s: float) -> F64:
        """Centred moving average over an odd number of samples, never across a gap.

        Near a run's edges the window shrinks to the samples that exist.
        """
        n = values.size
        half = max(0, round(width_s * self.rate / 2.0))
        if n == 0 or half == 0:
            return values.copy()
        pos = np.arange(n)
        starts = np.concatenate([[True], runs[1:] != runs[:-1]])
        run_start = np.maximum.accumulate(np.where(starts, pos, 0))
        ends = np.concatenate([runs[1:] != runs[:-1], [True]])
        run_end = np.minimum.accumulate(np.where(ends, pos, n - 1)[::-1])[::-1]
        lo = np.maximum(pos - half, run_start)
        hi = np.minimum(pos + half, run_end)
        cs = np.concatenate([[0.0], np.cumsum(values)])
        out: F64 = (cs[hi + 1] - cs[lo]) / (hi - lo + 1)
        return out

    def expected(self, seconds: float) -> int:
        return round(seconds * self.rate)


def _overlap(a0: float, a1: float, spans: Iterable[tuple[float, float]]) -> float:
    return sum(max(0.0, min(a1, b) - max(a0, a)) for a, b in spans)


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


# --------------------------------------------------------------------------- reps


def score_rep(sig: _Signal, w: HoldWindow, cfg: ScoringConfig) -> RepScore:
    """Posterior tilt change, time to reach it, steadiness; no_movement flagged."""
    idx = sig.select(w.start_s, w.end_s, w.paused)
    expected = sig.expected(w.active_s)
    coverage = _clip01(idx.size / expected) if expected else 0.0
    flags: list[str] = []

    def result(baseline: float | None = None, change: float | None = None,
               reach: float | None = None, sd: float | None = None,
               score: float | None = None) -> RepScore:
        return RepScore(w.block, w.rep, w.side, w.position, w.start_s, w.end_s, w.outcome,
                        coverage, baseline, change, reach, sd, score, tuple(flags))

    if idx.size == 0:
        flags.append("no_data")
        return result()
    base_idx = sig.select(w.start_s - cfg.baseline_s, w.start_s)
    if base_idx.size == 0:
        flags.append("no_baseline")
        return result()
    baseline = float(np.median(sig.tilt[base_idx]))
    posterior = baseline - sig.tilt[idx]
    smoothed = sig.smooth(posterior, sig.runs(idx), cfg.lowpass_s)
    peak = float(smoothed.max())
    if coverage < cfg.min_coverage:
        flags.append("low_coverage")
    if peak < cfg.min_change_deg:
        flags.append("no_movement")
        sd_all = float(np.std(sig.tilt[idx]))
        score = 0.0 if coverage >= cfg.min_coverage else None
        return result(baseline, peak, None, sd_all, score)
    k = int(np.argmax(smoothed >= cfg.reach_fraction * peak - 1e-9))
    t_reach = float(sig.t[idx[k]])
    reach = w.active_between(w.start_s, t_reach)
    plateau = sig.tilt[idx[k:]]
    if w.active_between(t_reach, w.end_s) < cfg.min_plateau_s:
        flags.append("short_plateau")
    sd = float(np.std(plateau))
    depth = min(1.0, peak / cfg.depth_ref_deg)
    steady = 1.0 / (1.0 + (sd / cfg.steadiness_ref_deg) ** 2)
    score = 100.0 * depth * steady if coverage >= cfg.min_coverage else None
    return result(baseline, peak, reach, sd, score)


# --------------------------------------------------------------------------- holds


def _unsupported(stance: str) -> tuple[Side, float]:
    """The side that drops and the obliquity sign of a drop (docs/units.md)."""
    if stance == "left":
        return "right", -1.0
    if stance == "right":
        return "left", 1.0
    raise ValueError(f"single-leg hold side must be left or right, got {stance!r}")


def score_hold(sig: _Signal, w: HoldWindow, drops: Sequence[DropEvent],
               gaps: Sequence[Gap], cfg: ScoringConfig) -> HoldScore:
    """Level time, RMS, peak drop, drops, time to first drop and sway for one hold."""
    dropping_side, sign = _unsupported(w.side)
    idx = sig.select(w.start_s, w.end_s, w.paused)
    active = w.active_s
    expected = sig.expected(active)
    coverage = _clip01(idx.size / expected) if expected else 0.0
    gap_s = _overlap(w.start_s, w.end_s, ((g.start_s, g.end_s) for g in gaps))
    gap_s -= sum(_overlap(a, b, ((g.start_s, g.end_s) for g in gaps)) for a, b in w.paused)
    mine = sorted(
        (d for d in drops
         if d.side == dropping_side and w.start_s <= d.onset_s < w.end_s
         and not any(a <= d.onset_s < b for a, b in w.paused)),
        key=lambda d: d.onset_s,
    )
    first = w.active_between(w.start_s, mine[0].onset_s) if mine else None
    flags: list[str] = []
    if idx.size == 0:
        flags.append("no_data")
        return HoldScore(w.block, w.rep, w.side, w.start_s, w.end_s, w.outcome, active,
                         coverage, gap_s, None, None, None, len(mine), first, None, None,
                         tuple(flags))
    obl = sig.obl[idx]
    in_band = float(np.mean(np.abs(obl) <= cfg.band_deg))
    rms = float(np.sqrt(np.mean(obl * obl)))
    peak_drop = max(0.0, float(np.max(sign * obl)))
    runs = sig.runs(idx)
    smoothed = sig.smooth(obl, runs, cfg.lowpass_s)
    same_run = runs[1:] == runs[:-1]
    sway: float | None = None
    if bool(same_run.any()):
        sway = float(np.mean(np.abs(np.diff(smoothed)[same_run]))) * sig.rate
    score: float | None = None
    if coverage < cfg.min_coverage:
        flags.append("low_coverage")
    elif active > 0:
        drop_rate = len(mine) * cfg.drop_norm_s / active
        band_term = in_band
        drop_term = 1.0 / (1.0 + drop_rate)
        level_term = _clip01(1.0 - rms / (2.0 * cfg.band_deg))
        calm_term = _clip01(1.0 - (sway or 0.0) / cfg.sway_ref_dps)
        score = 100.0 * (0.40 * band_term + 0.30 * drop_term + 0.15 * level_term
                         + 0.15 * calm_term)
    return HoldScore(w.block, w.rep, w.side, w.start_s, w.end_s, w.outcome, active,
                     coverage, gap_s, 100.0 * in_band, rms, peak_drop, len(mine), first,
                     sway, score, tuple(flags))


# --------------------------------------------------------------------------- sides


def _side_score(side: str, reps: Sequence[RepScore], holds: Sequence[HoldScore]) -> SideScore:
    used_holds = [h for h in holds if h.side == side and h.outcome == "completed"
                  and h.score is not None]
    weights = [h.active_s * h.coverage for h in used_holds]
    stability: float | None = None
    in_band: float | None = None
    hold_s = float(sum(h.active_s for h in used_holds))
    drops = sum(h.drops for h in used_holds)
    if used_holds and sum(weights) > 0:
        stability = float(np.average([h.score for h in used_holds], weights=weights))
        in_band = float(np.average([h.in_band_pct for h in used_holds], weights=weights))
    used_reps = [r for r in reps if r.side == side and r.outcome == "completed"
                 and r.score is not None]
    activation = float(np.mean([r.score for r in used_reps])) if used_reps else None
    changes = [r.posterior_change_deg for r in used_reps if r.posterior_change_deg is not None]
    return SideScore(
        side=side,
        stability=stability,
        holds_scored=len(used_holds),
        hold_s=hold_s,
        drops=drops,
        drops_per_min=drops * 60.0 / hold_s if hold_s > 0 else None,
        in_band_pct=in_band,
        activation=activation,
        reps_scored=len(used_reps),
        no_movement_reps=sum(1 for r in used_reps if "no_movement" in r.flags),
        mean_posterior_change_deg=float(np.mean(changes)) if changes else None,
    )


def symmetry(metric: Metric, left: float | None, right: float | None,
             asymmetry_pct: float = DEFAULT_ASYMMETRY_PCT) -> Symmetry:
    """LSI of two side values; undefined (None) without both sides or when both are 0."""
    if left is None or right is None:
        return Symmetry(metric, left, right, None, None, False)
    low, high = min(left, right), max(left, right)
    if high <= 0:
        return Symmetry(metric, left, right, None, None, False)
    lsi = 100.0 * low / high
    weaker: Side | None = None if left == right else ("left" if left < right else "right")
    return Symmetry(metric, left, right, lsi, weaker, lsi < 100.0 - asymmetry_pct)


# --------------------------------------------------------------------------- session


def score_session(
    t_s: ArrayLike,
    tilt_deg: ArrayLike,
    obl_deg: ArrayLike,
    events: Iterable[EngineEvent | Mapping[str, Any]],
    *,
    rate_hz: float,
    drops: Sequence[DropEvent] = (),
    gaps: Sequence[Gap] = (),
    config: ScoringConfig | None = None,
    end_s: float | None = None,
) -> SessionScores:
    """Score every hold the engine ran; `end_s` closes a hold the log left open."""
    cfg = config or ScoringConfig()
    sig = _Signal(t_s, tilt_deg, obl_deg, rate_hz)
    if end_s is None and sig.t.size:
        end_s = float(sig.t[-1]) + sig.dt
    windows = hold_windows(events, end_s)
    reps = tuple(score_rep(sig, w, cfg) for w in windows if w.block_kind == "isometric")
    holds = tuple(score_hold(sig, w, drops, gaps, cfg) for w in windows
                  if w.block_kind == "single_leg")
    side_names = [s for s in ("left", "right", "bilateral")
                  if any(r.side == s for r in reps) or any(h.side == s for h in holds)]
    sides = tuple(_side_score(s, reps, holds) for s in side_names)
    by_side = {s.side: s for s in sides}

    def value(side: str, metric: Metric) -> float | None:
        s = by_side.get(side)
        return None if s is None else getattr(s, metric)

    sym = tuple(symmetry(m, value("left", m), value("right", m), cfg.asymmetry_pct)
                for m in ("stability", "activation"))
    primary = next((s for s in sym if s.left is not None and s.right is not None), None)
    expected = sum(sig.expected(w.active_s) for w in windows)
    observed = sum(min(sig.select(w.start_s, w.end_s, w.paused).size, sig.expected(w.active_s))
                   for w in windows)
    summary = SessionSummary(
        left_stability=value("left", "stability"),
        right_stability=value("right", "stability"),
        left_activation=value("left", "activation"),
        right_activation=value("right", "activation"),
        bilateral_activation=value("bilateral", "activation"),
        symmetry=sym,
        metric=primary.metric if primary else None,
        lsi=primary.lsi if primary else None,
        weaker=primary.weaker if primary else None,
        flagged_side=primary.weaker if primary and primary.flagged else None,
        asymmetry_pct=cfg.asymmetry_pct,
        holds_scored=sum(1 for h in holds if h.score is not None),
        reps_scored=sum(1 for r in reps if r.score is not None),
        coverage=observed / expected if expected else None,
        gap_s=float(sum(max(0.0, g.end_s - g.start_s) for g in gaps)),
    )
    return SessionScores(reps, holds, sides, summary)


# --------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class TrendPoint:
    """One earlier session: a label (date or file name), its plan and its summary."""

    label: str
    plan: str
    summary: SessionSummary


@dataclass(frozen=True)
class Trend:
    """Per-side score and LSI series with least-squares slopes (points per session)."""

    metric: Metric | None
    labels: tuple[str, ...]
    left: tuple[float | None, ...]
    right: tuple[float | None, ...]
    lsi: tuple[float | None, ...]
    left_slope: float | None
    right_slope: float | None
    lsi_slope: float | None
    mdc95: float | None
    mdc_pairs: int
    mdc_note: str
    last_change_real: dict[str, bool] = field(default_factory=dict)
    """Per side: whether the change from the previous session exceeds MDC95."""

    def to_json(self) -> dict[str, Any]:
        return to_record(self)


def _slope(values: Sequence[float | None]) -> float | None:
    pts = [(float(i), v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return None
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    xc = x - x.mean()
    return float(np.sum(xc * (y - y.mean())) / np.sum(xc * xc))


def minimal_detectable_change(points: Sequence[TrendPoint], metric: Metric
                              ) -> tuple[float | None, int]:
    """MDC95 = 1.96 * sqrt(2) * SEM from consecutive sessions of the same plan.

    SEM = RMS(d) / sqrt(2) over the differences d between consecutive same-plan sessions'
    side values (both sides pooled), so MDC95 = 1.96 * RMS(d). Returns (None, 0) until
    there is at least one such pair.
    """
    diffs: list[float] = []
    last: dict[str, TrendPoint] = {}
    for p in points:
        prev = last.get(p.plan)
        if prev is not None:
            for side in SIDES:
                a = prev.summary.side_value(metric, side)
                b = p.summary.side_value(metric, side)
                if a is not None and b is not None:
                    diffs.append(b - a)
        last[p.plan] = p
    if not diffs:
        return None, 0
    d = np.asarray(diffs)
    sem = float(np.sqrt(np.mean(d * d)) / math.sqrt(2.0))
    return 1.96 * math.sqrt(2.0) * sem, len(diffs)


def trend(points: Sequence[TrendPoint]) -> Trend:
    """Series across sessions (oldest first) for the metric most sessions report."""
    metrics = [p.summary.metric for p in points if p.summary.metric is not None]
    metric: Metric | None = None
    if metrics:
        metric = "stability" if "stability" in metrics else "activation"
    if metric is None:
        empty: tuple[float | None, ...] = tuple(None for _ in points)
        return Trend(None, tuple(p.label for p in points), empty, empty, empty, None, None,
                     None, None, 0, "not yet known: no session has scores for both sides")
    left = tuple(p.summary.side_value(metric, "left") for p in points)
    right = tuple(p.summary.side_value(metric, "right") for p in points)
    lsi = tuple(next((s.lsi for s in p.summary.symmetry if s.metric == metric), None)
                for p in points)
    mdc, pairs = minimal_detectable_change(points, metric)
    if mdc is None:
        note = "not yet known: needs two sessions of the same plan"
    else:
        note = (f"MDC95 {mdc:.1f} points from {pairs} side comparison(s); smaller changes "
                "may be noise")
    real: dict[str, bool] = {}
    if mdc is not None:
        for side, series in (("left", left), ("right", right)):
            vals = [v for v in series if v is not None]
            if len(vals) >= 2:
                real[side] = abs(vals[-1] - vals[-2]) > mdc
    return Trend(metric, tuple(p.label for p in points), left, right, lsi, _slope(left),
                 _slope(right), _slope(lsi), mdc, pairs, note, real)
