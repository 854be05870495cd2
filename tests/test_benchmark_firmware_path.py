"""The firmware per-sample path benchmark runs end to end (quick mode) on MicroPython.

Checks the output contract (last line is one JSON object with the documented keys) and the
allocation figures, which are deterministic. Timing is never asserted here.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "benchmarks" / "firmware_path.py"
WASM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"

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
    assert shutil.which("node"), "node is not on PATH: install Node.js 20+, then `npm ci`"
    assert WASM_PACKAGE.is_dir(), "node_modules is missing: run `npm ci` in the repo root"
    proc = subprocess.run(
        [sys.executable, str(DRIVER), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
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
