"""MigrationContext: the runtime state of one migration, shared between threads.

Configuration is frozen in GhostConfig; everything that changes while a migration runs
lives here: the phase, counters, binlog coordinates, and the live knobs an operator may
change over the control socket (chunk size, batch size, max lag, nice ratio, forced
throttle, postponement). Every read-modify-write goes through the lock; single reads of
one attribute are atomic in CPython and need no lock.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from .binlog.events import BinlogPosition
from .config import GhostConfig, option_names
from .metrics.emitter import Metrics, NoopMetrics


@dataclasses.dataclass
class LiveKnobs:
    """Options an operator may change while the migration runs."""

    chunk_size: int
    dml_batch_size: int
    max_lag_millis: int
    nice_ratio: float
    max_load: str = ""
    critical_load: str = ""
    throttle_query: str = ""
    throttle_http: str = ""
    throttle_control_replicas: str = ""
    forced_throttle: bool = False
    postpone_cut_over: bool = False

    @classmethod
    def from_config(cls, config: GhostConfig) -> LiveKnobs:
        """Every knob named like an option starts at the option's value; the others
        (forced throttle, postponement) start at their defaults."""
        options = option_names()
        return cls(
            **{
                field.name: getattr(config, field.name)
                for field in dataclasses.fields(cls)
                if field.name in options
            }
        )


@dataclasses.dataclass
class Pacing:
    """What the latency controller (throttle/latency.py) decided, read by the copy, the
    throttler's pause and the status: with ``target_millis`` 0 it stays at full speed.

    The copy multiplies the live chunk size by ``chunk_factor`` rather than rewriting the
    knob, so an operator's chunk size and chunk_time_target_millis keep their meaning: they
    set the ceiling the controller paces below."""

    target_millis: int = 0
    p95_millis: float | None = None
    chunk_factor: float = 1.0
    pause_seconds: float = 0.0

    def scale(self, size: int, minimum: int) -> int:
        """``size`` times the chunk factor, never below ``minimum`` (nor above ``size``)."""
        if self.chunk_factor >= 1.0:
            return size
        return max(min(minimum, size), int(size * self.chunk_factor))


PHASES_AFTER_SWAP = ("cut over", "done")


class MigrationContext:
    """Mutable state of a running migration. Created by the migrator, passed to components."""

    def __init__(self, config: GhostConfig, *, clock: Any = time.monotonic):
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.knobs = LiveKnobs.from_config(config)
        # Where every step records its metrics; control/metrics.py puts the real sink
        # here when the operations start.
        self.metrics: Metrics = NoopMetrics()
        self.started_at = clock()
        self.phase = "starting"
        # Seconds spent in each phase so far, the current one not yet counted: the
        # result and the final log line report where the time went.
        self.phase_seconds: dict[str, float] = {}
        self._phase_since = self.started_at
        self.rows_estimate = 0
        self.rows_copied = 0
        self.rows_copied_before = 0
        self.chunks_copied = 0
        self.copy_started_at: float | None = None
        self.copy_finished_at: float | None = None
        self.events_applied = 0
        self.backlog = 0
        self.streamer_position: BinlogPosition | None = None
        self.applied_position: BinlogPosition | None = None
        self.lag_seconds: float | None = None
        self.throttle_reason: str | None = None
        self.pacing = Pacing(target_millis=config.max_latency_millis)
        self.cut_over_attempts = 0
        self.cut_over_stall_seconds = 0.0
        self.abort_reason: str | None = None
        # The error behind the abort when a thread (heartbeat, stream) failed: the
        # migrator resumes by itself when it is a lost connection.
        self.abort_cause: BaseException | None = None
        self.stop = threading.Event()
        # The caller's event (Migrator(stop=...)) is only read, never set here: an abort
        # of this run must not mark the caller's request, or the run that auto-resume
        # starts after a lost connection would see "stop requested" and end at once.
        self.external_stop: threading.Event | None = None

    # -- counters --------------------------------------------------------------------------

    def add_copied(self, rows: int) -> None:
        with self.lock:
            self.rows_copied += rows
            self.chunks_copied += 1

    def add_applied(self, events: int) -> None:
        with self.lock:
            self.events_applied += events

    def set_phase(self, phase: str) -> None:
        with self.lock:
            if phase != self.phase:
                now = self.clock()
                spent = now - self._phase_since
                self.phase_seconds[self.phase] = self.phase_seconds.get(self.phase, 0.0) + spent
                self._phase_since = now
            self.phase = phase

    def phase_timings(self) -> dict[str, float]:
        """Seconds per phase, in the order first entered, the current one included."""
        with self.lock:
            timings = dict(self.phase_seconds)
            spent = self.clock() - self._phase_since
            timings[self.phase] = timings.get(self.phase, 0.0) + spent
            return timings

    @property
    def swapped(self) -> bool:
        """The new table is in place (the cut-over's swap returned): nothing to resume."""
        return self.phase in PHASES_AFTER_SWAP

    def elapsed(self) -> float:
        return float(self.clock() - self.started_at)

    def copy_rate(self) -> float:
        """Rows per second over the copy so far."""
        if self.copy_started_at is None:
            return 0.0
        end = self.copy_finished_at if self.copy_finished_at is not None else self.clock()
        seconds = max(end - self.copy_started_at, 1e-6)
        return (self.rows_copied - self.rows_copied_before) / seconds

    # -- abort -----------------------------------------------------------------------------

    def request_abort(self, reason: str, cause: BaseException | None = None) -> None:
        """Ask every loop to stop; the first reason (and its cause) wins."""
        with self.lock:
            if self.abort_reason is None:
                self.abort_reason = reason
                self.abort_cause = cause
        self.stop.set()

    @property
    def aborted(self) -> bool:
        if self.external_stop is not None and self.external_stop.is_set():
            self.request_abort("stop requested")
        return self.stop.is_set()
