"""An interrupted online run of one table: find what it left, and decide what this run does.

A ``ghost_migrate`` killed mid-copy (SIGKILL, a lost host) leaves the ghost table, the
changelog and, once it saved one, a checkpoint (engine/state/checkpoint.py). Re-running
the command reaches the same online ALTER again; before the engine starts,
:func:`decide` looks for those leftovers and chooses:

- **fresh**: nothing left over (the common case: one indexed lookup in
  information_schema);
- **resume**: the checkpoint's ALTER and table fingerprints match this run's, and its
  binary log is still on the server: the engine runs with ``resume=True``
  (engine/state/resume.py takes the tables over);
- **start over**: ``resume_interrupted`` is off (``--no-resume``), or there is nothing to
  resume from (no checkpoint yet, no ghost table): the leftovers are dropped through the
  engine's one clean-up policy (engine/state/cleanup.py ``drop_leftovers``, under the
  migration lock) and the run starts from scratch;
- **refuse** (:class:`InterruptedRunError`): the leftovers belong to a different ALTER, the
  table changed since, the binary log needed was purged, or the cut-over was interrupted
  after the swap. The table is untouched and the message names the remedy.

A *running* migration's tables are never taken for leftovers: while its migration lock
is held (``running_migration``) the run is refused, and the engine takes the same lock
before it touches anything, so a migration starting between this check and the engine's
start is refused there.

The lookups run where the migration runs: the engine's topology discovery gives the
server holding the tables and the lock (the applier) and the one whose binary log is
read (the inspector), so a replica host migrating on its primary is checked on both.
Helper names from ``{timestamp}`` templates differ per run and cannot be found again:
with such templates every run is fresh.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb

from django_ghost.conf import ResolvedConfig, control_socket_path
from django_ghost.engine.binlog.coordinates import binlog_file_exists, gtid_start_problem
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import GhostError, PreflightError
from django_ghost.engine.mysql.connection import Connection, ConnectionSpec, connect, query
from django_ghost.engine.mysql.server import read_server_facts
from django_ghost.engine.sql.names import SENTRY_COMMENT, TableNames, cutover_names, table_names
from django_ghost.engine.state.checkpoint import HINT, Checkpoint, fingerprint
from django_ghost.engine.state.cleanup import drop_leftovers, refuse_if_running
from django_ghost.engine.state.leftovers import SOCKET_KIND, remove_stale_socket
from django_ghost.engine.state.resume import original_ddl
from django_ghost.engine.topology.discovery import discover

FRESH = "fresh"
RESUME = "resume"
START_OVER = "start over"
REMEDY = (
    "Run `manage.py ghost_migrate --no-resume` to drop them and start this migration "
    "over, or drop them with `manage.py ghost_ctl cleanup {table}`."
)


class InterruptedRunError(PreflightError):
    """Leftovers of an interrupted run that this run can neither resume nor replace."""


@dataclasses.dataclass(frozen=True)
class Leftovers:
    """What an interrupted run of one table left, as found on the applier."""

    names: TableNames
    tables: tuple[str, ...]
    """The helper tables present: ghost, changelog and the cut-over's ``~g``/``~d``."""
    checkpoint: Checkpoint | None
    swapped_old: bool
    """``<table>~d`` holding data: the cut-over was killed after swapping the tables."""

    @property
    def resumable(self) -> bool:
        """A checkpoint and a ghost (maybe under the cut-over's name) to continue from."""
        ghost, _ = cutover_names(self.names.original)
        has_ghost = self.names.ghost in self.tables or ghost in self.tables
        return self.checkpoint is not None and has_ghost

    def describe(self) -> str:
        text = ", ".join(self.tables)
        if self.checkpoint is not None:
            cp = self.checkpoint
            text += f" (checkpoint at {cp.position}, {cp.rows_copied} rows copied)"
        return text


@dataclasses.dataclass(frozen=True)
class Decision:
    """What this run does about an interrupted run of its table."""

    action: str
    table: str
    leftovers: Leftovers | None = None
    dropped: tuple[str, ...] = ()
    reason: str = ""
    """Why a run starts over."""

    @property
    def resumed_from(self) -> str:
        """The checkpoint's binlog position when resuming, else empty."""
        if self.action != RESUME or self.leftovers is None or self.leftovers.checkpoint is None:
            return ""
        return self.leftovers.checkpoint.position

    def engine_config(self, config: GhostConfig) -> GhostConfig:
        """``config`` with ``resume`` set as decided (the Django side chooses it per run)."""
        if self.action == RESUME:
            return dataclasses.replace(config, resume=True, initially_drop_ghost_table=False)
        return dataclasses.replace(config, resume=False)

    def notice(self) -> str:
        """What to tell the user; empty for a fresh run."""
        found = self.leftovers
        if self.action == RESUME and found is not None and found.checkpoint is not None:
            cp = found.checkpoint
            return (
                f"Resuming `{self.table}` from its checkpoint at {cp.position} "
                f"({cp.rows_copied} rows copied by the interrupted run; "
                "--no-resume starts over)."
            )
        if self.action == START_OVER and found is not None:
            dropped = ", ".join(self.dropped) or "nothing"
            return f"Starting `{self.table}` over ({self.reason}): dropped {dropped}."
        return ""


def find(conn: Connection, config: GhostConfig) -> Leftovers | None:
    """The leftovers of an interrupted run of ``config.table`` on ``conn``, or None.

    Only the changelog marks tables as the engine's (leftovers.py): without it the run
    is fresh, and the engine itself refuses a stray ghost table as before.
    """
    templates = (
        config.ghost_table_template,
        config.changelog_table_template,
        config.old_table_template,
    )
    if any("{timestamp}" in template for template in templates):
        return None
    names = table_names(
        config.table,
        ghost_template=templates[0],
        changelog_template=templates[1],
        old_template=templates[2],
    )
    swap_ghost, swap_old = cutover_names(config.table)
    candidates = (names.ghost, names.changelog, swap_ghost, swap_old)
    rows = query(
        conn,
        "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME IN (%s, %s, %s, %s)",
        (config.database, *candidates),
    )
    comments = {str(name): comment for name, comment in rows}
    if names.changelog not in comments:
        return None
    return Leftovers(
        names=names,
        tables=tuple(name for name in candidates if name in comments),
        checkpoint=read_checkpoint(conn, names.changelog),
        swapped_old=swap_old in comments and comments[swap_old] != SENTRY_COMMENT,
    )


def read_checkpoint(conn: Connection, changelog: str) -> Checkpoint | None:
    """The changelog's checkpoint, or None when the run stopped before saving one."""
    rows = query(conn, f"SELECT value FROM `{changelog}` WHERE hint = %s", (HINT,))
    return Checkpoint.from_json(str(rows[0][0])) if rows else None


def check_resumable(
    found: Leftovers, config: GhostConfig, *, main: Connection, inspector: Connection
) -> None:
    """InterruptedRunError unless ``found`` is this very change of the unchanged table,
    with its binary log still there."""
    checkpoint = found.checkpoint
    assert checkpoint is not None
    table = config.table
    problem = ""
    if checkpoint.alter_sha != fingerprint(config.alter):
        problem = (
            f"they belong to an interrupted online run of a different ALTER of `{table}`, "
            f"not this migration's ({config.alter[:300]})"
        )
    elif checkpoint.table_sha != fingerprint(original_ddl(main, table)):
        problem = f"`{table}` changed since that run was interrupted, so it cannot be resumed"
    elif config.gtid:
        problem = (
            gtid_start_problem(inspector, checkpoint.gtid)
            if checkpoint.gtid
            else "its checkpoint holds no GTID position (that run did not stream by GTID): "
            "resume it without gtid"
        )
    elif not binlog_file_exists(inspector, checkpoint.binlog_position.file):
        problem = (
            f"the binary log {checkpoint.binlog_position.file} the resume needs has been purged "
            "(keep binlogs longer than your migrations: binlog_expire_logs_seconds)"
        )
    if problem:
        raise InterruptedRunError(
            f"`{table}` has leftovers of an interrupted online migration: "
            f"{found.describe()}; {problem}. The table is untouched. " + REMEDY.format(table=table)
        )


def _swapped_error(found: Leftovers, table: str) -> InterruptedRunError:
    _, swap_old = cutover_names(table)
    return InterruptedRunError(
        f"The cut-over of `{table}` was interrupted after swapping the tables: `{table}` "
        f"may already have the new definition and `{swap_old}` holds the previous data "
        f"(leftovers: {found.describe()}). Nothing was changed. Compare the two; then "
        f"`manage.py ghost_ctl cleanup {table} --drop-old` drops the leftovers, and "
        "`ghost_migrate --fake` records the migration if the table is already migrated."
    )


@contextlib.contextmanager
def _servers(
    config: GhostConfig, connect_fn: Callable[[ConnectionSpec], Connection]
) -> Iterator[tuple[Connection, Connection]]:
    """(applier, inspector) sessions: where the tables and the lock are, and whose binary
    log the engine reads (the same session unless the host is a replica)."""
    configured = ConnectionSpec.from_config(config)
    opened: list[Connection] = []

    def open_(spec: ConnectionSpec) -> Connection:
        conn = connect_fn(spec)
        opened.append(conn)
        return conn

    try:
        inspector = open_(configured)
        facts = read_server_facts(inspector)
        topology = discover(
            config,
            configured,
            inspector,
            log_slave_updates=facts.log_slave_updates,
            dialect=facts.replica,
            connect=open_,
        )
        main = open_(topology.applier) if topology.split else inspector
        yield main, inspector
    finally:
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()


def _connect(spec: ConnectionSpec) -> Connection:
    return connect(spec, connect_timeout=10)


def decide(
    config: GhostConfig,
    *,
    no_resume: str = "",
    plan: bool = False,
    connect_fn: Callable[[ConnectionSpec], Any] = _connect,
) -> Decision:
    """Resume, start over (dropping the leftovers unless ``plan``) or run fresh; raises
    InterruptedRunError (or the engine's PreflightError while a migration of the table
    runs) instead. ``no_resume``: why resuming is off (empty: it is on)."""
    try:
        with _servers(config, connect_fn) as (main, inspector):
            return _decide(config, main, inspector, no_resume=no_resume, plan=plan)
    except MySQLdb.Error as exc:
        raise GhostError(
            f"Could not look for an interrupted online run of `{config.table}` on "
            f"{ConnectionSpec.from_config(config).describe()}: {exc}."
        ) from exc


def _decide(
    config: GhostConfig, main: Connection, inspector: Connection, *, no_resume: str, plan: bool
) -> Decision:
    """:func:`decide` on sessions on the applier (``main``) and the inspector."""
    table = config.table
    found = find(main, config)
    if found is None:
        return Decision(FRESH, table)
    refuse_if_running(main, config.database, table)
    if found.swapped_old:
        raise _swapped_error(found, table)
    if not no_resume and found.resumable:
        check_resumable(found, config, main=main, inspector=inspector)
        return Decision(RESUME, table, found)
    reason = no_resume or "the interrupted run left no checkpoint or ghost table to resume from"
    if plan:
        return Decision(START_OVER, table, found, dropped=found.tables, reason=reason)
    removed = drop_leftovers(
        main,
        config.database,
        table,
        drop_old=False,
        templates=(
            config.ghost_table_template,
            config.changelog_table_template,
            config.old_table_template,
        ),
    )
    dropped = tuple(item.name for item in removed if item.kind != SOCKET_KIND)
    return Decision(START_OVER, table, found, dropped=dropped, reason=reason)


def _no_resume_reason(config: ResolvedConfig, engine_config: GhostConfig) -> str:
    if not config.options.resume_interrupted:
        return "resume_interrupted is off (--no-resume)"
    if engine_config.initially_drop_ghost_table:
        return "initially_drop_ghost_table is on"
    return ""


def decide_for(
    config: ResolvedConfig, engine_config: GhostConfig, *, plan: bool = False
) -> Decision:
    """:func:`decide` for one run, with resuming as the alias's options say. Starting
    over also removes the killed run's control socket when nobody answers on it: a fresh
    run refuses to replace a socket (a resumed one replaces a stale one itself)."""
    no_resume = _no_resume_reason(config, engine_config)
    decision = decide(engine_config, no_resume=no_resume, plan=plan)
    if decision.action == START_OVER and not plan:
        socket = control_socket_path(config, engine_config.table)
        if remove_stale_socket(socket):
            decision = dataclasses.replace(decision, dropped=(*decision.dropped, socket))
    return decision


def plan_note(
    check: Callable[..., Decision], config: ResolvedConfig, engine_config: GhostConfig
) -> str:
    """What ``--plan`` reports about an interrupted run of the table (``check``: as
    :func:`decide_for`, run with ``plan=True``: nothing is dropped)."""
    try:
        decision = check(config, engine_config, plan=True)
    except PreflightError as exc:
        return f"refused: {exc}"
    except (GhostError, MySQLdb.Error) as exc:
        return f"could not look for an interrupted run: {exc}"
    if decision.action == RESUME and decision.leftovers is not None:
        return f"would resume the interrupted run: {decision.leftovers.describe()}"
    if decision.action == START_OVER and decision.leftovers is not None:
        return (
            f"would drop the interrupted run's {', '.join(decision.dropped)} and start over "
            f"({decision.reason})"
        )
    return "no interrupted run to resume"
