"""The belt client's pure parts: the coverage of logged indices, command signing, backoff."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from belt import auth as fw_auth
from belt import protocol as fw_p
from levelbelt import protocol as p
from levelbelt.belt_client import Backoff
from levelbelt.command_auth import CommandCounter, sign_command
from levelbelt.coverage import Coverage


def test_samples_in_order_leave_no_holes() -> None:
    cov = Coverage()
    assert cov.add(100, 10) == [(100, 110)]
    assert cov.add(110, 10) == [(110, 120)]
    assert cov.holes == [] and cov.expected == 20 and cov.logged == 20


def test_a_jump_opens_a_hole_that_resent_samples_fill_once() -> None:
    cov = Coverage()
    cov.add(0, 10)
    assert cov.add(50, 10) == [(50, 60)]
    assert cov.holes == [(10, 50)]
    assert cov.add(20, 10) == [(20, 30)]  # a RESEND answer, in the middle
    assert cov.add(20, 10) == []  # the same samples again: nothing new
    assert cov.holes == [(10, 20), (30, 50)]
    assert cov.add(5, 20) == [(10, 20)]  # overlapping what was logged: only the new part
    assert cov.missing == 20
    assert cov.logged == 40


def test_closing_a_range_turns_only_its_holes_into_gaps() -> None:
    cov = Coverage()
    cov.add(0, 10)
    cov.add(40, 10)
    cov.add(60, 10)
    assert cov.holes == [(10, 40), (50, 60)]
    assert cov.close(0, 45) == [(10, 40)]
    assert cov.gap_samples == 30
    assert cov.holes == [(50, 60)]
    assert cov.close(0, 45) == []  # already closed: not counted twice


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), min_size=1, max_size=40))
def test_every_index_is_logged_missing_or_a_gap_exactly_once(
    batches: list[tuple[int, int]],
) -> None:
    cov = Coverage()
    seen: set[int] = set()
    for i, (first, count) in enumerate(batches):
        for a, b in cov.add(first, count):
            new = set(range(a, b))
            assert not new & seen, "a sample was handed out twice"
            seen |= new
        if i % 7 == 6:
            cov.close(first, first + count)
    assert cov.logged == len(seen)
    assert cov.logged + cov.missing + cov.gap_samples == cov.expected


def test_host_tags_verify_with_the_belts_own_hmac() -> None:
    key = bytes(range(32))
    frame = sign_command(key, p.CMD_RESEND, 1234, (7).to_bytes(4, "little") + b"\x10\x00", 9)
    body, tag = frame[:-16], frame[-16:]
    assert tag == fw_auth.hmac_sha256(key, body)[:16]
    assert frame[0] == fw_p.VERSION and frame[1] == fw_p.FT_COMMAND
    assert fw_p.get_u32(frame, 5) == 1234
    assert len(frame) == 25 + 6  # header 4, command 1, counter 4, args 6, tag 16


def test_counter_counts_up_and_jumps_past_the_belts_after_replay() -> None:
    counter = CommandCounter(10)
    assert [counter.take(), counter.take()] == [10, 11]
    counter.resync(500)
    assert counter.take() == 501
    counter.resync(3)  # never backwards
    assert counter.take() == 502


def test_backoff_doubles_to_its_cap_with_bounded_jitter() -> None:
    rng = random.Random(0)
    b = Backoff(first_s=0.25, factor=2.0, max_s=4.0, jitter=0.1)
    delays = [b.delay(n, rng) for n in range(8)]
    for n, d in enumerate(delays):
        base = min(4.0, 0.25 * 2**n)
        assert 0.9 * base <= d <= 1.1 * base
    assert b.delay(10_000, rng) <= 4.4  # no overflow after hours of failures


def test_the_client_and_the_transport_interface_load_no_bluetooth_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import levelbelt.belt_client, levelbelt.transports.transport\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'bleak', 'bumble'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
