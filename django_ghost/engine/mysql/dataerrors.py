"""Turn server errors raised while writing the ghost table into DataError with a remedy.

These errors mean the existing data does not fit the new schema. They are never retried
and never hidden: the migration stops and the original table is left as it was.
"""

from __future__ import annotations

from typing import Any

import MySQLdb

from ..errors import DataError

ER_DUP_ENTRY = 1062
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213
RETRYABLE_LOCK_ERRORS = (ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK)
"""A statement that failed with one of these was rolled back (InnoDB rolls back the
statement on a lock wait timeout, the whole transaction on a deadlock): run it again."""
# A duplicate-key error is taken for a duplicate in the data only after this many
# attempts in a row found no stale ghost row to refresh. The lookup reads the original
# later than the failed statement did; a writer may have moved the colliding value away
# in between, and then the lookup finds nothing although the next attempt succeeds.
DUPLICATE_CONFIRMATIONS = 3
ER_BAD_NULL = 1048
ER_DATA_TOO_LONG = 1406
ER_WARN_DATA_OUT_OF_RANGE = 1264
ER_WARN_DATA_TRUNCATED = 1265
ER_TRUNCATED_WRONG_VALUE = 1292
ER_TRUNCATED_WRONG_VALUE_FOR_FIELD = 1366
ER_CHECK_CONSTRAINT = 4025

_REMEDIES = {
    ER_DUP_ENTRY: (
        "the data has duplicates for a UNIQUE key of the new schema",
        "remove the duplicates (or drop UNIQUE from the change) and run the migration again",
    ),
    ER_BAD_NULL: (
        "the data has NULLs in a column the new schema declares NOT NULL",
        "fill the NULLs first (e.g. UPDATE ... SET col = <default> WHERE col IS NULL) or give "
        "the column a DEFAULT in the same change",
    ),
    ER_DATA_TOO_LONG: (
        "some values are longer than the new column type allows",
        "widen the new type or shorten the values first",
    ),
    ER_WARN_DATA_OUT_OF_RANGE: (
        "some values are out of range for the new column type",
        "choose a wider type or fix the values first",
    ),
    ER_WARN_DATA_TRUNCATED: (
        "some values would be truncated by the new column type",
        "choose a type that holds every value, or fix the values first",
    ),
    ER_TRUNCATED_WRONG_VALUE: (
        "some values are invalid for the new column type",
        "fix the values first, or allow them explicitly (e.g. allow_zero_in_date for zero dates)",
    ),
    ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: (
        "some values cannot be stored in the new column type or character set",
        "convert or fix the values first",
    ),
    ER_CHECK_CONSTRAINT: (
        "some rows violate a CHECK constraint of the new schema",
        "fix those rows first or change the constraint",
    ),
}


def as_data_error(exc: Exception, table: str) -> DataError | None:
    """A DataError describing ``exc`` if it is a data-versus-schema error, else None."""
    if not isinstance(exc, MySQLdb.MySQLError) or not exc.args:
        return None
    code = exc.args[0]
    if code not in _REMEDIES:
        return None
    cause, remedy = _REMEDIES[code]
    detail = exc.args[1] if len(exc.args) > 1 else ""
    return DataError(
        f"Cannot migrate {table}: {cause} (server said: {detail}). Remedy: {remedy}. "
        f"The original table {table} is untouched."
    )


MAX_WARNINGS_SHOWN = 5


def raise_on_warnings(conn: Any, table: str, statement: str) -> None:
    """``panic_on_warnings``: raise a DataError naming the warnings (and notes) the last
    statement on ``conn`` raised, if any.

    Strict SQL mode turns most lossy conversions into errors (above), but not all: a
    DECIMAL narrowed to fewer decimals is rounded with a note (1265), and gh-ost's
    ``--panic-on-warnings`` exists for those. The warning count comes with the
    statement's reply; SHOW WARNINGS runs only when it is not zero."""
    count = int(conn.warning_count())
    if not count:
        return
    cur = conn.cursor()
    try:
        cur.execute("SHOW WARNINGS")
        rows = list(cur.fetchall())
    finally:
        cur.close()
    shown = "; ".join(f"{level} {code}: {text}" for level, code, text in rows[:MAX_WARNINGS_SHOWN])
    more = f" (and {count - MAX_WARNINGS_SHOWN} more)" if count > MAX_WARNINGS_SHOWN else ""
    raise DataError(
        f"panic_on_warnings: {statement} raised {count} warning(s): {shown}{more}. The "
        f"migration stopped; the original table {table} is untouched. A warning means the "
        "new schema changes some values (rounded, truncated, converted): choose a column type "
        "that holds every value or fix the values first, or run without panic_on_warnings "
        "to accept the change."
    )
