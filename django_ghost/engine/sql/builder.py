"""Statement builders for the copy, the by-key apply, the checksum and the verification
by key. Pure strings.

Key bounds live in session user variables on the connection that runs the statements
(``@ghost_lo_<i>``, ``@ghost_hi_<i>``, ...): values selected from the table into a
variable keep the column's collation and exact value (zero dates, fractional seconds,
binary strings), so chunk bounds never round-trip through Python types. ENUM, SET and
BIT key columns are stored by their numeric value (``col + 0``) because indexes order
them numerically while their string forms sort differently.

Composite keys are compared lexicographically with an OR of ANDs, a form the range
optimizer turns into index ranges on MariaDB and MySQL alike.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from .columns import Column
from .quote import quote_identifier as q

_NUMERIC_KEY_TYPES = ("enum", "set", "bit")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _safe(name: str | None, what: str) -> str:
    if not name or not _SAFE_NAME.match(name):
        raise ValueError(f"unexpected {what} name {name!r}")
    return name


@dataclasses.dataclass(frozen=True)
class KeyColumn:
    """One column of the chosen key, as seen from both tables."""

    name: str  # in the original table
    ghost_name: str  # in the ghost table (differs after an approved rename)
    column: Column

    def select_expr(self) -> str:
        """Expression whose value is stored in a bound variable."""
        if self.column.data_type in _NUMERIC_KEY_TYPES:
            return f"{q(self.name)} + 0"
        return q(self.name)

    def placeholder(self) -> str:
        """Parameter placeholder for a key value decoded from the binlog."""
        col = self.column
        if col.data_type == "timestamp":
            return "FROM_UNIXTIME(%s)"
        if col.is_string and col.data_type not in ("enum", "set"):
            charset = _safe(col.charset, "charset")
            collation = _safe(col.collation, "collation")
            return f"CONVERT(%s USING {charset}) COLLATE {collation}"
        return "%s"


def var(prefix: str, i: int) -> str:
    return f"@ghost_{prefix}_{i}"


def compare_to_vars(columns: Sequence[str], op: str, prefix: str) -> str:
    """Lexicographic ``(c1, c2, ...) <op> (@v1, @v2, ...)`` for op in > >= < <=."""
    strict = op[0]
    inclusive = op.endswith("=")
    terms = []
    for i in range(len(columns)):
        parts = [f"{columns[j]} = {var(prefix, j)}" for j in range(i)]
        last_op = op if (i == len(columns) - 1 and inclusive) else strict
        parts.append(f"{columns[i]} {last_op} {var(prefix, i)}")
        terms.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(terms) + ")"


def assign_vars(target: str, source: str, count: int) -> str:
    return "SET " + ", ".join(f"{var(target, i)} = {var(source, i)}" for i in range(count))


def select_bound(
    table: str, index: str, key: Sequence[KeyColumn], *, descending: bool, into: str
) -> str:
    """Min (or max) key of the table into ``@ghost_<into>_<i>``, plus a found flag."""
    order = " DESC" if descending else ""
    cols = ", ".join(c.select_expr() for c in key)
    targets = ", ".join(var(into, i) for i in range(len(key)))
    order_by = ", ".join(q(c.name) + order for c in key)
    return (
        f"SELECT {cols}, 1 INTO {targets}, @ghost_found FROM {q(table)} FORCE INDEX ({q(index)}) "
        f"ORDER BY {order_by} LIMIT 1"
    )


def select_chunk_end(
    table: str,
    index: str,
    key: Sequence[KeyColumn],
    *,
    first: bool,
    offset: int,
    lower: str = "lo",
    upper: str = "max",
    into: str = "hi",
) -> str:
    """The key ``offset`` rows after the lower bound, within the upper bound."""
    names = [q(c.name) for c in key]
    exprs = [c.select_expr() for c in key]
    start = compare_to_vars(names, ">=" if first else ">", lower)
    stop = compare_to_vars(names, "<=", upper)
    targets = ", ".join(var(into, i) for i in range(len(key)))
    return (
        f"SELECT {', '.join(exprs)}, 1 INTO {targets}, @ghost_found FROM {q(table)} "
        f"FORCE INDEX ({q(index)}) WHERE {start} AND {stop} "
        f"ORDER BY {', '.join(names)} LIMIT 1 OFFSET {int(offset)}"
    )


def range_condition(names: Sequence[str], *, first: bool, lower: str, upper: str) -> str:
    """``lower < key <= upper`` (``<=`` at the lower end for the first chunk)."""
    start = compare_to_vars(names, ">=" if first else ">", lower)
    stop = compare_to_vars(names, "<=", upper)
    return f"{start} AND {stop}"


def copy_chunk(
    original: str,
    ghost: str,
    index: str,
    source_exprs: Sequence[str],
    target_columns: Sequence[str],
    key: Sequence[KeyColumn],
    *,
    first: bool,
    lock_clause: str,
) -> str:
    """``INSERT INTO ghost SELECT ... FROM original`` for the rows between the bounds.

    A plain INSERT (no IGNORE): the by-key apply never writes rows inside the range still
    to copy, so any duplicate here is a real duplicate for a new unique key and must fail
    loudly rather than drop a row (gh-ost's INSERT IGNORE loses it: its issue #1636).
    """
    cond = range_condition([q(c.name) for c in key], first=first, lower="lo", upper="hi")
    return (
        f"INSERT INTO {q(ghost)} ({', '.join(q(c) for c in target_columns)}) "
        f"SELECT {', '.join(source_exprs)} FROM {q(original)} FORCE INDEX ({q(index)}) "
        f"WHERE {cond} {lock_clause}"
    )


def key_list_condition(names: Sequence[str], placeholders: Sequence[str], rows: int) -> str:
    """Rows whose key is one of ``rows`` parameter tuples."""
    if len(names) == 1:
        return f"{names[0]} IN ({', '.join([placeholders[0]] * rows)})"
    one = "(" + " AND ".join(f"{n} = {p}" for n, p in zip(names, placeholders, strict=True)) + ")"
    return "(" + " OR ".join([one] * rows) + ")"


def refresh_delete(ghost: str, key: Sequence[KeyColumn], rows: int) -> str:
    names = [q(c.ghost_name) for c in key]
    cond = key_list_condition(names, [c.placeholder() for c in key], rows)
    return f"DELETE FROM {q(ghost)} WHERE {cond}"


def refresh_insert(
    original: str,
    ghost: str,
    source_exprs: Sequence[str],
    target_columns: Sequence[str],
    key: Sequence[KeyColumn],
    rows: int,
    *,
    copied_range_only: bool,
    lock_clause: str,
    copied_through_lo: bool = True,
    replace: bool = False,
) -> str:
    """Re-read the current rows for the given keys from the original into the ghost
    (``REPLACE`` overwrites the ghost rows that have those keys; it is only safe when the
    ghost has no other unique key: a row conflicting on another one would be deleted).

    While the copy is running, only keys the copy has passed (``<= @ghost_lo``, or
    ``< @ghost_lo`` before the first chunk, which includes its lower bound) or keys above
    the copy's fixed maximum (``> @ghost_max``) are written: keys inside the range still
    to copy are left to the chunk that will read them later.
    """
    names = [q(c.name) for c in key]
    cond = key_list_condition(names, [c.placeholder() for c in key], rows)
    if copied_range_only:
        cond = f"{cond} AND {written_range(names, copied_through_lo=copied_through_lo)}"
    verb = "REPLACE" if replace else "INSERT"
    return (
        f"{verb} INTO {q(ghost)} ({', '.join(q(c) for c in target_columns)}) "
        f"SELECT {', '.join(source_exprs)} FROM {q(original)} WHERE {cond} {lock_clause}"
    )


def written_range(names: Sequence[str], *, copied_through_lo: bool) -> str:
    """While the copy runs: keys the copy has passed (``<= @ghost_lo``, ``< @ghost_lo``
    before the first chunk) or above its fixed maximum (``> @ghost_max``), the only keys
    the ghost may hold; the rest are left to the chunks still to come."""
    copied = compare_to_vars(names, "<=" if copied_through_lo else "<", "lo")
    above = compare_to_vars(names, ">", "max")
    return f"({copied} OR {above})"


def checksum_chunk(table: str, index: str, row_exprs: Sequence[str], range_cond: str) -> str:
    """Row count and two order-independent digests (XOR and sum) of the rows in a range.

    Each row's digest is computed once, in a derived table, from its columns' digests.
    """
    row = "CRC32(CONCAT_WS(',', " + ", ".join(row_exprs) + "))"
    return (
        "SELECT COUNT(*), COALESCE(BIT_XOR(d), 0), COALESCE(SUM(d), 0) FROM "
        f"(SELECT {row} AS d FROM {q(table)} FORCE INDEX ({q(index)}) WHERE {range_cond}) AS r"
    )


def compare_checksums(original_sql: str, ghost_sql: str) -> str:
    """Two :func:`checksum_chunk` statements as one: the original's three figures, then
    the ghost's, read by one statement (one read view, one round trip)."""
    return f"SELECT * FROM ({original_sql}) AS o CROSS JOIN ({ghost_sql}) AS g"
