"""The cut-over: swap the ghost table in for the original, atomically, under a short lock.

gh-ost's two-connection algorithm, adapted to MariaDB (which refuses RENAME TABLE in a
session holding LOCK TABLES, error 1192) and to our by-key apply:

1. Lock session A takes a named lock (a liveness marker others can probe) and a short
   ``lock_wait_timeout`` (2T), then ``LOCK TABLES original READ, sentry WRITE``: the
   application's writes to the original wait (its reads go on). The *sentry* is an empty
   table created under the old-table name: if A dies and its locks vanish, the pending
   RENAME fails on "table exists" instead of running before the final changes applied.
2. A sentinel state row is written to the changelog and the writer applies every binlog
   change queued before it (its locking reads of the original are compatible with A's
   READ lock); the ghost now equals the frozen original. AUTO_INCREMENT is carried over
   so ids deleted at the top of the original are never handed out again.
3. Safety net: while the original is frozen, ``SELECT COUNT(*)`` of both tables runs on
   two other sessions in parallel (A cannot read tables it has not locked), when the
   migration's row count is at most ``cut_over_count_check_max_rows``. Different counts
   fail the migration, not the attempt (retrying cannot fix a divergence): nothing is
   renamed, and the ghost is kept for inspection.
4. Rename session B issues ``RENAME TABLE original TO old, ghost TO original``. RENAME
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
the original is never missing or renamed without the ghost in place. Each attempt is
bounded by the lock timeout T; failed attempts are retried with a (optionally
exponential) backoff. The two-step algorithm renames under LOCK TABLES with ALTER ...
RENAME, leaving a short gap where the table name does not exist; it counts both tables
(sequentially, on the lock session, which holds both) after its final apply as well.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import MySQLdb

from ..apply.applier import Applier
from ..apply.streamer import Streamer
from ..context import MigrationContext
from ..errors import CutOverError, DataError, GhostError
from ..mysql.connection import Connection, ConnectionSpec, execute, query, scalar
from ..sql.names import SENTRY_COMMENT, cutover_lock_name, cutover_names
from ..sql.quote import quote_identifier as q
from ..sql.quote import quote_string_literal
from ..table.changelog import Changelog

ER_LOCK_WAIT_TIMEOUT = 1205

log = logging.getLogger("django_ghost")


class CutOverAttemptFailed(GhostError):
    """One attempt failed; the original is intact and the attempt may be retried."""


class CutOverCountMismatch(CutOverError):
    """Under the cut-over lock the ghost's row count differed from the frozen original's;
    nothing was renamed. Not retried: another attempt would find the same divergence."""

    def __init__(self, message: str, *, original_rows: int, ghost_rows: int):
        super().__init__(message)
        self.original_rows = original_rows
        self.ghost_rows = ghost_rows


class _CountsDiffer(Exception):
    """Raised under the lock; CutOver.run turns it into CutOverCountMismatch once the
    attempt has released everything."""

    def __init__(self, original_rows: int, ghost_rows: int):
        super().__init__(f"{original_rows} != {ghost_rows}")
        self.original_rows = original_rows
        self.ghost_rows = ghost_rows


class CutOver:
    """Runs cut-over attempts until one succeeds or the retries run out."""

    def __init__(
        self,
        spec: ConnectionSpec,
        connect: Callable[..., Connection],
        context: MigrationContext,
        *,
        original: str,
        ghost: str,
        old: str,
        applier: Applier,
        streamer: Streamer,
        changelog: Changelog,
        main_conn: Connection,
        sleep: Callable[[float], None] = time.sleep,
        before_attempt: Callable[[], None] | None = None,
    ):
        self.spec = spec
        self.connect = connect
        self.context = context
        self.original = original
        self.ghost = ghost
        self.old = old
        self.applier = applier
        self.streamer = streamer
        self.changelog = changelog
        self.main = main_conn
        self.sleep = sleep
        self.before_attempt = before_attempt
        self.timeout = context.config.cut_over_lock_timeout_seconds

    def run(self) -> None:
        config = self.context.config
        last_error: Exception | None = None
        for attempt in range(1, config.default_retries + 1):
            if self.context.aborted:
                raise CutOverError(f"cut-over abandoned: {self.context.abort_reason}")
            if self.before_attempt is not None:
                self.before_attempt()
            self.context.cut_over_attempts = attempt
            try:
                if config.cut_over == "two-step":
                    self._two_step()
                else:
                    self._atomic()
                return
            except (CutOverAttemptFailed, MySQLdb.OperationalError) as exc:
                last_error = exc
                self.context.throttle_reason = f"cut-over attempt {attempt} failed: {exc}"
            except _CountsDiffer as exc:
                raise self._count_mismatch(exc) from None
            self.sleep(self._backoff(attempt))
        raise CutOverError(
            f"Cut-over did not succeed after {config.default_retries} attempts (last error: "
            f"{last_error}). The original table {self.original} is intact. Find what holds "
            f"locks on {self.original} (long transactions, SHOW PROCESSLIST) and run again, "
            "or raise cut_over_lock_timeout_seconds."
        )

    def _count_mismatch(self, counts: _CountsDiffer) -> CutOverCountMismatch:
        where = (
            f"The ghost table {self.ghost} is kept for inspection (compare it with "
            f"{self.original}; django-ghost --cleanup or DROP TABLE removes it)."
        )
        return CutOverCountMismatch(
            f"Cut-over refused: under the cut-over lock, after the final changes were "
            f"applied, the original table {self.original} has {counts.original_rows} rows but "
            f"the ghost table has {counts.ghost_rows}. Nothing was renamed: the original "
            f"table {self.original} is untouched. {where} The migration failed rather than "
            "retried, since another attempt would swap in the same divergence. This is a "
            "django_ghost bug: please report it with both counts, the ALTER and this run's "
            "log.",
            original_rows=counts.original_rows,
            ghost_rows=counts.ghost_rows,
        )

    def _check_row_counts(self, original_conn: Connection, ghost_conn: Connection) -> None:
        """Raise _CountsDiffer unless both tables hold as many rows (run under the lock,
        after the final apply). On two sessions the counts run in parallel; on one (the
        two-step lock session) one after the other."""
        limit = self.context.config.cut_over_count_check_max_rows
        rows = max(self.context.rows_copied, self.context.rows_estimate)
        if limit == 0:
            return
        if rows > limit:
            log.info(
                "cut-over row count check skipped: about %d rows, above "
                "cut_over_count_check_max_rows=%d",
                rows,
                limit,
            )
            return
        started = time.monotonic()
        if original_conn is ghost_conn:
            original_rows = self._count(original_conn, self.original)
            ghost_rows = self._count(ghost_conn, self.ghost)
        else:
            results: dict[str, int] = {}
            errors: list[BaseException] = []

            def count_ghost() -> None:
                try:
                    results["ghost"] = self._count(ghost_conn, self.ghost)
                except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                    errors.append(exc)

            worker = threading.Thread(target=count_ghost, name="ghost-count", daemon=True)
            worker.start()
            try:
                original_rows = self._count(original_conn, self.original)
            finally:
                worker.join()
            if errors:
                raise errors[0]
            ghost_rows = results["ghost"]
        log.info(
            "cut-over row count check: %s %d rows, %s %d rows (%.3f s under the lock)",
            self.original,
            original_rows,
            self.ghost,
            ghost_rows,
            time.monotonic() - started,
        )
        if original_rows != ghost_rows:
            raise _CountsDiffer(original_rows, ghost_rows)

    @staticmethod
    def _count(conn: Connection, table: str) -> int:
        return int(scalar(conn, f"SELECT COUNT(*) FROM {q(table)}"))

    def _backoff(self, attempt: int) -> float:
        config = self.context.config
        if config.cut_over_exponential_backoff:
            return float(min(config.exponential_backoff_max_interval, 2 ** (attempt - 1)))
        return 1.0

    # -- atomic --------------------------------------------------------------------------

    def _atomic(self) -> None:
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
        if swap is not None:
            self.streamer.ignore_schema_changes = True
            execute(self.main, f"SET SESSION lock_wait_timeout = {self.timeout}")
            execute(self.main, f"RENAME TABLE {q(final_ghost)} TO {q(swap[0])}")
            self.ghost, self.old = swap
            self.applier.ghost_table = swap[0]
        try:
            self._atomic_attempt()
            if swap is not None:
                execute(self.main, f"RENAME TABLE {q(swap[1])} TO {q(final_old)}")
        except BaseException:
            if swap is not None and self._exists(swap[0]):
                execute(self.main, f"RENAME TABLE {q(swap[0])} TO {q(final_ghost)}")
            raise
        finally:
            self.ghost, self.old = final_ghost, final_old
            self.applier.ghost_table = final_ghost

    def _swap_names(self) -> tuple[str, str] | None:
        names = cutover_names(self.original)
        if len(names[0]) > 64 or any(self._exists(n) for n in names):
            return None
        return names

    def _exists(self, table: str) -> bool:
        return bool(
            query(
                self.main,
                "SELECT 1 FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (table,),
            )
        )

    def _atomic_attempt(self) -> None:
        lock_conn = self.connect(self.spec)
        rename_conn = self.connect(self.spec)
        rename_done = threading.Event()
        rename_error: list[BaseException] = []
        locked_at: float | None = None
        worker: threading.Thread | None = None
        try:
            lock_id = int(scalar(lock_conn, "SELECT CONNECTION_ID()"))
            lock_name = cutover_lock_name(lock_id)
            if scalar(lock_conn, "SELECT GET_LOCK(%s, 0)", (lock_name,)) != 1:
                raise CutOverAttemptFailed(f"could not take the liveness lock {lock_name}")
            execute(lock_conn, f"SET SESSION lock_wait_timeout = {2 * self.timeout}")
            self._create_sentry()
            execute(lock_conn, f"SET SESSION wait_timeout = {3 * self.timeout}")
            try:
                execute(lock_conn, f"LOCK TABLES {q(self.original)} READ, {q(self.old)} WRITE")
            except MySQLdb.OperationalError as exc:
                raise CutOverAttemptFailed(f"could not lock {self.original}: {exc}") from exc
            locked_at = time.monotonic()
            self._apply_up_to_lock(None)
            self._carry_auto_increment(self.main)
            # B is idle until the RENAME: it counts the original (readable by other
            # sessions under A's READ lock) while the main session counts the ghost.
            execute(rename_conn, f"SET SESSION lock_wait_timeout = {self.timeout}")
            self._check_row_counts(rename_conn, self.main)

            rename_id = int(scalar(rename_conn, "SELECT CONNECTION_ID()"))
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

            self.streamer.ignore_schema_changes = True
            worker = threading.Thread(target=rename, name="ghost-rename", daemon=True)
            worker.start()
            self._wait_rename_queued(rename_id, rename_done, rename_error)
            holder = scalar(self.main, "SELECT IS_USED_LOCK(%s)", (lock_name,))
            if holder is None or int(holder) != lock_id:
                raise CutOverAttemptFailed("the lock session is gone; its locks were released")
            execute(lock_conn, f"DROP TABLE IF EXISTS {q(self.old)}")
            self._wait_rename_queued_on_original(done=rename_done, error=rename_error)
            execute(lock_conn, "UNLOCK TABLES")
            rename_done.wait(timeout=self.timeout * 3)
            self.context.cut_over_stall_seconds = time.monotonic() - locked_at
            if rename_error:
                raise CutOverAttemptFailed(f"RENAME failed: {rename_error[0]}")
            if not rename_done.is_set():
                raise CutOverAttemptFailed("RENAME did not finish after the unlock")
        except BaseException:
            self.streamer.ignore_schema_changes = False
            with contextlib.suppress(MySQLdb.Error):
                execute(lock_conn, "UNLOCK TABLES")
            if worker is not None:
                rename_done.wait(timeout=self.timeout + 1)
            self._drop_sentry_if_ours()
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

    def _apply_up_to_lock(self, lock_conn: Connection | None) -> None:
        """Apply every change committed before the lock (on the lock session when it
        holds the ghost too, as in the two-step cut-over)."""
        marker = f"cutover-sentinel:{uuid.uuid4().hex}"
        self.changelog.state(marker)
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                if self.context.aborted:
                    raise CutOverAttemptFailed(f"aborted: {self.context.abort_reason}")
                markers = self.applier.drain(
                    self.streamer.queue, max_events=100_000, wait=0.05, locked_conn=lock_conn
                )
                if marker in markers:
                    return
        except DataError:
            self.context.request_abort("the data does not fit the new schema")
            raise
        except MySQLdb.Error as exc:
            # Keys taken off the queue but not applied would be lost: stop the migration.
            self.context.request_abort(f"applying the final changes failed: {exc}")
            raise
        raise CutOverAttemptFailed(
            f"the binlog did not deliver the cut-over sentinel within {self.timeout} s "
            "(the stream is lagging)"
        )

    def _carry_auto_increment(self, lock_conn: Connection) -> None:
        rows = query(
            lock_conn,
            "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (%s, %s)",
            (self.original, self.ghost),
        )
        values: dict[str, Any] = {str(name): value for name, value in rows}
        source, target = values.get(self.original), values.get(self.ghost)
        if source is not None and (target is None or int(source) > int(target)):
            execute(lock_conn, f"ALTER TABLE {q(self.ghost)} AUTO_INCREMENT = {int(source)}")

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

    # -- two-step ------------------------------------------------------------------------

    def _two_step(self) -> None:
        lock_conn = self.connect(self.spec)
        locked_at = None
        try:
            execute(lock_conn, f"SET SESSION lock_wait_timeout = {2 * self.timeout}")
            try:
                execute(lock_conn, f"LOCK TABLES {q(self.original)} WRITE, {q(self.ghost)} WRITE")
            except MySQLdb.OperationalError as exc:
                raise CutOverAttemptFailed(f"could not lock {self.original}: {exc}") from exc
            locked_at = time.monotonic()
            self._apply_up_to_lock(lock_conn)
            self._carry_auto_increment(lock_conn)
            self._check_row_counts(lock_conn, lock_conn)
            self.streamer.ignore_schema_changes = True
            execute(lock_conn, f"ALTER TABLE {q(self.original)} RENAME {q(self.old)}")
            execute(lock_conn, f"ALTER TABLE {q(self.ghost)} RENAME {q(self.original)}")
            execute(lock_conn, "UNLOCK TABLES")
            self.context.cut_over_stall_seconds = time.monotonic() - locked_at
        except BaseException:
            with contextlib.suppress(MySQLdb.Error):
                execute(lock_conn, "UNLOCK TABLES")
            raise
        finally:
            with contextlib.suppress(MySQLdb.Error):
                lock_conn.close()
