"""Copies the original table into the ghost table, one key-range chunk at a time.

Each chunk is a single ``INSERT INTO ghost ... SELECT ... FROM original FORCE INDEX (key)
WHERE <range>`` statement on the writer connection: rows never pass through Python. The
writer reads with READ COMMITTED and no locking clause, so a chunk never waits for or
deadlocks with the application. Before each chunk ``before_chunk`` (the applier's
visibility fence, apply/fence.py) waits until every change the apply has taken from the
binlog is visible: the apply skips keys the copy has not reached yet and relies on the
chunk that reaches them to read their latest committed version. A change committed
later reaches the ghost through the apply, which re-reads every key the copy has passed
(see apply/applier.py). A duplicate-key error is either a stale ghost row (refreshed,
then the chunk is retried) or a real duplicate for a new unique key (a DataError), never
silently skipped. Deadlocks and lock-wait timeouts are retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import MySQLdb

from ..context import MigrationContext
from ..errors import DataError, GhostError
from ..metrics.emitter import record_sleep, timed_query
from ..mysql.connection import Connection, execute
from ..mysql.dataerrors import (
    DUPLICATE_CONFIRMATIONS,
    RETRYABLE_LOCK_ERRORS,
    as_data_error,
    raise_on_warnings,
)
from ..sql import builder
from ..sql.builder import KeyColumn
from ..sql.quote import quote_identifier as q
from ..table.plan import CopyPlan
from .chunker import Chunker

MAX_CONFLICT_ROUNDS = 20
ER_DUP_MARK = "Duplicate entry"
MIN_CHUNK, MAX_CHUNK = 10, 100_000


class Copier:
    """Copies chunks on the writer connection; progress goes to the context."""

    def __init__(
        self,
        conn: Connection,
        plan: CopyPlan,
        chunker: Chunker,
        context: MigrationContext,
        *,
        ghost_table: str,
        key: tuple[KeyColumn, ...],
        lock_clause: str,
        sleep: object = time.sleep,
        resolve_conflicts: Callable[[str], int] | None = None,
        before_chunk: Callable[[], None] | None = None,
        on_retry: Callable[[str], None] | None = None,
    ):
        self.conn = conn
        self.plan = plan
        self.chunker = chunker
        self.context = context
        self.ghost_table = ghost_table
        self.key = key
        self.lock_clause = lock_clause
        self._sleep = sleep
        self.resolve_conflicts = resolve_conflicts
        self.before_chunk = before_chunk
        self.on_retry = on_retry
        """Told the error of each failed chunk attempt that is retried (the
        batch-copy-retry hook)."""
        self.last_seconds = 0.0
        """How long the last chunk took."""
        self._sources = [q(p.source.name) for p in plan.columns]
        self._targets = [p.target.name for p in plan.columns]

    @property
    def done(self) -> bool:
        return self.chunker.done

    def copy_next(self) -> bool:
        """Copy the next chunk; False once the copy is complete."""
        # The latency target paces below the live chunk size (context.Pacing.scale).
        configured = self.context.knobs.chunk_size
        size = self.context.pacing.scale(configured, MIN_CHUNK)
        with timed_query(self.context.metrics, "source", "range_select"):
            more = self.chunker.next_chunk(size)
        if not more:
            return False
        sql = builder.copy_chunk(
            self.plan.original.name,
            self.ghost_table,
            self.plan.key.name,
            self._sources,
            self._targets,
            self.key,
            first=self.chunker.first,
            lock_clause=self.lock_clause,
        )
        started = time.monotonic()
        if self.before_chunk is not None:
            self.before_chunk()
        with timed_query(self.context.metrics, "target", "chunk_copy"):
            rows = self._copy_resolving_conflicts(sql)
        elapsed = time.monotonic() - started
        self.last_seconds = elapsed
        self.chunker.advance()
        self.context.add_copied(rows)
        # The time target steers the configured size: judge it by what a chunk of that
        # size would have taken, not the paced one.
        self._adapt_chunk_size(configured, elapsed * configured / size)
        nice = self.context.knobs.nice_ratio
        if nice > 0:
            record_sleep(self.context.metrics, "chunk_throttle", elapsed * nice)
            self._sleep(elapsed * nice)  # type: ignore[operator]
        return True

    def _copy_resolving_conflicts(self, sql: str) -> int:
        """Copy the chunk; on a duplicate key, refresh the stale ghost rows it collided
        with and try again, so only a duplicate that exists in the data stops the copy."""
        misses = 0
        for _ in range(MAX_CONFLICT_ROUNDS):
            try:
                return self._execute_with_retries(sql)
            except DataError as exc:
                if self.resolve_conflicts is None or ER_DUP_MARK not in str(exc):
                    raise
                cond = builder.range_condition(
                    [q(c.name) for c in self.key],
                    first=self.chunker.first,
                    lower="lo",
                    upper="hi",
                )
                misses = 0 if self.resolve_conflicts(cond) else misses + 1
                if misses >= DUPLICATE_CONFIRMATIONS:
                    raise
        return self._execute_with_retries(sql)

    def _execute_with_retries(self, sql: str) -> int:
        attempts = self.context.config.default_retries
        for attempt in range(1, attempts + 1):
            try:
                rows = execute(self.conn, sql)
                if self.context.config.panic_on_warnings:
                    raise_on_warnings(self.conn, self.plan.original.name, "a copy chunk")
                return rows
            except MySQLdb.OperationalError as exc:
                data_error = as_data_error(exc, self.plan.original.name)
                if data_error is not None:
                    raise data_error from None
                if exc.args and exc.args[0] in RETRYABLE_LOCK_ERRORS and attempt < attempts:
                    if self.on_retry is not None:
                        self.on_retry(f"{exc.args[0]}: {exc.args[-1]}")
                    self._sleep(min(0.1 * attempt, 1.0))  # type: ignore[operator]
                    continue
                raise
            except MySQLdb.IntegrityError as exc:
                data_error = as_data_error(exc, self.plan.original.name)
                if data_error is not None:
                    raise data_error from None
                raise
            except MySQLdb.DataError as exc:
                data_error = as_data_error(exc, self.plan.original.name)
                if data_error is not None:
                    raise data_error from None
                raise
        raise GhostError("unreachable: copy retries exhausted without an error")

    def _adapt_chunk_size(self, size: int, elapsed: float) -> None:
        """With chunk_time_target_millis set, steer the chunk size towards the target
        duration, changing it by at most 2x per chunk so one slow chunk (a lock wait)
        cannot collapse it."""
        target = self.context.config.chunk_time_target_millis / 1000.0
        if target <= 0 or elapsed <= 0:
            return
        factor = max(0.5, min(2.0, target / elapsed))
        new_size = int(max(MIN_CHUNK, min(MAX_CHUNK, size * factor)))
        with self.context.lock:
            self.context.knobs.chunk_size = new_size
