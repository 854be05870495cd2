"""Draw hardware/wiring.svg and hardware/mount.svg from pinmap.toml and bom.csv.

The drawing is generated so it cannot drift from the pin map the firmware is checked
against: pads, GPIO numbers, nets, part references and values all come from the data;
only the layout lives here. Stdlib only, deterministic output (the test regenerates the
file and compares it byte for byte).

    python hardware/make_wiring_svg.py           # rewrite both drawings in hardware/
    python hardware/make_wiring_svg.py --check   # exit 1 if a committed drawing is stale

wiring.svg is the whole sheet; mount.svg is its mount panel alone, for the wearing guide.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
PINMAP = HERE / "pinmap.toml"
BOM = HERE / "bom.csv"

WIDTH = 1420
HEIGHT = 1080
SANS = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

INK = "#1f2328"
MUTED = "#6e7781"
PANEL = "#f6f8fa"
BOARD = "#263442"
PAD = "#d4a72c"
COLOURS = {
    "3V3": "#cf222e",
    "GND": "#1f2328",
    "SDA": "#0969da",
    "SCL": "#bf8700",
    "MOTOR": "#1a7f37",
    "VBAT/2": "#8250df",
    "BAT+": "#e16f24",
}
AXIS = {"x": "#cf222e", "y": "#1a7f37", "z": "#0969da"}
TIMES = "\u00d7"  # the multiplication sign
ROLES_DRAWN = ("i2c-sda", "i2c-scl", "motor", "battery-sense", "button", "led")


class PinmapError(Exception):
    """The pin map or the BOM does not describe a circuit this script can draw."""


@dataclass(frozen=True)
class Pin:
    """One GPIO in the pin map; `fitted` is False for a [[spare]] and for the second motor
    while board.py's MOTOR_COUNT is 1 (both drawn dashed)."""

    const: str
    pad: str
    gpio: int
    direction: str
    role: str
    net: str
    to: str
    notes: str
    fitted: bool


@dataclass(frozen=True)
class Part:
    """One bom.csv row, as far as the drawing needs it."""

    ref: str
    value: str
    example: str


@dataclass(frozen=True)
class Data:
    board: dict[str, Any]
    pins: tuple[Pin, ...]
    settings: dict[str, Any]
    circuit: dict[str, Any]
    mount: dict[str, str]
    parts: dict[str, Part]

    def part(self, ref: str) -> Part:
        try:
            return self.parts[ref]
        except KeyError:
            raise PinmapError(f"part {ref!r} is used in pinmap.toml but not in bom.csv") from None

    def role(self, role: str) -> Pin:
        found = [p for p in self.pins if p.role == role]
        if len(found) != 1:
            raise PinmapError(f"expected exactly one pin with role {role!r}, found {len(found)}")
        return found[0]

    def motors(self) -> list[Pin]:
        found = [p for p in self.pins if p.role == "motor"]
        if not 1 <= len(found) <= 2:
            raise PinmapError(f"expected one or two motor pins, found {len(found)}")
        # M1 is always MOTOR_PIN (the left hip), wherever it is wired.
        return sorted(found, key=lambda p: (p.const != "MOTOR_PIN", not p.fitted, p.gpio))


def load(pinmap_path: Path = PINMAP, bom_path: Path = BOM) -> Data:
    """Read both files; raises PinmapError naming what is missing."""
    try:
        raw = tomllib.loads(pinmap_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PinmapError(f"{pinmap_path.name}: {exc}") from None
    pins: list[Pin] = []
    for table, fitted in (("signal", True), ("spare", False)):
        for entry in raw.get(table, []):
            try:
                pin = Pin(
                    const=str(entry.get("const", "")),
                    pad=str(entry["pad"]),
                    gpio=int(entry["gpio"]),
                    direction=str(entry["direction"]),
                    role=str(entry["role"]),
                    net=str(entry["net"]),
                    to=str(entry["to"]),
                    notes=str(entry.get("notes", "")),
                    fitted=fitted,
                )
            except KeyError as exc:
                raise PinmapError(
                    f"a [[{table}]] entry in {pinmap_path.name} lacks {exc}") from None
            if pin.role not in ROLES_DRAWN:
                raise PinmapError(
                    f"pin {pin.pad} has role {pin.role!r}, which make_wiring_svg.py cannot draw "
                    f"yet (known: {', '.join(ROLES_DRAWN)})"
                )
            pins.append(pin)
    parts: dict[str, Part] = {}
    with bom_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parts[row["ref"]] = Part(row["ref"], row["value"], row["example"])
    for key in ("board", "settings", "circuit", "mount"):
        if key not in raw:
            raise PinmapError(f"{pinmap_path.name} has no [{key}] table")
    if int(raw["settings"].get("MOTOR_COUNT", 1)) < 2:
        pins = [replace(p, fitted=False) if p.const == "MOTOR2_PIN" else p for p in pins]
    return Data(raw["board"], tuple(pins), raw["settings"], raw["circuit"], raw["mount"], parts)


def num(v: float) -> str:
    """Coordinates with at most one decimal, so the output is stable across platforms."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def pretty(value: str) -> str:
    """BOM values are ASCII ("100 kOhm"); the drawing uses the symbols."""
    return value.replace(" kOhm", " kΩ").replace(" Ohm", " Ω").replace("uF", "µF")


class Svg:
    """A list of SVG elements and the shapes the drawing is made of; `text()` escapes."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, item: str) -> None:
        self.items.append(item)

    def line(self, pts: Sequence[tuple[float, float]], colour: str = INK, width: float = 2,
             dashed: bool = False, arrow: str = "") -> None:
        d = " ".join(("M" if i == 0 else "L") + f"{num(x)},{num(y)}"
                     for i, (x, y) in enumerate(pts))
        extra = ' stroke-dasharray="7 5"' if dashed else ""
        if arrow:
            extra += f' marker-end="url(#{arrow})"'
        self.add(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{num(width)}" '
                 f'stroke-linecap="round" stroke-linejoin="round"{extra}/>')

    def path(self, d: str, colour: str = INK, width: float = 2, fill: str = "none",
             dashed: bool = False) -> None:
        extra = ' stroke-dasharray="7 5"' if dashed else ""
        self.add(f'<path d="{d}" fill="{fill}" stroke="{colour}" stroke-width="{num(width)}" '
                 f'stroke-linejoin="round"{extra}/>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str = "none",
             stroke: str = INK, width: float = 2, rx: float = 0, dashed: bool = False) -> None:
        extra = ' stroke-dasharray="7 5"' if dashed else ""
        self.add(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
                 f'rx="{num(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="{num(width)}"'
                 f'{extra}/>')

    def circle(self, x: float, y: float, r: float, fill: str = "none", stroke: str = INK,
               width: float = 2, dashed: bool = False) -> None:
        extra = ' stroke-dasharray="6 4"' if dashed else ""
        self.add(f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{fill}" '
                 f'stroke="{stroke}" stroke-width="{num(width)}"{extra}/>')

    def dot(self, x: float, y: float, colour: str = INK) -> None:
        self.add(f'<circle cx="{num(x)}" cy="{num(y)}" r="4" fill="{colour}"/>')

    def text(self, x: float, y: float, s: str, size: float = 13, anchor: str = "start",
             colour: str = INK, weight: str = "normal", mono: bool = False,
             italic: bool = False) -> None:
        style = ' font-style="italic"' if italic else ""
        self.add(f'<text x="{num(x)}" y="{num(y)}" font-family="{MONO if mono else SANS}" '
                 f'font-size="{num(size)}" font-weight="{weight}" text-anchor="{anchor}" '
                 f'fill="{colour}"{style}>{escape(s)}</text>')

    def lines(self, x: float, y: float, rows: Iterable[str], size: float = 13,
              anchor: str = "start", colour: str = INK, gap: float = 17,
              first_bold: bool = False) -> None:
        for i, row in enumerate(rows):
            self.text(x, y + i * gap, row, size, anchor, colour,
                      "bold" if first_bold and i == 0 else "normal")

    def ground(self, x: float, y: float, colour: str = INK, dashed: bool = False) -> None:
        """Ground symbol hanging from (x, y)."""
        self.line([(x, y), (x, y + 10)], colour, dashed=dashed)
        for i, half in enumerate((11, 7, 3)):
            yy = y + 10 + 4 * i
            self.line([(x - half, yy), (x + half, yy)], colour)

    def rail(self, x: float, y: float, label: str, colour: str) -> None:
        """Supply flag: a bar with the rail name above it, the wire leaves downwards."""
        self.line([(x - 14, y), (x + 14, y)], colour, 3)
        self.text(x, y - 7, label, 13, "middle", colour, "bold")

    def resistor_v(self, x: float, y0: float, y1: float, colour: str = INK,
                   dashed: bool = False) -> None:
        """Vertical resistor (IEC box) between y0 and y1."""
        mid = (y0 + y1) / 2
        self.line([(x, y0), (x, mid - 20)], colour, dashed=dashed)
        self.rect(x - 7, mid - 20, 14, 40, "#ffffff", colour, 2, 2, dashed)
        self.line([(x, mid + 20), (x, y1)], colour, dashed=dashed)

    def resistor_h(self, x0: float, x1: float, y: float, colour: str = INK,
                   dashed: bool = False) -> None:
        mid = (x0 + x1) / 2
        self.line([(x0, y), (mid - 20, y)], colour, dashed=dashed)
        self.rect(mid - 20, y - 7, 40, 14, "#ffffff", colour, 2, 2, dashed)
        self.line([(mid + 20, y), (x1, y)], colour, dashed=dashed)

    def label_box(self, x_right: float, y: float, s: str, colour: str,
                  dashed: bool = False) -> None:
        """Net label ending at x_right, for a wire that continues in another panel."""
        w = 8 * len(s) + 18
        self.rect(x_right - w, y - 12, w, 24, "#ffffff", colour, 2, 12, dashed)
        self.text(x_right - w / 2, y + 4.5, s, 12.5, "middle", colour, "bold")

    def render(self, view: tuple[int, int, int, int] = (0, 0, WIDTH, HEIGHT)) -> str:
        x, y, w, h = view
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="{x} {y} {w} {h}">\n'
            "<defs>\n"
        )
        markers = "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>\n'
            for name, colour in (("ink", INK), ("white", "#ffffff"), *AXIS.items())
        )
        body = "\n".join(self.items)
        return f"{head}{markers}</defs>\n{body}\n</svg>\n"


# Layout: the left column holds A (wiring) over D (mount); the right column B (motor
# driver), C (power) and the pin table.
A_BOX = (20, 60, 770, 610)
D_BOX = (20, 690, 770, 370)
B_BOX = (810, 60, 590, 370)
C_BOX = (810, 450, 590, 320)
T_BOX = (810, 790, 590, 270)

BX, BY, BW, BH = 290, 150, 240, 350  # board outline in A
PAD_Y0, PAD_PITCH = 222, 44
HOP_X = 575  # where 3V3 climbs to the IMU's VCC
IMU_X, IMU_PITCH = 680, 30  # IMU header on the breakout's left edge


def panel(svg: Svg, box: tuple[float, float, float, float], title: str) -> None:
    x, y, w, h = box
    svg.rect(x, y, w, h, PANEL, "#d0d7de", 1.5, 10)
    svg.text(x + 16, y + 28, title, 17, weight="bold")


# Panel A: the board, the IMU and the wires between them ---------------------------------

def draw_board(svg: Svg, data: Data) -> dict[str, tuple[float, float]]:
    """The XIAO seen from the top, USB-C up; returns pad name -> pad centre."""
    name = str(data.board["name"])
    gpio_of: dict[str, int] = {str(k): int(v) for k, v in data.board["pads"].items()}
    edge = data.board["edge"]
    cx = BX + BW / 2
    svg.text(cx, BY - 24, f"U1 · {name} (top view)", 14, "middle", weight="bold")
    svg.rect(BX, BY, BW, BH, BOARD, BOARD, 2, 12)
    svg.rect(cx - 34, BY - 10, 68, 30, "#aab4be", "#6e7781", 1.5, 6)
    svg.text(cx, BY + 10, "USB-C", 11, "middle", INK, "bold")
    # On-board parts the firmware uses: the BOOT button and the user LED; RESET beside.
    button, led = data.role("button"), data.role("led")
    for x, label in ((BX + 40, f"{button.pad} · GPIO{button.gpio}"), (BX + BW - 40, "RESET")):
        svg.rect(x - 11, BY + 12, 22, 16, "#e6e9ec", "#e6e9ec", 1, 3)
        svg.text(x, BY + 44, label, 10.5, "middle", "#ffffff", mono=True)
    svg.circle(cx, BY + 38, 5, "#f0883e", "#f0883e", 1)
    svg.text(cx, BY + 60, f"{led.pad} · GPIO{led.gpio}", 10.5, "middle", "#ffffff", mono=True)

    pads: dict[str, tuple[float, float]] = {}
    for side, x in (("left", BX), ("right", BX + BW)):
        for i, pad in enumerate(edge[side]):
            y = PAD_Y0 + i * PAD_PITCH
            svg.circle(x, y, 7, PAD, "#8a6d1d", 1.5)
            gpio = gpio_of.get(pad)
            if gpio is None:
                label = pad
            elif side == "left":
                label = f"{pad} · GPIO{gpio}"
            else:
                label = f"GPIO{gpio} · {pad}"
            svg.text(x + 14 if side == "left" else x - 14, y + 4.5, label, 12,
                     "start" if side == "left" else "end", "#ffffff", mono=True)
            pads[pad] = (x, y)
    svg.text(cx, BY + BH / 2 + 30, "U1", 22, "middle", "#7d8b99", "bold")
    # The battery pads sit on the back of the board.
    bx = cx - 75
    svg.rect(bx, BY + BH + 12, 150, 34, "#ffffff", MUTED, 1.5, 6, dashed=True)
    for i, pad in enumerate(edge["back"]):
        px = bx + 24 + i * 74
        svg.circle(px, BY + BH + 29, 6, PAD, "#8a6d1d", 1.5)
        svg.text(px + 11, BY + BH + 33.5, pad, 12, mono=True)
    svg.text(cx, BY + BH + 62, "on the back: battery pads (panel C)", 11.5, "middle", MUTED,
             italic=True)
    return pads


def draw_imu(svg: Svg, data: Data, y0: float) -> dict[str, tuple[float, float]]:
    """The breakout with its header on the left edge; returns pin name -> pin centre."""
    imu = data.part(str(data.circuit["imu"]))
    names = [str(p) for p in data.circuit["imu_pins"]]
    h = IMU_PITCH * (len(names) - 1) + 44
    mid = IMU_X + 45
    svg.text(mid, y0 - 58, f"{imu.ref} · {imu.value}", 14, "middle", weight="bold")
    svg.text(mid, y0 - 41, f"GY-521, I2C 0x{int(data.circuit['imu_address']):02X}", 12,
             "middle", MUTED)
    svg.rect(IMU_X, y0 - 22, 92, h, "#1b4f8a", "#1b4f8a", 2, 8)
    wired = {p.to.split()[1] for p in data.pins if p.to.split()[0] == imu.ref}
    wired |= {"VCC", "GND", "AD0"}
    pins: dict[str, tuple[float, float]] = {}
    for i, pin in enumerate(names):
        y = y0 + i * IMU_PITCH
        svg.circle(IMU_X, y, 6, PAD, "#8a6d1d", 1.5)
        svg.text(IMU_X + 13, y + 4.5, pin, 12, colour="#ffffff" if pin in wired else "#8fa6bf",
                 mono=True)
        pins[pin] = (IMU_X, y)
    # The axes printed on the breakout.
    ax, ay = IMU_X + 58, y0 + h - 58
    svg.line([(ax, ay), (ax + 24, ay)], "#ffffff", 2, arrow="arrow-white")
    svg.line([(ax, ay), (ax, ay - 24)], "#ffffff", 2, arrow="arrow-white")
    svg.text(ax + 20, ay + 15, "X", 11, "middle", "#ffffff", "bold")
    svg.text(ax - 9, ay - 16, "Y", 11, "middle", "#ffffff", "bold")
    svg.lines(mid, y0 + h + 6, ["grey pins:", "not connected"], 11.5, "middle", MUTED, 15)
    return pins


def draw_panel_a(svg: Svg, data: Data) -> None:
    panel(svg, A_BOX, "A · Wiring: board and IMU")
    pads = draw_board(svg, data)
    gnd_x, gnd_y = pads["GND"]
    # Line the IMU's GND up with the board's GND pad.
    names = [str(p) for p in data.circuit["imu_pins"]]
    imu = draw_imu(svg, data, gnd_y - IMU_PITCH * names.index("GND"))

    # Power: GND straight across, 3V3 up to VCC with a hop over GND.
    svg.line([(gnd_x, gnd_y), imu["GND"]], COLOURS["GND"], 3)
    vx, vy = pads["3V3"]
    ty = imu["VCC"][1]
    svg.path(f"M{num(vx)},{num(vy)} L{HOP_X},{num(vy)} L{HOP_X},{num(gnd_y + 7)} "
             f"A7,7 0 0 1 {HOP_X},{num(gnd_y - 7)} L{HOP_X},{num(ty)} "
             f"L{num(imu['VCC'][0])},{num(ty)}", COLOURS["3V3"], 3)
    # AD0 tied to GND selects address 0x68.
    ax, ay = imu["AD0"]
    svg.line([(ax, ay), (ax - 16, ay)], COLOURS["GND"], 2)
    svg.ground(ax - 16, ay, COLOURS["GND"])

    # I2C: from the left pads, down under the board, up into the header.
    under = BY + BH + 84
    routes = ((data.role("i2c-scl"), BX - 14, under, IMU_X - 62),
              (data.role("i2c-sda"), BX - 28, under + 14, IMU_X - 46))
    for pin, x_down, y_under, x_up in routes:
        px, py = pads[pin.pad]
        tx, ty = imu[pin.to.split()[1]]
        svg.line([(px, py), (x_down, py), (x_down, y_under), (x_up, y_under), (x_up, ty),
                  (tx, ty)], COLOURS[pin.net], 3)
        svg.text(x_up - 10, y_under - 6, pin.net, 12, "end", COLOURS[pin.net], "bold")

    # Pads whose wires continue in the other panels.
    for pin in data.pins:
        if pin.role == "motor":
            colour, target = COLOURS["MOTOR"], "panel B"
        elif pin.role == "battery-sense":
            colour, target = COLOURS[pin.net], "panel C"
        else:
            continue
        px, py = pads[pin.pad]
        svg.line([(px, py), (px - 40, py)], colour, 3, dashed=not pin.fitted)
        svg.label_box(px - 42, py, f"{pin.net} → {target}", colour, dashed=not pin.fitted)

    ky = A_BOX[1] + A_BOX[3] - 22
    svg.text(44, ky - 24, "3V3 and GND also feed the motor driver (B) and the divider (C).",
             12, colour=MUTED, italic=True)
    svg.text(44, ky + 4, "wires:", 12, colour=MUTED)
    kx = 92.0
    for net, colour in COLOURS.items():
        svg.line([(kx, ky), (kx + 22, ky)], colour, 4)
        svg.text(kx + 28, ky + 4.5, net, 12, colour=colour, weight="bold")
        kx += 46 + 8.5 * len(net)


# Panel B: motor driver(s) -----------------------------------------------------------------

def draw_driver(svg: Svg, data: Data, pin: Pin, refs: Sequence[str], ox: float,
                oy: float) -> None:
    r_gate, q, d, r_pull, m = (data.part(r) for r in refs)
    dashed = not pin.fitted
    c = COLOURS["MOTOR"] if pin.fitted else MUTED
    ink = INK if pin.fitted else MUTED
    supply = str(data.circuit["motor_supply"])
    title = f"{m.ref} on {pin.pad} · GPIO{pin.gpio}"
    title += f" ({pin.const})" if pin.fitted else " (two-motor build)"
    svg.text(ox - 20, oy, title, 13.5, weight="bold", colour=ink)
    top, bottom = oy + 56, oy + 150
    mx, dx = ox + 130, ox + 190
    svg.rail(mx, oy + 30, supply, COLOURS["3V3"])
    svg.line([(mx, oy + 30), (mx, top), (dx, top), (dx, oy + 94)], COLOURS["3V3"], 2.5,
             dashed=dashed)
    svg.dot(mx, top, COLOURS["3V3"])
    # Motor.
    svg.line([(mx, top), (mx, oy + 81)], ink, dashed=dashed)
    svg.circle(mx, oy + 103, 22, "#ffffff", ink, 2, dashed)
    svg.text(mx, oy + 108.5, "M", 16, "middle", ink, "bold")
    svg.line([(mx, oy + 125), (mx, bottom)], ink, dashed=dashed)
    svg.lines(mx - 32, oy + 98, [m.ref, pretty(m.value)], 12, "end", ink, 16, True)
    # Flyback diode, cathode at the supply.
    svg.path(f"M{num(dx - 10)},{num(oy + 114)} L{num(dx + 10)},{num(oy + 114)} "
             f"L{num(dx)},{num(oy + 96)} z", ink, 2, "#ffffff", dashed)
    svg.line([(dx - 11, oy + 94), (dx + 11, oy + 94)], ink, 2.5)
    svg.line([(dx, oy + 114), (dx, bottom), (mx, bottom)], ink, dashed=dashed)
    svg.dot(mx, bottom, ink)
    svg.lines(dx + 16, oy + 100, [d.ref, pretty(d.value)], 12, "start", ink, 16, True)
    # MOSFET: drain from the motor, source to ground, gate from the left.
    gy = oy + 196
    svg.line([(mx, bottom), (mx, gy - 14), (mx - 13, gy - 14)], ink, dashed=dashed)
    for y0 in (gy - 20, gy - 6, gy + 8):
        svg.line([(mx - 13, y0), (mx - 13, y0 + 10)], ink, 3)
    svg.line([(mx - 13, gy + 13), (mx, gy + 13), (mx, oy + 240)], ink, dashed=dashed)
    svg.line([(mx, gy + 13), (mx, gy), (mx - 11, gy)], ink, arrow="arrow-ink")
    svg.line([(mx - 21, gy - 18), (mx - 21, gy + 18)], ink, 2.5)
    svg.ground(mx, oy + 240, ink, dashed)
    svg.lines(mx + 14, gy - 2, [q.ref, pretty(q.value)], 12, "start", ink, 16, True)
    svg.text(mx + 6, bottom + 22, "D", 10.5, colour=MUTED)
    svg.text(mx + 6, gy + 30, "S", 10.5, colour=MUTED)
    svg.text(mx - 30, gy + 32, "G", 10.5, "middle", MUTED)
    # Gate resistor from the GPIO, pull-down to ground.
    gx = ox + 70
    svg.line([(ox - 20, gy), (ox - 6, gy)], c, 3, dashed)
    svg.resistor_h(ox - 6, gx, gy, c, dashed)
    svg.line([(gx, gy), (mx - 21, gy)], c, 2, dashed)
    svg.dot(gx, gy, c)
    svg.text(ox + 26, gy + 26, f"{r_gate.ref} {pretty(r_gate.value)}", 12, "middle", ink)
    svg.text(ox - 20, gy - 14, f"{pin.net} from {pin.pad}", 12, colour=c, weight="bold")
    svg.resistor_v(gx, gy, oy + 268, ink, dashed)
    svg.ground(gx, oy + 268, ink, dashed)
    svg.lines(gx - 14, gy + 50, [r_pull.ref, pretty(r_pull.value)], 12, "end", ink, 16, True)


def draw_panel_b(svg: Svg, data: Data) -> None:
    panel(svg, B_BOX, "B · Motor driver (one per motor)")
    x, y, _, h = B_BOX
    refs = (data.circuit["motor_driver"], data.circuit["second_motor_driver"])
    for i, pin in enumerate(data.motors()):
        draw_driver(svg, data, pin, [str(r) for r in refs[i]], x + 50 + i * 272, y + 58)
    svg.text(x + 16, y + h - 14, "Pull-down: the motor stays off while the pin floats at "
             "reset. Diode: takes the turn-off spike.", 11.5, colour=MUTED, italic=True)


# Panel C: power path and battery sense ------------------------------------------------------

def draw_panel_c(svg: Svg, data: Data) -> None:
    panel(svg, C_BOX, "C · Power path and battery sense")
    c = data.circuit
    bt = data.part(str(c["battery"]))
    j = data.part(str(c["battery_connector"]))
    sw = data.part(str(c["switch"]))
    r_top, r_bot = (data.part(str(r)) for r in c["battery_divider"])
    cap = data.part(str(c["battery_filter"]))
    sense = data.role("battery-sense")
    ratio = int(data.settings["BATTERY_DIVIDER"])
    ox, oy, _, oh = C_BOX
    top, bottom = oy + 84, oy + 236
    bx, jx, sx, nx, cx = ox + 96, ox + 160, ox + 218, ox + 334, ox + 384
    plus, minus = COLOURS["BAT+"], COLOURS["GND"]
    # Cell: long plate +, short plate -.
    cell = oy + 150
    svg.line([(bx, top), (bx, cell)], plus, 3)
    svg.line([(bx - 22, cell), (bx + 22, cell)], INK, 3)
    svg.line([(bx - 12, cell + 10), (bx + 12, cell + 10)], INK, 5)
    svg.line([(bx, cell + 10), (bx, bottom)], minus, 3)
    svg.text(bx + 18, cell - 8, "+", 15, colour=plus, weight="bold")
    volts, capacity = (pretty(v) for v in bt.value.split(", "))
    svg.lines(bx - 30, cell - 16, [bt.ref, "LiPo", volts, capacity], 12, "end", INK, 16, True)
    # Connector J1.
    svg.rect(jx - 12, top - 14, 24, bottom - top + 28, "#ffffff", INK, 1.5, 5)
    for y in (top, bottom):
        svg.circle(jx, y, 4, INK, INK, 1)
    svg.text(jx, top - 22, j.ref, 12, "middle", weight="bold")
    svg.text(jx, bottom + 30, "JST-PH", 11, "middle", MUTED)
    svg.line([(bx, top), (jx - 12, top)], plus, 3)
    svg.line([(bx, bottom), (jx - 12, bottom)], minus, 3)
    # Switch, drawn open (off).
    svg.line([(jx + 12, top), (sx, top)], plus, 3)
    svg.circle(sx, top, 4, "#ffffff", INK, 2)
    svg.circle(sx + 50, top, 4, "#ffffff", INK, 2)
    svg.line([(sx + 3, top - 3), (sx + 46, top - 22)], INK, 2.5)
    svg.text(sx + 25, top - 30, f"{sw.ref} on/off", 12, "middle", weight="bold")
    svg.line([(sx + 54, top), (nx, top)], plus, 3)
    svg.line([(jx + 12, bottom), (nx, bottom)], minus, 3)
    # Board pads.
    for y, pad, colour in ((top, "BAT+", plus), (bottom, "BAT-", minus)):
        svg.line([(nx, y), (ox + 470, y)], colour, 3)
        svg.rect(ox + 470, y - 15, 100, 30, BOARD, BOARD, 1, 6)
        svg.text(ox + 520, y + 4.5, f"U1 {pad}", 12, "middle", "#ffffff", mono=True)
    svg.text(ox + 520, top + 32, "to U1's charger", 11, "middle", MUTED, italic=True)
    svg.text(ox + 520, bottom - 22, "= GND", 11, "middle", MUTED, italic=True)
    # Divider with its filter capacitor.
    mid = (top + bottom) / 2
    svg.dot(nx, top, plus)
    svg.dot(nx, bottom, minus)
    svg.resistor_v(nx, top, mid, INK)
    svg.resistor_v(nx, mid, bottom, INK)
    svg.lines(nx - 14, top + 34, [r_top.ref, pretty(r_top.value)], 12, "end", INK, 16, True)
    svg.lines(nx - 14, mid + 34, [r_bot.ref, pretty(r_bot.value)], 12, "end", INK, 16, True)
    violet = COLOURS[sense.net]
    svg.line([(nx, mid), (cx + 40, mid)], violet, 3)
    svg.dot(nx, mid, violet)
    svg.dot(cx, mid, violet)
    svg.line([(cx, mid), (cx, mid + 28)], INK)
    svg.line([(cx - 14, mid + 28), (cx + 14, mid + 28)], INK, 3)
    svg.line([(cx - 14, mid + 36), (cx + 14, mid + 36)], INK, 3)
    svg.line([(cx, mid + 36), (cx, bottom)], INK)
    svg.dot(cx, bottom, minus)
    svg.lines(cx + 18, mid + 32, [cap.ref, pretty(cap.value)], 12, "start", INK, 16, True)
    svg.label_box(ox + 574, mid, f"{sense.net} → {sense.pad} · GPIO{sense.gpio}", violet)
    svg.lines(ox + 16, oy + oh - 30, [
        f"Battery voltage = ADC pin voltage {TIMES} {ratio}. "
        "Board and divider sit after the switch:",
        "nothing drains the cell when it is off, and the cell charges only when it is on.",
    ], 11.5, colour=MUTED, gap=15)


# Panel D: how the sensor sits on the wearer --------------------------------------------------

SKIN, SKIN_LINE, CASE = "#f1d9c5", "#c9a58a", "#263442"


def axis_colour(axis: str) -> str:
    """'+x' -> the colour used for X everywhere."""
    return AXIS[axis[-1].lower()]


def draw_back_view(svg: Svg, data: Data, cx: float, y: float) -> None:
    """The wearer from behind: clip on the strap at the sacrum, motor pods beside it."""
    svg.text(cx, y, "seen from behind", 13, "middle", MUTED, italic=True)
    t = y + 18
    svg.path(f"M{num(cx - 80)},{num(t)} L{num(cx + 80)},{num(t)} "
             f"C{num(cx + 95)},{num(t + 60)} {num(cx + 120)},{num(t + 100)} "
             f"{num(cx + 120)},{num(t + 140)} L{num(cx + 116)},{num(t + 215)} "
             f"L{num(cx + 8)},{num(t + 215)} L{num(cx)},{num(t + 185)} "
             f"L{num(cx - 8)},{num(t + 215)} L{num(cx - 116)},{num(t + 215)} "
             f"L{num(cx - 120)},{num(t + 140)} C{num(cx - 120)},{num(t + 100)} "
             f"{num(cx - 95)},{num(t + 60)} {num(cx - 80)},{num(t)} z", SKIN_LINE, 1.5, SKIN)
    svg.line([(cx, t + 5), (cx, t + 96)], SKIN_LINE, 1.5, dashed=True)
    svg.line([(cx, t + 160), (cx, t + 185)], SKIN_LINE, 1.5)
    svg.path(f"M{num(cx - 110)},{num(t + 100)} L{num(cx + 110)},{num(t + 100)} "
             f"L{num(cx + 114)},{num(t + 126)} L{num(cx - 114)},{num(t + 126)} z",
             "#57606a", 1, "#8c959f")
    both = all(p.fitted for p in data.motors()) and len(data.motors()) == 2
    for side in (-1, 1):
        svg.circle(cx + side * 78, t + 113, 10, "#ffffff", INK if both else MUTED, 1.5,
                   not both)
    svg.rect(cx - 22, t + 94, 44, 38, CASE, CASE, 1, 5)
    svg.text(cx - 8, t + 110, "▲", 11, "middle", "#ffffff")
    svg.text(cx + 8, t + 126, "R▶", 10, "middle", "#ffffff", "bold")
    svg.lines(cx, t + 150, ["clip at the sacrum,", "on the strap"], 11.5, "middle", INK, 15)
    pods = ["motor pods:", "left and right hip"] if both else \
        ["dashed: motor pods", "(two-motor build)"]
    svg.lines(cx, t + 196, pods, 11, "middle", "#57606a", 14)
    svg.text(cx - 118, t + 234, "wearer's left", 11.5, "start", MUTED, italic=True)
    svg.text(cx + 118, t + 234, "wearer's right", 11.5, "end", MUTED, italic=True)


def draw_clip_axes(svg: Svg, data: Data, cx: float, cy: float) -> None:
    """The case seen from behind with the sensor axes drawn on it."""
    m = data.mount
    svg.text(cx, cy - 130, "the case, from behind", 13, "middle", MUTED, italic=True)
    svg.rect(cx - 50, cy - 36, 100, 72, CASE, CASE, 1, 8)
    svg.text(cx - 30, cy - 16, "▲", 13, "middle", "#ffffff")
    svg.text(cx + 30, cy + 26, "R▶", 12, "middle", "#ffffff", "bold")
    cr, cu, cb = (axis_colour(m[k]) for k in ("right", "up", "backward"))
    svg.line([(cx + 10, cy), (cx + 100, cy)], cr, 3.5, arrow=f"arrow-{m['right'][-1]}")
    svg.lines(cx + 104, cy + 26, [f"{m['right'].upper()}", "wearer's right"], 13, "end", cr,
              16, True)
    svg.line([(cx, cy - 10), (cx, cy - 100)], cu, 3.5, arrow=f"arrow-{m['up'][-1]}")
    svg.text(cx + 10, cy - 88, f"{m['up'].upper()} up", 13, "start", cu, "bold")
    svg.circle(cx, cy, 9, "#ffffff", cb, 3)
    svg.dot(cx, cy, cb)
    svg.lines(cx, cy + 66, [f"{m['backward'].upper()} toward you:", "backward, out of the sacrum"],
              13, "middle", cb, 16, True)


def draw_side_view(svg: Svg, data: Data, sx: float, y: float) -> None:
    """The wearer from the right side, facing right: the clip's Z points backward."""
    m = data.mount
    cr, cu, cb = (axis_colour(m[k]) for k in ("right", "up", "backward"))
    svg.text(sx, y, "seen from the wearer's right", 13, "middle", MUTED, italic=True)
    t = y + 18
    svg.path(f"M{num(sx)},{num(t)} L{num(sx + 70)},{num(t)} "
             f"C{num(sx + 80)},{num(t + 60)} {num(sx + 85)},{num(t + 110)} "
             f"{num(sx + 80)},{num(t + 160)} L{num(sx + 75)},{num(t + 250)} "
             f"L{num(sx)},{num(t + 250)} "
             f"C{num(sx - 5)},{num(t + 210)} {num(sx - 30)},{num(t + 180)} "
             f"{num(sx - 30)},{num(t + 140)} C{num(sx - 30)},{num(t + 100)} "
             f"{num(sx - 12)},{num(t + 60)} {num(sx)},{num(t)} z", SKIN_LINE, 1.5, SKIN)
    clip_y = t + 113
    svg.rect(sx - 37, clip_y - 22, 12, 44, CASE, CASE, 1, 3)
    svg.line([(sx - 43, clip_y), (sx - 112, clip_y)], cb, 3.5, arrow=f"arrow-{m['backward'][-1]}")
    svg.lines(sx - 120, clip_y + 42, [f"{m['backward'].upper()} backward"], 13, "start", cb,
              16, True)
    svg.line([(sx - 31, clip_y - 28), (sx - 31, clip_y - 96)], cu, 3.5,
             arrow=f"arrow-{m['up'][-1]}")
    svg.text(sx - 39, clip_y - 84, f"{m['up'].upper()} up", 13, "end", cu, "bold")
    svg.circle(sx - 82, clip_y - 50, 8, "#ffffff", cr, 3)
    svg.dot(sx - 82, clip_y - 50, cr)
    svg.lines(sx - 96, clip_y - 46, [f"{m['right'].upper()}", "toward you"], 13, "end", cr, 16,
              True)
    svg.line([(sx + 14, t + 44), (sx + 58, t + 44)], INK, 2, arrow="arrow-ink")
    svg.text(sx + 36, t + 34, "front", 12, "middle", INK)


def draw_panel_d(svg: Svg, data: Data) -> None:
    panel(svg, D_BOX, f"D · Mount on the clip (firmware mount {data.mount['default']})")
    x, y, _, h = D_BOX
    draw_back_view(svg, data, x + 150, y + 60)
    draw_clip_axes(svg, data, x + 395, y + 200)
    draw_side_view(svg, data, x + 660, y + 60)
    svg.text(x + 16, y + h - 14, "Mark the case ▲ (up) and R▶ (wearer's right) and mount the "
             "breakout so its printed X and Y arrows agree with the marks.", 11.5, colour=MUTED,
             italic=True)


# Pin table ------------------------------------------------------------------------------

def draw_table(svg: Svg, data: Data) -> None:
    panel(svg, T_BOX, "Pins (pinmap.toml = firmware/belt/board.py)")
    x0, y0, w, _ = T_BOX
    cols = (x0 + 16, x0 + 72, x0 + 124, x0 + 284, x0 + 366)
    y = y0 + 58
    for x, head in zip(cols, ("pad", "GPIO", "board.py", "net", "to"), strict=True):
        svg.text(x, y, head, 12, colour=MUTED, weight="bold")
    svg.line([(x0 + 16, y + 7), (x0 + w - 16, y + 7)], "#d0d7de", 1)
    for pin in sorted(data.pins, key=lambda p: (not p.fitted, p.gpio)):
        y += 22
        ref, _, where = pin.to.partition(" ")
        part = data.part(ref)
        to = f"{ref} {where}" if ref in ("U1", str(data.circuit["imu"])) else \
            f"{ref} ({pretty(part.value)})"
        const = pin.const if pin.fitted else "(spare)"
        colour = INK if pin.fitted else MUTED
        for x, cell in zip(cols, (pin.pad, str(pin.gpio), const, pin.net, to), strict=True):
            svg.text(x, y, cell, 12, colour=colour, mono=True)
    s = data.settings
    svg.lines(x0 + 16, y + 32, [
        f"I2C controller {s['I2C_ID']} at {int(s['I2C_FREQ']) // 1000} kHz · battery = ADC {TIMES} "
        f"{s['BATTERY_DIVIDER']} · LED active {'low' if s['LED_ACTIVE_LOW'] else 'high'} · "
        f"MOTOR_COUNT {s['MOTOR_COUNT']}",
        f"Safe mode: press {data.role('button').pad} within {s['SAFE_MODE_WINDOW_MS']} ms "
        "after reset (firmware/README.md).",
    ], 12, colour=INK, gap=18)


def render(data: Data) -> str:
    fitted = len([p for p in data.motors() if p.fitted])
    svg = Svg()
    svg.rect(0, 0, WIDTH, HEIGHT, "#ffffff", "#ffffff", 0)
    svg.text(20, 38, "LevelBelt wiring", 22, weight="bold")
    motors = "one motor" if fitted == 1 else f"{fitted} motors"
    svg.text(236, 38, f"{data.board['name']} · {data.part(str(data.circuit['imu'])).value} · "
             f"{motors}", 14, colour=MUTED)
    svg.text(WIDTH - 20, 38, "drawn by hardware/make_wiring_svg.py from pinmap.toml and "
             "bom.csv; edit those, not this file", 11.5, "end", MUTED, italic=True)
    draw_panel_a(svg, data)
    draw_panel_b(svg, data)
    draw_panel_c(svg, data)
    draw_panel_d(svg, data)
    draw_table(svg, data)
    return svg.render()


def render_mount(data: Data) -> str:
    """Panel D on its own."""
    svg = Svg()
    x, y, w, h = D_BOX
    view = (x - 10, y - 10, w + 20, h + 20)
    svg.rect(*view, "#ffffff", "#ffffff", 0)
    draw_panel_d(svg, data)
    return svg.render(view)


def drawings(data: Data) -> dict[str, str]:
    """File name -> content, for everything this script writes."""
    return {"wiring.svg": render(data), "mount.svg": render_mount(data)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a committed drawing differs from a fresh one")
    parser.add_argument("--dir", type=Path, default=HERE, help="where the drawings live")
    args = parser.parse_args(argv)
    try:
        fresh = drawings(load())
    except PinmapError as exc:
        print(f"make_wiring_svg: error: {exc}", file=sys.stderr)
        return 2
    stale = 0
    for name, text in fresh.items():
        path = args.dir / name
        if not args.check:
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"make_wiring_svg: {path} is stale; run python hardware/make_wiring_svg.py",
                  file=sys.stderr)
            stale += 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
