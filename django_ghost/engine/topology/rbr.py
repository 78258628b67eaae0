"""switch_to_rbr: make the inspected server log row-based events, as gh-ost's --switch-to-rbr.

The engine reads row images from the binary log, so the server it inspects (usually a
replica) must log with ``binlog_format=ROW``. When it logs STATEMENT or MIXED, gh-ost can
switch it instead of refusing: ``SET GLOBAL binlog_format='ROW'`` changes the default of
*new* sessions only, so replication is restarted (``STOP SLAVE; START SLAVE``, or the
``REPLICA`` forms on MySQL 8.0.22+: mysql/replication.py) for the SQL thread, a
long-lived session, to pick the new format up.

This is refused when the server has replicas of its own (``SHOW SLAVE HOSTS`` or
``SHOW REPLICAS`` lists
them): they would start receiving row events from an intermediate master that their own
configuration may not expect, and gh-ost refuses that too. Application sessions that were
already connected keep their old format until they reconnect; that is why the option is
meant for replicas, whose only writer is the SQL thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from ..errors import PreflightError
from ..mysql.connection import Connection, execute, query, query_dicts, scalar
from ..mysql.replication import ReplicaDialect, replica_dialect_of

ROW = "ROW"
# How long replication may take to report both threads running again after the restart.
DEFAULT_WAIT_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class RbrSwitch:
    """What :func:`switch_to_rbr` found and did."""

    previous_format: str
    """binlog_format before the call (upper case)."""
    switched: bool
    """True when ``SET GLOBAL binlog_format='ROW'`` was run."""
    replication_restarted: bool
    """True when the server is a replica and its replication was restarted."""

    def describe(self) -> str:
        if not self.switched:
            return f"binlog_format is already {self.previous_format}; nothing to do"
        restarted = "; replication restarted" if self.replication_restarted else ""
        return f"binlog_format switched from {self.previous_format} to ROW{restarted}"


def switch_to_rbr(
    conn: Connection,
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    dialect: ReplicaDialect | None = None,
) -> RbrSwitch:
    """Switch the server behind ``conn`` to ROW logging; return what was done.

    Needs SUPER (or BINLOG ADMIN and REPLICATION SLAVE ADMIN on MariaDB). Raises
    PreflightError when the server has replicas of its own, or when replication does not
    report both threads running within ``wait_seconds`` after the restart.
    """
    previous = str(scalar(conn, "SELECT @@GLOBAL.binlog_format") or "").upper()
    if previous == ROW:
        return RbrSwitch(previous, switched=False, replication_restarted=False)
    rs = dialect or replica_dialect_of(conn)
    replicas = query(conn, rs.show_replicas)
    if replicas:
        ids = ", ".join(str(row[0]) for row in replicas)
        raise PreflightError(
            f"binlog_format is {previous} and switch_to_rbr would change it, but this server "
            f"has replicas of its own (server ids {ids}); switching an intermediate master "
            "changes what they receive. Set binlog_format=ROW yourself (and in my.cnf), or "
            "inspect a replica without replicas."
        )
    is_replica = bool(query_dicts(conn, rs.show_status))
    execute(conn, "SET GLOBAL binlog_format = 'ROW'")
    if not is_replica:
        return RbrSwitch(previous, switched=True, replication_restarted=False)
    # The SQL thread keeps the session format it started with: restart it (and the IO
    # thread with it, as gh-ost does) so that it logs rows from now on.
    execute(conn, rs.stop)
    execute(conn, rs.start)
    deadline = clock() + wait_seconds
    while True:
        status = query_dicts(conn, rs.show_status)
        row = status[0] if status else {}
        io, sql = rs.text(row, "io_running"), rs.text(row, "sql_running")
        if io == "Yes" and sql == "Yes":
            return RbrSwitch(previous, switched=True, replication_restarted=True)
        if clock() >= deadline:
            error = (
                rs.text(row, "last_sql_error")
                or rs.text(row, "last_io_error")
                or "no error reported"
            )
            raise PreflightError(
                f"binlog_format was switched from {previous} to ROW, but replication did not "
                f"come back within {wait_seconds:g}s after {rs.stop}; {rs.start} "
                f"(IO thread: {io}, SQL thread: {sql}; {error}). Check {rs.show_status}."
            )
        sleep(poll_seconds)
