"""Every metric by its gh-ost name: its kind, its Prometheus name and its help.

StatsD lines carry the gh-ost name under the ``gh_ost.`` namespace
(``gh_ost.row_copy.rows_copied``), so dashboards built for gh-ost keep working. The
Prometheus name is ``django_ghost_`` plus the name with dots as underscores; counters end
in ``_total`` and histograms are summaries (``_sum`` and ``_count``). Names marked
``ghost=False`` are ours: gh-ost has no such metric (``python_runtime.*`` stands in for
gh-ost's ``go_runtime.*``).
"""

from __future__ import annotations

import dataclasses

STATSD_NAMESPACE = "gh_ost."
PROMETHEUS_PREFIX = "django_ghost_"


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str
    """gauge, counter or histogram."""
    help: str
    ghost: bool = True
    """gh-ost emits a metric of this name."""
    prometheus: str = ""
    """The Prometheus name when the mechanical one does not fit."""

    @property
    def prometheus_name(self) -> str:
        if self.prometheus:
            return PROMETHEUS_PREFIX + self.prometheus
        base = PROMETHEUS_PREFIX + self.name.replace(".", "_")
        if self.kind == "counter" and not base.endswith("_total"):
            base += "_total"
        return base

    @property
    def prometheus_type(self) -> str:
        return "summary" if self.kind == "histogram" else self.kind


_SPECS = (
    # -- sampled every second (control/metrics.py) -----------------------------------------
    MetricSpec("row_copy.rows_copied", "gauge", "Rows copied to the ghost table so far."),
    MetricSpec("row_copy.rows_estimate", "gauge", "Rows estimated to copy."),
    MetricSpec("dml.events_applied", "gauge", "Binlog row events applied to the ghost table."),
    MetricSpec("binlog.backlog_size", "gauge", "Binlog items queued, not applied yet."),
    MetricSpec("binlog.backlog_capacity", "gauge", "Capacity of the binlog queue."),
    MetricSpec("binlog.backlog_utilization", "gauge", "backlog_size / backlog_capacity (0..1)."),
    MetricSpec(
        "lag.replication_seconds",
        "gauge",
        "Replication lag of the inspected replica (the heartbeat lag on a primary).",
    ),
    MetricSpec("lag.heartbeat_seconds", "gauge", "Age of the last heartbeat read from the binlog."),
    MetricSpec("throttle.active", "gauge", "1 while the migration is throttled, else 0."),
    MetricSpec(
        "throttle.reason",
        "gauge",
        "1 while throttled, labelled with the throttle source (max-load, throttle-flag-file ...).",
        ghost=False,
    ),
    MetricSpec("row_copy.progress_percent", "gauge", "Copy progress in percent.", ghost=False),
    MetricSpec(
        "row_copy.eta_seconds",
        "gauge",
        "Estimated seconds until the copy is done (absent while unknown).",
        ghost=False,
    ),
    MetricSpec("row_copy.rows_per_second", "gauge", "Copy rate since the copy began.", ghost=False),
    MetricSpec("row_copy.chunk_size", "gauge", "Rows per copy chunk (live).", ghost=False),
    MetricSpec(
        "latency.target_milliseconds",
        "gauge",
        "max_latency_millis, the p95 the pacing aims at (only with a latency target).",
        ghost=False,
    ),
    MetricSpec(
        "latency.probe_p95_milliseconds",
        "gauge",
        "p95 of the latency probe over the last 2 s (only with a latency target).",
        ghost=False,
    ),
    MetricSpec(
        "pacing.chunk_size",
        "gauge",
        "Rows per copy chunk after the latency pacing (only with a latency target).",
        ghost=False,
    ),
    MetricSpec(
        "pacing.pause_seconds",
        "gauge",
        "Pause before each chunk set by the latency pacing.",
        ghost=False,
    ),
    MetricSpec(
        "migration.elapsed_seconds", "gauge", "Seconds since the migration began.", ghost=False
    ),
    MetricSpec(
        "migration.phase",
        "gauge",
        "1, labelled with the phase the migration is in (copying, cutting over ...).",
        ghost=False,
    ),
    MetricSpec(
        "python_runtime.max_rss_bytes", "gauge", "Peak resident memory of the process.", ghost=False
    ),
    MetricSpec("python_runtime.threads", "gauge", "Live Python threads.", ghost=False),
    MetricSpec(
        "python_runtime.gc_collections", "gauge", "Garbage collections so far.", ghost=False
    ),
    # -- recorded when they happen ---------------------------------------------------------
    MetricSpec("startup", "counter", "Migrations started (their operations)."),
    MetricSpec("throttle.events_total", "counter", "Throttled intervals ended, by reason."),
    MetricSpec("throttle.duration_milliseconds", "histogram", "Length of each throttled interval."),
    MetricSpec(
        "cut_over.attempts_total", "counter", "Cut-over attempts by outcome: success, retry, abort."
    ),
    MetricSpec(
        "cut_over.phase_duration_milliseconds",
        "histogram",
        "Duration of each phase of a cut-over attempt.",
    ),
    MetricSpec(
        "cut_over.total_duration_milliseconds",
        "histogram",
        "Duration of the whole cut-over, retries included.",
    ),
    MetricSpec("sleep.duration_milliseconds", "histogram", "Each deliberate wait, by stage."),
    MetricSpec(
        "sleep.total_milliseconds",
        "counter",
        "Milliseconds spent in deliberate waits, by stage.",
        prometheus="sleep_milliseconds_total",
    ),
    MetricSpec(
        "query.duration_milliseconds",
        "histogram",
        "Duration of the copy's and the apply's statements, by side, kind and outcome.",
    ),
)

CATALOGUE: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}
"""gh-ost name -> its spec, in the order the Prometheus text lists them."""
