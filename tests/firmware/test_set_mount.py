"""SET_MOUNT: a clip worn another way round is declared to the belt, which checks the
axes, keeps the mount in its settings file, drops the neutrals of the old mount and says
in CALIBRATION that a neutral is needed until the next capture (docs/protocol.md)."""

import belt_rig
import scratch

from belt import protocol as P
from belt import settings as S
from belt.align import AXIS_CODE_MAX, mount_from_codes, parse_mount
from belt.pipeline import STATE_CALIBRATING, STATE_RUNNING

# Axis codes: 1 +x, 2 -x, 3 +y, 4 -y, 5 +z, 6 -z.
FLIPPED = b"\x02\x03"  # "-x+y": turned front to back, marked face against the body
# Up leaning 6 deg toward sensor +x: the right side higher in the default mount.
LEAN_TO_X = (856, 8147, 0)


def _acks(frames):
    return [belt_rig.ack(f) for f in frames if f[1] == P.FT_ACK]


def _calibrations(frames):
    return [f for f in frames if f[1] == P.FT_CALIBRATION]


def _usb(rig, frame, steps=1):
    before = len(rig.usb_frames()[0])
    rig.usb_send(frame)
    rig.step(steps)
    return rig.usb_frames()[0][before:]


def _file(rig):
    return scratch.read(rig.dir + "/belt.cfg")


def test_axis_codes_name_every_right_and_up_pair_on_two_different_axes():
    valid = {}
    for right in range(AXIS_CODE_MAX + 2):
        for up in range(AXIS_CODE_MAX + 2):
            text = mount_from_codes(right, up)
            if text is not None:
                valid[(right, up)] = text
    assert len(valid) == 24  # 6 directions for right, 4 left for up
    assert valid[(1, 3)] == "+x+y" and valid[(2, 3)] == "-x+y" and valid[(6, 1)] == "-z+x"
    for (right, up), text in valid.items():
        (ra, rs), (ua, us) = parse_mount(text)
        assert right == 1 + 2 * ra + (rs < 0) and up == 1 + 2 * ua + (us < 0)
    for right, up in ((0, 3), (7, 3), (3, 0), (255, 1), (1, 1), (1, 2), (4, 3), (5, 6)):
        assert mount_from_codes(right, up) is None


def test_a_new_mount_is_applied_kept_and_every_link_is_told_a_neutral_is_needed():
    rig = belt_rig.Rig(settings=True, central_mtu=247)
    rig.connect()
    p = rig.app.pipeline
    assert p.neutral_ok == [True, False, False]
    usb_before = len(rig.usb_frames()[0])
    rig.write(rig.command(P.CMD_SET_MOUNT, FLIPPED))  # from the BLE central
    rig.step(2)
    rig.ble.flush()
    assert _acks(rig.status()) == [(P.CMD_SET_MOUNT, 1, P.ST_OK)]
    assert p.align.mount == "-x+y" and p.neutral_ok == [False, False, False]
    usb_cal = _calibrations(rig.usb_frames()[0][usb_before:])
    assert len(usb_cal) == 1
    for cal in (_calibrations(rig.status())[-1], usb_cal[0]):
        assert cal[19] & P.CAL_NEUTRAL_NEEDED and cal[18] == 0
        assert P.get_u16(cal, 16) == 0  # measured against the declared mount's up for now
    stored = S.load(rig.dir + "/belt.cfg")
    assert stored.status == S.LOADED and stored.mount == "-x+y"
    assert stored.neutral_ok == [False, False, False]
    # The angles now follow the new axes: up leaning toward sensor +x is the right side
    # lower for this clip (it was the right side higher with +x+y).
    rig.step(600, LEAN_TO_X)
    assert -630 < p.obl_cdeg < -570
    # A gyro calibration leaves the neutral to capture; a neutral capture clears the flag.
    rig.step(100)
    out = _usb(rig, rig.command(P.CMD_CALIBRATE_GYRO), steps=120)
    assert _acks(out) == [(P.CMD_CALIBRATE_GYRO, 2, P.ST_OK)]
    assert _calibrations(out)[-1][19] & P.CAL_NEUTRAL_NEEDED
    out = _usb(rig, rig.command(P.CMD_CAPTURE_NEUTRAL, b"\x00"), steps=120)
    assert _acks(out) == [(P.CMD_CAPTURE_NEUTRAL, 3, P.ST_OK)]
    assert _calibrations(out)[-1][19] == 0 and p.neutral_ok == [True, False, False]


def test_unknown_codes_and_axes_that_do_not_make_a_pair_are_refused_and_change_nothing():
    rig = belt_rig.Rig(ble=False, settings=True)
    p = rig.app.pipeline
    rig.step(1000)  # past the first ten seconds: the start-up calibration is on flash
    kept = _file(rig)
    assert S.load(rig.dir + "/belt.cfg").neutral_ok[0]
    saves = rig.app.settings.saves
    refused = (b"\x00\x03", b"\x07\x03", b"\x01\xff", b"\x03\x03", b"\x03\x04", b"\x06\x05",
               b"\x00\x00")
    for k, args in enumerate(refused):
        out = _usb(rig, rig.command(P.CMD_SET_MOUNT, args))
        assert _acks(out) == [(P.CMD_SET_MOUNT, k + 1, P.ST_OUT_OF_RANGE)], args
        assert _calibrations(out) == []
    out = _usb(rig, rig.command(P.CMD_SET_MOUNT, b"\x02"))
    assert _acks(out) == [(P.CMD_SET_MOUNT, len(refused) + 1, P.ST_BAD_LENGTH)]
    assert p.align.mount == "+x+y" and p.neutral_ok == [True, False, False]
    assert rig.app.settings.saves == saves and _file(rig) == kept


def test_the_mount_in_use_again_keeps_the_neutral_and_writes_nothing():
    rig = belt_rig.Rig(ble=False, settings=True)
    p = rig.app.pipeline
    up = (p.align.ux, p.align.uy, p.align.uz)
    out = _usb(rig, rig.command(P.CMD_SET_MOUNT, b"\x01\x03"))  # "+x+y", the default
    assert _acks(out) == [(P.CMD_SET_MOUNT, 1, P.ST_OK)]
    assert _calibrations(out)[0][19] == 0
    assert p.neutral_ok == [True, False, False] and (p.align.ux, p.align.uy, p.align.uz) == up
    assert rig.app.settings.saves == 0


class FullFlash(S.Files):
    def open(self, path, mode):
        if "w" in mode:
            raise OSError(28)  # ENOSPC
        return open(path, mode)


def test_a_mount_the_flash_cannot_keep_is_unavailable_and_changes_nothing():
    rig = belt_rig.Rig(ble=False, settings=True)
    p = rig.app.pipeline
    rig.step(1000)  # the start-up calibration is kept
    s = rig.app.settings
    assert s.neutral_ok == [True, False, False]
    s.files = FullFlash()
    out = _usb(rig, rig.command(P.CMD_SET_MOUNT, FLIPPED))
    assert _acks(out) == [(P.CMD_SET_MOUNT, 1, P.ST_UNAVAILABLE)]
    assert _calibrations(out) == []
    assert p.align.mount == "+x+y" and p.neutral_ok == [True, False, False]
    assert s.mount == "+x+y" and s.neutral_ok == [True, False, False]
    text = rig.usb_frames()[1]
    assert len(text) == 1 and b"mount not changed: settings not saved (OSError 28)" in text[0]


def test_the_mount_survives_a_reboot_and_the_belt_takes_a_fresh_neutral_at_the_start():
    rig = belt_rig.Rig(ble=False, settings=True)
    rig.step(1000)  # the start-up calibration is kept: the next start would restore it
    assert S.load(rig.dir + "/belt.cfg").neutral_ok[0]
    out = _usb(rig, rig.command(P.CMD_SET_MOUNT, b"\x06\x01"))  # "-z+x": on its side
    assert _acks(out) == [(P.CMD_SET_MOUNT, 1, P.ST_OK)]
    again = belt_rig.Rig(ble=False, settings=True, calibrate=False, root=rig.dir)
    p = again.app.pipeline
    assert p.align.mount == "-z+x"
    # No neutral to restore for this mount: a still start, as on the first power-up.
    assert p.state == STATE_CALIBRATING
    again.step(110, (8192, 0, 0))  # sensor +X up, as this clip is worn
    assert p.state == STATE_RUNNING and p.neutral_ok == [True, False, False]
    cal = _calibrations(again.usb_frames()[0])
    assert len(cal) == 1 and cal[0][19] == 0 and P.get_u16(cal[0], 16) == 0
