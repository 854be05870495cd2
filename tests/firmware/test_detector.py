"""Hip-drop detection: threshold, dwell, release hysteresis, stance side, lockout, blanking."""

from belt.detector import (
    EV_CUE,
    EV_END,
    EV_NONE,
    SIDE_EITHER,
    SIDE_LEFT,
    SIDE_OFF,
    SIDE_RIGHT,
    HipDropDetector,
    check_config,
)

RATE = 100


def _run(det, trace, start=0):
    """Feed obliquity values (cdeg) at consecutive indices; return (index, event) pairs."""
    out = []
    for i, v in enumerate(trace):
        ev = det.update(start + i, v)
        if ev != EV_NONE:
            out.append((start + i, ev))
    return out


def _drop(depth, hold, base=0, ramp=5):
    up = [base + (depth - base) * (i + 1) // ramp for i in range(ramp)]
    return [base] * 10 + up + [depth] * hold + up[::-1] + [base] * 20


def test_a_drop_held_for_the_dwell_cues_once_then_ends_after_the_release():
    det = HipDropDetector(RATE)
    det.configure(500, 150, 100, SIDE_LEFT, 0)  # standing on the left leg
    events = _run(det, _drop(-800, 40))
    assert [e for _, e in events] == [EV_CUE, EV_END]
    assert events[0][0] - det.onset_index == 15  # cue exactly one dwell after onset
    assert det.side == SIDE_RIGHT  # the right side is the lower one
    assert det.peak_cdeg == 800


def test_the_cue_comes_on_the_first_sample_at_the_dwell():
    det = HipDropDetector(RATE)
    det.configure(500, 150, 100, SIDE_EITHER, 0)
    trace = [0] * 5 + [600] * 30
    events = _run(det, trace)
    assert events == [(5 + 15, EV_CUE)]


def test_a_foot_touch_down_shorter_than_the_dwell_does_not_cue():
    det = HipDropDetector(RATE)
    det.configure(500, 150, 100, SIDE_EITHER, 0)
    trace = [0] * 10 + [700] * 12 + [0] * 30  # 120 ms above threshold
    assert _run(det, trace) == []


def test_a_near_miss_below_threshold_does_not_cue():
    det = HipDropDetector(RATE)
    det.configure(500, 150, 100, SIDE_EITHER, 0)
    assert _run(det, _drop(-450, 100)) == []


def test_hiking_the_free_side_is_not_a_drop():
    det = HipDropDetector(RATE)
    det.configure(500, 150, 100, SIDE_LEFT, 0)
    # Standing on the left leg, the right side going UP is positive obliquity: a hike.
    assert _run(det, _drop(900, 60)) == []
    det.configure(500, 150, 100, SIDE_RIGHT, 0)
    assert [e for _, e in _run(det, _drop(900, 60))] == [EV_CUE, EV_END]
    assert det.side == SIDE_LEFT


def test_release_hysteresis_keeps_one_drop_while_hovering_at_the_threshold():
    det = HipDropDetector(RATE)
    det.configure(500, 100, 100, SIDE_EITHER, 0)
    trace = [0] * 5 + [600] * 20 + [450, 520, 430, 510] * 10 + [300] * 5 + [0] * 5
    assert [e for _, e in _run(det, trace)] == [EV_CUE, EV_END]


def test_lockout_suppresses_a_second_drop_right_after_the_first():
    det = HipDropDetector(RATE)
    det.configure(500, 50, 100, SIDE_EITHER, 1000)
    first = _run(det, _drop(700, 20))
    second = _run(det, _drop(700, 20), start=len(_drop(700, 20)))
    assert [e for _, e in first] == [EV_CUE, EV_END]
    assert second == []


def test_blanking_while_the_motor_runs_prevents_a_new_onset():
    det = HipDropDetector(RATE)
    det.configure(500, 0, 100, SIDE_EITHER, 0)
    det.blank(30)
    assert _run(det, [800] * 25) == []
    assert _run(det, [800] * 10, start=30) == [(30, EV_CUE)]


def test_out_of_range_settings_are_refused_and_nothing_changes():
    det = HipDropDetector(RATE)
    det.configure(600, 200, 100, SIDE_RIGHT, 0)
    for bad in ((50, 150, 20, 0, 0), (600, 5000, 100, 0, 0), (600, 150, 600, 0, 0),
                (600, 150, 100, 7, 0), (600, 150, 100, 0, -1)):
        assert check_config(*bad) is not None
        try:
            det.configure(*bad)
        except ValueError:
            pass
        else:
            raise AssertionError("accepted %r" % (bad,))
    assert det.threshold_cdeg == 600 and det.dwell_samples == 20 and det.stance == SIDE_RIGHT


def test_each_stance_side_keeps_its_own_settings():
    det = HipDropDetector(RATE)
    det.configure(800, 100, 200, SIDE_LEFT, 0)  # the weaker left leg: a looser threshold
    det.configure(400, 200, 100, SIDE_RIGHT, 0)
    assert det.side_config(SIDE_LEFT) == [800, 100, 200, 0]
    assert det.side_config(SIDE_RIGHT) == [400, 200, 100, 0]
    # Standing on the left leg a 6 deg drop of the right side is within the 8 deg limit.
    det.set_stance(SIDE_LEFT)
    assert det.threshold_cdeg == 800 and det.dwell_samples == 10
    assert _run(det, _drop(-600, 40)) == []
    # Standing on the right leg the same 6 deg drop of the left side cues after 200 ms.
    det.set_stance(SIDE_RIGHT)
    assert det.threshold_cdeg == 400 and det.dwell_samples == 20
    events = _run(det, _drop(600, 40))
    assert [e for _, e in events] == [EV_CUE, EV_END]
    assert events[0][0] - det.onset_index == 20 and det.side == SIDE_LEFT


def test_with_stance_either_each_direction_uses_its_own_sides_settings():
    det = HipDropDetector(RATE)
    det.configure(800, 0, 100, SIDE_LEFT, 0)
    det.configure(400, 0, 100, SIDE_RIGHT, 0)
    det.set_stance(SIDE_EITHER)
    n = len(_drop(0, 10))
    assert _run(det, _drop(-600, 10)) == []  # right side low: judged by the left stance
    assert [e for _, e in _run(det, _drop(-900, 10), n)] == [EV_CUE, EV_END]
    assert det.side == SIDE_RIGHT
    assert [e for _, e in _run(det, _drop(600, 10), 2 * n)] == [EV_CUE, EV_END]
    assert det.side == SIDE_LEFT


def test_stance_off_detects_nothing_and_keeps_the_settings_for_later():
    det = HipDropDetector(RATE)
    det.configure(500, 0, 100, SIDE_OFF, 0)  # 0 and 3 write both sides
    assert det.side_config(SIDE_LEFT) == det.side_config(SIDE_RIGHT) == [500, 0, 100, 0]
    trace = _drop(-2000, 50) + _drop(2000, 50)
    assert _run(det, trace) == []
    det.set_stance(SIDE_EITHER)
    assert [e for _, e in _run(det, _drop(-900, 10), len(trace))] == [EV_CUE, EV_END]


def test_switching_stance_mid_drop_ends_it_without_an_event():
    det = HipDropDetector(RATE)
    det.configure(500, 0, 100, SIDE_EITHER, 0)
    assert _run(det, [0, -700, -700]) == [(1, EV_CUE)]
    det.set_stance(SIDE_LEFT)
    # A fresh onset (cue at 3), not the END of the abandoned drop.
    assert _run(det, [-700, 0, 0], start=3) == [(3, EV_CUE), (4, EV_END)]
    assert det.onset_index == 3


def test_a_refused_stance_or_side_setting_changes_nothing():
    det = HipDropDetector(RATE)
    det.configure(700, 300, 100, SIDE_LEFT, 500)
    before = [list(det.side_config(SIDE_LEFT)), list(det.side_config(SIDE_RIGHT))]
    for bad in (4, -1, 255):
        try:
            det.set_stance(bad)
        except ValueError as e:
            assert "stance" in str(e)
        else:
            raise AssertionError("stance %d accepted" % bad)
    try:
        det.configure(700, 300, 100, SIDE_RIGHT, 20000)
    except ValueError:
        pass
    else:
        raise AssertionError("lockout 20000 accepted")
    assert [det.side_config(SIDE_LEFT), det.side_config(SIDE_RIGHT)] == before
    assert det.stance == SIDE_LEFT


def test_a_new_rate_keeps_the_settings_in_milliseconds():
    det = HipDropDetector(100)
    det.configure(500, 150, 100, SIDE_EITHER, 1000)
    det.set_rate(104)  # an LSM6DSOX samples at 104 Hz
    assert det.dwell_samples == 16 and det.lockout_samples == 104
    assert det.side_config(SIDE_LEFT) == [500, 150, 100, 1000]
