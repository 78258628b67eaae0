"""The revert route: migrating backward over a migration whose forward run was online and
kept its old table puts that table back instead of copying again (docs/revert.md).

The router asks :func:`choose` for the first online batch of a table in a backward
migration. The revert is taken when

- the history's newest online run on the table is this migration's forward run, done,
  with the old table it kept (``revert_retention_seconds`` on);
- the engine's cut-over checkpoint of that old table still applies: both tables exist,
  the table is exactly as the cut-over (and the batch's trailing default changes, see
  :func:`reseal`) left it, and the binlog since the cut-over is still on the server.

Otherwise the batch takes the normal route, and the plan and the output say why. The
revert runs the engine's Reverter (:func:`run`); one the engine refuses before writing
anything (a mapping that would lose data) falls back to the normal route as well.
Statements of the backward migration that come after the reverted batch run as usual:
they undo what the forward migration did before its online run, which the old table has.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import MySQLdb

from django_ghost.conf import ResolvedConfig
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.mysql.connection import Connection, ConnectionSpec, connect, execute
from django_ghost.engine.revert import Reverter
from django_ghost.engine.sql.quote import quote_identifier as q
from django_ghost.engine.state import revert_checkpoint

from .history import HistoryWriter
from .state import GhostSession

REVERT = "revert"
logger = logging.getLogger("django_ghost")


@dataclasses.dataclass(frozen=True)
class Choice:
    """The old table to revert to ("": take the normal route), and why (or why not)."""

    old_table: str
    reason: str


def database_config(connection: Any, config: ResolvedConfig) -> GhostConfig:
    return dataclasses.replace(config.engine, database=str(connection.settings_dict["NAME"]))


def _open(engine_config: GhostConfig) -> Connection:
    return connect(ConnectionSpec.from_config(engine_config), connect_timeout=10)


def choose(connection: Any, config: ResolvedConfig, table: str, migration: str) -> Choice:
    """Whether this backward migration's batch on ``table`` is reverted (read-only)."""
    if not config.options.history:
        return Choice("", "no revert: the history is off, so the forward run is unknown")
    history = HistoryWriter(connection)
    try:
        last = history.last_online_run(table)
    finally:
        history.close()
    if last is None:
        return Choice("", f"no revert: the history has no online run of `{table}`")
    route, status, forward, old = last
    if route != "online" or status != "done" or forward != migration or not old:
        return Choice(
            "",
            f"no revert: the last online run of `{table}` is not {migration}'s forward run "
            "with a kept old table (revert_retention_seconds keeps them)",
        )
    engine_config = database_config(connection, config)
    retention = config.options.revert_retention_seconds
    conn = _open(engine_config)
    try:
        database = engine_config.database
        checkpoint = revert_checkpoint.load(conn, database, old)
        why = revert_checkpoint.revert_refusal(conn, conn, database, table, old, checkpoint)
        expired = retention > 0 and old in revert_checkpoint.expired(conn, database, retention)
    finally:
        conn.close()
    if why:
        return Choice("", f"no revert: {why}")
    if expired:
        return Choice(
            "",
            f"no revert: `{old}` was kept longer than revert_retention_seconds={retention} "
            "(dropped by the next online run)",
        )
    return Choice(
        old,
        f"revert to `{old}`, kept since {migration}'s cut-over: the changes made since are "
        "applied to it, no row copy",
    )


def revert_batch(
    router: Any, table: str, core: list[Any], rows: int, preflight: list[str]
) -> tuple[bool, str]:
    """Revert ``router``'s backward batch ``core`` on ``table`` to the forward run's old
    table: (True, "") when done (or planned), else (False, why not)."""
    from .router import _run_engine, engine_config_for  # the router imports this module

    if not router.plan:
        expire(router.connection, router.config)
    choice = choose(router.connection, router.config, table, router.migration)
    if not choice.old_table:
        return False, choice.reason
    step = router._step(table, REVERT, choice.reason, core, rows_estimate=rows)
    step.preflight = preflight
    if router.plan:
        return True, ""
    engine_config = engine_config_for(
        router.connection, router.config, router.session, table=table, statements=[]
    )
    step.result, why = run(
        connection=router.connection,
        config=router.config,
        session=router.session,
        engine_config=engine_config,
        migration=router.migration,
        old_table=choice.old_table,
        run_engine=_run_engine,
    )
    if step.result is None:
        router.session.events.remove(step)
        return False, why
    step.done = True
    return True, ""


def run(
    *,
    connection: Any,
    config: ResolvedConfig,
    session: GhostSession,
    engine_config: GhostConfig,
    migration: str,
    old_table: str,
    run_engine: Callable[..., Any],
) -> tuple[Any, str]:
    """Revert ``engine_config.table`` to ``old_table``: (the engine's result, "") or, when
    the engine refused before writing anything, (None, why) for the normal route."""
    revert_config = dataclasses.replace(
        engine_config,
        alter="",
        revert=True,
        old_table=old_table,
        resume=False,
        # From the cut-over's file position; triggers are not carried (docs/revert.md).
        gtid=False,
        include_triggers=False,
        # The table swapped out holds the schema being migrated away from: not kept.
        ok_to_drop_table=True,
        initially_drop_old_table=True,
    )
    table = engine_config.table
    history = HistoryWriter(connection) if config.options.history else None
    run_id = (
        history.started(
            table=table, statements=f"revert to {old_table}", route=REVERT, migration=migration
        )
        if history
        else None
    )
    if session.notify is not None:
        session.notify(f"Reverting `{table}` to `{old_table}` (no row copy).")
    try:
        result = run_engine(revert_config, session, Reverter)
    except BaseException as exc:
        refused = isinstance(exc, PreflightError)
        if history:
            note = "refused; migrated backward on the normal route: " if refused else ""
            history.finished(run_id, status="failed", error=f"{note}{type(exc).__name__}: {exc}")
            history.close()
        if refused:
            return None, f"revert refused ({exc})"
        raise
    if history:
        history.finished(
            run_id, status="done", events_applied=int(result.events_applied), old_table=old_table
        )
        history.close()
    return result, ""


def reseal(connection: Any, config: ResolvedConfig, table: str) -> None:
    """After an online run's trailing default changes (metadata only, run direct after the
    cut-over), record the table as they left it: a revert checks it is unchanged since."""
    engine_config = database_config(connection, config)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            session = int(cursor.fetchone()[0])
        conn = _open(engine_config)
        try:
            revert_checkpoint.reseal(conn, engine_config.database, table, session)
        finally:
            conn.close()
    except MySQLdb.Error as exc:
        # The migration itself is done; only a later revert is refused (table changed).
        logger.warning("django_ghost could not update the cut-over checkpoint: %s", exc)


def expire(connection: Any, config: ResolvedConfig) -> None:
    """Drop the old tables this alias's online runs kept (its history names them) once
    older than revert_retention_seconds, and their checkpoints. Old tables the CLI kept
    are never dropped here: their retention is the operator's."""
    retention = config.options.revert_retention_seconds
    if retention <= 0 or not config.options.history:
        return
    history = HistoryWriter(connection)
    try:
        ours = history.old_tables()
    finally:
        history.close()
    engine_config = database_config(connection, config)
    conn = _open(engine_config)
    try:
        expired = revert_checkpoint.expired(conn, engine_config.database, retention)
        for old in [name for name in expired if name in ours]:
            execute(conn, f"DROP TABLE IF EXISTS {q(old)}")
            revert_checkpoint.forget(conn, engine_config.database, old)
    finally:
        conn.close()
