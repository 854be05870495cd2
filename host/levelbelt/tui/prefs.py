"""The dashboard's remembered settings: last belt, plan, detector settings per exercise/side.

A small JSON file in the config directory (`~/.config/levelbelt/dashboard.json`, or
`$LEVELBELT_CONFIG_DIR`), written atomically and private (0600). Sessions recorded from
the dashboard are user data, kept apart in `levelbelt.history.sessions_dir()`
(`~/.local/share/levelbelt/sessions`). A file that does not
parse is never overwritten: it is kept as `dashboard.json.bad` before the next save.
No Textual here, so the rules are tested on their own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from levelbelt.errors import ConfigError
from levelbelt.firmware import belt_module
from levelbelt.keys import config_dir

PREFS_NAME: Final = "dashboard.json"
EXERCISES: Final = ("isometric", "single-leg")
SIDES: Final = ("left", "right")
LINK_KINDS: Final = ("sim", "usb", "ble")
WEAKER_CHOICES: Final = ("auto", "left", "right", "none")
DEFAULT_PLAN: Final = "glute-iso-quick"


@dataclass(frozen=True)
class DetectorPrefs:
    """Hip-drop detector settings in the user's units; limits are the belt's own."""

    threshold_deg: float = 5.0
    dwell_ms: int = 150
    release_deg: float = 1.0

    def __post_init__(self) -> None:
        reason = belt_module("detector").check_config(
            self.threshold_cdeg, self.dwell_ms, self.release_cdeg, 0, 0)
        if reason is not None:
            raise ConfigError(
                f"{reason}: threshold 1-30°, dwell 0-2000 ms, release below the threshold "
                f"(got {self.threshold_deg:g}°, {self.dwell_ms} ms, {self.release_deg:g}°)")

    @property
    def threshold_cdeg(self) -> int:
        return round(self.threshold_deg * 100)

    @property
    def release_cdeg(self) -> int:
        return round(self.release_deg * 100)


@dataclass(frozen=True)
class BeltRef:
    """How to reach a belt again: link kind, address (port, BLE address, sim seed)."""

    kind: str
    address: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in LINK_KINDS:
            raise ConfigError(
                f"belt kind must be one of {', '.join(LINK_KINDS)}, got {self.kind!r}")


@dataclass
class DashboardPrefs:
    detector: dict[tuple[str, str], DetectorPrefs] = field(default_factory=dict)
    plan: str | None = None
    last_belt: BeltRef | None = None
    athlete: str = "athlete"
    weaker: str = "auto"  # "auto": from the athlete's last sessions; else set by hand

    def __post_init__(self) -> None:
        if self.weaker not in WEAKER_CHOICES:
            raise ConfigError(f"weaker side must be one of {', '.join(WEAKER_CHOICES)}, "
                              f"got {self.weaker!r}")
        if not self.athlete.strip():
            raise ConfigError("athlete name must not be empty")

    def detector_for(self, exercise: str, side: str) -> DetectorPrefs:
        return self.detector.get((exercise, side), DetectorPrefs())

    def with_detector(self, exercise: str, side: str, prefs: DetectorPrefs) -> DashboardPrefs:
        if exercise not in EXERCISES or side not in SIDES:
            raise ConfigError(f"no detector settings for {exercise!r}/{side!r}")
        return replace(self, detector={**self.detector, (exercise, side): prefs})

    def detector_cdeg(self, exercise: str, side: str) -> tuple[int, int, int]:
        """(threshold 0.01°, dwell ms, release 0.01°) as the belt takes them."""
        d = self.detector_for(exercise, side)
        return d.threshold_cdeg, d.dwell_ms, d.release_cdeg

    def to_json(self) -> dict[str, Any]:
        det = {f"{ex}/{side}": {"threshold_deg": d.threshold_deg, "dwell_ms": d.dwell_ms,
                                "release_deg": d.release_deg}
               for (ex, side), d in sorted(self.detector.items())}
        belt = None
        if self.last_belt is not None:
            b = self.last_belt
            belt = {"kind": b.kind, "address": b.address, "name": b.name}
        return {"version": 1, "plan": self.plan, "last_belt": belt, "detector": det,
                "athlete": self.athlete, "weaker": self.weaker}

    @classmethod
    def from_json(cls, data: Any, where: str) -> DashboardPrefs:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ConfigError(f"{where}: not a version 1 dashboard settings file")
        try:
            detector = {}
            for key, d in (data.get("detector") or {}).items():
                ex, _, side = key.partition("/")
                if ex not in EXERCISES or side not in SIDES:
                    raise ConfigError(f"{where}: unknown detector entry {key!r}")
                detector[(ex, side)] = DetectorPrefs(
                    float(d["threshold_deg"]), int(d["dwell_ms"]), float(d["release_deg"]))
            belt = data.get("last_belt")
            last = BeltRef(str(belt["kind"]), str(belt["address"]), str(belt["name"])) \
                if belt else None
            plan = data.get("plan")
            return cls(detector, str(plan) if plan else None, last,
                       str(data.get("athlete") or "athlete"), str(data.get("weaker") or "auto"))
        except ConfigError as e:
            if str(e).startswith(where):
                raise
            raise ConfigError(f"{where}: {e}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ConfigError(f"{where}: malformed entry ({e})") from None


class PrefsStore:
    """Loads once, saves atomically; remembers a load failure so nothing is lost."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / PREFS_NAME
        self.error: str | None = None

    def load(self) -> DashboardPrefs:
        """The saved settings, or defaults; a bad file sets `error` (one line) instead."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return DashboardPrefs()
        except OSError as e:
            self.error = f"{self.path}: cannot read ({e.strerror})"
            return DashboardPrefs()
        try:
            return DashboardPrefs.from_json(json.loads(text), str(self.path))
        except json.JSONDecodeError as e:
            self.error = f"{self.path}:{e.lineno}: not JSON ({e.msg})"
        except ConfigError as e:
            self.error = str(e)
        return DashboardPrefs()

    def save(self, prefs: DashboardPrefs) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.error is not None and self.path.exists():
            os.replace(self.path, self.path.with_name(PREFS_NAME + ".bad"))
            self.error = None
        tmp = self.path.with_name(PREFS_NAME + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(prefs.to_json(), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
