"""BLE pairing and bonding: the ESP32 build has it, the belt enables it, bonds survive a
reboot, and nothing depends on it (commands still need the belt key).

Through the `bluetooth` stand-in (fake_bluetooth), whose stack asks the application's
bond store for its keys while starting and after a pairing as NimBLE does; and
belt/bonds.py on its own.
"""

import os

import belt_rig
import fake_bluetooth
import scratch

from belt import app as A
from belt import bonds as Bd
from belt import protocol as P

HOLD_MS = (Bd.START_HOLD + 10) * A.LOOP_MS  # loop passes before the first bond write


def _acks(rig, since=0):
    return [belt_rig.ack(f) for f in rig.status()[since:] if f[1] == P.FT_ACK]


def test_the_belt_asks_for_bonding_with_le_secure_connections_on_the_esp32_build():
    rig = belt_rig.Rig(calibrate=False)  # the stand-in is built as the ESP32 port is
    assert rig.per.pairing and rig.per.bonds is not None
    # Bonding, LE Secure Connections, no MITM, IO capability 3 (no input, no output):
    # Just Works, nothing to type on a belt with no display.
    assert rig.ble.security == {"bond": True, "le_secure": True, "mitm": False, "io": 3}


def test_a_build_without_pairing_streams_and_takes_commands_all_the_same():
    rig = belt_rig.Rig(pairing=False)
    assert not rig.per.pairing and rig.per.bonds is None and rig.ble.security == {}
    rig.connect(mtu=247)
    rig.write(rig.command(P.CMD_GET_STATUS))
    rig.step(20)
    rig.ble.flush()
    assert _acks(rig) == [(P.CMD_GET_STATUS, 1, P.ST_OK)]
    assert belt_rig.sample_runs(rig.stream())  # samples flowed
    rig.idle(HOLD_MS)
    assert not scratch.exists(rig.dir + "/ble.bonds")


def test_the_stack_gets_its_identity_key_from_the_store_while_starting():
    rig = belt_rig.Rig(calibrate=False)
    # Asked before the belt could have registered a late handler: the store answered,
    # so the key is the belt's own, not NimBLE's fixed one.
    assert rig.ble.irk != fake_bluetooth.DEFAULT_IRK and len(rig.ble.irk) == 16
    assert rig.per.bonds.get(Bd.SEC_OUR_IRK, 0, b"irk") == rig.ble.irk
    rig.idle(HOLD_MS)
    again = belt_rig.Rig(calibrate=False, root=rig.dir)  # a reboot
    assert again.ble.irk == rig.ble.irk  # the same identity for the phones that bonded


def test_pairing_bonds_without_stopping_the_stream_and_the_keys_reach_the_file():
    rig = belt_rig.Rig()
    rig.connect(mtu=247)
    rig.step(20)
    assert rig.ble.central_pair()
    rig.step(20)
    rig.ble.flush()
    assert rig.per.encrypted and rig.per.bonded
    runs = belt_rig.sample_runs(rig.stream())
    assert runs == list(range(runs[0], runs[0] + len(runs))) and len(runs) >= 30
    assert not scratch.exists(rig.dir + "/ble.bonds")  # not in the first seconds
    rig.idle(HOLD_MS)
    stored = Bd.BondStore(rig.dir + "/ble.bonds", 0)
    peer = rig.ble.peer
    for sec_type in (fake_bluetooth.SEC_PEER, fake_bluetooth.SEC_OUR):
        assert stored.get(sec_type, 0, peer) == rig.ble.link_keys(sec_type)
    assert stored.get(Bd.SEC_OUR_IRK, 0, b"irk") == rig.ble.irk


def test_a_bonded_phone_reconnects_encrypted_after_a_reboot_without_pairing_again():
    rig = belt_rig.Rig(calibrate=False)
    rig.connect()
    assert rig.ble.central_pair()
    rig.ble.central_disconnect()
    rig.idle(HOLD_MS)
    again = belt_rig.Rig(calibrate=False, root=rig.dir)  # power cycle, same flash
    assert rig.ble.peer in again.ble.resolvable  # its private address is recognised
    again.connect()
    assert again.ble.central_resume()
    A.service(again.app)
    assert again.per.encrypted and again.per.bonded
    # A phone the belt never bonded with is not taken for a bonded one.
    again.ble.central_disconnect()
    A.service(again.app)
    again.ble.central_connect(addr=b"\x12\x34\x56\x78\x9a\xbc")
    assert not again.ble.central_resume()


def test_bonds_cut_off_by_a_reboot_in_the_first_seconds_are_simply_made_again():
    rig = belt_rig.Rig(calibrate=False)
    rig.connect()
    assert rig.ble.central_pair()
    again = belt_rig.Rig(calibrate=False, root=rig.dir)  # power cut before the first write
    again.connect()
    assert not again.ble.central_resume()  # the phone is told to pair again
    assert again.ble.central_pair()
    A.service(again.app)
    assert again.per.bonded


def test_an_encrypted_link_does_not_replace_the_command_key():
    rig = belt_rig.Rig()
    rig.connect(mtu=247)
    assert rig.ble.central_pair()
    rig.write(rig.command(P.CMD_GET_STATUS, key=bytes(32)))  # bonded, but the wrong key
    rig.step(2)
    rig.write(rig.command(P.CMD_GET_STATUS))
    rig.step(2)
    rig.ble.flush()
    assert [a[2] for a in _acks(rig)] == [P.ST_BAD_AUTH, P.ST_OK]


# ------------------------------------------------------------------ belt/bonds.py alone


def _store(hold=0):
    return Bd.BondStore(scratch.fresh_dir("bonds") + "/ble.bonds", hold)


def test_keys_and_values_are_copied_out_of_the_stacks_buffers():
    s = _store()
    key = bytearray(b"\x00ABCDEF")
    value = bytearray(b"secret-value")
    assert s.put(2, memoryview(key), memoryview(value))
    key[1] = value[0] = 0  # the stack reuses its buffers after the IRQ
    assert s.get(2, 0, b"\x00ABCDEF") == b"secret-value"
    assert s.get(2, 0, None) == b"secret-value" and s.get(2, 1, None) is None
    assert s.get(1, 0, b"\x00ABCDEF") is None  # another secret type


def test_a_secret_can_be_replaced_and_deleted():
    s = _store()
    s.put(2, b"k", b"one")
    s.put(2, b"k", b"two")
    assert s.get(2, 0, b"k") == b"two" and len(s.entries) == 1
    assert s.put(2, b"k", None)  # the stack forgets a peer (repeat pairing, unpair)
    assert s.get(2, 0, b"k") is None and s.entries == []


def test_a_secret_too_long_for_the_file_is_refused_and_changes_nothing():
    s = _store()
    s.put(2, b"k", b"kept")
    s.dirty = False
    assert not s.put(2, b"k", bytes(256))
    assert s.get(2, 0, b"k") == b"kept" and not s.dirty


def test_when_full_the_central_stored_longest_ago_goes_but_never_the_identity_key():
    s = _store()
    s.put(Bd.SEC_OUR_IRK, b"irk", bytes(16))
    for c in range(7):  # seven centrals: 1 + 14 entries
        s.put(2, bytes((c,)), b"peer")
        s.put(1, bytes((c,)), b"ours")
    assert len(s.entries) == 15
    s.put(2, b"\x07", b"peer")
    s.put(1, b"\x07", b"ours")  # the 17th entry: central 0 goes, both its keys
    assert len(s.entries) == 15
    assert s.get(2, 0, b"\x00") is None and s.get(1, 0, b"\x00") is None
    assert s.get(Bd.SEC_OUR_IRK, 0, b"irk") == bytes(16)
    assert s.get(2, 0, b"\x07") == b"peer" and s.get(1, 0, b"\x01") == b"ours"


def test_the_file_loads_back_and_a_damaged_tail_keeps_the_whole_records():
    s = _store()
    s.put(Bd.SEC_OUR_IRK, b"irk", bytes(range(16)))
    s.put(2, b"\x00ABCDEF", b"v" * 70)
    assert s.save() and not s.dirty
    again = Bd.BondStore(s.path, 0)
    assert again.entries == s.entries
    data = scratch.read(s.path)
    scratch.write(s.path, data[:-5])  # cut short mid-record
    cut = Bd.BondStore(s.path, 0)
    assert cut.entries == s.entries[:1]


def test_nothing_is_written_in_the_first_seconds_and_a_failed_write_waits_to_retry():
    d = scratch.fresh_dir("bonds")
    s = Bd.BondStore(d + "/ble.bonds", 3)
    s.put(2, b"k", b"v")
    assert not s.save() and not s.save() and not s.save()  # held after power-up
    assert not scratch.exists(d + "/ble.bonds")
    assert s.save() and scratch.exists(d + "/ble.bonds")
    later = d + "/later"
    bad = Bd.BondStore(later + "/ble.bonds", 0)
    bad.put(2, b"k", b"v")
    assert not bad.save() and bad.dirty  # no such directory: the write fails
    os.mkdir(later)  # the flash has room again
    waited = 0
    while not bad.save():  # not retried on every loop pass
        waited += 1
        assert waited <= Bd.SAVE_RETRY
    assert waited == Bd.SAVE_RETRY and not bad.dirty
    assert Bd.BondStore(later + "/ble.bonds", 0).get(2, 0, b"k") == b"v"
