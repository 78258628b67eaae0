"""Applies binlog changes to the ghost table by key, coalesced per key.

Every key touched since the last batch is brought to the original's *current* state.
Each queued event says whether its key still has a row afterwards (an insert or update:
present; a delete, or the old key of an update that moved the row: absent), and only a
key's last event counts. When the ghost's only unique key is exactly the shared key:

    DELETE FROM ghost WHERE key IN (<absent keys>);
    REPLACE INTO ghost (...) SELECT ... FROM original WHERE key IN (<present keys>);

Otherwise REPLACE could delete a ghost row that conflicts on another unique key, or,
when the ghost's key only starts with the shared key (``ADD PRIMARY KEY (id, a)``), add
the row ``(id, new a)`` beside ``(id, old a)``; so every key is deleted and re-inserted
in one transaction per batch:

    DELETE FROM ghost WHERE key IN (<all keys>);
    INSERT INTO ghost (...) SELECT ... FROM original WHERE key IN (<all keys>);

Either way, however many events hit one row, it costs one statement or two (the net
effect), row values never pass through Python, and no value has to be decoded from the
binlog except the key (python-mysql-replication mis-decodes several types on MariaDB;
the key types are decoded by our own decoder). A present key whose row is gone by the
time it is re-read keeps its stale ghost row only until its own delete event, which is
later in the stream; likewise an absent key whose row came back.

Why the result is consistent with the copy (copy and apply are serialized on the same
writer connection, so neither sees the other half-done):
- The stream starts before the copy range is read, so every change committed after the
  range was captured is in the stream; every change before it is visible to the chunks.
- Keys above the captured maximum are only ever written here. Keys the copy has passed
  (``<= @ghost_lo``) are re-read here whenever they change. Keys still ahead of the copy
  are skipped: the chunk that reaches them later reads their latest committed version.
- The re-read is a READ COMMITTED consistent read (it never locks or deadlocks with the
  application). A change reaches the binlog (and us) before its transaction is visible
  in InnoDB, so before each batch the visibility fence (apply/fence.py) waits until
  every transaction up to the last position taken off the queue is committed in the
  read-view sense; each later statement's read view sees them. The chunks are fenced the
  same way (copy/copier.py): a key skipped here because the copy has not reached it is
  read by that later chunk, which must see every change consumed so far.
- Re-reading is idempotent: replaying a key twice, or reading a state newer than the
  event (a later event will re-read it again), converges to the original's state.
Once the copy is complete every key is applied; under the cut-over lock the final batch
reads the frozen original, so the ghost equals it exactly when the tables are swapped.
Each key written (a batch, a refresh) is recorded in ``touched`` for the verification by
key (verify/keyed.py), which compares it with the original's row and re-applies it if
it differs.

Because a re-read can see a row's *future* state while another row still holds its old
value in the ghost, a batch may collide on a unique key transiently (two rows swapping
an e-mail address across transactions). On a duplicate-key error the applier adds the
ghost rows holding the colliding values to the batch and retries; if the collision
remains among the original's current rows, the data really has duplicates for a new
unique key and the migration stops with a DataError.
"""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import MySQLdb

from ..binlog.events import BinlogPosition
from ..context import MigrationContext
from ..errors import DataError
from ..metrics.emitter import timed_query
from ..mysql.connection import Connection, execute, query
from ..mysql.dataerrors import (
    DUPLICATE_CONFIRMATIONS,
    ER_DUP_ENTRY,
    RETRYABLE_LOCK_ERRORS,
    as_data_error,
    raise_on_warnings,
)
from ..sql import builder
from ..sql.builder import KeyColumn
from ..sql.quote import quote_identifier as q
from ..table.plan import CopyPlan
from .fence import VisibilityFence, binlog_order
from .streamer import Committed, HeartbeatSeen, KeyChange, Marker, StreamItem
from .touched import TouchedKeys

KEYS_PER_STATEMENT = 1000
MAX_CONFLICT_ROUNDS = 20


class Applier:
    """Replays changed keys into the ghost table on the writer connection."""

    def __init__(
        self,
        conn: Connection,
        plan: CopyPlan,
        context: MigrationContext,
        *,
        ghost_table: str,
        key: tuple[KeyColumn, ...],
        fence: VisibilityFence | None = None,
        start_position: BinlogPosition | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.conn = conn
        self.clock = clock
        self.fence = fence
        self.consumed = start_position
        """The binlog position of the last row event or commit taken off the queue (the
        stream's start before any): what a re-read must see everything up to."""
        self.plan = plan
        self.context = context
        self.ghost_table = ghost_table
        self.key = key
        self.copying = True
        # False until the first chunk is copied: that chunk includes its lower bound.
        self.copied_through_lo = False
        self._sources = [q(p.source.name) for p in plan.columns]
        # REPLACE re-reads a row in one statement, but would delete a ghost row that
        # conflicts on another unique key, and keeps the old row beside the new one when
        # the ghost's key only starts with the shared key: only used when the ghost's one
        # unique key is exactly the shared key (plan.py, ``replaces_by_shared_key``).
        self.replace_safe = plan.replaces_by_shared_key
        self._targets = [p.target.name for p in plan.columns]
        self.touched: TouchedKeys | None = None
        """When set (verification by key is on, verify/keyed.py), every key written to
        the ghost by key is recorded here with the position consumed at the time."""

    # -- queue ---------------------------------------------------------------------------

    def drain(
        self,
        items: queue.Queue[StreamItem],
        *,
        max_events: int,
        wait: float = 0.0,
        locked_conn: Connection | None = None,
    ) -> list[str]:
        """Apply up to ``max_events`` queued row events; return the markers passed.

        With ``locked_conn`` (the cut-over's lock session, which holds LOCK TABLES) the
        statements run there, without BEGIN: starting a transaction would release the
        table locks.
        """
        # key -> whether the original has a row with it after the key's last event
        pending: dict[tuple[Any, ...], bool] = {}
        markers: list[str] = []
        events = 0
        last_commit = None
        heartbeat: HeartbeatSeen | None = None
        timeout = wait
        while events < max_events:
            try:
                item = items.get(timeout=timeout) if timeout > 0 else items.get_nowait()
            except queue.Empty:
                break
            timeout = 0
            if isinstance(item, KeyChange):
                for key in item.absent:
                    pending[key] = False
                for key in item.present:
                    pending[key] = True
                self._consume(item.position)
                events += 1
            elif isinstance(item, Marker):
                # Everything queued before the marker must be applied before it counts.
                self._apply(pending, locked_conn)
                pending.clear()
                markers.append(item.value)
            elif isinstance(item, Committed):
                last_commit = item.position
                self._consume(item.position)
            elif isinstance(item, HeartbeatSeen):
                heartbeat = item
        self._apply(pending, locked_conn)
        if heartbeat is not None:
            # Everything written before the heartbeat is applied now.
            self.context.lag_seconds = max(0.0, self.clock() - heartbeat.written_at)
        self.context.backlog = items.qsize()
        if events:
            self.context.add_applied(events)
        if last_commit is not None:
            self.context.applied_position = last_commit
        return markers

    def _consume(self, position: Any) -> None:
        # Positions only grow, except when the stream reconnects and delivers the rows of
        # a partly read transaction again.
        if not isinstance(position, BinlogPosition):
            return
        consumed = self.consumed
        if consumed is None:
            self.consumed = position
        elif position.file == consumed.file:
            # Once per event: comparing offsets skips parsing the file names.
            if position.pos > consumed.pos:
                self.consumed = position
        elif binlog_order(position) > binlog_order(consumed):
            self.consumed = position

    def make_visible(self) -> None:
        """Wait until every change taken off the queue so far is visible to the writer's
        next statement (apply/fence.py); the copy calls it before each chunk."""
        if self.fence is not None and self.consumed is not None:
            self.fence.wait(self.consumed)

    # -- by-key refresh ------------------------------------------------------------------

    def _apply(self, pending: dict[tuple[Any, ...], bool], locked_conn: Connection | None) -> None:
        if not pending:
            return
        with timed_query(self.context.metrics, "target", "binlog_apply"):
            self._apply_keys(pending, locked_conn)

    def _apply_keys(
        self, pending: dict[tuple[Any, ...], bool], locked_conn: Connection | None
    ) -> None:
        if not self.replace_safe:
            self.refresh(list(pending), locked_conn)
            return
        self._fence_unless_locked(locked_conn)
        conn = locked_conn or self.conn
        present = [key for key, exists in pending.items() if exists]
        absent = [key for key, exists in pending.items() if not exists]
        # Each statement is atomic on its own and idempotent: no transaction is needed
        # around them (a key whose row is gone by the time it is re-read gets its own
        # delete event later; one that came back, its own insert event).
        for batch in _batches(absent):
            self._retrying(
                conn, builder.refresh_delete(self.ghost_table, self.key, len(batch)), batch
            )
        for batch in _batches(present):
            self._retrying(conn, self._reread(len(batch), replace=True), batch)
        self._record(pending)

    def _record(self, keys: Iterable[tuple[Any, ...]]) -> None:
        if self.touched is not None:
            self.touched.add(keys, self.consumed)

    def refresh(
        self, keys: Sequence[tuple[Any, ...]], locked_conn: Connection | None = None
    ) -> None:
        """Make the ghost rows of ``keys`` equal the original's current rows."""
        self._fence_unless_locked(locked_conn)
        for batch in _batches(keys):
            self._refresh_batch(locked_conn or self.conn, batch, locked_conn is None)

    def _reread(self, rows: int, *, replace: bool = False) -> str:
        return builder.refresh_insert(
            self.plan.original.name,
            self.ghost_table,
            self._sources,
            self._targets,
            self.key,
            rows,
            copied_range_only=self.copying,
            lock_clause="",
            copied_through_lo=self.copied_through_lo,
            replace=replace,
        )

    def _retrying(self, conn: Connection, sql: str, keys: list[tuple[Any, ...]]) -> None:
        params = [value for key in keys for value in key]
        self._with_retries(lambda: self._execute(conn, sql, params))

    def _execute(self, conn: Connection, sql: str, params: Sequence[Any]) -> None:
        """One write to the ghost; with panic_on_warnings, any warning it raised stops
        the migration (inside a batch's transaction, before its COMMIT)."""
        execute(conn, sql, params)
        if self.context.config.panic_on_warnings:
            raise_on_warnings(conn, self.plan.original.name, "applying a binlog change")

    def _with_retries(
        self, statement: Callable[[], object], *, keep_duplicates: bool = False
    ) -> None:
        """Run ``statement``, again after a lock wait timeout or deadlock; data errors
        become a DataError naming the cause (a duplicate-key error is passed on as it is
        with ``keep_duplicates``, for the caller to resolve)."""
        attempts = self.context.config.default_retries
        attempt = 0
        while True:
            try:
                statement()
                return
            except MySQLdb.DatabaseError as exc:
                code = exc.args[0] if exc.args else None
                attempt += 1
                if code in RETRYABLE_LOCK_ERRORS and attempt < attempts:
                    continue
                if keep_duplicates and code == ER_DUP_ENTRY:
                    raise
                data_error = as_data_error(exc, self.plan.original.name)
                if data_error is not None:
                    raise data_error from None
                raise

    def _refresh_batch(
        self, conn: Connection, keys: list[tuple[Any, ...]], transactional: bool
    ) -> None:
        """Delete and re-insert ``keys``; a duplicate on another unique key is a stale ghost
        row, refreshed along with the batch, until the original itself holds it."""
        misses = 0
        for _ in range(MAX_CONFLICT_ROUNDS):
            try:
                self._with_retries(
                    functools.partial(self._write, conn, keys, transactional),
                    keep_duplicates=True,
                )
                self._record(keys)
                return
            except MySQLdb.IntegrityError as exc:
                extra = self._colliding_ghost_keys(conn, keys)
                misses = 0 if extra else misses + 1
                if misses >= DUPLICATE_CONFIRMATIONS:
                    raise self._data_error(exc) from None
                keys = keys + extra
        self._with_retries(functools.partial(self._write, conn, keys, transactional))
        self._record(keys)

    def _write(self, conn: Connection, keys: list[tuple[Any, ...]], transactional: bool) -> None:
        params = [value for key in keys for value in key]
        delete = builder.refresh_delete(self.ghost_table, self.key, len(keys))
        insert = self._reread(len(keys))
        if transactional:
            execute(conn, "BEGIN")
        try:
            self._execute(conn, delete, params)
            self._execute(conn, insert, params)
            if transactional:
                execute(conn, "COMMIT")
        except BaseException:
            if transactional:
                execute(conn, "ROLLBACK")
            raise

    def _fence_unless_locked(self, locked_conn: Connection | None) -> None:
        """Under the cut-over lock no fence is needed: LOCK TABLES on the original waits
        until every transaction that wrote it has ended (each holds a metadata lock on it
        until its commit, the engine's included, is done) and lets no new one write it;
        so every change before the cut-over sentinel is visible to the lock session."""
        if locked_conn is None:
            self.make_visible()

    def _colliding_ghost_keys(
        self, conn: Connection, keys: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """Keys of ghost rows whose unique values collide with the incoming rows."""
        key_names = [q(c.name) for c in self.key]
        placeholders = [c.placeholder() for c in self.key]
        cond = builder.key_list_condition(key_names, placeholders, len(keys))
        params = [value for key in keys for value in key]
        return self.colliding_keys(conn, cond, params, known=set(keys))

    def colliding_keys(
        self,
        conn: Connection,
        source_condition: str,
        params: Sequence[Any] = (),
        *,
        known: set[tuple[Any, ...]] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Keys of ghost rows holding unique values that the original's rows matching
        ``source_condition`` hold now (the ghost rows are stale: changes not applied yet)."""
        known = set(known or ())
        found: list[tuple[Any, ...]] = []
        cond = source_condition
        # No table aliases: under LOCK TABLES every alias would need its own lock.
        ghost = q(self.ghost_table)
        fetch = ", ".join(_fetch_expr(ghost, c) for c in self.key)
        for unique in self.plan.ghost.unique_keys:
            if unique.name == self.plan.ghost_key_name:
                continue
            sources = self._sources_for(unique.columns)
            if sources is None:
                continue
            join = " AND ".join(
                f"{ghost}.{q(target)} <=> s.{q(f'c{i}')}" for i, target in enumerate(unique.columns)
            )
            select = ", ".join(f"{src} AS {q(f'c{i}')}" for i, src in enumerate(sources))
            sql = (
                f"SELECT {fetch} FROM {ghost} JOIN (SELECT {select} "
                f"FROM {q(self.plan.original.name)} WHERE {cond}) AS s ON {join}"
            )
            for row in query(conn, sql, params):
                if row not in known:
                    known.add(row)
                    found.append(row)
        return found

    def resolve_chunk_conflicts(self, range_condition: str) -> int:
        """A chunk copy hit a duplicate: refresh the stale ghost rows it collided with.

        A chunk reads the original's current rows, while rows copied earlier may still
        hold values their owners have since given up (changes not applied yet). Returns
        how many ghost rows were refreshed; 0 means the duplicate is real.
        """
        stale = self.colliding_keys(self.conn, range_condition)
        if stale:
            self.refresh(stale)
        return len(stale)

    def _sources_for(self, target_columns: Iterable[str]) -> list[str] | None:
        by_target = {p.target.name.lower(): q(p.source.name) for p in self.plan.columns}
        out = []
        for name in target_columns:
            if name.lower() not in by_target:
                return None
            out.append(by_target[name.lower()])
        return out

    def _data_error(self, exc: Exception) -> DataError:
        return as_data_error(exc, self.plan.original.name) or DataError(str(exc))


def _batches(keys: Sequence[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        yield list(keys[start : start + KEYS_PER_STATEMENT])


def _fetch_expr(table: str, key: KeyColumn) -> str:
    """Read a ghost key value in the same form the binlog decoder produces."""
    col = f"{table}.{q(key.ghost_name)}"
    kind = key.column.data_type
    if kind in ("enum", "set", "bit"):
        return f"{col} + 0"
    if kind == "timestamp":
        return f"UNIX_TIMESTAMP({col})"
    if kind in ("date", "datetime", "time"):
        return f"CAST({col} AS CHAR)"
    if key.column.is_string:
        return f"CAST({col} AS BINARY)"
    return col
