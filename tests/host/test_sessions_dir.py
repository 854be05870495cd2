"""Where sessions are kept by default: the XDG user-data folder, not the config folder,
so settings and belt keys can be copied or reset without touching health records."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from levelbelt.history import data_dir, sessions_dir
from levelbelt.keys import config_dir


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("LEVELBELT_DATA_DIR", "LEVELBELT_CONFIG_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_sessions_default_to_the_xdg_data_folder_in_home(home: Path) -> None:
    assert sessions_dir() == home / ".local" / "share" / "levelbelt" / "sessions"
    assert config_dir() == home / ".config" / "levelbelt"  # settings and keys stay there


def test_xdg_data_home_moves_them_when_it_is_absolute(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    assert sessions_dir() == home / "data" / "levelbelt" / "sessions"
    for ignored in ("", "relative/data"):  # the XDG spec: invalid, fall back
        monkeypatch.setenv("XDG_DATA_HOME", ignored)
        assert data_dir() == home / ".local" / "share" / "levelbelt"


def test_levelbelt_data_dir_overrides_both(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("LEVELBELT_DATA_DIR", str(home / "lb"))
    monkeypatch.setenv("LEVELBELT_CONFIG_DIR", str(home / "cfg"))
    assert sessions_dir() == home / "lb" / "sessions"
    assert config_dir() == home / "cfg"


def test_the_demo_saves_there_privately_and_review_reads_it_by_default(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from levelbelt.cli import main

    assert main(["demo", "--headless", "--plan", "trendelenburg-30s", "--speed", "50",
                 "--athlete", "kim"]) == 0
    path = Path(capsys.readouterr().out.splitlines()[-1])
    assert path.parent == home / ".local" / "share" / "levelbelt" / "sessions"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (".local", ".local/share", ".local/share/levelbelt",
                   ".local/share/levelbelt/sessions"):
        assert stat.S_IMODE((home / folder).stat().st_mode) == 0o700, folder
    assert not (home / ".config").exists()
    assert main(["review"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"1 session in {path.parent}") and "kim" in out
