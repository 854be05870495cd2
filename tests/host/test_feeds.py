"""A belt as the dashboard holds it: a real USB link through the belt client, and the
simulated rig's commands. The belt on the far end of the pty is the simulated one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from levelbelt import protocol as p
from levelbelt.demo import DemoRig
from levelbelt.errors import ConfigError, LinkError
from levelbelt.feeds import ClientFeed, key_name_for
from levelbelt.live import LinkGap
from levelbelt.sim.belt import SimulatedBelt
from levelbelt.sim.body import Still
from levelbelt.sim.pty_link import PtyPair
from levelbelt.sim.source import sample_chunks


def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("never happened")


def test_a_usb_belt_streams_into_the_dashboards_live_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path))
    pty = PtyPair()
    belt = SimulatedBelt(sample_chunks([Still(4.0)], 100, 1), 100, pty.write)
    feed = ClientFeed(f"serial:{pty.slave_path}", pty.slave_path, "usb",
                      key_name_for("usb", pty.slave_path))
    try:
        # The link thread opens the port (flushing what waited in it) and connects.
        _until(lambda: feed.client.state == "connected")
        writer = threading.Thread(target=belt.step, args=(300,))
        writer.start()
        feed.wait_for_belt()
        writer.join()
        _until(lambda: feed.live.snapshot().last_index == 299)
        snap = feed.live.snapshot()
        assert snap.samples_missing == 0 and snap.calibrated
        # No key was provisioned on this host: the command is refused with what to do.
        feed.set_stance(1)
        _until(lambda: feed.command_error is not None)
        assert feed.command_error is not None
        assert "no command key for this belt on this host" in feed.command_error
        assert "levelbelt device provision" in feed.command_error
    finally:
        feed.stop()
        pty.close()


def test_a_usb_belt_unplugged_and_plugged_back_reconnects_and_reports_what_it_missed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same client as over Bluetooth: a new port behind the same name (as
    /dev/serial/by-id gives) is reconnected with backoff; without a key on this host
    the missed range cannot be resent, so it is an explicit gap, on screen and for the
    session file."""
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path))
    link = tmp_path / "belt-port"
    ports: list[PtyPair | None] = []

    def plug() -> None:
        pty = PtyPair()
        (tmp_path / "new").symlink_to(pty.slave_path)
        (tmp_path / "new").replace(link)
        ports.append(pty)

    def write(data: memoryview) -> None:
        if ports[-1] is not None:
            ports[-1].write(data)

    plug()
    belt = SimulatedBelt(sample_chunks([Still(10.0)], 100, 1), 100, write)
    feed = ClientFeed(f"serial:{link}", "belt", "usb")
    heard: list[object] = []
    feed.live.listeners.append(heard.append)
    try:
        _until(lambda: feed.client is not None and feed.client.state == "connected")
        belt.step(200)
        _until(lambda: feed.live.snapshot().last_index == 199)
        unplugged = ports[-1]
        assert unplugged is not None
        ports.append(None)
        unplugged.close()
        link.unlink()
        _until(lambda: feed.link().state != "connected")
        belt.step(100)  # sampled while nobody listens
        plug()
        _until(lambda: feed.link().state == "connected")
        belt.step(200)
        _until(lambda: feed.live.snapshot().last_index == 499)
        figures = feed.link()
        assert figures.reconnects == 1
        assert feed.gaps == ((200, 100),) and figures.samples_lost == 100
        assert LinkGap(200, 100) in heard
        assert feed.live.snapshot().samples_missing == 100
    finally:
        feed.stop()
        for pty in ports:
            if pty is not None:
                pty.close()


def test_a_port_that_cannot_be_opened_fails_at_once_with_the_reason() -> None:
    t0 = time.monotonic()
    feed = ClientFeed("serial:/dev/levelbelt-missing", "/dev/levelbelt-missing", "usb")
    try:
        with pytest.raises(LinkError, match="/dev/levelbelt-missing"):
            feed.wait_for_belt()
    finally:
        feed.stop()
    assert time.monotonic() - t0 < 2.5


def test_usb_commands_use_the_one_provisioned_key_and_bluetooth_the_belts_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path))
    assert key_name_for("usb", "/dev/ttyUSB0") is None
    (tmp_path / "belts").mkdir()
    (tmp_path / "belts" / "LevelBelt-1A2B.key").write_bytes(bytes(32))
    assert key_name_for("usb", "/dev/ttyUSB0") == "LevelBelt-1A2B"
    (tmp_path / "belts" / "LevelBelt-3C4D.key").write_bytes(bytes(32))
    assert key_name_for("usb", "/dev/ttyUSB0") is None
    assert key_name_for("ble", "LevelBelt-3C4D") == "LevelBelt-3C4D"


def test_the_simulated_rig_captures_neutral_on_command_and_refuses_bad_values() -> None:
    rig = DemoRig(weak_side="none", seed=1, speed=20, script=[Still(30.0)]).start()
    try:
        _until(lambda: rig.live.snapshot().calibrations == 1)
        events: list[p.Event] = []
        rig.live.listeners.append(
            lambda f: events.append(f) if isinstance(f, p.Event) else None)
        rig.capture_neutral(2)
        _until(lambda: rig.live.snapshot().calibrations == 2)
        assert any(e.kind == p.EV_CALIBRATED and e.side == 2 for e in events)
        calibration = rig.live.snapshot().calibration
        assert calibration is not None and calibration.position == 2
        rig.set_stance(3)
        rig.set_detector(650, 200, 100, 2)
        _until(lambda: rig.belt.pipeline.detector.side_config(2)[0] == 650)
        _until(lambda: (rig.live.snapshot().battery_mv or 0) > 3900)
        with pytest.raises(ConfigError, match="release must be below threshold"):
            rig.set_detector(500, 150, 600, 1)
        with pytest.raises(ConfigError, match="stance"):
            rig.set_stance(7)
        with pytest.raises(ConfigError, match="position"):
            rig.capture_neutral(5)
        rig.cue(4)
        assert rig.cues == [4]
    finally:
        rig.stop()
