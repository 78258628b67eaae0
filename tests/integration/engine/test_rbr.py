"""switch_to_rbr against the sandbox replica, and its refusals with a scripted connection.

The replica is shared by the whole session: every test that changes its binlog format
restores ROW and running replication afterwards, whatever happened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from django_ghost.engine.errors import PreflightError
from django_ghost.engine.mysql.connection import (
    Connection,
    ConnectionSpec,
    connect,
    execute,
    query_dicts,
    scalar,
)
from django_ghost.engine.topology.rbr import switch_to_rbr
from tests.plugins.mariadb import TestDatabase, TestServer, wait_for

pytestmark = pytest.mark.replica


def _connect(server: TestServer) -> Connection:
    return connect(
        ConnectionSpec(
            host=server.host, port=server.port, user=server.user, password=server.password
        )
    )


def _threads(conn: Connection) -> tuple[str, str]:
    row = query_dicts(conn, "SHOW SLAVE STATUS")[0]
    return str(row["Slave_IO_Running"]), str(row["Slave_SQL_Running"])


@pytest.fixture
def replica(replica_server: TestServer) -> Iterator[Connection]:
    conn = _connect(replica_server)
    try:
        yield conn
    finally:
        # Leave the shared replica as the session expects it: ROW, both threads running.
        execute(conn, "SET GLOBAL binlog_format = 'ROW'")
        if _threads(conn) != ("Yes", "Yes"):
            execute(conn, "START SLAVE")
            wait_for(lambda: _threads(conn) == ("Yes", "Yes"), timeout=10)
        conn.close()


def test_switch_to_rbr__replica_in_mixed__switched_to_row_and_replicating(
    replica: Connection, db: TestDatabase
) -> None:
    execute(replica, "SET GLOBAL binlog_format = 'MIXED'")
    # Restart so the SQL thread really runs with MIXED, as on a misconfigured replica.
    execute(replica, "STOP SLAVE")
    execute(replica, "START SLAVE")
    assert wait_for(lambda: _threads(replica) == ("Yes", "Yes"), timeout=10)

    result = switch_to_rbr(replica)

    assert (result.previous_format, result.switched, result.replication_restarted) == (
        "MIXED",
        True,
        True,
    )
    assert "MIXED to ROW" in result.describe()
    assert scalar(replica, "SELECT @@GLOBAL.binlog_format") == "ROW"
    assert _threads(replica) == ("Yes", "Yes")
    # Replication really carries on: a write on the primary reaches the replica.
    db.execute("CREATE TABLE rbr_probe (id INT PRIMARY KEY)")
    db.execute("INSERT INTO rbr_probe VALUES (42)")
    seen = wait_for(
        lambda: (
            scalar(
                replica,
                "SELECT COUNT(*) FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'rbr_probe'",
                (db.name,),
            )
            and scalar(replica, f"SELECT id FROM `{db.name}`.rbr_probe") == 42
        ),
        timeout=10,
    )
    assert seen


def test_switch_to_rbr__already_row__nothing_done(replica: Connection) -> None:
    before = scalar(replica, "SELECT @@GLOBAL.binlog_format")
    assert before == "ROW"

    result = switch_to_rbr(replica)

    assert not result.switched and not result.replication_restarted
    assert "nothing to do" in result.describe()


# -- scripted connection: the refusals that the shared sandbox cannot safely stage ------


class ScriptedConnection:
    """Answers the statements switch_to_rbr sends from a script; records every one."""

    def __init__(self, answers: dict[str, list[Any]], status: list[list[dict[str, Any]]]):
        self.answers = answers
        self.status = status
        self.sent: list[str] = []

    def cursor(self, *_: Any) -> ScriptedCursor:
        return ScriptedCursor(self)


class ScriptedCursor:
    def __init__(self, conn: ScriptedConnection):
        self.conn = conn
        self.rows: list[Any] = []

    def execute(self, sql: str, params: Any = None) -> int:
        self.conn.sent.append(sql)
        if sql == "SHOW SLAVE STATUS":
            self.rows = (
                self.conn.status.pop(0) if len(self.conn.status) > 1 else self.conn.status[0]
            )
        else:
            self.rows = self.conn.answers.get(sql, [])
        return len(self.rows)

    def fetchall(self) -> list[Any]:
        return self.rows

    def close(self) -> None:
        pass


def test_switch_to_rbr__server_with_replicas__refused_and_format_unchanged() -> None:
    conn = ScriptedConnection(
        {
            "SELECT @@GLOBAL.binlog_format": [("STATEMENT",)],
            "SHOW SLAVE HOSTS": [(3, "replica3", 3306, 1)],
        },
        status=[[]],
    )

    with pytest.raises(PreflightError, match="has replicas of its own"):
        switch_to_rbr(conn)

    assert not any(sql.startswith("SET GLOBAL") for sql in conn.sent)


def test_switch_to_rbr__replication_does_not_restart__error_after_wait() -> None:
    down = {"Slave_IO_Running": "Yes", "Slave_SQL_Running": "No", "Last_SQL_Error": "boom"}
    conn = ScriptedConnection({"SELECT @@GLOBAL.binlog_format": [("MIXED",)]}, status=[[down]])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(PreflightError, match="did not come back within 2s.*boom"):
        switch_to_rbr(conn, clock=lambda: now[0], sleep=sleep)

    assert "SET GLOBAL binlog_format = 'ROW'" in conn.sent
    assert conn.sent.count("START SLAVE") == 1
    assert now[0] >= 2.0


def test_switch_to_rbr__not_a_replica__switched_without_restart() -> None:
    conn = ScriptedConnection({"SELECT @@GLOBAL.binlog_format": [("MIXED",)]}, status=[[]])

    result = switch_to_rbr(conn)

    assert result.switched and not result.replication_restarted
    assert "STOP SLAVE" not in conn.sent


def test_switch_to_rbr__wait_is_bounded__returns_quickly() -> None:
    start = time.monotonic()
    conn = ScriptedConnection(
        {"SELECT @@GLOBAL.binlog_format": [("MIXED",)]},
        status=[[{"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes"}]],
    )

    result = switch_to_rbr(conn)

    assert result.replication_restarted
    assert time.monotonic() - start < 1.0
