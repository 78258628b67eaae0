"""What one run has opened, started and created so far, released in one place.

Each step of the migrator registers what it makes as soon as it exists, so that the
release after any failure undoes exactly what is there, in this order: stop the threads
(newest first), drop the helper tables this run created (newest first) unless they are
kept, close the sessions (newest first, the session that created the tables among the
last).

Tables are kept when they must outlive the run: the ghost once swapped in (its name may
hold the original's data again after test_on_replica's swap back) or when the cut-over
refused it for inspection, the changelog once dropped by the clean-up, and both after a
lost connection once a checkpoint was saved (:attr:`Resources.resumable`), so that the
run can be resumed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import MySQLdb

from ..mysql.connection import Connection, execute
from ..sql.quote import quote_identifier as q


class Resources:
    """The sessions, threads and helper tables of one run (see the module docstring)."""

    def __init__(self) -> None:
        self._stops: list[Callable[[], None]] = []
        self._tables: list[tuple[Connection, str]] = []
        self._sessions: list[Connection] = []
        self.resumable = False
        """True once a checkpoint was saved: the ghost and changelog can be resumed."""

    def session(self, conn: Connection) -> Connection:
        """Close ``conn`` on release; returns it."""
        self._sessions.append(conn)
        return conn

    def thread(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` on release (or on :meth:`stop_threads`)."""
        self._stops.append(stop)

    def table(self, conn: Connection, name: str) -> None:
        """Drop table ``name`` on release, on ``conn``, unless it is kept."""
        self._tables.append((conn, name))

    def keep(self, name: str) -> None:
        """Do not drop table ``name`` on release."""
        self._tables = [(conn, table) for conn, table in self._tables if table != name]

    def keep_tables(self) -> None:
        """Drop no table on release (a resumable run lost its connection)."""
        self._tables.clear()

    def mark_resumable(self) -> None:
        self.resumable = True

    def stop_threads(self) -> None:
        while self._stops:
            self._stops.pop()()

    def release(self) -> None:
        """Stop the threads, drop the tables not kept, close the sessions."""
        self.stop_threads()
        while self._tables:
            conn, table = self._tables.pop()
            with contextlib.suppress(MySQLdb.Error):
                execute(conn, f"DROP TABLE IF EXISTS {q(table)}")
        while self._sessions:
            with contextlib.suppress(MySQLdb.Error):
                self._sessions.pop().close()
