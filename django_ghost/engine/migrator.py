"""Migrator: one online ALTER, as a straight list of named steps.

    validate options → connect → read server facts → discover the topology → parse the ALTER
    → inspect the table → take the migration lock → create changelog and ghost tables
    → plan the copy → (validation only: report the new table and stop) → defer the plain
    secondary indexes → start the binlog stream (and the verification by key of what it
    applies) → capture the copy range → copy rows while applying changes (building the
    deferred indexes early if the table is busy) → catch up
    → verify with a checksum while the deferred indexes build → wait for cut-over
    approval → cut over → clean up

``Migrator._run_once`` is that list: each step is a call that takes what it needs and
returns what it produces (the sessions as ``Servers``, the running apply as
``Streaming``, the copier, ...). What a step opens, starts or creates for the rest of the
run it registers in the run's ``Resources`` (state/resources.py), which one ``release()``
undoes whichever step fails: it stops the threads, drops the tables this run created
unless they must stay (the ghost once swapped in or refused by the cut-over's
verification by key; both tables after a lost connection once a checkpoint was saved),
and closes the sessions. After such a lost connection ``run()`` resumes from the
checkpoint by itself, up to ``auto_resume_attempts`` times. The hook events fire from
``_run_once`` and, within the steps, through ``self.ops`` (control/operations.py), in the
order of the list.

Order matters in two places. The binlog stream starts *before* the copy range is read,
so no change can fall between the two (apply/applier.py explains why that makes copy +
apply consistent). The checksum and the cut-over both wait until the stream has caught
up, so neither holds its lock while a backlog drains.

The topology (topology/discovery.py) decides where each step runs: the binlog stream and
the lag reading on the *inspector* (``servers.inspector``), everything else on the
*applier* (``servers.main``). revert.py runs a revert with these steps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from . import reporting
from .apply.fence import probe_for
from .apply.streaming import (
    ReaderFactory,
    Streaming,
    default_reader_factory,
    open_applier,
    open_heartbeat,
    open_stream,
)
from .binlog.coordinates import current_position
from .binlog.events import BinlogPosition
from .config import GhostConfig
from .context import MigrationContext
from .control.operations import Operations
from .copy import deferred
from .copy.copier import Copier
from .copy.deferred import IndexBuild
from .copy.loop import copy_rows, open_copy
from .cutover.cutover import CutOver
from .cutover.instant import attempt_instant
from .errors import AbortedError
from .hooks import CompositeHooks, Hooks
from .mysql.connection import Connection, ConnectionSpec, connect, execute
from .mysql.server import ServerFacts
from .progress import ProgressSnapshot
from .result import MigrationResult
from .sql.alter import ParsedAlter
from .sql.names import TableNames, names_of
from .sql.quote import quote_identifier as q
from .state import resume, revert_checkpoint
from .state.checkpoint import Checkpoint
from .state.helper_tables import take_migration_lock
from .state.resources import Resources
from .table.changelog import Changelog
from .table.info import TableInfo, read_table, show_create_table
from .table.plan import CopyPlan, plan_alter
from .topology import replicas
from .topology.preflight import (
    Servers,
    check_alter,
    check_server,
    discover_servers,
    inspect_table,
    open_session,
)
from .verify.keyed import KeyVerifier, start_key_verification
from .verify.verification import Verification, open_compare_session

log = logging.getLogger("django_ghost")


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
        # Setting the caller's event aborts every loop, throttled waits included.
        self.context.external_stop = stop
        # The server the options name; discover_topology may move the applier to the
        # primary of a replica (Servers.spec).
        self.configured = ConnectionSpec.from_config(config)
        self.names = names_of(config, timestamp=time.strftime("%Y%m%d%H%M%S"))
        self.reporter = reporting.Reporter(config, self.names, self.context, on_progress)
        self.ops = Operations(
            config,
            self.context,
            self.configured,
            self._connect_plain,
            self.reporter.snapshot,
            ghost_table=self.names.ghost,
            old_table=self.names.old,
            status_printer=status_printer,
        )
        if hooks is not None:
            self.ops.hooks = CompositeHooks([self.ops.hooks, hooks])
        # Sessions whose DDL of the table the stream lets pass (a revert's: the cut-over's).
        self.foreign_sessions: tuple[int, ...] = ()

    # -- the algorithm -------------------------------------------------------------------

    def run(self) -> MigrationResult:
        """Run the migration; after a lost connection, resume from the last checkpoint
        (up to auto_resume_attempts times) before giving up."""
        resources = Resources()
        try:
            return self._run_once(resources)
        except Exception as raised:
            exc = resume.connection_loss(raised, self.context.abort_cause)
            if exc is None:
                raise
            if self.context.swapped:
                raise resume.lost_after_swap_error(self.config.table, self.names, exc) from raised
            kept = resources.resumable or self.config.resume
            if kept and self.config.auto_resume_attempts > 0:
                log.warning("connection lost (%s); resuming from the last checkpoint", exc)
                stop = self.context.external_stop or threading.Event()
                resume.wait_for_server(self.connect_fn, self.configured, stop)
                attempts = self.config.auto_resume_attempts - 1
                config = dataclasses.replace(
                    self.config, resume=True, auto_resume_attempts=attempts
                )
                successor = Migrator(config, **self._kwargs)
                # The same tables: a {timestamp} template would render other names now.
                successor.use_names(self.names)
                return successor.run()
            raise resume.lost_connection_error(self.config.table, exc, kept=kept) from raised

    def _run_once(self, resources: Resources) -> MigrationResult:
        started = time.monotonic()
        try:
            self.config.validate_target()
            self.ops.fire("startup")
            conn = self.connect(self.configured, resources)
            facts = check_server(conn, self.config)
            servers = self.discover_topology(conn, facts, resources)
            parsed = check_alter(self.config)
            original = self.inspect_original(servers, parsed)
            take_migration_lock(resources.session(self.connect_fn(servers.spec)), self.config)
            if attempt_instant(servers, self.config, parsed):
                return self.instant_done(started, servers.main)
            changelog, resumed = self.create_changelog_and_ghost(servers, parsed, resources)
            plan = self.plan_copy(servers.main, parsed, original)
            new_table = show_create_table(servers.main, self.names.ghost)
            self.ops.fire("validated")
            if not self.config.execute:
                return self.reporter.result(started, noop=True, verified=False, new_table=new_table)
            self.defer_secondary_indexes(servers.main, changelog, resumed)
            streaming = self.start_streaming(servers, plan, changelog, resumed, resources)
            verifier = self.verify_applied_keys(servers, plan, streaming, resources)
            lookahead = self.connect(servers.spec, resources)
            copier = self.capture_copy_range(streaming, plan, changelog, resumed, lookahead)
            checkpoints = resume.Checkpoints(
                changelog,
                copier,
                servers.main,
                start_position=streaming.start_position,
                on_save=resources.mark_resumable,
                names=self.names,
            )
            self.ops.fire("before-row-copy")
            build_now = functools.partial(self.deferred_index_build, servers, resources)
            copy_rows(copier, streaming, checkpoints, build_indexes=build_now)
            self.ops.fire("row-copy-complete")
            self.catch_up(streaming)
            build = self.deferred_index_build(servers, resources)
            verified = self.verify_checksum(servers, plan, changelog, streaming, build)
            if self.finish_index_build(build, streaming):
                new_table = show_create_table(servers.main, self.names.ghost)
            self.ops.wait_for_cut_over_approval(streaming, checkpoints.save)
            self.ops.fire("before-cut-over")
            cut_over_at = self.cut_over(servers, changelog, streaming, resources, verifier)
            self.clean_up(servers, resources, cut_over_at, streaming)
            # Snapshots are rate-limited: a progress bar must end on "done" at 100%.
            self.reporter.report(force=True)
            self.ops.fire("success", {"GHOST_INSTANT_DDL": "false"})
            return self.reporter.result(started, noop=False, verified=verified, new_table=new_table)
        except BaseException as exc:
            self.context.request_abort(str(exc))
            lost = resume.connection_loss(exc, self.context.abort_cause)
            if lost is not None and resources.resumable and not self.context.swapped:
                # The server or the network went away mid-copy: keep the ghost and the
                # changelog (with its checkpoint) so the run can be resumed.
                resources.keep_tables()
                log.error("connection lost; resume with resume=true (--resume): %s", exc)
            with contextlib.suppress(Exception):
                self.ops.fire("failure", {"GHOST_ERROR": str(exc)[:1000]})
            if isinstance(exc, KeyboardInterrupt):
                raise AbortedError("Interrupted; the original table is untouched.") from None
            raise
        finally:
            resources.release()

    # -- steps ---------------------------------------------------------------------------

    def instant_done(self, started: float, main: Connection) -> MigrationResult:
        """The ALTER was done in place with ALGORITHM=INSTANT: nothing to copy."""
        self.context.set_phase("done")
        self.reporter.report(force=True)
        self.ops.fire("success", {"GHOST_INSTANT_DDL": "true"})
        table = show_create_table(main, self.names.original)
        return self.reporter.result(
            started, noop=False, verified=False, new_table=table, instant=True
        )

    def connect(self, spec: ConnectionSpec, resources: Resources) -> Connection:
        return resources.session(open_session(self.connect_fn, spec))

    def discover_topology(
        self, conn: Connection, facts: ServerFacts, resources: Resources
    ) -> Servers:
        """A replica is inspected and the migration runs on its primary, unless a
        replica mode says otherwise; on a primary both roles stay (topology/)."""
        servers = discover_servers(
            self.config,
            self.configured,
            conn,
            facts,
            connect=self._connect_plain,
            open_applier=lambda spec: self.connect(spec, resources),
        )
        self.ops.use_topology(
            servers.topology, changelog_table=self.names.changelog, inspector=facts.identity
        )
        return servers

    def inspect_original(self, servers: Servers, parsed: ParsedAlter) -> TableInfo:
        original = inspect_table(servers.main, self.config, parsed)
        self.context.rows_estimate = original.row_estimate
        self.ops.identity = servers.facts.identity
        self.ops.version = servers.facts.version
        return original

    def create_changelog_and_ghost(
        self, servers: Servers, parsed: ParsedAlter, resources: Resources
    ) -> tuple[Changelog, Checkpoint | None]:
        """The changelog and the ALTERed ghost; on resume, the earlier run's (under the
        names it recorded) and its checkpoint (None for a fresh run)."""
        if self.config.resume:
            self.use_names(resume.resumed_names(servers.main, self.config, self.names))
        created = functools.partial(resources.table, servers.main)
        return resume.create_or_take_over(
            servers, self.config, self.names, parsed.statements, created
        )

    def plan_copy(self, main: Connection, parsed: ParsedAlter, original: TableInfo) -> CopyPlan:
        """The column mapping and the shared key the copy and the apply walk."""
        ghost = read_table(main, self.config.database, self.names.ghost)
        assert ghost is not None
        allow_nullable = self.config.allow_nullable_unique_key
        return plan_alter(original, ghost, parsed, allow_nullable_unique_key=allow_nullable)

    def defer_secondary_indexes(
        self, main: Connection, changelog: Changelog, resumed: Checkpoint | None
    ) -> None:
        """Copy without the ghost's plain secondary indexes (built later: copy/deferred.py)."""
        if resumed is None and self.config.defer_secondary_indexes:
            deferred.defer(main, self.names.ghost, changelog)

    def start_streaming(
        self,
        servers: Servers,
        plan: CopyPlan,
        changelog: Changelog,
        resumed: Checkpoint | None,
        resources: Resources,
    ) -> Streaming:
        """Stream the binlog; start the heartbeat, throttler, control socket and applier."""
        # Refused before anything starts when the applier's server has no sound fence.
        probe = probe_for(servers.facts, same_server=not servers.topology.split)
        start = self.stream_start(servers, changelog, resumed)
        streamer = open_stream(
            self.reader_factory, servers.topology.inspector, self.context, plan, self.names, start
        )
        streamer.own_sessions.update(self.foreign_sessions)
        resources.thread(streamer.stop)
        streamer.start()
        heartbeat = open_heartbeat(
            servers.spec, self.context, self.names, self._connect_plain, self.ops.heartbeat_allowed
        )
        resources.thread(heartbeat.stop)
        heartbeat.start()
        resources.thread(self.ops.stop)
        self.ops.start(plan.key)
        applier = open_applier(
            self.connect_fn,
            servers.spec,
            plan,
            servers.facts,
            self.context,
            ghost=self.names.ghost,
            probe=probe,
            start=start,
            keep=resources.session,
        )
        return Streaming(
            self.context,
            streamer,
            heartbeat,
            applier,
            start,
            throttle_wait=self.ops.wait_while_throttled,
            report=self._report_progress,
            copy_retry=self.ops.batch_copy_retry,
        )

    def stream_start(
        self, servers: Servers, changelog: Changelog, resumed: Checkpoint | None
    ) -> BinlogPosition:
        """The checkpoint's position on resume, else now (revert.py: the cut-over's)."""
        if resumed is not None:
            return resumed.stream_start(gtid=self.config.gtid)
        names = self.names
        replicas.wait_for_replica(servers.topology, servers.inspector, changelog, names.changelog)
        return current_position(servers.inspector, gtid=self.config.gtid)

    def verify_applied_keys(
        self, servers: Servers, plan: CopyPlan, streaming: Streaming, resources: Resources
    ) -> KeyVerifier | None:
        """Verify every key the apply writes (verify/keyed.py); None when turned off."""
        if not self.config.verify_applied_keys:
            return None
        facts = servers.facts
        conn = open_compare_session(self.connect_fn, servers.spec, self.config, plan, facts)
        return start_key_verification(resources.session(conn), streaming)

    def capture_copy_range(
        self,
        streaming: Streaming,
        plan: CopyPlan,
        changelog: Changelog,
        resumed: Checkpoint | None,
        lookahead: Connection,
    ) -> Copier:
        """The key range to copy, read after the stream started (or the checkpoint's)."""
        changelog.state("range-captured")
        restore = None
        if resumed is not None:
            restore = functools.partial(
                resume.restore_copy_position,
                applier=streaming.applier,
                checkpoint=resumed,
                ghost=self.names.ghost,
            )
        return open_copy(streaming, plan, ghost=self.names.ghost, restore=restore, ahead=lookahead)

    def deferred_index_build(self, servers: Servers, resources: Resources) -> IndexBuild | None:
        """The online build of the deferred indexes (None: none), not started yet."""
        connect = functools.partial(self.connect_fn, servers.spec)
        build = deferred.index_build(servers.main, connect, self.context, self.names)
        if build is not None:
            resources.thread(build.stop)
        return build

    def finish_index_build(self, build: IndexBuild | None, streaming: Streaming) -> bool:
        """Apply changes until the build ends (started here if the checksum is off)."""
        if build is not None:
            build.finish(streaming.tend)
        return build is not None

    def catch_up(
        self, streaming: Streaming, *, max_wait: float | None = None, settle: bool = False
    ) -> None:
        """Apply the backlog until the stream is near real time (heartbeat lag), before the
        checksum's lock and, settled, each cut-over attempt (bench/engine_run.py times it)."""
        streaming.catch_up(max_wait=max_wait, settle=settle)

    def verify_checksum(
        self,
        servers: Servers,
        plan: CopyPlan,
        changelog: Changelog,
        streaming: Streaming,
        build: IndexBuild | None = None,
    ) -> bool:
        """Compare both tables at one point (verify/verification.py), the deferred indexes
        building meanwhile; False when off."""
        if not self.config.checksum:
            return False
        self.context.set_phase("verifying")
        rows = Verification(
            servers.spec,
            self.connect_fn,
            plan,
            servers.facts,
            ghost=self.names.ghost,
            changelog=changelog,
            streaming=streaming,
            catch_up=lambda: self.catch_up(streaming),
        ).run(build)
        log.info("checksum verified over %d rows", rows)
        return True

    def cut_over(
        self,
        servers: Servers,
        changelog: Changelog,
        streaming: Streaming,
        resources: Resources,
        verifier: KeyVerifier | None,
    ) -> Any:
        """Swap the tables; returns the binlog position read under the swap's lock when
        the old table is kept (for a revert), else None."""
        kept = not self.config.ok_to_drop_table and not self.config.test_on_replica
        cut = CutOver(
            servers.spec,
            self.connect_fn,
            self.context,
            self.names,
            streaming=streaming,
            changelog=changelog,
            main_conn=servers.main,
            before_attempt=lambda: self.catch_up(streaming, settle=True),
            verifier=verifier,
            position_under_lock=(lambda: current_position(servers.inspector)) if kept else None,
        )
        cut.swap_in(
            servers, fire=self.ops.fire, status_printer=self.ops.status_printer, keep=resources.keep
        )
        return cut.position

    def clean_up(
        self, servers: Servers, resources: Resources, cut_over_at: Any, streaming: Streaming
    ) -> None:
        resources.stop_threads()
        main, own = servers.main, streaming.streamer.own_sessions
        if cut_over_at is not None:  # the old table is kept: what a revert starts from
            revert_checkpoint.record(servers, self.names, cut_over_at, self.config.alter, own)
        execute(main, f"DROP TABLE IF EXISTS {q(self.names.changelog)}")
        resources.keep(self.names.changelog)
        if self.config.ok_to_drop_table:
            execute(main, f"DROP TABLE IF EXISTS {q(self.names.old)}")
        self.context.set_phase("done")

    # -- helpers -------------------------------------------------------------------------

    def use_names(self, names: TableNames) -> None:
        """Work on the helper tables ``names`` (those of the run being resumed)."""
        self.names = names
        self.reporter.names = names
        self.ops.ghost_table = names.ghost
        self.ops.old_table = names.old
        if self.ops.changelog_table:
            self.ops.changelog_table = names.changelog

    def _report_progress(self) -> None:
        self.ops.tick()
        self.reporter.report()

    def _connect_plain(self, spec: ConnectionSpec) -> Connection:
        return self.connect_fn(spec)
