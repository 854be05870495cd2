"""Authenticated commands on a whole belt: the same frames and answers over USB and BLE;
every refusal has its status code and changes nothing."""

import belt_rig
from belt_rig import u16 as _u16
from belt_rig import u32 as _u32

from belt import protocol as P

MOVING_A = (800, 8100, 0)  # ~100 mg sideways from level: beyond the 60 mg stillness limit


def _acks(frames):
    return [belt_rig.ack(f) for f in frames if f[1] == P.FT_ACK]


def _usb(rig, frame, steps=1):
    """Send one frame over USB; the frames the belt wrote in answer."""
    before = len(rig.usb_frames()[0])
    rig.usb_send(frame)
    rig.step(steps)
    return rig.usb_frames()[0][before:]


def _detector_args(thr, dwell, rel, stance, lockout):
    return _u16(thr) + _u16(dwell) + _u16(rel) + bytes((stance,)) + _u16(lockout)


def _settings(rig):
    d = rig.app.pipeline.detector
    return (d.stance, [list(c) for c in d.cfg])


def test_get_status_over_usb_gets_an_ack_then_a_status_frame():
    rig = belt_rig.Rig(ble=False)
    out = _usb(rig, rig.command(P.CMD_GET_STATUS))
    assert _acks(out) == [(P.CMD_GET_STATUS, 1, P.ST_OK)]
    st = [f for f in out if f[1] == P.FT_STATUS]
    assert len(st) == 1 and out.index(st[0]) > [f[1] for f in out].index(P.FT_ACK)
    assert st[0][4] == 1 and P.get_u16(st[0], 10) == 500  # running, 5.00 deg
    assert P.get_u32(st[0], 16) == rig.app.pipeline.index
    seqs = [P.get_u16(f, 2) for f in rig.usb_frames()[0]]
    assert seqs == list(range(len(seqs)))  # ACK and STATUS share the link's sequence


def test_status_reports_the_fifo_overflows_on_both_links():
    rig = belt_rig.Rig(central_mtu=247)
    rig.connect()
    for _ in range(2):  # the loop stalls twice, each time long enough to overflow
        rig.dev.advance(120)
        rig.step(2)
    assert rig.app.imu.overflows == 2
    out = _usb(rig, rig.command(P.CMD_GET_STATUS))
    st = [f for f in out if f[1] == P.FT_STATUS]
    assert len(st) == 1 and P.get_u16(st[0], 8) == 2
    rig.step(110)  # the STATUS a central gets every second
    rig.ble.flush()
    ble_st = [f for f in rig.status() if f[1] == P.FT_STATUS]
    assert P.get_u16(ble_st[0], 8) == 0 and P.get_u16(ble_st[-1], 8) == 2


def test_set_detector_applies_and_every_link_hears_the_new_status():
    rig = belt_rig.Rig(central_mtu=247)
    rig.connect()
    out = _usb(rig, rig.command(P.CMD_SET_DETECTOR, _detector_args(800, 200, 150, 1, 500)))
    assert _acks(out) == [(P.CMD_SET_DETECTOR, 1, P.ST_OK)]
    d = rig.app.pipeline.detector
    assert d.stance == 1 and d.side_config(1) == [800, 200, 150, 500]
    usb_st = [f for f in out if f[1] == P.FT_STATUS]
    rig.ble.flush()
    ble_st = [f for f in rig.status() if f[1] == P.FT_STATUS]
    assert P.get_u16(usb_st[-1], 10) == 800 and P.get_u16(ble_st[-1], 10) == 800
    assert P.get_u16(ble_st[-1], 12) == 200 and P.get_u16(ble_st[-1], 14) == 150
    # The BLE central's command is answered on BLE only.
    rig.write(rig.command(P.CMD_SET_STANCE, b"\x02"))
    n = len(rig.usb_frames()[0])
    rig.step(2)
    rig.ble.flush()
    assert _acks(rig.status())[-1] == (P.CMD_SET_STANCE, 2, P.ST_OK)
    assert _acks(rig.usb_frames()[0][n:]) == []
    assert d.stance == 2 and d.side_config(1) == [800, 200, 150, 500]


def test_out_of_range_arguments_are_refused_and_change_nothing():
    rig = belt_rig.Rig(ble=False)
    before = _settings(rig)
    rises = rig.hal.motor.rises
    refused = (
        (P.CMD_SET_DETECTOR, _detector_args(99, 150, 50, 0, 0)),  # threshold under 1.00
        (P.CMD_SET_DETECTOR, _detector_args(3001, 150, 50, 0, 0)),  # over 30.00
        (P.CMD_SET_DETECTOR, _detector_args(500, 2001, 50, 0, 0)),  # dwell over 2 s
        (P.CMD_SET_DETECTOR, _detector_args(500, 150, 500, 0, 0)),  # release not below
        (P.CMD_SET_DETECTOR, _detector_args(500, 150, 100, 4, 0)),  # no stance 4
        (P.CMD_SET_DETECTOR, _detector_args(500, 150, 100, 0, 10001)),  # lockout
        (P.CMD_SET_STANCE, b"\x04"),
        (P.CMD_CUE, b"\x00"),
        (P.CMD_CUE, b"\x0b"),
        (P.CMD_CAPTURE_NEUTRAL, b"\x03"),
        (P.CMD_RESEND, _u32(0) + _u16(0)),
    )
    for k, (cmd, args) in enumerate(refused):
        out = _usb(rig, rig.command(cmd, args))
        assert _acks(out) == [(cmd, k + 1, P.ST_OUT_OF_RANGE)], (cmd, args)
        assert not [f for f in out if f[1] in (P.FT_STATUS, P.FT_CALIBRATION, P.FT_EVENT)]
    assert _settings(rig) == before and rig.hal.motor.rises == rises


def test_wrong_lengths_and_unknown_commands_have_their_own_codes():
    rig = belt_rig.Rig(ble=False)
    before = _settings(rig)
    out = _usb(rig, rig.command(P.CMD_SET_STANCE, b"\x01\x00"))
    assert _acks(out) == [(P.CMD_SET_STANCE, 1, P.ST_BAD_LENGTH)]
    out = _usb(rig, rig.command(P.CMD_GET_STATUS, b"\x00"))
    assert _acks(out) == [(P.CMD_GET_STATUS, 2, P.ST_BAD_LENGTH)]
    out = _usb(rig, rig.command(0x7E, b""))
    assert _acks(out) == [(0x7E, 3, P.ST_UNKNOWN_COMMAND)]
    short = rig.command(P.CMD_SET_STANCE, b"\x01")[:20]  # cut inside the tag
    out = _usb(rig, short)
    assert _acks(out) == [(P.CMD_SET_STANCE, 4, P.ST_BAD_LENGTH)]
    assert _settings(rig) == before


def test_a_bad_tag_is_refused_and_without_a_key_everything_is_with_one_console_line():
    rig = belt_rig.Rig(ble=False)
    out = _usb(rig, rig.command(P.CMD_SET_STANCE, b"\x01", key=bytes(32)))
    assert _acks(out) == [(P.CMD_SET_STANCE, 1, P.ST_BAD_AUTH)]
    assert rig.app.pipeline.detector.stance == 0

    rig = belt_rig.Rig(key=None, central_mtu=23)
    rig.connect()
    for k in range(3):
        out = _usb(rig, rig.command(P.CMD_SET_STANCE, b"\x01"))
        assert _acks(out) == [(P.CMD_SET_STANCE, k + 1, P.ST_BAD_AUTH)]
    rig.write(rig.command(P.CMD_CUE, b"\x04"))
    rig.step(2)
    rig.ble.flush()
    assert _acks(rig.status()) == [(P.CMD_CUE, 4, P.ST_BAD_AUTH)]
    text = rig.usb_frames()[1]
    assert len(text) == 1 and b"no key provisioned" in text[0] and b"BAD_AUTH" in text[0]
    assert rig.app.pipeline.detector.stance == 0 and rig.hal.motor.rises == 0


def test_replays_are_refused_and_the_ack_names_the_last_accepted_counter():
    rig = belt_rig.Rig(ble=False)
    first = rig.command(P.CMD_SET_STANCE, b"\x01", counter=40)
    assert _acks(_usb(rig, first)) == [(P.CMD_SET_STANCE, 40, P.ST_OK)]
    rig.app.pipeline.detector.set_stance(0)
    assert _acks(_usb(rig, first)) == [(P.CMD_SET_STANCE, 40, P.ST_REPLAY)]
    older = rig.command(P.CMD_SET_STANCE, b"\x02", counter=7)
    assert _acks(_usb(rig, older)) == [(P.CMD_SET_STANCE, 40, P.ST_REPLAY)]
    assert rig.app.pipeline.detector.stance == 0  # neither replay did anything
    # An authentic command that is refused still uses up its counter.
    bad = rig.command(P.CMD_CUE, b"\x63", counter=41)
    assert _acks(_usb(rig, bad)) == [(P.CMD_CUE, 41, P.ST_OUT_OF_RANGE)]
    assert _acks(_usb(rig, bad)) == [(P.CMD_CUE, 41, P.ST_REPLAY)]


def test_capture_neutral_is_refused_while_moving_and_runs_when_still():
    rig = belt_rig.Rig(ble=False)
    for k in range(30):
        rig.step(1, MOVING_A if k % 2 else belt_rig.LEVEL)
    out = _usb(rig, rig.command(P.CMD_CAPTURE_NEUTRAL, b"\x01"))
    assert _acks(out) == [(P.CMD_CAPTURE_NEUTRAL, 1, P.ST_MOVING)]
    out = _usb(rig, rig.command(P.CMD_CALIBRATE_GYRO))
    assert _acks(out) == [(P.CMD_CALIBRATE_GYRO, 2, P.ST_MOVING)]
    rig.step(60)
    out = _usb(rig, rig.command(P.CMD_CAPTURE_NEUTRAL, b"\x01"), steps=120)
    assert _acks(out) == [(P.CMD_CAPTURE_NEUTRAL, 3, P.ST_OK)]
    cal = [f for f in out if f[1] == P.FT_CALIBRATION]
    ev = [f for f in out if f[1] == P.FT_EVENT and f[4] == P.EV_CALIBRATED]
    assert len(cal) == 1 and cal[0][18] == 1  # seated
    assert len(ev) == 1 and ev[0][5] == 1
    assert rig.app.pipeline.position == 1


def test_calibration_waits_for_the_start_up_capture_and_an_imu():
    rig = belt_rig.Rig(ble=False, calibrate=False)
    rig.step(20)
    out = _usb(rig, rig.command(P.CMD_CAPTURE_NEUTRAL, b"\x00"))
    assert _acks(out) == [(P.CMD_CAPTURE_NEUTRAL, 1, P.ST_UNAVAILABLE)]
    rig.app.imu = None  # as with no IMU found
    rig.app.pipeline.state = 1
    assert not rig.links.ready()


def test_cue_plays_the_pattern_on_the_motor_unless_the_haptics_refuse_it():
    rig = belt_rig.Rig(ble=False)
    rig.usb_send(rig.command(P.CMD_CUE, b"\x04"))  # GET_READY
    rig.usb_send(rig.command(P.CMD_CUE, b"\x08"))  # LOW_BATTERY: lower priority, refused
    n = len(rig.usb_frames()[0])
    rig.step(80)
    out = rig.usb_frames()[0][n:]
    assert _acks(out) == [(P.CMD_CUE, 1, P.ST_OK), (P.CMD_CUE, 2, P.ST_UNAVAILABLE)]
    assert rig.hal.motor.rises == 3 and rig.hal.motor.level == 0  # three ticks


def test_resend_over_usb_sends_the_samples_again_and_one_resend_runs_at_a_time():
    rig = belt_rig.Rig(ble=False)
    rig.step(200)
    rig.usb_send(rig.command(P.CMD_RESEND, _u32(50) + _u16(100)))
    rig.usb_send(rig.command(P.CMD_RESEND, _u32(0) + _u16(10)))  # same pass: busy
    n = len(rig.usb_frames()[0])
    rig.step(10)
    out = rig.usb_frames()[0][n:]
    assert _acks(out) == [(P.CMD_RESEND, 1, P.ST_OK), (P.CMD_RESEND, 2, P.ST_UNAVAILABLE)]
    ev = [f for f in out if f[1] == P.FT_EVENT and f[4] == P.EV_RESEND]
    assert len(ev) == 1 and P.get_u16(ev[0], 14) == 100 and P.get_u32(ev[0], 6) == 50
    resent = belt_rig.sample_runs(out, (P.FT_RESENT_SAMPLES,))
    assert resent == list(range(50, 150))
    # The resent records are the very samples streamed live the first time.
    live = {}
    for f in rig.usb_frames()[0]:
        if f[1] == P.FT_SAMPLES:
            first = P.get_u32(f, 4)
            for k in range((len(f) - 8) // 16):
                live[first + k] = bytes(f[8 + 16 * k:24 + 16 * k])
    for f in out:
        if f[1] == P.FT_RESENT_SAMPLES:
            first = P.get_u32(f, 4)
            for k in range((len(f) - 8) // 16):
                assert bytes(f[8 + 16 * k:24 + 16 * k]) == live[first + k]
    seqs = [P.get_u16(f, 2) for f in rig.usb_frames()[0]]
    assert seqs == list(range(len(seqs)))


def test_frames_of_another_version_or_type_get_no_answer():
    rig = belt_rig.Rig(ble=False)
    good = rig.command(P.CMD_GET_STATUS)
    for bad in (b"\x02" + good[1:], good[:1] + b"\x41" + good[2:], good[:3]):
        assert _acks(_usb(rig, bad)) == []
    assert rig.links.commands.ignored == 2 and rig.links.usb_input.bad == 1  # too short
    assert _acks(_usb(rig, good)) == [(P.CMD_GET_STATUS, 1, P.ST_OK)]


def test_calibrate_gyro_takes_the_bias_and_leaves_the_neutral_alone():
    rig = belt_rig.Rig(ble=False)
    p = rig.app.pipeline
    up = (p.align.ux, p.align.uy, p.align.uz)
    bias = (p.filter.bias_x, p.filter.bias_y, p.filter.bias_z)
    tilted = (143, 8191, 0)  # 1 deg to the side, held still, gyro now reading an offset
    rig.dev.advance(0, gyro=(13, -7, 5))
    rig.step(60, tilted)
    n = len(rig.usb_frames()[0])
    rig.usb_send(rig.command(P.CMD_CALIBRATE_GYRO))
    rig.step(120, tilted)
    out = rig.usb_frames()[0][n:]
    assert _acks(out) == [(P.CMD_CALIBRATE_GYRO, 1, P.ST_OK)]
    assert len([f for f in out if f[1] == P.FT_CALIBRATION]) == 1
    assert (p.align.ux, p.align.uy, p.align.uz) == up  # neutral kept: the tilt still shows
    assert (p.filter.bias_x, p.filter.bias_y, p.filter.bias_z) != bias
    assert 80 <= abs(p.obl_cdeg) <= 120 and p.position == 0
