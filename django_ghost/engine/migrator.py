"""Migrator: one online ALTER, as a straight list of named steps.

    validate options → connect → read server facts → discover the topology → parse the ALTER
    → inspect the table
    → take the migration lock → create changelog and ghost tables → plan the copy
    → (validation only: report the new table and stop) → defer the plain secondary
    indexes → start the binlog stream → capture the copy range → copy rows while applying
    changes → build the deferred indexes → catch up → verify with a checksum → cut over
    → clean up

Order matters in two places. The binlog stream starts *before* the copy range is read,
so no change can fall between the two (applier.py explains why that makes copy + apply
consistent). The checksum and the cut-over both wait until the stream has caught up,
so neither holds its lock while a backlog drains.

The topology (topology.py) decides where each step runs: the binlog stream and the lag
reading on the *inspector* (``self.inspector_spec``, a replica in gh-ost's default mode),
everything else on the *applier* (``self.spec``, the primary). On a primary both are one.

The bulkier parts of the steps live beside this module, each given what it needs:
helper_tables.py (create the changelog and ghost), resume.py (take over a killed run,
save checkpoints), deferred.py (drop and build the plain secondary indexes),
verification.py (the checksum step), replicas.py (waiting for the inspected replica,
test_on_replica) and reporting.py (progress snapshots and the result).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import MySQLdb

from . import reporting
from .apply.applier import Applier
from .apply.streamer import Streamer
from .binlog.coordinates import current_position
from .binlog.reader import BinlogReader, WatchSpec
from .config import GhostConfig
from .context import MigrationContext
from .control.operations import Operations
from .copy import deferred
from .copy.chunker import Chunker
from .copy.copier import Copier
from .cutover.cutover import CutOver, CutOverCountMismatch
from .errors import AbortedError, GhostError, PreflightError, UnsupportedAlterError
from .hooks import CompositeHooks, Hooks
from .mysql.connection import Connection, ConnectionSpec, connect, execute, query, scalar
from .mysql.server import ServerFacts, read_server_facts
from .progress import ProgressSnapshot
from .result import MigrationResult
from .sql.alter import ParsedAlter, parse_alter
from .sql.builder import KeyColumn
from .sql.names import TableNames, cutover_names, migration_lock_name, table_names
from .sql.quote import quote_identifier as q
from .state import helper_tables, resume
from .state.checkpoint import Checkpoint
from .table.changelog import Changelog, Heartbeat
from .table.info import TableInfo, read_table
from .table.plan import CopyPlan, build_plan
from .topology import replicas
from .topology.discovery import Topology, discover
from .topology.inspector import check_binlog, check_grants, check_renames, check_table, read_grants
from .verify.verification import Verification

log = logging.getLogger("django_ghost")

ReaderFactory = Callable[[ConnectionSpec, GhostConfig, dict[str, WatchSpec], Any], BinlogReader]

MIN_APPLY_SLICE = 0.05
"""Seconds the copy loop gives the apply at least between two chunks."""


def default_reader_factory(
    spec: ConnectionSpec, config: GhostConfig, watch: dict[str, WatchSpec], start: Any
) -> BinlogReader:
    from .binlog.stream import BinlogStream

    return BinlogStream(
        spec,
        server_id=replica_server_id(config),
        schema=config.database,
        watch=watch,
        start=start,
    )


def replica_server_id(config: GhostConfig) -> int:
    """The server id our binlog client registers with. Two clients with one id make the
    server drop the older one, so by default each process gets its own (gh-ost: 99999)."""
    if config.replica_server_id:
        return config.replica_server_id
    return 1_000_000_000 + (os.getpid() * 1000 + threading.get_ident() % 1000) % 1_000_000_000


class Migrator:
    """Runs one online migration of ``config.database``.``config.table``."""

    def __init__(
        self,
        config: GhostConfig,
        *,
        on_progress: Callable[[ProgressSnapshot], None] | None = None,
        stop: threading.Event | None = None,
        hooks: Hooks | None = None,
        status_printer: Callable[[str], None] | None = None,
        reader_factory: ReaderFactory = default_reader_factory,
        connect_fn: Callable[..., Connection] = connect,
    ):
        self.config = config
        self.on_progress = on_progress
        self.external_stop = stop
        self.reader_factory = reader_factory
        self.connect_fn = connect_fn
        self._kwargs: dict[str, Any] = {
            "on_progress": on_progress,
            "stop": stop,
            "hooks": hooks,
            "status_printer": status_printer,
            "reader_factory": reader_factory,
            "connect_fn": connect_fn,
        }
        self.context = MigrationContext(config)
        if stop is not None:
            # Setting the caller's event aborts every loop, throttled waits included.
            self.context.stop = stop
        self.spec = ConnectionSpec.from_config(config)
        # The server the binlog is read from; the discover_topology step may move the
        # applier (self.spec) to the primary of a replica.
        self.inspector_spec = self.spec
        self.names: TableNames = table_names(
            config.table,
            ghost_template=config.ghost_table_template,
            changelog_template=config.changelog_table_template,
            old_template=config.old_table_template,
            timestamp=time.strftime("%Y%m%d%H%M%S"),
        )
        self.ops = Operations(
            config,
            self.context,
            self.spec,
            self._connect_plain,
            self.snapshot,
            ghost_table=self.names.ghost,
            old_table=self.names.old,
            status_printer=status_printer,
        )
        if hooks is not None:
            self.ops.hooks = CompositeHooks([self.ops.hooks, hooks])
        self.progress = reporting.ProgressReporter(on_progress, self.snapshot)
        # Filled in as the steps run.
        self.main: Connection | None = None
        self.inspector_conn: Connection | None = None
        self.topology: Topology | None = None
        self.writer: Connection | None = None
        self.lock_conn: Connection | None = None
        self.barrier: Connection | None = None
        self.facts: ServerFacts | None = None
        self.parsed: ParsedAlter | None = None
        self.original: TableInfo | None = None
        self.plan: CopyPlan | None = None
        self.key: tuple[KeyColumn, ...] = ()
        self.streamer: Streamer | None = None
        self.heartbeat: Heartbeat | None = None
        self.changelog: Changelog | None = None
        self.applier: Applier | None = None
        self.copier: Copier | None = None
        self._created: list[str] = []
        self._resumed: Checkpoint | None = None
        self._start_position: Any = None
        self._last_checkpoint = 0.0
        self._swapped = False
        self._checksum_verified = False
        self._new_create_table = ""

    # -- the algorithm -------------------------------------------------------------------

    def run(self) -> MigrationResult:
        """Run the migration; after a lost connection, resume from the last checkpoint
        (up to auto_resume_attempts times) before giving up."""
        try:
            return self._run_once()
        except MySQLdb.OperationalError as exc:
            if not _connection_lost(exc):
                raise
            kept = bool(self._last_checkpoint) or self.config.resume
            if kept and self.config.auto_resume_attempts > 0:
                log.warning("connection lost (%s); resuming from the last checkpoint", exc)
                time.sleep(1.0)
                successor = Migrator(
                    dataclasses.replace(
                        self.config,
                        resume=True,
                        auto_resume_attempts=self.config.auto_resume_attempts - 1,
                    ),
                    **self._kwargs,
                )
                return successor.run()
            where = (
                "The ghost and changelog tables and the checkpoint are kept: run again with "
                "resume=true (--resume) to continue, or remove them with django-ghost --cleanup."
                if kept
                else "Nothing was copied yet; run the migration again."
            )
            raise GhostError(
                f"Lost the connection to the server during the migration of "
                f"{self.config.table} ({exc.args[-1] if exc.args else exc}). The original "
                f"table is untouched. {where}"
            ) from exc

    def _run_once(self) -> MigrationResult:
        started = time.monotonic()
        try:
            self.validate_options()
            self.ops.fire("startup")
            self.connect()
            self.read_server_facts()
            self.discover_topology()
            self.parse_alter()
            self.inspect_original()
            self.take_migration_lock()
            self.create_changelog_and_ghost()
            self.plan_copy()
            self.ops.fire("validated")
            if not self.config.execute:
                return self.result(started, noop=True)
            self.defer_secondary_indexes()
            self.start_streaming()
            self.capture_copy_range()
            self.ops.fire("before-row-copy")
            self.copy_rows()
            self.ops.fire("row-copy-complete")
            self.build_deferred_indexes()
            self.catch_up()
            self.verify_checksum()
            self.wait_for_cut_over_approval()
            self.ops.fire("before-cut-over")
            self.cut_over()
            self.clean_up()
            self.ops.fire("success")
            return self.result(started, noop=False)
        except BaseException as exc:
            self.context.request_abort(str(exc))
            if _connection_lost(exc) and self._last_checkpoint:
                # The server or the network went away mid-copy: keep the ghost and the
                # changelog (with its checkpoint) so the run can be resumed.
                self._created.clear()
                log.error("connection lost; resume with resume=true (--resume): %s", exc)
            with contextlib.suppress(Exception):
                self.ops.fire("failure", {"GHOST_ERROR": str(exc)[:1000]})
            if isinstance(exc, KeyboardInterrupt):
                raise AbortedError("Interrupted; the original table is untouched.") from None
            raise
        finally:
            self.release()

    # -- steps ---------------------------------------------------------------------------

    def validate_options(self) -> None:
        self.config.validate_target()

    def connect(self) -> None:
        try:
            self.main = self.connect_fn(self.spec)
        except MySQLdb.Error as exc:
            raise PreflightError(
                f"Cannot connect to {self.spec.describe()}: {exc.args[-1] if exc.args else exc}"
            ) from None

    def read_server_facts(self) -> None:
        assert self.main is not None
        self.facts = read_server_facts(self.main)
        if self.config.switch_to_rbr and self.facts.binlog_format.upper() != "ROW":
            # Before streaming starts: our own binlog client would count as a replica.
            from .topology.rbr import switch_to_rbr

            log.info("%s", switch_to_rbr(self.main).describe())
            self.facts = read_server_facts(self.main)
        check_binlog(self.facts)
        check_grants(read_grants(self.main), self.config.database)
        # DDL on the ghost (defaults with time literals) must be read in the server's
        # zone, as the application's own ALTER would be.
        execute(self.main, "SET SESSION time_zone = @@GLOBAL.time_zone")

    def discover_topology(self) -> None:
        """A replica is inspected and the migration runs on its primary, unless a
        replica mode says otherwise; on a primary both roles stay (topology.py)."""
        assert self.main is not None and self.facts is not None
        self.topology = discover(
            self.config,
            self.spec,
            self.main,
            log_slave_updates=self.facts.log_slave_updates,
            status_statement=self.facts.replica_status_sql(),
            connect=self._connect_plain,
        )
        log.info("topology: %s", self.topology.describe())
        inspected = self.facts.identity
        if self.topology.split:
            self.inspector_conn, self.main = self.main, None
            self.spec = self.topology.applier
            self.connect()
            assert self.main is not None
            self.facts = read_server_facts(self.main)
            check_grants(read_grants(self.main), self.config.database)
            execute(self.main, "SET SESSION time_zone = @@GLOBAL.time_zone")
        self.ops.use_topology(
            self.topology, changelog_table=self.names.changelog, inspector=inspected
        )

    def parse_alter(self) -> None:
        self.parsed = parse_alter(self.config.alter, table=self.config.table)
        if self.parsed.database and self.parsed.database != self.config.database:
            raise UnsupportedAlterError(
                f"The ALTER names database {self.parsed.database}, but the migration runs in "
                f"{self.config.database}."
            )
        check_renames(self.parsed, self.config)

    def inspect_original(self) -> None:
        assert self.main is not None and self.parsed is not None
        info = read_table(self.main, self.config.database, self.config.table)
        self.original = check_table(info, self.config)
        for old in self.parsed.renamed_columns:
            if not self.original.has_column(old):
                raise UnsupportedAlterError(
                    f"The ALTER renames column {old}, which {self.config.table} does not have."
                )
        self.context.rows_estimate = self.original.row_estimate
        self.ops.identity = self.facts.identity if self.facts else ""
        self.ops.version = self.facts.version if self.facts else ""

    def take_migration_lock(self) -> None:
        """A server-side named lock: a second migration of the same table is refused."""
        name = migration_lock_name(self.config.database, self.config.table)
        self.lock_conn = self.connect_fn(self.spec)
        if scalar(self.lock_conn, "SELECT GET_LOCK(%s, 0)", (name,)) != 1:
            holder = scalar(self.lock_conn, "SELECT IS_USED_LOCK(%s)", (name,))
            raise PreflightError(
                f"Another migration of {self.config.database}.{self.config.table} is running "
                f"(it holds the lock {name!r}, connection id {holder}). Wait for it to finish, "
                "or stop it."
            )

    def create_changelog_and_ghost(self) -> None:
        """The changelog and the ghost, ALTERed; on resume, the earlier run's (resume.py)."""
        assert self.main is not None and self.parsed is not None
        if self.config.resume:
            self._resumed = resume.take_over(self.main, self._inspector(), self.config, self.names)
            self.changelog = Changelog(self.main, self.names.changelog)
            log.info("resuming from checkpoint at %s", self._resumed.position)
            return
        self.changelog = helper_tables.create(
            self.main, self.config, self.names, self.parsed.statements, self._created
        )

    def plan_copy(self) -> None:
        assert self.main is not None and self.parsed is not None
        assert self.original is not None
        ghost = read_table(self.main, self.config.database, self.names.ghost)
        assert ghost is not None
        dropped = frozenset(c.lower() for c in self.parsed.dropped_columns)
        renamed = {k.lower(): v for k, v in self.parsed.renamed_columns.items()}
        self.plan = build_plan(
            self.original,
            ghost,
            renamed=renamed,
            dropped=dropped,
            allow_nullable_unique_key=self.config.allow_nullable_unique_key,
        )
        self.key = tuple(
            KeyColumn(name=c.name, ghost_name=self.plan.target_name(c.name), column=c)
            for c in self.plan.key_columns
        )
        self._new_create_table = str(
            query(self.main, f"SHOW CREATE TABLE {q(self.names.ghost)}")[0][1]
        )

    def defer_secondary_indexes(self) -> None:
        """Copy without the ghost's plain secondary indexes; they are built afterwards,
        by sorting, which is much faster (see deferred.py)."""
        assert self.main is not None and self.changelog is not None
        if self._resumed is None and self.config.defer_secondary_indexes:
            deferred.defer(self.main, self.names.ghost, self.changelog)

    def start_streaming(self) -> None:
        assert self.main is not None and self.plan is not None
        assert self.facts is not None and self.changelog is not None
        names = self.names
        if self._resumed is not None:
            start = self._resumed.binlog_position
        else:
            replicas.wait_for_replica(
                self.topology, self._inspector(), self.changelog, names.changelog
            )
            start = current_position(self._inspector())
        pads = {
            c.name: c.octet_length or 0 for c in self.plan.key_columns if c.data_type == "binary"
        }
        watch = {
            names.original: WatchSpec(columns=self.plan.key.columns, binary_pad=pads),
            names.changelog: WatchSpec(columns=("hint", "value")),
        }
        self._start_position = start
        reader = self.reader_factory(self.inspector_spec, self.config, watch, start)
        self.streamer = Streamer(
            reader,
            self.context,
            table=names.original,
            changelog_table=names.changelog,
            own_tables=(*names.helpers, *cutover_names(names.original)),
        )
        self.streamer.start()
        self.heartbeat = Heartbeat(
            self.spec,
            names.changelog,
            self.config.heartbeat_interval_millis / 1000.0,
            self._connect_plain,
            lambda exc: self.context.request_abort(f"heartbeat: {exc}"),
        )
        self.heartbeat.start()
        self.ops.start()
        zone = "SYSTEM" if self.plan.converts_datetime_timestamp else "+00:00"
        if zone == "SYSTEM":
            zone = self.facts.global_time_zone or "SYSTEM"
        lock_clause = self.facts.share_lock_clause()
        # The writer reads with READ COMMITTED consistent reads: no row locks, so the copy
        # and the apply never deadlock with the application (see applier._barrier).
        self.writer = self.connect_fn(
            self.spec,
            time_zone=zone,
            sql_mode_remove=self._zero_date_modes(),
            isolation="READ COMMITTED",
        )
        self.barrier = self.connect_fn(self.spec)
        self.applier = Applier(
            self.writer,
            self.plan,
            self.context,
            ghost_table=names.ghost,
            key=self.key,
            lock_clause=lock_clause,
            barrier_conn=self.barrier,
        )

    def capture_copy_range(self) -> None:
        assert self.writer is not None and self.plan is not None
        assert self.applier is not None and self.facts is not None
        assert self.changelog is not None
        self.changelog.state("range-captured")
        chunker = Chunker(self.writer, self.plan.original.name, self.plan.key.name, self.key)
        if self._resumed is not None:
            resume.restore_copy_position(
                self.writer,
                chunker,
                self.applier,
                self.context,
                self._resumed,
                key=self.key,
                ghost=self.names.ghost,
            )
        elif not chunker.capture_range():
            self.applier.copying = False
        self.copier = Copier(
            self.writer,
            self.plan,
            chunker,
            self.context,
            ghost_table=self.names.ghost,
            key=self.key,
            lock_clause="",
            resolve_conflicts=self.applier.resolve_chunk_conflicts,
        )

    def save_checkpoint(self, *, force: bool = False) -> None:
        """Record the copy bound and the applied binlog position (every few seconds)."""
        now = time.monotonic()
        if not force and now - self._last_checkpoint < self.config.checkpoint_seconds:
            return
        position = self.context.applied_position or self._start_position
        if self.copier is None or self.writer is None or position is None:
            return
        assert self.changelog is not None and self.main is not None
        self._last_checkpoint = now
        resume.save_checkpoint(
            self.changelog,
            self.writer,
            self.main,
            self.copier.chunker,
            self.context,
            self.config,
            key=self.key,
            position=position,
        )

    def copy_rows(self) -> None:
        """Copy chunk after chunk; queued binlog changes always go first."""
        assert self.copier is not None
        self.context.set_phase("copying")
        self.context.copy_started_at = time.monotonic()
        while not self.copier.done:
            self._check_abort()
            self._wait_while_throttled()
            # Queued changes go first, but for no longer than the last chunk took: under a
            # write load the apply cannot keep up with, the copy still gets half of the
            # writer's time and finishes; the backlog waits in the bounded queue (and the
            # binlog) and is drained before the checksum and the cut-over.
            self._apply_pending(budget_seconds=max(MIN_APPLY_SLICE, self.copier.last_seconds))
            if not self.copier.copy_next():
                break
            assert self.applier is not None
            self.applier.copied_through_lo = True
            self.save_checkpoint()
            self._report_progress()
        self.context.copy_finished_at = time.monotonic()
        self.context.rows_estimate = max(self.context.rows_copied, 1)
        assert self.applier is not None
        self.applier.copying = False
        self.save_checkpoint(force=True)

    def build_deferred_indexes(self) -> None:
        """Add back the indexes dropped before the copy, online, on their own session
        while the writer keeps applying changes to the ghost."""
        assert self.main is not None
        statement = deferred.build_statement(self.main, self.names.ghost, self.names.changelog)
        if statement is None:
            return
        self.context.set_phase("building indexes")
        started = time.monotonic()
        while statement is not None:
            try:
                deferred.build(self.main, self.connect_fn(self.spec), statement, self._tend)
                break
            except MySQLdb.Error as exc:
                # A resumed run: the killed run's ALTER went on in the server and added
                # some of the indexes meanwhile (the server does not stop a DDL whose
                # client died). Build what is still missing, if that is less.
                if not exc.args or exc.args[0] != deferred.ER_DUP_KEYNAME:
                    raise
                remaining = deferred.build_statement(
                    self.main, self.names.ghost, self.names.changelog
                )
                if remaining == statement:
                    raise
                statement = remaining
        log.info("built the deferred secondary indexes in %.1f s", time.monotonic() - started)
        self._new_create_table = str(
            query(self.main, f"SHOW CREATE TABLE {q(self.names.ghost)}")[0][1]
        )

    def wait_for_cut_over_approval(self) -> None:
        """Postponed cut-over: keep applying changes until the flag file is gone or an
        operator sends ``unpostpone``."""
        while self.ops.postponed():
            self.context.set_phase("postponed: waiting for cut-over approval")
            self._check_abort()
            self._apply_pending(budget_seconds=0.2, wait=0.1)
            self.save_checkpoint()
            self._report_progress()

    def catch_up(self, *, max_wait: float | None = None) -> None:
        """Apply the backlog until the stream is near real time (heartbeat lag)."""
        self.context.set_phase("catching up")
        limit = min(
            self.context.knobs.max_lag_millis / 1000.0,
            float(self.config.cut_over_lock_timeout_seconds),
        )
        deadline = None if max_wait is None else time.monotonic() + max_wait
        while True:
            self._check_abort()
            self._wait_while_throttled()
            self._apply_pending(budget_seconds=0.2, wait=0.05)
            lag = self.context.lag_seconds
            assert self.streamer is not None
            if lag is not None and lag < limit and self.streamer.queue.qsize() < 1000:
                return
            if deadline is not None and time.monotonic() > deadline:
                return
            self._report_progress()

    def verify_checksum(self) -> None:
        """Compare both tables at one consistent point (see verification.py)."""
        if not self.config.checksum:
            return
        assert self.plan is not None and self.facts is not None
        assert self.changelog is not None and self.applier is not None
        assert self.streamer is not None
        self.context.set_phase("verifying")
        rows = Verification(
            self.spec,
            self.connect_fn,
            self.config,
            self.plan,
            self.facts,
            ghost=self.names.ghost,
            key=self.key,
            sql_mode_remove=self._zero_date_modes(),
            changelog=self.changelog,
            applier=self.applier,
            streamer=self.streamer,
            catch_up=self.catch_up,
            check_abort=self._check_abort,
            tend=self._tend,
        ).run()
        self._checksum_verified = True
        log.info("checksum verified over %d rows", rows)

    def cut_over(self) -> None:
        assert self.main is not None and self.applier is not None
        assert self.streamer is not None and self.changelog is not None
        self.context.set_phase("cutting over")
        cut = CutOver(
            self.spec,
            self.connect_fn,
            self.context,
            original=self.names.original,
            ghost=self.names.ghost,
            old=self.names.old,
            applier=self.applier,
            streamer=self.streamer,
            changelog=self.changelog,
            main_conn=self.main,
            before_attempt=lambda: self.catch_up(),
        )
        with replicas.replication_stopped_if_testing(
            self.topology, self.config, self.main, self.ops.fire
        ):
            try:
                cut.run()
            except CutOverCountMismatch:
                # Kept for inspection, as the error says: release() must not drop it.
                if self.names.ghost in self._created:
                    self._created.remove(self.names.ghost)
                raise
        self._swapped = True
        if self.names.ghost in self._created:
            self._created.remove(self.names.ghost)
        if self.topology is not None and self.topology.test_on_replica:
            replicas.swap_back_after_test(
                self.main,
                self.names,
                self.config,
                where=self.spec.describe(),
                status_printer=self.ops.status_printer,
            )
        self.context.set_phase("cut over")

    def clean_up(self) -> None:
        assert self.main is not None
        self._stop_threads()
        execute(self.main, f"DROP TABLE IF EXISTS {q(self.names.changelog)}")
        if self.names.changelog in self._created:
            self._created.remove(self.names.changelog)
        if self.config.ok_to_drop_table:
            execute(self.main, f"DROP TABLE IF EXISTS {q(self.names.old)}")
        self.context.set_phase("done")

    # -- helpers -------------------------------------------------------------------------

    def result(self, started: float, *, noop: bool) -> MigrationResult:
        return reporting.result(
            self.config,
            self.names,
            self.context,
            started=started,
            noop=noop,
            checksum_verified=self._checksum_verified,
            new_create_table=self._new_create_table,
        )

    def snapshot(self) -> ProgressSnapshot:
        return reporting.snapshot(self.config, self.context)

    def _report_progress(self, force: bool = False) -> None:
        self.ops.tick()
        self.progress.report(force=force)

    def _tend(self) -> None:
        """One turn of a wait that keeps the ghost current: stop if aborted, apply what
        is queued, report progress."""
        self._check_abort()
        self._apply_pending(budget_seconds=0.2, wait=0.05)
        self._report_progress()

    def _apply_pending(self, *, budget_seconds: float, wait: float = 0.0) -> None:
        assert self.applier is not None and self.streamer is not None
        deadline = time.monotonic() + budget_seconds
        first = True
        while True:
            before = self.context.events_applied
            self.applier.drain(
                self.streamer.queue,
                max_events=self.context.knobs.dml_batch_size,
                wait=wait if first else 0.0,
            )
            first = False
            if self.context.events_applied == before and self.streamer.queue.empty():
                return
            if time.monotonic() > deadline:
                return

    def _wait_while_throttled(self) -> None:
        # Blocks while any throttle reason holds; raises AbortedError if the migration
        # is aborted meanwhile.
        self.ops.wait_while_throttled()

    def _check_abort(self) -> None:
        if self.external_stop is not None and self.external_stop.is_set():
            self.context.request_abort("stop requested")
        if self.streamer is not None and self.streamer.error is not None:
            raise self.streamer.error
        if self.context.aborted:
            raise AbortedError(
                f"Migration of {self.config.table} aborted: {self.context.abort_reason}. "
                "The original table is untouched."
            )

    def _inspector(self) -> Connection:
        conn = self.inspector_conn or self.main
        assert conn is not None
        return conn

    def _connect_plain(self, spec: ConnectionSpec) -> Connection:
        return self.connect_fn(spec)

    def _zero_date_modes(self) -> tuple[str, ...]:
        if self.config.allow_zero_in_date:
            return ("NO_ZERO_DATE", "NO_ZERO_IN_DATE")
        return ()

    def _stop_threads(self) -> None:
        self.ops.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
            self.heartbeat = None
        if self.streamer is not None:
            self.streamer.stop()

    def release(self) -> None:
        """Stop threads, drop what this run created (unless swapped in), close sessions."""
        self._stop_threads()
        if self.main is not None:
            for table in reversed(self._created):
                with contextlib.suppress(MySQLdb.Error):
                    execute(self.main, f"DROP TABLE IF EXISTS {q(table)}")
            self._created.clear()
        for conn in (self.writer, self.barrier, self.lock_conn, self.main, self.inspector_conn):
            if conn is not None:
                with contextlib.suppress(MySQLdb.Error):
                    conn.close()


CONNECTION_LOST = (2002, 2003, 2006, 2013, 1927, 4031)


def _connection_lost(exc: BaseException) -> bool:
    return (
        isinstance(exc, MySQLdb.OperationalError)
        and bool(exc.args)
        and (exc.args[0] in CONNECTION_LOST)
    )


def run_migration(config: GhostConfig, **kwargs: Any) -> MigrationResult:
    """Convenience: ``Migrator(config, **kwargs).run()``."""
    return Migrator(config, **kwargs).run()
