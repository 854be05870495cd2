"""`levelbelt` command line: one entry point, subcommands, one-line errors.

Expected failures (bad files, bad options, no belt) print `levelbelt: error: ...` and
exit 2; only real bugs produce a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from levelbelt import __version__
from levelbelt.errors import LevelBeltError

EXIT_USAGE = 2


def _cmd_analyze(args: argparse.Namespace) -> int:
    from levelbelt.analyze import DetectorSettings, analyze, write_outputs
    from levelbelt.rawcsv import read_raw_csv

    settings = DetectorSettings(
        threshold_deg=args.threshold_deg,
        dwell_ms=args.dwell_ms,
        release_deg=args.release_deg,
        stance=args.stance,
    )
    rec = read_raw_csv(Path(args.raw))
    result = analyze(rec, settings, mount=args.mount)
    tilt_path, events_path = write_outputs(result, Path(args.out))
    print(f"{len(result.t_s)} samples at {result.rate_hz} Hz, {len(result.events)} drop(s)")
    print(tilt_path)
    print(events_path)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from levelbelt.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="levelbelt", description="LevelBelt companion")
    p.add_argument("--version", action="version", version=f"levelbelt {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="run a raw IMU recording through the belt's algorithms")
    a.add_argument("raw", help="CSV with t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps")
    a.add_argument("--out", required=True, help="output directory for tilt.csv and events.csv")
    a.add_argument("--threshold-deg", type=float, default=5.0)
    a.add_argument("--dwell-ms", type=int, default=150)
    a.add_argument("--release-deg", type=float, default=1.0)
    a.add_argument("--stance", choices=("left", "right", "either"), default="either",
                   help="standing leg; default: excursions to either side count")
    a.add_argument("--mount", default="+x+y",
                   help="sensor axis pointing right then up, e.g. +x+y (default clip); "
                   "write a mount starting with '-' as --mount=-z+x")
    a.set_defaults(func=_cmd_analyze)

    d = sub.add_parser("demo", help="live drill dashboard on the simulated belt")
    d.add_argument("--weak-side", choices=("left", "right", "none"), default="right")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--speed", type=float, default=1.0, help="simulated time per real second")
    d.add_argument("--duration", type=float, default=0.0,
                   help="stop after this many simulated seconds (0: until quit)")
    d.add_argument("--headless", action="store_true", help="no UI: print a summary")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except LevelBeltError as e:
        print(f"levelbelt: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
