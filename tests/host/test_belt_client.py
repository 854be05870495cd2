"""The belt client over the BLE transport, against the whole belt firmware on the rig.

Faults are real radio events on the rig: the belt goes out of range (supervision
timeout, disconnect on both ends), reboots, or stops answering; keys are wrong; a
second host connects. The sample log is checked index by index: every index from the
first to the last is either logged exactly once or inside a gap the client reported.
"""

from __future__ import annotations

import asyncio

import pytest
from ble_firmware_belt import (
    KEY,
    SUPERVISION_S,
    FirmwareBelt,
    Log,
    client_for,
    logging_client,
    on_rig,
    running,
    settle,
    until,
)

from levelbelt import protocol as p
from levelbelt.belt_client import Backoff, BeltClient, CommandRefused, KeyMismatch
from levelbelt.blerig import BleRig, Central, run
from levelbelt.command_auth import CommandCounter
from levelbelt.transports.ble_link import BleTransport


def test_a_steady_link_logs_every_sample_once() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await asyncio.sleep(20.0)
        await client.stop()
        await task
        assert len(log.samples) > 19 * 100
        assert log.gaps == []
        log.assert_accounted()
        assert client.stats.reconnects == 0
        assert client.stats.loss_percent == 0.0
        assert client.stats.mtu == 247

    on_rig(scenario)


def test_an_outage_within_the_supervision_timeout_loses_nothing_and_keeps_the_link() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await rig.outage(belt.board, SUPERVISION_S * 0.75)
        await settle(client)
        await client.stop()
        await task
        assert client.stats.reconnects == 0
        assert log.gaps == []
        log.assert_accounted()

    on_rig(scenario)


@pytest.mark.parametrize("outage_s", [3.0, 20.0])
def test_an_outage_within_the_ring_is_refilled_by_resend_after_reconnecting(
    outage_s: float,
) -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await rig.outage(belt.board, outage_s)
        await settle(client)
        await client.stop()
        await task
        assert client.stats.reconnects == 1
        assert client.stats.resend_requests >= 1
        assert client.stats.samples_resent >= (outage_s - SUPERVISION_S) * 100
        assert log.gaps == []
        assert client.stats.samples_lost == 0
        log.assert_accounted()
        assert client.stats.recoveries_s and client.stats.recoveries_s[0] < outage_s

    on_rig(scenario)


def test_an_outage_longer_than_the_ring_is_reported_as_one_explicit_gap() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await rig.outage(belt.board, 45.0)
        await settle(client)
        await client.stop()
        await task
        ring_s = belt.app.links.ring.capacity / 100
        assert len(log.gaps) == 1
        _, count = log.gaps[0]
        # What the ring could not hold any more: outage + reconnect time - ring depth.
        assert 45.0 - ring_s <= count / 100 <= 45.0 - ring_s + 6.0
        assert client.stats.samples_lost == count
        assert client.stats.loss_percent > 0
        log.assert_accounted()

    on_rig(scenario)


# Forced disconnects during a set, in the order they come: outages across 0.1-20 s, all
# within the belt's 32 s ring, and two longer than it. benchmarks/link_faults.py runs 100
# drawn at random (docs/benchmarks.md); this is the same fault, fewer times.
FORCED_OUTAGES_S = (0.1, 0.25, 0.6, 1.5, 3.0, 40.0, 6.0, 0.15, 12.0, 20.0, 0.4, 9.0, 55.0, 2.0)


def test_forced_disconnects_lose_nothing_within_the_ring_and_report_the_rest_as_gaps() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        ring_s = belt.app.links.ring.capacity / 100
        for n, outage_s in enumerate(FORCED_OUTAGES_S):
            await asyncio.sleep(2.0 + n % 4)  # streaming, mid-set
            gaps_before = len(log.gaps)
            await rig.drop(belt.board, outage_s)
            newest = belt.newest_index
            # Complete again: all the belt had when it came back is logged or a gap.
            await until(lambda newest=newest: client.coverage.frontier is not None
                        and client.coverage.frontier > newest and not client.coverage.holes)
            new_gaps = log.gaps[gaps_before:]
            if outage_s < ring_s:
                assert new_gaps == [], f"outage {outage_s} s within the ring left a gap"
            else:  # what the ring no longer held when the RESEND came: one explicit gap
                assert len(new_gaps) == 1, outage_s
                assert outage_s - ring_s <= new_gaps[0][1] / 100 <= outage_s - ring_s + 6.0
        await asyncio.sleep(2.0)
        await client.stop()
        await task
        assert client.stats.reconnects == len(FORCED_OUTAGES_S)
        assert len(log.gaps) == sum(1 for s in FORCED_OUTAGES_S if s >= ring_s) == 2
        assert client.stats.samples_lost == sum(n for _, n in log.gaps)
        log.assert_accounted()  # every index logged once or inside a reported gap

    on_rig(scenario)


def test_a_belt_reboot_ends_the_old_boot_and_logging_goes_on() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await asyncio.sleep(5.0)
        await belt.reboot(off_s=1.0)
        await until(lambda: log.resets == 1 and len(log.samples) > 300)
        await settle(client, 3.0)
        await client.stop()
        await task
        assert client.stats.resets == 1
        assert belt.boots == 2
        old, new = log.by_boot
        log.assert_accounted(old)
        log.assert_accounted(new)
        assert min(new) < max(old)  # the index started over

    on_rig(scenario)


def test_a_wrong_key_is_a_clear_error_and_changes_nothing_on_the_belt() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host, key=bytes(32))
        before = belt.app.pipeline.detector.stance
        with pytest.raises(KeyMismatch, match="levelbelt device provision"):
            await client.command(p.CMD_SET_STANCE, bytes([2]))
        assert belt.app.pipeline.detector.stance == before
        # Without a working key nothing can be resent: an outage past the supervision
        # timeout becomes a reported gap, not a silent one.
        await rig.outage(belt.board, 4.0)
        await until(lambda: bool(log.gaps) and client.state == "connected")
        await client.stop()
        await task
        log.assert_accounted()

    on_rig(scenario)


def test_a_host_without_a_key_is_told_how_to_get_one() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        _, client, task = await logging_client(host, key=None)
        with pytest.raises(KeyMismatch, match="no command key"):
            await client.command(p.CMD_GET_STATUS)
        await client.stop()
        await task

    on_rig(scenario)


def test_a_counter_behind_the_belts_is_moved_past_it_after_replay() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        _, first, task = await logging_client(host, counter=CommandCounter(1000))
        await first.command(p.CMD_GET_STATUS)
        await first.stop()
        await task
        # A second host (or this one restarted) starts below what the belt accepted.
        second = client_for(host, Log(), counter=CommandCounter(5))
        task = await running(second)
        ack = await second.command(p.CMD_SET_STANCE, bytes([1]))
        assert ack.status == p.ST_OK and ack.counter > 1000
        assert belt.app.pipeline.detector.stance == 1
        with pytest.raises(CommandRefused, match="OUT_OF_RANGE"):
            await second.command(p.CMD_SET_STANCE, bytes([9]))
        await second.stop()
        await task

    on_rig(scenario)


def test_a_silent_belt_gets_a_keepalive_then_is_dropped_and_reconnected() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(
            host, keepalive_s=1.0, dead_s=3.0, backoff=Backoff(first_s=0.5, max_s=1.0)
        )
        belt.task.cancel()  # the firmware hangs; the radio stays connected
        await asyncio.sleep(1.5)
        assert belt.peripheral.command_len() >= 0  # the keep-alive reached the belt
        await until(lambda: client.state != "connected")
        # Nobody advertises while the firmware hangs: connecting fails, with backoff.
        await until(lambda: client.stats.connect_failures >= 2)
        belt.task = rig.start_loop(belt.service, 5, belt.board.ble)  # it recovers
        await until(lambda: client.stats.reconnects == 1 and client.state == "connected")
        await settle(client, 2.0)
        await client.stop()
        await task
        log.assert_accounted()

    on_rig(scenario)


def test_a_second_host_with_another_key_cannot_command_the_belt() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        intruder_host = await rig.add_central()
        _, intruder, task = await logging_client(intruder_host, key=bytes(range(32)))
        with pytest.raises(KeyMismatch):
            await intruder.command(p.CMD_CUE, bytes([4]))  # GET_READY
        assert belt.app.links.commands.refused >= 1
        await intruder.stop()
        await task

    on_rig(scenario)


def test_four_belts_at_once_each_log_without_gaps() -> None:
    async def main() -> None:
        async with BleRig() as rig:
            host = await rig.add_central()
            belts = [FirmwareBelt(rig, await rig.add_peripheral()) for _ in range(4)]
            await asyncio.sleep(1.5)
            logs = [Log() for _ in belts]
            clients = [
                BeltClient(
                    BleTransport(
                        belt.peripheral.name,
                        scanner_backend=host.scanner_backend,
                        client_backend=host.client_backend,
                    ),
                    key=KEY,
                    on_samples=log.on_samples,
                    on_gap=log.on_gap,
                    counter=CommandCounter(1),
                )
                for belt, log in zip(belts, logs, strict=True)
            ]
            tasks = [asyncio.get_running_loop().create_task(c.run()) for c in clients]
            await until(lambda: all(c.stats.samples_logged > 0 for c in clients))
            await rig.outage(belts[2].board, 6.0)
            await until(lambda: all(not c.coverage.holes for c in clients))
            await asyncio.sleep(5.0)
            for c in clients:
                await c.stop()
            await asyncio.gather(*tasks)
            for log in logs:
                assert log.gaps == []
                log.assert_accounted()
                assert len(log.samples) > 10 * 100
            assert [c.stats.reconnects for c in clients] == [0, 0, 1, 0]

    run(main())
