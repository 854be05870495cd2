"""The isometric set timer walks get-ready -> squeeze/rest x reps -> done on belt time."""

from __future__ import annotations

import pytest

from levelbelt.set_timer import IsometricSet


def test_ten_by_three_second_squeezes_with_five_second_rest() -> None:
    s = IsometricSet(reps=10, hold_s=3, rest_s=5, get_ready_s=3)
    assert s.total_s == 3 + 30 + 45
    assert s.phase_at(0).name == "GET READY" and s.phase_at(2.9).remaining_s == pytest.approx(0.1)
    first = s.phase_at(3.0)
    assert (first.name, first.rep, first.remaining_s) == ("SQUEEZE", 1, 3.0)
    assert s.phase_at(6.0).name == "REST" and s.phase_at(6.0).rep == 1
    assert s.phase_at(11.0).name == "SQUEEZE" and s.phase_at(11.0).rep == 2
    last = s.phase_at(3 + 9 * 8 + 1)
    assert (last.name, last.rep) == ("SQUEEZE", 10)
    assert s.phase_at(s.total_s).name == "DONE"
    assert s.phase_at(s.total_s + 100).name == "DONE"


def test_nonsense_sets_are_refused() -> None:
    for bad in ({"reps": 0}, {"hold_s": 0}, {"rest_s": -1}):
        with pytest.raises(ValueError):
            IsometricSet(**bad)  # type: ignore[arg-type]
