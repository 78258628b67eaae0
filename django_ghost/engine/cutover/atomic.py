"""The atomic cut-over (the default): gh-ost's two-connection swap, adapted to MariaDB
(which refuses RENAME TABLE in a session holding LOCK TABLES, error 1192) and to our
by-key apply.

1. Lock session A takes a named lock (a liveness marker others can probe) and a short
   ``lock_wait_timeout`` (2T), then ``LOCK TABLES original READ, sentry WRITE``: the
   application's writes to the original wait (its reads go on). The *sentry* is an empty
   table created under the old-table name: if A dies and its locks vanish, the pending
   RENAME fails on "table exists" instead of running before the final changes applied.
2. The final apply, the AUTO_INCREMENT carry, the verification by key and the triggers
   (attempts.py); the writer's reads of the original are compatible with A's READ lock,
   and A cannot read tables it has not locked, so the keys are compared on the
   verifier's session and the triggers created on the main session.
3. Rename session B issues ``RENAME TABLE original TO old, ghost TO original``. RENAME
   takes its metadata locks one table at a time, in name order, so at first it waits on
   whichever of the three sorts first. A drops the sentry (allowed: it holds it), which
   lets B take the old name and the ghost and queue on the original. Only once B is seen
   holding every name that sorts before the original (a zero-timeout probe on those
   names times out) does A unlock: B's pending exclusive lock then wins over the
   application's queued writes, which run against the new table. Unlocking while B still
   waited on another name would let a queued write slip into the old table after the
   final apply and be lost (gh-ost's issue #1536 is the same race); an integration test
   with writers running through the cut-over guards this.

Any failure before the unlock leaves the sentry in place, so the rename cannot happen:
the original is never missing or renamed without the ghost in place.
"""

from __future__ import annotations

import contextlib
import threading
import time

import MySQLdb

from ..errors import CutOverError
from ..mysql.connection import execute, query, scalar
from ..mysql.dataerrors import ER_LOCK_WAIT_TIMEOUT
from ..sql.names import SENTRY_COMMENT, cutover_lock_name, cutover_names
from ..sql.quote import quote_identifier as q
from ..sql.quote import quote_string_literal
from .attempts import Attempt, CutOverAttemptFailed


class AtomicAttempt(Attempt):
    """One attempt of the atomic cut-over (see the module docstring)."""

    lock_phase = "magic_lock"

    def run(self) -> None:
        """One atomic attempt, with the ghost and the sentry named ``<original>~g`` and
        ``<original>~d`` while it runs when those names fit (64 characters).

        MDL keys end in a NUL byte, so a name that extends the original's sorts after it:
        the RENAME then queues on the original *first*, before any other name. If the lock
        session dies at any point, the RENAME is already first in line for the original,
        so no write can slip into the old table. (With the default ``_<t>_gho`` names it
        queues on the sentry first and reaches the original only after the sentry is
        dropped; see _wait_rename_queued_on_original for how that path stays safe while
        the engine lives.)
        """
        final_ghost, final_old = self.ghost, self.old
        swap = self._swap_names()
        self.own_ddl_of(self.main)
        if swap is not None:
            execute(self.main, f"SET SESSION lock_wait_timeout = {self.timeout}")
            execute(self.main, f"RENAME TABLE {q(final_ghost)} TO {q(swap[0])}")
            self.ghost, self.old = swap
            self.applier.ghost_table = swap[0]
        try:
            self._attempt()
            if swap is not None:
                execute(self.main, f"RENAME TABLE {q(swap[1])} TO {q(final_old)}")
        except BaseException:
            if swap is not None and self.exists(swap[0]):
                execute(self.main, f"RENAME TABLE {q(swap[0])} TO {q(final_ghost)}")
            raise
        finally:
            self.ghost, self.old = final_ghost, final_old
            self.applier.ghost_table = final_ghost

    def _swap_names(self) -> tuple[str, str] | None:
        names = cutover_names(self.original)
        if len(names[0]) > 64 or any(self.exists(n) for n in names):
            return None
        return names

    def _attempt(self) -> None:
        lock_conn = self.connect(self.spec)
        rename_conn = self.connect(self.spec)
        rename_done = threading.Event()
        rename_error: list[BaseException] = []
        locked_at: float | None = None
        worker: threading.Thread | None = None
        try:
            lock_id = self.own_ddl_of(lock_conn)
            rename_id = self.own_ddl_of(rename_conn)
            self.record_sessions(lock_id, rename_id)
            lock_name = cutover_lock_name(lock_id)
            if scalar(lock_conn, "SELECT GET_LOCK(%s, 0)", (lock_name,)) != 1:
                raise CutOverAttemptFailed(f"could not take the liveness lock {lock_name}")
            execute(lock_conn, f"SET SESSION lock_wait_timeout = {2 * self.timeout}")
            self._create_sentry()
            execute(lock_conn, f"SET SESSION wait_timeout = {3 * self.timeout}")
            locked_at = self.lock_tables(lock_conn, f"{q(self.original)} READ, {q(self.old)} WRITE")
            self.apply_up_to_lock(None)
            self.carry_auto_increment(self.main)
            self.verify_applied_keys(None)
            self.carry_triggers(self.main)
            execute(rename_conn, f"SET SESSION lock_wait_timeout = {self.timeout}")

            rename_sql = (
                f"RENAME TABLE {q(self.original)} TO {q(self.old)}, "
                f"{q(self.ghost)} TO {q(self.original)}"
            )

            def rename() -> None:
                try:
                    execute(rename_conn, rename_sql)
                except BaseException as exc:  # noqa: BLE001 - inspected by the main thread
                    rename_error.append(exc)
                finally:
                    rename_done.set()

            worker = threading.Thread(target=rename, name="ghost-rename", daemon=True)
            renaming = time.monotonic()
            worker.start()
            self._wait_rename_queued(rename_id, rename_done, rename_error)
            holder = scalar(self.main, "SELECT IS_USED_LOCK(%s)", (lock_name,))
            if holder is None or int(holder) != lock_id:
                raise CutOverAttemptFailed("the lock session is gone; its locks were released")
            execute(lock_conn, f"DROP TABLE IF EXISTS {q(self.old)}")
            self._wait_rename_queued_on_original(done=rename_done, error=rename_error)
            with self.phase("unlock"):
                execute(lock_conn, "UNLOCK TABLES")
            rename_done.wait(timeout=self.timeout * 3)
            renamed = rename_done.is_set() and not rename_error
            self.record_phase("magic_rename", renaming, "success" if renamed else "abort")
            self.context.cut_over_stall_seconds = time.monotonic() - locked_at
            if rename_error:
                raise CutOverAttemptFailed(f"RENAME failed: {rename_error[0]}")
            if not rename_done.is_set():
                raise CutOverAttemptFailed("RENAME did not finish after the unlock")
        except BaseException:
            with contextlib.suppress(MySQLdb.Error):
                execute(lock_conn, "UNLOCK TABLES")
            if worker is not None:
                rename_done.wait(timeout=self.timeout + 1)
            self._drop_sentry_if_ours()
            self.drop_carried_triggers()
            if locked_at is not None:
                self.context.cut_over_stall_seconds = max(
                    self.context.cut_over_stall_seconds, time.monotonic() - locked_at
                )
            raise
        finally:
            for conn in (lock_conn, rename_conn):
                with contextlib.suppress(MySQLdb.Error):
                    conn.close()

    def _create_sentry(self) -> None:
        existing = query(
            self.main,
            "SELECT TABLE_COMMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (self.old,),
        )
        if existing:
            if existing[0][0] != SENTRY_COMMENT:
                raise CutOverError(
                    f"Table {self.old} already exists and is not ours; the old table cannot "
                    "take its name. Drop or rename it, or set initially_drop_old_table."
                )
            execute(self.main, f"DROP TABLE {q(self.old)}")
        execute(
            self.main,
            f"CREATE TABLE {q(self.old)} (id INT PRIMARY KEY) ENGINE=InnoDB "
            f"COMMENT={quote_string_literal(SENTRY_COMMENT)}",
        )

    def _drop_sentry_if_ours(self) -> None:
        with contextlib.suppress(MySQLdb.Error):
            rows = query(
                self.main,
                "SELECT TABLE_COMMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (self.old,),
            )
            if rows and rows[0][0] == SENTRY_COMMENT:
                execute(self.main, f"DROP TABLE {q(self.old)}")

    def _wait_rename_queued(
        self, rename_id: int, done: threading.Event, error: list[BaseException]
    ) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if done.is_set():
                raise CutOverAttemptFailed(
                    f"RENAME ended before the unlock: {error[0] if error else 'no error'}"
                )
            state = query(
                self.main,
                "SELECT STATE, INFO FROM information_schema.PROCESSLIST WHERE ID = %s",
                (rename_id,),
            )
            waiting = state and "metadata lock" in str(state[0][0] or "").lower()
            if waiting and "rename" in str(state[0][1] or "").lower():
                return
            time.sleep(0.01)
        raise CutOverAttemptFailed("the RENAME was not seen waiting for the metadata lock")

    def _wait_rename_queued_on_original(
        self, *, done: threading.Event, error: list[BaseException]
    ) -> None:
        """Wait until B holds every name that it locks before the original's.

        MDL keys compare as bytes of the name (lowercased when lower_case_table_names is
        set); a probe with lock_wait_timeout=0 on a name B holds exclusively times out.
        """
        fold = int(scalar(self.main, "SELECT @@lower_case_table_names") or 0) != 0

        def key(name: str) -> bytes:
            return (name.lower() if fold else name).encode()

        before = [n for n in (self.old, self.ghost) if key(n) < key(self.original)]
        if not before:
            return
        probe = self.connect(self.spec)
        try:
            execute(probe, "SET SESSION lock_wait_timeout = 0")
            deadline = time.monotonic() + self.timeout
            pending = list(before)
            while pending and time.monotonic() < deadline:
                if done.is_set():
                    raise CutOverAttemptFailed(
                        f"RENAME ended before the unlock: {error[0] if error else 'no error'}"
                    )
                try:
                    execute(probe, f"SELECT 1 FROM {q(pending[0])} LIMIT 0")
                except MySQLdb.OperationalError as exc:
                    if exc.args and exc.args[0] == ER_LOCK_WAIT_TIMEOUT:
                        pending.pop(0)
                        continue
                except MySQLdb.ProgrammingError:
                    pass  # the sentry name no longer exists and B does not hold it yet
                time.sleep(0.005)
            if pending:
                raise CutOverAttemptFailed(
                    f"the RENAME did not reach {self.original} within {self.timeout} s"
                )
        finally:
            with contextlib.suppress(MySQLdb.Error):
                probe.close()
