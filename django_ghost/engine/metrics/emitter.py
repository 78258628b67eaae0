"""The metrics sink: what a step calls to record a value, whoever listens.

Names are gh-ost's short names without its ``gh_ost.`` namespace (``catalogue.py``);
tags are a small mapping of label to value. The migration's context holds one sink
(:class:`NoopMetrics` until the operations start), so the copy, the apply, the throttler
and the cut-over record without knowing whether StatsD or Prometheus is on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

Tags = Mapping[str, str]


class Metrics(Protocol):
    """Records gauges (a current value), counts (an increment) and histogram samples."""

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> None: ...

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> None: ...

    def histogram(self, name: str, value: float, tags: Tags | None = None) -> None: ...


class NoopMetrics:
    """Discards everything."""

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> None:
        return None

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> None:
        return None

    def histogram(self, name: str, value: float, tags: Tags | None = None) -> None:
        return None


class FanOut:
    """Hands every record to each of ``sinks`` (the aggregate and the StatsD sender)."""

    def __init__(self, sinks: Sequence[Metrics]):
        self.sinks = tuple(sinks)

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> None:
        for sink in self.sinks:
            sink.gauge(name, value, tags)

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> None:
        for sink in self.sinks:
            sink.count(name, value, tags)

    def histogram(self, name: str, value: float, tags: Tags | None = None) -> None:
        for sink in self.sinks:
            sink.histogram(name, value, tags)


def milliseconds(seconds: float) -> int:
    """A duration as gh-ost records it: whole milliseconds."""
    return int(seconds * 1000)


def record_sleep(metrics: Metrics, stage: str, seconds: float) -> None:
    """gh-ost's sleep metrics: one deliberate wait of ``stage`` (retry_backoff,
    chunk_throttle, cut_over_postpone, latency_pacing, checksum_throttle)."""
    tags = {"stage": stage}
    metrics.histogram("sleep.duration_milliseconds", milliseconds(seconds), tags)
    metrics.count("sleep.total_milliseconds", milliseconds(seconds), tags)


def record_query(metrics: Metrics, side: str, kind: str, seconds: float, ok: bool) -> None:
    """gh-ost's query metric: a statement of ``kind`` (range_select, chunk_copy,
    binlog_apply, row_count) on ``side`` (source: the original; target: the ghost)."""
    tags = {"side": side, "kind": kind, "outcome": "ok" if ok else "error"}
    metrics.histogram("query.duration_milliseconds", milliseconds(seconds), tags)


@contextlib.contextmanager
def timed_query(metrics: Metrics, side: str, kind: str) -> Iterator[None]:
    """:func:`record_query` of the block it wraps (outcome error when it raises)."""
    started, ok = time.monotonic(), False
    try:
        yield
        ok = True
    finally:
        record_query(metrics, side, kind, time.monotonic() - started, ok)
