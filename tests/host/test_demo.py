"""`levelbelt demo`: the simulated belt over a pty, headless and in the Textual screen."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Digits, Static

from levelbelt.cli import main
from levelbelt.demo import DemoRig
from levelbelt.demo_script import CALIBRATION_S, DEMO_SET, HOLD_S, cycle_s, phase_at
from levelbelt.tui.demo_app import DemoApp


def test_demo_phases_follow_belt_time() -> None:
    assert phase_at(0.5).name == "CALIBRATING"
    assert phase_at(CALIBRATION_S + 0.1).name == "GET READY"
    squeeze = phase_at(CALIBRATION_S + DEMO_SET.get_ready_s + 0.5)
    assert (squeeze.name, squeeze.rep, squeeze.reps) == ("SQUEEZE", 1, DEMO_SET.reps)
    assert phase_at(CALIBRATION_S + DEMO_SET.total_s + 1).name == "HOLD LEFT"
    assert phase_at(CALIBRATION_S + DEMO_SET.total_s + HOLD_S + 1).name == "HOLD RIGHT"
    assert phase_at(CALIBRATION_S + cycle_s() + 0.1).name == "GET READY"


def test_headless_demo_reports_more_drops_on_the_weak_sides_stance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Weak right hip: standing on the right leg the LEFT side drops, three times a cycle.
    assert main(["demo", "--headless", "--duration", "80", "--speed", "40", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "frames ok" in out and "bad: 0" in out and "samples missing: 0" in out
    m = re.search(r"left side dropped (\d+), right side dropped (\d+)", out)
    assert m is not None
    left, right = int(m[1]), int(m[2])
    assert left == 3 and right == 1


def test_bad_speed_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--headless", "--speed", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("levelbelt: error: --speed") and "Traceback" not in err


async def test_live_screen_shows_phase_angles_and_link_state() -> None:
    rig = DemoRig(weak_side="right", seed=2, speed=40).start()
    try:
        app = DemoApp(rig)
        async with app.run_test(size=(120, 30)) as pilot:  # the full status line
            for _ in range(200):
                await pilot.pause(0.05)
                if rig.live.snapshot().last_index > int((CALIBRATION_S + 6) * 100):
                    break
            await pilot.pause(0.1)
            banner = str(app.query_one("#phase", Static).render())
            assert banner.split()[0] in ("GET", "SQUEEZE", "REST")
            status = str(app.query_one("#status", Static).render())
            assert "belt fw 0.1.0" in status and "0 bad" in status
            assert re.fullmatch(r"[+-]\d+\.\d", app.query_one("#obl", Digits).value.strip())
            await pilot.press("q")
    finally:
        rig.stop()
