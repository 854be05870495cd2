"""Hip-drop detection: threshold, dwell, release hysteresis, stance side, lockout, blanking."""

from belt.detector import (
    EV_CUE,
    EV_END,
    EV_NONE,
    SIDE_EITHER,
    SIDE_LEFT,
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
