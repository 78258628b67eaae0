"""Verify, before the cut-over, that the ghost table holds exactly the original's rows.

Both tables must be compared at one consistent point while the application keeps
writing. The design (close to Spirit's):

1. A lock session takes ``LOCK TABLES original READ`` (bounded by the cut-over lock
   timeout): application writes to the original wait, reads go on.
2. A sentinel state row is written to the changelog and the writer applies every change
   queued before it; the ghost now equals the frozen original.
3. A checksum session opens ``START TRANSACTION WITH CONSISTENT SNAPSHOT``: it sees both
   tables as they are at this instant, and keeps seeing them so.
4. The lock is released. The writing pause is the time of steps 2-3 (a backlog drain),
   not the time of the comparison.
5. In a background thread the checksum sessions compare the tables chunk by chunk over
   the chosen key (row count, BIT_XOR and SUM of each row's CRC32 over every shared
   column, see ``row_digests``), while the writer keeps applying new changes to the
   ghost outside the snapshot. Before each chunk a session waits while the migration is
   throttled (``Checksum._before_chunk``).

Columns whose type changes are compared after converting the original's value the way
the ALTER converts it (e.g. ``CAST(x AS DECIMAL(12,4))``, ``CONVERT(s USING utf8mb4)``),
so a legitimate conversion does not read as a mismatch. A mismatch aborts the migration
and reports the first key range that differs; the original is untouched.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..context import MigrationContext
from ..copy.bounds import read_bounds, restore_bounds
from ..errors import AbortedError, ChecksumMismatchError
from ..metrics.emitter import record_sleep
from ..mysql.connection import Connection, execute, query, scalar
from ..sql import builder
from ..sql.builder import KeyColumn
from ..sql.quote import quote_identifier as q
from ..table.plan import ColumnPair, CopyPlan

_INTEGERS = ("tinyint", "smallint", "mediumint", "int", "bigint")


def _same_type(pair: ColumnPair) -> bool:
    s, t = pair.source, pair.target
    return (s.column_type.lower(), s.charset, s.collation) == (
        t.column_type.lower(),
        t.charset,
        t.collation,
    )


def _cast_target(pair: ColumnPair) -> str | None:
    t = pair.target
    if t.data_type in _INTEGERS:
        return "UNSIGNED" if t.unsigned else "SIGNED"
    if t.data_type == "decimal":
        return f"DECIMAL({t.numeric_precision or 10},{t.numeric_scale or 0})"
    if t.data_type in ("float", "double"):
        return "DOUBLE"
    if t.data_type == "date":
        return "DATE"
    if t.data_type in ("datetime", "timestamp"):
        return f"DATETIME({t.datetime_precision or 0})"
    if t.data_type == "time":
        return f"TIME({t.datetime_precision or 0})"
    return None


def column_exprs(pair: ColumnPair) -> tuple[str, str]:
    """(expression over the original column, expression over the ghost column)."""
    source, target = q(pair.source.name), q(pair.target.name)
    if _same_type(pair):
        if pair.source.is_string:
            # The stored bytes: strings of different character sets in one CONCAT_WS
            # would be converted to a common one, or refused ("Illegal mix of
            # collations") when there is none.
            return f"CAST({source} AS BINARY)", f"CAST({target} AS BINARY)"
        return source, target
    if pair.target.is_string and pair.target.charset:
        if pair.source.is_string:
            converted = f"CONVERT({source} USING {pair.target.charset})"
        else:
            converted = f"CAST({source} AS CHAR CHARACTER SET {pair.target.charset})"
        return f"HEX({converted})", f"HEX({target})"
    if pair.target.is_binary_string or pair.target.data_type == "bit":
        return f"HEX({source})", f"HEX({target})"
    cast = _cast_target(pair)
    if cast is not None:
        return f"CAST(CAST({source} AS {cast}) AS CHAR)", f"CAST({target} AS CHAR)"
    return f"CAST({source} AS CHAR)", f"CAST({target} AS CHAR)"


def row_digests(plan: CopyPlan) -> tuple[list[str], list[str]]:
    """The parts of a row's digest over every shared column, for the original's rows and
    for the ghost's; ``builder.checksum_chunk`` hashes each row as the CRC32 of their
    CONCAT_WS. The checksum and the verification by key (keyed.py) compare with these.

    CONCAT_WS skips NULLs, so a nullable column adds ``ISNULL(column)`` after its value:
    without it, a NULL moved to the next column (``(NULL, '7')`` and ``('7', NULL)``)
    would hash alike. One CRC32 over the row costs about half of
    one CRC32 per column (0.55-0.7 s against 1.2-1.3 s per million sysbench rows, one
    core, measured on the 2-core reference box)."""
    original: list[str] = []
    ghost: list[str] = []
    for pair in plan.columns:
        o, g = column_exprs(pair)
        original.append(o)
        ghost.append(g)
        if pair.source.nullable or pair.target.nullable:
            original.append(f"ISNULL({o})")
            ghost.append(f"ISNULL({g})")
    return original, ghost


@dataclass(frozen=True)
class _Chunk:
    """One key range walked on the original, with the original's three figures."""

    first: bool
    low: tuple[Any, ...]
    high: tuple[Any, ...]
    figures: tuple[Any, ...]


class Checksum:
    """Chunked comparison of original and ghost inside one consistent snapshot, on two
    sessions that snapshot at the same point.

    The original's session walks the original's key ranges and sums each; the ghost's
    session sums the same ranges of the ghost as they come, and the original's session
    joins it once its walk is done. With ``ghost_ready``, no session reads the ghost
    before that event is set: the deferred index build (copy/deferred.py) runs meanwhile,
    and a session that had read the ghost would hold a metadata lock the build's final
    exclusive lock waits for. The snapshot stays valid across that build: InnoDB refuses
    an older read view only on the new indexes, and the ghost is read by its key.
    """

    def __init__(
        self,
        conn: Connection,
        plan: CopyPlan,
        *,
        ghost_table: str,
        key: Sequence[KeyColumn],
        chunk_size: int,
        ghost_conn: Connection,
        context: MigrationContext | None = None,
    ):
        self.conn = conn
        self.context = context
        self.plan = plan
        self.ghost_table = ghost_table
        self.key = tuple(key)
        self.chunk_size = chunk_size
        self._orig_row, self._ghost_row = row_digests(plan)
        self.ghost_conn = ghost_conn
        self.rows_compared = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()

    def open_snapshot(self) -> None:
        """Both sessions snapshot while both tables are frozen (see the module docstring),
        so each side can be read on its own session, in parallel, at the same point."""
        execute(self.conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
        execute(self.ghost_conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT")

    def compare(self, ghost_ready: threading.Event | None = None) -> None:
        """Compare every chunk; raise ChecksumMismatchError at the first difference."""
        if ghost_ready is None:
            ghost_ready = threading.Event()
            ghost_ready.set()
        try:
            self._compare(ghost_ready)
            if self._stop.is_set():
                raise AbortedError("The checksum was stopped before it ended.")
        finally:
            execute(self.conn, "ROLLBACK")
            execute(self.ghost_conn, "ROLLBACK")

    def cancel(self) -> None:
        """Stop the comparison after the chunk each session is summing."""
        self._stop.set()

    def compare_in_thread(
        self, on_done: Callable[[], None], ghost_ready: threading.Event | None = None
    ) -> threading.Thread:
        def run() -> None:
            try:
                self.compare(ghost_ready)
            except BaseException as exc:  # noqa: BLE001 - read by the migrator
                self.error = exc
            finally:
                on_done()

        thread = threading.Thread(target=run, name="ghost-checksum", daemon=True)
        thread.start()
        return thread

    def _compare(self, ghost_ready: threading.Event) -> None:
        original = self.plan.original.name
        index = self.plan.key.name
        execute(self.conn, "SET @ghost_found = 0")
        execute(
            self.conn, builder.select_bound(original, index, self.key, descending=False, into="clo")
        )
        if not scalar(self.conn, "SELECT @ghost_found"):
            ghost_rows = 0
            if _wait(ghost_ready, self._stop):
                ghost_rows = scalar(self.conn, f"SELECT COUNT(*) FROM {self._ghost_from}")
            if ghost_rows:
                raise ChecksumMismatchError(
                    f"The original table is empty but the ghost table has {ghost_rows} rows."
                )
            return
        execute(
            self.conn, builder.select_bound(original, index, self.key, descending=True, into="cmax")
        )
        chunks: queue.SimpleQueue[_Chunk | None] = queue.SimpleQueue()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ghost-sum") as pool:
            helper = pool.submit(self._sum_ghost, self.ghost_conn, chunks, ghost_ready)
            try:
                self._walk_original(chunks)
                chunks.put(None)
                self._sum_ghost(self.conn, chunks, ghost_ready)
            except BaseException:
                self._stop.set()
                chunks.put(None)
                raise
            finally:
                # The helper's mismatch, when it found one first, is the one raised.
                helper.result()
        if not self._stop.is_set():
            self._check_outside_range()

    def _before_chunk(self) -> bool:
        """Wait while the migration is throttled (a throttle command, max-load, a
        replica's lag, ...), as the copy does before each chunk; False once the
        comparison is to stop. The latency target's pause is not taken: the checksum
        only reads, in a snapshot, and its share of the load's latency is small (one
        session instead of two measured no better), while a pause of up to 2 s before
        each of its chunks made a loaded run's checksum take 97 s instead of 2-5."""
        context = self.context
        if context is not None and context.throttle_reason is not None:
            started = time.monotonic()
            while context.throttle_reason is not None and not self._stop.wait(0.1):
                pass
            record_sleep(context.metrics, "checksum_throttle", time.monotonic() - started)
        return not self._stop.is_set()

    @property
    def _ghost_from(self) -> str:
        # Forced: the snapshot predates the deferred indexes, which InnoDB refuses to it
        # (error 1412), and a plain COUNT(*) would pick the smallest index.
        return f"{q(self.ghost_table)} FORCE INDEX ({q(self.plan.ghost_key_name)})"

    def _walk_original(self, chunks: queue.SimpleQueue[_Chunk | None]) -> None:
        """Sum the original's key ranges on the original's session, queuing each range."""
        original = self.plan.original.name
        index = self.plan.key.name
        names = [q(c.name) for c in self.key]
        first = True
        while self._before_chunk():
            execute(self.conn, "SET @ghost_found = 0")
            execute(
                self.conn,
                builder.select_chunk_end(
                    original,
                    index,
                    self.key,
                    first=first,
                    offset=self.chunk_size - 1,
                    lower="clo",
                    upper="cmax",
                    into="chi",
                ),
            )
            last = not scalar(self.conn, "SELECT @ghost_found")
            if last:
                execute(self.conn, builder.assign_vars("chi", "cmax", len(self.key)))
            cond = builder.range_condition(names, first=first, lower="clo", upper="chi")
            figures = tuple(
                query(self.conn, builder.checksum_chunk(original, index, self._orig_row, cond))[0]
            )
            low = read_bounds(self.conn, self.key, "clo")
            high = read_bounds(self.conn, self.key, "chi")
            chunks.put(_Chunk(first, low, high, figures))
            self.rows_compared += int(figures[0])
            if last:
                return
            execute(self.conn, builder.assign_vars("clo", "chi", len(self.key)))
            first = False

    def _sum_ghost(
        self,
        conn: Connection,
        chunks: queue.SimpleQueue[_Chunk | None],
        ghost_ready: threading.Event,
    ) -> None:
        """Sum the ghost's side of each queued range on ``conn`` and compare, until the
        queue's end (left in the queue for the other session)."""
        if not _wait(ghost_ready, self._stop):
            return
        names = [q(c.ghost_name) for c in self.key]
        try:
            while self._before_chunk():
                chunk = chunks.get()
                if chunk is None:
                    chunks.put(None)
                    return
                restore_bounds(conn, self.key, "clo", chunk.low)
                restore_bounds(conn, self.key, "chi", chunk.high)
                cond = builder.range_condition(names, first=chunk.first, lower="clo", upper="chi")
                sql = builder.checksum_chunk(
                    self.ghost_table, self.plan.ghost_key_name, self._ghost_row, cond
                )
                theirs = tuple(query(conn, sql)[0])
                if theirs != chunk.figures:
                    raise ChecksumMismatchError(
                        self._describe_mismatch(conn, chunk.figures, theirs)
                    )
        except BaseException:
            self._stop.set()
            raise

    def _check_outside_range(self) -> None:
        ghost_names = [q(c.ghost_name) for c in self.key]
        below = builder.compare_to_vars(ghost_names, "<", "cfirst")
        execute(
            self.conn,
            builder.select_bound(
                self.plan.original.name,
                self.plan.key.name,
                self.key,
                descending=False,
                into="cfirst",
            ),
        )
        above = builder.compare_to_vars(ghost_names, ">", "cmax")
        extra = scalar(
            self.conn, f"SELECT COUNT(*) FROM {self._ghost_from} WHERE {below} OR {above}"
        )
        if extra:
            raise ChecksumMismatchError(
                f"The ghost table has {extra} rows outside the original's key range."
            )

    def _describe_mismatch(
        self, conn: Connection, ours: Sequence[Any], theirs: Sequence[Any]
    ) -> str:
        lo = scalar(
            conn,
            "SELECT CONCAT_WS(', ', "
            + ", ".join(f"QUOTE({builder.var('clo', i)})" for i in range(len(self.key)))
            + ")",
        )
        hi = scalar(
            conn,
            "SELECT CONCAT_WS(', ', "
            + ", ".join(f"QUOTE({builder.var('chi', i)})" for i in range(len(self.key)))
            + ")",
        )
        return (
            f"Checksum mismatch between {self.plan.original.name} and {self.ghost_table} in "
            f"the key range ({lo}) .. ({hi}): original has {ours[0]} rows, ghost has "
            f"{theirs[0]} rows (or their contents differ). Nothing was swapped; the original "
            "table is untouched. Please report this with the ALTER and table definition."
        )


def _wait(ready: threading.Event, failed: threading.Event) -> bool:
    """Wait until ``ready``; False if ``failed`` came first."""
    while not ready.wait(0.05):
        if failed.is_set():
            return False
    return not failed.is_set()
