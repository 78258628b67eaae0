"""The online migration engine: pure Python, never imports Django.

Public API: :class:`GhostConfig`, :class:`Migrator` (``Migrator(config).run()``), its
:class:`MigrationResult`, the :class:`ProgressSnapshot` given to progress callbacks, and
the error classes.
"""

from __future__ import annotations

from .config import GhostConfig, merge_layers, parse_value
from .errors import (
    AbortedError,
    BinlogError,
    ChecksumMismatchError,
    ConfigError,
    CutOverError,
    DataError,
    GhostError,
    PreflightError,
    UnsupportedAlterError,
)
from .migrator import Migrator, run_migration
from .progress import ProgressSnapshot
from .result import MigrationResult

__all__ = [
    "AbortedError",
    "BinlogError",
    "ChecksumMismatchError",
    "ConfigError",
    "CutOverError",
    "DataError",
    "GhostConfig",
    "GhostError",
    "MigrationResult",
    "Migrator",
    "PreflightError",
    "ProgressSnapshot",
    "UnsupportedAlterError",
    "merge_layers",
    "parse_value",
    "run_migration",
]
