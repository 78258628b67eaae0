"""Replication statements and status field names, chosen per server flavour and version.

MySQL 8.0.22 renamed the replica statements (``SHOW REPLICA STATUS``, ``START/STOP
REPLICA``, ``SHOW REPLICAS``) and the status columns (``Source_Host``,
``Replica_IO_Running``, ``Seconds_Behind_Source`` ...); MySQL 8.4 removed the old
statements. MariaDB accepts ``SHOW REPLICA STATUS`` and ``START/STOP REPLICA`` as aliases
from 10.5.1 but keeps the ``Master_*``/``Slave_*`` columns, and its replica list is
``SHOW REPLICA HOSTS`` (10.5.1+), never ``SHOW REPLICAS``: on MariaDB the engine keeps the
``SLAVE`` forms, which every MariaDB version accepts.

Every replica statement of the engine comes from :class:`ReplicaDialect`; the SQL forms
are unit-tested for each flavour (tests/unit/engine/test_replication_dialect.py), and run
for real against MariaDB 10.11 only (docs/topologies.md).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from .connection import Connection, scalar

MODERN_MYSQL = (8, 0, 22)

# Status field -> (modern MySQL name, the old name MariaDB and older MySQL use).
_FIELDS: dict[str, tuple[str, str]] = {
    "source_host": ("Source_Host", "Master_Host"),
    "source_port": ("Source_Port", "Master_Port"),
    "source_log_file": ("Source_Log_File", "Master_Log_File"),
    "read_source_log_pos": ("Read_Source_Log_Pos", "Read_Master_Log_Pos"),
    "relay_source_log_file": ("Relay_Source_Log_File", "Relay_Master_Log_File"),
    "exec_source_log_pos": ("Exec_Source_Log_Pos", "Exec_Master_Log_Pos"),
    "io_running": ("Replica_IO_Running", "Slave_IO_Running"),
    "sql_running": ("Replica_SQL_Running", "Slave_SQL_Running"),
    "seconds_behind": ("Seconds_Behind_Source", "Seconds_Behind_Master"),
    "last_io_error": ("Last_IO_Error", "Last_IO_Error"),
    "last_sql_error": ("Last_SQL_Error", "Last_SQL_Error"),
}


@dataclasses.dataclass(frozen=True)
class ReplicaDialect:
    """The replica statements and status column names of one server."""

    modern: bool

    @property
    def _word(self) -> str:
        return "REPLICA" if self.modern else "SLAVE"

    @property
    def show_status(self) -> str:
        return f"SHOW {self._word} STATUS"

    @property
    def show_replicas(self) -> str:
        """The replicas connected to this server (one row each; the server id first)."""
        return "SHOW REPLICAS" if self.modern else "SHOW SLAVE HOSTS"

    @property
    def start(self) -> str:
        return f"START {self._word}"

    @property
    def stop(self) -> str:
        return f"STOP {self._word}"

    @property
    def stop_io_thread(self) -> str:
        return f"STOP {self._word} IO_THREAD"

    @property
    def stop_sql_thread(self) -> str:
        return f"STOP {self._word} SQL_THREAD"

    def column(self, field: str) -> str:
        """The column name of ``field`` (a key of ``_FIELDS``) in this server's status."""
        modern, old = _FIELDS[field]
        return modern if self.modern else old

    def get(self, status: Mapping[str, Any], field: str) -> Any:
        """``field`` of a status row. The column this server names is read first; the
        other naming is read when it is absent (a fork reporting an unexpected version)."""
        modern, old = _FIELDS[field]
        first, second = (modern, old) if self.modern else (old, modern)
        value = status.get(first)
        return status.get(second) if value is None else value

    def text(self, status: Mapping[str, Any], field: str) -> str:
        value = self.get(status, field)
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode()
        return "" if value is None else str(value)


MARIADB = ReplicaDialect(modern=False)
"""MariaDB's (and MySQL before 8.0.22's) forms; also the default of unit-test fakes."""


def replica_dialect(version: str) -> ReplicaDialect:
    """The dialect of a server reporting ``version`` (``SELECT VERSION()``)."""
    if "mariadb" in version.lower():
        return MARIADB
    match = re.match(r"(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        return MARIADB
    parts = tuple(int(g) for g in match.groups())
    return ReplicaDialect(modern=parts >= MODERN_MYSQL)


def replica_dialect_of(conn: Connection) -> ReplicaDialect:
    """The dialect of the server behind ``conn`` (one ``SELECT VERSION()``)."""
    version = scalar(conn, "SELECT VERSION()")
    if isinstance(version, bytes | bytearray):
        version = bytes(version).decode()
    return replica_dialect(str(version or ""))
