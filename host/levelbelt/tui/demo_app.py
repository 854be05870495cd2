"""`levelbelt demo` on screen: the dashboard opened on the simulated belt(s).

With a plan, each simulated athlete follows it and the drill engine runs it live (the
session starts by itself once the belt has calibrated, is saved, scored and can be
reviewed); without one, the athlete loops the demo script. One belt opens the drill
screen, several the coach grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from levelbelt.live_session import LiveSession
from levelbelt.plans import ExpandedPlan
from levelbelt.sim.drill_athlete import LEAD_S
from levelbelt.tui.app import DashboardApp
from levelbelt.tui.drill_view import DemoDriver, DrillDriver, SessionDriver
from levelbelt.tui.prefs import PrefsStore

if TYPE_CHECKING:
    from levelbelt.demo import DemoRig


def DemoApp(
    rigs: DemoRig | Sequence[DemoRig], duration_s: float = 0.0,
    prefs_store: PrefsStore | None = None, plan: ExpandedPlan | None = None,
    sessions: Path | None = None, live: bool = True,
) -> DashboardApp:
    rigs = [rigs] if not isinstance(rigs, Sequence) else list(rigs)
    app = DashboardApp(
        start="drill" if len(rigs) == 1 else "grid",
        prefs_store=prefs_store,
        duration_s=duration_s,
        sessions=sessions,
        live=live,
    )
    for i, rig in enumerate(rigs):
        driver: DrillDriver = DemoDriver()
        if plan is not None:
            session = LiveSession(
                rig, plan, athlete=f"demo-{i + 1}", out_dir=app.sessions_dir,
                detector_for=lambda ex, side: app.prefs.detector_cdeg(ex, side),
                start_at_s=LEAD_S)
            driver = SessionDriver(session, auto_start_s=LEAD_S)
        app.add_model(rig, driver)
    return app
