"""The migration's first steps, which only read: connect to the server it was pointed
at and check it, find the topology (discovery.py) and, when that splits the roles, open
and check the applier too; parse the ALTER and inspect the original table (the checks
themselves are in inspector.py, those of its triggers in triggers.py).

:class:`Servers` says where each later step runs: the binlog stream and the lag reading
on the inspector, everything else on the applier.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import MySQLdb

from ..config import GhostConfig
from ..errors import PreflightError, UnsupportedAlterError
from ..mysql.connection import Connection, ConnectionSpec, execute
from ..mysql.server import ServerFacts, read_server_facts
from ..sql.alter import ParsedAlter, parse_alter
from ..table.info import TableInfo, read_table
from .discovery import Topology, discover
from .inspector import check_binlog, check_grants, check_renames, check_table, read_grants
from .rbr import switch_to_rbr
from .triggers import check_triggers

log = logging.getLogger("django_ghost")
# Access denied (MariaDB's answer to clear text under require_secure_transport), and
# MySQL's ER_SECURE_TRANSPORT_REQUIRED.
ACCESS_DENIED_ERRNOS = (1045, 3159)


@dataclasses.dataclass(frozen=True)
class Servers:
    """The sessions of the two roles, once the topology is known: ``main`` on the applier,
    where every table is written, and ``inspector`` on the server whose binlog is read
    (``main`` itself unless the topology is split). ``facts`` are the applier's."""

    topology: Topology
    main: Connection
    inspector: Connection
    facts: ServerFacts

    @property
    def spec(self) -> ConnectionSpec:
        """The applier's: every further session of the migration opens there."""
        return self.topology.applier


def open_session(connect: Callable[..., Connection], spec: ConnectionSpec) -> Connection:
    """A session on ``spec``, or PreflightError saying which server could not be reached."""
    try:
        return connect(spec)
    except MySQLdb.Error as exc:
        hint = ""
        if spec.tls is None and exc.args and exc.args[0] in ACCESS_DENIED_ERRNOS:
            hint = (
                ". If the server requires TLS (require_secure_transport=ON) it refuses "
                "clear-text sessions this way: give ssl (--ssl, or OPTIONS['ssl'] under Django)"
            )
        raise PreflightError(
            f"Cannot connect to {spec.describe()}: {exc.args[-1] if exc.args else exc}{hint}"
        ) from None


def check_server(conn: Connection, config: GhostConfig) -> ServerFacts:
    """The server's facts, once its binlog and our grants are fit for a migration (after
    switching to row-based binlogs if asked); sets the session's time zone."""
    facts = read_server_facts(conn)
    if config.switch_to_rbr and facts.binlog_format.upper() != "ROW":
        # Before streaming starts: our own binlog client would count as a replica.
        log.info("%s", switch_to_rbr(conn, dialect=facts.replica).describe())
        facts = read_server_facts(conn)
    check_binlog(facts)
    check_grants(read_grants(conn), config.database)
    _use_server_time_zone(conn)
    return facts


def discover_servers(
    config: GhostConfig,
    configured: ConnectionSpec,
    conn: Connection,
    facts: ServerFacts,
    *,
    connect: Callable[[ConnectionSpec], Connection],
    open_applier: Callable[[ConnectionSpec], Connection],
) -> Servers:
    """A replica is inspected and the migration runs on its primary (on a session from
    ``open_applier``), unless a replica mode says otherwise; on a primary both roles stay
    on ``conn`` (discovery.py, which probes the primary with ``connect``)."""
    topology = discover(
        config,
        configured,
        conn,
        log_slave_updates=facts.log_slave_updates,
        dialect=facts.replica,
        connect=connect,
    )
    log.info("topology: %s", topology.describe())
    if not topology.split:
        return Servers(topology, main=conn, inspector=conn, facts=facts)
    main = open_applier(topology.applier)
    applier_facts = read_server_facts(main)
    check_grants(read_grants(main), config.database)
    _use_server_time_zone(main)
    return Servers(topology, main=main, inspector=conn, facts=applier_facts)


def check_alter(config: GhostConfig) -> ParsedAlter:
    """The ALTER, parsed, once it is one django_ghost can run on ``config.table``."""
    parsed = parse_alter(config.alter, table=config.table)
    if parsed.database and parsed.database != config.database:
        raise UnsupportedAlterError(
            f"The ALTER names database {parsed.database}, but the migration runs in "
            f"{config.database}."
        )
    check_renames(parsed, config)
    return parsed


def inspect_table(conn: Connection, config: GhostConfig, parsed: ParsedAlter) -> TableInfo:
    """The original table, once it can be migrated with ``parsed``."""
    original = check_table(read_table(conn, config.database, config.table), config)
    if original.triggers:
        check_triggers(conn, config, read_grants(conn))
    for old in parsed.renamed_columns:
        if not original.has_column(old):
            raise UnsupportedAlterError(
                f"The ALTER renames column {old}, which {config.table} does not have."
            )
    return original


def _use_server_time_zone(conn: Connection) -> None:
    # DDL on the ghost (defaults with time literals) must be read in the server's zone,
    # as the application's own ALTER would be.
    execute(conn, "SET SESSION time_zone = @@GLOBAL.time_zone")
