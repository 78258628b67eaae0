"""Progress snapshots: what a status line, a progress bar or `status-json` shows."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class ProgressSnapshot:
    """A consistent view of a running migration at one instant."""

    database: str
    table: str
    phase: str
    elapsed_seconds: float
    rows_copied: int
    rows_estimate: int
    rows_per_second: float
    events_applied: int
    backlog: int
    lag_seconds: float | None
    throttle_reason: str | None
    eta_seconds: float | None
    # The latency target (throttle/latency.py); target 0 = off, and the rest stays unset.
    latency_target_millis: int = 0
    latency_p95_millis: float | None = None
    pacing_chunk_size: int | None = None
    """The chunk size the copy uses now: the live one times the controller's factor."""
    pacing_pause_seconds: float = 0.0
    """The pause before each chunk the controller chose."""

    @property
    def percent(self) -> float:
        """Copy progress in percent; 100 once the estimate is reached."""
        if self.rows_estimate <= 0:
            return 100.0 if self.phase not in ("starting", "copying") else 0.0
        return min(100.0, 100.0 * self.rows_copied / self.rows_estimate)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["percent"] = round(self.percent, 2)
        return data


def estimate_eta(rows_remaining: int, rows_per_second: float) -> float | None:
    """Seconds left at the current rate, or None while the rate is unknown."""
    if rows_remaining <= 0:
        return 0.0
    if rows_per_second <= 0:
        return None
    return rows_remaining / rows_per_second
