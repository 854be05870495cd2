"""`sim:` and `sim+ble:`: the belt firmware on a simulated board behind `Transport`.

The board runs `belt.app` unchanged: the firmware's MPU-6050 driver reads a simulated
chip (sim/board.py) fed by the body and sensor models, and answers commands with its
own dispatcher and key. Most tests run on the BLE rig's virtual clock (minutes of belt
time in a second); the CLI test runs for two real seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import numpy as np
import pytest

from levelbelt import protocol as p
from levelbelt.belt_client import BeltClient, KeyMismatch
from levelbelt.blerig import run
from levelbelt.command_auth import CommandCounter
from levelbelt.demo_script import demo_script
from levelbelt.errors import ConfigError
from levelbelt.firmware import belt_module
from levelbelt.sim.board import BoardClock, SimulatedMpu6050
from levelbelt.sim.body import Segment
from levelbelt.sim.source import sample_chunks
from levelbelt.transports.sim_transport import SimBleTransport, SimTransport
from levelbelt.transports.transport import Transport, open_transport, parse_uri


class Log:
    def __init__(self) -> None:
        self.rows: dict[int, tuple[int, ...]] = {}
        self.gaps: list[tuple[int, int]] = []
        self.frames: list[p.Frame] = []

    def samples(self, batch: p.SampleBatch) -> None:
        assert batch.raw is not None
        for k, row in enumerate(batch.raw.tolist()):
            i = batch.first_index + k
            assert i not in self.rows, "a sample logged twice"
            self.rows[i] = tuple(row)

    def gap(self, first: int, count: int) -> None:
        self.gaps.append((first, count))

    def indices_accounted(self) -> bool:
        gaps = {i for first, n in self.gaps for i in range(first, first + n)}
        lo, hi = min(self.rows), max(self.rows)
        return all((i in self.rows) != (i in gaps) for i in range(lo, hi + 1))


def client_for(transport: Transport, log: Log, key: bytes | None = None) -> BeltClient:
    return BeltClient(
        transport,
        key=key if key is not None else getattr(transport, "key", None),
        on_samples=log.samples,
        on_gap=log.gap,
        on_frame=log.frames.append,
        counter=CommandCounter(1),
        seed=1,
    )


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def test_sim_uris_pick_the_simulated_belts_and_bad_ones_say_what_is_taken() -> None:
    assert isinstance(open_transport("sim:"), SimTransport)
    assert isinstance(open_transport("sim:7"), SimTransport)
    assert open_transport("sim:7").uri == "sim:7"
    assert isinstance(open_transport("sim+ble:"), SimBleTransport)
    assert parse_uri("sim+ble:2") == ("sim+ble", "2")
    with pytest.raises(ConfigError, match=r"use sim: or sim:SEED"):
        parse_uri("sim:left")
    with pytest.raises(ConfigError, match="sim: / sim\\+ble:"):
        parse_uri("simulated:")


def test_sim_streams_the_body_model_sample_for_sample_through_the_firmware() -> None:
    """The simulated chip and the firmware's own driver reproduce the sensor model's
    integers exactly: what the host logs is what the body model measured."""

    async def main() -> Log:
        transport = SimTransport(seed=3)
        log = Log()
        client = client_for(transport, log)
        task = asyncio.get_running_loop().create_task(client.run())
        await asyncio.sleep(30.0)
        await client.stop()
        await task
        await transport.close()
        assert client.info is not None and client.info.rate_hz == 100
        assert client.info.imu_kind == 0x68  # the firmware found "its" MPU-6050
        assert client.stats.reconnects == 0 and client.stats.frames_bad == 0
        return log

    log = run(main())
    assert log.gaps == [] and log.indices_accounted()
    first, last = min(log.rows), max(log.rows)
    assert last - first > 29 * 100
    truth = np.concatenate(list(_first_chunks(demo_script("right", 3), 3, last + 1)))
    got = np.array([log.rows[i] for i in range(first, last + 1)])
    assert np.array_equal(got, truth[first : last + 1])


def _first_chunks(script: Iterable[Segment], seed: int, n: int) -> list[np.ndarray]:
    out, have = [], 0
    for chunk in sample_chunks(script, 100, seed):
        out.append(chunk)
        have += len(chunk)
        if have >= n:
            break
    return out


def test_sim_answers_signed_commands_with_the_firmwares_dispatcher() -> None:
    async def main() -> None:
        transport = SimTransport()
        log = Log()
        client = client_for(transport, log)
        task = asyncio.get_running_loop().create_task(client.run())
        await until(lambda: len(log.rows) > 200)
        await client.command(p.CMD_GET_STATUS)
        await until(lambda: client.status is not None)
        ack = await client.command(p.CMD_SET_STANCE, bytes([2]))
        assert ack.status == p.ST_OK
        await until(lambda: client.status is not None and client.status.stance == 2)
        assert transport.belt is not None
        motor = transport.belt.hal.motor
        await client.command(p.CMD_CUE, bytes([4]))  # GET_READY
        levels = set()
        for _ in range(40):
            levels.add(motor.level)
            await asyncio.sleep(0.02)
        assert levels == {0, 1}  # the firmware's haptics ran the pattern
        client.key = bytes(32)  # a host with another key on the same cable
        with pytest.raises(KeyMismatch, match="levelbelt device provision"):
            await client.command(p.CMD_SET_STANCE, bytes([1]))
        assert transport.belt.app.pipeline.detector.stance == 2
        await client.stop()
        await task
        await transport.close()

    run(main())


def test_a_lost_port_is_refilled_from_the_belts_ring_by_resend_over_usb() -> None:
    async def main() -> None:
        transport = SimTransport()
        log = Log()
        client = client_for(transport, log)
        task = asyncio.get_running_loop().create_task(client.run())
        await until(lambda: len(log.rows) > 300)
        await transport.unplug(3.0)  # the belt runs on
        await until(lambda: client.stats.reconnects == 1 and not client.coverage.holes)
        await asyncio.sleep(2.0)
        await client.stop()
        await task
        await transport.close()
        assert client.stats.resend_requests >= 1
        assert client.stats.samples_resent >= 250
        assert log.gaps == [] and log.indices_accounted()

    run(main())


def test_a_stalled_belt_loop_shows_as_an_explicit_gap_never_filled_in() -> None:
    async def main() -> None:
        transport = SimTransport()
        log = Log()
        client = client_for(transport, log)
        task = asyncio.get_running_loop().create_task(client.run())
        await until(lambda: len(log.rows) > 300)
        await transport.stall(3.0)  # the firmware's loop hangs; the chip samples on
        await until(lambda: bool(log.gaps) and not client.coverage.holes)
        await asyncio.sleep(1.0)
        await client.stop()
        await task
        await transport.close()
        assert client.stats.reconnects == 0
        overflows = [f for f in log.frames
                     if isinstance(f, p.Event) and f.kind == p.EV_FIFO_OVERFLOW]
        assert len(overflows) == 1
        ((first, count),) = log.gaps
        assert first == overflows[0].index
        assert 2.5 * 100 <= count <= 3.5 * 100  # about the time the loop stood still
        assert log.indices_accounted()

    run(main())


def test_sim_ble_runs_the_firmwares_ble_peripheral_over_the_rig_to_bleak() -> None:
    async def main() -> None:
        transport = SimBleTransport(seed=2)
        log = Log()
        client = client_for(transport, log)
        task = asyncio.get_running_loop().create_task(client.run())
        await until(lambda: len(log.rows) > 500)
        assert transport.belt is not None and transport.belt.ble_name == "LevelBelt-0002"
        assert transport.mtu == 247 and transport.rssi == -60
        assert transport.battery_percent is not None and 0 <= transport.battery_percent <= 100
        assert client.stats.mtu == 247
        ack = await client.command(p.CMD_SET_STANCE, bytes([1]))
        assert ack.status == p.ST_OK
        assert transport.belt.app.pipeline.detector.stance == 1
        await asyncio.sleep(10.0)
        assert client.status is not None and 3950 <= client.status.battery_mv <= 4050
        assert transport.belt.hal.battery_adc.cell_mv < 4010  # it drains
        await client.stop()
        await task
        await transport.close()
        assert log.gaps == [] and log.indices_accounted()
        assert max(log.rows) - min(log.rows) > 10 * 100

    run(main())


def test_the_simulated_chip_overflows_like_the_real_one_when_nobody_reads() -> None:
    async def main() -> None:
        mpu = belt_module("imu_mpu6050")
        clock = BoardClock(asyncio.get_running_loop())
        chunks = sample_chunks(demo_script("none", 5), 100, 5)
        chip = SimulatedMpu6050(chunks, clock)
        driver = mpu.MPU6050(chip, clock)
        driver.configure(100)

        class Sink:
            n = 0

            def push(self, *row: int) -> None:
                self.n += 1

        sink = Sink()
        await asyncio.sleep(0.5)
        assert driver.drain(sink) == 50 and driver.overflows == 0
        await asyncio.sleep(2.0)  # 200 samples; the FIFO holds 85 records
        assert driver.drain(sink) == 0 and driver.overflows == 1
        assert 195 <= driver.last_lost <= 205 and chip.dropped == 200 - 85
        await asyncio.sleep(0.3)
        assert driver.drain(sink) == 30
        with pytest.raises(OSError):
            chip.readfrom_mem_into(0x69, 0x75, bytearray(1))  # nobody at 0x69

    run(main())


def test_levelbelt_link_test_sim_streams_without_loss(capsys: pytest.CaptureFixture[str]) -> None:
    from levelbelt.cli import main

    code = main(["link-test", "sim:", "--seconds", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("sim:1: ")
    assert "0 lost (0.00 %), 0 reconnects" in summary
    assert "no command key" not in out
