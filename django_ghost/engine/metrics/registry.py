"""The in-memory aggregate of what was recorded, for the Prometheus view: the last value
of each gauge, the sum of each counter, the sum and count of each histogram, per name and
tag set. Always on (it is small), so the control socket's ``metrics`` command answers
whether or not StatsD is configured."""

from __future__ import annotations

import dataclasses
import threading

from .emitter import Tags

Labels = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Series:
    """One time series as of now: a gauge's or counter's value, or a histogram's sum
    (``value``) and number of samples (``count``)."""

    name: str
    kind: str
    labels: Labels
    value: float
    count: int = 0


class Registry:
    """Aggregates records; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, Labels], Series] = {}

    def _update(self, name: str, kind: str, value: float, tags: Tags | None, add: bool) -> None:
        labels: Labels = tuple(sorted((tags or {}).items()))
        key = (name, labels)
        with self._lock:
            old = self._series.get(key)
            if add and old is not None:
                value, count = old.value + value, old.count + 1
            else:
                count = 1
            self._series[key] = Series(name, kind, labels, value, count)

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._update(name, "gauge", value, tags, add=False)

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> None:
        self._update(name, "counter", value, tags, add=True)

    def histogram(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._update(name, "histogram", value, tags, add=True)

    def series(self) -> list[Series]:
        with self._lock:
            return list(self._series.values())

    def total(self, name: str) -> float:
        """The sum of a counter over all its tag sets (0 when never recorded)."""
        return sum(s.value for s in self.series() if s.name == name)
