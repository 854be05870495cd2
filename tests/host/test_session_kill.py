"""A writer process killed with SIGKILL mid-session leaves a file that reads back with
everything it had been given up to the last second (the flush interval)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from session_helpers import RATE, rows_for

from levelbelt.session import read_session

HERE = Path(__file__).resolve().parent
CHILD = HERE / "session_kill_child.py"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("kill_after_samples", [240, 365])
def test_sigkill_mid_session_loses_at_most_the_last_second(
    tmp_path: Path, kill_after_samples: int
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get(
        "PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("path "), first + proc.communicate(timeout=10)[1]
        path = Path(first[5:].strip())
        appended = events = 0
        for line in proc.stdout:
            _, n_text, e_text = line.split()
            appended, events = int(n_text), int(e_text)
            if appended >= kill_after_samples:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    session = read_session(path)
    n = len(session.samples)
    # Everything handed over more than one flush interval before the kill is in the file;
    # the child may have appended a batch or two between its last report and the kill.
    assert appended - RATE <= n <= appended + RATE // 2, (appended, n)
    assert not session.complete
    for problem in session.problems:  # at most a line cut by the kill
        assert problem.message.startswith("last line incomplete"), str(problem)
    assert len(session.problems) <= 1
    assert np.array_equal(session.samples.index, np.arange(n))
    assert np.array_equal(session.samples.raw, rows_for(0, n)[:, :6])
    assert np.allclose(session.samples.t_s, np.arange(n) / RATE)
    assert events <= len(session.events) <= events + 1
    assert [e.data["rep"] for e in session.events] == list(range(len(session.events)))
    assert len(session.scores) >= events
