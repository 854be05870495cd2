"""The documentation stays true to the code: links, commands, and the firmware's figures.

A reader follows the guides in order (README, building, flashing, wearing, drills,
dashboard, reviewing, troubleshooting, safety) and types what they show. So every
relative link must lead to a file (and heading), every `levelbelt` command must name
subcommands and options that exist (and the full commands in code blocks must parse),
the `esptool` and `mpremote` commands must use commands those tools have, and the
figures the guides quote from the firmware (the haptic pattern table, the battery
thresholds, the motor caps, the installed file count) must be the firmware's own.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mpremote.main
import pytest

from levelbelt.cli import build_parser
from levelbelt.firmware import belt_module

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [ROOT / "README.md", ROOT / "firmware" / "README.md", ROOT / "hardware" / "README.md",
     *(ROOT / "hardware").glob("*.md"), *(ROOT / "docs").glob("*.md")]
)
DOCS = sorted(set(DOCS))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.+)$", text, re.M)}


def test_every_relative_link_leads_to_a_file_and_heading() -> None:
    broken = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, fragment = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{_rel(doc)}: {target} (no such file)")
            elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
                broken.append(f"{_rel(doc)}: {target} (no such heading)")
    assert broken == []


def test_every_repository_path_named_in_the_docs_exists() -> None:
    path = re.compile(
        r"(?<![\w/.~-])(?:\.\./)?((?:docs|hardware|firmware|host|tests|benchmarks)/"
        r"[\w./-]*\.(?:md|py|svg|csv|toml|mjs|png))"
    )
    missing = []
    for doc in DOCS:
        for name in path.findall(doc.read_text(encoding="utf-8")):
            if "NAME" in name:
                continue  # benchmarks/NAME.py
            if not any(p.exists() for p in (ROOT / name, ROOT / "firmware" / name)):
                missing.append(f"{_rel(doc)}: {name}")
    assert missing == []


# --- commands ---------------------------------------------------------------------------


def _shell_lines(block: str) -> Iterator[str]:
    """Commands in a code block: continuation lines joined, prompts and comments dropped."""
    joined = block.replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip().removeprefix("$ ")
        if line and not line.startswith("#"):
            yield re.split(r"\s+#\s", line, maxsplit=1)[0].strip()


def _commands(tool: str) -> Iterator[tuple[str, str, bool]]:
    """(doc, command, whole) for each `tool ...` in the docs; `whole`: from a code block,
    so it is meant to be typed as it stands (inline mentions may name only a part)."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in FENCE.findall(text):
            for line in _shell_lines(block):
                if line.startswith(tool + " "):
                    yield _rel(doc), line, True
        for span in SPAN.findall(FENCE.sub("", text)):
            if span.startswith(tool + " "):
                yield _rel(doc), span.strip(), False


def _tokens(command: str) -> list[str]:
    """Tokens with the docs' placeholders made typeable: `[--json]` -> `--json`,
    `[DIR|FILE]` -> `DIR`."""
    out = []
    for token in shlex.split(command):
        token = token.strip("[]")
        if "|" in token and not token.startswith("-"):
            token = token.split("|", 1)[0]
        if token:
            out.append(token)
    return out


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def _unknown_parts(tokens: list[str]) -> list[str]:
    """Subcommands and options in `levelbelt ...` tokens that the CLI does not have."""
    parser = build_parser()
    path = ["levelbelt"]
    bad = []
    expect_sub = True
    for token in tokens[1:]:
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            if name not in _options(parser):
                bad.append(f"{' '.join(path)} has no {name}")
            continue
        subs = _subparsers(parser)
        if expect_sub and subs:
            if token not in subs:
                bad.append(f"{' '.join(path)} has no subcommand {token}")
                return bad
            parser = subs[token]
            path.append(token)
            continue
        expect_sub = False  # a positional value: no subcommands after it
    return bad


LEVELBELT_COMMANDS = sorted(set(_commands("levelbelt")))


def test_the_docs_show_levelbelt_commands() -> None:
    shown = {c for _, c, _ in LEVELBELT_COMMANDS}
    for needed in ("levelbelt device flash", "levelbelt device install",
                   "levelbelt device provision", "levelbelt device info",
                   "levelbelt dashboard", "levelbelt review"):
        assert any(c.startswith(needed) for c in shown), needed


@pytest.mark.parametrize(("doc", "command", "whole"), LEVELBELT_COMMANDS,
                         ids=[f"{d}:{c}" for d, c, _ in LEVELBELT_COMMANDS])
def test_each_levelbelt_command_in_the_docs_exists_with_those_options(
    doc: str, command: str, whole: bool
) -> None:
    tokens = _tokens(command)
    assert _unknown_parts(tokens) == [], f"{doc}: {command}"
    if whole:
        try:
            build_parser().parse_args(tokens[1:])
        except SystemExit as e:  # argparse's way of refusing
            pytest.fail(f"{doc}: `{command}` does not parse (exit {e.code})")


def test_esptool_commands_in_the_docs_are_esptool_5_commands() -> None:
    shown = list(_commands("esptool"))
    assert shown, "the manual flashing steps show esptool"
    helptext = subprocess.run(
        [sys.executable, "-m", "esptool", "--help"], capture_output=True, text=True,
        check=False, timeout=60,
    ).stdout
    listed = set(re.findall(r"^\W*([a-z][a-z0-9-]+)\s{2,}", helptext, re.M))
    for doc, command, _ in shown:
        tokens = shlex.split(command)
        sub = next(t for i, t in enumerate(tokens[1:], 1)
                   if not t.startswith("-") and not tokens[i - 1].startswith("-"))
        assert sub in listed, f"{doc}: `{command}`: esptool has no command {sub}"


def test_mpremote_commands_in_the_docs_are_mpremote_commands() -> None:
    known = set(mpremote.main._COMMANDS) | set(mpremote.main._BUILTIN_COMMAND_EXPANSIONS)
    shown = list(_commands("mpremote"))
    assert shown
    for doc, command, _ in shown:
        words = command.split()
        if words[1] == "connect":
            if len(words) < 4:
                continue  # "mpremote connect PORT": the REPL
            words = words[2:]
        assert words[1] in known, f"{doc}: `{command}`: mpremote has no command {words[1]}"


# --- figures the guides quote from the firmware ---------------------------------------------


def _section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def _steps(cell: str, mask: int) -> tuple[tuple[int, int, int], ...]:
    """`three ticks: 80 / 170, 80 / 170, 80` -> ((mask, 80, 170), ..., (mask, 80, 0)).
    `60 / 90 (times) 4, 60` repeats a step; `left motor 250` is one pulse."""
    times = cell.replace("*", "").split(":", 1)[-1]
    steps: list[tuple[int, int, int]] = []
    for part in times.split(","):
        m = re.fullmatch(
            r"\D*?(\d+)(?:\s*/\s*(\d+))?(?:\s*\N{MULTIPLICATION SIGN}\s*(\d+))?\s*", part
        )
        assert m, f"cannot read {part!r} in {cell!r}"
        on, off, times_ = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 1)
        steps.extend([(mask, on, off)] * times_)
    return tuple(steps)


def test_the_haptic_pattern_table_in_firmware_readme_is_the_firmwares() -> None:
    haptics = belt_module("haptics")
    text = (ROOT / "firmware" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+)[^|]*\| ([^|]+)\| ([^|]+)\|$",
                      _section(text, "## Haptic patterns"), re.M)
    assert [int(r[0]) for r in rows] == list(range(1, haptics.PAT_COUNT + 1))
    for pid, name, two, one in rows:
        assert getattr(haptics, "PAT_" + name) == int(pid)
        two_mask = 1 if "left" in two else 2 if "right" in two else 3
        assert _steps(two, two_mask) == haptics._TWO[int(pid)], name
        one_steps = _steps(two if one.strip() == "same" else one, 1)
        assert tuple((1, on, off) for _, on, off in haptics._ONE[int(pid)]) == one_steps, name


def test_the_athletes_buzz_table_names_every_pattern_with_the_firmwares_rhythm() -> None:
    haptics = belt_module("haptics")
    text = (ROOT / "docs" / "drills.md").read_text(encoding="utf-8")
    table = _section(text, "## What the buzzes mean")
    named = re.findall(r"^\|[^|]+\| ([A-Z_]+) \|", table, re.M)
    assert sorted(named) == sorted(
        n[4:] for n in dir(haptics) if n.startswith("PAT_") and n != "PAT_COUNT"
    )
    # One motor tells the side by rhythm: one long pulse left, two short right.
    assert "one long" in table and "two short" in table
    assert len(haptics._ONE[haptics.PAT_DROP_LEFT]) == 1
    assert len(haptics._ONE[haptics.PAT_DROP_RIGHT]) == 2


def test_motor_caps_quoted_in_the_guides_are_the_firmwares() -> None:
    haptics = belt_module("haptics")
    assert (haptics.MAX_ON_MS, haptics.DUTY_BUDGET_MS, haptics.WINDOW_MS) == (500, 4000, 10000)
    assert haptics.BACKSTOP_MS == 520 and haptics.COOLDOWN_MS == 5000
    for name in ("firmware/README.md", "docs/safety.md", "hardware/README.md",
                 "hardware/power.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "500 ms" in text and "4 s" in text and "10 s" in text, name


def test_battery_thresholds_quoted_in_the_guides_are_the_firmwares() -> None:
    battery = belt_module("battery")
    low, critical = battery.LOW_MV / 1000, battery.CRITICAL_MV / 1000
    clear = battery.HYSTERESIS_MV / 1000
    text = (ROOT / "firmware" / "README.md").read_text(encoding="utf-8")
    for volts in (low, low + clear, critical, critical + clear):
        assert f"{volts:.2f} V" in text, volts
    assert battery.REMIND_MS == 5 * 60 * 1000 and "every 5 minutes" in text
    drills = (ROOT / "docs" / "drills.md").read_text(encoding="utf-8")
    assert "every 5 minutes" in drills


def test_the_detector_defaults_quoted_to_the_athlete_are_the_firmwares() -> None:
    detector = belt_module("detector")
    text = " ".join((ROOT / "docs" / "drills.md").read_text(encoding="utf-8").split())
    threshold = detector.DEFAULT_THRESHOLD_CDEG // 100
    release = detector.DEFAULT_RELEASE_CDEG // 100
    assert f"threshold ({threshold}° unless the coach changed it)" in text
    assert f"for {detector.DEFAULT_DWELL_MS} ms" in text
    assert f"back {release}° inside the threshold ({threshold - release}°" in text


def test_the_install_example_in_flashing_md_counts_the_firmwares_files() -> None:
    firmware = ROOT / "firmware"
    modules = [p for p in (firmware / "belt").rglob("*.py") if "__pycache__" not in p.parts]
    total = len(modules) + len(list(firmware.glob("*.py")))
    main_size = (firmware / "main.py").stat().st_size
    text = (ROOT / "docs" / "flashing.md").read_text(encoding="utf-8")
    assert f"copied /main.py ({main_size} bytes, from main.py)" in text
    assert f"0 of {total} files up to date; copied {total};" in text
    assert f"`{total} of {total} files up to date`" in text
