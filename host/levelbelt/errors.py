"""One exception root so the CLI and TUI can show a one-line message for expected failures."""

from __future__ import annotations

from pathlib import Path


class LevelBeltError(Exception):
    """Expected failure with a message fit for the user (no traceback shown)."""


class InputFileError(LevelBeltError):
    """A file the user gave us is unusable; names the file and, when known, the row."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


class ConfigError(LevelBeltError):
    """A setting or option is out of range or malformed."""


class LinkError(LevelBeltError):
    """The belt link failed (port gone, belt not found, timeout)."""


class PlanError(ConfigError):
    """A drill plan is unusable; names the file, the line or key path, and what is allowed."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class RecordFormatError(LevelBeltError):
    """A stored record (drill event, score) does not have the expected shape."""
