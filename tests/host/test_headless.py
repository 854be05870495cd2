"""Specification of `levelbelt demo --headless --plan NAME`: a whole plan on the simulated
belt through the real path (pty, pyserial, decoder, live session, session file) in
accelerated time. The simulated weak side is the side the LSI flags; a run killed with
SIGKILL mid-set leaves a file that reviews; bad options fail in one line."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from levelbelt.cli import main
from levelbelt.demo_script import WeakSide
from levelbelt.headless import plan_for, run_plan_headless
from levelbelt.session import read_session
from levelbelt.sim.drill_athlete import CALIB_S

SIDES: tuple[WeakSide, ...] = ("left", "right", "none")
SPEED = "50"  # the rig's limit: the 97 s plan in about 2 s


def levelbelt(*argv: str) -> list[str]:
    return [sys.executable, "-m", "levelbelt.cli", *argv]


@dataclass(frozen=True)
class Run:
    code: int
    lines: list[str]
    err: str


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, int], Run]]:
    """Three seeds per weak side, each simulated athlete under their own name in one
    folder: seeds 1 and 2 with the real command (three at once), seed 3 in-process."""
    out = tmp_path_factory.mktemp("headless")
    results: dict[tuple[str, int], Run] = {}
    for seed in (1, 2):
        procs = {w: subprocess.Popen(
            levelbelt("demo", "--headless", "--plan", "glute-iso-quick", "--weak-side", w,
                      "--speed", SPEED, "--seed", str(seed), "--out", str(out),
                      "--athlete", f"sim-{w}"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in SIDES}
        for w, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=120)
            results[(w, seed)] = Run(proc.returncode, stdout.splitlines(), stderr)

    def in_process(w: WeakSide) -> None:
        lines: list[str] = []
        run_plan_headless("glute-iso-quick", weak_side=w, seed=3, speed=float(SPEED),
                          out_dir=out, athlete=f"sim-{w}", say=lines.append)
        results[(w, 3)] = Run(0, lines, "")

    threads = [threading.Thread(target=in_process, args=(w,)) for w in SIDES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out, results


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weak", SIDES)
def test_the_lsi_flags_the_simulated_weak_side_and_only_it(
        runs: tuple[Path, dict[tuple[str, int], Run]], weak: str, seed: int) -> None:
    out, results = runs
    run = results[(weak, seed)]
    assert run.code == 0, run.err
    path = Path(run.lines[-1])  # the last line is the session file, for scripts
    assert path.parent == out and path.name.endswith(f"-sim-{weak}-simulated-belt.lbs")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    session = read_session(path)
    assert session.complete and not session.problems
    assert session.summary is not None
    flagged = session.summary.data["flagged_side"]
    assert flagged == (None if weak == "none" else weak)
    assert run.lines[0].startswith("plan glute-iso-quick: 8 holds, about 1:37")
    assert sum(line.startswith("hold ") for line in run.lines) == 8
    assert any(line.startswith("done: 8/8 holds") for line in run.lines)


def test_review_of_the_folder_shows_each_athletes_flags_and_trend(
        runs: tuple[Path, dict[tuple[str, int], Run]],
        capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = runs
    assert main(["review", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    flags = {(s["athlete"], s["flagged_side"]) for s in data["sessions"]}
    assert flags == {("sim-left", "left"), ("sim-right", "right"), ("sim-none", None)}
    assert len(data["sessions"]) == 9
    for w in SIDES:
        assert len(data["trends"][f"sim-{w}"]["labels"]) == 3


def test_the_weaker_side_for_the_next_plan_comes_from_the_athletes_sessions(
        runs: tuple[Path, dict[tuple[str, int], Run]]) -> None:
    out, _ = runs
    right = plan_for("balance-ladder", "sim-right", out)
    assert right.weaker.side == "right" and right.weaker.source == "history"
    legs = [p.side for p in right.holds]
    assert legs.count("right") == 2 * legs.count("left")  # the weaker leg, twice the volume
    assert plan_for("balance-ladder", "sim-none", out).weaker.side is None
    assert plan_for("balance-ladder", "nobody", out).weaker.reason == "no previous sessions"


def test_a_position_change_stays_in_step_at_full_speed(tmp_path: Path) -> None:
    plan = tmp_path / "two-positions.toml"
    plan.write_text(
        'name = "two-positions"\ndescription = "standing then seated"\n'
        "rezero_settle_s = 3\n"
        '[[blocks]]\nkind = "isometric"\nside = "both"\nreps = 1\nhold_s = 3\n'
        "get_ready_s = 2\n"
        '[[blocks]]\nkind = "isometric"\nposition = "seated"\nside = "both"\nreps = 1\n'
        "hold_s = 3\nget_ready_s = 2\n")
    run = run_plan_headless(str(plan), weak_side="right", seed=5, speed=50.0,
                            out_dir=tmp_path / "out", say=lambda line: None)
    session = read_session(run.path)
    requested = [e.t_s for e in session.events if e.data.get("type") == "capture_neutral"]
    captured = [e.t_s for e in session.events
                if e.source == "belt" and e.data.get("type") == "calibrated"]
    assert len(requested) == 1 and len(captured) == 1
    assert requested[0] is not None and captured[0] is not None
    # The belt needs CALIB_S of stillness; the link adds at most (2 + 1) frames of 5
    # samples, as little as at 1x (without the lockstep it grows with the speed).
    assert CALIB_S <= captured[0] - requested[0] <= CALIB_S + 0.15 + 1e-6
    outcomes = [e.data.get("outcome") for e in session.events
                if e.data.get("type") == "phase_ended"]
    assert "timeout" not in outcomes and outcomes.count("completed") == len(outcomes)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_run_killed_mid_set_leaves_a_file_that_reviews(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.Popen(
        levelbelt("demo", "--headless", "--plan", "glute-iso-quick", "--speed", "10",
                  "--out", str(tmp_path), "--athlete", "kim"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        path = None
        for line in proc.stdout:
            if line.startswith("recording to "):
                path = Path(line.removeprefix("recording to ").strip())
            if line.startswith("hold 3/8"):  # the third squeeze of the first set
                time.sleep(0.15)  # 1.5 s of belt time into the 3 s hold
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL and path is not None
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert main(["review", str(path), "--json"]) == 0  # expected damage: not an error
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert err == "" and not data["complete"] and data["rescored"]
    assert data["notes"][0].startswith("unfinished: no summary")
    assert sum(r["outcome"] == "completed" for r in data["reps"]) >= 2
    assert main(["review", str(path)]) == 0
    text = capsys.readouterr().out
    assert "unfinished" in text.splitlines()[0] and "activation (0-100)" in text


def test_bad_options_fail_in_one_line_and_write_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["demo", "--headless", "--out", str(tmp_path / "s")]
    cases = [
        ([*base, "--plan", "no-such-plan"], "no-such-plan"),
        ([*base, "--plan", "glute-iso-quick", "--speed", "60"],
         "--speed must be between 0.1 and 50, got 60"),
        ([*base, "--plan", "glute-iso-quick", "--duration", "30"],
         "--duration does not apply with --plan"),
        ([*base], "--out needs --plan"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("levelbelt: error: ") and message in err, err
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert main(["demo", "--headless", "--plan", "glute-iso-quick", "--out",
                 str(blocked)]) == 2
    assert capsys.readouterr().err == (f"levelbelt: error: --out {blocked}: exists and is not "
                                       "a directory\n")
    assert main(["demo", "--headless", "--plan", "glute-iso-quick", "--speed", SPEED,
                 "--out", str(blocked / "sessions")]) == 2
    assert capsys.readouterr().err == (f"levelbelt: error: session not saved: "
                                       f"{blocked / 'sessions'}: cannot create directory: "
                                       "Not a directory\n")



@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_a_disk_that_fills_mid_session_ends_the_run_in_one_line_and_keeps_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real write failure: the kernel refuses to grow the file past 60 kB (EFBIG), as a
    # full disk refuses with ENOSPC.
    limited = ("import resource, signal, sys\n"
               "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
               "resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))\n"
               "from levelbelt.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.run(
        [sys.executable, "-c", limited, "demo", "--headless", "--plan", "glute-iso-quick",
         "--speed", SPEED, "--out", str(tmp_path), "--athlete", "kim"],
        capture_output=True, text=True, timeout=120)
    [path] = tmp_path.iterdir()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"levelbelt: error: recording stopped: {path}: cannot write: File too large; the "
        "file keeps what was written")
    assert not any(line.startswith("done:") for line in proc.stdout.splitlines())
    assert main(["review", str(path), "--json"]) == 0  # what was written reviews
    data = json.loads(capsys.readouterr().out)
    assert not data["complete"] and data["rescored"] and data["reps"]
