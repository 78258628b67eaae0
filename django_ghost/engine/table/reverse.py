"""The reverse plan of a revert: the current table's columns mapped back through the ALTER
onto the kept old table, and the refusals of a mapping that would lose data.

The current table plays the original, the old table the ghost (revert.py). A column the
ALTER renamed maps back to its old name; one it added has no place in the old table and
is left out; one it dropped has no source, and is filled with its default, so a dropped
``NOT NULL`` column without a default refuses the revert. A column whose type the ALTER
widened is narrowed back: :func:`refusals` reads the current table once for a value the
old type cannot hold (too long, out of range, NULL for ``NOT NULL``, an enum value the
old list lacks), and a type change it cannot check refuses the revert outright. Values
written after that check and that do not fit are refused by the writer's strict mode.
"""

from __future__ import annotations

import re

from ..mysql.connection import Connection, query
from ..sql.alter import ParsedAlter
from ..sql.columns import INTEGER_TYPES, Column
from ..sql.quote import quote_identifier as q
from .info import TableInfo
from .plan import ColumnPair, CopyPlan, build_plan

TEXT_BYTES = {"tinytext": 255, "text": 65535, "mediumtext": 16777215, "longtext": 4294967295}
BLOB_BYTES = {"tinyblob": 255, "blob": 65535, "mediumblob": 16777215, "longblob": 4294967295}
INTEGER_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}


def plan_revert(
    current: TableInfo, old: TableInfo, parsed: ParsedAlter, *, allow_nullable_unique_key: bool
) -> CopyPlan:
    """The plan for applying the current table's changes to the old table."""
    back = {new.lower(): was for was, new in parsed.renamed_columns.items()}
    # A column the ALTER added (even under the name of one it dropped) carries no old data.
    added = frozenset(c.lower() for c in parsed.added_columns) - frozenset(back)
    return build_plan(
        current,
        old,
        renamed=back,
        dropped=added,
        allow_nullable_unique_key=allow_nullable_unique_key,
    )


def refusals(conn: Connection, database: str, plan: CopyPlan) -> list[str]:
    """Why mapping the current table back onto the old one would lose data ([] if not)."""
    problems = _unfed_columns(conn, database, plan)
    for pair in plan.columns:
        problem = _narrowing(conn, plan.original.name, pair)
        if problem:
            problems.append(problem)
    return problems


def _unfed_columns(conn: Connection, database: str, plan: CopyPlan) -> list[str]:
    fed = {p.target.name.lower() for p in plan.columns}
    rows = query(
        conn,
        "SELECT COLUMN_NAME, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (database, plan.ghost.name),
    )
    problems = []
    for name, nullable, default, extra in rows:
        extra = str(extra or "").lower()
        if str(name).lower() in fed or "generated" in extra or "virtual" in extra:
            continue
        if str(nullable) == "NO" and default is None and "auto_increment" not in extra:
            problems.append(
                f"column {name} of {plan.ghost.name} (dropped by the ALTER) is NOT NULL "
                "without a default: a row written since the cut-over has no value for it"
            )
    return problems


def _narrowing(conn: Connection, table: str, pair: ColumnPair) -> str:
    source, target = pair.source, pair.target
    conditions = []
    if source.nullable and not target.nullable:
        conditions.append(f"{q(source.name)} IS NULL")
    if source.column_type.lower() != target.column_type.lower():
        condition = _does_not_fit(source, target)
        if condition is None:
            return (
                f"column {source.name} changes back from {source.column_type} to "
                f"{target.column_type}, which django-ghost cannot check for loss"
            )
        if condition:
            conditions.append(condition)
    if not conditions:
        return ""
    where = " OR ".join(f"({c})" for c in conditions)
    if not query(conn, f"SELECT 1 FROM {q(table)} WHERE {where} LIMIT 1"):
        return ""
    return (
        f"column {source.name} holds values that {target.column_type}"
        f"{'' if target.nullable else ' NOT NULL'} (its type before the ALTER) cannot hold"
    )


def _does_not_fit(source: Column, target: Column) -> str | None:
    """A condition true for the source values the target type cannot hold ("" for none:
    a widening); None when the change cannot be checked."""
    name = q(source.name)
    if source.data_type in INTEGER_TYPES and target.data_type in INTEGER_TYPES:
        low, high = _integer_range(target)
        return f"{name} < {low} OR {name} > {high}"
    if source.data_type == "decimal" and target.data_type == "decimal":
        precision, scale = target.numeric_precision or 10, target.numeric_scale or 0
        bound = 10 ** (precision - scale)
        return f"{name} <> ROUND({name}, {scale}) OR ABS({name}) >= {bound}"
    length = _length(target)
    if length is not None and _length(source) is not None:
        if target.is_binary_string or target.data_type in TEXT_BYTES:
            return f"LENGTH({name}) > {length}"
        return f"CHAR_LENGTH({name}) > {length}"
    if source.data_type in ("enum", "varchar", "char") and target.data_type == "enum":
        values = target.column_type[len("enum(") : -1]
        return f"{name} NOT IN ({values})"
    return None


def _integer_range(column: Column) -> tuple[int, int]:
    bits = INTEGER_BITS[column.data_type]
    if column.unsigned:
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _length(column: Column) -> int | None:
    """Characters (bytes for binary strings and TEXT types) a string column holds."""
    if column.data_type in TEXT_BYTES:
        return TEXT_BYTES[column.data_type]
    if column.data_type in BLOB_BYTES:
        return BLOB_BYTES[column.data_type]
    match = re.fullmatch(r"(?:var)?(?:char|binary)\((\d+)\).*", column.column_type.lower())
    return int(match.group(1)) if match else None
