"""The whole belt for minutes of simulated time, on each IMU: the fake chip driven by pelvis
motion (motion.py), the real hal on a fake board, the app's loop pass after every sample.

Every clear drop is cued once on the right side, touch-downs and near misses are not,
the loop allocates nothing after the first minute (heap locked on MicroPython) and the
free heap after a collection does not go down.
"""

import gc
import sys
from array import array

import heap
from fake_i2c import FakeMPU6050
from fake_lsm6dsox import FakeLSM6DSOX
from fake_machine import Board, load_hal
from motion import LSM6DSOX_SCALE, MPU6050_SCALE, Track

from belt import app as A
from belt import board
from belt import settings as S

MICROPYTHON = sys.implementation.name == "micropython"
MINUTES = 3
LAP_S = 20  # the walking track is replayed end to end

# (start_s, ramp_s, hold_s, depth_deg, sign): sign -1 lowers the right side.
DROPS = (
    (2.0, 0.15, 0.50, 9.0, -1),
    (5.5, 0.05, 0.03, 6.5, 1),  # a touch-down: back inside before the 150 ms dwell
    (7.0, 0.10, 0.40, 8.0, 1),
    (10.5, 0.20, 0.80, 3.5, -1),  # a near miss: never reaches 5 deg
    (13.0, 0.20, 0.60, 11.0, -1),
    (17.0, 0.12, 0.45, 7.5, 1),
)
CLEAR = (0, 2, 4, 5)  # indices of the drops that must cue


class Counter:
    """The USB wire, counting bytes only (allocation-free)."""

    def __init__(self):
        self.bytes = 0

    def write(self, buf):
        self.bytes += len(buf)


class Cues:
    """Pipeline.on_cue: remember where each cue fell, then buzz as the app would."""

    def __init__(self, app, size):
        self.app = app
        self.index = array("l", [0] * size)
        self.side = array("b", [0] * size)
        self.n = 0

    def cue(self, side):
        if self.n < len(self.index):
            self.index[self.n] = self.app.pipeline.index
            self.side[self.n] = side
            self.n += 1
        self.app.haptics.cue(side)


def _simulate(addr, make, scale):
    b = Board()
    b.devices[addr] = make(b.clock)
    dev = b.devices[addr]
    b.volts_uv[board.BATTERY_ADC_PIN] = 3900 * 1000 // board.BATTERY_DIVIDER
    wire = Counter()
    hal = load_hal(b).Hal(write=wire.write)
    hal.start_watchdog()
    app = A.start(hal, settings=S.Settings(""))
    rate = app.pipeline.rate_hz
    still = Track(rate, 2, (), scale, still_s=2)
    walk = Track(rate, LAP_S, DROPS, scale)
    laps = MINUTES * 60 // LAP_S
    cues = Cues(app, 4 * laps * len(DROPS))
    app.pipeline.on_cue = cues.cue
    for k in range(still.n):
        still.set(dev, k)
        dev.advance(1)
        A.service(app)
    assert app.pipeline.state == 1  # calibrated on the still start

    def walk_laps(count):
        for _ in range(count):
            for k in range(walk.n):
                walk.set(dev, k)
                dev.advance(1)
                A.service(app)

    per_min = 60 // LAP_S
    walk_laps(per_min)  # minute 1: warms up, saves the start-up calibration at 10 s
    assert app.settings.saves == 1
    def rest():  # made before the free heap is measured
        walk_laps(laps - per_min)

    gc.collect()
    free_1 = gc.mem_free() if MICROPYTHON else 0
    heap.locked(rest)  # nothing allocated in minutes 2 and 3
    if MICROPYTHON:
        gc.collect()
        assert gc.mem_free() >= free_1  # and the heap did not shrink
    return app, still, walk, laps, cues, wire


def _check_cues(app, still, walk, laps, cues):
    windows = walk.drop_windows()
    got = [(cues.index[i], cues.side[i]) for i in range(cues.n)]
    expected = 0
    for lap in range(laps):
        base = still.n + lap * walk.n
        for j, (first, last, side) in enumerate(windows):
            hits = [(i, s) for i, s in got if base + first <= i <= base + last]
            if j in CLEAR:
                expected += 1
                assert len(hits) == 1 and hits[0][1] == side, (lap, j, hits)
            else:
                assert hits == [], (lap, j, hits)
    assert cues.n == expected  # nothing cued outside the drops
    assert app.haptics.played == expected and app.haptics.trips == 0
    assert app.imu.losses == 0 and app.imu.samples == still.n + laps * walk.n


def test_three_minutes_on_an_mpu6050():
    app, still, walk, laps, cues, wire = _simulate(0x68, FakeMPU6050, MPU6050_SCALE)
    assert app.imu.rate_hz == 100
    _check_cues(app, still, walk, laps, cues)
    assert wire.bytes > 18 * app.imu.samples  # every sample went out on USB


def test_three_minutes_on_an_lsm6dsox():
    app, still, walk, laps, cues, wire = _simulate(0x6A, FakeLSM6DSOX, LSM6DSOX_SCALE)
    assert app.imu.rate_hz == 104
    _check_cues(app, still, walk, laps, cues)
    assert wire.bytes > 18 * app.imu.samples
