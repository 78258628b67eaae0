"""What every cut-over attempt shares, whatever its variant: the errors, the steps under
the lock, and the retries.

Under its lock an attempt (atomic.py, two_step.py) does the same three things:

1. It writes a sentinel state row to the changelog and the writer applies every binlog
   change queued before it; the ghost now equals the frozen original.
2. It carries AUTO_INCREMENT over, so ids deleted at the top of the original are never
   handed out again.
3. Safety net: when the migration's row count is at most
   ``cut_over_count_check_max_rows``, it counts both tables (on two sessions in parallel
   when it has them, one after the other on one session otherwise). Different counts fail
   the migration, not the attempt (retrying cannot fix a divergence): nothing is renamed,
   and the ghost is kept for inspection.

Each attempt is bounded by the lock timeout T; a failed attempt leaves the original
intact and is retried with a (optionally exponential) backoff, up to ``default_retries``.
"""

from __future__ import annotations

import abc
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import MySQLdb

from ..apply.applier import Applier
from ..apply.streamer import Streamer
from ..config import GhostConfig
from ..context import MigrationContext
from ..errors import CutOverError, DataError, GhostError
from ..mysql.connection import Connection, ConnectionSpec, execute, query, scalar
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog

log = logging.getLogger("django_ghost")

SESSIONS_HINT = "cut-over-sessions"
"""The changelog row holding the connection ids of the last attempt's sessions."""


class CutOverAttemptFailed(GhostError):
    """One attempt failed; the original is intact and the attempt may be retried."""


class CutOverCountMismatch(CutOverError):
    """Under the cut-over lock the ghost's row count differed from the frozen original's;
    nothing was renamed. Not retried: another attempt would find the same divergence."""

    def __init__(self, message: str, *, original_rows: int, ghost_rows: int):
        super().__init__(message)
        self.original_rows = original_rows
        self.ghost_rows = ghost_rows


class CountsDiffer(Exception):
    """Raised under the lock; :func:`retry` turns it into CutOverCountMismatch once the
    attempt has released everything."""

    def __init__(self, original_rows: int, ghost_rows: int):
        super().__init__(f"{original_rows} != {ghost_rows}")
        self.original_rows = original_rows
        self.ghost_rows = ghost_rows


class Attempt(abc.ABC):
    """One cut-over variant: :meth:`run` makes one attempt with the steps shared here."""

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
        self.timeout = context.config.cut_over_lock_timeout_seconds

    def own_ddl_of(self, conn: Connection) -> int:
        """Let ``conn``'s DDL rename the original without stopping the migration (the
        streamer tells it by the session that ran it); returns its connection id. Every
        other session's DDL on the original still stops it, between attempts and after
        a failed one too."""
        connection_id = int(scalar(conn, "SELECT CONNECTION_ID()"))
        self.streamer.own_sessions.add(connection_id)
        return connection_id

    def record_sessions(self, *connection_ids: int) -> None:
        """Note this attempt's sessions in the changelog: if the engine dies, a RENAME
        they sent may still wait on the server, and a resume ends them first
        (state/sessions.py)."""
        self.changelog.write(SESSIONS_HINT, json.dumps(list(connection_ids)))

    @abc.abstractmethod
    def run(self) -> None:
        """Swap the ghost in, or raise CutOverAttemptFailed (or a MySQL OperationalError)
        with the original intact, or CountsDiffer."""

    def lock_tables(self, lock_conn: Connection, tables: str) -> float:
        """``LOCK TABLES`` on the lock session; the attempt fails (and is retried) when the
        lock wait times out. Returns when the lock was taken (the stall starts there)."""
        try:
            execute(lock_conn, f"LOCK TABLES {tables}")
        except MySQLdb.OperationalError as exc:
            raise CutOverAttemptFailed(f"could not lock {self.original}: {exc}") from exc
        return time.monotonic()

    def apply_up_to_lock(self, lock_conn: Connection | None) -> None:
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
                    # An abort raised by an event before the sentinel (another session's
                    # ALTER of the original just before the lock) must stop this swap.
                    if self.context.aborted:
                        raise CutOverAttemptFailed(f"aborted: {self.context.abort_reason}")
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

    def carry_auto_increment(self, lock_conn: Connection) -> None:
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

    def check_row_counts(self, original_conn: Connection, ghost_conn: Connection) -> None:
        """Raise CountsDiffer unless both tables hold as many rows (run under the lock,
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
            original_rows = _count(original_conn, self.original)
            ghost_rows = _count(ghost_conn, self.ghost)
        else:
            original_rows, ghost_rows = self._count_in_parallel(original_conn, ghost_conn)
        log.info(
            "cut-over row count check: %s %d rows, %s %d rows (%.3f s under the lock)",
            self.original,
            original_rows,
            self.ghost,
            ghost_rows,
            time.monotonic() - started,
        )
        if original_rows != ghost_rows:
            raise CountsDiffer(original_rows, ghost_rows)

    def _count_in_parallel(
        self, original_conn: Connection, ghost_conn: Connection
    ) -> tuple[int, int]:
        results: dict[str, int] = {}
        errors: list[BaseException] = []

        def count_ghost() -> None:
            try:
                results["ghost"] = _count(ghost_conn, self.ghost)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                errors.append(exc)

        worker = threading.Thread(target=count_ghost, name="ghost-count", daemon=True)
        worker.start()
        try:
            original_rows = _count(original_conn, self.original)
        finally:
            worker.join()
        if errors:
            raise errors[0]
        return original_rows, results["ghost"]

    def exists(self, table: str) -> bool:
        return bool(
            query(
                self.main,
                "SELECT 1 FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (table,),
            )
        )


def _count(conn: Connection, table: str) -> int:
    return int(scalar(conn, f"SELECT COUNT(*) FROM {q(table)}"))


def retry(
    attempt: Attempt,
    *,
    sleep: Callable[[float], None],
    before_attempt: Callable[[], None] | None,
) -> None:
    """Run ``attempt`` until it succeeds or ``default_retries`` attempts failed;
    ``before_attempt`` (the catch-up) runs before each."""
    context = attempt.context
    config = context.config
    last_error: Exception | None = None
    for number in range(1, config.default_retries + 1):
        if context.aborted:
            raise CutOverError(f"cut-over abandoned: {context.abort_reason}")
        if before_attempt is not None:
            before_attempt()
        context.cut_over_attempts = number
        try:
            attempt.run()
            return
        except (CutOverAttemptFailed, MySQLdb.OperationalError) as exc:
            last_error = exc
            context.throttle_reason = f"cut-over attempt {number} failed: {exc}"
        except CountsDiffer as exc:
            raise _count_mismatch(exc, original=attempt.original, ghost=attempt.ghost) from None
        sleep(backoff(config, number))
    raise CutOverError(
        f"Cut-over did not succeed after {config.default_retries} attempts (last error: "
        f"{last_error}). The original table {attempt.original} is intact. Find what holds "
        f"locks on {attempt.original} (long transactions, SHOW PROCESSLIST) and run again, "
        "or raise cut_over_lock_timeout_seconds."
    )


def backoff(config: GhostConfig, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt``."""
    if config.cut_over_exponential_backoff:
        return float(min(config.exponential_backoff_max_interval, 2 ** (attempt - 1)))
    return 1.0


def _count_mismatch(counts: CountsDiffer, *, original: str, ghost: str) -> CutOverCountMismatch:
    where = (
        f"The ghost table {ghost} is kept for inspection (compare it with "
        f"{original}; django-ghost --cleanup or DROP TABLE removes it)."
    )
    return CutOverCountMismatch(
        f"Cut-over refused: under the cut-over lock, after the final changes were "
        f"applied, the original table {original} has {counts.original_rows} rows but "
        f"the ghost table has {counts.ghost_rows}. Nothing was renamed: the original "
        f"table {original} is untouched. {where} The migration failed rather than "
        "retried, since another attempt would swap in the same divergence. This is a "
        "django_ghost bug: please report it with both counts, the ALTER and this run's "
        "log.",
        original_rows=counts.original_rows,
        ghost_rows=counts.ghost_rows,
    )
