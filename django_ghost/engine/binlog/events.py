"""Our own binlog event types: nothing from pymysqlreplication escapes this package."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

RowKind = Literal["insert", "update", "delete"]


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class BinlogPosition:
    """File and offset in the source's binary logs; orders like the server does.

    ``gtid`` (when streaming by GTID, config ``gtid``) is the GTID position after the
    transaction this position ends, in the server flavour's text form (MariaDB: the last
    GTID per domain, ``0-1-100,1-2-5``; MySQL: the executed set, ``uuid:1-100``); set on
    transaction ends and stream starts only. It does not take part in comparisons: file
    and offset order positions of one server, the GTID is what another server of the
    same replication domains understands. An empty ``file`` is a start by GTID whose
    file and offset on the server being read are not known yet.
    """

    file: str
    pos: int
    gtid: str = dataclasses.field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.pos}" if self.file else "(by GTID)"
        return f"{where} [{self.gtid}]" if self.gtid else where

    @classmethod
    def parse(cls, text: str, gtid: str = "") -> BinlogPosition:
        """``file:pos`` as :attr:`file` and :attr:`pos` (not :meth:`__str__`'s text)."""
        file, _, pos = text.rpartition(":")
        return cls(file, int(pos), gtid)

    @property
    def coordinates(self) -> str:
        """``file:pos``, the form :meth:`parse` reads."""
        return f"{self.file}:{self.pos}"


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
