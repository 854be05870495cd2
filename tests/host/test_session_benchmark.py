"""The session I/O benchmark runs end to end in quick mode and keeps its output contract
(the last line is one JSON object with the documented keys). No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "session_io.py"

KEYS = ("score_1h_s", "read_1h_s", "write_overhead_pct", "file_mb_per_hour", "rss_mb_2h_live",
        "rss_growth_mb_2h_live", "read_vs_wire_decode", "bytes_per_sample", "session_s")


def test_session_io_benchmark_quick_mode_reports_every_figure() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    missing = [k for k in KEYS if k not in result]
    assert not missing, f"missing {missing} in {result}"
    assert result["quick"] is True and result["session_s"] == 600.0
    for key in ("read_1h_s", "write_overhead_pct", "rss_mb_2h_live", "read_vs_wire_decode"):
        assert isinstance(result[key], float) and result[key] > 0, key
    # Sizes do not depend on the machine: 16 bytes of samples per row as base64 plus
    # the per-second block and the events.
    assert 21.3 < result["bytes_per_sample"] < 26
    assert abs(result["file_mb_per_hour"] - result["bytes_per_sample"] * 0.36) < 0.02
    assert isinstance(result["score_1h_s"], float) and result["score_1h_s"] > 0
    assert result["engine_events"] > 0  # a real plan's events went into the file
