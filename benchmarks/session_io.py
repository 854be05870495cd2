"""Session files: write, read and score a 1-hour 100 Hz session; memory over a 2-hour live one.

The samples are simulated (body and IMU models from `levelbelt.sim`: raw readings from the
sensor model, tilt and obliquity from the body's truth, in the protocol's integer units),
10 minutes of them repeated with the index running on. The session carries what a real
one does: drill engine events from a real plan run through `levelbelt.engine`, a belt
DROP_CUE event for every simulated drop, coach markers, a score per minute and a summary.

* write: 5-sample batches (the USB batching) through `SessionWriter`, its clock advanced
  with the samples so the once-a-second flush happens as it would live. Overhead = time
  spent in the writer per second of session.
* read: `read_session` of the finished file (best of 3, file in the page cache); the
  reference in the same run is the host `Decoder` over the same samples as SAMPLES
  frames (what replaying a raw wire log would cost).
* score: `levelbelt.scoring.score_session` on what was read.
* live: 2 hours of wire frames (SAMPLES, 5 per frame) through the host `Decoder` into a
  `SessionWriter`; resident memory sampled every simulated minute.

    .venv/bin/python benchmarks/session_io.py [--quick]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levelbelt import protocol as p
from levelbelt.engine import DrillEngine, event_to_json
from levelbelt.plans import expand, parse_plan
from levelbelt.scoring import DropEvent, Gap, score_session
from levelbelt.session import SessionMeta, SessionWriter, read_session
from levelbelt.sim.body import simulate_body
from levelbelt.sim.scenarios import demo_loop
from levelbelt.sim.sensor import SensorModel, measure

RATE = 100
BATCH = 5
DWELL_S = 0.15
META = SessionMeta(
    athlete="Benchmark Athlete", belt="LevelBelt-BE00", rate_hz=RATE, firmware="1.0.0",
    detector={"threshold_cdeg": 500, "dwell_ms": 150, "release_cdeg": 100, "stance": "either"},
)


@dataclass(frozen=True)
class Template:
    """Simulated samples (n, 8) int16 (ax ay az gx gy gz tilt obl) and their drops."""

    rows: NDArray[np.int16]
    drops: list[tuple[int, int, int, int]]  # onset index, cue index, side code, peak cdeg


def simulate(seconds: float, seed: int = 7) -> Template:
    script = []
    total = 0.0
    for seg in demo_loop("right", seed=seed):
        script.append(seg)
        total += seg.total_s
        if total >= seconds:
            break
    trace = simulate_body(script, RATE, seed)
    imu = measure(trace, SensorModel(), seed=seed)
    n = int(seconds * RATE)
    rows = np.empty((n, 8), dtype=np.int16)
    rows[:, :3] = imu.accel_mg[:n]
    rows[:, 3:6] = imu.gyro_16dps[:n]
    rows[:, 6] = np.round(trace.tilt_deg[:n] * 100)
    rows[:, 7] = np.round(trace.obliquity_deg[:n] * 100)
    drops = []
    for ev in trace.events:
        if ev.kind == "drop" and ev.end_s * RATE < n:
            onset = round(ev.start_s * RATE)
            drops.append((onset, onset + int(DWELL_S * RATE), 1 if ev.side == "left" else 2,
                          int(abs(ev.peak_deg) * 100)))
    return Template(rows, drops)


def engine_events(duration_s: float) -> list[dict[str, Any]]:
    """JSON events of a real plan run by the drill engine."""
    block = (
        '[[blocks]]\nkind = "isometric"\nside = "both"\nreps = 5\nhold_s = 3\nrest_s = 5\n'
        'get_ready_s = 5\nposition = "standing"\n\n'
        '[[blocks]]\nkind = "single_leg"\nside = "both"\nhold_s = 30\nreps = 1\n'
        'rest_s = 15\nget_ready_s = 5\norder = "alternate"\n\n'
    )
    text = 'name = "benchmark"\ndescription = "standing squeezes and single-leg holds"\n'
    plan = parse_plan(text + block * (int(duration_s // 120) + 2), "benchmark.toml")
    engine = DrillEngine(expand(plan))
    events = engine.start(0.0) + engine.advance(duration_s)
    return [event_to_json(e) for e in events if e.t_s < duration_s]


def batches(template: Template, seconds: float) -> Iterator[p.SampleBatch]:
    """Batches of consecutive samples, the template repeated with the index running on."""
    n_t = template.rows.shape[0]
    total = int(seconds * RATE)
    for first in range(0, total, BATCH):
        k = first % n_t
        rows = template.rows[k : k + BATCH]
        yield p.SampleBatch(0, first, rows[:, 6], rows[:, 7], rows[:, :6])


def drop_events(template: Template, seconds: float) -> list[p.Event]:
    n_t = template.rows.shape[0]
    out = []
    for rep in range(int(seconds * RATE) // n_t + 1):
        for onset, cue, side, peak in template.drops:
            if rep * n_t + cue < seconds * RATE:
                out.append(p.Event(0, p.EV_DROP_CUE, side, rep * n_t + cue, rep * n_t + onset,
                                   peak))
    return out


def write_session(directory: Path, template: Template, seconds: float,
                  engine: list[dict[str, Any]]) -> tuple[Path, float]:
    """Write the session as a live client would; returns (path, seconds spent writing)."""
    clock_now = [0.0]
    w = SessionWriter.create(directory, META, clock=lambda: clock_now[0])
    pending: list[tuple[float, Callable[[], None]]] = []
    for ev in drop_events(template, seconds):
        pending.append((ev.index / RATE, partial(w.append_belt_event, ev)))
    for data in engine:
        pending.append((float(data["t_s"]),
                        partial(w.append_event, "engine", data, t_s=data["t_s"])))
    for minute in range(int(seconds // 60)):
        t = minute * 60.0 + 30.0
        pending.append((t, partial(w.append_event, "coach",
                                   {"type": "marker", "label": "good", "t": t})))
        pending.append((t + 1, partial(w.append_score, "hold", {
            "minute": minute, "side": "left", "rms_deg": 1.4, "drops": 2})))
    pending.sort(key=lambda e: e[0])
    todo = iter(pending)
    due = next(todo, None)
    spent = 0.0
    for b in batches(template, seconds):
        t_b = (b.first_index + BATCH) / RATE
        clock_now[0] = t_b
        t0 = time.perf_counter()
        w.append_samples(b)
        while due is not None and due[0] <= t_b:
            due[1]()
            due = next(todo, None)
        spent += time.perf_counter() - t0
    t0 = time.perf_counter()
    w.close({"note": "benchmark"})
    spent += time.perf_counter() - t0
    return w.path, spent


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def score(session_path: Path) -> float:
    s = read_session(session_path)
    engine = [e.data for e in s.events if e.source == "engine"]
    drops = [
        DropEvent(onset_s=e.t_s - (e.index - e.data["onset_index"]) / RATE,
                  side=e.data["side"], peak_deg=e.data["peak_cdeg"] / 100.0, cue_s=e.t_s)
        for e in s.events
        if e.source == "belt" and e.data.get("type") == "drop_cue"
        and e.t_s is not None and e.index is not None
    ]
    gaps = [Gap(g.t0_s, g.t1_s) for g in s.gaps if g.t0_s is not None and g.t1_s is not None]
    t_s, tilt, obl = s.samples.t_s, s.samples.tilt_deg, s.samples.obl_deg
    elapsed, _ = best_of(lambda: score_session(t_s, tilt, obl, engine, rate_hz=RATE,
                                               drops=drops, gaps=gaps), 2)
    return elapsed


def rss_mb() -> float:
    """Resident set size now (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def wire_frames(rows: NDArray[np.int16]) -> list[bytearray]:
    """SAMPLES frames of BATCH samples each (index and seq patched in by the caller)."""
    n = rows.shape[0] - rows.shape[0] % BATCH
    per_frame = p.BATCH_HEADER_LEN + BATCH * p.SAMPLE_LEN
    frames = np.zeros((n // BATCH, per_frame), dtype=np.uint8)
    frames[:, 0], frames[:, 1] = p.VERSION, p.FT_SAMPLES
    frames[:, p.BATCH_HEADER_LEN:] = rows[:n].reshape(-1, BATCH * 8).view(np.uint8)
    return [bytearray(f.tobytes()) for f in frames]


def decode_all(frames: list[bytearray]) -> int:
    """Reference: the host decoder over the same samples as wire frames."""
    decoder = p.Decoder()
    n = 0
    for i, frame in enumerate(frames):
        struct.pack_into("<HI", frame, 2, i & 0xFFFF, i * BATCH)
        batch = decoder.decode(frame)
        assert isinstance(batch, p.SampleBatch)
        n += batch.count
    return n


def live(directory: Path, template: Template, seconds: float) -> dict[str, float]:
    """Wire frames -> Decoder -> SessionWriter for `seconds`; RSS every simulated minute."""
    frame_list = wire_frames(template.rows)
    decoder = p.Decoder()
    clock_now = [0.0]
    w = SessionWriter.create(directory, META, clock=lambda: clock_now[0])
    samples_total = int(seconds * RATE)
    warm_at = min(600 * RATE, samples_total // 10)
    rss: list[tuple[int, float]] = []
    seq = 0
    index = 0
    t_start = time.perf_counter()
    while index < samples_total:
        for frame in frame_list:
            struct.pack_into("<HI", frame, 2, seq & 0xFFFF, index)
            batch = decoder.decode(frame)
            assert isinstance(batch, p.SampleBatch)
            clock_now[0] = index / RATE
            w.append_samples(batch)
            seq += 1
            index += BATCH
            if index % (10 * RATE) == 0:
                w.append_event("engine", {"type": "phase_started", "kind": "hold"})
            if index % (60 * RATE) == 0:
                w.append_score("hold", {"side": "right", "rms_deg": 1.1})
                rss.append((index, rss_mb()))
            if index >= samples_total:
                break
    elapsed = time.perf_counter() - t_start
    w.close()
    after_warm = [m for i, m in rss if i >= warm_at]
    return {
        "live_seconds": seconds,
        "rss_mb_start": round(after_warm[0], 1),
        "rss_mb_end": round(rss[-1][1], 1),
        "rss_mb_peak": round(max(m for _, m in rss), 1),
        "rss_growth_mb": round(rss[-1][1] - after_warm[0], 2),
        "live_path_overhead_pct": round(100 * elapsed / seconds, 3),
        "live_file_mb": round(w.path.stat().st_size / 1e6, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="a 10-minute session and a 20-minute live run (for tests)")
    args = ap.parse_args()
    session_s = 600.0 if args.quick else 3600.0
    live_s = 1200.0 if args.quick else 7200.0
    # Simulated in a child process so the simulator's working memory does not sit in
    # this process's resident set while memory is being measured.
    with ProcessPoolExecutor(1) as pool:
        template = pool.submit(simulate, min(600.0, session_s)).result()
    rss_before = rss_mb()
    out: dict[str, Any] = {"quick": args.quick, "session_s": session_s}

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # First, while the heap is still small: memory over a long live session.
        lv = live(tmp_path / "live", template, live_s)
        print(f"live {live_s / 3600:.2f} h (wire frames -> decoder -> writer): RSS "
              f"{rss_before:.1f} MB before, {lv['rss_mb_start']} MB after warm-up, "
              f"{lv['rss_mb_end']} MB at the end "
              f"(growth {lv['rss_growth_mb']} MB, peak {lv['rss_mb_peak']} MB); "
              f"decode+write {lv['live_path_overhead_pct']} % of real time")

        engine = engine_events(session_s)
        path, write_s = write_session(tmp_path / "sessions", template, session_s, engine)
        size = path.stat().st_size
        read_s, session = best_of(lambda: read_session(path), 3)
        assert hasattr(session, "samples") and len(session.samples) == int(session_s * RATE)
        frames = wire_frames(np.concatenate([template.rows] * round(session_s / 600)))
        wire_s, decoded = best_of(lambda: decode_all(frames), 3)
        assert decoded == len(session.samples)
        score_s = score(path)

    per_hour = 3600.0 / session_s
    out.update(
        score_1h_s=round(score_s * per_hour, 4),
        read_1h_s=round(read_s * per_hour, 4),
        write_overhead_pct=round(100 * write_s / session_s, 4),
        file_mb_per_hour=round(size / 1e6 * per_hour, 2),
        rss_mb_2h_live=lv["rss_mb_peak"],
        rss_mb_before_live=round(rss_before, 1),
        rss_growth_mb_2h_live=lv["rss_growth_mb"],
        read_vs_wire_decode=round(read_s / wire_s, 3),
        engine_events=len(engine),
        write_s=round(write_s, 4),
        bytes_per_sample=round(size / (session_s * RATE), 2),
        **{k: v for k, v in lv.items() if k not in ("rss_mb_peak", "rss_growth_mb")},
    )
    print(f"{session_s / 3600:.2f} h session, {int(session_s * RATE)} samples: "
          f"file {size / 1e6:.2f} MB ({out['bytes_per_sample']} B/sample), "
          f"writing {write_s:.3f} s = {out['write_overhead_pct']} % of real time")
    print(f"read {read_s:.3f} s; the host decoder over the same samples as wire frames "
          f"{wire_s:.3f} s (read / decode = {out['read_vs_wire_decode']})")
    print(f"score_session {score_s:.3f} s over {len(engine)} engine events")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
