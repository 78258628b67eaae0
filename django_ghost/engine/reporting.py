"""What a migration reports about itself: progress snapshots of its context (handed to
the ``on_progress`` callback at most every ``PROGRESS_INTERVAL`` seconds) and, at the
end, its MigrationResult and the time it spent per phase. :class:`Reporter` does both
for one migration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .config import GhostConfig
from .context import MigrationContext
from .copy.copier import MIN_CHUNK
from .progress import ProgressSnapshot, estimate_eta
from .result import MigrationResult
from .sql.names import TableNames

PROGRESS_INTERVAL = 0.5

log = logging.getLogger("django_ghost")


def snapshot(config: GhostConfig, context: MigrationContext) -> ProgressSnapshot:
    """The progress of the migration of ``config.table`` as of now."""
    ctx = context
    rate = ctx.copy_rate()
    remaining = max(ctx.rows_estimate - ctx.rows_copied, 0)
    return ProgressSnapshot(
        database=config.database,
        table=config.table,
        phase=ctx.phase,
        elapsed_seconds=ctx.elapsed(),
        rows_copied=ctx.rows_copied,
        rows_estimate=max(ctx.rows_estimate, ctx.rows_copied),
        rows_per_second=rate,
        events_applied=ctx.events_applied,
        backlog=ctx.backlog,
        lag_seconds=ctx.lag_seconds,
        throttle_reason=ctx.throttle_reason,
        eta_seconds=estimate_eta(remaining, rate) if ctx.phase == "copying" else 0.0,
        **pacing_fields(ctx),
    )


def pacing_fields(context: MigrationContext) -> dict[str, Any]:
    """The latency target's part of a snapshot; nothing while the target is off."""
    pacing = context.pacing
    if pacing.target_millis <= 0:
        return {}
    return {
        "latency_target_millis": pacing.target_millis,
        "latency_p95_millis": pacing.p95_millis,
        "pacing_chunk_size": pacing.scale(context.knobs.chunk_size, MIN_CHUNK),
        "pacing_pause_seconds": pacing.pause_seconds,
    }


def result(
    config: GhostConfig,
    names: TableNames,
    context: MigrationContext,
    *,
    started: float,
    noop: bool,
    checksum_verified: bool,
    new_create_table: str,
    instant: bool = False,
) -> MigrationResult:
    """The outcome of a migration that began at ``started`` (``time.monotonic()``)."""
    ctx = context
    copy_seconds = 0.0
    if ctx.copy_started_at is not None and ctx.copy_finished_at is not None:
        copy_seconds = ctx.copy_finished_at - ctx.copy_started_at
    return MigrationResult(
        database=config.database,
        table=config.table,
        ghost_table=names.ghost,
        old_table=names.old,
        noop=noop,
        rows_copied=ctx.rows_copied,
        events_applied=ctx.events_applied,
        wall_seconds=time.monotonic() - started,
        copy_seconds=copy_seconds,
        cut_over_stall_seconds=ctx.cut_over_stall_seconds,
        cut_over_attempts=ctx.cut_over_attempts,
        checksum_verified=checksum_verified,
        new_create_table=new_create_table,
        instant=instant,
        phase_seconds=ctx.phase_timings(),
    )


def describe_phases(phase_seconds: dict[str, float]) -> str:
    """``copying 6.8 s, building indexes 1.6 s, ...`` (phases shorter than 5 ms left out)."""
    return ", ".join(
        f"{phase} {seconds:.2f} s" for phase, seconds in phase_seconds.items() if seconds >= 0.005
    )


class Reporter:
    """Snapshots and the result of the migration of ``config.table``; hands
    ``on_progress`` a fresh snapshot at most every PROGRESS_INTERVAL seconds unless
    forced (nothing without a callback)."""

    def __init__(
        self,
        config: GhostConfig,
        names: TableNames,
        context: MigrationContext,
        on_progress: Callable[[ProgressSnapshot], None] | None,
    ):
        self.config = config
        self.names = names
        self.context = context
        self.on_progress = on_progress
        self._last = 0.0

    def snapshot(self) -> ProgressSnapshot:
        return snapshot(self.config, self.context)

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_progress is None or (not force and now - self._last < PROGRESS_INTERVAL):
            return
        self._last = now
        self.on_progress(self.snapshot())

    def result(
        self, started: float, *, noop: bool, verified: bool, new_table: str, instant: bool = False
    ) -> MigrationResult:
        """The result of a run that began at ``started``; ``verified``: the checksum
        passed; ``new_table``: the ghost's SHOW CREATE TABLE (the table's own after an
        instant ALTER, ``instant``)."""
        done = result(
            self.config,
            self.names,
            self.context,
            started=started,
            noop=noop,
            checksum_verified=verified,
            new_create_table=new_table,
            instant=instant,
        )
        if not noop:
            log.info("time per phase: %s", describe_phases(done.phase_seconds))
        return done
