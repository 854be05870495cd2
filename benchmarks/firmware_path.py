"""Benchmark the belt's per-sample path on MicroPython 1.27 (wasm) against a float filter.

    .venv/bin/python benchmarks/firmware_path.py [--quick] [--samples N] [--reps R]
        [--minutes M] [--latency-drops K] [--no-opcount]

Runs benchmarks/mpy/firmware_path_mpy.py inside the real MicroPython interpreter (the
WebAssembly build, through tests/mpy/run_mpy.mjs and node) in ONE process, then prints the
figures and, as the last line, one JSON object. What is measured and why is in
docs/benchmarks.md; in short:

* bytes_per_sample: net heap bytes per sample of the full path (the larger of USB: the
  sample into the resend ring and out over USB; and BLE: the same with a central
  connected, frames built from the ring and notified);
* time_ratio_vs_float_ref: the sample path (FIFO read -> fusion -> detector -> haptics
  decision -> record into the resend ring; each IMU driver reading one sample per drain
  from a replay bus, the slower chip counted) / a plain float Madgwick update, both
  timed in the same MicroPython run (target <= 0.5); the USB and BLE transport are
  separate figures; plus the other ratios and the profile of the path by stage;
* heap_growth_bytes_10min: heap after gc.collect() at minute 10 minus minute 1 at 100 Hz;
* cue_latency_ms_p95: cue index - true drop onset - dwell, in ms (p95 over synthetic drops);
* esp32_estimate: CPU time per sample on an ESP32, ESTIMATED by scaling the wasm times
  with a published ESP32 time for a plain integer loop timed in the same run, plus the
  computed I2C bus time, as us and % of the 10 ms / 5 ms period.

Absolute times are the wasm interpreter on this host, not the ESP32; the ratios carry
over approximately (see the caveat in the docs), the ESP32 figures are an estimate.
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

# The CPU reference: `for i in range(n): s = a + b` in a function, 1 000 000 passes, took
# "about 2 (non SPIRAM), 3 (SPIRAM) seconds on a ESP32" (MicroPython on an ESP32 at its
# usual 160-240 MHz, 2019): https://github.com/loboris/MicroPython_K210_LoBo/issues/1
# The same loop runs in the benchmark's MicroPython run (`cpu_add_loop`), which gives a
# wasm-to-ESP32 factor for plain bytecode. Since then the esp32 port moved the VM into
# IRAM and enabled the attribute/map caches (micropython/micropython#7850, 2021: +50 % to
# +200 % on the perf suite) and the ESP32-S3 core is no slower per clock, so on a current
# firmware and an S3 the figures below are likely upper bounds.
ESP32_ADD_LOOP_US = (2.0, 3.0)  # us per pass: without PSRAM, with PSRAM (heap in SPIRAM)
ESP32_NOTE = (
    "estimated, not measured on a board: the path's wasm time scaled by the ratio of a "
    "published ESP32 time for a plain integer loop to the same loop's time in this run "
    "(2 us/pass without PSRAM, 3 us/pass with PSRAM; 2019 firmware, likely an upper "
    "bound today). Bytecode-bound code scales alike; C-heavy work (struct, memoryview "
    "copies) and GC may not. I2C bus time is computed separately and added."
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
        bench.run_path(p, size, track)
    filt = TiltFilter(bench.RATE)
    filt.set_bias(usb.filter.bias_x, usb.filter.bias_y, usb.filter.bias_z)
    filt.reset(0, 1000, 0)
    mad = ref.MadgwickIMU(bench.RATE)
    mad.q0 = mad.q1 = 0.5**0.5
    comp = ref.Complementary(bench.RATE)
    edges: Any = importlib.import_module("belt_edges")
    paths: dict[str, Any] = {}
    for kind in ("mpu", "lsm"):
        p = bench.ring_pipeline(sink)
        bench.calibrate(p, still)
        d, bus = edges.track_driver(kind, track)
        edges.loop_sample_path(d, p, size)
        paths[kind] = (d, bus, p)
    cases: dict[str, Callable[[], object]] = {
        "sample_path_mpu6050": lambda: edges.loop_sample_path(paths["mpu"][0], paths["mpu"][2], n),
        "sample_harness_mpu6050": lambda: edges.loop_sample_harness(paths["mpu"][1],
                                                                  paths["mpu"][2], n),
        "sample_path_lsm6dsox": lambda: edges.loop_sample_path(paths["lsm"][0], paths["lsm"][2], n),
        "sample_harness_lsm6dsox": lambda: edges.loop_sample_harness(paths["lsm"][1],
                                                                   paths["lsm"][2], n),
        "usb_path": lambda: bench.loop_push(usb, n, track),
        "ble_path": lambda: bench.run_path(ble, n, track),
        "filter": lambda: bench.loop_update6(filt, n, size, *ints),
        "madgwick": lambda: bench.loop_madgwick(mad, n, size, *fl),
        "complementary": lambda: bench.loop_update6(comp, n, size, *ints),
        "harness6": lambda: bench.loop_nop6(sink, n, size, *ints),
    }
    ops = {name: _count_ops(run) for name, run in cases.items()}
    harness = ops.pop("harness6")
    out = {}
    for chip in ("mpu6050", "lsm6dsox"):
        bus = ops.pop("sample_harness_" + chip)
        out["sample_path_" + chip] = round((ops.pop("sample_path_" + chip) - bus) / n, 1)
    out.update({name: round((v - harness) / n, 1) for name, v in ops.items()})
    return out


def esp32_estimate(r: dict[str, Any]) -> None:
    """ESP32 CPU time per sample from the wasm times, plus the I2C bus time (computed)."""
    us = r["us_per_call"]
    ref = us["cpu_add_loop"]
    lo_f, hi_f = (published / ref for published in ESP32_ADD_LOOP_US)
    path = max(r["sample_path_us_mpu6050"], r["sample_path_us_lsm6dsox"])
    usb = r["usb_transport_us_per_sample"]
    ble = r["ble_transport_us_per_sample"]
    i2c = [max(r[f"i2c_bus_us_per_sample_{c}_{k}_per_read"] for c in ("mpu6050", "lsm6dsox"))
           for k in (5, 1)]
    est: dict[str, Any] = {
        "wasm_us_per_add_loop_pass": round(ref, 4),
        "esp32_us_per_add_loop_pass": list(ESP32_ADD_LOOP_US),
        "factor_esp32_over_wasm": [round(lo_f, 1), round(hi_f, 1)],
        "sample_path_cpu_us": [round(path * lo_f), round(path * hi_f)],
        "usb_transport_cpu_us": [round(usb * lo_f), round(usb * hi_f)],
        "ble_transport_cpu_us": [round(ble * lo_f), round(ble * hi_f)],
        "i2c_bus_us": [round(i2c[0]), round(i2c[1])],
    }
    worst = path + max(usb, ble)
    total = [worst * lo_f + i2c[0], worst * hi_f + i2c[1]]
    est["per_sample_total_us"] = [round(total[0]), round(total[1])]
    for hz, period in PERIOD_US.items():
        est[f"sample_path_cpu_pct_of_period_{hz}hz"] = [
            round(100 * path * lo_f / period, 1), round(100 * path * hi_f / period, 1)]
        est[f"per_sample_total_pct_of_period_{hz}hz"] = [
            round(100 * total[0] / period, 1), round(100 * total[1] / period, 1)]
    r["esp32_estimate"] = est
    r["esp32_budget_fraction_of_period"] = {
        f"{hz}hz": round(total[1] / period, 3) for hz, period in PERIOD_US.items()}
    r["esp32_budget_note"] = ESP32_NOTE


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
    for name in ("sample_mpu", "sample_mpu_harness", "sample_lsm", "sample_lsm_harness",
                 "ring_path", "usb_path", "ble_path", "filter", "madgwick", "harness6_floats",
                 "madgwick_raw", "madgwick_gc_off", "madgwick_gc_threshold_off",
                 "complementary", "harness6"):
        if name in us:
            print(f"  {name:<28} {us[name]:8.2f}")
    print()
    ratio = r["time_ratio_vs_float_ref"]
    verdict = "MET" if ratio <= TARGET_RATIO else "NOT MET"
    print("the sample path: FIFO read -> fusion -> detector -> haptics decision -> ring,"
          " one sample per drain, net of the replay bus and loop")
    print(f"  MPU-6050 {r['sample_path_us_mpu6050']:.2f} us, LSM6DSOX"
          f" {r['sample_path_us_lsm6dsox']:.2f} us; float Madgwick update"
          f" {r['madgwick_net_us']:.2f} us (net of loop, indexing and call)")
    print(f"time_ratio_vs_float_ref          {ratio:.3f}   (slower chip; target <="
          f" {TARGET_RATIO}: {verdict})")
    for key in ("time_ratio_sample_path_mpu6050_vs_float_ref",
                "time_ratio_sample_path_lsm6dsox_vs_float_ref", "time_ratio_vs_float_ref_gross",
                "time_ratio_vs_float_ref_gc_off", "time_ratio_vs_float_ref_gc_threshold_off"):
        if key in r:
            print(f"  {key:<42} {r[key]:.3f}")
    for name in ("mpu6050", "lsm6dsox"):
        key = "profile_sample_path_us_" + name
        if key in r:
            parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r[key].items(),
                                                                 key=lambda kv: -kv[1]))
            print(f"  profile ({name}, us): {parts}")
    print()
    print("transport, per sample, apart from the sample path (us; ratio to Madgwick)")
    print(f"  USB (SAMPLES x5 encoding, CRC-16, COBS)   {r['usb_transport_us_per_sample']:7.2f}"
          f"   {r['time_ratio_usb_transport_vs_float_ref']:.3f}")
    print(f"  BLE central at MTU 23 plus USB            {r['ble_transport_us_per_sample']:7.2f}"
          f"   {r['time_ratio_ble_transport_vs_float_ref']:.3f}")
    print("whole loop pass per sample (pipeline + ring + transport, no FIFO read) / Madgwick")
    for key in ("time_ratio_usb_path_vs_float_ref", "time_ratio_ble_path_vs_float_ref",
                "time_ratio_vs_float_ref_net", "time_ratio_vs_float_ref_raw_units",
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
    print(f"  BLE path net {r['profile_ble_path_net_us']:.2f} us/sample (USB plus a central at"
          f" MTU 23: {r['ble_notifications_per_sample']:.3f} notifications/sample);"
          f" a TILT x3 encoder alone {r['profile_ble_encoder_tilt_us']:.2f}")
    print(f"  probe: raw record via struct.pack_into {r['probe_encoder_pack_into_us']:.2f}"
          f" us/sample (vs encoder {prof['encoder']:.2f})")
    if "probe_crc32_builtin_us_per_sample" in r:
        print(f"  probe: binascii.crc32 (C) {r['probe_crc32_builtin_us_per_sample']:.2f}"
              f" us/sample (vs the crc16 function {r['probe_crc16_function_us_per_sample']:.2f},"
              f" framing {prof['usb_framing']:.2f})")
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
    print("memory held (heap bytes, MicroPython)")
    print(f"  resend ring        100 Hz {r['ring_heap_bytes_100hz']}"
          f" ({r['ring_seconds_100hz']} s)   200 Hz {r['ring_heap_bytes_200hz']}"
          f" ({r['ring_seconds_200hz']} s)")
    print(f"  BLE peripheral     {r['ble_peripheral_heap_bytes_100hz']} (besides its ring)")
    print()
    if "haptics_idle_us" in r:
        print("edges of the path: haptics decision and IMU FIFO read")
        print(f"  haptics service per loop pass   {r['haptics_idle_us']:.2f} us idle,"
              f" {r['haptics_service_us']:.2f} us with a pattern playing")
        print(f"  driver drain of 1 sample, net of the replay bus: MPU-6050"
              f" {r['driver_us_per_sample_mpu6050']:.2f} us, LSM6DSOX"
              f" {r['driver_us_per_sample_lsm6dsox']:.2f} us")
        for chip in ("mpu6050", "lsm6dsox"):
            one = r[f"i2c_bus_us_per_sample_{chip}_1_per_read"]
            five = r[f"i2c_bus_us_per_sample_{chip}_5_per_read"]
            print(f"  I2C at 400 kHz (computed), {chip:<9} {one:6.1f} us/sample draining each"
                  f" sample, {five:6.1f} draining 5: {100 * five / 10000:.1f}-"
                  f"{100 * one / 10000:.1f} % of 10 ms, {100 * five / 5000:.1f}-"
                  f"{100 * one / 5000:.1f} % of 5 ms")
        print()
    est = r["esp32_estimate"]
    print("ESP32 time budget per sample (ESTIMATE; ranges: without PSRAM .. with PSRAM)")
    print(f"  CPU reference loop: wasm {est['wasm_us_per_add_loop_pass']:.4f} us/pass, ESP32"
          f" {est['esp32_us_per_add_loop_pass']} us/pass -> factor"
          f" {est['factor_esp32_over_wasm'][0]}-{est['factor_esp32_over_wasm'][1]}")
    for key, label in (("sample_path_cpu_us", "the sample path (CPU)"),
                       ("usb_transport_cpu_us", "USB transport (CPU)"),
                       ("ble_transport_cpu_us", "BLE + USB transport (CPU)"),
                       ("i2c_bus_us", "I2C bus, 5 .. 1 samples per drain"),
                       ("per_sample_total_us", "total (path + BLE/USB + I2C)")):
        lo, hi = est[key]
        print(f"  {label:<36} {lo:6d} .. {hi:6d} us")
    for hz in (100, 200):
        a = est[f"sample_path_cpu_pct_of_period_{hz}hz"]
        b = est[f"per_sample_total_pct_of_period_{hz}hz"]
        print(f"  at {hz} Hz ({PERIOD_US[hz] / 1000:.0f} ms): path {a[0]}-{a[1]} %,"
              f" total {b[0]}-{b[1]} % of the period")
    print(f"  {ESP32_NOTE}")


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
    esp32_estimate(r)
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
