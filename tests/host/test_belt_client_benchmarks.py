"""The link benchmarks run end to end in a short form and keep their output contract.

benchmarks/link_faults.py: forced disconnects, every one refilled by RESEND (its figures
are deterministic: virtual clock, seeded). benchmarks/multi_belt.py: real time, so only
the contract and the absence of loss are checked, never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def last_json(script: str, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def test_link_faults_loses_nothing_within_the_ring_across_forced_disconnects() -> None:
    result = last_json("link_faults.py", "--outages", "6", "--max-s", "12")
    for key in (
        "disconnects",
        "samples_expected",
        "samples_logged",
        "samples_lost_within_ring",
        "mean_recovery_s",
        "wire_bytes_per_sample",
        "notifications_per_s",
    ):
        assert key in result, key
    assert result["disconnects"] == 6
    assert result["samples_lost_within_ring"] == 0
    assert result["samples_logged"] == result["samples_expected"]
    assert result["resend_requests"] == 6


def test_multi_belt_streams_several_belts_into_one_host_without_loss() -> None:
    result = last_json("multi_belt.py", "--belts", "2", "--seconds", "2")
    for key in ("belts", "host_cpu_percent", "max_ui_lag_ms"):
        assert key in result, key
    assert result["belts"] == 2
    assert result["samples_lost"] == 0
    assert result["ui_ticks"] == 60
