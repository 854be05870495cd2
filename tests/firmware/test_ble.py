"""The BLE peripheral against the `bluetooth` stand-in: services, advertising, MTU batching,
pacing through ENOMEM, reconnects with RESEND, and no allocation per sample."""

import sys

import belt_rig
import fake_bluetooth
import heap
from belt_rig import u16 as _u16
from belt_rig import u32 as _u32

import belt
from belt import app as A
from belt import ble as B
from belt import bonds
from belt import protocol as P


def _ad_fields(payload):
    """{AD type: data} of an advertising payload, checking the length bytes add up."""
    out = {}
    i = 0
    while i < len(payload):
        n = payload[i]
        assert n >= 1 and i + 1 + n <= len(payload)
        out[payload[i + 1]] = bytes(payload[i + 2:i + 1 + n])
        i += 1 + n
    return out


def _seqs(log):
    return [P.get_u16(f, 2) for _, f in log]


def test_advertising_fits_31_bytes_with_the_uuid_in_the_scan_response():
    uuid = B.uuid128_le(B.SERVICE_UUID)
    assert uuid == bytes(reversed(bytes.fromhex(B.SERVICE_UUID.replace("-", ""))))
    adv, resp = B.advertising("LevelBelt-C17E", uuid)
    assert len(adv) <= 31 and len(resp) <= 31
    fields = _ad_fields(adv)
    assert fields == {0x01: b"\x06", 0x09: b"LevelBelt-C17E"}  # flags, complete name
    assert _ad_fields(resp) == {0x07: uuid}  # the complete list of 128-bit services
    # 3 + 16 + 18 bytes would be 37: the UUID cannot share the advertisement with the name.
    assert len(adv) + len(resp) == 37
    short_adv, short_resp = B.advertising("LB", uuid)
    assert short_resp == b"" and _ad_fields(short_adv)[0x07] == uuid and len(short_adv) == 25
    long_adv, _ = B.advertising("LevelBelt-with-a-very-long-custom-name", uuid)
    assert len(long_adv) == 31 and _ad_fields(long_adv)[0x08] == b"LevelBelt-with-a-very-long"


def test_a_measured_battery_level_is_advertised_as_battery_service_data():
    uuid = B.uuid128_le(B.SERVICE_UUID)
    adv, resp = B.advertising("LevelBelt-C17E", uuid, 64)
    # 19 bytes of flags and name + 5 of service data (length, 0x16, 0x180F LE, level).
    assert _ad_fields(adv) == {0x01: b"\x06", 0x09: b"LevelBelt-C17E", 0x16: b"\x0f\x18\x40"}
    assert len(adv) == 24 and _ad_fields(resp) == {0x07: uuid}
    # No room beside a name of the longest kind: the level joins the scan response.
    long_adv, long_resp = B.advertising("LevelBelt-with-a-very-long-custom-name", uuid, 5)
    assert len(long_adv) == 31 and 0x16 not in _ad_fields(long_adv)
    assert _ad_fields(long_resp) == {0x07: uuid, 0x16: b"\x0f\x18\x05"}
    assert len(long_resp) == 23
    # Not measured yet (or out of range): nothing is claimed.
    assert B.advertising("LevelBelt-C17E", uuid, -1) == B.advertising("LevelBelt-C17E", uuid)
    assert 0x16 not in _ad_fields(B.advertising("LevelBelt-C17E", uuid, 101)[0])


def test_the_advertisement_follows_the_battery_while_advertising_and_not_while_connected():
    rig = belt_rig.Rig(calibrate=False)
    ble, per = rig.ble, rig.per
    per.set_battery(80)
    assert ble.advertising and _ad_fields(ble.adv_data)[0x16] == b"\x0f\x18\x50"
    rig.connect()
    starts = ble.adv_count
    per.set_battery(79)  # connected: notified, but no advertising starts
    assert ble.adv_count == starts and not ble.advertising
    ble.central_disconnect()
    rig.step(2)  # the main loop advertises again, with the level of the moment
    assert ble.advertising and _ad_fields(ble.adv_data)[0x16] == b"\x0f\x18\x4f"


def test_the_stand_in_refuses_an_advertisement_over_31_bytes_like_the_stack():
    ble = fake_bluetooth.BLE()
    ble.active(True)
    try:
        ble.gap_advertise(100000, adv_data=bytes(32))
    except OSError:
        pass
    else:
        raise AssertionError("a 32-byte advertisement was accepted")


def test_services_carry_the_contract_uuids_and_the_name_comes_from_the_mac():
    rig = belt_rig.Rig(calibrate=False)
    ble = rig.ble
    svcs = {s.text: [(c.text, f) for c, f, _ in chars] for s, chars in ble.services}
    lb = B.SERVICE_UUID.replace("-", "")
    assert svcs[lb] == [
        ("6c6200028e3b4b6fa1d25f0c9e7d4a10", fake_bluetooth.FLAG_NOTIFY),
        ("6c6200038e3b4b6fa1d25f0c9e7d4a10", fake_bluetooth.FLAG_WRITE),
        ("6c6200048e3b4b6fa1d25f0c9e7d4a10", fake_bluetooth.FLAG_READ | fake_bluetooth.FLAG_NOTIFY),
    ]
    assert svcs["180f"] == [("2a19", fake_bluetooth.FLAG_READ | fake_bluetooth.FLAG_NOTIFY)]
    assert [u for u, _ in svcs["180a"]] == ["2a29", "2a24", "2a26"]
    per = rig.per
    assert (per.stream, per.control, per.status) == (
        ble.handle_of(B.STREAM_UUID), ble.handle_of(B.CONTROL_UUID), ble.handle_of(B.STATUS_UUID))
    assert ble.central_read(ble.handle_of(0x2A29)) == b"LevelBelt"
    assert ble.central_read(ble.handle_of(0x2A26)) == ("%d.%d.%d" % belt.VERSION).encode()
    assert ble.central_read(ble.handle_of(0x2A24)) == b"LevelBelt clip"
    assert ble.gap_name == per.name == "LevelBelt-C17E"  # MAC ...:c1:7e
    assert ble.advertising and ble.adv_interval_us == B.ADV_INTERVAL_US
    assert (ble.adv_data, ble.resp_data) == B.advertising(per.name, B.uuid128_le(B.SERVICE_UUID))
    assert ble.mtu_pref == B.PREFERRED_MTU


def test_connecting_sends_info_status_and_calibration_and_status_reads_as_info():
    rig = belt_rig.Rig(central_mtu=23)
    rig.connect()
    assert not rig.ble.advertising and rig.per.connected
    rig.step(5)
    status = rig.status()
    assert [f[1] for f in status[:3]] == [P.FT_INFO, P.FT_STATUS, P.FT_CALIBRATION]
    info = status[0]
    assert (info[4], info[5], info[6]) == belt.VERSION and info[7] == A.IMU_MPU6050
    assert P.get_u16(info, 8) == 100 and info[10] == 3  # BLE batch: TILT x3 at MTU 23
    assert rig.ble.central_read(rig.per.status) == info
    st = status[1]
    assert st[4] == 1 and P.get_u16(st, 10) == 500  # running, 5.00 deg threshold
    assert _seqs(rig.ble.log) == list(range(len(rig.ble.log)))  # one seq across both


def test_mtu_23_streams_tilt_frames_of_three_and_247_samples_frames():
    rig = belt_rig.Rig(central_mtu=23)
    rig.connect()
    assert rig.per.mtu == 23
    rig.step(60)
    frames = [f for f in rig.stream() if f[1] in (P.FT_TILT, P.FT_SAMPLES)]
    assert frames and all(f[1] == P.FT_TILT and len(f) == 8 + 3 * 4 for f in frames)
    assert all(len(f) <= 20 for f in rig.stream())

    rig = belt_rig.Rig(central_mtu=247)
    rig.connect()
    assert rig.per.mtu == 247
    rig.step(60)
    frames = [f for f in rig.stream() if f[1] in (P.FT_TILT, P.FT_SAMPLES)]
    # 100 Hz: 10 per frame keeps each frame under 100 ms old (14 would fit the MTU).
    assert frames and all(f[1] == P.FT_SAMPLES and len(f) == 8 + 10 * 16 for f in frames)
    info = [f for f in rig.status() if f[1] == P.FT_INFO]
    assert info[-1][10] == 10

    rig = belt_rig.Rig(rate=200, central_mtu=247)
    rig.connect()
    rig.step(120)
    frames = [f for f in rig.stream() if f[1] == P.FT_SAMPLES]
    assert frames and all(len(f) == 8 + 14 * 16 for f in frames)  # 244 bytes, the payload


def test_the_shape_follows_the_mtu_the_central_negotiates():
    assert B.link_shape(23, 100) == (3, False, 3)
    assert B.link_shape(26, 100) == (3, False, 3)
    assert B.link_shape(27, 100) == (1, True, 1)
    assert B.link_shape(100, 100) == (5, True, 5)
    assert B.link_shape(247, 100) == (10, True, 14)
    assert B.link_shape(517, 200) == (14, True, 14)
    # The central starts the exchange itself before the belt's loop runs: the belt's own
    # request is refused by the stack (already done) and the central's MTU holds.
    rig = belt_rig.Rig(central_mtu=247)
    rig.ble.central_connect()
    rig.ble.central_exchange_mtu(100)
    rig.step(20)
    assert rig.per.mtu == 100
    info = [f for f in rig.status() if f[1] == P.FT_INFO]
    assert [f[10] for f in info] == [5]
    frames = [f for f in rig.stream() if f[1] == P.FT_SAMPLES]
    assert frames and all(len(f) == 8 + 5 * 16 for f in frames)


def test_an_enomem_storm_loses_no_samples_and_keeps_seq_contiguous():
    # A slow controller: 2 buffers, one packet per 50 ms interval, while the belt makes
    # 100 samples/s (34 TILT frames/s at MTU 23): gatts_notify keeps raising ENOMEM.
    rig = belt_rig.Rig(central_mtu=23, buffers=2, per_interval=1, interval_ms=50)
    rig.connect()
    first_index = rig.app.pipeline.index + 1
    rig.step(500)
    assert rig.ble.enomem > 50 and rig.per.enomem == rig.ble.enomem
    behind = rig.app.pipeline.index - rig.per.reader.live_next
    assert behind > 100  # the link fell behind; the ring holds what is not sent yet
    rig.ble.buffers = 12  # the controller gets going again: the backlog drains
    rig.ble.per_interval = 12
    rig.step(400)
    rig.idle(500)
    rig.ble.flush()
    idx = belt_rig.sample_runs(rig.stream())
    assert idx == list(range(first_index, first_index + len(idx)))
    assert idx[-1] >= rig.app.pipeline.index - 3  # caught up to within one batch
    assert _seqs(rig.ble.log) == list(range(len(rig.ble.log)))


def test_disconnect_readvertises_and_resend_fills_the_gap_exactly_after_reconnect():
    rig = belt_rig.Rig(central_mtu=247)
    rig.connect()
    rig.step(200)
    rig.ble.flush()
    before = belt_rig.sample_runs(rig.stream())
    last_seen = before[-1]
    rig.ble.central_disconnect()
    rig.step(1)
    assert rig.ble.advertising and not rig.per.connected  # advertising again at once
    rig.step(300)  # 3 s without a central
    rig.ble.log = []
    rig.ble.delivered = {}
    rig.connect()
    rig.step(100)
    rig.ble.flush()
    after = belt_rig.sample_runs(rig.stream())
    assert after and after == list(range(after[0], after[0] + len(after)))  # live again
    assert after[0] > last_seen + 290  # the gap the host must ask for
    # The host asks for everything between what it had and what it got now.
    want = after[0] - (last_seen + 1)
    rig.write(rig.command(P.CMD_RESEND, _u32(last_seen + 1) + _u16(want)))
    rig.step(150)
    rig.ble.flush()
    acks = [belt_rig.ack(f) for f in rig.status() if f[1] == P.FT_ACK]
    assert acks == [(P.CMD_RESEND, rig.counter, P.ST_OK)]
    ev = [f for f in rig.stream() if f[1] == P.FT_EVENT and f[4] == P.EV_RESEND]
    assert len(ev) == 1 and P.get_u16(ev[0], 14) == want
    assert P.get_u32(ev[0], 6) == last_seen + 1 and P.get_u32(ev[0], 10) == last_seen + 1
    resent = belt_rig.sample_runs(rig.stream(), (P.FT_RESENT_SAMPLES,))
    assert resent == list(range(last_seen + 1, after[0]))
    live = belt_rig.sample_runs(rig.stream())
    assert live == list(range(after[0], after[0] + len(live)))  # live kept flowing meanwhile
    assert sorted(before + resent + live) == list(range(before[0], live[-1] + 1))
    assert _seqs(rig.ble.log) == list(range(len(rig.ble.log)))


def test_a_second_central_is_dropped_and_the_first_keeps_streaming():
    rig = belt_rig.Rig(central_mtu=23)
    first = rig.connect()
    second = rig.ble.central_connect_second()
    rig.step(30)
    assert rig.ble.disconnects_asked == [second] and rig.per.refused == 1
    assert rig.ble.conn == first and rig.per.conn == first
    assert len(belt_rig.sample_runs(rig.stream())) >= 24


def test_control_writes_wait_for_the_main_loop():
    rig = belt_rig.Rig(central_mtu=23)
    rig.connect()
    rig.step(2)
    rig.ble.flush()
    n = len(rig.status())
    rig.write(rig.command(P.CMD_GET_STATUS))
    assert rig.per.command_len() == P.HEADER_LEN + 5 + 16  # copied out in the IRQ
    assert rig.per.queued() == 0  # but not handled there
    rig.step(1)
    rig.ble.flush()
    got = rig.status()[n:]
    assert belt_rig.ack(got[0]) == (P.CMD_GET_STATUS, 1, P.ST_OK) and got[1][1] == P.FT_STATUS
    assert rig.per.command_len() == -1


def test_status_goes_out_every_second_while_connected():
    rig = belt_rig.Rig(central_mtu=247)
    rig.connect()
    rig.step(500)
    rig.ble.flush()
    statuses = [f for f in rig.status() if f[1] == P.FT_STATUS]
    assert 5 <= len(statuses) <= 7  # on connect, then once a second for 5 s
    assert P.get_u32(statuses[-1], 16) > P.get_u32(statuses[0], 16)  # last index moves


def test_battery_level_is_readable_and_notified_to_a_subscriber():
    rig = belt_rig.Rig(calibrate=False)
    rig.connect()
    rig.ble.central_subscribe(rig.per.battery)
    rig.per.set_battery(87)
    rig.per.set_battery(87)  # unchanged: no second notification
    rig.ble.flush()
    assert rig.ble.central_read(rig.per.battery) == bytes((87,))
    assert rig.ble.received(rig.per.battery) == [bytes((87,))]


def test_streaming_over_ble_with_the_ring_allocates_nothing_per_sample():
    rig = belt_rig.Rig(central_mtu=247, record=False)
    rig.wire.count = False
    rig.connect()

    def drive(n):
        for i in range(n):
            k = i % 300
            rig.dev.advance(1, accel=(-1423, 8068, 0) if k < 150 else belt_rig.LEVEL)
            A.service(rig.app)

    # Warm-up: first-use views, status ticks, cues, the one-off saves (settings after 10 s,
    # the stack's identity key into /ble.bonds once the start-up hold is over).
    drive(bonds.START_HOLD + 100)
    sent = rig.ble.delivered_count + rig.ble.inflight
    heap.locked(lambda: drive(900))
    assert rig.ble.delivered_count + rig.ble.inflight - sent >= 90  # 900 samples / 10
    assert rig.ble.enomem == 0 and rig.hal.motor.rises >= 3



def test_the_hal_makes_the_radio_that_the_peripheral_runs_on():
    import fake_machine

    board = fake_machine.Board()
    fake_bluetooth.install()
    try:
        hal = fake_machine.load_hal(board).Hal()
    finally:
        sys.modules.pop("bluetooth", None)
    assert isinstance(hal.ble, fake_bluetooth.BLE) and hal.uuid is fake_bluetooth.UUID
    from belt.ring import SampleRing

    per = B.Peripheral(hal.ble, hal.uuid, SampleRing(10), 100)
    assert hal.ble.advertising and per.name.startswith("LevelBelt-")
    # Without the module (a build with no Bluetooth) the hal has no radio and says so.
    plain = fake_machine.load_hal(fake_machine.Board()).Hal()
    assert plain.ble is None and plain.uuid is None


def test_a_resend_never_holds_a_ready_live_frame_back_by_more_than_one_frame():
    from fake_i2c import FakeClock

    from belt.ring import SampleRing

    clock = FakeClock()
    # The controller takes one notification per 10 ms pass: every pass is a choice.
    ble = fake_bluetooth.BLE(clock, buffers=1, per_interval=1, interval_ms=10)
    ring = SampleRing(1000)
    for i in range(100):
        ring.put(i, i, 0, 0, 0, 0, 0, 0, 0)
    per = B.Peripheral(ble, fake_bluetooth.UUID, ring, 100)
    ble.central_connect()
    per.service()  # MTU 247: live SAMPLES of 10, resent SAMPLES of 14
    assert per.start_resend(0, 100) == 100
    completed = {}  # live frame first index -> pass in which its batch became complete
    sent_in = {}  # seq -> pass in which the belt handed that notification to the stack
    for k in range(40):
        for i in range(100 + 5 * k, 105 + 5 * k):
            ring.put(i, i, 0, 0, 0, 0, 0, 0, 0)
            if (i - 100) % 10 == 9:
                completed[i - 9] = k
        clock.sleep_ms(10)
        before = per.seq
        per.pump(10)
        for seq in range(before, per.seq):
            sent_in[seq] = k
    ble.flush()
    frames = [f for _, f in ble.log]
    resent = [P.get_u32(f, 4) for f in frames if f[1] == P.FT_RESENT_SAMPLES]
    assert resent == list(range(0, 100, 14))  # the whole range, in order
    live = [f for f in frames if f[1] == P.FT_SAMPLES]
    assert [P.get_u32(f, 4) for f in live] == sorted(completed)[: len(live)]
    assert len(live) >= 18
    for f in live:
        late = sent_in[P.get_u16(f, 2)] - completed[P.get_u32(f, 4)]
        assert 0 <= late <= 1, (P.get_u32(f, 4), late)  # at most one resent frame first
    assert max(sent_in[P.get_u16(f, 2)] - completed[P.get_u32(f, 4)] for f in live) == 1
    assert per.enomem > 0  # the controller really was the limit
