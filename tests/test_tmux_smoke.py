"""`levelbelt demo` in a real terminal: tmux runs it, the test types keys and reads the screen.

This is the README's command as a user runs it (the installed entry point, a real pty,
the real terminal driver and timers, the simulated belt on its own pty), on a private
tmux server so nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
LEVELBELT = Path(sys.executable).with_name("levelbelt")

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
# The size comes from the terminal, as for a user: COLUMNS / LINES inherited from the
# test run would pin Textual to them and hide a resize.
ENV = "-u COLUMNS -u LINES TERM=xterm-256color"


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "demo")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "demo", *keys)

    def wait_for(self, check: Callable[[str], bool], timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"the screen never showed what was expected:\n{text}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"levelbelt-smoke-{os.getpid()}")
    env = f"{ENV} LEVELBELT_CONFIG_DIR={tmp_path} LEVELBELT_DATA_DIR={tmp_path}"
    command = f"env {env} {LEVELBELT} demo; echo DEMO-EXITED $?; sleep 30"
    term.tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", command)
    try:
        yield term
    finally:
        term.tmux("kill-server")


def test_the_demo_runs_a_drill_on_screen_and_answers_keys(terminal: Terminal) -> None:
    screen = terminal.wait_for(lambda s: "missing samples" in s and "GET READY" in s)
    assert "LevelBelt · simulated belt" in screen
    assert "obliquity" in screen and "L low" in screen and "R low" in screen
    screen = terminal.wait_for(lambda s: "SQUEEZE" in s)
    assert "hold 1/" in screen and "link good" in screen

    terminal.keys("?")
    terminal.wait_for(lambda s: "LevelBelt keys" in s and "Coach grid" in s)
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "LevelBelt keys" not in s)

    terminal.keys("v")
    grid = terminal.wait_for(lambda s: "coach grid" in s)
    assert "1 · simulated belt" in grid
    terminal.keys("1")
    terminal.wait_for(lambda s: "missing samples" in s)

    terminal.keys("g")
    terminal.wait_for(lambda s: "marker GOOD at" in s)

    terminal.keys("q")
    terminal.wait_for(lambda s: "DEMO-EXITED 0" in s, timeout_s=10)


def test_the_dashboard_connects_calibrates_and_drills_from_the_keyboard(
        tmp_path: Path) -> None:
    term = Terminal(f"levelbelt-smoke-db-{os.getpid()}")
    env = f"{ENV} LEVELBELT_CONFIG_DIR={tmp_path} LEVELBELT_DATA_DIR={tmp_path}"
    term.tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24",
              f"env {env} {LEVELBELT} dashboard; echo DASHBOARD-EXITED $?; sleep 30")
    try:
        term.wait_for(lambda s: "connect a belt" in s and "simulated belt" in s)
        term.keys("Enter")
        term.wait_for(lambda s: "calibrate · simulated belt" in s)
        term.wait_for(lambda s: "mount OK" in s)
        term.keys("Enter")
        term.keys("d")
        term.wait_for(lambda s: "NO DRILL RUNNING · enter starts glute-iso-quick" in s)
        term.keys("Enter")
        term.wait_for(lambda s: "session started: glute-iso-quick" in s)
        term.keys("q")
        term.wait_for(lambda s: "DASHBOARD-EXITED 0" in s, timeout_s=10)
    finally:
        term.tmux("kill-server")
    assert (tmp_path / "dashboard.json").exists()
    assert list((tmp_path / "sessions").glob("*.lbs"))


def test_a_whole_demo_session_is_reviewed_and_the_layout_follows_the_terminal(
        tmp_path: Path) -> None:
    """The demo's plan at 10x to its end, its review at 80x24 (PgDn to what is below the
    table), then the same screen after the terminal grows to 120x36."""
    term = Terminal(f"levelbelt-smoke-rv-{os.getpid()}")
    env = f"{ENV} LEVELBELT_CONFIG_DIR={tmp_path} LEVELBELT_DATA_DIR={tmp_path}"
    term.tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24",
              f"env {env} {LEVELBELT} demo --speed 10; echo DEMO-EXITED $?; sleep 30")
    try:
        term.wait_for(lambda s: "SESSION DONE · r reviews it" in s, timeout_s=60)
        term.keys("r")
        screen = term.wait_for(lambda s: "RIGHT flagged" in s)
        assert "1 saved session" in screen and "stability (0-100)" in screen
        assert "Trend" not in screen  # below the fold at 80x24
        term.keys("PageDown")
        term.wait_for(lambda s: "Trend: needs two sessions" in s)
        term.tmux("resize-window", "-t", "demo", "-x", "120", "-y", "36")
        # The title takes one line at 120 columns, and everything fits without scrolling.
        screen = term.wait_for(lambda s: any(
            "glute-iso-quick" in line and "complete" in line for line in s.splitlines()))
        assert "stability (0-100)" in screen and "Trend: needs two sessions" in screen
        assert "Hold 1/8" in screen and "-12°" in screen
        term.keys("q")
        term.wait_for(lambda s: "DEMO-EXITED 0" in s, timeout_s=10)
    finally:
        term.tmux("kill-server")
    [saved] = (tmp_path / "sessions").glob("*.lbs")
    assert saved.stat().st_mode & 0o777 == 0o600
