"""Where a migration runs: the inspector (binlog, lag) and the applier (tables, copy, cut-over).

gh-ost's topologies, decided once from the server the configuration names:

- **replica** (the default when that server is a replica): the *inspector* is the replica;
  its binary log is streamed and its copy of the changelog heartbeat gives the replication
  lag. The *applier* is its primary, found from ``SHOW SLAVE STATUS`` (``Master_Host`` /
  ``Master_Port``; ``SHOW REPLICA STATUS`` and ``Source_*`` on MySQL 8.0.22+, chosen per
  server by mysql/replication.py; walked upwards through intermediate masters) or given with
  ``assume_master_host``: the ghost and changelog tables, the row copy, the apply, the
  heartbeat, the checksum, the migration lock and the cut-over all happen there. Changes
  reach the replica's binlog only with ``log_slave_updates``, so it is required.
- **primary** (the configured server has no replication): both roles on one server, which
  ``allow_on_master`` (default true here, as the Django path connects to the primary) permits.
- **master-master** (``allow_master_master``, active-passive only): the walk up from the
  replica comes back to a server it has seen; the applier is that server, the co-master
  nearest to the inspected one, which every change reaching the inspector passes through
  (the configured server itself when it is a co-master: then both roles stay on it).
- **tungsten** (``tungsten``): Tungsten replicates with ordinary sessions, so a replica
  shows no ``SHOW SLAVE STATUS`` and logs what it applies whatever ``log_slave_updates``
  says; with ``assume_master_host`` the configured server is inspected as a replica.
- **migrate-on-replica**: both roles on the replica, with replication running; the primary
  is untouched and the replica ends up with the new table.
- **test-on-replica**: as migrate-on-replica, but replication is stopped before the cut-over,
  the tables are swapped and swapped back (``RENAME TABLE t TO _t_gho, _t_del TO t``), and
  replication stays stopped so the original and the migrated table can be compared.

Why the split is consistent: the binlog start position is read on the replica *after* the
replica has applied a changelog marker written on the primary (so the ghost table's DDL is
behind that position, never mistaken for a change of the original), and *before* the copy
range is read on the primary. Every change committed on the primary after the range was read
reaches the replica's binlog after that position; every change before it is visible to the
chunks, which read the primary. Applying re-reads current rows on the primary, so events
that arrive late (replication lag) only converge to the primary's state.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from ..config import GhostConfig
from ..errors import PreflightError
from ..mysql.connection import Connection, ConnectionSpec, execute, query, query_dicts
from ..mysql.replication import MARIADB, ReplicaDialect, replica_dialect_of
from ..option_syntax import DEFAULT_PORT, parse_host_port
from ..sql.quote import quote_identifier as q

log = logging.getLogger("django_ghost")

PRIMARY = "primary"
REPLICA = "replica"
MIGRATE_ON_REPLICA = "migrate-on-replica"
TEST_ON_REPLICA = "test-on-replica"
MAX_HOPS = 10


@dataclasses.dataclass(frozen=True)
class Topology:
    """The two roles of one migration and how they were chosen."""

    mode: str
    applier: ConnectionSpec
    inspector: ConnectionSpec

    @property
    def split(self) -> bool:
        """True when the applier and the inspector are different servers."""
        return self.mode == REPLICA

    @property
    def on_replica(self) -> bool:
        """True when the migration writes to the replica itself."""
        return self.mode in (MIGRATE_ON_REPLICA, TEST_ON_REPLICA)

    @property
    def test_on_replica(self) -> bool:
        return self.mode == TEST_ON_REPLICA

    def describe(self) -> str:
        if self.split:
            return (
                f"inspecting replica {_where(self.inspector)}, migrating on its primary "
                f"{_where(self.applier)}"
            )
        return f"{self.mode}: inspecting and migrating on {_where(self.inspector)}"


def _where(spec: ConnectionSpec) -> str:
    return spec.socket or f"{spec.host}:{spec.port}"


def replica_status(conn: Connection, dialect: ReplicaDialect = MARIADB) -> dict[str, Any]:
    """The first row of SHOW SLAVE (REPLICA) STATUS as a dict, or {} when the server is no
    replica."""
    rows = query_dicts(conn, dialect.show_status)
    return dict(rows[0]) if rows else {}


def check_replication_running(
    status: dict[str, Any], where: str, dialect: ReplicaDialect = MARIADB
) -> None:
    io = dialect.text(status, "io_running")
    sql = dialect.text(status, "sql_running")
    if io == "Yes" and sql == "Yes":
        return
    error = (
        dialect.text(status, "last_sql_error")
        or dialect.text(status, "last_io_error")
        or "no error shown"
    )
    raise PreflightError(
        f"Replication on {where} is broken (IO thread: {io or '?'}, SQL thread: {sql or '?'}; "
        f"{error}). The migration needs replication running on the inspected replica: fix it "
        f"({dialect.show_status}; {dialect.start}) and run again."
    )


def discover(
    config: GhostConfig,
    configured: ConnectionSpec,
    conn: Connection,
    *,
    log_slave_updates: bool,
    dialect: ReplicaDialect,
    connect: Callable[[ConnectionSpec], Connection],
) -> Topology:
    """Choose the topology for ``configured`` (``conn`` is a session on it, ``dialect``
    its server's replica statements)."""
    status = replica_status(conn, dialect)
    where = _where(configured)
    on_replica_mode = config.migrate_on_replica or config.test_on_replica
    if not status:
        if on_replica_mode:
            option = "migrate_on_replica" if config.migrate_on_replica else "test_on_replica"
            raise PreflightError(
                f"{option} is set, but {where} doesn't seem to be a replica "
                f"({dialect.show_status} is empty). Point the host at a replica, or drop the "
                "option."
            )
        if config.assume_master_host and config.tungsten:
            log.info("tungsten: %s is inspected as a replica of the assumed master", where)
            applier = _primary_of(config, configured, status, connect, dialect)
            return Topology(REPLICA, applier, configured)
        if config.assume_master_host:
            raise PreflightError(
                f"assume_master_host is set, but {where} is not a replica "
                f"({dialect.show_status} is empty): its binary log would never carry the "
                "primary's changes. Point the host "
                "at a replica of that primary, or drop assume_master_host."
            )
        return _on_master(config, configured)
    check_replication_running(status, where, dialect)
    if not log_slave_updates and config.tungsten:
        log.warning("log_slave_updates is off on %s, but tungsten is set: proceeding", where)
    elif not log_slave_updates:
        raise PreflightError(
            f"{where} is a replica and must have log_slave_updates enabled: the changes it "
            "replicates are only written to its binary log with it. Set log_slave_updates=ON "
            "(it needs a restart), or point the host at the primary."
        )
    if config.test_on_replica:
        return Topology(TEST_ON_REPLICA, configured, configured)
    if config.migrate_on_replica:
        return Topology(MIGRATE_ON_REPLICA, configured, configured)
    applier = _primary_of(config, configured, status, connect, dialect)
    if _where(applier) == where:  # a co-master itself (allow_master_master)
        return _on_master(config, configured)
    return Topology(REPLICA, applier, configured)


def _on_master(config: GhostConfig, configured: ConnectionSpec) -> Topology:
    if not config.allow_on_master:
        raise PreflightError(
            f"It seems like this migration attempt to run directly on master "
            f"({_where(configured)}). Preferably it would be executed on a replica (and this "
            "reduces load from the master). To proceed please provide allow_on_master=true "
            "(--allow-on-master)."
        )
    return Topology(PRIMARY, configured, configured)


def _primary_of(
    config: GhostConfig,
    configured: ConnectionSpec,
    status: dict[str, Any],
    connect: Callable[[ConnectionSpec], Connection],
    dialect: ReplicaDialect,
) -> ConnectionSpec:
    """Walk up from the replica to the server that is no replica; each hop's statements
    and column names follow that hop's own version (a chain may mix versions)."""

    def at(spec: ConnectionSpec, host: str, port: int) -> ConnectionSpec:
        return dataclasses.replace(
            spec.with_host(host, port),
            user=config.master_user or spec.user,
            password=config.master_password or spec.password,
        )

    if config.assume_master_host:
        host, port = parse_host_port(config.assume_master_host)
        spec = at(configured, host, port)
        log.info("master assumed to be %s:%d (assume_master_host)", host, port)
        return spec
    seen = {_where(configured)}
    spec = configured
    for _ in range(MAX_HOPS):
        host = dialect.text(status, "source_host")
        port = int(dialect.get(status, "source_port") or DEFAULT_PORT)
        spec = at(spec, host, port)
        key = _where(spec)
        if key in seen:
            if config.allow_master_master:
                log.info("master-master: migrating on the co-master %s", key)
                return spec
            raise PreflightError(
                f"The replication topology has a cycle through {key} (master-master). "
                "Allow it with allow_master_master (--allow-master-master; the co-master "
                "nearest to --host is migrated on, active-passive setups only), or name the "
                "server to migrate on with assume_master_host (--assume-master-host)."
            )
        seen.add(key)
        try:
            upper = connect(spec)
        except Exception as exc:  # noqa: BLE001 - reported with the remedy
            raise PreflightError(
                f"Cannot connect to the primary {key} found in {dialect.show_status}: {exc}. "
                "Give its address with assume_master_host (and master_user/master_password "
                "if the credentials differ)."
            ) from None
        try:
            dialect = replica_dialect_of(upper)
            status = replica_status(upper, dialect)
        finally:
            upper.close()
        if not status or not dialect.text(status, "source_log_file"):
            log.info("master found to be %s", key)
            return spec
        check_replication_running(status, key, dialect)
    raise PreflightError(
        f"No primary found within {MAX_HOPS} replication hops; give it with assume_master_host."
    )


def wait_until_replicated(
    replica: Connection,
    changelog: str,
    marker: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait until the replica's changelog shows the state ``marker`` written on the primary:
    everything the primary committed before it has then been applied (and logged) there."""
    deadline = time.monotonic() + timeout
    sql = f"SELECT value FROM {q(changelog)} WHERE hint = 'state'"
    while True:
        try:
            rows = query(replica, sql)
        except Exception:  # noqa: BLE001 - the table may not have replicated yet
            rows = []
        if rows and _text(rows[0][0]) == marker:
            return
        if time.monotonic() > deadline:
            raise PreflightError(
                f"The replica did not apply the changelog table {changelog} within "
                f"{timeout:g} s: replication lags too much, or filters exclude this database. "
                "Check SHOW SLAVE STATUS (SHOW REPLICA STATUS) on the replica."
            )
        sleep(0.05)


def heartbeat_lag_reader(
    conn: Connection, changelog: str, clock: Callable[[], float] = time.time
) -> Callable[[], float | None]:
    """Replication lag: now minus the heartbeat the primary wrote, as the replica has it."""
    sql = f"SELECT value FROM {q(changelog)} WHERE hint = 'heartbeat'"

    def read() -> float | None:
        rows = query(conn, sql)
        if not rows:
            return None
        try:
            return max(0.0, clock() - float(_text(rows[0][0])))
        except ValueError:
            return None

    return read


def seconds_behind_master_reader(
    conn: Connection, dialect: ReplicaDialect | None = None
) -> Callable[[], float | None]:
    """Replication lag of a replica that is also the applier (1 s resolution)."""
    rs = dialect or replica_dialect_of(conn)

    def read() -> float | None:
        value = rs.get(replica_status(conn, rs), "seconds_behind")
        return None if value is None else float(value)

    return read


def stop_replication(conn: Connection, *, wait_seconds: float = 10.0) -> None:
    """Stop the IO thread, let the SQL thread apply what was received, then stop it."""
    rs = replica_dialect_of(conn)
    execute(conn, rs.stop_io_thread)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        status = replica_status(conn, rs)
        received = (rs.text(status, "source_log_file"), rs.get(status, "read_source_log_pos"))
        applied = (rs.text(status, "relay_source_log_file"), rs.get(status, "exec_source_log_pos"))
        if received == applied:
            break
        time.sleep(0.05)
    execute(conn, rs.stop_sql_thread)
    log.info("replication stopped on the replica (test_on_replica)")


def start_replication(conn: Connection) -> str:
    """Start both replication threads; returns the statement it ran."""
    statement = replica_dialect_of(conn).start
    execute(conn, statement)
    return statement


def swap_back(conn: Connection, *, original: str, ghost: str, old: str) -> None:
    """Undo the cut-over: the original gets its name back, the migrated table is the ghost."""
    try:
        execute(conn, f"RENAME TABLE {q(original)} TO {q(ghost)}, {q(old)} TO {q(original)}")
    except Exception:  # noqa: BLE001 - gh-ost falls back to two renames as well
        execute(conn, f"RENAME TABLE {q(original)} TO {q(ghost)}")
        execute(conn, f"RENAME TABLE {q(old)} TO {q(original)}")


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode()
    return "" if value is None else str(value)
