"""gh-ost's topology flags: --allow-master-master, --tungsten, and the cloud flags
(--aliyun-rds, --gcp, --azure), with scripted SHOW SLAVE STATUS answers per server."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.mysql.connection import ConnectionSpec
from django_ghost.engine.mysql.replication import MARIADB
from django_ghost.engine.mysql.server import ServerFacts
from django_ghost.engine.topology.discovery import PRIMARY, REPLICA, discover
from django_ghost.engine.topology.preflight import cloud_identity

SPEC = ConnectionSpec(host="db-replica", port=3306, user="ghost", password="pw")


def replicating(host: str, port: int = 3306) -> dict[str, Any]:
    return {
        "Master_Host": host,
        "Master_Port": port,
        "Master_Log_File": "bin.000001",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
    }


class Conn:
    """A session on one MariaDB server: SHOW SLAVE STATUS answers ``status``."""

    def __init__(self, status: dict[str, Any]):
        self.status = status
        self.rows: list[Any] = []

    def cursor(self, *args: Any) -> Conn:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        if sql == "SELECT VERSION()":
            self.rows = [("10.11.6-MariaDB",)]
            return
        assert "SLAVE STATUS" in sql
        self.rows = [self.status] if self.status else []

    def fetchall(self) -> list[Any]:
        return self.rows

    def close(self) -> None:
        pass


def run(
    status: dict[str, Any],
    servers: dict[str, dict[str, Any]] | None = None,
    *,
    log_slave_updates: bool = True,
    **options: Any,
) -> Any:
    """discover() from SPEC, whose status is ``status``; ``servers``: host → status."""
    return discover(
        GhostConfig(**options),
        SPEC,
        Conn(status),
        log_slave_updates=log_slave_updates,
        dialect=MARIADB,
        connect=lambda spec: Conn((servers or {})[spec.host]),
    )


# replica -> co-master A <-> co-master P
CO_MASTERS = {"db-a": replicating("db-p"), "db-p": replicating("db-a")}


def test_discover__master_master_without_flag__refused_naming_the_flag() -> None:
    with pytest.raises(PreflightError, match="cycle.*allow_master_master"):
        run(replicating("db-a"), CO_MASTERS)


def test_discover__master_master_allowed__nearest_co_master_is_the_applier() -> None:
    topology = run(replicating("db-a"), CO_MASTERS, allow_master_master=True)
    assert topology.mode == REPLICA
    assert (topology.applier.host, topology.inspector) == ("db-a", SPEC)


def test_discover__master_master_allowed_host_is_a_co_master__both_roles_on_it() -> None:
    servers = {"db-p": replicating("db-replica")}
    topology = run(replicating("db-p"), servers, allow_master_master=True)
    assert (topology.mode, topology.applier, topology.inspector) == (PRIMARY, SPEC, SPEC)
    with pytest.raises(PreflightError, match="allow_on_master=true"):
        run(replicating("db-p"), servers, allow_master_master=True, allow_on_master=False)


def test_discover__tungsten_without_log_slave_updates__proceeds_on_the_primary() -> None:
    servers = {"db-primary": {}}
    with pytest.raises(PreflightError, match="log_slave_updates"):
        run(replicating("db-primary"), servers, log_slave_updates=False)
    topology = run(replicating("db-primary"), servers, log_slave_updates=False, tungsten=True)
    assert (topology.mode, topology.applier.host) == (REPLICA, "db-primary")


def test_discover__tungsten_with_assume_master_host__no_slave_status_still_a_replica() -> None:
    with pytest.raises(PreflightError, match="not a replica"):
        run({}, assume_master_host="db-primary:3307")
    topology = run({}, assume_master_host="db-primary:3307", tungsten=True)
    assert topology.mode == REPLICA and topology.split
    assert (topology.applier.host, topology.applier.port) == ("db-primary", 3307)
    assert topology.inspector == SPEC


def test_discover__tungsten_alone_without_slave_status__a_primary() -> None:
    assert run({}, tungsten=True).mode == PRIMARY


FACTS = ServerFacts(
    version="10.11.6-MariaDB",
    log_bin=True,
    binlog_format="ROW",
    binlog_row_image="FULL",
    binlog_row_metadata="FULL",
    binlog_compressed=False,
    binlog_row_value_options="",
    hostname="",
    port=0,
    server_id=1,
    global_time_zone="SYSTEM",
    log_slave_updates=True,
)


@pytest.mark.parametrize("flag", ["aliyun_rds", "gcp", "azure"])
def test_cloud_identity__cloud_flag__server_named_by_the_address_used(flag: str) -> None:
    spec = ConnectionSpec(host="rm-abc.mysql.rds.example", port=3306)
    config = GhostConfig(**{flag: True})
    assert cloud_identity(FACTS, spec, config).identity == "rm-abc.mysql.rds.example:3306"


def test_cloud_identity__no_cloud_flag__server_named_by_its_variables() -> None:
    facts = cloud_identity(
        ServerFacts(**{**FACTS.__dict__, "hostname": "db7", "port": 3307}), SPEC, GhostConfig()
    )
    assert facts.identity == "db7:3307"
