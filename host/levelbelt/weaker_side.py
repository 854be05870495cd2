"""Which side is weaker, from previous sessions' symmetry verdicts or set by hand.

The weaker side decides where the extra volume goes, so it must not flip on one noisy
session: a side becomes the weaker side (or replaces it) only when it was the weaker side
in at least `confirm` consecutive sessions that gave a verdict. A session gives a verdict
when both sides were scored and its Limb Symmetry Index is below 100 - min_asymmetry_pct;
a session without one (one side only, nearly equal sides) neither confirms nor breaks a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

Side: TypeAlias = Literal["left", "right"]
Source: TypeAlias = Literal["manual", "history", "unknown"]

CONFIRM_SESSIONS = 3
MIN_ASYMMETRY_PCT = 5.0
"""Side differences under 5 % are within session-to-session noise: no verdict."""


class SessionVerdict(Protocol):
    """What a session summary offers (levelbelt.scoring.SessionSummary has these)."""

    @property
    def lsi(self) -> float | None: ...

    @property
    def weaker(self) -> Side | None: ...


@dataclass(frozen=True)
class WeakerSide:
    side: Side | None
    source: Source
    reason: str


def session_verdict(session: SessionVerdict,
                    min_asymmetry_pct: float = MIN_ASYMMETRY_PCT) -> Side | None:
    """The side this one session calls weaker, or None when it cannot tell."""
    if session.lsi is None or session.weaker is None:
        return None
    if session.lsi >= 100.0 - min_asymmetry_pct:
        return None
    return session.weaker


def resolve_weaker_side(
    history: Sequence[SessionVerdict],
    manual: Side | Literal["none"] | None = None,
    confirm: int = CONFIRM_SESSIONS,
    min_asymmetry_pct: float = MIN_ASYMMETRY_PCT,
) -> WeakerSide:
    """`history` oldest first. A hand-set side (or "none") wins over the history."""
    if confirm < 1:
        raise ValueError("confirm must be at least 1")
    if manual == "none":
        return WeakerSide(None, "manual", "set to none by hand")
    if manual is not None:
        return WeakerSide(manual, "manual", "set by hand")
    current: Side | None = None
    run_side: Side | None = None
    run = 0
    for session in history:
        verdict = session_verdict(session, min_asymmetry_pct)
        if verdict is None:
            continue
        run = run + 1 if verdict == run_side else 1
        run_side = verdict
        if run >= confirm:
            current = verdict
    if current is None:
        if not history:
            return WeakerSide(None, "unknown", "no previous sessions")
        return WeakerSide(None, "unknown", f"not confirmed: needs {confirm} consecutive "
                          "sessions naming the same weaker side")
    if run_side == current:
        why = f"weaker in the last {run} sessions with a verdict"
    else:
        why = (f"confirmed earlier; {run} recent session(s) name the {run_side} side, "
               f"{confirm} are needed to change it")
    return WeakerSide(current, "history", why)
