"""The metrics of one migration: what is sampled every second, where it goes, and the
Prometheus view.

:class:`MetricsReporter` owns the aggregate (metrics/registry.py) and, with
``statsd_addr``, the StatsD sender; while the migration runs it is the context's metrics
sink, so the copy, the apply and the cut-over record into both. A thread samples the
progress (the same snapshot the status line prints) every second and sends it to StatsD
as gh-ost's gauges, writes ``prometheus_file`` every ``prometheus_file_interval_seconds``
and, every ``runtime_metrics_interval``, the process's runtime gauges. The control
socket's ``metrics`` command answers :meth:`MetricsReporter.prometheus_text`, sampled
afresh. Throttled intervals are timed from the throttler's transitions
(:meth:`throttle_changed`), as gh-ost times them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import resource
import sys
import threading
import time
from collections.abc import Callable

from ..apply.streamer import QUEUE_CAPACITY
from ..config import GhostConfig
from ..context import MigrationContext
from ..metrics import prometheus
from ..metrics.catalogue import STATSD_NAMESPACE
from ..metrics.emitter import FanOut, Metrics, milliseconds
from ..metrics.registry import Registry, Series
from ..metrics.statsd import StatsdClient
from ..option_syntax import parse_statsd_addr, parse_tags
from ..progress import ProgressSnapshot

log = logging.getLogger("django_ghost")

TICK_SECONDS = 1.0
"""How often the progress gauges are sampled and sent (gh-ost: every status tick, 1 s)."""


def sample_gauges(
    snap: ProgressSnapshot,
    context: MigrationContext,
    *,
    replication_lag: float | None,
    throttle_source: str | None,
) -> list[Series]:
    """The gauges of one instant, from the status line's snapshot and the context."""
    throttled = snap.throttle_reason is not None
    values: list[tuple[str, float | None, tuple[tuple[str, str], ...]]] = [
        ("row_copy.rows_copied", snap.rows_copied, ()),
        ("row_copy.rows_estimate", snap.rows_estimate, ()),
        ("dml.events_applied", snap.events_applied, ()),
        ("binlog.backlog_size", snap.backlog, ()),
        ("binlog.backlog_capacity", QUEUE_CAPACITY, ()),
        ("binlog.backlog_utilization", min(1.0, max(0.0, snap.backlog / QUEUE_CAPACITY)), ()),
    ]
    lag_tags = (("throttled", "true" if throttled else "false"),)
    heartbeat = snap.lag_seconds
    replication = replication_lag if replication_lag is not None else heartbeat
    values += [
        ("lag.replication_seconds", replication, lag_tags),
        ("lag.heartbeat_seconds", heartbeat, lag_tags),
        ("throttle.active", 1 if throttled else 0, ()),
        ("row_copy.progress_percent", round(snap.percent, 2), ()),
        ("row_copy.eta_seconds", snap.eta_seconds, ()),
        ("row_copy.rows_per_second", snap.rows_per_second, ()),
        ("row_copy.chunk_size", context.knobs.chunk_size, ()),
        ("migration.elapsed_seconds", snap.elapsed_seconds, ()),
        ("migration.phase", 1, (("phase", snap.phase),)),
    ]
    if snap.latency_target_millis > 0:
        values += [
            ("latency.target_milliseconds", snap.latency_target_millis, ()),
            ("latency.probe_p95_milliseconds", snap.latency_p95_millis, ()),
            ("pacing.chunk_size", snap.pacing_chunk_size, ()),
            ("pacing.pause_seconds", snap.pacing_pause_seconds, ()),
        ]
    if throttled:
        values.append(("throttle.reason", 1, (("reason", throttle_source or "other"),)))
    return [Series(name, "gauge", tags, value) for name, value, tags in values if value is not None]


def runtime_gauges() -> list[Series]:
    """The process's counterpart of gh-ost's go_runtime.* gauges."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024
    collections = sum(int(stats.get("collections", 0)) for stats in gc.get_stats())
    return [
        Series("python_runtime.max_rss_bytes", "gauge", (), rss_bytes),
        Series("python_runtime.threads", "gauge", (), threading.active_count()),
        Series("python_runtime.gc_collections", "gauge", (), collections),
    ]


class MetricsReporter:
    """Samples, sends and exposes the metrics of the migration of ``config.table``."""

    def __init__(
        self,
        config: GhostConfig,
        context: MigrationContext,
        snapshot: Callable[[], ProgressSnapshot],
        *,
        replication_lag: Callable[[], float | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self.context = context
        self.snapshot = snapshot
        self.replication_lag = replication_lag
        self.clock = clock
        tags = parse_tags(config.statsd_tags)
        self.base_tags = [("database", config.database), ("table", config.table), *tags]
        self.registry = Registry()
        address = parse_statsd_addr(config.statsd_addr)
        self.statsd = (
            StatsdClient(address, tags=self.base_tags, namespace=STATSD_NAMESPACE)
            if address is not None
            else None
        )
        sinks: list[Metrics] = [self.registry] + ([self.statsd] if self.statsd else [])
        self.sink: Metrics = FanOut(sinks)
        self.throttle_source: str | None = None
        self._throttled_since: float | None = None
        self._interval_source: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_file = float("-inf")
        self._last_runtime = float("-inf")
        self._file_warned = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Become the context's sink, count the start-up, sample every second."""
        self.context.metrics = self.sink
        self.sink.count("startup")
        self._thread = threading.Thread(target=self._run, name="ghost-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling; send and write the last values (the file stays: its phase says
        how the run ended). Only the first call does anything."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with contextlib.suppress(Exception):
            self._tick(final=True)
        if self.statsd is not None:
            self.statsd.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:  # metrics must never stop the migration
                log.exception("metrics: sampling failed")
            self._stopping.wait(TICK_SECONDS)

    def _tick(self, *, final: bool = False) -> None:
        now = self.clock()
        runtime_due = self._due(now, self._last_runtime, self.config.runtime_metrics_interval)
        if self.statsd is not None:
            gauges = self.gauges()
            if runtime_due or final:
                gauges += self.runtime()
            for one in gauges:
                self.statsd.gauge(one.name, one.value, dict(one.labels))
            self.statsd.flush()
        if runtime_due:
            self._last_runtime = now
        interval = self.config.prometheus_file_interval_seconds
        if self.config.prometheus_file and (final or self._due(now, self._last_file, interval)):
            self._last_file = now
            self.write_file()

    @staticmethod
    def _due(now: float, last: float, interval: float) -> bool:
        return interval > 0 and now - last >= interval

    # -- the values ------------------------------------------------------------------------

    def gauges(self) -> list[Series]:
        return sample_gauges(
            self.snapshot(),
            self.context,
            replication_lag=self.replication_lag(),
            throttle_source=self.throttle_source,
        )

    def runtime(self) -> list[Series]:
        return runtime_gauges() if self.config.runtime_metrics_interval > 0 else []

    def prometheus_text(self) -> str:
        """Every metric as of now, in the Prometheus text format."""
        series = self.gauges() + self.runtime() + self.registry.series()
        return prometheus.render(series, self.base_tags)

    def write_file(self) -> None:
        """Replace ``prometheus_file`` at once (a scraper never reads half a file)."""
        path = self.config.prometheus_file
        temporary = f"{path}.{os.getpid()}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(self.prometheus_text())
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if not self._file_warned:
                self._file_warned = True
                log.warning("metrics: cannot write prometheus_file %s: %s", path, exc)

    # -- throttling ------------------------------------------------------------------------

    def throttle_changed(self, reason: str | None, source: str | None) -> None:
        """The throttler's transition: a throttled interval begins, changes source or
        ends; an interval is labelled with the source that began it (as gh-ost does)."""
        now = self.clock()
        self.throttle_source = source if reason is not None else None
        if reason is not None:
            if self._throttled_since is None:
                self._throttled_since, self._interval_source = now, source
            return
        if self._throttled_since is not None:
            tags = {"reason": self._interval_source or "other"}
            elapsed = milliseconds(now - self._throttled_since)
            self.sink.histogram("throttle.duration_milliseconds", elapsed, tags)
            self.sink.count("throttle.events_total", 1, tags)
        self._throttled_since = self._interval_source = None
