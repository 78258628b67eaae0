"""Our own binlog event types: nothing from pymysqlreplication escapes this package."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

RowKind = Literal["insert", "update", "delete"]


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class BinlogPosition:
    """File and offset in the source's binary logs; orders like the server does."""

    file: str
    pos: int

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"

    @classmethod
    def parse(cls, text: str) -> BinlogPosition:
        file, _, pos = text.rpartition(":")
        return cls(file, int(pos))


@dataclasses.dataclass(frozen=True, slots=True)
class RowChange:
    """One row of a WRITE/UPDATE/DELETE rows event on a watched table.

    ``before`` / ``after`` hold only the watched columns' values, in the order the
    watch asked for them (``None`` where the image does not exist: no ``before`` for an
    insert, no ``after`` for a delete).
    """

    table: str
    kind: RowKind
    before: tuple[Any, ...] | None
    after: tuple[Any, ...] | None
    position: BinlogPosition


@dataclasses.dataclass(frozen=True, slots=True)
class TransactionEnd:
    """An XID (commit) event: every change before ``position`` is a complete transaction."""

    position: BinlogPosition


@dataclasses.dataclass(frozen=True, slots=True)
class SchemaChange:
    """A DDL statement (QUERY event other than BEGIN/COMMIT) in the watched schema;
    ``thread_id`` is the connection id of the session that ran it (on the server where
    it ran first: a replica logs the primary's)."""

    schema: str
    sql: str
    position: BinlogPosition
    thread_id: int = 0


BinlogEvent = RowChange | TransactionEnd | SchemaChange
