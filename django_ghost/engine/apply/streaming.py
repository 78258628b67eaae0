"""The running apply side of a migration, and the loops that keep the ghost current.

:class:`Streaming` holds what the start-streaming step started (the binlog streamer, the
changelog heartbeat, the applier on the writer session) and gives the migrator's thread
its turns of applying: between copy chunks, while an index builds or the checksum
compares, while the cut-over is postponed, and to catch up before a lock is taken; after
each, the turns registered in ``after_apply`` (the verification by key's) run.
:func:`open_stream`, :func:`open_heartbeat` and :func:`open_applier` make its parts.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ..binlog.events import BinlogPosition
from ..binlog.reader import BinlogReader, WatchSpec
from ..config import GhostConfig
from ..context import MigrationContext
from ..errors import AbortedError
from ..metrics.emitter import record_sleep
from ..mysql.connection import Connection, ConnectionSpec
from ..mysql.server import ServerFacts
from ..sql.names import TableNames, cutover_names
from ..table.changelog import Heartbeat
from ..table.plan import CopyPlan
from .applier import Applier
from .fence import FenceProbe, VisibilityFence
from .streamer import Streamer

log = logging.getLogger(__name__)

PAUSE_POLL_SECONDS = 0.05
"""While a latency pause is spent applying, the longest wait for the next event: the
pause ends on time even when nothing is queued."""

SETTLE_WAIT_SECONDS = 30.0
"""How long a catch-up whose lag is small waits for the ``settled`` conditions (the
verification set small enough to compare under the lock in about a second). Under a
heavy steady load the set may never get that small (sysbench at 2,000 tps on a durable
server); the cut-over then goes ahead and verifies the rest under its lock, a longer
stall rather than a migration that never ends."""

ReaderFactory = Callable[[ConnectionSpec, GhostConfig, dict[str, WatchSpec], Any], BinlogReader]


def default_reader_factory(
    spec: ConnectionSpec, config: GhostConfig, watch: dict[str, WatchSpec], start: Any
) -> BinlogReader:
    """The binlog reader of a run (tests may give the migrator another factory)."""
    from ..binlog.stream import BinlogStream

    return BinlogStream(
        spec,
        server_id=replica_server_id(config),
        schema=config.database,
        watch=watch,
        start=start,
        by_gtid=config.gtid,
        reconnect_attempts=config.binlogsyncer_max_reconnect_attempts,
    )


def replica_server_id(config: GhostConfig) -> int:
    """The server id our binlog client registers with. Two clients with one id make the
    server drop the older one, so by default each process gets its own (gh-ost: 99999)."""
    if config.replica_server_id:
        return config.replica_server_id
    return 1_000_000_000 + (os.getpid() * 1000 + threading.get_ident() % 1000) % 1_000_000_000


def open_stream(
    reader_factory: ReaderFactory,
    spec: ConnectionSpec,
    context: MigrationContext,
    plan: CopyPlan,
    names: TableNames,
    start: Any,
) -> Streamer:
    """A streamer (not yet started) of the binlog of ``spec`` from ``start``: the key
    changes of the original table and the rows of the changelog."""
    watch = {
        names.original: WatchSpec(columns=plan.key.columns),
        names.changelog: WatchSpec(columns=("hint", "value")),
    }
    return Streamer(
        reader_factory(spec, context.config, watch, start),
        context,
        table=names.original,
        changelog_table=names.changelog,
        own_tables=(*names.helpers, *cutover_names(names.original)),
    )


def open_heartbeat(
    spec: ConnectionSpec,
    context: MigrationContext,
    names: TableNames,
    connect: Callable[[ConnectionSpec], Connection],
    allowed: Callable[[], bool],
) -> Heartbeat:
    """The heartbeat (not yet started) into the changelog, on its own session on
    ``spec``; it writes only while ``allowed()`` (not while hibernating), and failing for
    good, it aborts the migration."""
    return Heartbeat(
        spec,
        names.changelog,
        context.config.heartbeat_interval_millis / 1000.0,
        connect,
        lambda exc: context.request_abort(f"heartbeat: {exc}", exc),
        allowed,
    )


def open_applier(
    connect: Callable[..., Connection],
    spec: ConnectionSpec,
    plan: CopyPlan,
    facts: ServerFacts,
    context: MigrationContext,
    *,
    ghost: str,
    probe: FenceProbe,
    start: BinlogPosition,
    keep: Callable[[Connection], Connection],
) -> Applier:
    """The applier, on the writer session (which copies the chunks and applies the
    changes) and a fence session of its own; ``keep`` registers both for release."""
    zone = "SYSTEM" if plan.converts_datetime_timestamp else "+00:00"
    if zone == "SYSTEM":
        zone = facts.global_time_zone or "SYSTEM"
    # The writer reads with READ COMMITTED consistent reads: no row locks, so the copy
    # and the apply never deadlock with the application (what they read is made
    # visible first by the fence, apply/fence.py).
    writer = connect(
        spec,
        time_zone=zone,
        sql_mode_remove=zero_date_modes(context.config),
        isolation="READ COMMITTED",
    )
    keep(writer)
    fence = VisibilityFence(keep(connect(spec)), probe, context)
    return Applier(
        writer,
        plan,
        context,
        ghost_table=ghost,
        key=plan.shared_key,
        fence=fence,
        start_position=start,
    )


def zero_date_modes(config: GhostConfig) -> tuple[str, ...]:
    """The sql_mode flags the writer and the checksum sessions drop when
    ``allow_zero_in_date`` lets rows with zero dates be copied and compared."""
    if config.allow_zero_in_date:
        return ("NO_ZERO_DATE", "NO_ZERO_IN_DATE")
    return ()


class _SettleWait:
    """The end of the wait for ``settled``: SETTLE_WAIT_SECONDS from the first catch-up
    that settles, the same for every later cut-over attempt."""

    def __init__(self) -> None:
        self.until: float | None = None

    def deadline(self) -> float:
        if self.until is None:
            self.until = time.monotonic() + SETTLE_WAIT_SECONDS
        return self.until


@dataclasses.dataclass(frozen=True)
class Streaming:
    """The streamer, heartbeat and applier of one run, from the binlog ``start_position``.

    ``throttle_wait`` blocks while a throttle reason holds (and raises once the migration
    is aborted), calling the function it is given at each wake-up; ``report`` writes the
    status line and progress when due; ``copy_retry`` is told the error of each copy
    chunk that is retried (the batch-copy-retry hook).
    """

    context: MigrationContext
    streamer: Streamer
    heartbeat: Heartbeat
    applier: Applier
    start_position: Any
    throttle_wait: Callable[[Callable[[], None]], None]
    report: Callable[[], None]
    copy_retry: Callable[[str], None] | None = None
    after_apply: list[Callable[[], None]] = dataclasses.field(default_factory=list)
    """Run after each stretch of applying (apply_pending): the verification by key's
    background turns (verify/keyed.py), on the migrator's thread like everything here."""
    settled: list[Callable[[], bool]] = dataclasses.field(default_factory=list)
    """What the catch-up waits for besides a small lag: the verification by key's set
    small enough to verify under the cut-over lock (verify/keyed.py)."""
    settle_wait: _SettleWait = dataclasses.field(default_factory=_SettleWait)

    @property
    def writer(self) -> Connection:
        """The writer session (the applier's), which also copies the chunks."""
        return self.applier.conn

    def wait_while_throttled(self) -> None:
        """Block while throttled, reporting progress (status line, hook) meanwhile."""
        self.throttle_wait(self.report)

    def apply_through_pause(self) -> None:
        """The latency target's pause before a copy chunk (throttle/latency.py), spent
        applying what the stream queues: the pause holds the copy back, not the apply,
        which replays the application's own writes. Slept instead, a pause of up to 2 s
        left the apply 0.05 s of each: under 1,000 tps the backlog filled its queue and
        the lag reached 65 s, and the catch-up after the copy took 20 s."""
        pause = self.context.pacing.pause_seconds
        if pause <= 0:
            return
        record_sleep(self.context.metrics, "latency_pacing", pause)
        deadline = time.monotonic() + pause
        while (left := deadline - time.monotonic()) > 0:
            self.check_abort()
            self.apply_pending(budget_seconds=left, wait=min(left, PAUSE_POLL_SECONDS))

    def check_abort(self) -> None:
        """Raise if the migration was stopped, aborted, or the stream failed."""
        if self.streamer.error is not None:
            raise self.streamer.error
        if self.context.aborted:
            raise AbortedError(
                f"Migration of {self.context.config.table} aborted: "
                f"{self.context.abort_reason}. The original table is untouched."
            )

    def apply_pending(self, *, budget_seconds: float, wait: float = 0.0) -> None:
        """Apply queued changes until the queue is empty or ``budget_seconds`` passed
        (waiting up to ``wait`` seconds for the first one), then run ``after_apply``."""
        self._drain_for(budget_seconds, wait)
        for turn in self.after_apply:
            turn()

    def _drain_for(self, budget_seconds: float, wait: float) -> None:
        deadline = time.monotonic() + budget_seconds
        first = True
        while True:
            before = self.context.events_applied
            self.applier.drain(
                self.streamer.queue,
                max_events=self.context.knobs.dml_batch_size,
                wait=wait if first else 0.0,
            )
            first = False
            if self.context.events_applied == before and self.streamer.queue.empty():
                return
            if time.monotonic() > deadline:
                return

    def tend(self) -> None:
        """One turn of a wait that keeps the ghost current: stop if aborted, apply what
        is queued, report progress."""
        self.check_abort()
        self.apply_pending(budget_seconds=0.2, wait=0.05)
        self.report()

    def catch_up(self, *, max_wait: float | None = None, settle: bool = False) -> None:
        """Apply the backlog until the stream is near real time (heartbeat lag); with
        ``settle`` (before a cut-over attempt) also until the ``settled`` conditions hold,
        for at most SETTLE_WAIT_SECONDS over all attempts. Only the cut-over verifies
        under its lock what the background has not; before the checksum the wait would
        be lost, since the checksum's snapshot empties the verification's set."""
        self.context.set_phase("catching up")
        limit = min(
            self.context.knobs.max_lag_millis / 1000.0,
            float(self.context.config.cut_over_lock_timeout_seconds),
        )
        deadline = None if max_wait is None else time.monotonic() + max_wait
        settle_by = self.settle_wait.deadline() if settle else 0.0
        watch = _Convergence(self.streamer.queue.qsize())
        # The first round does not wait for events: an idle run that has caught up
        # already returns at once (three catch-ups waited 0.05 s each).
        wait = 0.0
        while True:
            self.check_abort()
            # Not paced: the apply's work is the application's own writes, which a pause
            # only postpones (measured: a 1.5-2 s pause per round under 1,000 tps let the
            # backlog fill its queue and the catch-up never end).
            self.wait_while_throttled()
            self.apply_pending(budget_seconds=0.2, wait=wait)
            wait = 0.05
            lag = self.context.lag_seconds
            # The lag is measured where changes are applied (the heartbeat goes through
            # the queue), so it already counts the backlog: what the cut-over drains
            # under its lock is about ``limit`` at most, whatever the queue's length (a
            # fast write load keeps thousands of events queued at a lag well under it).
            if (
                lag is not None
                and lag < limit
                and (time.monotonic() > settle_by or all(check() for check in self.settled))
            ):
                return
            if deadline is not None and time.monotonic() > deadline:
                return
            watch.check(self.streamer.queue.qsize(), lag, limit)
            self.report()


class _Convergence:
    """Warns, every ``PERIOD`` seconds of a catch-up, when the backlog has not shrunk:
    the writes outpace the apply, and the cut-over waits until they no longer do."""

    PERIOD = 30.0

    def __init__(self, backlog: int):
        self.since = time.monotonic()
        self.backlog = backlog

    def check(self, backlog: int, lag: float | None, limit: float) -> None:
        if time.monotonic() - self.since < self.PERIOD:
            return
        if backlog >= self.backlog > 0 and (lag is None or lag >= limit):
            log.warning(
                "catch-up is not converging: %d row events queued (%d %.0f s ago), "
                "lag %s; the application writes faster than the apply sustains. The "
                "cut-over waits until the backlog drains: lower the write load, or "
                "throttle the migration and retry at a quieter time.",
                backlog,
                self.backlog,
                self.PERIOD,
                "n/a" if lag is None else f"{lag:.1f}s",
            )
        self.since, self.backlog = time.monotonic(), backlog
