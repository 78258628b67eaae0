"""Key bounds kept in session variables, read out as text and put back.

The chunker keeps its bounds in user variables of the writer's session (builder.py says
why). A checkpoint stores them as text so a resumed run can put them back, and the
checksum copies them from one session to the other; the casts here round-trip every key
type exactly (numbers as decimal text, strings and binaries as hex with their charset).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..mysql.connection import Connection, execute, query
from ..sql import builder
from ..sql.builder import KeyColumn

_NUMERIC = ("tinyint", "smallint", "mediumint", "int", "bigint", "year", "enum", "set", "bit")
# MariaDB's own data types (10.5+ INET6, 10.7+ UUID, 11.3+ INET4) read and compare as
# their text form; a binary string is taken for their raw bytes (16 for a UUID), so the
# hex round trip of other binaries would compare with nothing.
_TEXT_FORM = ("uuid", "inet6", "inet4")


def _save_expr(column: KeyColumn, variable: str) -> str:
    if column.column.data_type in _NUMERIC or column.column.data_type in (
        "decimal",
        "date",
        "datetime",
        "timestamp",
        "time",
        *_TEXT_FORM,
    ):
        return f"CAST({variable} AS CHAR)"
    return f"HEX({variable})"


def _restore_expr(column: KeyColumn) -> str:
    col = column.column
    if col.data_type in _NUMERIC:
        return "CAST(%s AS UNSIGNED)" if col.unsigned else "CAST(%s AS SIGNED)"
    if col.data_type == "decimal":
        return f"CAST(%s AS DECIMAL({col.numeric_precision or 65},{col.numeric_scale or 0}))"
    if col.data_type in ("date", "datetime", "timestamp", "time", *_TEXT_FORM):
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
