"""Drill plans: TOML data -> validated blocks -> the timed phases a session runs through.

A plan is data so coaches can write their own; everything in it is checked before a
session starts, and every error names the file, the key path (`blocks[2].hold_s`,
blocks numbered from 1 like `levelbelt plans show` does) and what is allowed. Unknown
keys are errors: a typo such as `hold = 3` must not silently fall back to a default.

Expansion turns blocks into phases (rezero, get_ready, hold, rest). It needs to know
the weaker side when a block says `side = "weaker"` or `"stronger"`; without one the
block trains both sides equally and the expansion says so in its notes.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, TypeAlias, cast

from levelbelt.errors import PlanError
from levelbelt.weaker_side import Side, WeakerSide

POSITIONS: Final = ("standing", "seated", "prone")
"""Position names; the index is the belt's position code (CAPTURE_NEUTRAL argument)."""
ISOMETRIC_SIDES: Final = ("left", "right", "both", "weaker", "stronger", "bilateral")
STANCE_SIDES: Final = ("left", "right", "both", "weaker", "stronger")
ORDERS: Final = ("alternate", "block")
BLOCK_KINDS: Final = ("isometric", "single_leg")
PHASE_KINDS: Final = ("rezero", "get_ready", "hold", "rest")

DEFAULT_WEAKER_VOLUME: Final = 2.0
"""The reference programme gives the weaker side twice the volume."""
DEFAULT_ASYMMETRY_PCT: Final = 15.0
"""The reference programme calls an imbalance above 15 % worth addressing (the LSI flag)."""
CAPTURE_ESTIMATE_S: Final = 1.5
"""Typical neutral capture after a position change: the belt's 1 s still window + link."""

PhaseKind: TypeAlias = Literal["rezero", "get_ready", "hold", "rest"]
BlockKind: TypeAlias = Literal["isometric", "single_leg"]
PositionName: TypeAlias = Literal["standing", "seated", "prone"]
HoldSide: TypeAlias = Literal["left", "right", "bilateral"]
IsometricSide: TypeAlias = Literal["left", "right", "both", "weaker", "stronger", "bilateral"]
StanceSide: TypeAlias = Literal["left", "right", "both", "weaker", "stronger"]
Order: TypeAlias = Literal["alternate", "block"]


@dataclass(frozen=True)
class IsometricBlock:
    """Glute squeezes: reps x hold_s with rest_s between, in one position."""

    side: IsometricSide
    position: PositionName
    reps: int
    hold_s: float
    rest_s: float
    get_ready_s: float
    order: Order
    label: str

    kind: ClassVar[Literal["isometric"]] = "isometric"

    @property
    def describe(self) -> str:
        return (f"isometric {self.position}, side {self.side}: {self.reps} x {self.hold_s:g} s, "
                f"rest {self.rest_s:g} s")


@dataclass(frozen=True)
class SingleLegBlock:
    """Single-leg stance holds; `holds_s` has one duration, or several for a ladder."""

    side: StanceSide
    holds_s: tuple[float, ...]
    reps: int
    rest_s: float
    get_ready_s: float
    order: Order
    label: str

    kind: ClassVar[Literal["single_leg"]] = "single_leg"
    position: ClassVar[Literal["standing"]] = "standing"

    @property
    def ladder(self) -> bool:
        return len(self.holds_s) > 1

    @property
    def describe(self) -> str:
        holds = "/".join(f"{h:g}" for h in self.holds_s)
        what = f"ladder {holds} s" if self.ladder else f"{self.reps} x {holds} s"
        if self.ladder and self.reps > 1:
            what += f" x {self.reps}"
        return f"single-leg stance, side {self.side}: {what}, {self.order}"


Block: TypeAlias = IsometricBlock | SingleLegBlock


@dataclass(frozen=True)
class Plan:
    name: str
    description: str
    source: str
    weaker_volume: float
    rezero_settle_s: float
    rezero_timeout_s: float
    blocks: tuple[Block, ...]
    asymmetry_pct: float = DEFAULT_ASYMMETRY_PCT
    """The session's LSI flag: a side more than this far below the other is flagged."""


@dataclass(frozen=True)
class PlannedPhase:
    """One step of an expanded plan. Blocks and reps count from 1; `index` from 0."""

    index: int
    kind: PhaseKind
    block: int
    block_kind: BlockKind
    position: PositionName
    side: HoldSide | None
    """Holds: the glute squeezed or the stance leg; None for the other phases."""
    rep: int
    """Holds: 1-based rep of this side within the block; 0 for the other phases."""
    reps: int
    planned_s: float
    """Rezero: the time to get into position before the capture is requested."""


@dataclass(frozen=True)
class ExpandedPlan:
    plan: Plan
    weaker: WeakerSide
    phases: tuple[PlannedPhase, ...]
    notes: tuple[str, ...]

    @property
    def holds(self) -> tuple[PlannedPhase, ...]:
        return tuple(p for p in self.phases if p.kind == "hold")

    @property
    def estimated_s(self) -> float:
        """Planned time, counting a typical neutral capture per rezero."""
        return sum(p.planned_s + (CAPTURE_ESTIMATE_S if p.kind == "rezero" else 0.0)
                   for p in self.phases)


# --------------------------------------------------------------------------- loading


def builtin_names() -> tuple[str, ...]:
    """Names of the plans shipped with the package, sorted."""
    folder = resources.files("levelbelt") / "builtin_plans"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def load_builtin(name: str) -> Plan:
    if name not in builtin_names():
        raise PlanError(name, f"no built-in plan of that name; built-ins: "
                        f"{', '.join(builtin_names())} (or give a .toml file)")
    text = (resources.files("levelbelt") / "builtin_plans" / f"{name}.toml").read_text("utf-8")
    return parse_plan(text, f"built-in:{name}", default_name=name)


def load_plan_file(path: Path) -> Plan:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PlanError(str(path), f"cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(str(path), "not UTF-8 text (a plan is a TOML file)") from None
    return parse_plan(text, str(path), default_name=path.stem)


def resolve_plan(name_or_file: str) -> Plan:
    """A built-in by name, else a TOML file path."""
    path = Path(name_or_file)
    if name_or_file in builtin_names() and not path.exists():
        return load_builtin(name_or_file)
    if path.suffix == ".toml" or path.exists() or "/" in name_or_file:
        return load_plan_file(path)
    return load_builtin(name_or_file)


_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")


def parse_plan(text: str, source: str, default_name: str = "plan") -> Plan:
    """Validate a plan's TOML text; PlanError names `source`, the key path and the rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_AT.search(msg)
        line = int(m.group(1)) if m else None
        msg = _TOML_AT.sub("", msg) if m else msg
        raise PlanError(source, f"invalid TOML: {msg}", line) from None
    return _Checker(source).plan(data, default_name)


# --------------------------------------------------------------------------- validation

_TOP_KEYS: Final = ("name", "description", "weaker_volume", "asymmetry_pct",
                    "rezero_settle_s", "rezero_timeout_s", "blocks")
_ISO_KEYS: Final = ("kind", "side", "position", "reps", "hold_s", "rest_s", "get_ready_s",
                    "order", "label")
_LEG_KEYS: Final = ("kind", "side", "hold_s", "ladder_s", "reps", "rest_s", "get_ready_s",
                    "order", "label")
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
_MISSING: Final = object()


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> PlanError:
        return PlanError(self.source, f"{key}: {message}" if key else message)

    def keys(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        for k in table:
            if k not in allowed:
                at = f"{where}.{k}" if where else k
                raise self.fail(at, f"unknown key; allowed keys here: {', '.join(allowed)}")

    def number(self, table: Mapping[str, Any], key: str, where: str, lo: float, hi: float,
               default: float | None = None, unit: str = " s") -> float:
        at = f"{where}.{key}" if where else key
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if default is None:
                raise self.fail(at, f"required (a number from {lo:g} to {hi:g}{unit})")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(at, f"{value!r} is not a number; allowed {lo:g} to {hi:g}{unit}")
        v = float(value)
        if not (math.isfinite(v) and lo <= v <= hi):
            raise self.fail(at, f"{value!r} is out of range; allowed {lo:g} to {hi:g}{unit}")
        return v

    def integer(self, table: Mapping[str, Any], key: str, where: str, lo: int, hi: int,
                default: int | None = None) -> int:
        at = f"{where}.{key}"
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if default is None:
                raise self.fail(at, f"required (a whole number from {lo} to {hi})")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(at, f"{value!r} is not a whole number; allowed {lo} to {hi}")
        if not lo <= value <= hi:
            raise self.fail(at, f"{value} is out of range; allowed {lo} to {hi}")
        return value

    def choice(self, table: Mapping[str, Any], key: str, where: str, allowed: Sequence[str],
               default: str | None = None) -> str:
        at = f"{where}.{key}"
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if default is None:
                raise self.fail(at, f"required (one of {', '.join(allowed)})")
            return default
        if value not in allowed or not isinstance(value, str):
            raise self.fail(at, f"{value!r} is not allowed; use one of {', '.join(allowed)}")
        return value

    def text(self, table: Mapping[str, Any], key: str, where: str, max_len: int,
             default: str) -> str:
        at = f"{where}.{key}" if where else key
        value = table.get(key, default)
        if not isinstance(value, str):
            raise self.fail(at, f"{value!r} is not a string")
        if len(value) > max_len or not value.isprintable():
            raise self.fail(at, f"must be printable text of at most {max_len} characters")
        return value

    def plan(self, data: Mapping[str, Any], default_name: str) -> Plan:
        self.keys(data, _TOP_KEYS, "")
        name = self.text(data, "name", "", 60, default_name)
        if not _NAME_RE.match(name):
            raise self.fail("name", f"{name!r} is not allowed; use letters, digits, '-', '_' "
                            "or '.', starting with a letter or digit, at most 60 characters")
        description = self.text(data, "description", "", 300, "")
        weaker_volume = self.number(data, "weaker_volume", "", 1.0, 10.0,
                                    DEFAULT_WEAKER_VOLUME, unit="")
        asymmetry = self.number(data, "asymmetry_pct", "", 1.0, 50.0, DEFAULT_ASYMMETRY_PCT,
                                unit=" %")
        settle = self.number(data, "rezero_settle_s", "", 0.0, 60.0, 5.0)
        timeout = self.number(data, "rezero_timeout_s", "", 2.0, 300.0, 20.0)
        blocks_raw = data.get("blocks", _MISSING)
        if blocks_raw is _MISSING:
            raise self.fail("blocks", "required: at least one [[blocks]] table")
        if not isinstance(blocks_raw, list) or not all(isinstance(b, dict) for b in blocks_raw):
            raise self.fail("blocks", "must be an array of tables ([[blocks]])")
        if not 1 <= len(blocks_raw) <= 100:
            raise self.fail("blocks", f"{len(blocks_raw)} blocks; allowed 1 to 100")
        blocks = tuple(self.block(b, f"blocks[{i}]") for i, b in enumerate(blocks_raw, 1))
        return Plan(name, description, self.source, weaker_volume, settle, timeout, blocks,
                    asymmetry)

    def block(self, b: Mapping[str, Any], where: str) -> Block:
        kind = self.choice(b, "kind", where, BLOCK_KINDS)
        label = self.text(b, "label", where, 60, "")
        if kind == "isometric":
            self.keys(b, _ISO_KEYS, where)
            position = self.choice(b, "position", where, POSITIONS, "standing")
            return IsometricBlock(
                side=cast(IsometricSide, self.choice(b, "side", where, ISOMETRIC_SIDES)),
                position=cast(PositionName, position),
                reps=self.integer(b, "reps", where, 1, 100),
                hold_s=self.number(b, "hold_s", where, 0.5, 120.0),
                rest_s=self.number(b, "rest_s", where, 0.0, 600.0, 5.0),
                get_ready_s=self.number(b, "get_ready_s", where, 0.0, 60.0, 5.0),
                order=cast(Order, self.choice(b, "order", where, ORDERS, "block")),
                label=label,
            )
        self.keys(b, _LEG_KEYS, where)
        if ("hold_s" in b) == ("ladder_s" in b):
            raise self.fail(where, "give exactly one of hold_s (one duration) or ladder_s "
                            "(a list of increasing durations)")
        if "hold_s" in b:
            holds: tuple[float, ...] = (self.number(b, "hold_s", where, 1.0, 300.0),)
        else:
            holds = self.ladder(b["ladder_s"], f"{where}.ladder_s")
        return SingleLegBlock(
            side=cast(StanceSide, self.choice(b, "side", where, STANCE_SIDES, "both")),
            holds_s=holds,
            reps=self.integer(b, "reps", where, 1, 50, 1),
            rest_s=self.number(b, "rest_s", where, 0.0, 600.0, 10.0),
            get_ready_s=self.number(b, "get_ready_s", where, 0.0, 60.0, 5.0),
            order=cast(Order, self.choice(b, "order", where, ORDERS, "alternate")),
            label=label,
        )

    def ladder(self, value: Any, at: str) -> tuple[float, ...]:
        rule = "a list of 2 to 20 increasing durations, each 1 to 300 s"
        if not isinstance(value, list) or not 2 <= len(value) <= 20:
            raise self.fail(at, f"{value!r} is not allowed; use {rule}")
        out: list[float] = []
        for i, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, int | float) or not (
                    math.isfinite(v) and 1.0 <= v <= 300.0):
                raise self.fail(f"{at}[{i + 1}]", f"{v!r} is not allowed; use {rule}")
            if out and v <= out[-1]:
                raise self.fail(f"{at}[{i + 1}]", f"{v!r} does not increase; use {rule}")
            out.append(float(v))
        return tuple(out)


# --------------------------------------------------------------------------- expansion


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _volumes(block: Block, plan: Plan, weaker: WeakerSide,
             notes: list[str], number: int) -> list[tuple[HoldSide, int]]:
    """(side, repetitions) in the order the sides are trained."""
    side = block.side
    if side == "left" or side == "right" or side == "bilateral":
        return [(side, block.reps)]
    if side in ("weaker", "stronger") and weaker.side is None:
        if isinstance(block, IsometricBlock):
            count, noun = block.reps, "rep"
        else:
            count, noun = block.reps * len(block.holds_s), "hold"
        notes.append(f"block {number}: weaker side unknown ({weaker.reason}); both sides get "
                     f"{count} {noun}{'s' if count != 1 else ''} (set it with --weak-side)")
        side = "both"
    if side == "both":
        return [("left", block.reps), ("right", block.reps)]
    assert weaker.side is not None
    if side == "stronger":
        return [(_other(weaker.side), block.reps)]
    stronger_reps = _round_half_up(block.reps / plan.weaker_volume)
    out: list[tuple[HoldSide, int]] = [(weaker.side, block.reps)]
    if stronger_reps > 0:
        out.append((_other(weaker.side), stronger_reps))
    return out


def _hold_sequence(block: Block, volumes: list[tuple[HoldSide, int]]
                   ) -> list[tuple[HoldSide, int, int, float]]:
    """(side, rep, reps, hold_s) per hold, in the block's order."""
    per_side: list[list[tuple[HoldSide, int, int, float]]] = []
    for side, n in volumes:
        durations = [block.hold_s] * n if isinstance(block, IsometricBlock) else \
            list(block.holds_s) * n
        total = len(durations)
        per_side.append([(side, i + 1, total, d) for i, d in enumerate(durations)])
    if block.order == "block":
        return [h for seq in per_side for h in seq]
    out: list[tuple[HoldSide, int, int, float]] = []
    longest = max((len(s) for s in per_side), default=0)
    for i in range(longest):
        out.extend(seq[i] for seq in per_side if i < len(seq))
    return out


def expand(plan: Plan, weaker: WeakerSide | None = None,
           start_position: PositionName = "standing") -> ExpandedPlan:
    """The phases of `plan` for an athlete whose weaker side is `weaker` (None: unknown).

    A rezero is inserted whenever a block's position differs from the one the belt's
    neutral was captured in (`start_position` at the start of the session).
    """
    weaker = weaker or WeakerSide(None, "unknown", "no history and none set by hand")
    phases: list[PlannedPhase] = []
    notes: list[str] = []
    if weaker.side is not None:
        notes.append(f"weaker side: {weaker.side} ({weaker.reason})")
    position: PositionName = start_position

    def add(kind: PhaseKind, number: int, block: Block, planned: float,
            side: HoldSide | None = None, rep: int = 0, reps: int = 0) -> None:
        phases.append(PlannedPhase(len(phases), kind, number, block.kind, block.position,
                                   side, rep, reps, planned))

    for number, block in enumerate(plan.blocks, 1):
        holds = _hold_sequence(block, _volumes(block, plan, weaker, notes, number))
        if not holds:
            notes.append(f"block {number}: no holds for this athlete; skipped")
            continue
        if block.position != position:
            add("rezero", number, block, plan.rezero_settle_s)
            position = block.position
        if block.get_ready_s > 0:
            add("get_ready", number, block, block.get_ready_s)
        for i, (side, rep, reps, hold_s) in enumerate(holds):
            if i > 0 and block.rest_s > 0:
                add("rest", number, block, block.rest_s)
            add("hold", number, block, hold_s, side, rep, reps)
    return ExpandedPlan(plan, weaker, tuple(phases), tuple(notes))


def format_duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"
