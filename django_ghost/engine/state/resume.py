"""Resuming a killed run: find the helper tables it left (:func:`resumed_names`: names
from a ``{timestamp}`` template differ from run to run), take over its ghost, changelog
and checkpoint once its sessions still on the server are ended (or create them, for a
fresh run: :func:`create_or_take_over`), and put the copy back where the checkpoint
says; save checkpoints while copying (:class:`Checkpoints`); tell a lost connection,
after which a run may resume (:func:`connection_lost`).

checkpoint.py defines what a checkpoint holds and why resuming from it is consistent;
this module is the migrator's side of it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import MySQLdb

from ..apply.applier import Applier
from ..binlog.coordinates import binlog_file_exists, gtid_start_problem
from ..binlog.events import BinlogPosition
from ..config import GhostConfig
from ..context import MigrationContext
from ..copy.bounds import read_bounds, restore_bounds
from ..copy.chunker import Chunker
from ..copy.copier import Copier
from ..cutover.attempts import SESSIONS_HINT
from ..cutover.triggers import drop_triggers_on
from ..errors import BinlogConnectionLost, GhostError, PreflightError
from ..mysql.connection import Connection, execute, query
from ..sql import builder
from ..sql.builder import KeyColumn
from ..sql.names import TableNames, cutover_names, match_helper_table, names_of
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog
from ..topology.preflight import Servers
from . import helper_tables, sessions
from .checkpoint import HINT, Checkpoint, fingerprint
from .checkpoint import load as load_checkpoint

log = logging.getLogger("django_ghost")


def create_or_take_over(
    servers: Servers,
    config: GhostConfig,
    names: TableNames,
    statements: Sequence[str],
    created: Callable[[str], None],
) -> tuple[Changelog, Checkpoint | None]:
    """The changelog and the ghost, ALTERed with ``statements`` (helper_tables.py); on
    resume, the earlier run's and the checkpoint to resume from (None for a fresh run)."""
    if not config.resume:
        changelog = helper_tables.create(servers.main, config, names, statements, created)
        return changelog, None
    checkpoint = take_over(servers.main, servers.inspector, config, names)
    # A run killed between creating the triggers on the ghost and the swap left them
    # there; they must not fire on the apply's writes (cutover/triggers.py).
    drop_triggers_on(servers.main, names.ghost)
    changelog = Changelog(servers.main, names.changelog)
    log.info("resuming from checkpoint at %s", checkpoint.binlog_position)
    return changelog, checkpoint


def resumed_names(conn: Connection, config: GhostConfig, names: TableNames) -> TableNames:
    """The helper table names of the run to resume: those its checkpoint recorded.

    Its changelog is ``names.changelog`` when the template has no ``{timestamp}`` (or
    this process rendered the names: an automatic resume); otherwise the newest changelog
    of this table the template matches that holds a checkpoint. ``names`` when nothing
    is found (take_over then says what is missing).
    """
    found: list[TableNames] = []
    for changelog, timestamp in _changelog_candidates(conn, config, names):
        rows = query(conn, f"SELECT value FROM {q(changelog)} WHERE hint = %s", (HINT,))
        if not rows:
            continue
        checkpoint = Checkpoint.from_json(str(rows[0][0]))
        if checkpoint.changelog:
            ghost, old = checkpoint.ghost, checkpoint.old
            candidate = TableNames(names.original, ghost, checkpoint.changelog, old)
        elif timestamp is None:
            candidate = names
        else:  # a checkpoint from before the names were recorded
            candidate = _render(config, timestamp)
        if checkpoint.alter_sha == fingerprint(config.alter):
            found.insert(0, candidate)
            break
        found.append(candidate)  # take_over will say the ALTER differs
    if not found:
        return names
    if found[0] != names:
        log.info("resuming the run whose helper tables are %s", ", ".join(found[0].helpers))
    return found[0]


def _changelog_candidates(
    conn: Connection, config: GhostConfig, names: TableNames
) -> list[tuple[str, str | None]]:
    """Changelog tables that may be the earlier run's, the likeliest first, with the
    timestamp their name was rendered with (None: this run's own name)."""
    found: list[tuple[str, str | None]] = []
    if helper_tables.table_exists(conn, config.database, names.changelog):
        found.append((names.changelog, None))
    template = config.changelog_table_template
    if "{timestamp}" not in template:
        return found
    others = []
    for (table,) in query(
        conn,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        (config.database,),
    ):
        base = config.force_table_names or config.table
        match = match_helper_table(str(table), (template,), tables=(base,))
        if match and match.table == base and match.name != names.changelog:
            others.append((match.timestamp or "", match.name))
    # Timestamps render as %Y%m%d%H%M%S: the newest sorts last.
    found += [(name, stamp) for stamp, name in sorted(others, reverse=True)]
    return found


def _render(config: GhostConfig, timestamp: str) -> TableNames:
    return names_of(config, timestamp)


def take_over(
    conn: Connection, inspector: Connection, config: GhostConfig, names: TableNames
) -> Checkpoint:
    """Resume: the earlier run's ghost and changelog tables and checkpoint must exist,
    describe the same change of the same table, and its binlog must still be there
    (on ``inspector``, the server the binlog is read from). Its sessions still running
    a statement on the server are ended first (sessions.py), before anything here
    renames, drops or deletes."""

    def exists(table: str) -> bool:
        return helper_tables.table_exists(conn, config.database, table)

    checkpoint: Checkpoint | None = None
    if exists(names.changelog):
        checkpoint = load_checkpoint(conn, names.changelog)
        sessions.end_sessions_of_killed_run(
            conn,
            (*checkpoint.sessions, *_cut_over_sessions(conn, names.changelog)),
            user=checkpoint.sessions_user,
            started=checkpoint.server_started,
        )
    # A run killed inside a cut-over attempt leaves the ghost under its swap name and,
    # maybe, the empty sentry (cutover/atomic.py): put the ghost back, drop the sentry.
    swap_ghost, swap_old = cutover_names(names.original)
    if not exists(names.ghost) and exists(swap_ghost):
        execute(conn, f"RENAME TABLE {q(swap_ghost)} TO {q(names.ghost)}")
    if helper_tables.is_sentry(conn, config.database, swap_old):
        execute(conn, f"DROP TABLE {q(swap_old)}")
    missing = [t for t in (names.ghost, names.changelog) if not exists(t)]
    if missing or checkpoint is None:
        raise PreflightError(
            f"Cannot resume: {', '.join(missing)} missing. Run without resume to start over."
        )
    if checkpoint.alter_sha != fingerprint(config.alter):
        raise PreflightError(
            "Cannot resume: the earlier run applied a different ALTER. Run the same ALTER, "
            "or start over (drop the leftover tables first)."
        )
    if checkpoint.table_sha != fingerprint(original_ddl(conn, config.table)):
        raise PreflightError(
            f"Cannot resume: {config.table} changed since the earlier run. Start over."
        )
    _check_binlog_kept(inspector, config, checkpoint)
    return checkpoint


def _check_binlog_kept(inspector: Connection, config: GhostConfig, checkpoint: Checkpoint) -> None:
    """The binlog from the checkpoint on is still on the server it is read from."""
    if config.gtid:
        problem = gtid_start_problem(inspector, checkpoint.stream_start(gtid=True).gtid)
        if problem:
            raise PreflightError(f"Cannot resume from GTID {checkpoint.gtid}: {problem}.")
        return
    if not binlog_file_exists(inspector, checkpoint.binlog_position.file):
        raise PreflightError(
            f"Cannot resume: binary log {checkpoint.binlog_position.file} needed from "
            f"position {checkpoint.binlog_position} has been purged. Start over, and keep binlogs "
            "longer (binlog_expire_logs_seconds) for long migrations."
        )


def _cut_over_sessions(conn: Connection, changelog: str) -> tuple[int, ...]:
    """The sessions of the earlier run's last cut-over attempt (cutover/attempts.py)."""
    rows = query(conn, f"SELECT value FROM {q(changelog)} WHERE hint = %s", (SESSIONS_HINT,))
    return tuple(int(i) for i in json.loads(str(rows[0][0]))) if rows else ()


def restore_copy_position(
    chunker: Chunker, *, applier: Applier, checkpoint: Checkpoint, ghost: str
) -> None:
    """Put the copy back where the checkpoint says; drop chunks copied after it."""
    writer, key, context = chunker.conn, chunker.key, applier.context
    context.rows_copied = checkpoint.rows_copied
    context.events_applied = checkpoint.events_applied
    if not checkpoint.has_range or checkpoint.copy_done:
        chunker.done = True
        applier.copying = False
        return
    restore_bounds(writer, key, "lo", checkpoint.lo)
    restore_bounds(writer, key, "max", checkpoint.max)
    chunker.has_range = True
    chunker.first = checkpoint.first
    applier.copied_through_lo = not checkpoint.first
    names = [q(c.ghost_name) for c in key]
    # Ghost rows the copy will write again: above the saved bound, up to the maximum.
    redo = builder.range_condition(names, first=checkpoint.first, lower="lo", upper="max")
    execute(writer, f"DELETE FROM {q(ghost)} WHERE {redo}")


class Checkpoints:
    """Saves a checkpoint of ``copier``'s run at most every ``checkpoint_seconds`` (always
    when forced): its copy bound and the applied binlog position, or ``start_position``
    until something was applied. ``on_save`` runs before each save: from the first one
    on, the ghost and the changelog are worth keeping for a resume.
    """

    def __init__(
        self,
        changelog: Changelog,
        copier: Copier,
        conn: Connection,
        *,
        start_position: Any,
        on_save: Callable[[], None],
        names: TableNames,
    ):
        self.changelog = changelog
        self.copier = copier
        self.conn = conn
        self.start_position = start_position
        self.on_save = on_save
        self.names = names
        self._sessions: dict[str, Any] | None = None
        self._last = 0.0

    def save(self, *, force: bool = False) -> None:
        """Record the copy bound and the applied binlog position (every few seconds)."""
        now = time.monotonic()
        context = self.copier.context
        if not force and now - self._last < context.config.checkpoint_seconds:
            return
        position = context.applied_position or self.start_position
        if position is None:
            return
        self._last = now
        self.on_save()
        if self._sessions is None:
            # The writer copies and applies; the main session renames the ghost.
            self._sessions = {
                "sessions": sessions.connection_ids((self.copier.conn, self.conn)),
                "sessions_user": sessions.session_user(self.conn),
                "server_started": sessions.server_started(self.conn),
            }
        save_checkpoint(
            self.changelog,
            self.copier.conn,
            self.conn,
            self.copier.chunker,
            context,
            context.config,
            key=self.copier.key,
            position=position,
            names=self.names,
            **self._sessions,
        )


def save_checkpoint(
    changelog: Changelog,
    writer: Connection,
    conn: Connection,
    chunker: Chunker,
    context: MigrationContext,
    config: GhostConfig,
    *,
    key: tuple[KeyColumn, ...],
    position: Any,
    names: TableNames,
    sessions: tuple[int, ...] = (),
    sessions_user: str = "",
    server_started: int = 0,
) -> None:
    """Record the copy bound (the writer's session variables), the applied binlog
    ``position``, the helper tables' ``names`` and the run's writing ``sessions`` in the
    changelog."""
    has_range = chunker.has_range
    checkpoint = Checkpoint(
        lo=read_bounds(writer, key, "lo") if has_range else (),
        max=read_bounds(writer, key, "max") if has_range else (),
        first=chunker.first,
        copy_done=chunker.done,
        has_range=has_range,
        position=position.coordinates if isinstance(position, BinlogPosition) else str(position),
        gtid=getattr(position, "gtid", ""),
        rows_copied=context.rows_copied,
        events_applied=context.events_applied,
        alter_sha=fingerprint(config.alter),
        table_sha=fingerprint(original_ddl(conn, config.table)),
        ghost=names.ghost,
        changelog=names.changelog,
        old=names.old,
        sessions=sessions,
        sessions_user=sessions_user,
        server_started=server_started,
    )
    changelog.write(HINT, checkpoint.to_json())


def original_ddl(conn: Connection, table: str) -> str:
    """The table's SHOW CREATE TABLE without its AUTO_INCREMENT counter: what the
    checkpoint's fingerprint is taken of."""
    ddl = str(query(conn, f"SHOW CREATE TABLE {q(table)}")[0][1])
    return re.sub(r" AUTO_INCREMENT=\d+", "", ddl)


CONNECTION_LOST = (2002, 2003, 2006, 2013, 1927, 4031)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the server or the network going away (a run may resume)."""
    if isinstance(exc, BinlogConnectionLost):
        return True
    return (
        isinstance(exc, MySQLdb.OperationalError)
        and bool(exc.args)
        and (exc.args[0] in CONNECTION_LOST)
    )


def connection_loss(exc: BaseException, cause: BaseException | None) -> BaseException | None:
    """The lost connection behind ``exc``: itself, or ``cause``, the failure of a thread
    (heartbeat, stream) whose abort the main loop raised; None for any other error."""
    for candidate in (exc, cause):
        if candidate is not None and connection_lost(candidate):
            return candidate
    return None


# How long an automatic resume waits for the server to accept sessions again: a restart
# of a busy server (InnoDB crash recovery, a large buffer pool loaded back) takes tens of
# seconds; beyond this the run fails with the message that says how to resume by hand.
SERVER_WAIT_SECONDS = 120.0


def wait_for_server(
    connect: Callable[..., Connection],
    spec: Any,
    stop: threading.Event,
    timeout: float = SERVER_WAIT_SECONDS,
) -> None:
    """Before an automatic resume: wait (bounded, with backoff) until the server accepts
    a session again; returns early when ``stop`` is set or on another error, which the
    resumed run then reports."""
    deadline = time.monotonic() + timeout
    pause = 0.5
    while True:
        try:
            connect(spec).close()
            return
        except MySQLdb.OperationalError as exc:
            if not connection_lost(exc) or time.monotonic() + pause > deadline:
                return
        if stop.wait(pause):
            return
        pause = min(pause * 2, 5.0)


def lost_after_swap_error(table: str, names: TableNames, exc: BaseException) -> GhostError:
    """What a run reports that lost its connection after the swap: done, not resumable."""
    return GhostError(
        f"Lost the connection to the server after the cut-over of {table} "
        f"({exc.args[-1] if exc.args else exc}): the new table is in place, the migration "
        f"is done and there is nothing to resume. Left to clean up: the changelog "
        f"{names.changelog} and the old table {names.old} if present (django-ghost "
        f"--cleanup --table {table})."
    )


def lost_connection_error(table: str, exc: BaseException, *, kept: bool) -> GhostError:
    """What a run that lost its connection (and does not resume by itself) reports;
    ``kept``: the ghost, the changelog and a checkpoint are there to resume from."""
    where = (
        "The ghost and changelog tables and the checkpoint are kept: run again with "
        "resume=true (--resume) to continue, or remove them with django-ghost --cleanup."
        if kept
        else "Nothing was copied yet; run the migration again."
    )
    return GhostError(
        f"Lost the connection to the server during the migration of "
        f"{table} ({exc.args[-1] if exc.args else exc}). The original "
        f"table is untouched. {where}"
    )
