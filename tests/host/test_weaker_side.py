"""The weaker side comes from session history (confirmed over 3 sessions) or by hand."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from levelbelt.scoring import SessionSummary, symmetry
from levelbelt.weaker_side import Side, resolve_weaker_side, session_verdict


@dataclass(frozen=True)
class Verdict:
    lsi: float | None
    weaker: Side | None


R = Verdict(70.0, "right")
L = Verdict(75.0, "left")
TIE = Verdict(97.0, "left")  # under 5 % apart: no verdict
NONE = Verdict(None, None)  # one side only


def test_no_history_means_unknown() -> None:
    w = resolve_weaker_side([])
    assert (w.side, w.source) == (None, "unknown") and w.reason == "no previous sessions"


def test_three_consecutive_sessions_establish_the_weaker_side() -> None:
    assert resolve_weaker_side([R, R]).side is None
    assert "needs 3 consecutive" in resolve_weaker_side([R, R]).reason
    w = resolve_weaker_side([R, R, R])
    assert (w.side, w.source) == ("right", "history")
    assert w.reason == "weaker in the last 3 sessions with a verdict"


def test_one_or_two_contrary_sessions_do_not_flip_it() -> None:
    w = resolve_weaker_side([R, R, R, L, L])
    assert w.side == "right"
    assert "2 recent session(s) name the left side, 3 are needed" in w.reason
    assert resolve_weaker_side([R, R, R, L, L, L]).side == "left"


def test_an_interrupted_run_starts_again() -> None:
    assert resolve_weaker_side([R, R, L, R, R]).side is None
    assert resolve_weaker_side([R, R, L, R, R, R]).side == "right"


def test_sessions_without_a_verdict_neither_confirm_nor_break_a_run() -> None:
    assert resolve_weaker_side([R, TIE, R, NONE, R]).side == "right"
    assert session_verdict(TIE) is None and session_verdict(NONE) is None
    assert session_verdict(Verdict(94.9, "left")) == "left"
    assert session_verdict(TIE, min_asymmetry_pct=2.0) == "left"


def test_a_side_set_by_hand_wins_over_history() -> None:
    w = resolve_weaker_side([R, R, R], manual="left")
    assert (w.side, w.source) == ("left", "manual")
    none = resolve_weaker_side([R, R, R], manual="none")
    assert (none.side, none.source) == (None, "manual")


def test_confirmation_count_is_configurable() -> None:
    assert resolve_weaker_side([L], confirm=1).side == "left"
    with pytest.raises(ValueError):
        resolve_weaker_side([L], confirm=0)


def test_session_summaries_from_scoring_are_valid_history() -> None:
    sym = symmetry("stability", 80.0, 56.0)
    s = SessionSummary(80.0, 56.0, None, None, None, (sym,), "stability", sym.lsi,
                       sym.weaker, "right", 15.0, 2, 0, 1.0, 0.0)
    assert resolve_weaker_side([s, s, s]).side == "right"
