"""Draw docs/architecture.svg: the data path through the belt and the host, by module.

The picture names real files; tests/test_architecture.py checks that every module it
names exists and that the committed SVG is what this script draws now. Stdlib only,
deterministic output.

    python docs/make_architecture_svg.py           # rewrite docs/architecture.svg
    python docs/make_architecture_svg.py --check   # exit 1 if the committed file is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parent / "architecture.svg"

WIDTH = 1240
HEIGHT = 1165
SANS = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
INK = "#1f2328"
MUTED = "#57606a"
PANEL = "#f6f8fa"
LINE = "#d0d7de"
BELT = "#0969da"  # belt modules
HOST = "#1a7f37"  # host modules
TOOL = "#8250df"  # tools around the path (device commands, simulator, analysis)
PART = "#263442"  # hardware
CUE = "#cf222e"  # the hip-drop cue
WIRE = "#bf8700"  # the links between belt and host


def num(v: float) -> str:
    r = round(v, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


class Svg:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.arrow_colours: list[str] = []  # one arrowhead marker each, in first-use order

    def text(self, x: float, y: float, s: str, size: float = 12.5, colour: str = INK,
             anchor: str = "start", weight: str = "normal", mono: bool = False,
             italic: bool = False) -> None:
        style = ' font-style="italic"' if italic else ""
        self.items.append(
            f'<text x="{num(x)}" y="{num(y)}" font-family="{MONO if mono else SANS}" '
            f'font-size="{num(size)}" font-weight="{weight}" text-anchor="{anchor}" '
            f'fill="{colour}"{style}>{escape(s)}</text>'
        )

    def rect(self, b: Box, fill: str, stroke: str, width: float = 1.5, rx: float = 8,
             dashed: bool = False) -> None:
        extra = ' stroke-dasharray="6 4"' if dashed else ""
        self.items.append(
            f'<rect x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" '
            f'rx="{num(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="{num(width)}"'
            f"{extra}/>"
        )

    def arrow(self, pts: Sequence[tuple[float, float]], colour: str = INK,
              width: float = 2, dashed: bool = False, both: bool = False) -> None:
        d = " ".join(("M" if i == 0 else "L") + f"{num(x)},{num(y)}"
                     for i, (x, y) in enumerate(pts))
        if colour not in self.arrow_colours:
            self.arrow_colours.append(colour)
        marker = f"url(#a{colour.lstrip('#')})"
        extra = ' stroke-dasharray="6 4"' if dashed else ""
        extra += f' marker-end="{marker}"'
        if both:
            extra += f' marker-start="{marker}"'
        self.items.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{num(width)}" '
            f'stroke-linejoin="round"{extra}/>'
        )

    def module(self, b: Box, title: str, rows: Sequence[str], colour: str,
               subtitle: str = "", rows2: Sequence[str] = ()) -> None:
        """A box: the module (or package) name in bold mono, then one line per row (`rows2`
        is a second column). A row `name.py  what` shows the name in mono, `what` muted."""
        self.rect(b, "#ffffff", colour, 1.8)
        self.text(b.x + 10, b.y + 20, title, 13, colour, weight="bold", mono=True)
        if subtitle:
            self.text(b.x + 18 + 7.9 * len(title), b.y + 20, subtitle, 11.5, MUTED,
                      italic=True)
        for column, x in ((rows, b.x + 10), (rows2, b.x + 10 + b.w / 2)):
            for i, row in enumerate(column):
                self.row(x, b.y + 38 + i * 16.5, row)

    def row(self, x: float, y: float, row: str) -> None:
        name, sep, what = row.partition("  ")
        if sep and (name.endswith((".py", "/")) or " · " in name):
            self.text(x, y, name, 11.5, INK, mono=True)
            self.text(x + 4 + 7.1 * len(name), y, what, 11.5, MUTED)
        else:
            self.text(x, y, row, 11.5, MUTED)

    def part(self, b: Box, rows: Sequence[str]) -> None:
        self.rect(b, PART, PART, 1.5, 10)
        for i, row in enumerate(rows):
            self.text(b.cx, b.y + 22 + i * 16, row, 12 if i else 13, "#ffffff", "middle",
                      "bold" if i == 0 else "normal")

    def label(self, x: float, y: float, s: str, colour: str, anchor: str = "start") -> None:
        self.text(x, y, s, 11.5, colour, anchor, italic=True)

    def render(self) -> str:
        markers = "".join(
            f'<marker id="a{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
            for c in self.arrow_colours
        )
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}">\n'
            "<title>LevelBelt: data path and module map</title>\n"
            f"<defs>{markers}</defs>\n"
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>\n'
        )
        return head + "\n".join(self.items) + "\n</svg>\n"


def panel(s: Svg, b: Box, title: str, colour: str) -> None:
    s.rect(b, PANEL, LINE, 1.5, 12)
    s.text(b.x + 16, b.y + 28, title, 17, colour, weight="bold")


def draw() -> str:
    s = Svg()
    s.text(20, 34, "LevelBelt: data path and module map", 22, weight="bold")
    s.text(WIDTH - 20, 34, "drawn by docs/make_architecture_svg.py · every module: "
           "docs/architecture.md", 11.5, MUTED, "end", italic=True)

    # ---- the belt: left to right -------------------------------------------------------
    panel(s, Box(20, 52, 1200, 392), "Belt · ESP32-S3 · MicroPython 1.27 · firmware/", BELT)
    imu = Box(40, 104, 130, 96)
    s.part(imu, ["IMU", "MPU-6050 or", "LSM6DSOX", "FIFO, own clock"])
    drv = Box(196, 96, 190, 112)
    s.module(drv, "imu.py", ["imu_fifo.py", "imu_mpu6050.py", "imu_lsm6dsox.py",
                             "→ mg, 1/16 °/s, index"], BELT)
    pipe = Box(412, 88, 330, 128)
    s.module(pipe, "pipeline.py", ["calib.py  still: gyro bias, neutral",
                                   "fusion.py  Q14 gravity vector",
                                   "align.py  neutral + mount → angles",
                                   "detector.py  threshold, dwell, stance",
                                   "fixedmath.py  integer atan2"], BELT,
             subtitle="per sample, allocates nothing")
    out = Box(768, 96, 200, 112)
    s.module(out, "outlet.py", ["ring.py  last 32 s",
                                "protocol.py  frames;",
                                "COBS + CRC on USB"], BELT)
    usb = Box(994, 88, 206, 58)
    s.module(usb, "USB console", ["frames, COBS + CRC-16"], BELT)
    ble = Box(994, 158, 206, 58)
    s.module(ble, "ble.py", ["GATT notify, paced, MTU"], BELT)
    s.arrow([(imu.right, imu.cy), (drv.x, imu.cy)], PART)
    s.label(imu.right + 3, imu.cy - 6, "I2C", MUTED)
    s.arrow([(drv.right, drv.cy), (pipe.x, drv.cy)], BELT)
    s.arrow([(pipe.right, drv.cy), (out.x, drv.cy)], BELT)
    s.arrow([(out.right, out.cy), (out.right + 13, out.cy), (out.right + 13, usb.cy),
             (usb.x, usb.cy)], BELT)
    s.arrow([(out.right + 13, out.cy), (out.right + 13, ble.cy), (ble.x, ble.cy)], BELT)

    hap = Box(412, 252, 200, 76)
    s.module(hap, "haptics.py", ["10 patterns, 1 or 2 motors",
                                 "≤ 500 ms on, ≤ 4 s in 10 s"], CUE)
    motor = Box(640, 264, 102, 52)
    s.part(motor, ["motor", "MOSFET"])
    s.arrow([(pipe.x + 60, pipe.bottom), (pipe.x + 60, hap.y)], CUE, 2.5)
    s.label(pipe.x + 68, pipe.bottom + 22, "a confirmed drop: cue on the belt", CUE)
    s.arrow([(hap.right, motor.cy), (motor.x, motor.cy)], CUE, 2.5)

    links = Box(768, 236, 432, 92)
    s.module(links, "links.py", ["usb_in.py  COMMAND frames from USB, Ctrl-C",
                                 "commands.py  check, apply, ACK",
                                 "auth.py  HMAC tag, /belt.key, counter /belt.ctr"], BELT)
    s.arrow([(ble.x + 30, ble.bottom), (ble.x + 30, links.y)], BELT, dashed=True)
    s.label(ble.x + 36, ble.bottom + 15, "control writes", MUTED)

    app = Box(40, 350, 548, 80)
    s.module(app, "app.py", ["main loop every 5 ms: IMU → pipeline → links; haptics with",
                             "the detector blanked, battery, LED, watchdog, no-IMU retries",
                             "main.py · safemode.py  BOOT after reset: safe mode"], BELT)
    board = Box(612, 350, 290, 80)
    s.module(board, "hal.py", ["the only machine / bluetooth import",
                               "board.py  pins = hardware/pinmap.toml",
                               "battery.py  ADC divider, low, critical"], BELT)
    store = Box(926, 350, 274, 80)
    s.module(store, "settings.py", ["/belt.cfg: CRC, write-new-then-rename",
                                    "detector, mount, calibration",
                                    "bonds.py  BLE bond keys, /ble.bonds"], BELT)
    s.arrow([(imu.cx, app.y), (imu.cx, imu.bottom)], MUTED, 1.5, dashed=True)

    # ---- between: the links, and the device commands on the USB REPL ------------------
    usb_x, ble_x = 1040, 1150
    host_y = 586
    panel(s, Box(20, host_y, 1200, 480), "Host · levelbelt · Python 3.11+ · host/levelbelt/",
          HOST)
    s.arrow([(usb_x, 444), (usb_x, host_y + 48)], WIRE, 3, both=True)
    s.arrow([(ble_x, 444), (ble_x, host_y + 48)], WIRE, 3, both=True)
    s.text(usb_x - 10, 470, "USB serial", 12.5, WIRE, "end", "bold")
    s.text(ble_x + 10, 470, "BLE", 12.5, WIRE, "start", "bold")
    s.text(usb_x - 10, 490, "↓ SAMPLES TILT EVENT INFO STATUS CALIBRATION ACK", 11.5, WIRE,
           "end")
    s.text(usb_x - 10, 506, "↑ COMMAND: HMAC-SHA256 tag + counter", 11.5, WIRE, "end")
    s.text(usb_x - 10, 522, "docs/protocol.md", 11.5, WIRE, "end", italic=True)
    dev = Box(40, 468, 590, 90)
    s.module(dev, "device/", ["ports.py  which USB port",
                              "repl.py  raw REPL (mpremote)",
                              "flash.py  MicroPython (esptool)"], TOOL,
             subtitle="levelbelt device, over the USB REPL",
             rows2=["install.py · mpy.py  .mpy, changed only",
                    "provision.py  the key, both ends",
                    "info.py · probe.py  what is on it"])
    s.arrow([(95, dev.y), (95, 444)], TOOL, 2.5)
    s.label(103, 460, "MicroPython, /lib/belt/*.mpy, /main.py, /belt.key", TOOL)

    # ---- the host: right to left, from the links to the screen -------------------------
    r1 = host_y + 48
    tr = Box(950, r1, 250, 130)
    s.module(tr, "transports/", ["transport.py  URI → link",
                                 "serial_link.py  pyserial",
                                 "serial_transport.py",
                                 "ble_link.py  bleak",
                                 "sim_transport.py  sim:"], HOST)
    dec = Box(746, r1, 180, 130)
    s.module(dec, "protocol.py", ["numpy batch decoder,",
                                  "bad frames counted",
                                  "framing.py  COBS, CRC"], HOST)
    cli = Box(482, r1, 240, 130)
    s.module(cli, "belt_client.py", ["reconnect, keep-alive",
                                     "coverage.py  holes → RESEND",
                                     "command_auth.py  signs",
                                     "keys.py  one key per belt",
                                     "explicit gaps, reboots"], HOST)
    live = Box(252, r1, 206, 130)
    s.module(live, "feeds.py", ["a belt in its own thread",
                                "live.py  LiveBelt:",
                                "snapshots ≤ 30 Hz,",
                                "each replaces the last"], HOST)
    tui = Box(40, r1, 188, 130)
    s.module(tui, "tui/", ["app.py  Textual",
                           "screens/  connect,",
                           "calibrate, drill, grid,",
                           "review, settings",
                           "widgets/  gauge, trace"], HOST)
    y = r1 + 65
    for a, b in ((tr, dec), (dec, cli), (cli, live), (live, tui)):
        s.arrow([(a.x, y), (b.right, y)], HOST)

    r2 = r1 + 178
    ses = Box(482, r2, 240, 112)
    s.module(ses, "live_session.py", ["engine.py  phases on belt time",
                                      "plans.py  TOML plans",
                                      "weaker_side.py",
                                      "stance, cue, capture → belt"], HOST)
    files = Box(252, r2, 206, 112)
    s.module(files, "session/", ["writer.py  .lbs, 0600,",
                                 "append-only",
                                 "reader.py  lenient",
                                 "export.py  CSV"], HOST)
    rev = Box(40, r2, 188, 112)
    s.module(rev, "scoring.py", ["history.py  saved",
                                 "review.py  LSI, trends",
                                 "report_html.py",
                                 "svgplot.py  HTML, SVG"], HOST)
    s.arrow([(live.right - 40, live.bottom), (live.right - 40, r2 - 22),
             (ses.x + 60, r2 - 22), (ses.x + 60, ses.y)], HOST)
    s.label(live.right - 34, r2 - 28, "every frame, in the reader thread", MUTED)
    s.arrow([(ses.right - 40, ses.y), (ses.right - 40, cli.bottom)], HOST, dashed=True)
    s.arrow([(ses.x, ses.cy), (files.right, ses.cy)], HOST)
    s.arrow([(files.x, ses.cy), (rev.right, ses.cy)], HOST)
    s.arrow([(rev.cx, rev.y), (rev.cx, tui.bottom)], HOST)

    sim = Box(746, r2, 454, 112)
    s.module(sim, "sim/", ["body.py  pelvis motion",
                           "sensor.py  IMU model",
                           "board.py  belt.app on a",
                           "simulated board"], TOOL,
             subtitle="a belt without hardware",
             rows2=["blerig/  Bumble BLE stack,",
                    "bleak backend, radio",
                    "drill_athlete.py  follows",
                    "a plan"])
    s.arrow([(tr.cx, sim.y), (tr.cx, tr.bottom)], TOOL, dashed=True)

    r3 = r2 + 134
    fw = Box(40, r3, 560, 100)
    s.module(fw, "firmware.py", ["imports the belt's pure modules on CPython, so the",
                                 "simulator and analyze.py (a raw CSV through the belt's",
                                 "own pipeline) give the belt's angles and cues bit for bit",
                                 "rawcsv.py  the raw recording, checked line by line"], TOOL)
    cmd = Box(624, r3, 576, 100)
    s.module(cmd, "cli.py", ["demo · dashboard · device · review · report · export",
                             "· plans · analyze · scan · link-test",
                             "errors.py  one root: one line, exit 2",
                             "demo.py · headless.py  the simulated belt"], INK)

    # legend
    y = r3 + 150
    for x, colour, what in (
        (40, BELT, "belt firmware"), (200, HOST, "host: the live path and sessions"),
        (480, TOOL, "around it: device commands, simulator, offline analysis"),
        (920, CUE, "the hip-drop cue"), (1070, WIRE, "the links"),
    ):
        s.rect(Box(x, y - 11, 22, 14), "#ffffff", colour, 2.5, 3)
        s.text(x + 30, y, what, 12, INK)
    s.text(40, y + 28, "Arrows follow the data; dashed: commands back to the belt, and "
           "the simulated belt standing in for a real one. Imports flow one way: the core "
           "(protocol, plans,", 11.5, MUTED, italic=True)
    s.text(40, y + 44, "engine, scoring, session) imports no transport, thread or UI; only "
           "tui/ imports Textual; only transports/ble_link.py and blerig/ import bleak "
           "(tests/test_architecture.py).", 11.5, MUTED, italic=True)
    return s.render()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="draw docs/architecture.svg")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/architecture.svg differs from a fresh drawing")
    args = parser.parse_args(argv)
    svg = draw()
    if args.check:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != svg:
            print(f"{OUT.name} is stale: run python docs/make_architecture_svg.py",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(svg, encoding="utf-8")
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
