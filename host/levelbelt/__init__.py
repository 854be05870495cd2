"""LevelBelt host package: companion app, simulator and analysis tools."""

__version__ = "0.1.0"
