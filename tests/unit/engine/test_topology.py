"""Topology discovery decisions, with scripted SHOW SLAVE STATUS answers (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError, PreflightError
from django_ghost.engine.mysql.connection import ConnectionSpec
from django_ghost.engine.mysql.replication import MARIADB
from django_ghost.engine.option_syntax import parse_host_port
from django_ghost.engine.topology.discovery import (
    MIGRATE_ON_REPLICA,
    PRIMARY,
    REPLICA,
    TEST_ON_REPLICA,
    discover,
)

REPLICATING = {
    "Master_Host": "db-primary",
    "Master_Port": 3310,
    "Master_Log_File": "bin.000001",
    "Slave_IO_Running": "Yes",
    "Slave_SQL_Running": "Yes",
}


class FakeCursor:
    def __init__(self, status: dict[str, Any], version: str = "10.11.6-MariaDB"):
        self.status = status
        self.version = version
        self.rows: list[Any] = []

    def execute(self, sql: str, params: Any = None) -> None:
        if sql == "SELECT VERSION()":
            self.rows = [(self.version,)]
            return
        assert "SLAVE STATUS" in sql
        self.rows = [self.status] if self.status else []

    def fetchall(self) -> list[Any]:
        return self.rows

    def close(self) -> None:
        pass


class FakeConn:
    def __init__(self, status: dict[str, Any]):
        self.status = status
        self.closed = False

    def cursor(self, *args: Any) -> FakeCursor:
        return FakeCursor(self.status)

    def close(self) -> None:
        self.closed = True


SPEC = ConnectionSpec(host="db-replica", port=3306, user="ghost", password="pw")


def run(status: dict[str, Any], *, upstream: dict[str, Any] | None = None, **options: Any) -> Any:
    opened: list[ConnectionSpec] = []

    def connect(spec: ConnectionSpec) -> FakeConn:
        opened.append(spec)
        return FakeConn(upstream or {})

    topology = discover(
        GhostConfig(**options),
        SPEC,
        FakeConn(status),
        log_slave_updates=True,
        dialect=MARIADB,
        connect=connect,
    )
    return topology, opened


def test_parse_host_port__forms__host_and_port() -> None:
    assert parse_host_port("db1") == ("db1", 3306)
    assert parse_host_port("db1:3307") == ("db1", 3307)
    assert parse_host_port("[::1]:3308") == ("::1", 3308)
    with pytest.raises(ValueError):
        parse_host_port("db1:x")


def test_discover__primary__both_roles_on_it() -> None:
    topology, opened = run({})
    assert (topology.mode, topology.applier, topology.inspector) == (PRIMARY, SPEC, SPEC)
    assert not topology.split and opened == []


def test_discover__primary_without_allow_on_master__refused() -> None:
    with pytest.raises(PreflightError, match="directly on master.*allow_on_master=true"):
        run({}, allow_on_master=False)


def test_discover__replica__applier_is_its_primary() -> None:
    topology, opened = run(REPLICATING)
    assert topology.mode == REPLICA and topology.split
    assert (topology.applier.host, topology.applier.port) == ("db-primary", 3310)
    assert topology.applier.user == "ghost" and topology.inspector == SPEC
    assert [s.host for s in opened] == ["db-primary"]


def test_discover__assume_master_host_with_credentials__used_without_walking() -> None:
    topology, opened = run(
        REPLICATING, assume_master_host="other:3399", master_user="boss", master_password="s"
    )
    assert (topology.applier.host, topology.applier.port) == ("other", 3399)
    assert (topology.applier.user, topology.applier.password) == ("boss", "s")
    assert opened == []


def test_discover__master_master_cycle__refused() -> None:
    back = {**REPLICATING, "Master_Host": "db-replica", "Master_Port": 3306}
    with pytest.raises(PreflightError, match="cycle.*assume_master_host"):
        run(REPLICATING, upstream=back)


def test_discover__replication_stopped__refused() -> None:
    with pytest.raises(PreflightError, match="broken.*SQL thread: No"):
        run({**REPLICATING, "Slave_SQL_Running": "No"})


def test_discover__replica_without_log_slave_updates__refused() -> None:
    with pytest.raises(PreflightError, match="log_slave_updates"):
        discover(
            GhostConfig(),
            SPEC,
            FakeConn(REPLICATING),
            log_slave_updates=False,
            dialect=MARIADB,
            connect=lambda spec: FakeConn({}),
        )


def test_discover__replica_modes__everything_on_the_replica() -> None:
    assert run(REPLICATING, migrate_on_replica=True)[0].mode == MIGRATE_ON_REPLICA
    topology = run(REPLICATING, test_on_replica=True)[0]
    assert topology.mode == TEST_ON_REPLICA and topology.applier == SPEC


def test_discover__replica_mode_on_a_primary__refused() -> None:
    with pytest.raises(PreflightError, match="doesn't seem to be a replica"):
        run({}, test_on_replica=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"migrate_on_replica": True, "test_on_replica": True}, "exclude each other"),
        ({"test_on_replica_skip_replica_stop": True}, "needs test_on_replica"),
        ({"master_user": "u"}, "need assume_master_host"),
        ({"assume_master_host": "h:x"}, "not host"),
        ({"assume_master_host": "h", "migrate_on_replica": True}, "one or the other"),
    ],
)
def test_config_validate__topology_conflicts__refused(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        GhostConfig(**options).validate()
