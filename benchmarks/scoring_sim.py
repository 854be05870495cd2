"""Does per-side scoring find the weak side? Whole simulated sessions, several seeds.

Each session runs a built-in plan with the drill engine on belt time, a simulated athlete
(`levelbelt.sim.drill_athlete`: more and bigger hip drops standing on the weak leg,
shallower squeezes of the weak glute), the firmware's own pipeline and detector with the
engine's stance and rezero commands applied, then `levelbelt.scoring`. Reported per plan
and weak side: the range of the session's Limb Symmetry Index and how often the flagged
side was the right answer (the weak side, or no flag for a symmetric athlete).

    .venv/bin/python benchmarks/scoring_sim.py [--seeds 12] [--plans a,b]

The last line printed is one JSON object: `correct_flag_rate` (over all sessions),
`lsi_weak_max` (the highest LSI of a session with a weak side: must stay below 85),
`lsi_none_min` (the lowest LSI of a symmetric session), `sessions`, and `per_plan`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from levelbelt.plans import expand, load_builtin
from levelbelt.scoring import score_session
from levelbelt.sim.drill_athlete import WeakSide, run_plan_offline

PLANS = ("trendelenburg-30s", "glute-iso-quick", "balance-ladder")
WEAK: tuple[WeakSide, ...] = ("left", "right", "none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--plans", default=",".join(PLANS))
    args = ap.parse_args()
    per_plan: dict[str, Any] = {}
    correct = total = 0
    weak_lsi: list[float] = []
    none_lsi: list[float] = []
    print(f"{'plan':<18} {'weak':<5} {'LSI min':>8} {'LSI max':>8} {'correct':>8}")
    for name in args.plans.split(","):
        plan = expand(load_builtin(name))
        per_plan[name] = {}
        for weak in WEAK:
            lsis: list[float] = []
            hits = 0
            for seed in range(1, args.seeds + 1):
                s = run_plan_offline(plan, weak, seed)
                m = score_session(s.t_s, s.tilt_deg, s.obl_deg, s.events, rate_hz=s.rate_hz,
                                  drops=s.drops).summary
                lsi = m.lsi if m.lsi is not None else float("nan")
                lsis.append(lsi)
                hits += m.flagged_side == (None if weak == "none" else weak)
            correct += hits
            total += len(lsis)
            (none_lsi if weak == "none" else weak_lsi).extend(lsis)
            per_plan[name][weak] = {"lsi_min": round(min(lsis), 1),
                                    "lsi_max": round(max(lsis), 1),
                                    "correct": f"{hits}/{len(lsis)}"}
            print(f"{name:<18} {weak:<5} {min(lsis):8.1f} {max(lsis):8.1f} "
                  f"{hits:>5}/{len(lsis)}")
    print(json.dumps({
        "correct_flag_rate": correct / total,
        "lsi_weak_max": round(max(weak_lsi), 1),
        "lsi_none_min": round(min(none_lsi), 1),
        "sessions": total,
        "per_plan": per_plan,
    }))


if __name__ == "__main__":
    main()
