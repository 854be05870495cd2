"""Run tests/firmware on the real MicroPython 1.27 interpreter (WebAssembly build via node).

The same files also run on CPython under pytest; this tier catches code that only works on
CPython. Every `def test_*` in those files must PASS there, so a test that silently does not
run counts as a failure too.
"""

import json
import re

from node_tools import ROOT, require_node, run_captured

RUNNER = ROOT / "tests" / "mpy" / "run_mpy.mjs"
TEST_DEF = re.compile(r"^def (test_\w+)\s*\(", re.MULTILINE)  # same rule as run_mpy.mjs


def test_firmware_tests_pass_on_micropython() -> None:
    node = require_node()
    files = sorted((ROOT / "tests" / "firmware").glob("test_*.py"))
    expected = sum(len(TEST_DEF.findall(f.read_text(encoding="utf-8"))) for f in files)
    assert expected > 0, "no `def test_*` found in tests/firmware/test_*.py"

    proc, output = run_captured([node, str(RUNNER), *map(str, files)])
    lines = proc.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, ValueError):
        status = proc.returncode
        raise AssertionError(f"runner gave no JSON summary (exit {status})\n{output}") from None

    assert summary["failed"] == 0, (
        "failed on MicroPython:\n  " + "\n  ".join(summary["errors"]) + f"\n{output}"
    )
    assert summary["passed"] == expected, (
        f"{summary['passed']} of {expected} firmware tests passed on MicroPython\n{output}"
    )
    assert proc.returncode == 0, output
