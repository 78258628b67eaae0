"""Whether online migrations are on for this process, and what the running command asked.

Enablement lives in context variables, set only for the duration of a migrate-family
command (``ghost_migrate``, or ``migrate`` with ``GHOST_MIGRATE=true``), so a stray export
can never affect ``runserver``, a shell or third-party code calling ``schema_editor()``
at runtime. Test-database creation enters :func:`suppressed`, which wins over anything
a command set: a test database is never migrated online.

This module imports neither Django nor the engine.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any


@dataclasses.dataclass
class GhostSession:
    """What one ``ghost_migrate``/``migrate`` invocation asked for.

    ``mode`` is "execute" (route and run) or "plan" (classify and report, write nothing).
    ``aliases`` limits which database aliases may go online (None: every enabled alias).
    ``overrides`` is the command-line configuration layer. ``progress`` is called with
    each ProgressSnapshot of an online run; ``stop`` aborts running engine work.
    """

    mode: str = "execute"
    aliases: frozenset[str] | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    progress: Callable[[Any], None] | None = None
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    # Everything the editors did or planned, in order; read by ghost_migrate for reports.
    events: list[Any] = dataclasses.field(default_factory=list)
    # Injection point for tests: builds the engine migrator (default: the real Migrator).
    migrator_factory: Callable[..., Any] | None = None
    # Injection point for tests: looks for an interrupted run of the table before the
    # engine starts (default: interrupted.decide_for).
    interrupted_check: Callable[..., Any] | None = None
    # (alias, table) whose interrupted run --plan already reported on.
    planned_interrupted: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    # Tells the user something worth knowing (a resume, a start-over); set by ghost_migrate.
    notify: Callable[[str], None] | None = None
    # (alias, table) of online runs that left their old table behind in this session.
    left_old_tables: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    # "app.name" of the migration being applied, for reports and the history.
    current_migration: str = ""
    # Whether that migration is being unapplied (a backward migration may revert).
    backwards: bool = False

    def allows(self, alias: str) -> bool:
        return self.aliases is None or alias in self.aliases


_session: contextvars.ContextVar[GhostSession | None] = contextvars.ContextVar(
    "django_ghost_session", default=None
)
_suppressed: contextvars.ContextVar[int] = contextvars.ContextVar(
    "django_ghost_suppressed", default=0
)


def current_session() -> GhostSession | None:
    """The active session, or None when online migrations are off (or suppressed)."""
    if _suppressed.get():
        return None
    return _session.get()


def is_suppressed() -> bool:
    return bool(_suppressed.get())


@contextlib.contextmanager
def activated(session: GhostSession) -> Iterator[GhostSession]:
    """Turn online migrations on for the duration of the block."""
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Force online migrations off (test-database creation), whatever else says."""
    token = _suppressed.set(_suppressed.get() + 1)
    try:
        yield
    finally:
        _suppressed.reset(token)
