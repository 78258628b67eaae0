"""Errors raised by the engine. Every message names the cause and the remedy."""

from __future__ import annotations


class GhostError(Exception):
    """Root of every error the engine raises on purpose."""


class ConfigError(GhostError):
    """An option is missing, unknown, mistyped or out of range."""


class PreflightError(GhostError):
    """The server, the table or the ALTER cannot be migrated online as asked."""


class UnsupportedAlterError(PreflightError):
    """The ALTER statement is malformed or does something the engine refuses to do."""


class DataError(GhostError):
    """The data does not fit the new schema (duplicates for a new UNIQUE key, NULLs for a
    new NOT NULL column, values out of range). The original table is untouched."""


class CutOverError(GhostError):
    """The cut-over could not complete within its retries; the original table is intact."""


class ChecksumMismatchError(GhostError):
    """The ghost table differs from the original before cut-over; nothing was swapped."""


class AbortedError(GhostError):
    """The migration was stopped on purpose (panic command, panic flag file, signal)."""


class BinlogError(GhostError):
    """The binary log cannot be read or holds something the engine cannot apply safely
    (compressed events, a purged file, a DDL on the migrated table)."""


class BinlogConnectionLost(BinlogError):
    """The dump connection went away and every reconnect failed: the server or the
    network is gone, so a run may resume from its checkpoint once it is back."""
