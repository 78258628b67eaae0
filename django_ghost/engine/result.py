"""The outcome of one online migration, as returned by ``Migrator.run()``."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MigrationResult:
    """Counts and timings of a finished migration (or of a validation-only run)."""

    database: str
    table: str
    ghost_table: str
    old_table: str
    noop: bool
    rows_copied: int
    events_applied: int
    wall_seconds: float
    copy_seconds: float
    cut_over_stall_seconds: float
    cut_over_attempts: int
    checksum_verified: bool
    new_create_table: str
    instant: bool = False
    """The ALTER was done in place with ALGORITHM=INSTANT (attempt_instant_ddl): nothing
    copied, no cut-over; ``new_create_table`` is the table's own."""
    phase_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    """Seconds spent in each phase ("copying", "building indexes", "verifying", ...), in
    the order the phases were first entered."""
