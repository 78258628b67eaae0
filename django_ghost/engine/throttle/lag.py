"""The lag sources, both against the live knob ``max_lag_millis``: the replication lag of
the replica the migration inspects, and the lag of each control replica
(``throttle_control_replicas``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..context import LiveKnobs
from .check import Cached, ThrottleCheck

LagReader = Callable[[], "float | None"]
ReplicaLagReader = Callable[[str], Mapping[str, "float | None"]]


class OwnLag(ThrottleCheck):
    """The inspected replica lags more than ``max_lag_millis``: throttle. An unknown lag
    (None) does not; without a reader (on a primary) there is nothing to check."""

    name = "max-lag-millis"

    def __init__(self, reader: LagReader | None):
        self.reader = reader

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        if self.reader is None:
            return None
        lag = self.reader()
        if lag is None or lag * 1000 <= knobs.max_lag_millis:
            return None
        return f"lag={lag:.3f}s"


class ControlReplicaLag(ThrottleCheck):
    """A control replica lags more than ``max_lag_millis``, or its lag is unknown or cannot
    be read: throttle, naming the first such host."""

    name = "throttle-control-replicas"

    def __init__(self, reader: ReplicaLagReader | None):
        self.reader = reader
        self._cached = Cached()

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        replicas, max_lag_millis = knobs.throttle_control_replicas, knobs.max_lag_millis
        if not replicas.strip() or self.reader is None:
            return None
        # gh-ost polls control replicas every 100 ms when max-lag-millis < 1 s, else 1 s.
        interval = 0.1 if max_lag_millis < 1000 else 1.0
        if self._cached.key != replicas or now - self._cached.at >= interval:
            try:
                lags: Mapping[str, float | None] | str = dict(self.reader(replicas))
            except Exception as exc:  # a read error is a throttle reason (gh-ost)
                lags = f"control replicas: cannot read lag: {exc}"
            self._cached = Cached(replicas, now, lags)
        lags = self._cached.value
        if isinstance(lags, str):
            return lags
        for host, lag in sorted(lags.items()):
            if lag is None:
                return f"{host} replica-lag unknown"
            if lag * 1000 > max_lag_millis:
                return f"{host} replica-lag={lag:.3f}s"
        return None
