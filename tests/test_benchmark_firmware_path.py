"""The firmware per-sample path benchmark runs end to end (quick mode) on MicroPython.

Checks the output contract (last line is one JSON object with the documented keys) and the
allocation figures, which are deterministic. Timing is never asserted here.
"""

import json
import sys

from node_tools import ROOT, require_node, run_captured

DRIVER = ROOT / "benchmarks" / "firmware_path.py"

REQUIRED_KEYS = (
    "bytes_per_sample",
    "time_ratio_vs_float_ref",
    "heap_growth_bytes_10min",
    "cue_latency_ms_p95",
    "samples",
    "bytes_per_sample_usb",
    "bytes_per_sample_ble",
    "heap_lock_ok_usb",
    "heap_lock_ok_ble",
    "float_ref_bytes_per_sample",
    "float_ref_heap_lock_ok",
    "time_ratio_filter_vs_float_ref",
    "time_ratio_vs_float_complementary",
    "profile_usb_path_us",
    "cue_latency_missed",
    "esp32_budget_note",
)


def test_firmware_path_benchmark_quick() -> None:
    require_node()
    proc, output = run_captured([sys.executable, str(DRIVER), "--quick"])
    assert proc.returncode == 0, output
    lines = proc.stdout.strip().splitlines()
    assert lines, output
    result = json.loads(lines[-1])
    assert isinstance(result, dict), output

    missing = [k for k in REQUIRED_KEYS if k not in result]
    assert not missing, f"keys missing from the JSON line: {missing}\n{output}"
    assert result["samples"] > 0
    assert result["bytes_per_sample"] == 0, output
    assert result["heap_lock_ok_usb"] is True and result["heap_lock_ok_ble"] is True, output
    assert result["heap_growth_bytes_10min"] == 0, output
    # The same measurement does see allocation when there is some: the float reference.
    assert result["float_ref_bytes_per_sample"] > 0, output
    assert result["float_ref_heap_lock_ok"] is False, output
    assert result["cue_latency_missed"] == 0, output
