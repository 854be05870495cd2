"""Link faults over the BLE rig that need more than one host, more than one boot, or a
session file per athlete: the whole belt firmware on the rig, the host's bleak
transport and `BeltClient`, all on the rig's virtual clock (see test_belt_client.py
for the single-link faults: outages, forced disconnects, keep-alive, replay).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from ble_firmware_belt import (
    KEY,
    LEVEL,
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
from levelbelt.belt_client import BeltClient, KeyMismatch
from levelbelt.blerig import BleRig, Central, CentralProfile, run
from levelbelt.command_auth import CommandCounter
from levelbelt.errors import LinkError
from levelbelt.session import SessionMeta, SessionWriter, read_session
from levelbelt.transports.ble_link import BleTransport


def test_two_hosts_racing_for_one_belt_one_streams_and_the_other_cannot_command() -> None:
    """The belt takes one central: connected, it stops advertising, so a second host
    neither finds it nor reaches its control point; the first host is not disturbed."""

    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        other = await rig.add_central()
        logs = [Log(), Log()]
        clients = [client_for(host, logs[0]), client_for(other, logs[1])]
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(c.run()) for c in clients]
        await until(lambda: any(c.stats.samples_logged for c in clients))
        winner = next(i for i, c in enumerate(clients) if c.stats.samples_logged)
        first, second = clients[winner], clients[1 - winner]
        answered = belt.app.links.commands.answered
        # The other host saw the advertisement too, but its connection request finds
        # nobody listening: it times out, then scans and finds nothing, with backoff.
        await until(lambda: second.stats.connect_failures >= 3, timeout=120.0)
        assert second.stats.connects == 0
        assert "not connected to another device" in (second.stats.last_error or "")
        with pytest.raises(LinkError, match="not connected"):
            await second.command(p.CMD_SET_STANCE, bytes([2]))
        assert belt.app.links.commands.answered == answered  # nothing reached the belt
        # Its attempts cost the first host nothing: every sample, commands still work.
        ack = await first.command(p.CMD_SET_STANCE, bytes([1]))
        assert ack.status == p.ST_OK
        assert belt.app.pipeline.detector.stance == 1
        assert first.stats.reconnects == 0
        assert logs[winner].gaps == []
        logs[winner].assert_accounted()
        assert len(logs[winner].samples) > 10 * 100
        for c in clients:
            await c.stop()
        await asyncio.gather(*tasks)

    on_rig(scenario)


def test_a_host_that_gets_the_belt_after_another_left_cannot_command_it_with_its_key() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        first = client_for(host, Log())
        task = await running(first)
        await first.command(p.CMD_SET_STANCE, bytes([1]))
        await first.stop()
        await task
        other_log, other, task = await logging_client(await rig.add_central(),
                                                      key=bytes(range(1, 33)))
        refused = belt.app.links.commands.refused
        with pytest.raises(KeyMismatch, match="levelbelt device provision"):
            await other.command(p.CMD_SET_STANCE, bytes([2]))
        assert belt.app.links.commands.refused == refused + 1
        assert belt.app.pipeline.detector.stance == 1  # unchanged
        await asyncio.sleep(3.0)
        assert other_log.gaps == []  # streaming needs no key
        other_log.assert_accounted()
        await other.stop()
        await task

    on_rig(scenario)


def test_a_reboot_while_out_of_range_is_a_new_boot_not_a_hole_filled_from_it() -> None:
    """Off for a while and back with an index past the old one: without noticing the
    reboot, the host would ask the new boot for the old boot's missing range and log
    other samples under those indices. Its index advanced far less than the time away
    allows, so the client starts a new boot instead."""

    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        await asyncio.sleep(2.0)
        belt.board.set_in_range(False)
        old_newest = belt.newest_index
        await belt.reboot(off_s=1.0)
        belt.board.set_in_range(False)  # powered up again, still out of range
        await asyncio.sleep(12.0)
        belt.board.set_in_range(True)
        await until(lambda: log.resets == 1 and len(log.samples) > 200)
        await settle(client, 3.0)
        await client.stop()
        await task
        old, new = log.by_boot
        assert max(old) <= old_newest  # nothing of the new boot under the old one
        assert min(new) > old_newest  # the new boot had counted past it: the trap
        assert client.stats.resets == 1
        log.assert_accounted(old)
        log.assert_accounted(new)

    on_rig(scenario)


def test_a_belt_that_kept_running_while_away_is_not_taken_for_a_reboot() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host)
        for outage_s in (SUPERVISION_S + 1.0, 8.0, 25.0):
            await rig.outage(belt.board, outage_s)
            await settle(client, 2.0)
        await client.stop()
        await task
        assert client.stats.resets == 0
        assert client.stats.reconnects == 3
        assert log.gaps == []
        log.assert_accounted()

    on_rig(scenario)


def test_with_the_wrong_key_a_missed_range_is_a_gap_at_once_and_the_error_says_why() -> None:
    async def scenario(rig: BleRig, belt: FirmwareBelt, host: Central) -> None:
        log, client, task = await logging_client(host, key=bytes(32))
        refused = belt.app.links.commands.refused
        await rig.outage(belt.board, SUPERVISION_S + 2.0)
        await until(lambda: bool(log.gaps) and client.state == "connected")
        await asyncio.sleep(5.0)
        await client.stop()
        await task
        # One refused RESEND is enough to know: the key will not start working.
        assert belt.app.links.commands.refused == refused + 1
        assert client.stats.key_refused
        assert "levelbelt device provision" in (client.stats.last_error or "")
        assert len(log.gaps) == 1
        log.assert_accounted()

    on_rig(scenario)


def test_four_belts_at_once_give_four_complete_sessions_one_per_athlete(
    tmp_path: Path,
) -> None:
    athletes = ["Ana", "Ben", "Cai", "Dee"]

    async def main() -> None:
        async with BleRig() as rig:
            host = await rig.add_central(
                profile=CentralProfile(supervision_timeout_ms=int(SUPERVISION_S * 1000))
            )
            belts = [FirmwareBelt(rig, await rig.add_peripheral()) for _ in athletes]
            for n, belt in enumerate(belts):  # each belt's samples say whose they are
                belt.chip.set_raw(LEVEL[0] + 8 * (n + 1), *LEVEL[1:])
            await asyncio.sleep(1.5)
            writers = [
                SessionWriter.create(tmp_path, SessionMeta(athlete, belt.peripheral.name, 100))
                for athlete, belt in zip(athletes, belts, strict=True)
            ]
            clients = [
                BeltClient(
                    BleTransport(
                        belt.peripheral.name,
                        scanner_backend=host.scanner_backend,
                        client_backend=host.client_backend,
                    ),
                    key=KEY,
                    on_samples=writer.append_samples,
                    on_gap=lambda first, n, w=writer: w.append_gap(first, first + n),
                    on_reset=writer.belt_restarted,
                    counter=CommandCounter(1),
                    seed=n,
                )
                for n, (belt, writer) in enumerate(zip(belts, writers, strict=True))
            ]
            loop = asyncio.get_running_loop()
            tasks = [loop.create_task(c.run()) for c in clients]
            await until(lambda: all(c.stats.samples_logged > 0 for c in clients))
            await asyncio.sleep(3.0)
            await asyncio.gather(rig.outage(belts[1].board, 6.0), rig.drop(belts[3].board, 1.0))
            await until(lambda: all(not c.coverage.holes and c.state == "connected"
                                    for c in clients))
            await asyncio.sleep(4.0)
            for c in clients:
                await c.stop()
            await asyncio.gather(*tasks)
            for w, c in zip(writers, clients, strict=True):
                w.close({"samples_lost": c.stats.samples_lost})
            assert [c.stats.reconnects for c in clients] == [0, 1, 0, 1]

    run(main())
    files = sorted(tmp_path.iterdir())
    assert len(files) == len(athletes)
    by_athlete = {s.header.athlete: s for s in map(read_session, files)}
    assert sorted(by_athlete) == athletes
    for n, athlete in enumerate(athletes):
        session = by_athlete[athlete]
        session.raise_for_problems()
        assert session.complete and session.gaps == ()
        idx = session.samples.index
        assert len(idx) > 10 * 100
        assert (idx == range(idx[0], idx[0] + len(idx))).all()  # every index, once
        ax = session.samples.raw[:, 0]
        assert (ax == round((LEVEL[0] + 8 * (n + 1)) * 1000 / 8192)).all(), athlete
