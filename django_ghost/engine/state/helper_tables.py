"""The migration's helper tables: take the migration lock that makes them ours, create
the changelog and the ghost table (the ALTER applied to it), refusing or dropping what an
earlier run left under their names.

Also the two lookups the create and the resume steps share: does a table exist, and is
it an empty cut-over sentry (cutover/atomic.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import MySQLdb

from ..config import GhostConfig
from ..errors import PreflightError, UnsupportedAlterError
from ..mysql.connection import Connection, execute, query, scalar
from ..sql.names import SENTRY_COMMENT, TableNames, migration_lock_name
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog, create_table_sql


def take_migration_lock(conn: Connection, config: GhostConfig) -> None:
    """A server-side named lock, held by ``conn`` until it closes: a second migration of
    the same table is refused. With force_table_names, the forced name's lock too: its
    helper tables are named after it, so another run using that name (or the clean-up
    of that name's leftovers) must wait."""
    for owner in dict.fromkeys((config.table, config.force_table_names or config.table)):
        name = migration_lock_name(config.database, owner)
        if scalar(conn, "SELECT GET_LOCK(%s, 0)", (name,)) != 1:
            holder = scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,))
            what = "of" if owner == config.table else "with the helper table names of"
            raise PreflightError(
                f"Another migration {what} {config.database}.{owner} is running "
                f"(it holds the lock {name!r}, connection id {holder}). Wait for it to "
                "finish, or stop it."
            )


def create(
    conn: Connection,
    config: GhostConfig,
    names: TableNames,
    statements: Sequence[str],
    created: Callable[[str], None],
) -> Changelog:
    """Create the changelog (state ``started``) and the ghost, and ALTER the ghost.

    ``created`` is called with each table as soon as it exists, so that the run's
    release (resources.py) drops it if a later step fails.
    """
    for table, allowed, option in (
        (names.ghost, config.initially_drop_ghost_table, "initially_drop_ghost_table"),
        (names.old, config.initially_drop_old_table, "initially_drop_old_table"),
    ):
        if table_exists(conn, config.database, table):
            if table == names.old and is_sentry(conn, config.database, table):
                allowed = True
            if not allowed:
                raise PreflightError(
                    f"Table {table} already exists (left by an earlier run?). Drop it, or "
                    f"set {option} to drop it automatically."
                )
            execute(conn, f"DROP TABLE {q(table)}")
    # The changelog is ours alone (the migration lock guarantees it): always recreate.
    execute(conn, f"DROP TABLE IF EXISTS {q(names.changelog)}")
    execute(conn, create_table_sql(names.changelog))
    created(names.changelog)
    changelog = Changelog(conn, names.changelog)
    changelog.state("started")
    execute(conn, f"CREATE TABLE {q(names.ghost)} LIKE {q(names.original)}")
    created(names.ghost)
    for statement in statements:
        try:
            execute(conn, f"ALTER TABLE {q(names.ghost)} {statement}")
        except MySQLdb.Error as exc:
            message = exc.args[-1] if exc.args else exc
            raise UnsupportedAlterError(
                f"The ALTER is not valid for {config.table}: {message} "
                f"(statement: {statement[:300]}). Nothing was changed."
            ) from None
    return changelog


def table_exists(conn: Connection, database: str, table: str) -> bool:
    return bool(
        query(
            conn,
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (database, table),
        )
    )


def is_sentry(conn: Connection, database: str, table: str) -> bool:
    """Whether ``table`` is the empty sentry a cut-over attempt creates (its comment)."""
    rows = query(
        conn,
        "SELECT TABLE_COMMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (database, table),
    )
    return bool(rows) and rows[0][0] == SENTRY_COMMENT
