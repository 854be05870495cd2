"""The belt's per-sample path, measured inside MicroPython (driven by benchmarks/firmware_path.py).

Run as `node tests/mpy/run_mpy.mjs --script benchmarks/mpy/firmware_path_mpy.py [--quick]
[--samples N] [--reps R] [--minutes M] [--latency-drops K]`. Everything runs in ONE
MicroPython process, so the time figures that matter are ratios against the float
reference filters timed in the same run (float_reference.py), never absolute times
compared across runs.

Measured:
* bytes allocated per sample by the full path, with GC disabled so nothing is hidden by
  a collection, and again with `micropython.heap_lock()` held (any allocation would
  raise). Two forms: USB (Pipeline.push -> Outlet: the record into the resend ring, then
  FrameEncoder -> UsbFramer), and BLE (the same with a central connected at the default
  MTU: TILT x3 frames built from the ring and notified through belt/ble.py to a no-op
  BLE object, serviced after every sample as the main loop does);
* time per sample (js.performance.now(), read only outside the loops; median of R reps,
  the cases interleaved within each rep) for the sample path (each IMU driver draining
  one sample of the track from a replay bus into a pipeline that ends in the resend ring,
  then the haptics service), both full paths, the integer filter alone, the float
  Madgwick update and the float complementary filter, plus each stage of the path on its
  own (filter, alignment, detector, ring, encoder, USB framing) for the profile, and a
  plain integer loop as the CPU reference for the ESP32 estimate;
* heap growth between simulated minute 1 and minute M at 100 Hz, drops included;
* cue latency beyond the dwell against the true (synthetic) onset of each drop.

The input is synthetic but realistic: gait sway, tilt and yaw, vertical bounce, heel
strikes that fail the 1 g gate, gyro bias and noise, and hip drops of varying depth and
ramp (plus touch-downs shorter than the dwell). It is built once as int arrays before any
timed loop; loops index them, so the harness itself allocates nothing per iteration.

The last line printed is `BENCH_JSON {...}`.
"""

import gc
import json
import math
import struct
import sys
from array import array

import belt_edges
import float_reference as ref
import null_ble

from belt import detector as det
from belt import protocol as proto
from belt.align import Alignment
from belt.fusion import TiltFilter
from belt.outlet import Outlet
from belt.pipeline import STATE_RUNNING, Pipeline
from belt.ring import SampleRing, capacity_for

try:
    import micropython
except ImportError:  # CPython: the generator and loops still run (sanity checks only)
    micropython = None
MICROPYTHON = micropython is not None

try:
    import js  # the wasm port: performance.now() in ms, sub-microsecond resolution

    def stamp():
        return js.performance.now()

    def elapsed_ms(t0):
        return js.performance.now() - t0

except ImportError:
    import time

    if hasattr(time, "ticks_us"):  # MicroPython on a board (not tested on hardware)

        def stamp():
            return time.ticks_us()

        def elapsed_ms(t0):
            return time.ticks_diff(time.ticks_us(), t0) / 1000.0

    else:

        def stamp():
            return time.perf_counter()

        def elapsed_ms(t0):
            return (time.perf_counter() - t0) * 1000.0


if MICROPYTHON:
    mem_alloc = gc.mem_alloc
else:

    def mem_alloc():  # CPython has no equivalent: allocation figures are MicroPython-only
        return 0


RATE = 100
DT = 1.0 / RATE
TWO_PI = 2.0 * math.pi
RAD_TO_16DPS = 180.0 / math.pi * 16.0
GYRO_BIAS = (12, -7, 5)  # 1/16 deg/s, removed by the still calibration
USB_BATCH = 5  # docs/protocol.md: USB SAMPLES frames carry 5 samples
BLE_BATCH = proto.samples_per_frame(proto.BLE_DEFAULT_PAYLOAD, False)  # 3 TILT records
CALIB_SAMPLES = RATE  # Pipeline's default calib_s=1.0
FRAME_LEN = proto.BATCH_HEADER_LEN + proto.SAMPLE_LEN * USB_BATCH


# ---------------------------------------------------------------- synthetic input


class Noise:
    """Deterministic triangular noise from a 16-bit LCG (small ints on every port)."""

    def __init__(self, seed):
        self.x = seed % 65537

    def tri(self, amp):
        self.x = (self.x * 75 + 74) % 65537
        a = self.x
        self.x = (self.x * 75 + 74) % 65537
        return ((a + self.x) * (2 * amp + 1)) // 131074 - amp


class Track:
    """Canonical samples (mg, 1/16 deg/s) and the true obliquity (0.01 deg) as int arrays."""

    def __init__(self, n):
        self.n = n
        self.ax = array("h", [0] * n)
        self.ay = array("h", [0] * n)
        self.az = array("h", [0] * n)
        self.gx = array("h", [0] * n)
        self.gy = array("h", [0] * n)
        self.gz = array("h", [0] * n)
        self.obl = array("h", [0] * n)
        self.drops = []  # (first index, last index, sign) of every drop or touch-down


def _drop_shape(t, start, ramp, hold):
    """0..1: raised-cosine ramp in, hold, raised-cosine ramp out."""
    t -= start
    if t <= 0.0:
        return 0.0
    if t < ramp:
        return 0.5 - 0.5 * math.cos(math.pi * t / ramp)
    t -= ramp
    if t < hold:
        return 1.0
    t -= hold
    if t < ramp:
        return 0.5 + 0.5 * math.cos(math.pi * t / ramp)
    return 0.0


class Motion:
    """Pelvis angles over time: gait sway and tilt at the 1 Hz stride, plus hip drops.

    drops: (start_s, ramp_s, hold_s, depth_deg, sign); sign -1 lowers the right side
    (obliquity negative). Obliquity and tilt follow align.py's definitions.
    """

    def __init__(self, drops, sway_deg, tilt_deg):
        self.drops = drops
        self.sway = sway_deg
        self.tilt = tilt_deg

    def obl(self, t):
        o = self.sway * math.sin(TWO_PI * t)
        for d in self.drops:
            if d[0] < t < d[0] + 2 * d[1] + d[2]:
                o += d[4] * d[3] * _drop_shape(t, d[0], d[1], d[2])
        return o

    def up(self, t):
        """Unit up vector in the sensor frame (+x right, +y up, +z backward)."""
        phi = math.radians(self.obl(t))
        th = math.radians(self.tilt * math.sin(TWO_PI * t + 1.0))
        return (math.cos(th) * math.sin(phi), math.cos(th) * math.cos(phi), math.sin(th))


_H = 0.0005  # s, half-step of the central difference for the instantaneous body rate


def make_track(seconds, drops, sway_deg, tilt_deg, yaw_dps, seed):
    """Samples for `seconds` (a whole number, so the gait cycles wrap seamlessly).

    Each sample is what an ideal IMU reads at its instant t_k: the gyro is the
    instantaneous body rate (no averaging over the preceding period, which would favour
    one integration rule over another), the accelerometer the up vector times |a|. The
    true obliquity is exactly what the belt should report relative to the still neutral.
    """
    n = int(seconds * RATE)
    tr = Track(n)
    nz = Noise(seed)
    mo = Motion(drops, sway_deg, tilt_deg)
    for d in drops:
        first = int(d[0] * RATE)
        last = int((d[0] + 2 * d[1] + d[2]) * RATE) + 1
        tr.drops.append((first, last, d[4]))
    s = RAD_TO_16DPS / (2.0 * _H)
    for k in range(n):
        t = k * DT
        phase = TWO_PI * t
        v = mo.up(t)
        a = mo.up(t - _H)
        b = mo.up(t + _H)
        # Body rate w with dv/dt = v x w (the filter's convention) and w . v = yaw rate:
        # w = (dv/dt) x v + yaw * v, the turn about the vertical that tilt ignores.
        dv0 = b[0] - a[0]
        dv1 = b[1] - a[1]
        dv2 = b[2] - a[2]
        yaw = math.radians(yaw_dps * math.sin(phase + 0.5)) * 2.0 * _H
        tr.gx[k] = round((dv1 * v[2] - dv2 * v[1] + yaw * v[0]) * s) + GYRO_BIAS[0] + nz.tri(4)
        tr.gy[k] = round((dv2 * v[0] - dv0 * v[2] + yaw * v[1]) * s) + GYRO_BIAS[1] + nz.tri(4)
        tr.gz[k] = round((dv0 * v[1] - dv1 * v[0] + yaw * v[2]) * s) + GYRO_BIAS[2] + nz.tri(4)
        # Vertical bounce at the 2 Hz step rate; a 2-sample heel strike per step pushes
        # |a| past the filter's 1 g gate.
        mag = 1000.0 + 60.0 * math.sin(2.0 * phase)
        if k % 50 in (10, 11):
            mag += 350.0
        tr.ax[k] = round(v[0] * mag) + nz.tri(8)
        tr.ay[k] = round(v[1] * mag) + nz.tri(8)
        tr.az[k] = round(v[2] * mag) + nz.tri(8)
        tr.obl[k] = round(mo.obl(t) * 100.0)
    return tr


def make_still(n, seed):
    """Standing still in neutral (within calib.py's tolerances), gyro bias included."""
    tr = Track(n)
    nz = Noise(seed)
    for k in range(n):
        tr.ax[k] = nz.tri(6)
        tr.ay[k] = 1000 + nz.tri(6)
        tr.az[k] = nz.tri(6)
        tr.gx[k] = GYRO_BIAS[0] + nz.tri(3)
        tr.gy[k] = GYRO_BIAS[1] + nz.tri(3)
        tr.gz[k] = GYRO_BIAS[2] + nz.tri(3)
    return tr


def path_track():
    """10 s of walking with four hip drops and two touch-downs (each shorter than dwell)."""
    drops = [
        (1.0, 0.10, 0.40, 8.0, -1),
        (3.0, 0.04, 0.03, 6.0, 1),  # touch-down: back inside before the dwell ends
        (4.4, 0.15, 0.60, 10.0, 1),
        (6.4, 0.06, 0.30, 7.0, -1),
        (7.9, 0.05, 0.02, 6.5, -1),  # touch-down
        (8.6, 0.20, 0.30, 12.0, 1),
    ]
    return make_track(10, drops, 1.5, 3.0, 25.0, 1)


def latency_track(count):
    """`count` isolated drops, every combination of depth and ramp, sides alternating."""
    depths = (6.0, 8.0, 10.0, 12.0, 15.0)
    ramps = (0.04, 0.07, 0.10, 0.20, 0.30)  # pelvis drops take ~0.1-0.2 s; 40 ms is harsh
    drops = []
    for i in range(count):
        drops.append((1.5 + 2.0 * i, ramps[i % 5], 0.40, depths[(i // 5) % 5],
                      -1 if i % 2 == 0 else 1))
    return make_track(2 * count + 2, drops, 1.0, 2.0, 20.0, 7)


# ---------------------------------------------------------------- sinks and no-ops


class Sink:
    """Stands in for the USB write / BLE notify and the motor; allocation-free."""

    def __init__(self):
        self.frames = 0
        self.cues = 0

    def write(self, view):
        self.frames += 1

    def cue(self, side):
        self.cues += 1

    def nop1(self, a):
        pass

    def nop2(self, a, b):
        pass

    def nop3(self, a, b, c):
        pass

    def nop6(self, a, b, c, d, e, f):
        pass

    def nop9(self, a, b, c, d, e, f, g, h, i):
        pass


class Capture:
    """Copies the last frame handed to `send` (setup only)."""

    def __init__(self, buf):
        self.buf = buf

    def take(self, view):
        for i in range(len(view)):
            self.buf[i] = view[i]


class StructEncoder:
    """What-if probe, not firmware: FrameEncoder.add_sample (raw) with one
    `struct.pack_into` per record instead of eight put_u16 calls. Same bytes."""

    def __init__(self, send, batch):
        self.send = send
        self.batch = batch
        self.seq = 0
        self._count = 0
        self._buf = bytearray(proto.BATCH_HEADER_LEN + proto.SAMPLE_LEN * batch)
        self._view = memoryview(self._buf)

    def add_sample(self, index, ax, ay, az, gx, gy, gz, tilt, obl):
        buf = self._buf
        if self._count == 0:
            struct.pack_into("<I", buf, 4, index)
        struct.pack_into("<8h", buf, proto.BATCH_HEADER_LEN + (self._count << 4), ax, ay, az,
                         gx, gy, gz, tilt, obl)
        self._count += 1
        if self._count == self.batch:
            struct.pack_into("<BBH", buf, 0, proto.VERSION, proto.FT_SAMPLES, self.seq)
            self.seq = (self.seq + 1) & 0xFFFF
            self._count = 0
            self.send(self._view)


def make_pipeline(kind, sink):
    """'usb': the belt with no central: each sample into the resend ring and USB SAMPLES
    x5 through UsbFramer. 'ble': the same with a central connected at the default MTU
    (`p.peripheral`, TILT x3 from the ring; drive it with `run_path`)."""
    framer = proto.UsbFramer(sink.write)
    ring = SampleRing(capacity_for(RATE))
    per = null_ble.connected_peripheral(ring, RATE) if kind == "ble" else None
    p = Pipeline(RATE, Outlet(ring, proto.FrameEncoder(framer.send, USB_BATCH, True), per))
    belt_edges.attach_haptics(p, sink)  # the cue hook is the real haptics decision
    p.peripheral = per
    return p


class NoUsb:
    """The USB encoder's interface doing nothing: the sample path ends in the resend ring,
    and the USB encoding and framing are timed as transport (cost: one no-op call)."""

    def add_sample(self, index, ax, ay, az, gx, gy, gz, tilt, obl):
        pass

    def flush(self):
        pass

    def event(self, kind, side, index, onset_index, value):
        pass

    def calibration(self, bias, up, mount_error_cdeg, position, flags=0):
        pass


def ring_pipeline(sink):
    """The pipeline as the sample path is defined: samples into the resend ring only."""
    p = Pipeline(RATE, Outlet(SampleRing(capacity_for(RATE)), NoUsb(), None))
    belt_edges.attach_haptics(p, sink)
    p.peripheral = None
    return p


def calibrate(p, still):
    run_path(p, still.n, still)
    if p.state != STATE_RUNNING:
        raise RuntimeError("synthetic still window did not calibrate the pipeline")


# ---------------------------------------------------------------- timed loops
# One explicit loop per call shape: no *args, no bound methods, no per-iteration objects.


def loop_push(p, n, t):
    """Each sample, then the haptics service of a loop pass (clock + one period)."""
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    hap = p.haptics
    tk = p.ticks
    j = 0
    for _ in range(n):
        p.push(ax[j], ay[j], az[j], gx[j], gy[j], gz[j])
        tk.ms += 10
        hap.service(tk.ms)
        j += 1
        if j == size:
            j = 0


def loop_push_ble(p, per, n, t):
    """loop_push plus the BLE work of a main-loop pass after each sample."""
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    hap = p.haptics
    tk = p.ticks
    j = 0
    for _ in range(n):
        p.push(ax[j], ay[j], az[j], gx[j], gy[j], gz[j])
        tk.ms += 10
        hap.service(tk.ms)
        per.service()
        per.pump(10)
        j += 1
        if j == size:
            j = 0


def run_path(p, n, t):
    """n samples through either path (the BLE one pumps its peripheral)."""
    if p.peripheral is None:
        loop_push(p, n, t)
    else:
        loop_push_ble(p, p.peripheral, n, t)


def loop_push_gap(p, n, t, gap):
    """Like loop_push, each sample arriving `gap` periods after the last (FIFO overflow)."""
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    j = 0
    for _ in range(n):
        p.push(ax[j], ay[j], az[j], gx[j], gy[j], gz[j], gap)
        j += 1
        if j == size:
            j = 0


def loop_update6(f, n, size, ax, ay, az, gx, gy, gz):
    """f.update with the pipeline's argument order (TiltFilter, Complementary)."""
    j = 0
    for _ in range(n):
        f.update(ax[j], ay[j], az[j], gx[j], gy[j], gz[j])
        j += 1
        if j == size:
            j = 0


def loop_madgwick(m, n, size, ax, ay, az, gx, gy, gz):
    """MadgwickIMU.update on preconverted floats (lists: indexing boxes nothing)."""
    j = 0
    for _ in range(n):
        m.update(gx[j], gy[j], gz[j], ax[j], ay[j], az[j])
        j += 1
        if j == size:
            j = 0


def loop_madgwick_raw(m, n, size, ax, ay, az, gx, gy, gz):
    j = 0
    for _ in range(n):
        m.update_raw(ax[j], ay[j], az[j], gx[j], gy[j], gz[j])
        j += 1
        if j == size:
            j = 0


def loop_nop6(o, n, size, ax, ay, az, gx, gy, gz):
    j = 0
    for _ in range(n):
        o.nop6(ax[j], ay[j], az[j], gx[j], gy[j], gz[j])
        j += 1
        if j == size:
            j = 0


def loop_align(a, n, size, x, y, z):
    j = 0
    for _ in range(n):
        a.angles(x[j], y[j], z[j])
        j += 1
        if j == size:
            j = 0


def loop_nop3(o, n, size, x, y, z):
    j = 0
    for _ in range(n):
        o.nop3(x[j], y[j], z[j])
        j += 1
        if j == size:
            j = 0


def loop_detector(d, n, size, obl, index):
    j = 0
    for _ in range(n):
        d.update(index, obl[j])
        index += 1
        j += 1
        if j == size:
            j = 0
    return index


def loop_nop2(o, n, size, obl, index):
    j = 0
    for _ in range(n):
        o.nop2(index, obl[j])
        index += 1
        j += 1
        if j == size:
            j = 0
    return index


def loop_encoder(e, n, t, tilt, obl, index):
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    j = 0
    for _ in range(n):
        e.add_sample(index, ax[j], ay[j], az[j], gx[j], gy[j], gz[j], tilt[j], obl[j])
        index += 1
        j += 1
        if j == size:
            j = 0
    return index


def loop_ring(r, n, t, tilt, obl, index):
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    j = 0
    for _ in range(n):
        r.put(index, ax[j], ay[j], az[j], gx[j], gy[j], gz[j], tilt[j], obl[j])
        index += 1
        j += 1
        if j == size:
            j = 0
    return index


def loop_nop9(o, n, t, tilt, obl, index):
    ax = t.ax
    ay = t.ay
    az = t.az
    gx = t.gx
    gy = t.gy
    gz = t.gz
    size = t.n
    j = 0
    for _ in range(n):
        o.nop9(index, ax[j], ay[j], az[j], gx[j], gy[j], gz[j], tilt[j], obl[j])
        index += 1
        j += 1
        if j == size:
            j = 0
    return index


def loop_frames(fr, n, view):
    for _ in range(n):
        fr.send(view)


def loop_nop1(o, n, view):
    for _ in range(n):
        o.nop1(view)


def loop_crc(n, view, length):
    crc16 = proto.crc16
    for _ in range(n):
        crc16(view, length)


def _nop_fn(a, b):
    pass


def _nop_fn1(a):
    pass


def loop_builtin1(f, n, view):
    for _ in range(n):
        f(view)


def loop_nop_fn(n, view, length):
    f = _nop_fn
    for _ in range(n):
        f(view, length)


def loop_add(n, a, b):
    """The CPU reference for the ESP32 estimate: one small-int addition per pass of a
    `for ... in range` loop inside a function, a workload with a published ESP32 time
    (docs/benchmarks.md)."""
    s = 0
    for _ in range(n):
        s = a + b
    return s


# ---------------------------------------------------------------- measurement helpers


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m])


def percentile(xs, q):
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def alloc_bytes(run, n):
    """Net bytes retained by `run()` over n samples, with automatic GC off (nothing hidden)."""
    gc.collect()
    gc.disable()
    try:
        a = mem_alloc()
        run()
        b = mem_alloc()
    finally:
        gc.enable()
    gc.collect()
    return b - a


def heap_lock_clean(run):
    """True when `run()` completes with the heap locked (no allocation at all)."""
    if not MICROPYTHON:
        return None
    gc.collect()
    ok = True
    micropython.heap_lock()
    try:
        run()
    except MemoryError:
        ok = False
    finally:
        micropython.heap_unlock()
    return ok


# ---------------------------------------------------------------- the benchmark


def parse_args(argv):
    opts = {"samples": 20000, "reps": 5, "minutes": 10, "latency_drops": 50}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--quick":
            opts["samples"] = 2000
            opts["reps"] = 3  # the 10-minute heap run stays: it takes seconds on wasm
            opts["latency_drops"] = 10
        elif a in ("--samples", "--reps", "--minutes", "--latency-drops"):
            i += 1
            opts[a[2:].replace("-", "_")] = int(argv[i])
        else:
            print("firmware_path_mpy: unknown argument " + a)
            raise SystemExit(2)
        i += 1
    if opts["minutes"] < 2 or opts["samples"] < 1 or opts["reps"] < 1:
        print("firmware_path_mpy: need --minutes >= 2, --samples >= 1, --reps >= 1")
        raise SystemExit(2)
    return opts


def float_lists(t):
    """The track in Madgwick's units as float lists (built once; indexing allocates nothing)."""
    k = math.pi / 180.0 / 16.0
    ax = [v / 1000.0 for v in t.ax]
    ay = [v / 1000.0 for v in t.ay]
    az = [v / 1000.0 for v in t.az]
    gx = [v * k for v in t.gx]
    gy = [v * k for v in t.gy]
    gz = [v * k for v in t.gz]
    return ax, ay, az, gx, gy, gz


def trace_path(still, track):
    """One calibrated pass to record the filter's vector and the angles per sample."""
    sink = Sink()
    p = make_pipeline("ble", sink)
    calibrate(p, still)
    n = track.n
    xs = array("h", [0] * n)
    ys = array("h", [0] * n)
    zs = array("h", [0] * n)
    tilt = array("h", [0] * n)
    obl = array("h", [0] * n)
    err2 = 0
    worst = 0
    for j in range(n):
        p.push(track.ax[j], track.ay[j], track.az[j], track.gx[j], track.gy[j], track.gz[j])
        f = p.filter
        xs[j] = f.x
        ys[j] = f.y
        zs[j] = f.z
        tilt[j] = p.tilt_cdeg
        obl[j] = p.obl_cdeg
        e = p.obl_cdeg - track.obl[j]
        err2 += e * e
        if abs(e) > worst:
            worst = abs(e)
    rms = math.sqrt(err2 / n)
    return xs, ys, zs, tilt, obl, rms, worst


def cue_latency(track):
    """(cue index - true onset index) - dwell, in ms, for every drop that outlasts the dwell."""
    sink = Sink()
    p = make_pipeline("ble", sink)
    calibrate(p, make_still(CALIB_SAMPLES, 5))
    base = p.index + 1  # track sample j is pipeline index base + j
    dwell = p.detector.dwell_samples
    cues = []
    for j in range(track.n):
        ev = p.push(track.ax[j], track.ay[j], track.az[j], track.gx[j], track.gy[j],
                    track.gz[j])
        if ev == det.EV_CUE:
            cues.append((p.index - base, p.detector.onset_index - base))
    lat = []
    det_lat = []
    missed = 0
    matched = 0
    thr = p.detector.threshold_cdeg
    for first, last, sign in track.drops:
        onset = -1
        for j in range(first, min(last, track.n)):
            if track.obl[j] * sign >= thr:
                onset = j
                break
        hits = [c for c in cues if first <= c[0] <= last + dwell]
        if onset < 0:
            continue
        # A cue is due only if the true excursion stays out past the dwell.
        back = thr - p.detector.release_cdeg
        stay = 0
        j = onset
        while j < track.n and track.obl[j] * sign >= back:
            stay += 1
            j += 1
        if stay <= dwell:
            continue  # a touch-down: any cue for it is counted as extra below
        if not hits:
            missed += 1
            continue
        matched += len(hits)
        cue, det_onset = hits[0]
        lat.append((cue - onset - dwell) * 1000 // RATE)
        det_lat.append((cue - det_onset - dwell) * 1000 // RATE)
    extra = len(cues) - matched
    return lat, det_lat, missed, extra, dwell


class Setup:
    """Everything built before the first timed loop: inputs, pipelines, stand-alone stages."""

    def __init__(self, n):
        self.n = n
        self.still = make_still(CALIB_SAMPLES, 3)
        self.track = track = path_track()
        self.size = track.n
        self.ints = (track.ax, track.ay, track.az, track.gx, track.gy, track.gz)
        self.fl = float_lists(track)
        (self.xs, self.ys, self.zs, self.tilt, self.obl, self.rms,
         self.worst) = trace_path(self.still, track)
        self.sink = sink = Sink()
        self.usb = make_pipeline("usb", sink)
        self.ble = make_pipeline("ble", sink)
        for p in (self.usb, self.ble):
            calibrate(p, self.still)
            run_path(p, 2 * self.size, track)  # warm-up: first-use views of every frame
        self.cues_per_pass = sink.cues // 4  # two pipelines, two passes each
        self.filt = TiltFilter(RATE)
        f = self.usb.filter
        self.filt.set_bias(f.bias_x, f.bias_y, f.bias_z)
        self.filt.reset(0, 1000, 0)
        self.mad = neutral_madgwick()
        self.mad_raw = neutral_madgwick()
        self.comp = ref.Complementary(RATE)
        self.align = Alignment()
        self.align.capture(0, 1000, 0)
        self.dtr = det.HipDropDetector(RATE)
        self.enc_raw = proto.FrameEncoder(sink.write, USB_BATCH, True)
        self.enc_tilt = proto.FrameEncoder(sink.write, BLE_BATCH, False)
        self.ring = SampleRing(capacity_for(RATE))
        self.framer = proto.UsbFramer(sink.write)
        # A real SAMPLES frame (from the track) for the framing stages and the probes.
        self.frame = bytearray(FRAME_LEN)
        cap = proto.FrameEncoder(Capture(self.frame).take, USB_BATCH, True)
        loop_encoder(cap, 1000 + USB_BATCH, track, self.tilt, self.obl, 0)
        self.fview = memoryview(self.frame)
        self.framer.send(self.fview)
        self.pack_enc = StructEncoder(sink.write, USB_BATCH)
        self.pack_enc.add_sample(0, 1, 2, 3, 4, 5, 6, 7, 8)
        self.crc32 = None
        try:
            import binascii

            self.crc32 = getattr(binascii, "crc32", None)
        except ImportError:
            pass
        self.index = 1000  # sample index for the stand-alone detector and encoders
        # The sample path: each IMU driver reading the track from its FIFO, one sample
        # per drain, into a pipeline that ends in the resend ring.
        self.paths = {}
        for kind in ("mpu", "lsm"):
            p = ring_pipeline(sink)
            calibrate(p, self.still)
            d, bus = belt_edges.track_driver(kind, track)
            belt_edges.loop_sample_path(d, p, 2 * self.size)  # warm-up, as above
            if d.samples != 2 * self.size or d.losses or d.io_errors:
                raise RuntimeError(f"the {kind} track replay did not give one sample per"
                                   " drain")
            self.paths[kind] = (d, bus, p)
        self.ring_p = ring_pipeline(sink)
        calibrate(self.ring_p, self.still)
        run_path(self.ring_p, 2 * self.size, track)


def neutral_madgwick():
    m = ref.MadgwickIMU(RATE)
    m.q0 = m.q1 = math.sqrt(0.5)  # start at the belt's neutral (sensor +y up)
    return m


def measure_allocation(su, out):
    """Net bytes per sample with GC off, and heap-locked runs (any allocation raises)."""
    n = su.n
    track = su.track
    usb = su.usb
    ble = su.ble
    out["bytes_per_sample_usb"] = alloc_bytes(lambda: loop_push(usb, n, track), n) / n
    notified = ble.peripheral._ble.notified
    out["bytes_per_sample_ble"] = alloc_bytes(lambda: run_path(ble, n, track), n) / n
    # The BLE path really streams: TILT x3 is one notification per 3 samples.
    out["ble_notifications_per_sample"] = round((ble.peripheral._ble.notified - notified) / n, 4)
    out["bytes_per_sample"] = max(out["bytes_per_sample_usb"], out["bytes_per_sample_ble"])
    out["heap_lock_ok_usb"] = heap_lock_clean(lambda: loop_push(usb, n, track))
    out["heap_lock_ok_ble"] = heap_lock_clean(lambda: run_path(ble, n, track))
    # Not part of the steady path: a sample after a FIFO gap (n=3), on a spare pipeline.
    gap = make_pipeline("usb", Sink())
    calibrate(gap, su.still)
    loop_push_gap(gap, 5, track, 3)
    out["fifo_gap_push_heap_lock_ok"] = heap_lock_clean(lambda: loop_push_gap(gap, 50, track, 3))
    print(f"# per-sample allocation: usb {out['bytes_per_sample_usb']} B,"
          f" ble {out['bytes_per_sample_ble']} B; heap_lock clean:"
          f" usb {out['heap_lock_ok_usb']}, ble {out['heap_lock_ok_ble']}")

    size = su.size
    ax, ay, az, gx, gy, gz = su.ints
    fax, fay, faz, fgx, fgy, fgz = su.fl
    filt = su.filt
    mad = su.mad
    comp = su.comp
    m = min(n, 500)  # the float filters allocate: few enough that the heap never fills
    mad_b = alloc_bytes(lambda: loop_madgwick(mad, m, size, fax, fay, faz, fgx, fgy, fgz), m)
    comp_b = alloc_bytes(lambda: loop_update6(comp, m, size, ax, ay, az, gx, gy, gz), m)
    out["float_ref_bytes_per_sample"] = mad_b / m
    out["float_complementary_bytes_per_sample"] = comp_b / m
    out["float_ref_heap_lock_ok"] = heap_lock_clean(
        lambda: loop_madgwick(mad, 1, 1, fax, fay, faz, fgx, fgy, fgz))
    out["filter_bytes_per_sample"] = alloc_bytes(
        lambda: loop_update6(filt, n, size, ax, ay, az, gx, gy, gz), n) / n
    pack_enc = su.pack_enc
    tilt = su.tilt
    obl = su.obl
    out["probe_encoder_pack_into_heap_lock_ok"] = heap_lock_clean(
        lambda: loop_encoder(pack_enc, 100, track, tilt, obl, 0))
    print(f"# float Madgwick allocates {mad_b / m:.0f} B/sample,"
          f" float complementary {comp_b / m:.0f} B/sample")


def timed_cases(su):
    """(name, run, calls) for every timed case; runs take no arguments."""
    n = su.n
    nf = max(1, n // USB_BATCH)
    size = su.size
    track = su.track
    ints = su.ints
    fl = su.fl
    sink = su.sink
    fview = su.fview
    tilt = su.tilt
    obl = su.obl

    def stage(fn, obj):
        def run():
            su.index = fn(obj, n, size, obl, su.index)

        return run

    def encoder(obj):
        def run():
            su.index = loop_encoder(obj, n, track, tilt, obl, su.index)

        return run

    def ring_stage():
        su.index = loop_ring(su.ring, n, track, tilt, obl, su.index)

    def enc_harness():
        su.index = loop_nop9(sink, n, track, tilt, obl, su.index)

    def path_of(kind):
        d, _, p = su.paths[kind]
        return lambda: belt_edges.loop_sample_path(d, p, n)

    def sample_harness(kind):
        _, bus, p = su.paths[kind]
        return lambda: belt_edges.loop_sample_harness(bus, p, n)

    cases = [
        ("sample_mpu", path_of("mpu"), n),
        ("sample_mpu_harness", sample_harness("mpu"), n),
        ("sample_lsm", path_of("lsm"), n),
        ("sample_lsm_harness", sample_harness("lsm"), n),
        ("ring_path", lambda: loop_push(su.ring_p, n, track), n),
        ("cpu_add_loop", lambda: loop_add(10 * n, 1234, 5678), 10 * n),
        ("usb_path", lambda: loop_push(su.usb, n, track), n),
        ("ble_path", lambda: run_path(su.ble, n, track), n),
        ("filter", lambda: loop_update6(su.filt, n, size, *ints), n),
        ("madgwick", lambda: loop_madgwick(su.mad, n, size, *fl), n),
        ("madgwick_raw", lambda: loop_madgwick_raw(su.mad_raw, n, size, *ints), n),
        ("complementary", lambda: loop_update6(su.comp, n, size, *ints), n),
        ("harness6", lambda: loop_nop6(sink, n, size, *ints), n),
        ("harness6_floats", lambda: loop_nop6(sink, n, size, *fl), n),
        ("align", lambda: loop_align(su.align, n, size, su.xs, su.ys, su.zs), n),
        ("harness3", lambda: loop_nop3(sink, n, size, su.xs, su.ys, su.zs), n),
        ("detector", stage(loop_detector, su.dtr), n),
        ("harness2", stage(loop_nop2, sink), n),
        ("encoder_raw", encoder(su.enc_raw), n),
        ("ring", ring_stage, n),
        ("encoder_tilt", encoder(su.enc_tilt), n),
        ("harness9", enc_harness, n),
        ("usb_frame", lambda: loop_frames(su.framer, nf, fview), nf),
        ("harness1", lambda: loop_nop1(sink, nf, fview), nf),
        ("crc", lambda: loop_crc(nf, fview, FRAME_LEN), nf),
        ("harness_fn2", lambda: loop_nop_fn(nf, fview, FRAME_LEN), nf),
        ("probe_encoder_pack_into", encoder(su.pack_enc), n),
    ]
    if su.crc32 is not None:
        cases.append(("probe_crc32_builtin", lambda: loop_builtin1(su.crc32, nf, fview), nf))
        cases.append(("harness_fn1", lambda: loop_builtin1(_nop_fn1, nf, fview), nf))
    return cases


def measure_times(su, reps, out):
    """Median us per call of every case; the cases are interleaved within each rep."""
    cases = timed_cases(su)
    times = {}
    for name, _, _ in cases:
        times[name] = []
    for _ in range(reps):
        for name, run, count in cases:
            gc.collect()
            t0 = stamp()
            run()
            times[name].append(elapsed_ms(t0) * 1000.0 / count)
    us = {}
    spread = {}
    for name, ts in times.items():
        us[name] = median(ts)
        spread[name] = round((max(ts) - min(ts)) / us[name], 3) if us[name] > 0 else 0.0
    out["rep_spread"] = spread

    # The float reference again with no GC cost at all (collections untimed, between
    # chunks small enough for the heap), and with the build's GC threshold switched off.
    n = su.n
    size = su.size
    fl = su.fl
    mad = neutral_madgwick()
    total = 0.0
    for _ in range(reps):
        left = n
        while left > 0:
            c = 2000 if left > 2000 else left
            gc.collect()
            gc.disable()
            try:
                t0 = stamp()
                loop_madgwick(mad, c, size, *fl)
                total += elapsed_ms(t0)
            finally:
                gc.enable()
            left -= c
    us["madgwick_gc_off"] = total * 1000.0 / (reps * n)
    default = out["gc_threshold_build_default"]
    if MICROPYTHON and default != -1:
        gc.threshold(-1)  # MicroPython's usual setting: collect only when the heap is full
        try:
            ts = []
            for _ in range(reps):
                gc.collect()
                t0 = stamp()
                loop_madgwick(mad, n, size, *fl)
                ts.append(elapsed_ms(t0) * 1000.0 / n)
        finally:
            gc.threshold(default)
        us["madgwick_gc_threshold_off"] = median(ts)
    out["us_per_call"] = {k: round(v, 3) for k, v in us.items()}
    return us


def summarise_times(us, out):
    """Ratios against the float references, and the profile of the path by stage."""

    def net(name, harness):
        return max(0.0, us[name] - us[harness])

    def ratio(a, b):
        return round(a / b, 3)

    # The sample path (FIFO read -> fusion -> detector -> haptics decision -> record into
    # the ring), net of the replay bus and the loop, over the Madgwick update net of its
    # loop, list indexing and call: the call into the belt's code stays in the path, the
    # call into Madgwick is taken out of the reference, so the ratio errs against the belt.
    mad_net = net("madgwick", "harness6_floats")
    paths = {}
    for kind, name in (("mpu", "mpu6050"), ("lsm", "lsm6dsox")):
        paths[name] = net("sample_" + kind, f"sample_{kind}_harness")
        out["sample_path_us_" + name] = round(paths[name], 3)
        out[f"time_ratio_sample_path_{name}_vs_float_ref"] = ratio(paths[name], mad_net)
    worst = max(paths.values())
    out["time_ratio_vs_float_ref"] = ratio(worst, mad_net)
    out["time_ratio_vs_float_ref_gross"] = ratio(
        max(us["sample_mpu"] - us["sample_mpu_harness"] + us["harness6"],
            us["sample_lsm"] - us["sample_lsm_harness"] + us["harness6"]), us["madgwick"])
    out["madgwick_net_us"] = round(mad_net, 3)
    out["time_ratio_vs_float_ref_gc_off"] = ratio(
        worst, us["madgwick_gc_off"] - us["harness6_floats"])
    if "madgwick_gc_threshold_off" in us:
        out["time_ratio_vs_float_ref_gc_threshold_off"] = ratio(
            worst, us["madgwick_gc_threshold_off"] - us["harness6_floats"])
    # Transport, per sample, kept apart from the sample path.
    out["usb_transport_us_per_sample"] = round(max(0.0, us["usb_path"] - us["ring_path"]), 3)
    out["ble_transport_us_per_sample"] = round(max(0.0, us["ble_path"] - us["ring_path"]), 3)
    out["time_ratio_usb_transport_vs_float_ref"] = ratio(out["usb_transport_us_per_sample"],
                                                         mad_net)
    out["time_ratio_ble_transport_vs_float_ref"] = ratio(out["ble_transport_us_per_sample"],
                                                         mad_net)

    full = max(us["usb_path"], us["ble_path"])
    out["time_ratio_usb_path_vs_float_ref"] = ratio(us["usb_path"], us["madgwick"])
    out["time_ratio_ble_path_vs_float_ref"] = ratio(us["ble_path"], us["madgwick"])
    out["time_ratio_vs_float_ref_net"] = ratio(
        max(net("usb_path", "harness6"), net("ble_path", "harness6")),
        net("madgwick", "harness6_floats"))
    out["time_ratio_vs_float_ref_raw_units"] = ratio(full, us["madgwick_raw"])
    out["time_ratio_filter_vs_float_ref"] = ratio(us["filter"], us["madgwick"])
    out["time_ratio_vs_float_complementary"] = ratio(full, us["complementary"])
    out["time_ratio_filter_vs_float_complementary"] = ratio(us["filter"], us["complementary"])

    # Each stage net of its own loop-and-call harness, per sample; framing is per frame.
    crc = net("crc", "harness_fn2")
    stages = {
        "filter": net("filter", "harness6"),
        "align": net("align", "harness3"),
        "detector": net("detector", "harness2"),
        "encoder": net("encoder_raw", "harness9"),
        "ring": net("ring", "harness9"),
        "usb_framing": net("usb_frame", "harness1") / USB_BATCH,  # CRC-16 + COBS, one pass
    }
    usb_net = net("usb_path", "harness6")
    stages["pipeline_glue"] = max(0.0, usb_net - sum(stages.values()))
    out["profile_usb_path_us"] = {k: round(v, 3) for k, v in stages.items()}
    out["profile_usb_path_share"] = {
        k: round(v / usb_net, 3) if usb_net > 0 else 0.0 for k, v in stages.items()}
    out["profile_usb_path_net_us"] = round(usb_net, 3)
    out["profile_ble_path_net_us"] = round(net("ble_path", "harness6"), 3)
    out["profile_ble_encoder_tilt_us"] = round(net("encoder_tilt", "harness9"), 3)
    out["probe_encoder_pack_into_us"] = round(net("probe_encoder_pack_into", "harness9"), 3)
    out["probe_crc16_function_us_per_sample"] = round(crc / USB_BATCH, 3)
    if "probe_crc32_builtin" in us:
        out["probe_crc32_builtin_us_per_sample"] = round(
            net("probe_crc32_builtin", "harness_fn1") / USB_BATCH, 3)
    # This host's wasm interpreter, for context only: NOT the ESP32.
    out["wasm_us_per_sample_usb_path"] = round(us["usb_path"], 2)
    out["wasm_us_per_sample_ble_path"] = round(us["ble_path"], 2)
    out["wasm_us_per_madgwick_update"] = round(us["madgwick"], 2)


def measure_heap_growth(su, minutes, out):
    """Fresh pipelines from calibration on; heap after minute 1 vs after minute `minutes`."""
    per_min = 60 * RATE
    growth = {}
    for kind in ("usb", "ble"):
        sink = Sink()
        p = make_pipeline(kind, sink)
        calibrate(p, su.still)
        run_path(p, per_min - CALIB_SAMPLES, su.track)
        gc.collect()
        a = mem_alloc()
        run_path(p, per_min * (minutes - 1), su.track)
        gc.collect()
        growth[kind] = mem_alloc() - a
        out["heap_growth_cues_" + kind] = sink.cues
    out["heap_growth_minutes"] = minutes
    out["heap_growth_samples"] = per_min * minutes
    out["heap_growth_bytes_usb"] = growth["usb"]
    out["heap_growth_bytes_ble"] = growth["ble"]
    worst = max(growth["usb"], growth["ble"])
    out["heap_growth_bytes_10min"] = worst if minutes == 10 else None
    if minutes != 10:
        out[f"heap_growth_bytes_{minutes}min"] = worst
    print(f"# heap growth minute 1 -> {minutes}: usb {growth['usb']} B,"
          f" ble {growth['ble']} B")


def measure_memory(out):
    """Heap bytes held by the resend ring at 100 and 200 Hz, and by the BLE peripheral
    (queues, frame buffers, views) on top of its ring."""
    for rate in (100, 200):
        gc.collect()
        a = mem_alloc()
        ring = SampleRing(capacity_for(rate))
        gc.collect()
        out[f"ring_heap_bytes_{rate}hz"] = mem_alloc() - a
        out[f"ring_seconds_{rate}hz"] = ring.capacity // rate
        gc.collect()
        a = mem_alloc()
        per = null_ble.connected_peripheral(ring, rate)
        gc.collect()
        out[f"ble_peripheral_heap_bytes_{rate}hz"] = mem_alloc() - a
        del per
        del ring
    print(f"# resend ring: {out['ring_heap_bytes_100hz']} B at 100 Hz,"
          f" {out['ring_heap_bytes_200hz']} B at 200 Hz")


def measure_latency(drops, out):
    lat, det_lat, missed, extra, dwell = cue_latency(latency_track(drops))
    out["cue_latency_drops"] = len(lat)
    out["cue_latency_missed"] = missed
    out["cue_latency_extra_cues"] = extra
    out["cue_latency_dwell_samples"] = dwell
    out["cue_latency_ms_p95"] = percentile(lat, 95) if lat else None
    out["cue_latency_ms_max"] = max(lat) if lat else None
    out["cue_latency_ms_min"] = min(lat) if lat else None
    out["cue_latency_ms_median"] = median(lat) if lat else None
    out["cue_latency_ms_detector_onset_p95"] = percentile(det_lat, 95) if det_lat else None
    hist = {}
    for v in lat:
        hist[str(v)] = hist.get(str(v), 0) + 1
    out["cue_latency_ms_histogram"] = hist


def main():
    opts = parse_args(sys.argv)
    n = opts["samples"]
    out = {"micropython": MICROPYTHON, "samples": n, "reps": opts["reps"], "rate_hz": RATE}
    out["gc_threshold_build_default"] = gc.threshold() if MICROPYTHON else -1
    su = Setup(n)  # inputs and objects, built before anything is timed
    out["track_seconds"] = su.size // RATE
    out["track_drops"] = len(su.track.drops)
    out["cues_per_track_pass"] = su.cues_per_pass
    out["obl_err_rms_cdeg"] = round(su.rms, 1)
    out["obl_err_max_cdeg"] = su.worst
    print(f"# track: {su.size} samples, {len(su.track.drops)} drop/touch-down shapes; belt"
          f" obliquity vs truth: rms {su.rms:.1f}, max {su.worst} cdeg")
    measure_allocation(su, out)
    summarise_times(measure_times(su, opts["reps"], out), out)
    measure_heap_growth(su, opts["minutes"], out)
    measure_latency(opts["latency_drops"], out)
    measure_memory(out)
    drivers = belt_edges.measure_edges(out, stamp, elapsed_ms, median, opts["reps"], n)
    # The sample path by stage (each timed alone, net of its harness); "glue" is the
    # rest: Pipeline.push and Outlet themselves, the calls between the stages.
    prof = out["profile_usb_path_us"]
    for name in ("mpu6050", "lsm6dsox"):
        stages = {"fifo_read_decode": drivers[name], "fusion": prof["filter"],
                  "align_atan2": prof["align"], "detector": prof["detector"],
                  "ring_record": prof["ring"], "haptics_service": out["haptics_idle_us"]}
        stages["pipeline_glue"] = max(0.0, out["sample_path_us_" + name] - sum(stages.values()))
        out["profile_sample_path_us_" + name] = {k: round(v, 3) for k, v in stages.items()}
    print("BENCH_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
