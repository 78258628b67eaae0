"""Checkpoints: where the copy and the binlog apply were, saved so a killed run can resume.

A checkpoint is one changelog row (hint ``checkpoint``) holding JSON: the copy's lower
bound and fixed maximum (the session variables of the writer, saved in a form that
restores their exact type and collation), whether the first chunk was done, whether the
copy finished, the binlog position up to which every change has been applied, counters,
and fingerprints of the ALTER and of the original table's definition.

Why resuming from it is consistent: every change before the saved position is in the
ghost table, and replaying changes after it is harmless because the apply re-reads rows
by key. Chunks copied after the checkpoint are removed from the ghost (its rows between
the saved bound and the maximum) and copied again from the current data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .binlog.events import BinlogPosition
from .errors import PreflightError
from .mysql.connection import Connection, execute, query
from .sql import builder
from .sql.builder import KeyColumn
from .sql.quote import quote_identifier as q

HINT = "checkpoint"
_NUMERIC = ("tinyint", "smallint", "mediumint", "int", "bigint", "year", "enum", "set", "bit")


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    lo: tuple[str | None, ...]
    max: tuple[str | None, ...]
    first: bool
    copy_done: bool
    has_range: bool
    position: str
    rows_copied: int
    events_applied: int
    alter_sha: str
    table_sha: str

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        data["lo"] = tuple(data["lo"])
        data["max"] = tuple(data["max"])
        return cls(**data)

    @property
    def binlog_position(self) -> BinlogPosition:
        return BinlogPosition.parse(self.position)


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _save_expr(column: KeyColumn, variable: str) -> str:
    if column.column.data_type in _NUMERIC or column.column.data_type in (
        "decimal",
        "date",
        "datetime",
        "timestamp",
        "time",
    ):
        return f"CAST({variable} AS CHAR)"
    return f"HEX({variable})"


def _restore_expr(column: KeyColumn) -> str:
    col = column.column
    if col.data_type in _NUMERIC:
        return "CAST(%s AS UNSIGNED)" if col.unsigned else "CAST(%s AS SIGNED)"
    if col.data_type == "decimal":
        return f"CAST(%s AS DECIMAL({col.numeric_precision or 65},{col.numeric_scale or 0}))"
    if col.data_type in ("date", "datetime", "timestamp", "time"):
        return "%s"
    if col.is_string:
        return f"CONVERT(UNHEX(%s) USING {col.charset}) COLLATE {col.collation}"
    return "UNHEX(%s)"


def read_bounds(conn: Connection, key: Sequence[KeyColumn], prefix: str) -> tuple[Any, ...]:
    exprs = [_save_expr(c, builder.var(prefix, i)) for i, c in enumerate(key)]
    row = query(conn, "SELECT " + ", ".join(exprs))[0]
    return tuple(None if v is None else str(v) for v in row)


def restore_bounds(
    conn: Connection, key: Sequence[KeyColumn], prefix: str, values: Sequence[str | None]
) -> None:
    for i, (column, value) in enumerate(zip(key, values, strict=True)):
        if value is None:
            execute(conn, f"SET {builder.var(prefix, i)} = NULL")
        else:
            execute(conn, f"SET {builder.var(prefix, i)} = {_restore_expr(column)}", (value,))


def load(conn: Connection, changelog: str) -> Checkpoint:
    rows = query(conn, f"SELECT value FROM {q(changelog)} WHERE hint = %s", (HINT,))
    if not rows:
        raise PreflightError(
            f"No checkpoint in {changelog}: the earlier run stopped before copying anything. "
            "Start a fresh run instead (it drops the leftover tables with "
            "initially_drop_ghost_table)."
        )
    return Checkpoint.from_json(str(rows[0][0]))
