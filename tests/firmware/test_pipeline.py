"""The per-sample pipeline: still-start calibration, angles, drop events and frames."""

import math

from belt import protocol as P
from belt.detector import SIDE_LEFT
from belt.pipeline import EV_CALIBRATED, EV_MOVING, STATE_RUNNING, Pipeline

RATE = 100


def _accel_for(tilt_deg, obl_deg):
    """Default-mount accelerometer reading (mg) for a static pelvis pose."""
    th = math.radians(tilt_deg)
    ph = -math.radians(obl_deg)
    f = -math.sin(th)
    left = math.cos(th) * math.sin(ph)
    up = math.cos(th) * math.cos(ph)
    return (int(round(-left * 1000)), int(round(up * 1000)), int(round(-f * 1000)))


def _pipeline(batch=4):
    frames = []
    enc = P.FrameEncoder(lambda v: frames.append(bytes(v)), batch)
    return Pipeline(RATE, enc, calib_s=0.5), frames


def test_calibrates_on_a_still_start_then_reports_angles():
    p, frames = _pipeline()
    events = [p.push(0, 1000, 0, 1, -1, 2) for _ in range(RATE)]
    assert events.count(EV_CALIBRATED) == 1 and p.state == STATE_RUNNING
    for _ in range(8 * RATE):
        p.push(*_accel_for(3, -6), 1, -1, 2)
    assert abs(p.tilt_cdeg - 300) < 15 and abs(p.obl_cdeg + 600) < 15
    kinds = [f[1] for f in frames]
    assert kinds.count(P.FT_CALIBRATION) == 1
    assert kinds.count(P.FT_SAMPLES) == 9 * RATE // 4


def test_movement_during_calibration_is_refused_and_the_window_restarts():
    p, frames = _pipeline()
    moving = [p.push(0, 1000, 0, (i % 7) * 40, 0, 0) for i in range(RATE)]
    assert EV_MOVING in moving and p.state != STATE_RUNNING
    assert any(f[1] == P.FT_EVENT and f[4] == P.EV_MOVING for f in frames)
    events = [p.push(0, 1000, 0, 0, 0, 0) for _ in range(RATE)]
    assert EV_CALIBRATED in events


def test_a_drop_on_the_unsupported_side_buzzes_and_is_streamed_as_events():
    p, frames = _pipeline()
    p.detector.configure(500, 150, 100, SIDE_LEFT, 0)
    cues = []
    p.on_cue = cues.append
    for _ in range(RATE):
        p.push(0, 1000, 0, 0, 0, 0)
    # A slow 10 deg right-side drop: rotate about forward with the gyro, accel agreeing.
    for i in range(50):
        ang = -10.0 * (i + 1) / 50
        p.push(*_accel_for(0, ang), 0, 0, 0)
    for _ in range(300):
        p.push(*_accel_for(0, -10), 0, 0, 0)
    for _ in range(600):
        p.push(0, 1000, 0, 0, 0, 0)
    assert cues == [2]  # SIDE_RIGHT: the right side is the lower one
    ev = [f for f in frames if f[1] == P.FT_EVENT and f[4] in (P.EV_DROP_CUE, P.EV_DROP_END)]
    assert [f[4] for f in ev] == [P.EV_DROP_CUE, P.EV_DROP_END]


def test_sample_indices_follow_fifo_gaps():
    p, frames = _pipeline(batch=1)
    p.push(0, 1000, 0, 0, 0, 0)
    p.push(0, 1000, 0, 0, 0, 0, 3)
    idx = [P.get_u32(f, 4) for f in frames if f[1] == P.FT_SAMPLES]
    assert idx == [0, 3]
