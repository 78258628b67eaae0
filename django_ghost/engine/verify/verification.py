"""The checksum step: once the stream has caught up, hold the original still for a moment
under a read lock, open one consistent snapshot of both tables, then compare them in the
background while the apply goes on.

checksum.py explains the design and does the comparing; this module runs it within the
migration: the retries for the read lock, the sentinel drain, the waiting loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import MySQLdb

from ..apply.streaming import Streaming, zero_date_modes
from ..config import GhostConfig
from ..copy.deferred import IndexBuild
from ..errors import GhostError
from ..mysql.connection import Connection, ConnectionSpec, execute
from ..mysql.server import ServerFacts
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog
from ..table.plan import CopyPlan
from .checksum import Checksum


class Verification:
    """Compares the ghost with the original at one consistent point (see checksum.py).

    ``catch_up`` drains the backlog before each read-lock attempt; ``streaming`` applies
    the changes meanwhile (see its check_abort and tend).
    """

    def __init__(
        self,
        spec: ConnectionSpec,
        connect_fn: Callable[..., Connection],
        plan: CopyPlan,
        facts: ServerFacts,
        *,
        ghost: str,
        changelog: Changelog,
        streaming: Streaming,
        catch_up: Callable[[], None],
    ):
        self.spec = spec
        self.connect_fn = connect_fn
        self.config = streaming.context.config
        self.plan = plan
        self.facts = facts
        self.ghost = ghost
        self.key = plan.shared_key
        self.changelog = changelog
        self.streaming = streaming
        self.catch_up = catch_up

    def run(self, build: IndexBuild | None = None) -> int:
        """Verify; return the number of rows compared, or raise on a mismatch. ``build``
        (the deferred indexes) starts once the snapshot is open; the ghost is compared
        after it ended (checksum.py says why)."""
        checksum = Checksum(
            open_compare_session(self.connect_fn, self.spec, self.config, self.plan, self.facts),
            self.plan,
            ghost_table=self.ghost,
            key=self.key,
            chunk_size=self.config.checksum_chunk_size,
            ghost_conn=open_compare_session(
                self.connect_fn, self.spec, self.config, self.plan, self.facts
            ),
            context=self.streaming.context,
        )
        try:
            self._open_snapshot(checksum)
            return self._compare(checksum, build)
        finally:
            checksum.conn.close()
            checksum.ghost_conn.close()

    def _open_snapshot(self, checksum: Checksum) -> None:
        timeout = self.config.cut_over_lock_timeout_seconds
        for attempt in range(1, self.config.default_retries + 1):
            self.catch_up()
            self.streaming.context.set_phase("verifying")
            if self._snapshot_under_read_lock(checksum, timeout):
                return
            time.sleep(min(attempt, 5))
        raise GhostError(
            f"Could not take a short read lock on {self.config.table} for the checksum "
            f"after {self.config.default_retries} attempts; long transactions hold it. "
            "Retry later or set checksum=false."
        )

    def _compare(self, checksum: Checksum, build: IndexBuild | None) -> int:
        ghost_ready = None
        if build is not None:
            build.start()
            ghost_ready = build.finished
        finished = threading.Event()
        thread = checksum.compare_in_thread(finished.set, ghost_ready)
        try:
            while not finished.is_set():
                self.streaming.tend()
                if ghost_ready is None or ghost_ready.is_set():
                    self.streaming.context.set_phase("verifying")
        finally:
            # An abort: the comparison stops after its current chunk and rolls back, so
            # its metadata locks do not hold up the release's DROP of the ghost.
            checksum.cancel()
            thread.join()
        if checksum.error is not None:
            raise checksum.error
        return checksum.rows_compared

    def _snapshot_under_read_lock(self, checksum: Checksum, timeout: int) -> bool:
        lock = self.connect_fn(self.spec)
        try:
            execute(lock, f"SET SESSION lock_wait_timeout = {timeout}")
            try:
                execute(lock, f"LOCK TABLES {q(self.config.table)} READ")
            except MySQLdb.OperationalError:
                return False
            marker = f"checksum-sentinel:{time.time_ns()}"
            self.changelog.state(marker)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                self.streaming.check_abort()
                markers = self.streaming.applier.drain(
                    self.streaming.streamer.queue, max_events=100_000, wait=0.05
                )
                if marker in markers:
                    checksum.open_snapshot()
                    # Every key applied so far is compared at this snapshot: the
                    # verification by key (keyed.py) needs only the ones applied after.
                    touched = self.streaming.applier.touched
                    if touched is not None:
                        touched.clear()
                    return True
            return False
        finally:
            with contextlib.suppress(MySQLdb.Error):
                execute(lock, "UNLOCK TABLES")
            lock.close()


def open_compare_session(
    connect_fn: Callable[..., Connection],
    spec: ConnectionSpec,
    config: GhostConfig,
    plan: CopyPlan,
    facts: ServerFacts,
) -> Connection:
    """A session that compares the two tables (the checksum's, the verification by
    key's): the writer's time zone when the ALTER converts between DATETIME and
    TIMESTAMP (the conversion happened in it), UTC otherwise, and the writer's SQL mode."""
    zone = "+00:00"
    if plan.converts_datetime_timestamp:
        zone = facts.global_time_zone or "SYSTEM"
    return connect_fn(spec, time_zone=zone, sql_mode_remove=zero_date_modes(config))
