"""What a table looks like: columns, unique keys, engine, triggers and foreign keys.

Read from information_schema with parameters (never string-built names). The dataclasses
are plain values so the copy plan (plan.py) and the preflight checks (topology/inspector.py)
are testable without a server.
"""

from __future__ import annotations

import dataclasses

from ..mysql.connection import Connection, query, query_dicts
from ..sql.columns import Column
from ..sql.quote import quote_identifier as q


@dataclasses.dataclass(frozen=True)
class UniqueKey:
    name: str
    columns: tuple[str, ...]
    has_nullable: bool

    @property
    def is_primary(self) -> bool:
        return self.name == "PRIMARY"


@dataclasses.dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    engine: str
    columns: tuple[Column, ...]
    unique_keys: tuple[UniqueKey, ...]
    row_estimate: int
    auto_increment: int | None
    triggers: tuple[str, ...]
    child_foreign_keys: tuple[str, ...]
    parent_foreign_keys: tuple[str, ...]
    is_view: bool = False
    cascading_foreign_keys: tuple[str, ...] = ()
    """The table's own foreign keys whose parent changes its rows (ON DELETE/UPDATE
    CASCADE, SET NULL, SET DEFAULT), described: ``fk (REFERENCES p ON DELETE CASCADE)``."""

    def column(self, name: str) -> Column:
        lowered = name.lower()
        for column in self.columns:
            if column.name.lower() == lowered:
                return column
        raise KeyError(name)

    def has_column(self, name: str) -> bool:
        return any(c.name.lower() == name.lower() for c in self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def read_table(conn: Connection, schema: str, table: str) -> TableInfo | None:
    """Everything about ``schema.table``; None when the table does not exist."""
    tables = query_dicts(
        conn,
        "SELECT TABLE_TYPE, ENGINE, TABLE_ROWS, AUTO_INCREMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (schema, table),
    )
    if not tables:
        return None
    meta = tables[0]
    columns = _read_columns(conn, schema, table)
    unique_keys = _read_unique_keys(conn, schema, table, columns)
    triggers = tuple(
        str(r[0])
        for r in query(
            conn,
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE EVENT_OBJECT_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s",
            (schema, table),
        )
    )
    child, parent = _read_foreign_keys(conn, schema, table)
    return TableInfo(
        schema=schema,
        name=table,
        engine=str(meta["ENGINE"] or ""),
        columns=columns,
        unique_keys=unique_keys,
        row_estimate=int(meta["TABLE_ROWS"] or 0),
        auto_increment=_int_or_none(meta["AUTO_INCREMENT"]),
        triggers=triggers,
        child_foreign_keys=child,
        parent_foreign_keys=parent,
        is_view=str(meta["TABLE_TYPE"]).upper() == "VIEW",
        cascading_foreign_keys=_read_cascading_foreign_keys(conn, schema, table),
    )


def _read_columns(conn: Connection, schema: str, table: str) -> tuple[Column, ...]:
    return tuple(
        Column(
            name=str(r["COLUMN_NAME"]),
            ordinal=int(r["ORDINAL_POSITION"]),
            data_type=str(r["DATA_TYPE"]).lower(),
            column_type=str(r["COLUMN_TYPE"]),
            nullable=r["IS_NULLABLE"] == "YES",
            charset=r["CHARACTER_SET_NAME"],
            collation=r["COLLATION_NAME"],
            generated=str(r["EXTRA"] or "").upper().find("GENERATED") >= 0
            or str(r.get("IS_GENERATED") or "NEVER").upper() == "ALWAYS",
            octet_length=_int_or_none(r["CHARACTER_OCTET_LENGTH"]),
            numeric_precision=_int_or_none(r["NUMERIC_PRECISION"]),
            numeric_scale=_int_or_none(r["NUMERIC_SCALE"]),
            datetime_precision=_int_or_none(r["DATETIME_PRECISION"]),
        )
        for r in query_dicts(
            conn,
            "SELECT * FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (schema, table),
        )
    )


def _read_unique_keys(
    conn: Connection, schema: str, table: str, columns: tuple[Column, ...]
) -> tuple[UniqueKey, ...]:
    nullable = {c.name for c in columns if c.nullable}
    keys: dict[str, list[str]] = {}
    for name, column in query(
        conn,
        "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND NON_UNIQUE = 0 "
        "ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        (schema, table),
    ):
        keys.setdefault(str(name), []).append(str(column))
    return tuple(
        UniqueKey(name=n, columns=tuple(cols), has_nullable=any(c in nullable for c in cols))
        for n, cols in keys.items()
    )


def _read_foreign_keys(
    conn: Connection, schema: str, table: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The table's own foreign keys (by name) and those of other tables referencing it."""
    child = tuple(
        str(r[0])
        for r in query(
            conn,
            "SELECT DISTINCT CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND REFERENCED_TABLE_NAME IS NOT NULL",
            (schema, table),
        )
    )
    parent = tuple(
        f"{r[0]}.{r[1]} ({r[2]})"
        for r in query(
            conn,
            "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME "
            "FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE REFERENCED_TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME = %s",
            (schema, table),
        )
    )
    return child, parent


_CHANGES_THE_CHILD = ("CASCADE", "SET NULL", "SET DEFAULT")


def _read_cascading_foreign_keys(conn: Connection, schema: str, table: str) -> tuple[str, ...]:
    """The table's foreign keys through which a change of the parent changes the table's
    own rows. InnoDB makes those changes inside the parent's statement and writes no row
    events for them to the binlog (a replica runs the cascade itself)."""
    found = []
    for name, parent, on_update, on_delete in query(
        conn,
        "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE "
        "FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s ORDER BY CONSTRAINT_NAME",
        (schema, table),
    ):
        rules = [
            f"ON {event} {rule}"
            for event, rule in (("DELETE", str(on_delete)), ("UPDATE", str(on_update)))
            if rule.upper() in _CHANGES_THE_CHILD
        ]
        if rules:
            found.append(f"{name} (REFERENCES {parent} {' '.join(rules)})")
    return tuple(found)


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


def show_create_table(conn: Connection, table: str) -> str:
    """The server's CREATE TABLE statement of ``table``."""
    return str(query(conn, f"SHOW CREATE TABLE {q(table)}")[0][1])
