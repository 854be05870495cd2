"""The host's store of per-belt command keys: one private file per belt.

`levelbelt device provision` puts a new 32-byte key on the belt (`/belt.key`) and here
(`~/.config/levelbelt/belts/<belt-name>.key`, or under `$LEVELBELT_CONFIG_DIR`); every
command sent to that belt is tagged with it (docs/protocol.md). The file holds the 32
raw bytes, is 0600 in a 0700 directory, and is written new-then-rename, so a crash never
leaves half a key behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path
from typing import Final

from levelbelt.errors import ConfigError, LevelBeltError

CONFIG_ENV: Final = "LEVELBELT_CONFIG_DIR"
KEY_BYTES: Final = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyStoreError(LevelBeltError):
    """A key file is missing, unreadable, damaged or in the way."""


def config_dir() -> Path:
    """`$LEVELBELT_CONFIG_DIR`, else `~/.config/levelbelt`."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path.home() / ".config" / "levelbelt"


def belts_dir() -> Path:
    return config_dir() / "belts"


def check_belt_name(name: str) -> str:
    """The name becomes a file name: letters, digits, '.', '_', '-' only (max 64)."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"belt name {name!r} is not usable: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. LevelBelt-1A2B)"
        )
    return name


def key_path(name: str) -> Path:
    return belts_dir() / f"{check_belt_name(name)}.key"


def has_key(name: str) -> bool:
    return key_path(name).exists()


def stored_belts() -> list[str]:
    """Names of the belts with a key on this host, sorted."""
    folder = belts_dir()
    return sorted(k.stem for k in folder.glob("*.key")) if folder.is_dir() else []


def load_key(name: str) -> bytes:
    """The belt's key; a clear error when it was never provisioned here or is damaged."""
    path = key_path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyStoreError(
            f"no key for {name} in {path.parent}: provision the belt over USB first "
            "(levelbelt device provision)"
        ) from None
    except OSError as e:
        raise KeyStoreError(f"cannot read {path}: {e.strerror}") from None
    if len(data) != KEY_BYTES:
        raise KeyStoreError(
            f"{path} holds {len(data)} bytes, not a {KEY_BYTES}-byte key: provision the belt "
            "again (levelbelt device provision --force)"
        )
    return data


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)


def _write_private(path: Path, data: bytes) -> None:
    """Write a fresh 0600 file (never through an existing one) and fsync it."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


class PendingKey:
    """A key written next to its final place, made current by `commit()`.

    Provisioning writes the belt between the two steps: if that fails, `discard()` leaves
    the host exactly as it was; once the belt holds the key, `commit()` renames it in.
    """

    def __init__(self, name: str, key: bytes, *, force: bool) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a belt key is {KEY_BYTES} bytes, got {len(key)}")
        self.path = key_path(name)
        if self.path.exists() and not force:
            raise KeyStoreError(
                f"{self.path} already holds a key for {name}: --force replaces it (the "
                "belt then needs the new key, and other computers with the old one stop "
                "working)"
            )
        _private_dir(self.path.parent)
        self._new = self.path.with_name(self.path.name + ".new")
        try:
            _write_private(self._new, key)
        except OSError as e:
            raise KeyStoreError(f"cannot write {self._new}: {e.strerror}") from None

    def commit(self) -> Path:
        try:
            os.replace(self._new, self.path)
        except OSError as e:
            raise KeyStoreError(f"cannot move the key into {self.path}: {e.strerror}") from None
        return self.path

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._new.unlink()


def store_key(name: str, key: bytes, *, force: bool = False) -> Path:
    """Store `key` for `name` in one step (0600); refuses to replace one unless `force`."""
    pending = PendingKey(name, key, force=force)
    return pending.commit()
