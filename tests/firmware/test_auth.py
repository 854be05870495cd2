"""HMAC-SHA256 per RFC 2104 (checked against RFC 4231), tags on COMMAND frames, replays."""

import sys

import scratch
from belt_rig import command

from belt import auth as A
from belt import protocol as P

MICROPYTHON = sys.implementation.name == "micropython"
KEY = bytes(range(0x40, 0x60))  # 32 bytes

# RFC 4231 section 4: (key, data, HMAC-SHA-256 hex). Case 5 is truncated to 128 bits, the
# tag length the belt uses.
RFC4231 = (
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131,
     b"This is a test using a larger than block-size key and a larger than block-size data."
     b" The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
)


def _hex(b):
    return "".join("%02x" % x for x in b)


def _auth(name, key=KEY, block=A.COUNTER_BLOCK):
    d = scratch.fresh_dir(name)
    if key is not None:
        scratch.write(d + "/belt.key", key)
    return A.Auth(d + "/belt.key", d + "/belt.ctr", block), d


def test_hmac_sha256_matches_every_rfc_4231_vector():
    for key, data, want in RFC4231:
        got = _hex(A.Hmac(key).digest(data))
        assert got[: len(want)] == want, (key[:4], data[:10])
        assert A.Hmac(key).verify(data, bytes.fromhex(want), 0, len(want) // 2)


def test_hmac_agrees_with_the_standard_library_where_there_is_one():
    if MICROPYTHON:
        return  # MicroPython has no hmac module; the RFC vectors above are the check
    import hmac
    import random

    rnd = random.Random(3)
    for n in (0, 1, 31, 32, 63, 64, 65, 200):
        key = bytes(rnd.getrandbits(8) for _ in range(n))
        msg = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 300)))
        assert A.hmac_sha256(key, msg) == hmac.new(key, msg, "sha256").digest()


def test_tags_are_compared_over_every_byte():
    a = bytes(range(16))
    for i in range(16):
        b = bytearray(a)
        b[i] ^= 0x80
        assert not A.same(a, 0, b, 0, 16)
    assert A.same(a, 0, b"xx" + a, 2, 16)


def test_a_tagged_command_is_accepted_once_and_replays_are_refused():
    auth, _ = _auth("accept")
    f = command(KEY, P.CMD_GET_STATUS, 10)
    assert auth.check(f, len(f)) == P.ST_OK
    assert auth.check(f, len(f)) == P.ST_REPLAY  # the same frame again
    older = command(KEY, P.CMD_GET_STATUS, 9)
    assert auth.check(older, len(older)) == P.ST_REPLAY
    newer = command(KEY, P.CMD_GET_STATUS, 11)
    assert auth.check(newer, len(newer)) == P.ST_OK
    assert auth.counter.last == 11


def test_a_wrong_key_or_any_changed_byte_fails_the_tag_and_uses_no_counter():
    auth, _ = _auth("tamper")
    f = command(KEY, P.CMD_SET_STANCE, 5, b"\x01")
    for i in range(len(f)):
        bad = bytearray(f)
        bad[i] ^= 0x01
        assert auth.check(bad, len(bad)) == P.ST_BAD_AUTH, i
    other = command(bytes(32), P.CMD_SET_STANCE, 5, b"\x01")
    assert auth.check(other, len(other)) == P.ST_BAD_AUTH
    assert auth.counter.last == 0  # nothing above was accepted
    assert auth.check(f, len(f)) == P.ST_OK
    # The tag covers exactly the bytes before it: a frame read into a longer buffer works.
    buf = bytearray(64)
    g = command(KEY, P.CMD_SET_STANCE, 6, b"\x02")
    buf[: len(g)] = g
    assert auth.check(buf, len(g)) == P.ST_OK


def test_without_a_key_every_command_is_refused_and_the_reason_says_why():
    auth, d = _auth("nokey", key=None)
    f = command(KEY, P.CMD_GET_STATUS, 1)
    assert auth.check(f, len(f)) == P.ST_BAD_AUTH
    assert "no key provisioned" in auth.reason and "belt.key" in auth.reason
    short, d = _auth("shortkey", key=b"\x01" * 16)
    assert short.check(f, len(f)) == P.ST_BAD_AUTH
    assert "16 bytes" in short.reason


def test_the_counter_is_persisted_in_blocks_and_a_reboot_does_not_reopen_replays():
    auth, d = _auth("blocks", block=100)
    seen = []
    for c in range(1, 251):
        f = command(KEY, P.CMD_GET_STATUS, c)
        assert auth.check(f, len(f)) == P.ST_OK
        seen.append(f)
    assert auth.counter.writes == 3  # marks 100, 200, 300: one write per 100 commands
    assert not scratch.exists(d + "/belt.ctr.new")
    again = A.Auth(d + "/belt.key", d + "/belt.ctr", 100)  # the belt rebooted
    assert again.counter.last == 300
    for f in (seen[0], seen[-1]):
        assert again.check(f, len(f)) == P.ST_REPLAY
    f = command(KEY, P.CMD_GET_STATUS, 301)
    assert again.check(f, len(f)) == P.ST_OK and again.counter.writes == 1


def test_a_reset_between_writing_the_new_mark_and_the_rename_keeps_the_new_mark():
    auth, d = _auth("torn", block=10)
    f = command(KEY, P.CMD_GET_STATUS, 5)
    assert auth.check(f, len(f)) == P.ST_OK  # mark 14 in belt.ctr
    b = bytearray(8)
    P.put_u32(b, 0, 40)
    P.put_u32(b, 4, 40 ^ 0xFFFFFFFF)
    scratch.write(d + "/belt.ctr.new", b)  # written, not yet renamed
    again = A.Auth(d + "/belt.key", d + "/belt.ctr", 10)
    assert again.counter.last == 40
    scratch.write(d + "/belt.ctr", b"\x01\x02")  # damaged, and .new still there
    assert A.Auth(d + "/belt.key", d + "/belt.ctr", 10).counter.last == 40


def test_when_the_mark_cannot_be_written_the_command_is_refused_not_accepted():
    d = scratch.fresh_dir("readonly")
    scratch.write(d + "/belt.key", KEY)
    auth = A.Auth(d + "/belt.key", d + "/missing-dir/belt.ctr")
    f = command(KEY, P.CMD_GET_STATUS, 1)
    assert auth.check(f, len(f)) == P.ST_UNAVAILABLE
    assert auth.counter.last == 0
