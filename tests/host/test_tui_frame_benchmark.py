"""The dashboard frame benchmark runs end to end in a short run and keeps its output
contract (the last line is one JSON object with the documented keys). No timing is
asserted: the figures go to docs/benchmarks.md from full runs, not bounded here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "tui_frame.py"


def test_tui_frame_benchmark_reports_every_figure_for_one_and_four_belts() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--seconds", "2"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"frame_ms_p95", "cpu_percent_per_belt", "max_alert_lag_ms", "belts_4",
            "seconds"} == set(result)
    assert result["frame_ms_p95"] > 0 and result["cpu_percent_per_belt"] > 0
    four = result["belts_4"]
    assert four["frames_per_s"] > 0 and four["samples_missing"] == 0
    assert {"frame_ms_p50", "frame_ms_max", "alerts", "max_alert_lag_ms"} <= set(four)
