"""Settings file: round trip, validation on load, atomic writes that survive a power cut,
and the calibration kept across power cycles (restored into a running pipeline)."""

import os
import sys

from belt import detector as D
from belt import protocol as P
from belt import settings as S
from belt.pipeline import STATE_CALIBRATING, STATE_RUNNING, Pipeline

MICROPYTHON = sys.implementation.name == "micropython"
_made = [0]


def _dir():
    """A fresh, empty directory on the interpreter's real filesystem (the wasm VFS on
    MicroPython, a temporary directory on CPython)."""
    _made[0] += 1
    if MICROPYTHON:
        path = "/tmp/settings_%d" % _made[0]
        os.mkdir(path)
        return path
    import tempfile

    return tempfile.mkdtemp()


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _custom(path, files=None):
    s = S.Settings(path, files)
    s.stance = D.SIDE_LEFT
    s.rate_hz = 200
    s.mount = "-y+x"
    s.position = 1
    s.detector = [[800, 100, 200, 0], [400, 200, 100, 1500]]
    s.bias = [120, -64, 7]
    s.bias_ok = True
    s.neutral = [[0, 16384, 0], [0, 0, 0], [1000, 16353, 0]]
    s.neutral_ok = [True, False, True]
    return s


def _same(a, b):
    return all(getattr(a, k) == getattr(b, k) for k in (
        "stance", "rate_hz", "mount", "position", "detector", "bias", "bias_ok",
        "neutral", "neutral_ok"))


def test_a_missing_file_gives_factory_defaults_and_says_so():
    s = S.load(_dir() + "/belt.cfg")
    assert s.status == S.MISSING and s.reason is None
    assert s.stance == D.SIDE_EITHER and s.rate_hz == 100 and s.mount == "+x+y"
    assert s.detector == [[500, 150, 100, 0], [500, 150, 100, 0]]
    assert not s.bias_ok and s.neutral_ok == [False, False, False]
    assert s.check() is None


def test_saved_settings_load_back_exactly():
    path = _dir() + "/belt.cfg"
    s = _custom(path)
    assert s.save() is None and s.saves == 1
    assert os.stat(path)[6] == S.SIZE and not _exists(path + ".new")
    back = S.load(path)
    assert back.status == S.LOADED and _same(back, s)


def test_the_record_layout_is_the_documented_one():
    data = _custom("x").encode()
    assert len(data) == 56 and data[:4] == b"LBS1" and data[4] == 1
    assert data[5] == D.SIDE_LEFT and P.get_u16(data, 6) == 200 and data[8:12] == b"-y+x"
    assert data[12] == 1 and data[13] == 0b1011  # bias, neutral 0 and neutral 2 valid
    assert [P.get_u16(data, 14 + 2 * i) for i in range(8)] == [800, 100, 200, 0,
                                                                400, 200, 100, 1500]
    assert [P.get_i16(data, 30 + 2 * i) for i in range(3)] == [120, -64, 7]
    assert P.get_i16(data, 36 + 2 * 7) == 16353
    assert P.get_u16(data, 54) == P.crc16(data, 54)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def test_a_corrupt_file_gives_defaults_with_the_reason_and_never_raises():
    d = _dir()
    good = _custom(d + "/belt.cfg").encode()
    flipped = bytearray(good)
    flipped[20] ^= 0x04
    for data, words in ((bytes(flipped), "CRC"), (good[:40], "40 bytes"), (b"", "0 bytes"),
                        (good + b"x", "57 bytes"), (b"\xff" * 56, "CRC")):
        _write(d + "/belt.cfg", data)
        s = S.load(d + "/belt.cfg")
        assert s.status == S.CORRUPT and words in s.reason, (words, s.reason)
        assert _same(s, S.Settings())


def test_values_out_of_range_give_defaults_even_with_a_good_crc():
    d = _dir()
    for field, value, words in (("rate_hz", 150, "rate"), ("stance", 7, "stance"),
                                ("mount", "+x+x", "mount"), ("position", 3, "position")):
        s = _custom(d + "/belt.cfg")
        setattr(s, field, value)
        _write(d + "/belt.cfg", s.encode())
        back = S.load(d + "/belt.cfg")
        assert back.status == S.INVALID and words in back.reason, (field, back.reason)
        assert _same(back, S.Settings())
    s = _custom(d + "/belt.cfg")
    s.detector[1][0] = 5000  # 50 deg threshold
    _write(d + "/belt.cfg", s.encode())
    back = S.load(d + "/belt.cfg")
    assert back.status == S.INVALID and "right stance: threshold" in back.reason
    s = _custom(d + "/belt.cfg")
    s.neutral[2] = [9000, 0, 0]
    _write(d + "/belt.cfg", s.encode())
    assert "neutral of position 2" in S.load(d + "/belt.cfg").reason


def test_out_of_range_values_are_refused_on_save_and_the_file_is_untouched():
    path = _dir() + "/belt.cfg"
    s = _custom(path)
    s.save()
    s.bias = [9000, 0, 0]
    reason = s.save()
    assert reason is not None and "gyro bias" in reason
    assert _same(S.load(path), _custom(path))


class PowerCut(Exception):
    """The supply is gone: nothing after this point runs (not an error the code handles)."""


class Cut(S.Files):
    """Power fails at a chosen step: 'write' (half the record reached .new), 'rename'
    (before the rename), or 'between' (on a filesystem whose rename does not replace a
    file: after the old file was removed, before the rename)."""

    def __init__(self, where, fat=False):
        self.where = where
        self.fat = fat
        self.renames = 0

    def open(self, path, mode):
        f = open(path, mode)
        if "w" in mode and self.where == "write":

            class Half:
                def write(self, data):
                    f.write(data[: len(data) // 2])
                    f.close()
                    raise PowerCut()

                def close(self):
                    pass

            return Half()
        return f

    def rename(self, old, new):
        if self.fat and _exists(new):
            raise OSError(17)  # EEXIST: this filesystem does not replace
        if self.where in ("rename", "between"):
            raise PowerCut()
        self.renames += 1
        os.rename(old, new)


def _save_until_the_cut(s):
    try:
        s.save()
    except PowerCut:
        return
    raise AssertionError("the power cut did not happen")


def test_a_power_cut_while_writing_keeps_the_old_settings():
    path = _dir() + "/belt.cfg"
    old = _custom(path)
    old.save()
    new = _custom(path, Cut("write"))
    new.detector[0][0] = 1200
    _save_until_the_cut(new)
    assert os.stat(path + ".new")[6] == S.SIZE // 2  # a torn record
    back = S.load(path)  # the next boot
    assert back.status == S.LOADED and _same(back, old)


def test_a_power_cut_before_the_rename_keeps_the_old_settings():
    path = _dir() + "/belt.cfg"
    old = _custom(path)
    old.save()
    new = _custom(path, Cut("rename"))
    new.stance = D.SIDE_RIGHT
    _save_until_the_cut(new)
    assert _exists(path + ".new")  # the complete new record, never committed
    back = S.load(path)
    assert back.status == S.LOADED and back.stance == D.SIDE_LEFT
    new.files = S.Files()  # power back: the next save replaces both cleanly
    assert new.save() is None and S.load(path).stance == D.SIDE_RIGHT
    assert not _exists(path + ".new")


def test_a_filesystem_that_cannot_rename_over_a_file_still_saves():
    path = _dir() + "/belt.cfg"
    _custom(path).save()
    s = _custom(path, Cut(None, fat=True))
    s.rate_hz = 100
    assert s.save() is None and s.files.renames == 1
    assert S.load(path).rate_hz == 100 and not _exists(path + ".new")


def test_a_cut_between_remove_and_rename_loads_the_new_file():
    path = _dir() + "/belt.cfg"
    _custom(path).save()
    s = _custom(path, Cut("between", fat=True))
    s.rate_hz = 100
    _save_until_the_cut(s)
    assert not _exists(path) and _exists(path + ".new")
    back = S.load(path)
    assert back.status == S.LOADED and back.rate_hz == 100


def test_other_rename_errors_are_reported_and_the_old_file_stays():
    class Broken(S.Files):
        def rename(self, old, new):
            raise OSError(5)  # EIO

    path = _dir() + "/belt.cfg"
    _custom(path).save()
    s = _custom(path, Broken())
    s.stance = D.SIDE_OFF
    assert s.save() == "settings not saved (OSError 5)"
    assert S.load(path).stance == D.SIDE_LEFT


def test_a_full_flash_is_a_one_line_reason_and_nothing_is_lost():
    class Full(S.Files):
        def open(self, path, mode):
            if "w" in mode:
                raise OSError(28)  # ENOSPC
            return open(path, mode)

    path = _dir() + "/belt.cfg"
    _custom(path).save()
    s = _custom(path, Full())
    s.stance = D.SIDE_OFF
    reason = s.save()
    assert reason == "settings not saved (OSError 28)"
    assert S.load(path).stance == D.SIDE_LEFT


# --- the calibration kept across power cycles ------------------------------------------


class Frames:
    def __init__(self):
        self.calibrations = []
        self.events = []

    def add_sample(self, *a):
        pass

    def calibration(self, bias, up, err, position, flags=0):
        self.calibrations.append((tuple(bias), tuple(up), position))

    def event(self, kind, side, index, onset, value):
        self.events.append((kind, side, index))


def _calibrated_pipeline():
    p = Pipeline(100)
    for _ in range(100):  # still, sensor +Y up, a gyro bias of (3, -2, 1) x 1/16 deg/s
        p.push(0, 1000, 0, 3, -2, 1)
    assert p.state == STATE_RUNNING
    return p


def test_a_completed_calibration_is_saved_and_restored_after_a_power_cycle():
    path = _dir() + "/belt.cfg"
    p = _calibrated_pipeline()
    assert p.neutral_ok == [True, False, False] and p.calibrations == 1
    s = S.load(path)
    p.detector.configure(700, 200, 100, D.SIDE_RIGHT, 0)
    assert s.save_detector(p.detector) is None
    assert s.save_calibration(p) is None
    # Power cycle: a new pipeline, nothing measured yet.
    frames = Frames()
    q = Pipeline(100, frames)
    back = S.load(path)
    back.apply(q)
    assert q.state == STATE_RUNNING  # no still window needed
    assert (q.filter.bias_x, q.filter.bias_y, q.filter.bias_z) == (48, -32, 16)
    assert q.detector.stance == D.SIDE_RIGHT and q.detector.side_config(D.SIDE_RIGHT)[0] == 700
    q.push(0, 1000, 0, 0, 0, 0)
    assert frames.events == [(P.EV_CALIBRATED, 0, 0)]  # announced on the first sample
    assert frames.calibrations[0] == ((48, -32, 16), (0, 16384, 0), 0)
    for _ in range(800):
        q.push(-174, 985, 0, 0, 0, 0)  # right side 10 deg down (the filter settles, tau 1 s)
    assert -1010 < q.obl_cdeg < -990  # angles against the restored neutral


def test_without_a_stored_neutral_the_belt_calibrates_at_the_start_as_before():
    q = Pipeline(100)
    s = S.Settings()
    s.bias = [48, -32, 16]
    s.bias_ok = True
    s.apply(q)
    assert q.state == STATE_CALIBRATING
    for _ in range(100):
        q.push(0, 1000, 0, 3, -2, 1)
    assert q.state == STATE_RUNNING and q.neutral_ok[0]


def test_after_a_restore_the_bias_is_refreshed_quietly_at_the_first_still_second():
    frames = Frames()
    q = Pipeline(100, frames)
    q.restore([48, -32, 16], [[0, 16384, 0], [0, 0, 0], [0, 0, 0]], [True, False, False], 0)
    for i in range(300):  # three seconds of shaking: no MOVING events
        q.push(0, 1000, 0, 200 if i % 2 else 0, 0, 0)
    assert [e[0] for e in frames.events] == [P.EV_CALIBRATED]
    assert q.filter.bias_x == 48
    for _ in range(150):  # still: the gyro now reads 5, -1, 0 at rest (a warmer chip)
        q.push(0, 1000, 0, 5, -1, 0)
    assert (q.filter.bias_x, q.filter.bias_y, q.filter.bias_z) == (80, -16, 0)
    assert [e[0] for e in frames.events] == [P.EV_CALIBRATED]  # no event for the refresh
    assert frames.calibrations[-1][0] == (80, -16, 0)  # but the host sees the new bias
    assert q.calibrations == 1 and q.neutral_ok == [True, False, False]


def test_the_quiet_refresh_gives_up_after_five_minutes_of_movement():
    q = Pipeline(100)
    q.restore([48, -32, 16], [[0, 16384, 0], [0, 0, 0], [0, 0, 0]], [True, False, False], 0)
    for i in range(300 * 100 + 10):
        q.push(0, 1000, 0, 200 if i % 2 else 0, 0, 0)
    assert not q._recapturing and q.filter.bias_x == 48
    for _ in range(200):
        q.push(0, 1000, 0, 5, -1, 0)
    assert q.filter.bias_x == 48  # stays with the stored bias


def test_a_commanded_capture_during_the_refresh_is_announced_as_usual():
    frames = Frames()
    q = Pipeline(100, frames)
    q.restore([48, -32, 16], [[0, 16384, 0], [0, 0, 0], [0, 0, 0]], [True, False, False], 0)
    q.push(0, 1000, 0, 0, 0, 0)
    q.recalibrate(1)  # seated
    for _ in range(100):
        q.push(0, 995, 100, 3, -2, 1)
    assert frames.events[-1] == (P.EV_CALIBRATED, 1, q.index)
    assert q.neutral_ok == [True, True, False] and q.position == 1


def test_the_pipeline_can_move_to_the_chips_true_rate_before_streaming():
    p = Pipeline(100)
    p.filter.set_bias(10, 20, 30)
    p.detector.configure(600, 150, 100, D.SIDE_LEFT, 1000)
    p.set_rate(104)
    assert p.rate_hz == 104 and p.filter.rate_hz == 104 and p.detector.rate_hz == 104
    assert (p.filter.bias_x, p.filter.bias_y, p.filter.bias_z) == (10, 20, 30)
    assert p.detector.dwell_samples == 16 and p.calib.samples == 104
