"""What an operator sees and controls during a migration, assembled from the config.

Builds the throttler, the control socket and the hooks for one migration, and owns the
small loops around them: the status line (and status hook) every few seconds, the
postpone-cut-over gate, the panic flag, and the exact row count (concurrent with the
copy unless concurrent_rowcount is false). The migrator only calls
:meth:`Operations.start`, :meth:`tick`, :meth:`wait_for_cut_over` and :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import MySQLdb

from ..apply.streaming import Streaming
from ..config import GhostConfig
from ..context import MigrationContext
from ..hooks import (
    CallableHooks,
    CompositeHooks,
    ExecutableHooks,
    Hooks,
    NoopHooks,
    build_hook_environment,
)
from ..metrics.emitter import record_query, record_sleep
from ..mysql.connection import Connection, ConnectionSpec, scalar
from ..option_syntax import parse_replicas
from ..progress import ProgressSnapshot
from ..sql.quote import quote_identifier as q
from ..table.info import UniqueKey
from ..throttle.lag import LagReader
from ..throttle.latency import LatencyPacer, connection_probe
from ..throttle.load import connection_status_reader
from ..throttle.options import ThrottleOptions
from ..throttle.order import ThrottleReaders
from ..throttle.protocol import Throttler
from ..throttle.query import connection_scalar_query
from ..throttle.throttler import RealThrottler
from ..topology.discovery import Topology, heartbeat_lag_reader, seconds_behind_master_reader
from .metrics import MetricsReporter
from .server import ControlServer
from .socket import default_socket_path
from .status import format_status_line

log = logging.getLogger("django_ghost")


class Operations:
    """Throttler, control socket, hooks, status line and postpone gate of one migration."""

    def __init__(
        self,
        config: GhostConfig,
        context: MigrationContext,
        spec: ConnectionSpec,
        connect: Callable[[ConnectionSpec], Connection],
        snapshot: Callable[[], ProgressSnapshot],
        *,
        ghost_table: str,
        old_table: str,
        server_identity: str = "",
        server_version: str = "",
        status_printer: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.context = context
        self.spec = spec
        self.connect = connect
        self.snapshot = snapshot
        self.ghost_table = ghost_table
        self.old_table = old_table
        self.identity = server_identity
        self.inspector_identity = ""
        self.version = server_version
        self.topology: Topology | None = None
        self.changelog_table = ""
        self.status_printer = status_printer
        self.hooks: Hooks = self._build_hooks()
        self.throttler: Throttler | None = None
        self.server: ControlServer | None = None
        self._conns: list[Connection] = []
        self._last_status = 0.0
        self._last_status_hook = time.monotonic()
        self._postponed_fired = False
        self._postponed_at: float | None = None
        self._count_thread: threading.Thread | None = None
        self._replica_readers: dict[str, Callable[[], float | None]] = {}
        self.replication_lag: float | None = None
        """The last lag read on the inspected replica (None on a primary)."""
        self.metrics = MetricsReporter(
            config, context, snapshot, replication_lag=lambda: self.replication_lag
        )

    # -- hooks ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        ctx = self.context
        copy_seconds = 0.0
        if ctx.copy_started_at is not None:
            end = ctx.copy_finished_at or time.monotonic()
            copy_seconds = end - ctx.copy_started_at
        return build_hook_environment(
            self.config,
            self.snapshot(),
            ghost_table=self.ghost_table,
            old_table=self.old_table,
            migrated_host=self.identity,
            inspected_host=self.inspector_identity or self.identity,
            heartbeat_lag_seconds=ctx.lag_seconds,
            elapsed_copy_seconds=copy_seconds,
            hint=self.config.hooks_hint,
            hint_owner=self.config.hooks_hint_owner,
            hint_token=self.config.hooks_hint_token,
        )

    def _build_hooks(self) -> Hooks:
        parts: list[Hooks] = []
        if self.config.hooks_path:
            parts.append(ExecutableHooks(self.config.hooks_path, self._env))
        if self.config.hooks_callables:
            parts.append(CallableHooks.from_dotted_paths(self.config.hooks_callables, self._env))
        if not parts:
            return NoopHooks()
        return parts[0] if len(parts) == 1 else CompositeHooks(parts)

    def fire(self, event: str, extra: dict[str, str] | None = None) -> None:
        self.hooks.fire(event, extra)

    # -- topology ------------------------------------------------------------------------

    def use_topology(self, topology: Topology, *, changelog_table: str, inspector: str) -> None:
        """Status, row count and load checks go to the applier; lag is read on the inspector."""
        self.topology = topology
        self.spec = topology.applier
        self.changelog_table = changelog_table
        self.inspector_identity = inspector

    def _lag_reader(self) -> LagReader | None:
        """max_lag_millis throttles on *replication* lag, read on the inspected replica:
        the primary's heartbeat as the replica has applied it (gh-ost's "Lag"), or, when
        the replica is also the applier, Seconds_Behind_Master. On a primary there is none
        to read, and our own stream delay must never throttle the apply that reduces it."""
        topology = self.topology
        if topology is None or not (topology.split or topology.on_replica):
            return None
        conn = self.connect(topology.inspector)
        self._conns.append(conn)
        if topology.split:
            read = heartbeat_lag_reader(conn, self.changelog_table)
        else:
            read = seconds_behind_master_reader(conn)

        def reader() -> float | None:
            self.replication_lag = read()
            return self.replication_lag

        return reader

    def _replica_lag_reader(self, replicas: str) -> dict[str, float | None]:
        """Heartbeat lag on each of ``throttle_control_replicas`` (host[:port] list): the
        primary's last heartbeat as that replica has applied it. Connections are kept per
        replica; a replica that cannot be read reports its error (and so throttles)."""
        lags: dict[str, float | None] = {}
        for host, port in parse_replicas(replicas):
            name = f"{host}:{port}"
            reader = self._replica_readers.get(name)
            if reader is None:
                conn = self.connect(dataclasses.replace(self.spec, host=host, port=port, socket=""))
                self._conns.append(conn)
                reader = heartbeat_lag_reader(conn, self.changelog_table)
                self._replica_readers[name] = reader
            lags[name] = reader()
        return lags

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, probe_key: UniqueKey | None = None) -> None:
        """Start the metrics, the throttler and the control socket (after validation,
        before copying); with max_latency_millis, the latency probe on ``probe_key`` (the
        original table's copy key) too."""
        self.metrics.start()
        status_conn = self._own_connection()
        query_conn = self._own_connection()
        self.throttler = RealThrottler(
            self.context,
            options=ThrottleOptions.from_config(self.config),
            readers=ThrottleReaders(
                status_reader=connection_status_reader(status_conn),
                scalar_query=connection_scalar_query(query_conn),
                lag_reader=self._lag_reader(),
                replica_lag_reader=self._replica_lag_reader,
            ),
            on_change=self._throttle_changed,
            pacer=self._latency_pacer(probe_key),
        )
        self.throttler.start()
        if self.config.postpone_cut_over_flag_file and not self.config.resume:
            # A resumed run keeps whatever the operator did with the flag meanwhile.
            Path(self.config.postpone_cut_over_flag_file).touch()
        socket_path = self.config.serve_socket_file or default_socket_path(
            self.config.database, self.config.table
        )
        self.server = ControlServer(
            self.context,
            self.snapshot,
            socket_path=socket_path,
            tcp_port=self.config.serve_tcp_port,
            tcp_host=self.config.serve_tcp_host,
            # A resumed run replaces the killed run's socket (removed only if nobody answers).
            drop_stale_socket=self.config.initially_drop_socket_file or self.config.resume,
            hooks=self.hooks,
            applier_info=lambda: f"Host: {self.identity}, Version: {self.version}",
            inspector_info=lambda: (
                f"Host: {self.inspector_identity or self.identity}, Version: {self.version}"
            ),
            flag_files={
                "throttle-flag-file": self.config.throttle_flag_file,
                "throttle-additional-flag-file": self.config.throttle_additional_flag_file,
                "panic-flag-file": self.config.panic_flag_file,
                "postpone-cut-over-flag-file": self.config.postpone_cut_over_flag_file,
            },
            postpone_flag_file=self.config.postpone_cut_over_flag_file,
            force_named_cut_over=self.config.force_named_cut_over,
            force_named_panic=self.config.force_named_panic,
            metrics_text=self.metrics.prometheus_text,
        )
        self.server.start()
        if self.config.exact_rowcount and not self.config.concurrent_rowcount:
            # gh-ost's --concurrent-rowcount=false: count first, then copy.
            self._count_rows()
        elif self.config.exact_rowcount:
            self._count_thread = threading.Thread(
                target=self._count_rows, daemon=True, name="ghost-rowcount"
            )
            self._count_thread.start()

    def stop(self) -> None:
        if self.throttler is not None:
            with contextlib.suppress(Exception):
                self.throttler.stop()
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.close()
        with contextlib.suppress(Exception):
            self.metrics.stop()
        for conn in self._conns:
            with contextlib.suppress(MySQLdb.Error):
                conn.close()
        self._conns.clear()

    def _latency_pacer(self, key: UniqueKey | None) -> LatencyPacer | None:
        """The latency target's probe and controller, on a session of their own on the
        applier (where the application writes); None when max_latency_millis is 0."""
        if self.config.max_latency_millis <= 0 or key is None:
            return None
        probe = connection_probe(
            self._own_connection(),
            self.config.table,
            key.name,
            key.columns,
            changelog=self.changelog_table,
        )
        # After the swap the table is the new one, whose key may differ: stop probing.
        return LatencyPacer(self.context, probe, active=lambda: not self.context.swapped)

    def _throttle_changed(self, reason: str | None) -> None:
        source = self.throttler.source if isinstance(self.throttler, RealThrottler) else None
        self.metrics.throttle_changed(reason, source)

    def _own_connection(self) -> Connection:
        conn = self.connect(self.spec)
        self._conns.append(conn)
        return conn

    # -- loops ---------------------------------------------------------------------------

    def wait_while_throttled(self, on_wait: Callable[[], None] | None = None) -> None:
        """Block while throttled; ``on_wait`` (the status line, hook and progress) runs
        at each wake-up meanwhile."""
        if self.throttler is not None:
            self.throttler.wait_while_throttled(on_wait)

    def batch_copy_retry(self, error: str) -> None:
        """A copy chunk failed and is retried: the batch-copy-retry hooks. As in gh-ost
        their failures are only logged: the retry goes on."""
        try:
            self.fire("batch-copy-retry", {"GHOST_LAST_BATCH_COPY_ERROR": error[:1000]})
        except Exception as exc:  # noqa: BLE001 - a hook must not stop the retry
            log.error("batch-copy-retry hook failed (ignored): %s", exc)

    def heartbeat_allowed(self) -> bool:
        """False while the throttler hibernates after critical-load (no writes at all)."""
        return self.throttler is None or self.throttler.heartbeat_allowed()

    def tick(self) -> None:
        """Called often by the migrator: status line and status hook when due."""
        now = time.monotonic()
        if now - self._last_status >= self.config.status_interval_seconds:
            self._last_status = now
            line = format_status_line(self.snapshot())
            log.info("%s", line)
            if self.status_printer is not None:
                self.status_printer(line)
        # Every kind of hook gets the status event: executables, hooks_callables and
        # the hooks handed to the Migrator (NoopHooks ignores it).
        if now - self._last_status_hook >= self.config.hooks_status_interval:
            self._last_status_hook = now
            with contextlib.suppress(Exception):
                self.fire("status", {"GHOST_STATUS": format_status_line(self.snapshot())})

    def wait_for_cut_over_approval(
        self, streaming: Streaming, each_round: Callable[[], None] | None = None
    ) -> None:
        """Postponed cut-over: apply changes until the flag file is gone or ``unpostpone``;
        ``each_round`` runs after each round (the migrator saves its checkpoint)."""
        while self.postponed():
            self.context.set_phase("postponed: waiting for cut-over approval")
            streaming.check_abort()
            streaming.apply_pending(budget_seconds=0.2, wait=0.1)
            if each_round is not None:
                each_round()
            streaming.report()

    def postponed(self) -> bool:
        """True while the cut-over must wait: the flag file exists or a command said so."""
        flag = self.config.postpone_cut_over_flag_file
        waiting = bool(flag and os.path.exists(flag)) or self.context.knobs.postpone_cut_over
        # The migrator asks once per round of its wait: a round is a postponement sleep.
        now = time.monotonic()
        if self._postponed_at is not None:
            record_sleep(self.context.metrics, "cut_over_postpone", now - self._postponed_at)
        self._postponed_at = now if waiting else None
        if waiting and not self._postponed_fired:
            self._postponed_fired = True
            self.fire("begin-postponed")
        return waiting

    def _count_rows(self) -> None:
        try:
            conn = self._own_connection()
            started = time.monotonic()
            count = scalar(conn, f"SELECT COUNT(*) FROM {q(self.config.table)}")
            record_query(
                self.context.metrics, "source", "row_count", time.monotonic() - started, True
            )
            with self.context.lock:
                self.context.rows_estimate = int(count)
            self.fire("rowcount-complete")
        except Exception as exc:  # noqa: BLE001 - the estimate stays; never fatal
            log.warning("exact row count failed: %s", exc)
