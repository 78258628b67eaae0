"""Revert: put a migrated table's kept old table back, with the changes made since the
cut-over, and no row copy (gh-ost's ``--revert --old-table``; docs/revert.md).

The migration's steps (migrator.py) with the roles turned around: the kept old table is
the ghost, the current table the original, and the binlog is streamed from the
cut-over checkpoint the migration recorded (state/revert_checkpoint.py):

    validate options → connect → read server facts → discover the topology → read the
    cut-over checkpoint (refused: no checkpoint, the table altered since, the binlog
    purged) → inspect both tables → map the columns back through the ALTER (refused: a
    mapping that would lose data, table/reverse.py) → take the migration lock → create
    the changelog → start the binlog stream from the cut-over (and the verification by
    key) → catch up → verify with a checksum → wait for cut-over approval → cut over
    (the current table becomes ``_<t>_rev_del``) → clean up, forget the checkpoint

Every refusal comes before anything is written; the current table is never written.
Applying by key is idempotent, so a revert that fails can simply be run again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import MySQLdb

from .config import GhostConfig
from .errors import AbortedError, ConfigError, GhostError, PreflightError
from .migrator import Migrator
from .mysql.connection import Connection, execute
from .result import MigrationResult
from .sql.alter import parse_alter
from .sql.names import TableNames, table_names
from .sql.quote import quote_identifier as q
from .state import helper_tables, revert_checkpoint
from .state.resources import Resources
from .state.resume import connection_lost, lost_after_swap_error
from .table.changelog import Changelog, create_table_sql
from .table.info import read_table, show_create_table
from .table.plan import CopyPlan
from .table.reverse import plan_revert, refusals
from .topology.inspector import check_table
from .topology.preflight import Servers, check_server

log = logging.getLogger("django_ghost")


def reverted_names(names: TableNames, old_template: str, old_table: str) -> TableNames:
    """The revert's tables: ``old_table`` as the ghost and, for the current table once
    swapped out, the old-table template with ``_rev`` after the table (``_t_rev_del``)."""
    rendered = table_names(
        names.original,
        old_template=old_template.replace("{table}", "{table}_rev", 1),
        timestamp=time.strftime("%Y%m%d%H%M%S"),
    )
    return TableNames(names.original, old_table, names.changelog, rendered.old)


class Reverter(Migrator):
    """Reverts the migration of ``config.table`` to ``config.old_table`` (``revert=True``)."""

    def __init__(self, config: GhostConfig, **kwargs: Any):
        super().__init__(config, **kwargs)
        self.use_names(reverted_names(self.names, config.old_table_template, config.old_table))
        self.start_at: Any = None

    def run(self) -> MigrationResult:
        try:
            return self._run_once(Resources())
        except MySQLdb.OperationalError as exc:
            if not connection_lost(exc):
                raise
            if self.context.swapped:
                raise lost_after_swap_error(self.config.table, self.names, exc) from exc
            raise GhostError(
                f"Lost the connection to the server while reverting {self.config.table} "
                f"({exc}). {self.config.table} is untouched; run the revert again."
            ) from exc

    def _run_once(self, resources: Resources) -> MigrationResult:
        started = time.monotonic()
        try:
            self.validate()
            self.ops.fire("startup")
            conn = self.connect(self.configured, resources)
            facts = check_server(conn, self.config)
            servers = self.discover_topology(conn, facts, resources)
            # Locked before anything is read: no migration of the table can cut over
            # between the checks of the checkpoint and the revert's own.
            helper_tables.take_migration_lock(
                resources.session(self.connect_fn(servers.spec)), self.config
            )
            checkpoint = revert_checkpoint.load_for_revert(
                servers.main, servers.inspector, *self._target()
            )
            # The migration's cut-over RENAME is in the stream: its sessions' DDL is ours.
            self.foreign_sessions, self.start_at = checkpoint.sessions, checkpoint.binlog_position
            plan = self.plan_revert(servers.main, checkpoint.alter)
            changelog = self.create_changelog(servers.main, resources)
            self.ops.fire("validated")
            new_table = show_create_table(servers.main, self.names.ghost)
            if not self.config.execute:
                return self.reporter.result(started, noop=True, verified=False, new_table=new_table)
            log.info("reverting %s to %s from %s", *self._target()[1:], checkpoint.position)
            streaming = self.start_streaming(servers, plan, changelog, None, resources)
            streaming.applier.copying = False  # nothing to copy: every key is live
            verifier = self.verify_applied_keys(servers, plan, streaming, resources)
            self.context.set_phase("applying the changes since the cut-over")
            self.catch_up(streaming)
            verified = self.verify_checksum(servers, plan, changelog, streaming)
            self.ops.wait_for_cut_over_approval(streaming)
            self.ops.fire("before-cut-over")
            self.cut_over(servers, changelog, streaming, resources, verifier)
            self.clean_up(servers, resources, None, streaming)
            revert_checkpoint.forget(servers.main, self.config.database, self.names.ghost)
            self.reporter.report(force=True)
            self.ops.fire("success")
            return self.reporter.result(started, noop=False, verified=verified, new_table=new_table)
        except BaseException as exc:
            self.context.request_abort(str(exc))
            with contextlib.suppress(Exception):
                self.ops.fire("failure", {"GHOST_ERROR": str(exc)[:1000]})
            if isinstance(exc, KeyboardInterrupt):
                raise AbortedError(f"Interrupted; {self.config.table} is untouched.") from None
            raise
        finally:
            resources.release()

    # -- steps ---------------------------------------------------------------------------

    def validate(self) -> None:
        if not self.config.validate_target().revert:
            raise ConfigError("Reverter runs a revert: set revert=true and old_table.")

    def plan_revert(self, main: Connection, alter: str) -> CopyPlan:
        """Both tables inspected and the columns mapped back, or PreflightError."""
        database, table, old = self._target()
        current = check_table(read_table(main, database, table), self.config)
        kept = read_table(main, database, old)
        assert kept is not None  # load_for_revert checked it exists
        parsed = parse_alter(alter, table=table)
        allow_nullable = self.config.allow_nullable_unique_key
        plan = plan_revert(current, kept, parsed, allow_nullable_unique_key=allow_nullable)
        problems = refusals(main, database, plan)
        if problems:
            raise PreflightError(
                f"Cannot revert {table} to {old}: the changes since the cut-over cannot be "
                "mapped back without loss: "
                + "; ".join(problems)
                + f". Nothing was changed. Migrate {table} back with a reverse migration "
                "that says what to do with those values."
            )
        return plan

    def create_changelog(self, main: Connection, resources: Resources) -> Changelog:
        """A fresh changelog; the table the current one will be renamed to must be free."""
        database, swapped_out = self.config.database, self.names.old
        if helper_tables.table_exists(main, database, swapped_out):
            if not self.config.initially_drop_old_table:
                raise PreflightError(
                    f"Table {swapped_out} already exists (an earlier revert?). Drop it, or "
                    "set initially_drop_old_table to drop it automatically."
                )
            execute(main, f"DROP TABLE {q(swapped_out)}")
        execute(main, f"DROP TABLE IF EXISTS {q(self.names.changelog)}")
        execute(main, create_table_sql(self.names.changelog))
        resources.table(main, self.names.changelog)
        changelog = Changelog(main, self.names.changelog)
        changelog.state("started")
        return changelog

    def stream_start(self, servers: Servers, changelog: Changelog, resumed: Any) -> Any:
        """The cut-over's position (load_for_revert checked the binlog still has it)."""
        return self.start_at

    def _target(self) -> tuple[str, str, str]:
        return self.config.database, self.config.table, self.config.old_table
