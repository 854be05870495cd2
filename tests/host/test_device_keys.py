"""The host's key store: where keys live, who may read them, and what it refuses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from levelbelt import keys
from levelbelt.errors import ConfigError


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_keys_live_under_the_config_dir_override(config: Path) -> None:
    assert keys.key_path("LevelBelt-1A2B") == config / "belts" / "LevelBelt-1A2B.key"


def test_without_the_override_keys_live_in_dot_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LEVELBELT_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keys.key_path("LevelBelt-1A2B") == (
        tmp_path / ".config" / "levelbelt" / "belts" / "LevelBelt-1A2B.key"
    )


def test_a_stored_key_is_private_and_reads_back(config: Path) -> None:
    key = os.urandom(32)
    path = keys.store_key("LevelBelt-1A2B", key)
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.load_key("LevelBelt-1A2B") == key


def test_a_loose_belts_directory_is_made_private(config: Path) -> None:
    (config / "belts").mkdir(parents=True, mode=0o755)
    os.chmod(config / "belts", 0o755)
    keys.store_key("LevelBelt-1A2B", bytes(32))
    assert stat.S_IMODE((config / "belts").stat().st_mode) == 0o700


def test_an_existing_key_is_replaced_only_with_force() -> None:
    keys.store_key("LevelBelt-1A2B", bytes(32))
    with pytest.raises(keys.KeyStoreError, match="already holds a key for LevelBelt-1A2B"):
        keys.store_key("LevelBelt-1A2B", bytes([1]) * 32)
    assert keys.load_key("LevelBelt-1A2B") == bytes(32)
    keys.store_key("LevelBelt-1A2B", bytes([1]) * 32, force=True)
    assert keys.load_key("LevelBelt-1A2B") == bytes([1]) * 32


def test_a_discarded_pending_key_leaves_the_store_as_it_was() -> None:
    keys.store_key("LevelBelt-1A2B", bytes(32))
    pending = keys.PendingKey("LevelBelt-1A2B", bytes([7]) * 32, force=True)
    pending.discard()
    assert keys.load_key("LevelBelt-1A2B") == bytes(32)
    assert sorted(p.name for p in keys.belts_dir().iterdir()) == ["LevelBelt-1A2B.key"]


def test_a_committed_pending_key_replaces_the_old_one_whole() -> None:
    keys.store_key("LevelBelt-1A2B", bytes(32))
    pending = keys.PendingKey("LevelBelt-1A2B", bytes([7]) * 32, force=True)
    assert keys.load_key("LevelBelt-1A2B") == bytes(32), "nothing changes before commit"
    pending.commit()
    assert keys.load_key("LevelBelt-1A2B") == bytes([7]) * 32


def test_loading_a_key_never_provisioned_says_how_to_provision() -> None:
    with pytest.raises(keys.KeyStoreError, match=r"no key for LevelBelt-1A2B .*device provision"):
        keys.load_key("LevelBelt-1A2B")


def test_a_key_file_of_the_wrong_length_is_refused() -> None:
    path = keys.key_path("LevelBelt-1A2B")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    with pytest.raises(keys.KeyStoreError, match="holds 33 bytes, not a 32-byte key"):
        keys.load_key("LevelBelt-1A2B")


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x" * 65, "name with space"])
def test_names_that_are_not_plain_file_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="is not usable"):
        keys.key_path(name)


def test_only_whole_32_byte_keys_are_stored() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        keys.store_key("LevelBelt-1A2B", bytes(16))
