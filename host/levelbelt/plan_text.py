"""Plain-text views of drill plans for `levelbelt plans` (list, show, check)."""

from __future__ import annotations

from levelbelt.plans import (
    DEFAULT_ASYMMETRY_PCT,
    ExpandedPlan,
    Plan,
    builtin_names,
    expand,
    format_duration,
    load_builtin,
)

_PHASE_NAMES = {"rezero": "rezero", "get_ready": "get ready", "hold": "hold", "rest": "rest"}


def list_text() -> str:
    """One line per built-in plan: name, estimated duration, holds, description."""
    rows = []
    for name in builtin_names():
        ex = expand(load_builtin(name))
        rows.append((name, format_duration(ex.estimated_s), str(len(ex.holds)),
                     ex.plan.description))
    w = max(len(r[0]) for r in rows)
    lines = [f"{'name':<{w}}  duration  holds  description"]
    lines += [f"{n:<{w}}  {d:>8}  {h:>5}  {desc}" for n, d, h, desc in rows]
    lines.append("")
    lines.append("durations assume the weaker side is unknown (both sides, equal volume); "
                 "`levelbelt plans show NAME --weak-side right` shows the phases")
    return "\n".join(lines)


def summary_line(ex: ExpandedPlan) -> str:
    blocks = len(ex.plan.blocks)
    return (f"{ex.plan.name}: {blocks} block{'s' if blocks != 1 else ''}, "
            f"{len(ex.holds)} holds, about {format_duration(ex.estimated_s)}")


def show_text(ex: ExpandedPlan) -> str:
    """The plan's header, notes and every phase with its planned start time."""
    plan: Plan = ex.plan
    lines = [f"{plan.name}  ({plan.source})"]
    if plan.description:
        lines.append(plan.description)
    for i, block in enumerate(plan.blocks, 1):
        label = f" ({block.label})" if block.label else ""
        lines.append(f"  block {i}{label}: {block.describe}")
    if any(b.side in ("weaker", "stronger") for b in plan.blocks):
        lines.append(f"the weaker side gets x{plan.weaker_volume:g} the volume")
    if plan.asymmetry_pct != DEFAULT_ASYMMETRY_PCT:
        lines.append(f"LSI flag: a side more than {plan.asymmetry_pct:g}% below the other "
                     f"(default {DEFAULT_ASYMMETRY_PCT:g}%)")
    if any(p.kind == "rezero" for p in ex.phases):
        lines.append(f"rezero: {plan.rezero_settle_s:g} s to get into position, then the "
                     f"neutral capture (waits up to {plan.rezero_timeout_s:g} s)")
    lines += [f"note: {n}" for n in ex.notes]
    lines.append(f"about {format_duration(ex.estimated_s)} in {len(ex.holds)} holds")
    lines.append("")
    lines.append("    #  start  phase      block  side       position  rep      seconds")
    t = 0.0
    for p in ex.phases:
        rep = f"{p.rep}/{p.reps}" if p.kind == "hold" else "-"
        secs = f"{p.planned_s:g}" + (" + capture" if p.kind == "rezero" else "")
        lines.append(f"  {p.index + 1:>3}  {format_duration(t):>5}  {_PHASE_NAMES[p.kind]:<9}  "
                     f"{p.block:>5}  {p.side or '-':<9}  {p.position:<8}  {rep:<7}  {secs}")
        t += p.planned_s
    return "\n".join(lines)
