"""The online migration engine: pure Python, never imports Django.

Public API: :class:`GhostConfig` and the error classes. The migrator and its result type
are added here as they land.
"""

from __future__ import annotations

from .config import GhostConfig, merge_layers, parse_value
from .errors import (
    AbortedError,
    ChecksumMismatchError,
    ConfigError,
    CutOverError,
    DataError,
    GhostError,
    PreflightError,
    UnsupportedAlterError,
)

__all__ = [
    "AbortedError",
    "ChecksumMismatchError",
    "ConfigError",
    "CutOverError",
    "DataError",
    "GhostConfig",
    "GhostError",
    "PreflightError",
    "UnsupportedAlterError",
    "merge_layers",
    "parse_value",
]
