"""Replica statements and status columns per flavour and version (mysql/replication.py).

Only MariaDB 10.11 runs in our tests for real; the MySQL forms are held here."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.mysql.connection import ConnectionSpec
from django_ghost.engine.mysql.replication import replica_dialect
from django_ghost.engine.topology.discovery import (
    REPLICA,
    discover,
    seconds_behind_master_reader,
    stop_replication,
)
from django_ghost.engine.topology.rbr import switch_to_rbr

OLD = {
    "show_status": "SHOW SLAVE STATUS",
    "show_replicas": "SHOW SLAVE HOSTS",
    "start": "START SLAVE",
    "stop": "STOP SLAVE",
    "stop_io_thread": "STOP SLAVE IO_THREAD",
    "stop_sql_thread": "STOP SLAVE SQL_THREAD",
}
NEW = {
    "show_status": "SHOW REPLICA STATUS",
    "show_replicas": "SHOW REPLICAS",
    "start": "START REPLICA",
    "stop": "STOP REPLICA",
    "stop_io_thread": "STOP REPLICA IO_THREAD",
    "stop_sql_thread": "STOP REPLICA SQL_THREAD",
}
VERSIONS = [
    ("10.6.21-MariaDB-log", OLD),
    ("10.11.19-MariaDB-0+deb12u1", OLD),
    ("5.5.5-10.11.6-MariaDB", OLD),
    ("11.4.5-MariaDB", OLD),
    ("11.8.2-MariaDB-ubu2404", OLD),
    ("5.7.44-log", OLD),
    ("8.0.21", OLD),
    ("8.0.22", NEW),
    ("8.0.40-0ubuntu0.22.04.1", NEW),
    ("8.4.3", NEW),
    ("9.1.0", NEW),
]


@pytest.mark.parametrize(("version", "expected"), VERSIONS)
def test_replica_dialect__version__statements(version: str, expected: dict[str, str]) -> None:
    dialect = replica_dialect(version)
    assert {name: getattr(dialect, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("version", "host", "running", "lag"),
    [
        ("10.11.19-MariaDB", "Master_Host", "Slave_IO_Running", "Seconds_Behind_Master"),
        ("5.7.44", "Master_Host", "Slave_IO_Running", "Seconds_Behind_Master"),
        ("8.0.21", "Master_Host", "Slave_IO_Running", "Seconds_Behind_Master"),
        ("8.0.22", "Source_Host", "Replica_IO_Running", "Seconds_Behind_Source"),
        ("8.4.3", "Source_Host", "Replica_IO_Running", "Seconds_Behind_Source"),
    ],
)
def test_replica_dialect__version__column_names(
    version: str, host: str, running: str, lag: str
) -> None:
    dialect = replica_dialect(version)
    assert (dialect.column("source_host"), dialect.column("io_running")) == (host, running)
    assert dialect.column("seconds_behind") == lag
    assert dialect.text({host: b"db1"}, "source_host") == "db1"


def test_replica_dialect__column_of_other_naming__read_as_fallback() -> None:
    assert replica_dialect("8.4.3").text({"Master_Host": "db1"}, "source_host") == "db1"
    assert replica_dialect("10.11.19-MariaDB").text({"Source_Host": "db2"}, "source_host") == "db2"


# -- the engine's replica statements on MySQL 8.4, from a scripted server ---------------


class Scripted:
    """A server answering VERSION() and SHOW ... STATUS; records what it was sent. Like
    MySQL 8.4 it refuses every SLAVE statement."""

    def __init__(self, version: str, status: dict[str, Any]):
        self.version = version
        self.status = status
        self.sent: list[str] = []
        self.answers: dict[str, list[Any]] = {}

    def cursor(self, *_: Any) -> Scripted:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.sent.append(sql)
        if "SLAVE" in sql and self.version.startswith("8.4"):
            raise AssertionError(f"MySQL 8.4 has no {sql}")
        if sql == "SELECT VERSION()":
            self.rows: list[Any] = [(self.version,)]
        elif sql.endswith("REPLICA STATUS") or sql.endswith("SLAVE STATUS"):
            self.rows = [self.status] if self.status else []
        else:
            self.rows = self.answers.get(sql, [])
        return len(self.rows)

    def fetchall(self) -> list[Any]:
        return self.rows

    def close(self) -> None:
        pass


MYSQL84_REPLICA = {
    "Source_Host": "db-primary",
    "Source_Port": 3310,
    "Source_Log_File": "bin.000002",
    "Read_Source_Log_Pos": 900,
    "Relay_Source_Log_File": "bin.000002",
    "Exec_Source_Log_Pos": 900,
    "Replica_IO_Running": "Yes",
    "Replica_SQL_Running": "Yes",
    "Seconds_Behind_Source": 7,
}


def test_discover__mysql84_replica__primary_found_from_source_columns() -> None:
    primary = Scripted("8.4.3", {})
    replica = Scripted("8.4.3", MYSQL84_REPLICA)

    topology = discover(
        GhostConfig(),
        ConnectionSpec(host="db-replica", user="ghost"),
        replica,
        log_slave_updates=True,
        dialect=replica_dialect("8.4.3"),
        connect=lambda spec: primary,
    )

    assert topology.mode == REPLICA
    assert (topology.applier.host, topology.applier.port) == ("db-primary", 3310)
    assert "SHOW REPLICA STATUS" in primary.sent


def test_stop_replication__mysql84__replica_statements() -> None:
    conn = Scripted("8.4.3", MYSQL84_REPLICA)

    stop_replication(conn, wait_seconds=1)

    assert conn.sent[-1] == "STOP REPLICA SQL_THREAD"
    assert "STOP REPLICA IO_THREAD" in conn.sent


def test_seconds_behind_master_reader__mysql84__seconds_behind_source() -> None:
    assert seconds_behind_master_reader(Scripted("8.4.3", MYSQL84_REPLICA))() == 7.0


def test_switch_to_rbr__mysql84_replica__restarted_with_replica_statements() -> None:
    conn = Scripted("8.4.3", MYSQL84_REPLICA)
    conn.answers["SELECT @@GLOBAL.binlog_format"] = [("MIXED",)]

    result = switch_to_rbr(conn)

    assert result.replication_restarted
    assert [
        sql for sql in conn.sent if sql in ("SHOW REPLICAS", "STOP REPLICA", "START REPLICA")
    ] == ["SHOW REPLICAS", "STOP REPLICA", "START REPLICA"]
