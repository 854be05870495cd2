"""`levelbelt device install`: the firmware onto a board, copying only what changed.

Layout on the board: the `belt` package compiled to `/lib/belt/*.mpy` (smaller, no
compile step at boot, less RAM), `/main.py` as source (MicroPython runs main.py, never
main.mpy). A file is copied when the SHA-256 the board computes of its copy differs from
the local file's; each is written as `<name>.new` and renamed, so an unplugged cable
leaves every file either old or new. Files under /lib/belt that are not part of this
firmware are removed (a stale `x.py` would shadow `x.mpy`), and so is a `/belt` package
from an older install layout (it would shadow `/lib/belt`). Settings and `/belt.key` are
never touched.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from levelbelt.device.errors import BoardCommandError
from levelbelt.device.mpy import Compiler, check_loadable, compile_module, compiler
from levelbelt.device.probe import SystemFacts, system_facts
from levelbelt.device.repl import Board
from levelbelt.errors import LinkError

PACKAGE: Final = "belt"
LIB: Final = "/lib"
OLD_PACKAGE_DIR: Final = "/belt"

# {path: sha256 hex or None when absent}; {"": false} when the board has no sha256.
HASH_SNIPPET: Final = """\
import json, binascii
try:
    from hashlib import sha256
except ImportError:
    sha256 = None
def _h(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    d = sha256()
    b = bytearray(512)
    v = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        d.update(v[:n])
    f.close()
    return binascii.hexlify(d.digest()).decode()
print(json.dumps({p: _h(p) for p in %r} if sha256 else {'': False}))
"""

# Every file below the given directories (recursively), and which of them exist.
LIST_SNIPPET: Final = """\
import os, json
def _walk(d, out):
    try:
        it = list(os.ilistdir(d))
    except OSError:
        return False
    for e in it:
        p = d + '/' + e[0]
        if e[1] & 0x4000:
            out.append(p + '/')
            _walk(p, out)
        else:
            out.append(p)
    return True
r = {}
for d in %r:
    out = []
    r[d] = out if _walk(d, out) else None
print(json.dumps(r))
"""

MKDIR_SNIPPET: Final = """\
import os
for d in %r:
    try:
        os.mkdir(d)
    except OSError:
        if not os.stat(d)[0] & 0x4000:
            raise
"""

RENAME_SNIPPET: Final = """\
import os
try:
    os.rename(%r, %r)
except OSError:
    os.remove(%r)
    os.rename(%r, %r)
"""

REMOVE_SNIPPET: Final = """\
import os
for p in %r:
    if p.endswith('/'):
        os.rmdir(p[:-1])
    else:
        os.remove(p)
"""


@dataclass(frozen=True)
class Payload:
    """One file as it will be on the board."""

    remote: str  # "/lib/belt/app.mpy"
    data: bytes
    source: str  # firmware-relative source, "belt/app.py"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class InstallReport:
    board: SystemFacts
    total: int = 0
    up_to_date: int = 0
    copied: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    hashed_on_board: bool = True

    def summary(self) -> str:
        parts = [f"{self.up_to_date} of {self.total} files up to date"]
        if self.copied:
            parts.append(f"copied {len(self.copied)}")
        if self.removed:
            parts.append(f"removed {len(self.removed)}")
        return "; ".join(parts)


def _sources(firmware: Path) -> tuple[list[Path], list[Path]]:
    package = sorted(
        p for p in (firmware / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts
    )
    root = sorted(firmware.glob("*.py"))
    if not package or not any(p.name == "main.py" for p in root):
        raise LinkError(f"{firmware} does not hold the firmware (main.py and {PACKAGE}/)")
    return package, root


def build_payload(firmware: Path, arch: str | None) -> list[Payload]:
    """The package compiled for `arch` (None: bytecode only), then main.py as source."""
    package, root = _sources(firmware)
    files: list[Payload] = []
    with tempfile.TemporaryDirectory(prefix="levelbelt-mpy-") as tmp:
        for i, src in enumerate(package):
            rel = src.relative_to(firmware).as_posix()
            data = compile_module(src, rel, arch, Path(tmp) / f"{i}.mpy")
            files.append(Payload(f"{LIB}/{rel[:-3]}.mpy", data, rel))
    files.extend(Payload(f"/{src.name}", src.read_bytes(), src.name) for src in root)
    return files


def _parent_dirs(paths: Iterable[str]) -> list[str]:
    dirs: set[str] = set()
    for p in paths:
        parts = p.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/" + "/".join(parts[:i]))
    return sorted(dirs, key=lambda d: (d.count("/"), d))


def board_hashes(board: Board, paths: list[str]) -> dict[str, str | None] | None:
    """SHA-256 of each path as the board computes it; None if the board has no sha256."""
    reply: Any = board.eval_json(HASH_SNIPPET % (paths,))
    if not isinstance(reply, dict):
        raise LinkError("the board's file hashes were not understood")
    if reply.get("") is False:
        return None
    return {p: reply.get(p) if isinstance(reply.get(p), str) else None for p in paths}


def _stale(board: Board, wanted: set[str]) -> list[str]:
    """Files (and then empty dirs) to delete: not ours under /lib/belt, all of /belt."""
    ours = f"{LIB}/{PACKAGE}"
    listing: Any = board.eval_json(LIST_SNIPPET % ([ours, OLD_PACKAGE_DIR],))
    if not isinstance(listing, dict):
        raise LinkError("the board's file listing was not understood")
    wanted_dirs = {d + "/" for d in _parent_dirs(wanted)}
    doomed: list[str] = []
    for entry in listing.get(ours) or []:
        if entry.endswith("/"):
            if entry not in wanted_dirs:
                doomed.append(entry)
        elif entry not in wanted:
            doomed.append(entry)
    old = listing.get(OLD_PACKAGE_DIR)
    if old is not None:
        doomed.extend([*old, OLD_PACKAGE_DIR + "/"])
    files = [p for p in doomed if not p.endswith("/")]
    dirs = sorted((p for p in doomed if p.endswith("/")), key=lambda d: -d.count("/"))
    return files + dirs


def install(
    board: Board,
    firmware: Path,
    *,
    force: bool = False,
    say: Callable[[str], None] = print,
    comp: Compiler | None = None,
) -> InstallReport:
    """Bring the board's copy of `firmware` up to date; what was done, for the summary."""
    facts = system_facts(board)
    comp = comp or compiler()
    check_loadable(facts.version, facts.abi, comp)
    assert facts.abi is not None  # check_loadable refuses boards without .mpy support
    arch = facts.abi.arch
    say(
        f"board: MicroPython {facts.version} ({facts.abi}, {arch or 'bytecode only'}) "
        f"on {facts.machine}"
    )
    if facts.version_tuple[:2] < (1, 27):
        say(
            f"note: the firmware is tested on MicroPython 1.27; this board runs {facts.version} "
            "(its .mpy format matches, so it is installed anyway)"
        )
    payload = build_payload(firmware, arch)
    report = InstallReport(board=facts, total=len(payload))
    remote_paths = [f.remote for f in payload]
    hashes = None if force else board_hashes(board, remote_paths)
    if hashes is None and not force:
        report.hashed_on_board = False
        say("the board has no hashlib.sha256: copying every file")
    board.exec(MKDIR_SNIPPET % (_parent_dirs(remote_paths),))
    for f in payload:
        if hashes is not None and hashes.get(f.remote) == f.sha256:
            report.up_to_date += 1
            continue
        temp = f.remote + ".new"
        board.write_file(temp, f.data)
        board.exec(RENAME_SNIPPET % (temp, f.remote, f.remote, temp, f.remote))
        report.copied.append(f.remote)
        say(f"copied {f.remote} ({len(f.data)} bytes, from {f.source})")
    stale = _stale(board, set(remote_paths))
    if stale:
        board.exec(REMOVE_SNIPPET % (stale,))
        report.removed = stale
        for p in stale:
            say(f"removed {p} (not part of this firmware)")
    if report.copied:
        check = board_hashes(board, report.copied)
        if check is not None:
            want = {f.remote: f.sha256 for f in payload}
            bad = [p for p in report.copied if check.get(p) != want[p]]
            if bad:
                raise BoardCommandError(
                    f"{', '.join(bad)} did not read back as written: run install again"
                )
    return report
