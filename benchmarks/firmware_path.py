"""Benchmark the belt's per-sample path on MicroPython 1.27 (wasm) against a float filter.

    .venv/bin/python benchmarks/firmware_path.py [--quick] [--samples N] [--reps R]
        [--minutes M] [--latency-drops K] [--no-opcount]

Runs benchmarks/mpy/firmware_path_mpy.py inside the real MicroPython interpreter (the
WebAssembly build, through tests/mpy/run_mpy.mjs and node) in ONE process, then prints the
figures and, as the last line, one JSON object. What is measured and why is in
docs/benchmarks.md; in short:

* bytes_per_sample: net heap bytes per sample of the full path (USB and BLE; the larger);
* time_ratio_vs_float_ref: full per-sample path time / plain float Madgwick update time,
  both timed in the same MicroPython run (target <= 0.5), plus the other ratios and the
  profile of the path by stage;
* heap_growth_bytes_10min: heap after gc.collect() at minute 10 minus minute 1 at 100 Hz;
* cue_latency_ms_p95: cue index - true drop onset - dwell, in ms (p95 over synthetic drops).

Absolute times are the wasm interpreter on this host, not the ESP32; only the ratios are
meant to carry over, and even they only approximately (see the caveat in the docs).
`--no-opcount` skips the CPython bytecode-instruction counts (a VM-neutral work measure).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "mpy" / "run_mpy.mjs"
SCRIPT = ROOT / "benchmarks" / "mpy" / "firmware_path_mpy.py"
WASM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
MARK = "BENCH_JSON "
TARGET_RATIO = 0.5
PERIOD_US = {100: 10_000.0, 200: 5_000.0}

FIRST_KEYS = (
    "bytes_per_sample",
    "time_ratio_vs_float_ref",
    "heap_growth_bytes_10min",
    "cue_latency_ms_p95",
    "samples",
)

ESP32_NOTE = (
    "not estimated: these times come from the MicroPython wasm build under node on the host, "
    "and there is no measured wasm-to-ESP32 conversion factor (interpreter dispatch, float "
    "boxing and GC cost scale differently on an Xtensa core with a ~100 KB heap). The "
    "portable figures are the ratios against the float Madgwick update in the same run and "
    "the CPython bytecode-instruction counts per sample. To get the budget, run "
    "benchmarks/mpy/firmware_path_mpy.py on a board (not done here)."
)


def fail(msg: str) -> None:
    print(f"firmware_path: {msg}", file=sys.stderr)
    raise SystemExit(2)


def run_micropython(args: list[str], timeout_s: float) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        fail("node is not on PATH: install Node.js 20+, then run `npm ci` in the repo root")
    if not WASM_PACKAGE.is_dir():
        fail(f"{WASM_PACKAGE.relative_to(ROOT)} is missing (node_modules not installed): "
             "run `npm ci` in the repo root")
    assert node is not None
    try:
        proc = subprocess.run(
            [node, str(RUNNER), "--script", str(SCRIPT), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        fail(f"the MicroPython run did not finish within {timeout_s:.0f} s")
        raise  # unreachable; keeps type checkers quiet
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        fail(f"the MicroPython run failed (exit {proc.returncode})\n--- stdout ---\n"
             f"{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    for ln in proc.stdout.splitlines():
        if ln.startswith("# "):
            print("mpy " + ln)
    result: dict[str, Any] = json.loads(lines[-1][len(MARK):])
    return result


def _count_ops(run: Callable[[], object]) -> int:
    """CPython bytecode instructions executed by `run()` (sys.settrace opcode events)."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "call":
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def cpython_op_counts(n: int) -> dict[str, float]:
    """Net CPython 3 bytecode instructions per call for the same code and input.

    A proxy for interpreter work that does not depend on the host: MicroPython's bytecode
    is a different instruction set of similar granularity, and C-level work (float
    boxing, GC, builtins) is not counted at all.
    """
    for extra in (ROOT / "firmware", SCRIPT.parent):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))
    bench: Any = importlib.import_module("firmware_path_mpy")
    ref: Any = importlib.import_module("float_reference")
    TiltFilter: Any = importlib.import_module("belt.fusion").TiltFilter

    still = bench.make_still(bench.CALIB_SAMPLES, 3)
    track = bench.path_track()
    size = track.n
    fl = bench.float_lists(track)
    ints = (track.ax, track.ay, track.az, track.gx, track.gy, track.gz)
    sink = bench.Sink()
    usb = bench.make_pipeline("usb", sink)
    ble = bench.make_pipeline("ble", sink)
    for p in (usb, ble):
        bench.calibrate(p, still)
        bench.loop_push(p, size, track)
    filt = TiltFilter(bench.RATE)
    filt.set_bias(usb.filter.bias_x, usb.filter.bias_y, usb.filter.bias_z)
    filt.reset(0, 1000, 0)
    mad = ref.MadgwickIMU(bench.RATE)
    mad.q0 = mad.q1 = 0.5**0.5
    comp = ref.Complementary(bench.RATE)
    cases: dict[str, Callable[[], object]] = {
        "usb_path": lambda: bench.loop_push(usb, n, track),
        "ble_path": lambda: bench.loop_push(ble, n, track),
        "filter": lambda: bench.loop_update6(filt, n, size, *ints),
        "madgwick": lambda: bench.loop_madgwick(mad, n, size, *fl),
        "complementary": lambda: bench.loop_update6(comp, n, size, *ints),
        "harness6": lambda: bench.loop_nop6(sink, n, size, *ints),
    }
    ops = {name: _count_ops(run) for name, run in cases.items()}
    harness = ops.pop("harness6")
    return {name: round((v - harness) / n, 1) for name, v in ops.items()}


def ordered(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: result.get(k) for k in FIRST_KEYS}
    for k in sorted(result):
        if k not in out:
            out[k] = result[k]
    return out


def report(r: dict[str, Any]) -> None:
    us = r["us_per_call"]
    print()
    print("LevelBelt firmware per-sample path on MicroPython 1.27 (wasm, one process)")
    print(f"  samples per timed case {r['samples']}, median of {r['reps']} reps")
    print()
    print("allocation")
    print(f"  full path, bytes/sample        usb {r['bytes_per_sample_usb']:.3f}"
          f"   ble {r['bytes_per_sample_ble']:.3f}   (target 0)")
    print(f"  heap_lock() clean              usb {r['heap_lock_ok_usb']}"
          f"   ble {r['heap_lock_ok_ble']}")
    print(f"  after a FIFO gap (push n=3)    heap_lock clean {r['fifo_gap_push_heap_lock_ok']}"
          "   (not the steady path; informational)")
    print(f"  heap growth min 1 -> {r['heap_growth_minutes']}        "
          f"usb {r['heap_growth_bytes_usb']} B   ble {r['heap_growth_bytes_ble']} B"
          f"   ({r['heap_growth_samples']} samples at 100 Hz, target 0)")
    print(f"  float Madgwick, bytes/sample   {r['float_ref_bytes_per_sample']:.0f}"
          f"   (float complementary {r['float_complementary_bytes_per_sample']:.0f})")
    print()
    print("time per call, us (wasm on this host; compare ratios, not absolutes)")
    for name in ("usb_path", "ble_path", "filter", "madgwick", "madgwick_raw",
                 "madgwick_gc_off", "madgwick_gc_threshold_off", "complementary", "harness6"):
        if name in us:
            print(f"  {name:<28} {us[name]:8.2f}")
    print()
    ratio = r["time_ratio_vs_float_ref"]
    verdict = "MET" if ratio <= TARGET_RATIO else "NOT MET"
    print(f"time_ratio_vs_float_ref          {ratio:.3f}   (target <= {TARGET_RATIO}: {verdict})")
    for key in ("time_ratio_usb_path_vs_float_ref", "time_ratio_ble_path_vs_float_ref",
                "time_ratio_vs_float_ref_net", "time_ratio_vs_float_ref_gc_off",
                "time_ratio_vs_float_ref_gc_threshold_off", "time_ratio_vs_float_ref_raw_units",
                "time_ratio_filter_vs_float_ref", "time_ratio_vs_float_complementary",
                "time_ratio_filter_vs_float_complementary"):
        if key in r:
            print(f"  {key:<42} {r[key]:.3f}")
    print()
    print(f"profile of the USB path (net of harness, us/sample; total "
          f"{r['profile_usb_path_net_us']:.2f})")
    prof = r["profile_usb_path_us"]
    share = r["profile_usb_path_share"]
    for name in sorted(prof, key=lambda k: -prof[k]):
        print(f"  {name:<16} {prof[name]:7.2f}  {100 * share[name]:5.1f} %")
    print(f"  BLE path net {r['profile_ble_path_net_us']:.2f} us/sample; its encoder (TILT x3)"
          f" {r['profile_ble_encoder_tilt_us']:.2f}")
    print(f"  probe: raw record via struct.pack_into {r['probe_encoder_pack_into_us']:.2f}"
          f" us/sample (vs encoder {prof['encoder']:.2f})")
    if "probe_crc32_builtin_us_per_sample" in r:
        print(f"  probe: binascii.crc32 (C) {r['probe_crc32_builtin_us_per_sample']:.2f}"
              f" us/sample (vs crc16 {prof['usb_crc16']:.2f})")
    if "cpython_ops_per_sample" in r:
        print()
        print("CPython bytecode instructions per call (net of harness; work proxy, no C cost)")
        for name, v in r["cpython_ops_per_sample"].items():
            print(f"  {name:<16} {v:8.1f}")
    print()
    print(f"cue latency beyond the {r['cue_latency_dwell_samples']}-sample dwell vs true onset"
          f" ({r['cue_latency_drops']} drops, missed {r['cue_latency_missed']},"
          f" extra {r['cue_latency_extra_cues']})")
    print(f"  p95 {r['cue_latency_ms_p95']} ms   max {r['cue_latency_ms_max']} ms"
          f"   min {r['cue_latency_ms_min']} ms   histogram {r['cue_latency_ms_histogram']}")
    print(f"  belt obliquity vs truth on the path track: rms {r['obl_err_rms_cdeg']} cdeg,"
          f" max {r['obl_err_max_cdeg']} cdeg")
    print()
    print(f"ESP32 budget: {ESP32_NOTE}")
    frac = r["wasm_fraction_of_period"]
    print(f"  (wasm on this host only: USB path {100 * frac['usb_path_100hz']:.2f} % of 10 ms)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N for tests")
    ap.add_argument("--samples", type=int, help="samples per timed case (default 20000)")
    ap.add_argument("--reps", type=int, help="timed repetitions, median taken (default 5)")
    ap.add_argument("--minutes", type=int, help="simulated minutes for heap growth (10)")
    ap.add_argument("--latency-drops", type=int, help="synthetic drops for cue latency (50)")
    ap.add_argument("--no-opcount", action="store_true", help="skip CPython op counts")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds for the mpy run")
    a = ap.parse_args(argv)

    args: list[str] = ["--quick"] if a.quick else []
    for flag, value in (("--samples", a.samples), ("--reps", a.reps),
                        ("--minutes", a.minutes), ("--latency-drops", a.latency_drops)):
        if value is not None:
            args += [flag, str(value)]
    r = run_micropython(args, a.timeout)
    if not r.get("micropython"):
        fail("the benchmark script did not run on MicroPython")

    us = r["us_per_call"]
    r["target_time_ratio"] = TARGET_RATIO
    r["target_time_ratio_met"] = r["time_ratio_vs_float_ref"] <= TARGET_RATIO
    r["wasm_fraction_of_period"] = {
        f"{path}_{hz}hz": round(us[path] / period, 5)
        for path in ("usb_path", "ble_path")
        for hz, period in PERIOD_US.items()
    }
    r["esp32_budget_fraction_of_period"] = None
    r["esp32_budget_note"] = ESP32_NOTE
    if not a.no_opcount:
        r["cpython_ops_per_sample"] = cpython_op_counts(200 if a.quick else 2000)
        ops = r["cpython_ops_per_sample"]
        r["cpython_ops_ratio_vs_float_ref"] = round(
            max(ops["usb_path"], ops["ble_path"]) / ops["madgwick"], 3)
    r["command"] = "python benchmarks/firmware_path.py" + (" " + " ".join(args) if args else "")
    report(r)
    print(json.dumps(ordered(r), sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
