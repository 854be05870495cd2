"""The belt's edges in the firmware path benchmark (firmware_path_mpy.py imports this).

* The haptics decision: `attach_haptics(p, sink)` gives a pipeline the real
  belt.haptics.Haptics on two no-op motors as its cue hook, and a clock (`p.ticks`) the
  path loops advance one 10 ms sample period before the haptics service of each pass, as
  the main loop does.
* The FIFO read: `measure_edges(...)` times each IMU driver's `drain` on a replay bus
  that serves real FIFO bytes (one sample per drain, the worst case of a 5 ms loop at
  100 Hz), net of the replay bus itself, and states the I2C bus time those transfers
  take at 400 kHz (computed, not measured: on the ESP32 the CPU waits for it).
"""

from belt import haptics as _haptics
from belt import imu_lsm6dsox as _lsm
from belt import imu_mpu6050 as _mpu

PERIOD_MS = 10
I2C_HZ = 400000


class Ticks:
    """A millisecond clock the loops advance by hand (haptics needs ticks_ms/ticks_diff)."""

    def __init__(self):
        self.ms = 0

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.ms += ms


class NullMotor:
    def value(self, x=None):
        return 0


class CueToHaptics:
    """Pipeline.on_cue: counts the cue for the benchmark, then the real haptics decision."""

    def __init__(self, sink, haptics):
        self.sink = sink
        self.haptics = haptics

    def cue(self, side):
        self.sink.cues += 1
        self.haptics.cue(side)


def attach_haptics(p, sink):
    ticks = Ticks()
    p.haptics = _haptics.Haptics([NullMotor(), NullMotor()], ticks)
    p.ticks = ticks
    p.on_cue = CueToHaptics(sink, p.haptics).cue


# ------------------------------------------------------------------ IMU drivers


class ReplayBus:
    """The I2C calls a driver makes, answered from bytes captured from a FIFO: every drain
    finds `per_drain` samples waiting. Copies are memoryview slice assignments (C)."""

    def __init__(self, kind, per_drain):
        self.kind = kind
        self.data = _records(kind, per_drain)
        self.source = memoryview(self.data)
        if kind == "mpu":
            self.count = per_drain * _mpu.RECORD  # bytes
            self.who = (_mpu.WHO_AM_I, _mpu.WHO_AM_I_VALUE)
        else:
            self.count = per_drain * 2  # words
            self.who = (_lsm.WHO_AM_I, _lsm.WHO_AM_I_VALUE)

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == self.who[0]:
            buf[0] = self.who[1]
        elif self.kind == "mpu":
            if reg == _mpu.FIFO_COUNT_H:
                buf[0] = self.count >> 8
                buf[1] = self.count & 0xFF
            elif reg == _mpu.FIFO_R_W:
                buf[:] = self.source
            else:
                buf[0] = 0  # INT_STATUS: no overflow
        elif reg == _lsm.FIFO_STATUS1:
            buf[0] = self.count & 0xFF
            buf[1] = self.count >> 8
        else:
            buf[:] = self.source

    def writeto_mem(self, addr, reg, buf):
        pass


class Null:
    def push(self, ax, ay, az, gx, gy, gz, n=1):
        pass


def _record(kind, i, vals, out):
    """Append sample i's counts (ax, ay, az, gx, gy, gz) to `out` as the chip's FIFO lays
    them out: the MPU-6050's 12 big-endian bytes, or the LSM6DSOX's tagged gyro word then
    accel word (little-endian, tag counter i & 3)."""
    if kind == "mpu":
        for v in vals:
            out.append((v >> 8) & 0xFF)
            out.append(v & 0xFF)
    else:
        slot = i & 3
        for tag, part in ((_lsm.TAG_GYRO, vals[3:]), (_lsm.TAG_ACCEL, vals[:3])):
            out.append((tag << 3) | (slot << 1))
            for v in part:
                out.append(v & 0xFF)
                out.append((v >> 8) & 0xFF)


def _records(kind, n):
    """n samples of FIFO bytes as each chip lays them out (varied values)."""
    out = bytearray()
    for i in range(n):
        _record(kind, i, (i * 37 % 2000 - 1000, 8192 - i % 50, i * 13 % 400 - 200,
                          i * 7 % 600 - 300, 150 - i % 300, i % 90 - 45), out)
    return out


class _Clock:
    """The drivers' clock; `ticks_ms` is a C builtin where there is one, as on the belt
    (hal.Hal binds time.ticks_ms), so the path is not charged a Python call for it."""

    def __init__(self):
        try:
            import time

            self.ticks_ms = time.ticks_ms
        except (ImportError, AttributeError):
            self.ticks_ms = self._zero

    def _zero(self):
        return 0

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        pass


def _on_bus(kind, bus):
    """The kind's driver on `bus`, configured for 100 Hz; (driver, bus)."""
    clock = _Clock()
    d = _mpu.MPU6050(bus, clock, 0x68) if kind == "mpu" else _lsm.LSM6DSOX(bus, clock, 0x6A)
    d.configure(100)
    return d, bus


def _driver(kind, per_drain):
    return _on_bus(kind, ReplayBus(kind, per_drain))


def loop_drain(d, n, sink):
    for _ in range(n):
        d.drain(sink)


def loop_bus(bus, n, status, views):
    """The replay bus's own work for the same transfers (the harness to subtract)."""
    for _ in range(n):
        for v in status:
            bus.readfrom_mem_into(0, v[0], v[1])
        bus.readfrom_mem_into(0, views[0], views[1])


def i2c_bus_us(kind, per_drain):
    """Bus time for one drain at 400 kHz: (address + register + address + data) bytes of
    9 clocks each per read transaction, plus a start/stop pair."""
    # MPU-6050: INT_STATUS, FIFO_COUNT, FIFO burst. LSM6DSOX: FIFO_STATUS1/2, FIFO burst.
    reads = ((1, 2, _mpu.RECORD * per_drain) if kind == "mpu"
             else (2, _lsm.WORD * 2 * per_drain))
    bits = 0
    for n in reads:
        bits += (3 + n) * 9 + 2
    return bits * 1000000 / I2C_HZ / per_drain


def loop_service(hap, t, n):
    for _ in range(n):
        t.ms += PERIOD_MS
        hap.service(t.ms)


def loop_service_harness(o, t, n):
    for _ in range(n):
        t.ms += PERIOD_MS
        o.value(t.ms)


def measure_edges(out, stamp, elapsed_ms, median, reps, n):
    """Haptics service per loop pass, driver CPU time per sample (net of the replay
    bus) and the I2C bus time. Returns {driver name: us per sample}."""
    t = Ticks()
    hap = _haptics.Haptics([NullMotor(), NullMotor()], t)
    motor = NullMotor()
    svc = []
    har = []
    for _ in range(reps):
        hap.play(_haptics.PAT_GET_READY)  # a pattern playing: the busier branch
        t0 = stamp()
        loop_service(hap, t, n)
        svc.append(elapsed_ms(t0) * 1000.0 / n)
        t0 = stamp()
        loop_service_harness(motor, t, n)
        har.append(elapsed_ms(t0) * 1000.0 / n)
    out["haptics_service_us"] = round(max(0.0, median(svc) - median(har)), 3)
    hap.stop()
    svc = []
    for _ in range(reps):  # nothing playing: what almost every loop pass finds
        t0 = stamp()
        loop_service(hap, t, n)
        svc.append(elapsed_ms(t0) * 1000.0 / n)
    out["haptics_idle_us"] = round(max(0.0, median(svc) - median(har)), 3)
    sink = Null()
    res = {}
    for kind, name in (("mpu", "mpu6050"), ("lsm", "lsm6dsox")):
        d, bus = _driver(kind, 1)
        if kind == "mpu":
            status = ((_mpu.INT_STATUS, bytearray(1)), (_mpu.FIFO_COUNT_H, bytearray(2)))
            burst = (_mpu.FIFO_R_W, memoryview(bytearray(_mpu.RECORD)))
        else:
            status = ((_lsm.FIFO_STATUS1, bytearray(2)),)
            burst = (_lsm.FIFO_DATA_OUT_TAG, memoryview(bytearray(_lsm.WORD * 2)))
        loop_drain(d, 50, sink)
        if d.samples != 50 or d.losses or d.io_errors:
            raise RuntimeError(f"{name} replay did not decode one sample per drain")
        drv = []
        har = []
        for _ in range(reps):
            t0 = stamp()
            loop_drain(d, n, sink)
            drv.append(elapsed_ms(t0) * 1000.0 / n)
            t0 = stamp()
            loop_bus(bus, n, status, burst)
            har.append(elapsed_ms(t0) * 1000.0 / n)
        net = max(0.0, median(drv) - median(har))
        res[name] = net
        out["driver_us_per_sample_" + name] = round(net, 3)
        out["driver_replay_bus_us_" + name] = round(median(har), 3)
        out["i2c_bus_us_per_sample_" + name + "_1_per_read"] = round(i2c_bus_us(kind, 1), 1)
        out["i2c_bus_us_per_sample_" + name + "_5_per_read"] = round(i2c_bus_us(kind, 5), 1)
    print(f"# drivers (drain of 1 sample, net of the replay bus): mpu6050"
          f" {res['mpu6050']:.2f} us, lsm6dsox {res['lsm6dsox']:.2f} us")
    return res


# ------------------------------------------------------------------ the sample path


def _clamp16(v):
    return -32768 if v < -32768 else (32767 if v > 32767 else v)


def _chip_counts(kind, ax, ay, az, gx, gy, gz):
    """Canonical units (mg, 1/16 deg/s) back to the chip's counts at the belt's ranges."""
    if kind == "mpu":  # 8192 LSB/g, 65.5 LSB/(deg/s)
        acc = 8.192
        gyr = 65.5 / 16.0
    else:  # 0.122 mg/LSB, 17.5 mdps/LSB
        acc = 1.0 / 0.122
        gyr = 1000.0 / 17.5 / 16.0
    return (_clamp16(round(ax * acc)), _clamp16(round(ay * acc)), _clamp16(round(az * acc)),
            _clamp16(round(gx * gyr)), _clamp16(round(gy * gyr)), _clamp16(round(gz * gyr)))


class TrackBus:
    """I2C answers for a driver that finds exactly one sample of a recorded track in the
    FIFO at every drain, as each chip lays it out, looping over the track. The copies are
    memoryview slice assignments (C); `harness` repeats the same bus calls without the
    driver, to subtract."""

    def __init__(self, kind, track):
        self.kind = kind
        per = _mpu.RECORD if kind == "mpu" else 2 * _lsm.WORD
        self.size = track.n
        data = bytearray()
        for j in range(track.n):
            _record(kind, j, _chip_counts(kind, track.ax[j], track.ay[j], track.az[j],
                                          track.gx[j], track.gy[j], track.gz[j]), data)
        self.data = data
        mv = memoryview(data)
        self.views = [mv[j * per:(j + 1) * per] for j in range(track.n)]
        self.j = 0
        if kind == "mpu":
            self.who = (_mpu.WHO_AM_I, _mpu.WHO_AM_I_VALUE)
            self.burst_reg = _mpu.FIFO_R_W
            self.status = ((_mpu.INT_STATUS, bytearray(1)), (_mpu.FIFO_COUNT_H, bytearray(2)))
        else:
            self.who = (_lsm.WHO_AM_I, _lsm.WHO_AM_I_VALUE)
            self.burst_reg = _lsm.FIFO_DATA_OUT_TAG
            self.status = ((_lsm.FIFO_STATUS1, bytearray(2)),)
        self.burst = memoryview(bytearray(per))

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == self.burst_reg:
            buf[:] = self.views[self.j]
            self.j += 1
            if self.j == self.size:
                self.j = 0
        elif reg == self.who[0]:
            buf[0] = self.who[1]
        elif self.kind == "mpu":
            if reg == _mpu.FIFO_COUNT_H:
                buf[0] = 0
                buf[1] = _mpu.RECORD
            else:
                buf[0] = 0  # INT_STATUS: no overflow
        else:
            buf[0] = 2  # FIFO_STATUS1/2: two words (gyro + accel), no overrun
            buf[1] = 0

    def writeto_mem(self, addr, reg, buf):
        pass


def track_driver(kind, track):
    return _on_bus(kind, TrackBus(kind, track))


def loop_sample_path(d, p, n):
    """The sample path, one loop pass per sample: the FIFO read (status, burst, decode)
    into Pipeline.push (fusion, alignment, detector, the haptics decision on a cue, the
    record into the resend ring), then the haptics service of the pass."""
    hap = p.haptics
    tk = p.ticks
    for _ in range(n):
        d.drain(p)
        tk.ms += PERIOD_MS
        hap.service(tk.ms)


def loop_sample_harness(bus, p, n):
    """What loop_sample_path spends outside the belt's code: the loop, the replay bus's
    calls and copies, the clock step, in the same order. (The calls into the belt,
    `drain` and `service`, stay in the path: the belt makes them too.)"""
    tk = p.ticks
    status = bus.status
    reg = bus.burst_reg
    burst = bus.burst
    for _ in range(n):
        for v in status:
            bus.readfrom_mem_into(0, v[0], v[1])
        bus.readfrom_mem_into(0, reg, burst)
        tk.ms += PERIOD_MS
