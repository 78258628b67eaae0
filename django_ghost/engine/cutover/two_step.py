"""The two-step cut-over (``cut_over="two-step"``): one session locks both tables WRITE,
does the shared steps under the lock (attempts.py; it verifies the keys and creates the
triggers itself, since it alone can read and write both tables), then renames with
ALTER ... RENAME twice. Between the two renames the original's name does not exist, so
the application's statements fail for a moment; the atomic cut-over (atomic.py) has no such gap.
"""

from __future__ import annotations

import contextlib
import time

import MySQLdb

from ..mysql.connection import execute
from ..sql.quote import quote_identifier as q
from .attempts import Attempt


class TwoStepAttempt(Attempt):
    """One attempt of the two-step cut-over (see the module docstring)."""

    def run(self) -> None:
        lock_conn = self.connect(self.spec)
        locked_at = None
        try:
            self.record_sessions(self.own_ddl_of(lock_conn))
            self.own_ddl_of(self.main)  # test_on_replica's swap back, after the swap
            execute(lock_conn, f"SET SESSION lock_wait_timeout = {2 * self.timeout}")
            locked_at = self.lock_tables(
                lock_conn, f"{q(self.original)} WRITE, {q(self.ghost)} WRITE"
            )
            self.apply_up_to_lock(lock_conn)
            self.carry_auto_increment(lock_conn)
            self.verify_applied_keys(lock_conn)
            self.carry_triggers(lock_conn)
            with self.phase("magic_rename"):
                execute(lock_conn, f"ALTER TABLE {q(self.original)} RENAME {q(self.old)}")
                execute(lock_conn, f"ALTER TABLE {q(self.ghost)} RENAME {q(self.original)}")
            with self.phase("unlock"):
                execute(lock_conn, "UNLOCK TABLES")
            self.context.cut_over_stall_seconds = time.monotonic() - locked_at
        except BaseException:
            with contextlib.suppress(MySQLdb.Error):
                execute(lock_conn, "UNLOCK TABLES")
            self.drop_carried_triggers()
            raise
        finally:
            with contextlib.suppress(MySQLdb.Error):
                lock_conn.close()
