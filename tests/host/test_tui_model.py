"""What the screens show about one belt, computed per display tick from belt data.

The belt is the simulated one (firmware pipeline and frame encoder in-process, frames
through the USB deframer), stepped by the test so every run sees the same samples.
"""

from __future__ import annotations

from tui_helpers import SteppedBelt, frozen_clock

from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, demo_script
from levelbelt.sim.body import Squeeze, Still
from levelbelt.tui.belt_model import BeltFrame, BeltModel, battery_pct
from levelbelt.tui.drill_view import DemoDriver
from levelbelt.tui.prefs import DashboardPrefs

TICK_S = 1 / 30
HOLDS_START = CALIBRATION_S + DEMO_SET.total_s


def _model(feed: SteppedBelt, clock: object = None) -> BeltModel:
    prefs = DashboardPrefs()
    return BeltModel(feed, DemoDriver(), lambda: prefs,
                     clock=clock or frozen_clock(feed))  # type: ignore[arg-type]


def _run(feed: SteppedBelt, model: BeltModel, until_s: float) -> list[BeltFrame]:
    frames = []
    t = feed.belt.samples_sent / 100
    while t < until_s:
        t = min(until_s, t + TICK_S)
        feed.run_to(t)
        frames.append(model.poll())
    return frames


def test_drops_raise_one_alert_each_and_count_for_the_standing_leg() -> None:
    # Weak right hip: standing on the right leg the left side drops three times.
    feed = SteppedBelt(demo_script("right", seed=3), seed=3)
    model = _model(feed)
    frames = _run(feed, model, HOLDS_START + 2 * HOLD_S)
    assert sum(f.new_alert for f in frames) == 4
    last = frames[-1].tallies
    assert (last["left"].drops, last["right"].drops) == (1, 3)
    assert 50 < last["right"].in_band_pct < last["left"].in_band_pct <= 100  # type: ignore[operator]
    assert last["right"].peak_drop_deg > 5.0
    alerts = [f for f in frames if f.alert is not None]
    assert {f.alert.side for f in alerts} == {"left", "right"}  # type: ignore[union-attr]
    assert {f.alert.flash_on for f in alerts} == {True, False}  # type: ignore[union-attr]
    first = next(f for f in frames if f.new_alert)
    assert first.alert is not None and first.alert.stance == first.view.stance


def test_the_phase_comes_from_belt_time_and_sets_the_detector_for_the_stance() -> None:
    feed = SteppedBelt(demo_script("none", seed=1), seed=1)
    model = _model(feed)
    frame = _run(feed, model, HOLDS_START + HOLD_S + 1.0)[-1]
    assert frame.view.banner == "HOLD RIGHT" and frame.view.stance == "right"
    feed.run_to(frame.t_s + 0.1)  # the command is applied between frames
    assert feed.belt.pipeline.detector.stance == 2


def test_squeezes_record_how_far_the_pelvis_tilted_back() -> None:
    feed = SteppedBelt(demo_script("none", seed=1), seed=1)
    model = _model(feed)
    frame = _run(feed, model, HOLDS_START + 0.5)[-1]
    left = frame.tallies["left"]
    assert left.squeezes == DEMO_SET.reps
    assert 2.5 < left.mean_squeeze_deg < 5.5  # type: ignore[operator]


def test_a_capture_while_moving_is_refused_with_the_axis_then_completes_when_still() -> None:
    feed = SteppedBelt([Still(3.0), Squeeze(5.0, 0.3, 1.0, 0.3, 0.0), Still(3.0)], seed=2)
    model = _model(feed)
    _run(feed, model, 3.0)
    assert model.poll().capture.state == "done"
    model.request_capture(1)
    feed.capture_neutral(1)
    frames = _run(feed, model, 4.5)
    moving = [f.capture for f in frames if f.capture.state == "moving"]
    assert moving and "refused while moving" in moving[-1].detail
    assert any(axis in moving[-1].detail for axis in ("gyro", "accel"))
    done = _run(feed, model, 7.0)[-1].capture
    assert done.state == "done" and done.position == 1
    assert done.detail.startswith("neutral: seated · mount OK")
    assert model.message == "neutral captured (seated)"


def test_a_clip_worn_far_off_its_declared_orientation_is_flagged_after_capture() -> None:
    from dataclasses import replace

    from levelbelt.sim.sensor import SensorModel

    for roll_deg, ok in ((4.0, True), (40.0, False)):
        model_on_belt = replace(SensorModel(), misalign_roll_deg=roll_deg)
        feed = SteppedBelt([Still(4.0)], seed=1, model=model_on_belt)
        capture = _run(feed, _model(feed), 3.0)[-1].capture
        assert capture.state == "done" and capture.mount_ok is ok
        if not ok:
            assert "mount check: the clip sits 4" in capture.detail
            assert capture.detail.endswith("and capture again")


def test_link_quality_reports_silence_and_missing_samples() -> None:
    feed = SteppedBelt([Still(4.0)], seed=1)
    now = [0.0]
    model = _model(feed, clock=lambda: now[0])
    feed.run_to(1.0)
    now[0] = feed.live.snapshot().last_rx_s + 0.1
    assert model.poll().link.quality == "good"
    now[0] += 5.0
    lost = model.poll().link
    assert lost.quality == "lost" and lost.detail == "no data for 5 s"
    feed.belt.pipeline.index += 50  # the belt skips 50 samples: a gap in the index
    feed.run_to(2.0)
    now[0] = feed.live.snapshot().last_rx_s
    gap = model.poll().link
    assert gap.quality == "poor" and gap.detail.startswith("20.0% missing")


def test_battery_level_follows_the_lipo_curve() -> None:
    assert battery_pct(None) is None
    assert battery_pct(4200) == 100 and battery_pct(3300) == 0
    assert battery_pct(3950) == 72
    feed = SteppedBelt([Still(2.0)], seed=1, battery_mv=3800)
    model = _model(feed)
    feed.run_to(1.0)
    assert model.poll().battery_pct == 45


def test_coach_markers_are_stamped_with_belt_time() -> None:
    feed = SteppedBelt([Still(3.0)], seed=1)
    model = _model(feed)
    _run(feed, model, 2.0)
    marker = model.add_marker("note", "knee drifting in")
    assert (marker.kind, marker.t_s, marker.note) == ("note", 2.0, "knee drifting in")
    assert model.poll().message == "marker NOTE at 2.0 s: knee drifting in"


def test_the_status_line_gives_up_the_least_needed_figures_on_a_narrow_screen() -> None:
    from levelbelt.tui.screens.drill import status_line

    feed = SteppedBelt([Still(5.0)], seed=1)
    frame = _run(feed, _model(feed), 2.0)[-1]
    wide = status_line(frame)
    assert wide.startswith("link good · battery 72% · belt fw 0.1.0 · 100 Hz")
    assert wide.endswith("t 2.0 s · frames 44 ok 0 bad · missing samples 0")
    narrow = status_line(frame, 78)  # an 80-column terminal
    assert len(narrow) <= 78 < len(wide)
    assert narrow.endswith("Hz · t 2.0 s · missing samples 0") and "frames" not in narrow
    tight = status_line(frame, 60)
    assert tight == "link good · battery 72% · t 2.0 s · missing samples 0"


def test_the_running_figures_put_the_exercise_under_way_first() -> None:
    from levelbelt.tui.tally import SideTally
    from levelbelt.tui.widgets.scores import side_line

    tally = SideTally(hold_samples=100, in_band=96, drops=1, peak_drop_deg=8.3, squeezes=3,
                      squeeze_depth_sum_deg=12.3)
    holds, squeezes = "96% level · 1 drop · peak 8.3°", "3 squeezes 4.1° back"
    assert side_line(tally) == f" {holds} · {squeezes}"  # steady width: 96% / 100%
    assert side_line(tally, squeezing=True) == f"{squeezes} · {holds}"
    assert side_line(tally, compact=True) == " 96% level · 1 drop · 8.3°"
    assert side_line(tally, compact=True, squeezing=True) == squeezes
    assert side_line(SideTally(squeezes=1, squeeze_depth_sum_deg=2.0), compact=True) == \
        "1 squeeze 2.0° back"
    assert side_line(SideTally()) == "—"
