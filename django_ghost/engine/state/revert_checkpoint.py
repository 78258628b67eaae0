"""The cut-over checkpoint: what a revert needs, written when the old table is kept.

A migration that keeps its old table (``ok_to_drop_table`` off) records, right after the
swap, one row in the schema's ``_ghost_revert`` table, keyed by the old table's name:
the binlog position read under the cut-over lock (before the RENAME: every write to the
new table after the swap is at or after it, see docs/revert.md), the table, the ALTER,
a fingerprint of the new table's definition (a revert refuses a table changed since), the
connection ids of the cut-over's sessions (their RENAME is in the binlog after the
position; a revert's stream must not take it for another session's DDL; another
session's DDL of the table since changed its definition, which the fingerprint refuses)
and the server_id of the server whose binlog the position is in.

revert.py (the engine's top layer) reads it (:func:`load_for_revert`) and deletes it
once the old table is back (:func:`forget`); the leftover clean-up drops the old tables
whose row is older than a retention (:func:`expired`) and forgets those it drops; the
table is dropped with its last row.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable

import MySQLdb

from ..binlog.coordinates import binlog_file_exists
from ..binlog.events import BinlogPosition
from ..errors import PreflightError
from ..mysql.connection import Connection, execute, query, scalar
from ..sql.names import TableNames
from ..sql.quote import quote_identifier as q
from ..topology.preflight import Servers
from . import helper_tables
from .checkpoint import fingerprint
from .resume import connection_lost, original_ddl

log = logging.getLogger("django_ghost")

TABLE = "_ghost_revert"
"""The table of cut-over checkpoints, one per schema (one row per kept old table)."""

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {q(TABLE)} ("
    "old_table VARCHAR(64) NOT NULL PRIMARY KEY, "
    "table_name VARCHAR(64) NOT NULL, "
    "created_at BIGINT NOT NULL, "
    "checkpoint MEDIUMTEXT NOT NULL"
    ") ENGINE=InnoDB COMMENT='django-ghost: cut-over checkpoints for revert'"
)


@dataclasses.dataclass(frozen=True)
class CutOverCheckpoint:
    table: str
    old: str
    position: str
    alter: str
    table_sha: str
    """Fingerprint of the new table's definition right after the swap."""
    sessions: tuple[int, ...] = ()
    created: int = 0
    source_server_id: int = 0
    """The server_id of the server whose binlog ``position`` is in (the inspector)."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> CutOverCheckpoint:
        data = json.loads(text)
        data["sessions"] = tuple(int(i) for i in data.get("sessions", ()))
        return cls(**data)

    @property
    def binlog_position(self) -> BinlogPosition:
        return BinlogPosition.parse(self.position)


def record(
    servers: Servers,
    names: TableNames,
    position: object,
    alter: str,
    own_sessions: Iterable[int],
) -> CutOverCheckpoint | None:
    """Save the cut-over checkpoint of the migration of ``names.original`` whose old
    table is ``names.old``, swapped at ``position`` (of the inspector's binlog) by
    ``own_sessions``. The migration is done by now: a failure here (no CREATE privilege
    for the checkpoints' table) only makes a revert unavailable, and says so."""
    try:
        return _record(servers, names, position, alter, own_sessions)
    except MySQLdb.Error as exc:
        if connection_lost(exc):
            raise
        log.warning("no revert checkpoint for %s (a revert will be refused): %s", names.old, exc)
        return None


def _record(
    servers: Servers,
    names: TableNames,
    position: object,
    alter: str,
    own_sessions: Iterable[int],
) -> CutOverCheckpoint:
    conn, table, old = servers.main, names.original, names.old
    checkpoint = CutOverCheckpoint(
        table=table,
        old=old,
        position=str(position),
        alter=alter,
        table_sha=fingerprint(original_ddl(conn, table)),
        sessions=tuple(sorted(own_sessions)),
        created=int(time.time()),
        source_server_id=server_id(servers.inspector),
    )
    execute(conn, _CREATE)
    execute(
        conn,
        f"REPLACE INTO {q(TABLE)} (old_table, table_name, created_at, checkpoint) "
        "VALUES (%s, %s, %s, %s)",
        (old, table, checkpoint.created, checkpoint.to_json()),
    )
    return checkpoint


def load(conn: Connection, database: str, old: str) -> CutOverCheckpoint | None:
    """The cut-over checkpoint kept for the old table ``old``, or None."""
    if not helper_tables.table_exists(conn, database, TABLE):
        return None
    rows = query(conn, f"SELECT checkpoint FROM {q(TABLE)} WHERE old_table = %s", (old,))
    return CutOverCheckpoint.from_json(str(rows[0][0])) if rows else None


def load_for_revert(
    conn: Connection, inspector: Connection, database: str, table: str, old: str
) -> CutOverCheckpoint:
    """The checkpoint to revert ``table`` to its old table ``old`` from, or a
    PreflightError saying why that revert is impossible (nothing is written here)."""
    checkpoint = load(conn, database, old)
    why = revert_refusal(conn, inspector, database, table, old, checkpoint)
    if why:
        raise PreflightError(f"Cannot revert {table} to {old}: {why}")
    assert checkpoint is not None
    return checkpoint


def revert_refusal(
    conn: Connection,
    inspector: Connection,
    database: str,
    table: str,
    old: str,
    checkpoint: CutOverCheckpoint | None,
) -> str:
    """Why ``table`` cannot be reverted to ``old`` from ``checkpoint`` ("" if it can)."""
    if checkpoint is None:
        return (
            f"no cut-over checkpoint for {old} in {TABLE} (the migration dropped its old "
            "table, or ran before revert existed). Revert with a reverse migration instead."
        )
    if checkpoint.table != table:
        return f"{old} is the old table of {checkpoint.table}, not of {table}."
    for name in (table, old):
        if not helper_tables.table_exists(conn, database, name):
            return f"table {name} does not exist."
    if fingerprint(original_ddl(conn, table)) != checkpoint.table_sha:
        return (
            f"{table} was altered after the cut-over; its changes since cannot be mapped "
            "back through the recorded ALTER. Revert with a reverse migration instead."
        )
    source = server_id(inspector)
    if checkpoint.source_server_id and checkpoint.source_server_id != source:
        return (
            f"the cut-over position {checkpoint.position} is in the binary log of the server "
            f"with server_id {checkpoint.source_server_id}, not of this one ({source}): "
            "revert through the server the migration read its binlog from."
        )
    if not binlog_file_exists(inspector, checkpoint.binlog_position.file):
        return (
            f"binary log {checkpoint.binlog_position.file}, needed from the cut-over at "
            f"{checkpoint.position}, has been purged: the changes made since cannot be "
            "replayed. Keep binlogs at least as long as old tables are kept for revert "
            "(binlog_expire_logs_seconds); revert with a reverse migration instead."
        )
    return ""


def server_id(conn: Connection) -> int:
    return int(scalar(conn, "SELECT @@server_id"))


def forget(conn: Connection, database: str, old: str) -> None:
    """Delete the checkpoint of ``old`` (reverted, or dropped); the table goes with its
    last row, so a schema keeps it only while an old table can be reverted to."""
    if not helper_tables.table_exists(conn, database, TABLE):
        return
    execute(conn, f"DELETE FROM {q(TABLE)} WHERE old_table = %s", (old,))
    if not query(conn, f"SELECT 1 FROM {q(TABLE)} LIMIT 1"):
        execute(conn, f"DROP TABLE IF EXISTS {q(TABLE)}")


def reseal(conn: Connection, database: str, table: str, session: int) -> None:
    """Record ``table``'s definition now in its newest checkpoint: for metadata-only
    changes made right after the cut-over (the default drops Django runs after the copy),
    which do not change what the revert maps back. ``session`` ran them: its DDL is in the
    binlog the revert reads, and is let through like the cut-over's own."""
    if not helper_tables.table_exists(conn, database, TABLE):
        return
    rows = query(
        conn,
        f"SELECT old_table, checkpoint FROM {q(TABLE)} WHERE table_name = %s "
        "ORDER BY created_at DESC LIMIT 1",
        (table,),
    )
    if not rows:
        return
    checkpoint = CutOverCheckpoint.from_json(str(rows[0][1]))
    sealed = dataclasses.replace(
        checkpoint,
        table_sha=fingerprint(original_ddl(conn, table)),
        sessions=tuple(sorted({*checkpoint.sessions, session})),
    )
    execute(
        conn,
        f"UPDATE {q(TABLE)} SET checkpoint = %s WHERE old_table = %s",
        (sealed.to_json(), str(rows[0][0])),
    )


def prune(conn: Connection, database: str, table: str) -> None:
    """Forget the checkpoints of ``table`` whose old table no longer exists."""
    if not helper_tables.table_exists(conn, database, TABLE):
        return
    rows = query(conn, f"SELECT old_table FROM {q(TABLE)} WHERE table_name = %s", (table,))
    for (old,) in rows:
        if not helper_tables.table_exists(conn, database, str(old)):
            forget(conn, database, str(old))


def expired(conn: Connection, database: str, retention_seconds: int) -> list[str]:
    """The old tables whose cut-over checkpoint is older than ``retention_seconds``."""
    if not helper_tables.table_exists(conn, database, TABLE):
        return []
    rows = query(
        conn,
        f"SELECT old_table FROM {q(TABLE)} WHERE created_at < %s",
        (int(time.time()) - retention_seconds,),
    )
    return [str(row[0]) for row in rows]
