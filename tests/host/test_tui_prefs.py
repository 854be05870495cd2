"""Dashboard settings: remembered, private, validated by the belt's own limits, never lost."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from levelbelt.errors import ConfigError
from levelbelt.history import sessions_dir
from levelbelt.tui.prefs import (
    PREFS_NAME,
    BeltRef,
    DashboardPrefs,
    DetectorPrefs,
    PrefsStore,
)


def test_settings_round_trip_through_a_private_file(tmp_path: Path) -> None:
    store = PrefsStore(tmp_path)
    prefs = DashboardPrefs(plan="balance-ladder", last_belt=BeltRef("usb", "/dev/ttyUSB0",
                                                                    "/dev/ttyUSB0"),
                           athlete="sam", weaker="left")
    prefs = prefs.with_detector("single-leg", "right", DetectorPrefs(6.5, 200, 1.5))
    store.save(prefs)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    again = PrefsStore(tmp_path).load()
    assert again == prefs
    assert again.detector_for("single-leg", "right").threshold_cdeg == 650
    assert again.detector_for("isometric", "left") == DetectorPrefs()
    assert again.detector_cdeg("single-leg", "right") == (650, 200, 150)


def test_config_dir_comes_from_the_environment(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LEVELBELT_DATA_DIR", str(tmp_path / "data"))
    assert PrefsStore().path == tmp_path / "config" / PREFS_NAME
    assert sessions_dir() == tmp_path / "data" / "sessions"  # user data, not settings


@pytest.mark.parametrize(("threshold", "dwell", "release", "words"), [
    (0.5, 150, 0.2, "threshold out of range"),
    (5.0, 2500, 1.0, "dwell out of range"),
    (5.0, 150, 5.0, "release must be below threshold"),
])
def test_detector_settings_outside_the_belts_limits_are_refused(
        threshold: float, dwell: int, release: float, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        DetectorPrefs(threshold, dwell, release)


def test_a_damaged_file_is_reported_kept_aside_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / PREFS_NAME
    path.write_text('{"version": 1, "plan": "x", ', encoding="utf-8")
    store = PrefsStore(tmp_path)
    assert store.load() == DashboardPrefs()
    assert store.error is not None and store.error.startswith(f"{path}:1: not JSON")
    store.save(DashboardPrefs(athlete="kim"))
    assert (tmp_path / (PREFS_NAME + ".bad")).read_text(encoding="utf-8").startswith(
        '{"version": 1, "plan": "x"')
    assert json.loads(path.read_text(encoding="utf-8"))["athlete"] == "kim"


def test_a_bad_entry_names_the_file_and_the_problem(tmp_path: Path) -> None:
    (tmp_path / PREFS_NAME).write_text(json.dumps({
        "version": 1, "detector": {"single-leg/left": {"threshold_deg": 40, "dwell_ms": 150,
                                                       "release_deg": 1}}}), encoding="utf-8")
    store = PrefsStore(tmp_path)
    store.load()
    assert store.error is not None
    assert str(tmp_path / PREFS_NAME) in store.error and "threshold out of range" in store.error


def test_weaker_side_choice_is_checked() -> None:
    with pytest.raises(ConfigError, match="weaker side must be one of auto, left, right, none"):
        DashboardPrefs(weaker="both")
