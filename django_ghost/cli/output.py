"""What ``django-ghost`` prints: a console that never lets the password through, the
periodic status line, the summary, the new table structure and ``--show-config``.

The status line itself is the control socket's (:func:`format_status_line`): one line,
the same on the terminal, the socket and in the status hook.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from django_ghost.cli.args import Resolved
from django_ghost.cli.flags import flag_name
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.control.status import format_status_line
from django_ghost.engine.progress import ProgressSnapshot
from django_ghost.engine.result import MigrationResult

REDACTED = "********"
MIN_SCRUB_LENGTH = 4
"""Shorter passwords are not scrubbed from output: replacing every "ab" would garble it."""


class Console:
    """stdout/stderr writers that never let the password through."""

    def __init__(self, out: TextIO, err: TextIO):
        self.out_stream = out
        self.err_stream = err
        self.secrets: set[str] = set()

    def add_secret(self, secret: object) -> None:
        if isinstance(secret, str) and len(secret) >= MIN_SCRUB_LENGTH:
            self.secrets.add(secret)

    def scrub(self, text: str) -> str:
        # Longest first, so a password containing another is replaced whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def out(self, text: str) -> None:
        self.out_stream.write(self.scrub(text) + "\n")
        self.out_stream.flush()

    def err(self, text: str) -> None:
        self.err_stream.write(self.scrub(text) + "\n")
        self.err_stream.flush()


class _ScrubFilter(logging.Filter):
    """Scrubs the password from log records, arguments included."""

    def __init__(self, console: Console):
        super().__init__()
        self.console = console

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.console.scrub(record.getMessage())
        record.args = None
        return True


def status_interval(elapsed: float, longest: float) -> float:
    """gh-ost's cadence (every second at first, then less often), capped at ``longest``."""
    if elapsed < 60:
        cadence = 1.0
    elif elapsed < 180:
        cadence = 5.0
    else:
        cadence = 30.0
    return min(cadence, longest)


class StatusPrinter:
    """The engine's progress callback: a status line every few seconds and on each new phase.

    The engine calls it about twice a second; this decides which calls print. The gap
    never exceeds ``--status-interval-seconds``.
    """

    def __init__(
        self,
        console: Console,
        longest_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.console = console
        self.longest_interval = longest_interval
        self.clock = clock
        self.last_printed: float | None = None
        self.last_phase = ""
        self.lines = 0

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        now = self.clock()
        phase_changed = snapshot.phase != self.last_phase
        due = self.last_printed is None or now - self.last_printed >= status_interval(
            snapshot.elapsed_seconds, self.longest_interval
        )
        if not (due or phase_changed):
            return
        self.last_printed = now
        self.last_phase = snapshot.phase
        self.lines += 1
        self.console.out(format_status_line(snapshot))


def format_summary(result: MigrationResult, config: GhostConfig) -> str:
    if result.instant:
        return (
            f"Migration of {result.database}.{result.table} complete in "
            f"{result.wall_seconds:.1f}s: the server applied the ALTER with "
            "ALGORITHM=INSTANT (--attempt-instant-ddl); nothing was copied, no ghost or old "
            "table was created."
        )
    if config.checksum:
        checksum = "verified" if result.checksum_verified else "NOT verified"
    else:
        checksum = "skipped (--checksum=false)"
    if config.ok_to_drop_table:
        old = f"{result.old_table} dropped"
    else:
        old = f"{result.old_table} kept (drop it when no longer needed, or use --ok-to-drop-table)"
    lines = [
        f"Migration of {result.database}.{result.table} complete in {result.wall_seconds:.1f}s.",
        f"  rows copied:    {result.rows_copied:,} (copy {result.copy_seconds:.1f}s)",
        f"  events applied: {result.events_applied:,}",
        f"  cut-over:       stall {result.cut_over_stall_seconds:.3f}s, "
        f"{result.cut_over_attempts} attempt(s)",
        f"  checksum:       {checksum}",
        f"  old table:      {old}",
    ]
    return "\n".join(lines)


def new_table_structure(result: MigrationResult) -> str:
    """The ghost's CREATE TABLE, shown under the original table's name."""

    def quoted(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    prefix = f"CREATE TABLE {quoted(result.ghost_table)}"
    text = result.new_create_table
    if text.startswith(prefix):
        text = f"CREATE TABLE {quoted(result.table)}" + text[len(prefix) :]
    return text


def show_config(resolved: Resolved) -> str:
    redacted = resolved.config.redacted()
    width = max(len(flag_name(k)) for k in redacted) + 2
    return "\n".join(
        f"--{flag_name(name):<{width}} {value!r:<30} ({resolved.origin.get(name, 'default')})"
        for name, value in redacted.items()
    )


# -- logging --------------------------------------------------------------------------------


@dataclasses.dataclass
class LogSetup:
    """The django_ghost logger's handler for the console, and the level to restore."""

    logger: logging.Logger
    handler: logging.Handler
    level: int


def start_logging(console: Console, switches: Mapping[str, Any]) -> LogSetup:
    """The engine's log records on stderr, scrubbed, at --quiet/--debug/--verbose's level."""
    logger = logging.getLogger("django_ghost")
    if switches.get("quiet"):
        level = logging.ERROR
    elif switches.get("debug"):
        level = logging.DEBUG
    elif switches.get("verbose"):
        level = logging.INFO
    else:
        level = logging.ERROR  # gh-ost's default
    handler = logging.StreamHandler(console.err_stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_ScrubFilter(console))
    setup = LogSetup(logger, handler, logger.level)
    logger.addHandler(handler)
    logger.setLevel(level)
    return setup


def stop_logging(setup: LogSetup) -> None:
    setup.logger.removeHandler(setup.handler)
    setup.logger.setLevel(setup.level)
