"""Write the history of online runs on a connection of its own.

:class:`HistoryWriter` inserts a run's row and closes it; :class:`RunTracker` (through
:class:`TrackedMigrator`, the engine wrapper ``ghost_migrate`` builds) adds what only
the engine run knows: the postponed cut-over's wait, the stall and the checksum.

The rows must survive a failed migration, and Django's connection may be inside a
transaction (RunPython) or be the very thing that failed, so every write uses a fresh
autocommit connection built from the alias's connection parameters. The table is the
``django_ghost.OnlineRun`` model's; when the app is not installed or not migrated yet
the history is skipped (the run itself is not affected).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable
from typing import Any

import MySQLdb

logger = logging.getLogger("django_ghost")

TABLE = "django_ghost_onlinerun"
NO_SUCH_TABLE = 1146
# The engine's phase while a postponed cut-over waits (Operations.wait_for_cut_over_approval).
POSTPONED_PHASE_PREFIX = "postponed"
WAITING_STATUS = "waiting"


class HistoryWriter:
    """Insert a row when a run starts and update it when it ends."""

    def __init__(self, connection: Any):
        self._params = dict(connection.get_connection_params())
        self._alias: str = connection.alias
        self._conn: Any = None
        self._disabled = False

    def _cursor(self) -> Any:
        if self._conn is None:
            self._conn = MySQLdb.connect(**self._params)
            self._conn.autocommit(True)
        return self._conn.cursor()

    def _write(self, sql: str, params: tuple[Any, ...]) -> int | None:
        if self._disabled:
            return None
        try:
            cur = self._cursor()
            cur.execute(sql, params)
            return int(cur.lastrowid or 0)
        except MySQLdb.Error as exc:
            if exc.args and exc.args[0] == NO_SUCH_TABLE:
                logger.warning(
                    "django_ghost history is off: table %s is missing "
                    "(add 'django_ghost' to INSTALLED_APPS and migrate it).",
                    TABLE,
                )
            else:
                logger.warning("django_ghost could not write its history: %s", exc)
            self._disabled = True
            return None

    def started(
        self, *, table: str, statements: str, route: str, migration: str, resumed_from: str = ""
    ) -> int | None:
        now = _now()
        # resumed_from (migration 0003, NULL otherwise) is written only by a resumed run:
        # history keeps working for fresh runs before django_ghost's 0003 is applied.
        extra = ", resumed_from" if resumed_from else ""
        values: tuple[Any, ...] = (self._alias, migration[:255], table, statements, route, now)
        if resumed_from:
            values += (resumed_from[:255],)
        return self._write(
            f"INSERT INTO {TABLE} (alias, migration, table_name, statements, route, status, "
            f"started_at, rows_copied, events_applied, error{extra}) "
            f"VALUES (%s, %s, %s, %s, %s, 'running', %s, 0, 0, ''{', %s' if extra else ''})",
            values,
        )

    def interrupted(self, *, table: str, note: str) -> None:
        """Close the rows of this alias's runs on ``table`` that a killed process left
        running: no migration of the table runs now (its lock is free)."""
        self._write(
            f"UPDATE {TABLE} SET status = 'interrupted', finished_at = %s, error = %s "
            "WHERE alias = %s AND table_name = %s AND status IN ('running', 'waiting')",
            (
                _now(),
                f"Interrupted (the process ended without finishing). {note}"[:2000],
                self._alias,
                table,
            ),
        )

    def finished(
        self,
        run_id: int | None,
        *,
        status: str,
        rows_copied: int = 0,
        events_applied: int = 0,
        error: str = "",
        old_table: str = "",
    ) -> None:
        if not run_id:
            return
        # old_table (migration 0004) is written only when there is one, as resumed_from.
        extra = ", old_table=%s" if old_table else ""
        values: tuple[Any, ...] = (status, _now(), rows_copied, events_applied, error)
        self._write(
            f"UPDATE {TABLE} SET status=%s, finished_at=%s, rows_copied=%s, events_applied=%s, "
            f"error=%s{extra} WHERE id=%s",
            (*values, *((old_table,) if old_table else ()), run_id),
        )

    def last_online_run(self, table: str) -> tuple[str, str, str, str] | None:
        """(route, status, migration, old_table) of this alias's newest online or revert
        run on ``table``, None when there is none (or the history is unreadable)."""
        if self._disabled:
            return None
        try:
            cur = self._cursor()
            cur.execute(
                f"SELECT route, status, migration, old_table FROM {TABLE} WHERE alias = %s "
                "AND table_name = %s AND route IN ('online', 'revert') ORDER BY id DESC LIMIT 1",
                (self._alias, table),
            )
            row = cur.fetchone()
        except MySQLdb.Error as exc:
            logger.warning("django_ghost could not read its history: %s", exc)
            return None
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def old_tables(self) -> set[str]:
        """The old tables this alias's runs kept (empty when the history is unreadable)."""
        if self._disabled:
            return set()
        try:
            cur = self._cursor()
            cur.execute(
                f"SELECT DISTINCT old_table FROM {TABLE} WHERE alias = %s "
                "AND old_table IS NOT NULL AND old_table <> ''",
                (self._alias,),
            )
            return {str(row[0]) for row in cur.fetchall()}
        except MySQLdb.Error as exc:
            logger.warning("django_ghost could not read its history: %s", exc)
            return set()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _now() -> datetime.datetime:
    # Stored as naive UTC, which is what Django writes for USE_TZ=True on MySQL.
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class RunTracker:
    """Keeps an OnlineRun row in step with its engine run's phase.

    The router writes the row (running, then done/failed/aborted); this adds what only
    the engine run knows: ``waiting`` while a postponed cut-over waits, and the cut-over
    stall and checksum outcome. Writes go through an autocommit connection of its own,
    like the history writer's, and never fail the migration.
    """

    def __init__(self, alias: str, table: str):
        from django.db import connections

        self._params = dict(connections[alias].get_connection_params())
        self._alias = alias
        self._table = table
        self._conn: Any = None
        self._run_id: int | None = None
        self._waiting = False
        # The router inserted the row just before building the engine: it is the newest
        # running row of this alias and table.
        rows = self._query(
            f"SELECT id FROM {TABLE} WHERE alias = %s AND table_name = %s "
            "AND status = 'running' ORDER BY id DESC LIMIT 1",
            (alias, table),
        )
        if rows:
            self._run_id = int(rows[0][0])

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            if self._conn is None:
                self._conn = MySQLdb.connect(**self._params)
                self._conn.autocommit(True)
            cur = self._conn.cursor()
            cur.execute(sql, params)
            return list(cur.fetchall())
        except MySQLdb.Error as exc:
            logger.warning("django_ghost could not update its history: %s", exc)
            return []

    def phase(self, phase: str) -> None:
        waiting = phase.startswith(POSTPONED_PHASE_PREFIX)
        if self._run_id is None or waiting == self._waiting:
            return
        self._waiting = waiting
        new, old = (WAITING_STATUS, "running") if waiting else ("running", WAITING_STATUS)
        self._query(
            f"UPDATE {TABLE} SET status = %s WHERE id = %s AND status = %s",
            (new, self._run_id, old),
        )

    def finished(self, result: Any) -> None:
        """Record the cut-over stall and checksum outcome (the router records the rest)."""
        if self._run_id is not None:
            self._query(
                f"UPDATE {TABLE} SET status = 'running', cut_over_stall_seconds = %s, "
                "checksum_verified = %s WHERE id = %s AND status IN ('running', %s)",
                (
                    float(getattr(result, "cut_over_stall_seconds", 0.0) or 0.0),
                    bool(getattr(result, "checksum_verified", False)),
                    self._run_id,
                    WAITING_STATUS,
                ),
            )
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class TrackedMigrator:
    """The engine's migrator, with its history row completed when ``run()`` returns."""

    def __init__(
        self,
        migrator: Any,
        tracker: RunTracker | None,
        on_success: Callable[[], None] | None = None,
    ):
        self.migrator = migrator
        self.tracker = tracker
        self.on_success = on_success

    def run(self) -> Any:
        try:
            result = self.migrator.run()
        except BaseException:
            if self.tracker is not None:
                self.tracker.close()
            raise
        if self.tracker is not None:
            self.tracker.finished(result)
        if self.on_success is not None:
            self.on_success()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.migrator, name)
