"""The latency target (``max_latency_millis``): measure the latency an application write
on the original table sees, and pace the copy and the apply like a congestion controller
so that its p95 stays within the target while the migration goes as fast as that allows.

Three parts:

* the probe (:func:`connection_probe`), one small locking statement on a session of its
  own, timed every ``PROBE_INTERVAL_SECONDS``;
* the controller (:class:`LatencyController`), pure: latency samples and a clock in, a
  chunk-size factor and a pause out; AIMD, as TCP's congestion control;
* the pacer (:class:`LatencyPacer`), the thread that runs the probe, feeds the controller
  and publishes its decision in ``context.pacing``. The copy multiplies its chunk size by
  the factor (copy/copier.py) and holds back for the pause before every chunk, spending
  it applying (``Streaming.apply_through_pause``). The apply is never paced: its work is
  the application's own writes, which a pause only postpones.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

from ..context import MigrationContext
from ..mysql.connection import Connection, execute
from ..mysql.dataerrors import ER_LOCK_WAIT_TIMEOUT
from ..sql.quote import quote_identifier as q
from ..table.changelog import LATENCY_PROBE_ID, Changelog

logger = logging.getLogger("django_ghost")

Clock = Callable[[], float]

PROBE_INTERVAL_SECONDS = 0.05
"""How often the probe runs: 40 samples in the 2 s window."""
PROBE_LOCK_WAIT_SECONDS = 1
"""The probe session's innodb_lock_wait_timeout: a probe never waits longer than this."""


def connection_probe(
    conn: Connection,
    table: str,
    key_name: str,
    key_columns: Sequence[str],
    *,
    changelog: str = "",
) -> Callable[[], None]:
    """The probe: ``SELECT <key> FROM <table> FORCE INDEX (<key>) ORDER BY <key> LIMIT 1
    FOR UPDATE``, autocommitted, on ``conn`` (a session of its own, READ COMMITTED), then,
    with a ``changelog``, one row of it written and committed.

    Why this statement: it goes where an application write goes (the original table, its
    key's B-tree, the row lock manager) and takes the row lock a write takes, so it waits
    behind whatever makes the application's writes wait, and it runs on the same busy
    server (CPU, buffer pool, latches). It changes nothing in the table: no binlog event
    (a no-op ``UPDATE t SET k = k`` would log nothing in ROW format either, but it would
    fire the table's UPDATE triggers, and those may write), no undo, no trigger, no data.
    READ COMMITTED takes no gap lock, so the probe never blocks an application insert,
    and autocommit holds its one row lock only while the statement runs (microseconds).
    FORCE INDEX keeps the plan an index walk of one row: a locking read that sorted a
    full scan would lock every row it read.

    The write to the changelog (our own table, a row the stream ignores) is the
    application's commit: the redo and binlog flush, in the same group commit queue. On
    a durable server that is most of a small write's latency, and what the copy's large
    transactions delay: measured under sysbench at 1,000 tps on the 2-core reference box,
    the lock probe alone read a p95 of 2-6 ms while the load's was 50-100 ms.
    """
    columns = ", ".join(q(c) for c in key_columns)
    sql = (
        f"SELECT {columns} FROM {q(table)} FORCE INDEX ({q(key_name)}) "
        f"ORDER BY {columns} LIMIT 1 FOR UPDATE"
    )
    execute(conn, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    execute(conn, f"SET SESSION innodb_lock_wait_timeout = {PROBE_LOCK_WAIT_SECONDS}")
    # The same bound on a metadata lock: the cut-over's table lock, an application's DDL.
    execute(conn, f"SET SESSION lock_wait_timeout = {PROBE_LOCK_WAIT_SECONDS}")
    conn.autocommit(True)

    commit = Changelog(conn, changelog) if changelog else None

    def probe() -> None:
        cur = conn.cursor()
        try:
            cur.execute(sql)
            cur.fetchall()
        finally:
            cur.close()
        if commit is not None:
            commit.write("latency-probe", "", fixed_id=LATENCY_PROBE_ID)

    return probe


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclasses.dataclass(frozen=True)
class ControllerSettings:
    """The controller's constants (docs/throttling.md, "Latency target")."""

    window_seconds: float = 2.0
    """Samples older than this are forgotten; the p95 of the rest is the signal."""
    min_samples: int = 10
    """Fresh samples (taken since the last change) needed before the next decision."""
    decision_seconds: float = 0.5
    """Or two fresh samples this far apart: a probe waiting on a lock takes up to 1 s,
    and ten of those would be ten seconds of doing nothing about it."""
    recover_below: float = 0.7
    """Grow back only while the p95 is below this fraction of the target."""
    backoff: float = 0.5
    """The chunk factor is multiplied by this on each backoff."""
    grow_step: float = 0.05
    """The chunk factor grows by this (of the configured size) on each recovery."""
    min_factor: float = 0.001
    """The smallest chunk factor (the copy also never goes below its minimum chunk)."""
    pause_step: float = 0.05
    """First pause on a backoff; a recovery that would leave less ends the pause."""
    pause_recovery: float = 0.5
    """A recovery multiplies the pause by this. It took ``pause_step`` off instead, so
    one spike to the longest pause held the copy back for some 40 recoveries (20 s and
    more: any second over the target doubled it again); on a noisy 2-core machine under
    1,000 tps the pause stayed at 1.8-2 s and the copy did not finish in 150 s. The
    chunk factor still grows back additively, so the copy's pressure returns gradually."""
    max_pause: float = 2.0
    """The longest pause between two chunks."""
    initial_factor: float = 0.1
    """The chunk factor the copy starts at. Until the first backoff each recovery doubles
    it (TCP's slow start) instead of adding ``grow_step``: full speed is reached in four
    decisions (about 2 s) if the latency allows, and a server that cannot take the full
    chunk is never hit by it first."""


@dataclasses.dataclass(frozen=True)
class Decision:
    action: str
    """backoff, recover or hold."""
    p95_millis: float | None
    """The p95 of the whole window (what the status shows)."""
    chunk_factor: float
    pause_seconds: float


class LatencyController:
    """AIMD pacing towards a p95 latency target. Pure: no threads, no clock of its own.

    Each decision looks at the samples taken since the last change (within the window),
    so a backoff is judged on what the server does after it, not on the samples that
    caused it; it waits for ``min_samples`` of them, or for two ``decision_seconds``
    apart when the probes are slow. It starts at ``initial_factor`` and, until the first
    backoff, doubles the factor on each recovery (slow start). p95 above the target:
    halve the chunk factor and double the pause (starting at ``pause_step``, capped at
    ``max_pause``). p95 below ``recover_below`` x target: add ``grow_step`` to the
    factor (up to 1) and multiply the pause by ``pause_recovery`` (0 once below
    ``pause_step``). In between, or with too few fresh samples: hold.
    """

    def __init__(self, target_millis: float, settings: ControllerSettings | None = None):
        self.target_millis = target_millis
        self.settings = settings or ControllerSettings()
        self.chunk_factor = min(1.0, self.settings.initial_factor)
        self.pause_seconds = 0.0
        self.slow_start = True
        """Until the first backoff: recoveries double the chunk factor."""
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self._changed_at = -math.inf

    def add(self, at: float, millis: float) -> None:
        """One probe's latency, measured at ``at`` (the clock's seconds)."""
        self._samples.append((at, millis))
        horizon = at - self.settings.window_seconds
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()

    def p95(self, now: float) -> float | None:
        """The p95 of the window ending at ``now``; None without samples."""
        recent = [m for t, m in self._samples if t >= now - self.settings.window_seconds]
        return percentile(recent, 95) if recent else None

    def decide(self, now: float) -> Decision:
        """Back off, recover or hold, from the fresh samples of the window."""
        s = self.settings
        since = max(self._changed_at, now - s.window_seconds)
        fresh = [(t, m) for t, m in self._samples if t > since]
        enough = len(fresh) >= s.min_samples or (
            len(fresh) >= 2 and fresh[-1][0] - fresh[0][0] >= s.decision_seconds
        )
        action = "hold"
        if enough:
            p95 = percentile([m for _, m in fresh], 95)
            if p95 > self.target_millis:
                action = "backoff"
                self.slow_start = False
                self.chunk_factor = max(s.min_factor, self.chunk_factor * s.backoff)
                self.pause_seconds = min(s.max_pause, max(s.pause_step, self.pause_seconds * 2))
            elif p95 < self.target_millis * s.recover_below and self.paced:
                action = "recover"
                grown = (
                    self.chunk_factor * 2 if self.slow_start else self.chunk_factor + s.grow_step
                )
                self.chunk_factor = min(1.0, grown)
                pause = self.pause_seconds * s.pause_recovery
                self.pause_seconds = pause if pause >= s.pause_step - 1e-9 else 0.0
        if action != "hold":
            self._changed_at = now
        return Decision(action, self.p95(now), self.chunk_factor, self.pause_seconds)

    @property
    def paced(self) -> bool:
        """True while slower than full speed."""
        return self.chunk_factor < 1.0 or self.pause_seconds > 0


class LatencyPacer:
    """Runs the probe every ``interval`` seconds on its own thread (a probe that waits on a
    lock must not hold up the throttle checks), feeds the controller, and publishes the
    decision in ``context.pacing``."""

    def __init__(
        self,
        context: MigrationContext,
        probe: Callable[[], None],
        *,
        controller: LatencyController | None = None,
        clock: Clock = time.monotonic,
        interval: float = PROBE_INTERVAL_SECONDS,
        active: Callable[[], bool] = lambda: True,
    ):
        self.context = context
        self.probe = probe
        self.controller = controller or LatencyController(context.pacing.target_millis)
        self.clock = clock
        self.interval = interval
        self.active = active
        """False once probing makes no sense (the table was swapped): no probe, hold."""
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = -math.inf

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        # The slow start's factor holds from the first chunk, not from the first probe.
        c = self.controller
        self.publish(Decision("hold", None, c.chunk_factor, c.pause_seconds))
        self._thread = threading.Thread(target=self._run, name="ghost-latency", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set() and not self.context.aborted:
            self.step()
            self._stopping.wait(self.interval)

    def step(self) -> Decision:
        """One probe, one decision, published."""
        started = self.clock()
        measured = self.active()
        try:
            if measured:
                self.probe()
        except Exception as exc:  # the probe must never stop the migration
            # A lock wait that timed out is a latency the application would have seen;
            # any other failure (a lost session) measures nothing.
            measured = bool(exc.args) and exc.args[0] == ER_LOCK_WAIT_TIMEOUT
            if not measured and started - self._last_error >= 60:
                self._last_error = started
                logger.warning("latency probe failed (pacing holds): %s", exc)
        now = self.clock()
        if measured:
            self.controller.add(now, (now - started) * 1000.0)
        decision = self.controller.decide(now)
        self.publish(decision)
        return decision

    def publish(self, decision: Decision) -> None:
        pacing = self.context.pacing
        if decision.action != "hold":
            logger.debug(
                "latency p95 %.1f ms (target %d ms): %s, chunk x%.3f, pause %.2fs",
                decision.p95_millis or 0.0,
                pacing.target_millis,
                decision.action,
                decision.chunk_factor,
                decision.pause_seconds,
            )
        with self.context.lock:
            pacing.p95_millis = decision.p95_millis
            pacing.chunk_factor = decision.chunk_factor
            pacing.pause_seconds = decision.pause_seconds
