"""Resuming a killed run: take over the ghost, changelog and checkpoint it left, put the
copy back where the checkpoint says, and save checkpoints while copying.

checkpoint.py defines what a checkpoint holds and why resuming from it is consistent;
this module is the migrator's side of it.
"""

from __future__ import annotations

import re
from typing import Any

from ..apply.applier import Applier
from ..binlog.coordinates import binlog_file_exists
from ..config import GhostConfig
from ..context import MigrationContext
from ..copy.bounds import read_bounds, restore_bounds
from ..copy.chunker import Chunker
from ..errors import PreflightError
from ..mysql.connection import Connection, execute, query
from ..sql import builder
from ..sql.builder import KeyColumn
from ..sql.names import TableNames, cutover_names
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog
from . import helper_tables
from .checkpoint import Checkpoint, fingerprint
from .checkpoint import load as load_checkpoint


def take_over(
    conn: Connection, inspector: Connection, config: GhostConfig, names: TableNames
) -> Checkpoint:
    """Resume: the earlier run's ghost and changelog tables and checkpoint must exist,
    describe the same change of the same table, and its binlog must still be there
    (on ``inspector``, the server the binlog is read from)."""

    def exists(table: str) -> bool:
        return helper_tables.table_exists(conn, config.database, table)

    # A run killed inside a cut-over attempt leaves the ghost under its swap name and,
    # maybe, the empty sentry (cutover.py): put the ghost back, drop the sentry.
    swap_ghost, swap_old = cutover_names(names.original)
    if not exists(names.ghost) and exists(swap_ghost):
        execute(conn, f"RENAME TABLE {q(swap_ghost)} TO {q(names.ghost)}")
    if helper_tables.is_sentry(conn, config.database, swap_old):
        execute(conn, f"DROP TABLE {q(swap_old)}")
    missing = [t for t in (names.ghost, names.changelog) if not exists(t)]
    if missing:
        raise PreflightError(
            f"Cannot resume: {', '.join(missing)} missing. Run without resume to start over."
        )
    checkpoint = load_checkpoint(conn, names.changelog)
    if checkpoint.alter_sha != fingerprint(config.alter):
        raise PreflightError(
            "Cannot resume: the earlier run applied a different ALTER. Run the same ALTER, "
            "or start over (drop the leftover tables first)."
        )
    if checkpoint.table_sha != fingerprint(original_ddl(conn, config.table)):
        raise PreflightError(
            f"Cannot resume: {config.table} changed since the earlier run. Start over."
        )
    if not binlog_file_exists(inspector, checkpoint.binlog_position.file):
        raise PreflightError(
            f"Cannot resume: binary log {checkpoint.binlog_position.file} needed from "
            f"position {checkpoint.binlog_position} has been purged. Start over, and keep binlogs "
            "longer (binlog_expire_logs_seconds) for long migrations."
        )
    return checkpoint


def restore_copy_position(
    writer: Connection,
    chunker: Chunker,
    applier: Applier,
    context: MigrationContext,
    checkpoint: Checkpoint,
    *,
    key: tuple[KeyColumn, ...],
    ghost: str,
) -> None:
    """Put the copy back where the checkpoint says; drop chunks copied after it."""
    context.rows_copied = checkpoint.rows_copied
    context.events_applied = checkpoint.events_applied
    if not checkpoint.has_range or checkpoint.copy_done:
        chunker.done = True
        applier.copying = False
        return
    restore_bounds(writer, key, "lo", checkpoint.lo)
    restore_bounds(writer, key, "max", checkpoint.max)
    chunker.has_range = True
    chunker.first = checkpoint.first
    applier.copied_through_lo = not checkpoint.first
    names = [q(c.ghost_name) for c in key]
    # Ghost rows the copy will write again: above the saved bound, up to the maximum.
    redo = builder.range_condition(names, first=checkpoint.first, lower="lo", upper="max")
    execute(writer, f"DELETE FROM {q(ghost)} WHERE {redo}")


def save_checkpoint(
    changelog: Changelog,
    writer: Connection,
    conn: Connection,
    chunker: Chunker,
    context: MigrationContext,
    config: GhostConfig,
    *,
    key: tuple[KeyColumn, ...],
    position: Any,
) -> None:
    """Record the copy bound (the writer's session variables) and the applied binlog
    ``position`` in the changelog."""
    has_range = chunker.has_range
    checkpoint = Checkpoint(
        lo=read_bounds(writer, key, "lo") if has_range else (),
        max=read_bounds(writer, key, "max") if has_range else (),
        first=chunker.first,
        copy_done=chunker.done,
        has_range=has_range,
        position=str(position),
        rows_copied=context.rows_copied,
        events_applied=context.events_applied,
        alter_sha=fingerprint(config.alter),
        table_sha=fingerprint(original_ddl(conn, config.table)),
    )
    changelog.write("checkpoint", checkpoint.to_json())


def original_ddl(conn: Connection, table: str) -> str:
    """The table's SHOW CREATE TABLE without its AUTO_INCREMENT counter: what the
    checkpoint's fingerprint is taken of."""
    ddl = str(query(conn, f"SHOW CREATE TABLE {q(table)}")[0][1])
    return re.sub(r" AUTO_INCREMENT=\d+", "", ddl)
