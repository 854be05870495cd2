"""The firmware tilt filter agrees with the x-io imufusion AHRS on a real recording.

Uses `benchmarks/xio_agreement.py` and the recording outside the repository
(`../shared/data/xio-fusion/`); skipped when that data is absent. Measured with the
Pipeline defaults (tau 1 s, gate 0.1 g): RMS 1.62 deg roll / 1.34 deg pitch, p99 10.7 /
7.6 deg (the differences come from vigorous shaking, up to 1.5 g, where the two filters
trust the accelerometer differently); on the still start the two agree within 0.05 deg.
The bounds below leave a wide margin for parameter changes, not for convention errors:
a swapped sign or axis gives tens of degrees.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "xio_agreement", ROOT / "benchmarks" / "xio_agreement.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


xio = _load()
DATA: Path = xio.DEFAULT_DATA
pytestmark = pytest.mark.skipif(
    not (DATA / xio.SENSOR_FILE).is_file() or not (DATA / xio.REFERENCE_FILE).is_file(),
    reason=f"x-io recording not found in {DATA}",
)


@pytest.fixture(scope="module")
def agreement() -> Any:
    return xio.run(DATA)


def test_angle_conventions_match_the_reference(agreement: Any) -> None:
    f = xio.figures(agreement)
    assert f["quiet_samples"] > 1000
    assert abs(f["convention_roll_mean_deg"]) < 0.1
    assert abs(f["convention_pitch_mean_deg"]) < 0.1


def test_still_start_agrees_closely(agreement: Any) -> None:
    a = agreement
    t = a.t_s
    first_move = t[np.argmin(a.quiet)]  # the first row that is not still
    sel = (t >= t[0] + xio.SKIP_S) & (t < first_move)
    assert sel.sum() > 300
    roll = xio.wrap(a.roll_deg - a.ref_roll_deg)[sel]
    pitch = xio.wrap(a.pitch_deg - a.ref_pitch_deg)[sel]
    assert np.abs(roll).max() < 0.2
    assert np.abs(pitch).max() < 0.2


def test_whole_recording_agrees_within_measured_bounds(agreement: Any) -> None:
    f = xio.figures(agreement)
    assert f["samples"] > 13000
    assert f["xio_roll_rms_deg"] < 2.5
    assert f["xio_pitch_rms_deg"] < 2.5
    assert f["xio_roll_p99_deg"] < 15.0
    assert f["xio_pitch_p99_deg"] < 12.0
