"""Reads the binlog in a background thread and queues what the writer must act on.

For the migrated table only the chosen key is decoded: an insert queues the new key as
present, a delete the old key as absent, an update its key as present (and, when the
update moves the row to another key, the old key as absent).
Changelog rows become heartbeat lag readings and state markers. A DDL statement naming
the migrated table aborts the migration: its rows would no longer match the ghost. Only
the engine's own sessions may rename the table (the cut-over): their connection ids are
in ``own_sessions``, and a statement is told apart by the session that ran it (the
QUERY event's thread id), never by a flag switched on and off around the cut-over, which
would also let pass another session's ALTER still queued, or logged while it is on.

The queue is bounded so a writer that falls behind (or is throttled) slows the reader
instead of growing memory without limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import re
import threading
from typing import Any

from ..binlog.events import BinlogPosition, RowChange, SchemaChange, TransactionEnd
from ..binlog.reader import BinlogReader
from ..context import MigrationContext
from .touched import NewestEvents

QUEUE_CAPACITY = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class KeyChange:
    """Keys of the original table touched by one row event: ``present`` holds the keys
    that have a row after the event, ``absent`` those that no longer have one (a delete,
    or the old key of an update that moved the row). ``position`` is the end of the row
    event in the binlog: inside its transaction, so once the server reports a committed
    position at or past it, the whole transaction is committed (apply/fence.py)."""

    present: tuple[tuple[Any, ...], ...]
    absent: tuple[tuple[Any, ...], ...] = ()
    position: BinlogPosition | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Marker:
    """A state value written to the changelog, seen in the stream."""

    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class Committed:
    """A transaction boundary: everything queued before it is a complete transaction."""

    position: Any


@dataclasses.dataclass(frozen=True, slots=True)
class HeartbeatSeen:
    """A heartbeat row seen in the stream, written at ``written_at`` (time.time()). It
    goes through the queue so that the lag is measured where the changes are applied:
    a backlog behind it is lag, however fast the stream reads."""

    written_at: float


StreamItem = KeyChange | Marker | Committed | HeartbeatSeen


class Streamer:
    """Feeds a queue from a BinlogReader until stopped."""

    def __init__(
        self,
        reader: BinlogReader,
        context: MigrationContext,
        *,
        table: str,
        changelog_table: str,
        capacity: int = QUEUE_CAPACITY,
        own_tables: tuple[str, ...] = (),
    ):
        self.reader = reader
        self.context = context
        self.table = table
        self.changelog_table = changelog_table
        self.queue: queue.Queue[StreamItem] = queue.Queue(maxsize=capacity)
        self.error: BaseException | None = None
        self.own_sessions: set[int] = set()
        """Connection ids of the engine's sessions whose DDL is ours (cutover/)."""
        self.newest = NewestEvents()
        """Per key, the newest row event read (the verification by key skips the keys
        whose changes are still queued)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ghost-streamer", daemon=True)
        # Our own DDL on helper tables (the ghost renamed for a cut-over attempt, a sentry)
        # names the original inside longer quoted names; it must not count as a change.
        self._own = tuple(f"`{name}`" for name in own_tables)
        self._ddl_pattern = re.compile(
            r"(?<![\w$])`?" + re.escape(table) + r"`?(?![\w$])", re.IGNORECASE
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # Closing the reader first wakes a read waiting for events (up to its timeout:
        # a run's clean-up waited 0.1-0.2 s for it); what the thread raises then is
        # ignored, the stream being stopped.
        self.reader.close()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and not self.context.aborted:
                for event in self.reader.read(1000, 0.2):
                    self._handle(event)
                self.context.streamer_position = self.reader.position
        except BaseException as exc:  # noqa: BLE001 - handed to the migrator
            if self._stop.is_set():
                return
            self.error = exc
            self.context.request_abort(f"binlog stream failed: {exc}", exc)

    def _put(self, item: StreamItem) -> None:
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                self.context.backlog = self.queue.qsize()
                return
            except queue.Full:
                continue

    def _handle(self, event: RowChange | TransactionEnd | SchemaChange) -> None:
        if isinstance(event, RowChange):
            if event.table == self.table:
                change = _key_change(event)
                if change.position is not None:
                    self.newest.note(change.present, change.position)
                    self.newest.note(change.absent, change.position)
                self._put(change)
            elif event.table == self.changelog_table and event.after is not None:
                self._changelog_row(event.after)
        elif isinstance(event, TransactionEnd):
            self._put(Committed(event.position))
        elif (
            isinstance(event, SchemaChange)
            and event.thread_id not in self.own_sessions
            and self._ddl_pattern.search(self._without_own_tables(event.sql))
        ):
            self.context.request_abort(
                f"the table {self.table} was changed by another statement during the "
                f"migration ({event.sql[:200]!r}); its rows would no longer match the ghost "
                "table. Run the migration again once no one else alters the table."
            )

    def _without_own_tables(self, sql: str) -> str:
        for name in self._own:
            sql = sql.replace(name, "")
        return sql

    def _changelog_row(self, row: tuple[Any, ...]) -> None:
        hint, value = (_text(v) for v in row)
        if hint == "heartbeat":
            with contextlib.suppress(ValueError):
                self._put(HeartbeatSeen(float(value)))
        elif hint == "state":
            self._put(Marker(value))


def _key_change(event: RowChange) -> KeyChange:
    at = event.position
    if event.kind == "insert":
        assert event.after is not None
        return KeyChange((event.after,), position=at)
    if event.kind == "delete":
        assert event.before is not None
        return KeyChange((), (event.before,), position=at)
    assert event.before is not None and event.after is not None
    if event.before == event.after:
        return KeyChange((event.after,), position=at)
    return KeyChange((event.after,), (event.before,), position=at)


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("ascii", "replace")
    return str(value)
