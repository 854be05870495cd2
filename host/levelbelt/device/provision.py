"""`levelbelt device provision`: a new command key, on the belt and in the host's key store.

The key is 32 bytes from `secrets`. It goes to the belt over USB only (as `/belt.key`,
written to `/belt.key.new` and renamed, so a pulled cable never leaves half a key), is
checked by comparing the SHA-256 the board computes with the local one, and is then
moved into `~/.config/levelbelt/belts/<belt-name>.key` (0600). The key itself is never
printed or logged.

The belt's name is `LevelBelt-XXXX` from the last two bytes of its Bluetooth MAC (what it
advertises). A board without Bluetooth or Wi-Fi cannot say its name, so then `--name` is
required; when both exist they must agree, because the host finds the key by the name it
sees when it connects.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from levelbelt import keys
from levelbelt.device.errors import ProvisionError
from levelbelt.device.probe import KEY_PATH, board_name, key_size
from levelbelt.device.repl import Board
from levelbelt.errors import LinkError

KEY_NEW: Final = KEY_PATH + ".new"

WRITE_KEY_SNIPPET: Final = """\
import os
f = open(%r, 'wb')
f.write(%r)
f.close()
try:
    os.rename(%r, %r)
except OSError:
    os.remove(%r)
    os.rename(%r, %r)
"""

# The key's SHA-256 as the board computes it ("" when the board has no sha256).
KEY_HASH_SNIPPET: Final = f"""\
import json, binascii
try:
    from hashlib import sha256
except ImportError:
    sha256 = None
h = ''
if sha256:
    f = open({KEY_PATH!r}, 'rb')
    h = binascii.hexlify(sha256(f.read()).digest()).decode()
    f.close()
print(json.dumps(h))
"""

READ_KEY_SNIPPET: Final = f"""\
import binascii
f = open({KEY_PATH!r}, 'rb')
print(binascii.hexlify(f.read()).decode())
f.close()
"""


@dataclass(frozen=True)
class ProvisionReport:
    name: str
    name_source: str  # "bluetooth", "wifi" or "--name"
    host_path: Path
    replaced_on_belt: bool


def resolve_name(board: Board, given: str | None) -> tuple[str, str]:
    """(belt name, where it came from)."""
    found = board_name(board)
    if given is not None:
        keys.check_belt_name(given)
        if found.name is not None and found.name != given:
            raise ProvisionError(
                f"the belt on {board.port} is {found.name} (from its {found.source} MAC), not "
                f"{given}: drop --name, the host finds the key by the name the belt advertises"
            )
        return given, found.source or "--name"
    if found.name is None:
        raise ProvisionError(
            f"the board on {board.port} has no Bluetooth or Wi-Fi MAC to name it by: give "
            "the name with --name (e.g. --name LevelBelt-1A2B)"
        )
    return found.name, found.source or "mac"


def _board_key_digest(board: Board) -> str:
    reply: Any = board.eval_json(KEY_HASH_SNIPPET)
    if isinstance(reply, str) and reply:
        return reply
    # No sha256 on this board: read the key back and hash it here (still never shown).
    text = board.exec(READ_KEY_SNIPPET).strip().splitlines()
    try:
        data = bytes.fromhex(text[-1]) if text else b""
    except ValueError:
        data = b""
    return hashlib.sha256(data).hexdigest()


def provision(
    board: Board,
    *,
    name: str | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> ProvisionReport:
    belt, source = resolve_name(board, name)
    keys.check_belt_name(belt)
    if keys.has_key(belt) and not force:
        raise ProvisionError(
            f"{keys.key_path(belt)} already holds a key for {belt}: --force makes a new one "
            "(the old key then stops working everywhere)"
        )
    existing = key_size(board)
    if existing is not None and not force:
        raise ProvisionError(
            f"the belt {belt} already has a key ({KEY_PATH}) that this computer does not "
            "hold: --force replaces it (hosts with the old key must then be given the new one)"
        )
    key = secrets.token_bytes(keys.KEY_BYTES)
    pending = keys.PendingKey(belt, key, force=force)
    try:
        board.exec(
            WRITE_KEY_SNIPPET % (KEY_NEW, key, KEY_NEW, KEY_PATH, KEY_PATH, KEY_NEW, KEY_PATH)
        )
        if _board_key_digest(board) != hashlib.sha256(key).hexdigest():
            raise LinkError(
                f"the key read back from the belt on {board.port} does not match: run "
                "provision again"
            )
    except BaseException:
        pending.discard()
        raise
    path = pending.commit()
    say(f"belt {belt}: new key written to {KEY_PATH} and verified")
    say(f"host: key stored in {path} (0600)")
    return ProvisionReport(belt, source, path, existing is not None)
