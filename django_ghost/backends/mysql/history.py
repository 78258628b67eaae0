"""Write the history of online runs on a connection of its own.

The rows must survive a failed migration, and Django's connection may be inside a
transaction (RunPython) or be the very thing that failed, so every write uses a fresh
autocommit connection built from the alias's connection parameters. The table is the
``django_ghost.OnlineRun`` model's; when the app is not installed or not migrated yet
the history is skipped (the run itself is not affected).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import MySQLdb

logger = logging.getLogger("django_ghost")

TABLE = "django_ghost_onlinerun"
NO_SUCH_TABLE = 1146


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

    def started(self, *, table: str, statements: str, route: str, migration: str) -> int | None:
        now = _now()
        return self._write(
            f"INSERT INTO {TABLE} (alias, migration, table_name, statements, route, status, "
            "started_at, rows_copied, events_applied, error) "
            "VALUES (%s, %s, %s, %s, %s, 'running', %s, 0, 0, '')",
            (self._alias, migration[:255], table, statements, route, now),
        )

    def finished(
        self,
        run_id: int | None,
        *,
        status: str,
        rows_copied: int = 0,
        events_applied: int = 0,
        error: str = "",
    ) -> None:
        if not run_id:
            return
        self._write(
            f"UPDATE {TABLE} SET status=%s, finished_at=%s, rows_copied=%s, events_applied=%s, "
            "error=%s WHERE id=%s",
            (status, _now(), rows_copied, events_applied, error, run_id),
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _now() -> datetime.datetime:
    # Stored as naive UTC, which is what Django writes for USE_TZ=True on MySQL.
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
