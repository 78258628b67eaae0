"""Route a batch of ALTERs on one table: direct, instant, online through the engine, or refuse.

A *batch* is the list of captured ALTER statements on one table that the schema editor
flushed together (one operation's, by default). Routing, in order:

1. table created earlier in this editor session          -> direct (nothing to protect)
2. every statement metadata-only (rename, default, ...)   -> direct
3. leading metadata-only statements run direct first; trailing ``SET/DROP DEFAULT``
   statements run direct after the online copy (a ``DROP DEFAULT`` applied to the ghost
   table before the copy would leave the new NOT NULL column without a value);
4. table estimated below ``min_table_rows``                -> direct
5. statements the server accepts with ``ALGORITHM=INSTANT`` (probed one by one from the
   head, under a short ``lock_wait_timeout``)              -> instant
6. tables with foreign keys (either side), triggers (unless ``include_triggers``) or
   no non-null unique key
                                                          -> refuse, or direct when
                                                             ``unsafe_tables="direct"``
7. the rest                                               -> one engine run (all its
                                                             statements applied in order
                                                             to the ghost table)

Before an engine run, interrupted.py looks for what a killed run of the same table left:
the run resumes it (same ALTER), starts over, or is refused.

In plan mode the same decisions are taken from read-only facts; the instant probe, which
would write, is reported as what would be tried.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django_ghost.conf import ResolvedConfig
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.cutover.instant import try_instant
from django_ghost.engine.errors import AbortedError, PreflightError
from django_ghost.engine.migrator import Migrator

from .history import HistoryWriter
from .interrupted import Decision, InterruptedRunError, decide_for, plan_note
from .sql import Classified, ClauseKind
from .state import GhostSession

DIRECT = "direct"
INSTANT = "instant"
ONLINE = "online"
REFUSED = "refused"


class OnlineRefusedError(PreflightError):
    """The table cannot be migrated online and settings do not allow altering it directly."""


@dataclasses.dataclass(frozen=True)
class Captured:
    """One statement as the editor received it, and its classification."""

    sql: Any  # str or a ddl_references.Statement, passed back to execute() untouched
    params: Sequence[Any] | None
    rendered: str  # params inlined, as the engine needs it
    classified: Classified
    operation: str = ""


@dataclasses.dataclass
class Step:
    """What happened (or, in plan mode, would happen) to some statements."""

    alias: str
    table: str
    route: str
    reason: str
    statements: list[str]
    migration: str = ""
    rows_estimate: int | None = None
    preflight: list[str] = dataclasses.field(default_factory=list)
    result: Any = None  # MigrationResult of an online run
    done: bool = False
    resumed_from: str = ""  # the checkpoint's binlog position when an online run resumed


@dataclasses.dataclass(frozen=True)
class TableFacts:
    """Read-only facts about a table, from information_schema."""

    exists: bool
    rows_estimate: int
    foreign_keys: int
    triggers: int
    unique_keys: tuple[str, ...]

    def problems(self, *, include_triggers: bool = False) -> list[str]:
        """Why the table cannot go online; triggers are no reason with include_triggers
        (the engine carries them to the new table and checks their names first)."""
        out = []
        if self.foreign_keys:
            out.append(f"has {self.foreign_keys} foreign key(s) (as child or parent)")
        if self.triggers and not include_triggers:
            out.append(
                f"has {self.triggers} trigger(s) (GHOST include_triggers and trigger_suffix "
                "carry them over)"
            )
        if not self.unique_keys:
            out.append("has no unique key over NOT NULL columns")
        return out


def read_facts(
    query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]], table: str
) -> TableFacts:
    """Facts about ``table`` in the connection's current database."""
    rows = query(
        "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        [table],
    )
    if not rows:
        return TableFacts(False, 0, 0, 0, ())
    fks = query(
        "SELECT COUNT(*) FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE REFERENCED_TABLE_NAME IS NOT NULL AND ("
        "(TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s) OR "
        "(REFERENCED_TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = %s))",
        [table, table],
    )
    triggers = query(
        "SELECT COUNT(*) FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = %s",
        [table],
    )
    uniques = query(
        "SELECT s.INDEX_NAME FROM information_schema.STATISTICS s "
        "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA "
        "AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME "
        "WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME = %s AND s.NON_UNIQUE = 0 "
        "GROUP BY s.INDEX_NAME HAVING SUM(c.IS_NULLABLE = 'YES') = 0 ORDER BY s.INDEX_NAME",
        [table],
    )
    return TableFacts(
        exists=True,
        rows_estimate=int(rows[0][0] or 0),
        foreign_keys=int(fks[0][0]),
        triggers=int(triggers[0][0]),
        unique_keys=tuple(str(r[0]) for r in uniques),
    )


def split_batch(
    batch: list[Captured],
) -> tuple[list[Captured], list[Captured], list[Captured]]:
    """(leading metadata-only, core, trailing default-only) parts of a batch."""
    head = 0
    while head < len(batch) and batch[head].classified.metadata_only:
        head += 1
    tail = len(batch)
    while tail > head and batch[tail - 1].classified.default_only:
        tail -= 1
    return batch[:head], batch[head:tail], batch[tail:]


class Router:
    """Routes and runs (or plans) batches for one schema editor."""

    def __init__(
        self,
        *,
        connection: Any,
        config: ResolvedConfig,
        session: GhostSession,
        run_direct: Callable[[Captured], None],
        query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
        plan: bool,
    ):
        self.connection = connection
        self.config = config
        self.session = session
        self.run_direct = run_direct
        self.query = query
        self.plan = plan
        self.created_tables: set[str] = set()
        self.migration = ""

    # -- reporting -----------------------------------------------------------------------

    def _step(
        self, table: str, route: str, reason: str, items: Sequence[Captured], **kw: Any
    ) -> Step:
        step = Step(
            alias=self.connection.alias,
            table=table,
            route=route,
            reason=reason,
            # What the server receives: as written for direct runs, the normalised ALTER
            # (index DDL rewritten) for the engine and the instant probe.
            statements=[
                c.classified.alter if route in (ONLINE, INSTANT) else c.rendered.strip()
                for c in items
            ],
            migration=self.migration,
            **kw,
        )
        self.session.events.append(step)
        return step

    def direct(self, items: Sequence[Captured], table: str, reason: str, **kw: Any) -> None:
        if not items:
            return
        step = self._step(table, DIRECT, reason, items, **kw)
        if not self.plan:
            for item in items:
                self.run_direct(item)
        step.done = not self.plan

    # -- routing -------------------------------------------------------------------------

    def route(self, table: str, batch: list[Captured]) -> None:
        if table in self.created_tables:
            self.direct(batch, table, "table created in this migration")
            return
        if all(c.classified.metadata_only for c in batch):
            self.direct(batch, table, "metadata-only change")
            return
        head, core, tail = split_batch(batch)
        self.direct(head, table, "metadata-only change (before the copy)")
        facts = read_facts(self.query, table)
        if not facts.exists:
            self.direct(core + tail, table, "table does not exist yet")
            return
        options = self.config.options
        if facts.rows_estimate < options.min_table_rows:
            self.direct(
                core + tail,
                table,
                f"about {facts.rows_estimate} rows < min_table_rows={options.min_table_rows}",
                rows_estimate=facts.rows_estimate,
            )
            return
        if options.instant_ddl and not self.plan:
            while core and self._try_instant(core[0], table):
                core = core[1:]
        if core:
            self._online(table, core, facts)
        self.direct(tail, table, "default change, applied after the copy")

    def _try_instant(self, item: Captured, table: str) -> bool:
        """Run ``item`` with ALGORITHM=INSTANT (the engine's attempt_instant_ddl probe,
        engine/cutover/instant.py); False when the server cannot."""
        classified = item.classified
        if ClauseKind.ALGORITHM in classified.clause_kinds or classified.touches_foreign_keys:
            return False
        timeout = self.config.options.instant_lock_wait_timeout
        if not try_instant(self.connection, classified.alter, lock_wait_timeout=timeout):
            return False
        step = self._step(table, INSTANT, "server applied it with ALGORITHM=INSTANT", [item])
        step.done = True
        return True

    def _online(self, table: str, core: list[Captured], facts: TableFacts) -> None:
        problems = facts.problems(include_triggers=self.config.engine.include_triggers)
        if any(c.classified.touches_foreign_keys for c in core):
            problems.append("the change adds or drops a foreign key")
        preflight = problems or [
            "ok: no foreign keys, no triggers (or include_triggers), unique key present"
        ]
        if problems:
            if self.config.options.unsafe_tables == "direct":
                self.direct(
                    core,
                    table,
                    "unsafe_tables='direct': table " + "; ".join(problems),
                    rows_estimate=facts.rows_estimate,
                    preflight=preflight,
                )
                return
            step = self._step(
                table,
                REFUSED,
                "table " + "; ".join(problems),
                core,
                rows_estimate=facts.rows_estimate,
                preflight=preflight,
            )
            if self.plan:
                return
            raise OnlineRefusedError(
                f"django_ghost refuses to migrate `{table}` online: it "
                + "; ".join(problems)
                + ". The engine cannot keep such a table consistent. Run this migration "
                "with plain `migrate` in a maintenance window, or set the option "
                "unsafe_tables='direct' (settings.GHOST, the alias's GHOST dict, or "
                "`ghost_migrate --ghost-set unsafe_tables=direct`) to alter it with a "
                "blocking ALTER.\nStatements: " + "; ".join(step.statements)
            )
        reason = "online copy through the engine"
        if self.config.options.instant_ddl:
            reason += " (not instant)" if not self.plan else " unless ALGORITHM=INSTANT works"
        statements = [c.classified.alter for c in core]
        engine_config = engine_config_for(
            self.connection, self.config, self.session, table=table, statements=statements
        )
        key = (self.connection.alias, table)
        if self.plan and key not in self.session.planned_interrupted:
            # Only a table's first online step meets what an interrupted run left.
            self.session.planned_interrupted.add(key)
            check = self.session.interrupted_check or decide_for
            reason += "; " + plan_note(check, self.config, engine_config)
        step = self._step(
            table, ONLINE, reason, core, rows_estimate=facts.rows_estimate, preflight=preflight
        )
        if self.plan:
            return
        step.result = run_online(
            connection=self.connection,
            config=self.config,
            session=self.session,
            engine_config=engine_config,
            migration=self.migration,
            step=step,
        )
        step.done = True


def engine_config_for(
    connection: Any,
    config: ResolvedConfig,
    session: GhostSession,
    *,
    table: str,
    statements: list[str],
) -> GhostConfig:
    """The engine's options for one run of ``statements`` on ``table``."""
    engine_config = dataclasses.replace(
        config.engine,
        database=str(connection.settings_dict["NAME"]),
        table=table,
        alter=";\n".join(s.rstrip().rstrip(";") for s in statements),
        execute=True,
        # Django's RenameField is explicit: the rename is intended.
        approve_renamed_columns=config.engine.approve_renamed_columns
        or any("RENAME COLUMN" in s.upper() for s in statements),
        # The router has probed ALGORITHM=INSTANT already (instant_ddl), one statement at a
        # time: the engine trying again could only fail again.
        attempt_instant_ddl=config.engine.attempt_instant_ddl and not config.options.instant_ddl,
    )
    key = (connection.alias, table)
    if key in session.left_old_tables and not config.engine.ok_to_drop_table:
        # The old table is the backup our own previous run of this command kept; the
        # newest run's backup is the one worth keeping.
        engine_config = dataclasses.replace(engine_config, initially_drop_old_table=True)
    return engine_config


def run_online(
    *,
    connection: Any,
    config: ResolvedConfig,
    session: GhostSession,
    engine_config: GhostConfig,
    migration: str,
    step: Step | None = None,
) -> Any:
    """One engine run (resuming an interrupted one of the same ALTER), recorded in the
    history."""
    table = engine_config.table
    if connection.in_atomic_block:
        # An open transaction on Django's connection may hold a metadata lock on the
        # table: the cut-over's RENAME would queue behind it, and all traffic behind that.
        raise PreflightError(
            f"Cannot migrate `{table}` online inside a transaction; set atomic=False on the "
            "RunPython/operation that triggers it."
        )
    history = HistoryWriter(connection) if config.options.history else None
    decision = _interrupted_run(config, session, engine_config, history)
    engine_config = decision.engine_config(engine_config)
    if step is not None:
        step.resumed_from = decision.resumed_from
    run_id = (
        history.started(
            table=table,
            statements=engine_config.alter,
            route=ONLINE,
            migration=migration,
            resumed_from=decision.resumed_from,
        )
        if history
        else None
    )
    try:
        result = _run_engine(engine_config, session)
    except BaseException as exc:
        if history:
            status = "aborted" if isinstance(exc, (AbortedError, KeyboardInterrupt)) else "failed"
            history.finished(run_id, status=status, error=f"{type(exc).__name__}: {exc}")
            history.close()
        raise
    if not engine_config.ok_to_drop_table:
        session.left_old_tables.add((connection.alias, table))
    if history:
        history.finished(
            run_id,
            status="done",
            rows_copied=int(result.rows_copied),
            events_applied=int(result.events_applied),
        )
        history.close()
    return result


def _interrupted_run(
    config: ResolvedConfig,
    session: GhostSession,
    engine_config: GhostConfig,
    history: HistoryWriter | None,
) -> Decision:
    """Resume, start over or refuse what an interrupted run of the table left
    (interrupted.py); tell the user, and close the killed run's history rows."""
    check = session.interrupted_check or decide_for
    try:
        decision: Decision = check(config, engine_config)
    except InterruptedRunError:
        # Refused, but no migration of the table runs: the killed run's rows are closed.
        if history:
            history.interrupted(table=engine_config.table, note="")
            history.close()
        raise
    if decision.notice() and session.notify is not None:
        session.notify(decision.notice())
    if history and decision.leftovers is not None:
        history.interrupted(table=engine_config.table, note=decision.notice())
    return decision


def _run_engine(engine_config: Any, session: GhostSession) -> Any:
    """Run the engine in a worker thread so Ctrl-C can ask it to stop cleanly."""
    factory = session.migrator_factory or Migrator
    migrator = factory(engine_config, on_progress=session.progress, stop=session.stop)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = migrator.run()
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"django-ghost-{engine_config.table}")
    worker.start()
    interrupted = False
    while worker.is_alive():
        try:
            worker.join(0.2)
        except KeyboardInterrupt:
            # Leave the engine to abort at its next check and clean up after itself.
            interrupted = True
            session.stop.set()
    if "error" in outcome:
        raise outcome["error"]
    if interrupted:
        raise AbortedError("Interrupted; the engine stopped and the original table is intact.")
    return outcome["result"]
