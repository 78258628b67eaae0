"""Server facts read once per migration, and the SQL dialect choices that depend on them.

Every MySQL-vs-MariaDB or version-dependent branch of the engine asks this module, so
the branches are unit-tested here without a server (only MariaDB 10.11 can be installed
on our CI machines; MySQL paths are verified by these tests and documented as such).
"""

from __future__ import annotations

import dataclasses
import re

from ..errors import PreflightError
from .connection import Connection, query
from .replication import ReplicaDialect, replica_dialect

FENCE_BINLOG_SNAPSHOT = "binlog-snapshot"
"""MariaDB: wait until Binlog_snapshot_position passes the consumed position."""
FENCE_GTID_EXECUTED = "gtid-executed"
"""MySQL with gtid_mode=ON: wait until gtid_executed holds every GTID owned now."""


@dataclasses.dataclass(frozen=True)
class ServerFacts:
    """What the engine needs to know about one server."""

    version: str
    log_bin: bool
    binlog_format: str
    binlog_row_image: str
    binlog_row_metadata: str
    binlog_compressed: bool
    binlog_row_value_options: str
    hostname: str
    port: int
    server_id: int
    global_time_zone: str
    log_slave_updates: bool
    gtid_mode: str = ""
    binlog_optimize_thread_scheduling: str = ""

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.version.lower()

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def identity(self) -> str:
        return f"{self.hostname}:{self.port}"

    def visibility_fence(self) -> str:
        """How the apply makes sure a change it read in the binlog is visible before it
        re-reads the row (apply/fence.py); PreflightError when this server has no way."""
        problem = self.fence_problem()
        if problem:
            raise PreflightError(
                f"The server {self.identity} cannot feed an online migration: {problem}."
            )
        return FENCE_BINLOG_SNAPSHOT if self.is_mariadb else FENCE_GTID_EXECUTED

    def fence_problem(self) -> str:
        """Why this server offers no sound visibility fence, with the remedy ('' if it does).

        MariaDB publishes the binlog position of the last group whose commit_ordered
        (InnoDB's commit in memory) is done, but with binlog_optimize_thread_scheduling
        OFF each transaction of a group runs commit_ordered in its own thread after that
        position was published. MySQL has no such position: only gtid_executed, which a
        GTID joins after its engine commit, so GTIDs must be on.
        """
        if self.is_mariadb:
            if self.binlog_optimize_thread_scheduling.upper() in ("OFF", "0"):
                return (
                    "binlog_optimize_thread_scheduling is OFF, so the binlog position "
                    "the server reports as committed can run ahead of InnoDB's commits: "
                    "restart the server with binlog_optimize_thread_scheduling=ON (the "
                    "default)"
                )
            return ""
        if self.gtid_mode.upper() != "ON":
            return (
                f"gtid_mode is {self.gtid_mode or 'OFF'}: on MySQL the apply can only tell "
                "that a change read in the binlog is visible through gtid_executed; set "
                "enforce_gtid_consistency=ON and gtid_mode=ON (step by step through "
                "OFF_PERMISSIVE and ON_PERMISSIVE)"
            )
        return ""

    def master_status_sql(self) -> str:
        """MySQL 8.4 removed SHOW MASTER STATUS; MariaDB keeps it."""
        if not self.is_mariadb and self.version_tuple >= (8, 4, 0):
            return "SHOW BINARY LOG STATUS"
        return "SHOW MASTER STATUS"

    @property
    def replica(self) -> ReplicaDialect:
        """Its replica statements and status column names (replication.py)."""
        return replica_dialect(self.version)

    def binlog_problems(self) -> list[str]:
        """Every binlog setting that prevents an online migration, with its remedy."""
        problems = []
        if not self.log_bin:
            problems.append(
                "binary logging is off: start the server with log-bin (e.g. log_bin=binlog)"
            )
        if self.binlog_format.upper() != "ROW":
            problems.append(
                f"binlog_format is {self.binlog_format}: set binlog_format=ROW "
                "(SET GLOBAL binlog_format='ROW' and in the server configuration)"
            )
        if self.binlog_row_image.upper() != "FULL":
            problems.append(
                f"binlog_row_image is {self.binlog_row_image}: set binlog_row_image=FULL"
            )
        if self.binlog_row_metadata and self.binlog_row_metadata.upper() != "FULL":
            problems.append(
                f"binlog_row_metadata is {self.binlog_row_metadata}: set "
                "binlog_row_metadata=FULL (column names in the binlog are needed to decode "
                "rows safely)"
            )
        if self.binlog_compressed:
            problems.append(
                "binlog compression is on (log_bin_compress / binlog_transaction_compression):"
                " turn it off for the duration of the migration"
            )
        if self.binlog_row_value_options:
            problems.append(
                f"binlog_row_value_options is {self.binlog_row_value_options!r}: partial JSON "
                "updates cannot be applied; set it to ''"
            )
        if self.log_bin and self.fence_problem():
            problems.append(self.fence_problem())
        return problems


def parse_version(version: str) -> tuple[int, int, int]:
    """``10.11.19-MariaDB-0+deb12u1-log`` → (10, 11, 19). MariaDB 5.5.5- prefix dropped."""
    text = version.removeprefix("5.5.5-")
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise PreflightError(f"Cannot parse the server version {version!r}.")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


_VARIABLES = (
    "version",
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "log_bin_compress",
    "binlog_transaction_compression",
    "binlog_row_value_options",
    "hostname",
    "port",
    "server_id",
    "time_zone",
    "log_slave_updates",
    "gtid_mode",
    "binlog_optimize_thread_scheduling",
)


def read_server_facts(conn: Connection) -> ServerFacts:
    """Read the global variables the engine depends on (missing ones read as empty)."""
    rows = query(
        conn,
        "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES "
        "WHERE VARIABLE_NAME IN (" + ", ".join(["%s"] * len(_VARIABLES)) + ")",
        [v.upper() for v in _VARIABLES],
    )
    values = {str(name).lower(): str(value or "") for name, value in rows}
    if "version" not in values:  # MySQL 5.7 with show_compatibility_56=OFF
        values["version"] = str(query(conn, "SELECT @@version")[0][0])

    def flag(name: str) -> bool:
        return values.get(name, "").upper() in ("ON", "1", "YES")

    return ServerFacts(
        version=values["version"],
        log_bin=flag("log_bin"),
        binlog_format=values.get("binlog_format", ""),
        binlog_row_image=values.get("binlog_row_image", "FULL") or "FULL",
        binlog_row_metadata=values.get("binlog_row_metadata", ""),
        binlog_compressed=flag("log_bin_compress") or flag("binlog_transaction_compression"),
        binlog_row_value_options=values.get("binlog_row_value_options", ""),
        hostname=values.get("hostname", ""),
        port=int(values.get("port") or 0),
        server_id=int(values.get("server_id") or 0),
        global_time_zone=values.get("time_zone", "SYSTEM"),
        log_slave_updates=flag("log_slave_updates"),
        gtid_mode=values.get("gtid_mode", ""),
        binlog_optimize_thread_scheduling=values.get("binlog_optimize_thread_scheduling", ""),
    )
