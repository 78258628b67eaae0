"""The migration's dealings with a replica once the topology is known (discovery.py finds
it): wait until the inspected replica has applied the new tables before streaming, and
for ``test_on_replica`` stop replication around the cut-over and swap the tables back
after it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import MySQLdb

from ..config import GhostConfig
from ..mysql.connection import Connection
from ..mysql.replication import replica_dialect_of
from ..sql.names import TableNames
from ..table.changelog import Changelog
from .discovery import (
    Topology,
    start_replication,
    stop_replication,
    swap_back,
    wait_until_replicated,
)
from .preflight import Servers

log = logging.getLogger("django_ghost")

# How long the replica may take to apply the new changelog table before streaming starts.
REPLICA_WAIT_SECONDS = 300.0


def wait_for_replica(
    topology: Topology | None, inspector: Connection, changelog: Changelog, changelog_table: str
) -> None:
    """Inspecting a replica: read its start position only once it has applied the new
    tables, so their DDL (CREATE TABLE ghost LIKE original) is never streamed as a
    change of the original; see topology/discovery.py for why the order is consistent."""
    if topology is None or not topology.split:
        return
    marker = f"replica-caught-up:{time.time_ns()}"
    changelog.state(marker)
    wait_until_replicated(inspector, changelog_table, marker, timeout=REPLICA_WAIT_SECONDS)


@contextlib.contextmanager
def _replication_stopped_if_testing(
    topology: Topology | None,
    config: GhostConfig,
    conn: Connection,
    fire: Callable[[str], None],
) -> Iterator[None]:
    """test_on_replica: stop replication before the cut-over; restart it if it fails.
    ``fire`` runs the hooks of an event (operations.py)."""
    testing = topology is not None and topology.test_on_replica
    if not testing or config.test_on_replica_skip_replica_stop:
        yield
        return
    fire("stop-replication")
    stop_replication(conn)
    try:
        yield
    except BaseException:
        fire("start-replication")
        with contextlib.suppress(MySQLdb.Error):
            start_replication(conn)
        raise


@contextlib.contextmanager
def around_cut_over(
    servers: Servers,
    config: GhostConfig,
    names: TableNames,
    fire: Callable[[str], None],
    status_printer: Callable[[str], None] | None,
) -> Iterator[None]:
    """Around the cut-over: with test_on_replica, replication stopped before it (and
    restarted if it fails) and the swap undone after it succeeded."""
    with _replication_stopped_if_testing(servers.topology, config, servers.main, fire):
        yield
    if servers.topology.test_on_replica:
        swap_back_after_test(
            servers.main,
            names,
            config,
            where=servers.spec.describe(),
            status_printer=status_printer,
        )


def swap_back_after_test(
    conn: Connection,
    names: TableNames,
    config: GhostConfig,
    *,
    where: str,
    status_printer: Callable[[str], None] | None,
) -> None:
    """test_on_replica: undo the swap; both tables stay for comparison."""
    swap_back(conn, original=names.original, ghost=names.ghost, old=names.old)
    restart = replica_dialect_of(conn).start
    stopped = "stopped" if not config.test_on_replica_skip_replica_stop else "running"
    message = (
        f"test_on_replica: cut-over done and rolled back on {where}: "
        f"{names.original} is the original, {names.ghost} the migrated table. Replication "
        f"is {stopped}; compare the tables, then restart it with: {restart}"
    )
    log.warning("%s", message)
    if status_printer is not None:
        status_printer(message)
