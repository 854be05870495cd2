"""`levelbelt` command line: one entry point, subcommands, one-line errors.

Expected failures (bad files, bad options, no belt) print `levelbelt: error: ...` and
exit 2; only real bugs produce a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from levelbelt import __version__
from levelbelt.device.cli import add_device_parser
from levelbelt.errors import ConfigError, InputFileError, LevelBeltError
from levelbelt.safe_text import one_line
from levelbelt.transports.link_cli import add_link_parsers

if TYPE_CHECKING:
    from levelbelt.weaker_side import WeakerSide

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


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from levelbelt.tui.app import DashboardApp

    DashboardApp(start=args.screen).run()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from levelbelt.demo import run_demo

    return run_demo(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from levelbelt.history import split_problems
    from levelbelt.session import export_csv, read_session

    session = read_session(Path(args.file))
    for path in export_csv(session, Path(args.csv), force=args.force):
        print(path)
    if not session.complete:
        print(f"note: {args.file} has no summary (the session did not end cleanly)",
              file=sys.stderr)
    # A last line cut off when the writer stopped is expected damage (docs/reviewing.md).
    expected, damaged = split_problems(session.problems)
    for problem in expected:
        print(f"note: {problem}", file=sys.stderr)
    replace(session, problems=tuple(damaged)).raise_for_problems()
    return 0


def _plan_weaker_side(args: argparse.Namespace) -> WeakerSide | None:
    """`plans show`: --weak-side set by hand wins, else --athlete's saved sessions
    (a side confirmed over 3 sessions), else unknown (None)."""
    from levelbelt.weaker_side import resolve_weaker_side

    if args.weak_side is not None:
        return resolve_weaker_side([], manual=args.weak_side)
    if args.athlete is None:
        if args.sessions is not None:
            raise ConfigError("--sessions needs --athlete: whose sessions to read")
        return None
    from levelbelt.history import sessions_dir, weaker_side_from_sessions

    folder = args.sessions if args.sessions is not None else sessions_dir()
    if args.sessions is not None and not folder.is_dir():
        raise InputFileError(folder, "no such folder")
    return weaker_side_from_sessions(args.athlete, folder)


def _cmd_plans(args: argparse.Namespace) -> int:
    from levelbelt.plan_text import list_text, show_text, summary_line
    from levelbelt.plans import expand, load_plan_file, resolve_plan

    action = args.plans_command or "list"
    if action == "list":
        print(list_text())
    elif action == "show":
        print(show_text(expand(resolve_plan(args.plan), _plan_weaker_side(args))))
    else:
        for name in args.files:
            print(f"{name}: ok: {summary_line(expand(load_plan_file(Path(name))))}")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from levelbelt.review import run_review

    return run_review(Path(args.path) if args.path else None, args.json)


def _cmd_report(args: argparse.Namespace) -> int:
    from levelbelt.report_html import run_report

    return run_report(Path(args.file), Path(args.html), force=args.force)


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
    d.add_argument("--belts", type=int, default=1, metavar="N",
                   help="simulated athletes at once, 1-4 (more than one opens the coach grid)")
    d.add_argument("--plan", default=None, metavar="NAME",
                   help="drill plan the simulated athletes follow (built-in name or .toml); "
                   "the dashboard default is glute-iso-quick")
    d.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="folder for the session files (default: the dashboard's sessions "
                   "folder, see `levelbelt review`)")
    d.add_argument("--athlete", default="demo",
                   help="athlete name in the session file of a headless plan run "
                   "(default: demo)")
    d.set_defaults(func=_cmd_demo)

    db = sub.add_parser("dashboard", help="the terminal dashboard for real belts: connect, "
                        "calibrate, drill, coach grid, review, settings")
    db.add_argument("--screen", default="connect",
                    choices=("connect", "drill", "grid", "review", "settings"),
                    help="screen to open first (default: connect)")
    db.set_defaults(func=_cmd_dashboard)

    x = sub.add_parser("export", help="a session file as CSV files for spreadsheets")
    x.add_argument("file", help="session file (.lbs)")
    x.add_argument("--csv", required=True, metavar="OUT",
                   help="output directory for samples.csv, events.csv, scores.csv, gaps.csv "
                   "and session.json")
    x.add_argument("--force", action="store_true", help="replace the files in an existing OUT")
    x.set_defaults(func=_cmd_export)

    pl = sub.add_parser("plans", help="drill plans: list the built-ins, show or check one")
    pl.set_defaults(func=_cmd_plans, plans_command=None)
    pls = pl.add_subparsers(dest="plans_command")
    pls.add_parser("list", help="the built-in plans with duration and description")
    show = pls.add_parser("show", help="a plan's phases, expanded for an athlete")
    show.add_argument("plan", metavar="NAME|FILE", help="built-in name or TOML file")
    show.add_argument("--weak-side", choices=("left", "right", "none"), default=None,
                      help="the athlete's weaker side, set by hand (default: from --athlete's "
                      "sessions, else unknown: equal volume)")
    show.add_argument("--athlete", default=None, metavar="NAME",
                      help="take the weaker side from this athlete's saved sessions "
                      "(confirmed over 3 sessions)")
    show.add_argument("--sessions", type=Path, default=None, metavar="DIR",
                      help="folder of those sessions (default: the saved sessions, see "
                      "`levelbelt review`)")
    check = pls.add_parser("check", help="validate plan files; errors name file and key")
    check.add_argument("files", nargs="+", metavar="FILE")

    rv = sub.add_parser("review", help="saved sessions: list, per-side tables, LSI, trends")
    rv.add_argument("path", nargs="?", default=None, metavar="DIR|FILE",
                    help="a folder of session files or one file (default: sessions/ in "
                    "$LEVELBELT_DATA_DIR, $XDG_DATA_HOME/levelbelt or "
                    "~/.local/share/levelbelt)")
    rv.add_argument("--json", action="store_true",
                    help="one JSON object: per-side scores, LSI, flagged side, trend")
    rv.set_defaults(func=_cmd_review)

    rp = sub.add_parser("report", help="a session as a self-contained HTML page for sharing")
    rp.add_argument("file", help="session file (.lbs)")
    rp.add_argument("--html", required=True, metavar="OUT", help="the HTML file to write")
    rp.add_argument("--force", action="store_true", help="replace OUT if it exists")
    rp.set_defaults(func=_cmd_report)

    add_device_parser(sub)
    add_link_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except LevelBeltError as e:
        # Messages can quote files and devices: no control characters, one line.
        print(f"levelbelt: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `levelbelt review | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no 2nd at exit
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
