"""What the drill screen shows at a given belt time, whoever decides the phases.

A `DrillDriver` turns belt time (sample index / rate) into a `DrillView`. The demo's
driver reads the simulated athlete's fixed script; a plan run by the drill engine gets
its own driver. Phases follow belt time, never the terminal's clock, so the screen stays
in step with the belt however fast the samples arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol

from levelbelt import demo_script
from levelbelt.live_session import LiveSession, SessionView
from levelbelt.plans import POSITIONS

KINDS: Final = ("idle", "calibrating", "ready", "work", "rest", "hold", "done")


@dataclass(frozen=True)
class DrillView:
    banner: str  # "GET READY", "SQUEEZE", "REST", "HOLD LEFT", ...
    kind: str  # one of KINDS (chooses the banner colour)
    remaining_s: float
    phase_s: float
    set_no: int  # 1-based; 0 before the first set
    sets: int
    rep: int  # 1-based; 0 while getting ready
    reps: int
    exercise: str  # "isometric", "single-leg" or "" (no exercise running)
    stance: str  # standing leg: "left", "right" or "either"
    position: int = 0  # 0 standing, 1 seated, 2 prone
    round_no: int = 1  # repeats of the whole plan (the demo loops)
    rep_label: str = "rep"  # what rep / reps count ("rep" in a set, "hold" in a plan)
    side: str = "either"  # the glute squeezed or the standing leg

    @property
    def detecting(self) -> bool:
        """True while drops count towards the stance leg's score (single-leg holds)."""
        return self.exercise == "single-leg" and self.kind == "hold"


IDLE_VIEW: Final = DrillView("NO DRILL RUNNING", "idle", 0.0, 0.0, 0, 0, 0, 0, "", "either")


class DrillDriver(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def sends_commands(self) -> bool: ...  # False: the dashboard sets the detector per phase

    def view(self, t_s: float) -> DrillView: ...


_DEMO_KINDS: Final = {"CALIBRATING": "calibrating", "GET READY": "ready", "SQUEEZE": "work",
                      "REST": "rest", "DONE": "rest"}


class DemoDriver:
    """The demo athlete's loop as a three-set plan: isometric set, hold left, hold right."""

    title = "demo: 5 squeezes, then 20 s on each leg"
    sends_commands = False

    def view(self, t_s: float) -> DrillView:
        ph = demo_script.phase_at(t_s)
        if ph.name == "CALIBRATING":
            return DrillView("CALIBRATING", "calibrating", ph.remaining_s, ph.phase_s,
                             0, 3, 0, 0, "", "either")
        cycle = demo_script.cycle_s()
        round_no = 1 + math.floor((t_s - demo_script.CALIBRATION_S) / cycle)
        if ph.name.startswith("HOLD"):
            stance = ph.name.split()[1].lower()
            return DrillView(ph.name, "hold", ph.remaining_s, ph.phase_s,
                             2 if stance == "left" else 3, 3, 1, 1, "single-leg", stance,
                             round_no=round_no)
        return DrillView(ph.name, _DEMO_KINDS[ph.name], ph.remaining_s, ph.phase_s, 1, 3,
                         ph.rep, ph.reps, "isometric", "either", round_no=round_no)


_REZERO_BANNERS: Final = {"standing": "RE-ZERO: STAND TALL", "seated": "RE-ZERO: SIT UPRIGHT",
                          "prone": "RE-ZERO: LIE FACE DOWN"}


class SessionDriver:
    """A plan run by the drill engine (`LiveSession`): the engine decides the phase."""

    sends_commands = True

    def __init__(self, session: LiveSession, auto_start_s: float | None = None) -> None:
        self.session = session
        self.auto_start_s = auto_start_s
        self.title = f"plan {session.plan.plan.name}"

    def view(self, t_s: float, v: SessionView | None = None) -> DrillView:
        """The view at `t_s`; `v`: a snapshot of the session already taken this tick."""
        if v is None:
            v = self.session.snapshot()
        e = v.engine
        blocks = len(self.session.plan.plan.blocks)
        if not v.started:
            if self.auto_start_s is not None:
                return DrillView("CALIBRATING", "calibrating", max(0.0, self.auto_start_s - t_s),
                                 self.auto_start_s, 0, blocks, 0, e.holds_total, "", "either",
                                 rep_label="hold")
            return DrillView(f"READY: {self.session.plan.plan.name} · enter starts", "idle",
                             e.planned_remaining_s, 0.0, 0, blocks, 0, e.holds_total, "",
                             "either", rep_label="hold")
        if e.state in ("done", "aborted") or e.phase is None:
            banner = "SESSION DONE" if e.state == "done" else "SESSION ABORTED"
            return DrillView(banner, "done", 0.0, 0.0, blocks, blocks, e.holds_completed,
                             e.holds_total, "", "either", rep_label="hold")
        ph = e.phase
        exercise = ph.block_kind.replace("_", "-")
        side = ph.side or "either"
        stance = side if exercise == "single-leg" and side in ("left", "right") else "either"
        position = POSITIONS.index(ph.position)
        if e.state == "paused":
            banner, kind = "PAUSED · space resumes", "idle"
        elif ph.kind == "rezero":
            banner = ("HOLD STILL: CAPTURING NEUTRAL" if e.waiting_for_neutral
                      else _REZERO_BANNERS[ph.position])
            kind = "calibrating"
        elif ph.kind == "get_ready":
            banner, kind = "GET READY", "ready"
        elif ph.kind == "rest":
            banner, kind = "REST", "rest"
        elif exercise == "single-leg":
            banner, kind = f"HOLD {side.upper()}", "hold"
        else:
            which = f" {side.upper()}" if side in ("left", "right") else ""
            banner, kind = f"SQUEEZE{which}", "work"
        return DrillView(banner, kind, e.remaining_s, ph.planned_s, ph.block, blocks,
                         e.hold_number, e.holds_total, exercise, stance, position,
                         rep_label="hold", side=side)
