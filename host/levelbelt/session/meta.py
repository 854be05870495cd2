"""What the caller knows about a session when it starts, and JSON forms of belt frames.

The header stores these so a session file can be understood without the belt, the plan
file or this program's settings at the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from levelbelt import protocol as p

EVENT_NAMES = {
    p.EV_DROP_CUE: "drop_cue",
    p.EV_DROP_END: "drop_end",
    p.EV_CALIBRATED: "calibrated",
    p.EV_FIFO_OVERFLOW: "fifo_overflow",
    p.EV_MOVING: "moving",
}
POSITIONS = {0: "standing", 1: "seated", 2: "prone"}
STANCES = {0: "either", 1: "left", 2: "right", 3: "off"}


@dataclass(frozen=True)
class SessionMeta:
    """Header content supplied by the owner of the session (see docs/session-format.md)."""

    athlete: str
    belt: str
    rate_hz: int
    firmware: str | None = None
    calibration: Mapping[str, Any] | None = None
    detector: Mapping[str, Any] | None = None
    plan: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.athlete, str) or not self.athlete.strip():
            raise ValueError("athlete must be a non-empty name")
        if not isinstance(self.belt, str) or not self.belt.strip():
            raise ValueError("belt must be a non-empty name")
        if isinstance(self.rate_hz, bool) or not isinstance(self.rate_hz, int) \
                or not 1 <= self.rate_hz <= 10_000:
            raise ValueError(f"rate_hz must be an integer 1..10000, got {self.rate_hz!r}")


def firmware_text(version: tuple[int, int, int]) -> str:
    return ".".join(str(v) for v in version)


def calibration_json(c: p.Calibration) -> dict[str, Any]:
    """A CALIBRATION frame in the header's units (same integers as on the wire)."""
    return {
        "gyro_bias_256dps": list(c.gyro_bias_256dps),
        "up_q14": list(c.up_q14),
        "mount_error_cdeg": c.mount_error_cdeg,
        "position": POSITIONS.get(c.position, c.position),
    }


def detector_json(s: p.Status) -> dict[str, Any]:
    """The detector settings a STATUS frame reports."""
    return {
        "threshold_cdeg": s.threshold_cdeg,
        "dwell_ms": s.dwell_ms,
        "release_cdeg": s.release_cdeg,
        "stance": STANCES.get(s.stance, s.stance),
    }


def belt_event_json(e: p.Event) -> dict[str, Any]:
    """An EVENT frame as event data; names instead of codes so the file reads on its own."""
    kind = EVENT_NAMES.get(e.kind, f"kind_{e.kind}")
    out: dict[str, Any] = {"type": kind}
    if e.kind in (p.EV_DROP_CUE, p.EV_DROP_END):
        out["side"] = p.SIDE_NAMES.get(e.side, e.side)
        out["onset_index"] = e.onset_index
        out["peak_cdeg"] = e.value
    elif e.kind == p.EV_CALIBRATED:
        out["position"] = POSITIONS.get(e.side, e.side)
    elif e.kind == p.EV_FIFO_OVERFLOW:
        out["lost"] = e.value
    elif e.kind == p.EV_MOVING:
        out["axis"] = e.side
    else:
        out.update(side=e.side, onset_index=e.onset_index, value=e.value)
    return out
