"""Replica topologies against the sandbox's primary and replica (docs/topologies.md).

The replica is shared by the whole session: every test leaves replication running (the
``replica`` fixture restarts it whatever happened) and its tables are those of the
primary (the ``db`` fixture drops the database on the primary, which replicates).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import CutOverError, PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    AUTO_INCREMENT,
    AUTO_INCREMENT_MIX,
    HookRecorder,
    MirroredWriter,
    Run,
    assert_migrated_like_mirror,
    copy_as_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, TestServer, wait_for

pytestmark = pytest.mark.replica

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7"
COLUMNS = "id, v, w"


class Replica:
    """A session on the replica, in the test's database once it has replicated."""

    def __init__(self, server: TestServer, db: TestDatabase):
        self.server = server
        self.db = db
        self.conn = server.connect()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            return list(cur.fetchall())
        finally:
            cur.close()

    def scalar(self, sql: str) -> Any:
        rows = self.rows(sql)
        return rows[0][0] if rows else None

    def status(self) -> dict[str, Any]:
        cur = self.conn.cursor()
        try:
            cur.execute("SHOW SLAVE STATUS")
            names = [d[0] for d in cur.description]
            row = cur.fetchone()
            return dict(zip(names, row, strict=True)) if row else {}
        finally:
            cur.close()

    def running(self) -> bool:
        status = self.status()
        return (status.get("Slave_IO_Running"), status.get("Slave_SQL_Running")) == ("Yes", "Yes")

    def catch_up(self) -> None:
        """Wait until the replica has applied everything the primary wrote so far."""
        file, position = self.db.query("SHOW MASTER STATUS")[0][:2]
        waited = self.scalar(f"SELECT MASTER_POS_WAIT('{file}', {int(position)}, 60)")
        assert waited is not None and waited >= 0, self.status()

    def tables(self) -> list[str]:
        return [r[0] for r in self.rows(f"SHOW TABLES FROM `{self.db.name}`")]

    def show_create(self, table: str) -> str:
        return str(self.rows(f"SHOW CREATE TABLE `{self.db.name}`.`{table}`")[0][1])

    def content(self, table: str) -> list[tuple[Any, ...]]:
        return self.rows(f"SELECT {COLUMNS} FROM `{self.db.name}`.`{table}` ORDER BY id")

    def dump_threads(self, server: TestServer) -> int:
        """Binlog dump threads of the engine user on ``server`` (our streamer's session)."""
        conn = server.connect()
        try:
            cur = conn.cursor()
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                "WHERE COMMAND LIKE 'Binlog Dump%%' AND USER = %s",
                (server.user,),
            )
            return int(cur.fetchone()[0])
        finally:
            conn.close()


@pytest.fixture
def replica(replica_server: TestServer, db: TestDatabase) -> Iterator[Replica]:
    # Requesting db first: this teardown (replication running again) runs before the
    # database is dropped on the primary, so the drop replicates.
    rep = Replica(replica_server, db)
    try:
        yield rep
    finally:
        if not rep.running():
            rep.rows("START SLAVE")
            assert wait_for(rep.running, timeout=20), rep.status()
        rep.catch_up()
        rep.conn.close()


def seed_replicated(
    db: TestDatabase, replica: Replica, rows: int = 3000, *, mirror: str | None = None
) -> None:
    seed(db, rows, mirror=mirror, shape=AUTO_INCREMENT)
    replica.catch_up()


def on_replica(config: GhostConfig, replica: Replica, **options: Any) -> GhostConfig:
    server = replica.server
    return dataclasses.replace(config, host=server.host, port=server.port, **options)


def test_migrate__host_is_replica__migrated_on_primary_streamed_from_replica(
    db: TestDatabase, replica: Replica, tmp_path: Path
) -> None:
    seed_replicated(db, replica, mirror="t_mirror")
    postpone = tmp_path / "postpone"
    config = on_replica(
        make_config(db, "t", ALTER, postpone_cut_over_flag_file=str(postpone)), replica
    )
    writer = MirroredWriter(db, mirror="t_mirror", mix=AUTO_INCREMENT_MIX)
    writer.start()
    run = Run(config)
    run.start()
    migrator = run.migrator
    assert wait_for(run.postponed, timeout=60), run.error
    # The binlog is read from the replica, the tables are written on the primary.
    assert replica.dump_threads(replica.server) >= 1
    assert replica.dump_threads(db.server) == 0
    assert migrator.ops.topology is not None and migrator.ops.topology.mode == "replica"
    assert (migrator.ops.spec.host, migrator.ops.spec.port) == (db.server.host, db.server.port)
    assert "_t_gho" in db.tables()
    # Replication lag is the primary's heartbeat as the replica has applied it.
    assert migrator.ops.throttler is not None
    readers = getattr(migrator.ops.throttler, "readers", None)
    lag_reader = readers.lag_reader if readers is not None else None
    assert lag_reader is not None
    lag = lag_reader()
    assert lag is not None and 0 <= lag < 5
    postpone.unlink()
    run.join(timeout=120)
    writer.stop.set()
    writer.join()
    assert run.error is None
    assert writer.failures == []
    assert run.result.checksum_verified and run.result.events_applied > 0
    assert "`extra` int(11) NOT NULL DEFAULT 7" in db.show_create("t")
    assert_migrated_like_mirror(db, ALTER)
    replica.catch_up()
    assert "`extra` int(11) NOT NULL DEFAULT 7" in replica.show_create("t")
    primary = db.query(f"SELECT {COLUMNS}, extra FROM t ORDER BY id")
    assert replica.rows(f"SELECT {COLUMNS}, extra FROM `{db.name}`.t ORDER BY id") == primary
    assert not {"_t_gho", "_t_ghc"} & set(db.tables())
    assert not {"_t_gho", "_t_ghc"} & set(replica.tables())


def test_migrate__assume_master_host__migrated_on_given_primary(
    db: TestDatabase, replica: Replica
) -> None:
    seed_replicated(db, replica, rows=500, mirror="t_mirror")
    primary = db.server
    config = on_replica(
        make_config(db, "t", ALTER, assume_master_host=f"{primary.host}:{primary.port}"),
        replica,
    )
    migrator = Migrator(config)
    result = migrator.run()
    assert result.checksum_verified
    assert migrator.ops.topology is not None and migrator.ops.topology.split
    assert "`extra`" in db.show_create("t")
    assert_migrated_like_mirror(db, ALTER)
    replica.catch_up()
    assert "`extra`" in replica.show_create("t")


def test_migrate__replication_broken__refused(db: TestDatabase, replica: Replica) -> None:
    seed_replicated(db, replica, rows=100)
    replica.rows("STOP SLAVE SQL_THREAD")
    with pytest.raises(PreflightError, match=r"Replication on .* is broken .*SQL thread: No"):
        Migrator(on_replica(make_config(db, "t", ALTER), replica)).run()
    assert "_t_gho" not in db.tables()


def test_migrate__on_primary_without_allow_on_master__refused(db: TestDatabase) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    with pytest.raises(PreflightError, match="directly on master.*allow_on_master"):
        Migrator(make_config(db, "t", ALTER, allow_on_master=False)).run()


def test_migrate_on_replica__add_column__replica_migrated_primary_untouched(
    db: TestDatabase, replica: Replica
) -> None:
    seed_replicated(db, replica)
    writer = MirroredWriter(db, mirror=None, mix=AUTO_INCREMENT_MIX)
    writer.start()
    result = Migrator(
        on_replica(make_config(db, "t", ALTER), replica, migrate_on_replica=True)
    ).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    assert result.checksum_verified
    assert "`extra` int(11) NOT NULL DEFAULT 7" in replica.show_create("t")
    assert "`extra`" not in db.show_create("t")
    assert db.tables() == ["t"]
    assert {"_t_del"} <= set(replica.tables()) and "_t_ghc" not in replica.tables()
    # Replication ran on through the migration into the new table.
    replica.catch_up()
    assert replica.content("t") == db.query(f"SELECT {COLUMNS} FROM t ORDER BY id")


def test_test_on_replica__add_column__both_tables_kept_and_replication_stopped(
    db: TestDatabase, replica: Replica
) -> None:
    seed_replicated(db, replica)
    printed: list[str] = []
    hooks = HookRecorder()
    config = on_replica(make_config(db, "t", ALTER), replica, test_on_replica=True)
    result = Migrator(config, status_printer=printed.append, hooks=hooks).run()
    assert result.checksum_verified
    # Replication stopped before the cut-over (its hook first), and left stopped.
    names = hooks.names()
    assert names[names.index("before-cut-over") + 1] == "stop-replication"
    assert "start-replication" not in names
    status = replica.status()
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    assert any("START SLAVE" in line for line in printed)
    # The original is back under its name; the migrated table stays as the ghost.
    assert "`extra`" not in replica.show_create("t")
    assert "`extra` int(11) NOT NULL DEFAULT 7" in replica.show_create("_t_gho")
    assert replica.content("t") == replica.content("_t_gho")
    assert replica.scalar(f"SELECT COUNT(*) FROM `{db.name}`._t_gho WHERE extra <> 7") == 0
    assert "`extra`" not in db.show_create("t")
    assert db.tables() == ["t"]


def test_test_on_replica__cut_over_fails__start_replication_hook_and_replication_restarted(
    db: TestDatabase, replica: Replica
) -> None:
    seed_replicated(db, replica)
    blocker = replica.server.connect(db.name, autocommit=False)

    def hold_t() -> None:
        # A row lock's metadata lock on the replica's t: the cut-over's LOCK TABLES waits.
        blocker.cursor().execute("SELECT * FROM t WHERE id = 1 FOR UPDATE")

    def replication_state() -> None:
        status = replica.status()
        states.append((status["Slave_IO_Running"], status["Slave_SQL_Running"]))

    states: list[tuple[str, str]] = []
    hooks = HookRecorder(
        on={
            "before-cut-over": hold_t,
            "stop-replication": replication_state,
            "start-replication": replication_state,
        }
    )
    config = on_replica(
        make_config(db, "t", ALTER, cut_over_lock_timeout_seconds=1, default_retries=1),
        replica,
        test_on_replica=True,
    )
    try:
        with pytest.raises(CutOverError):
            Migrator(config, hooks=hooks).run()
    finally:
        blocker.rollback()
        blocker.close()
    names = hooks.names()
    assert names.index("before-cut-over") < names.index("stop-replication")
    assert names.index("stop-replication") < names.index("start-replication")
    assert names[-1] == "failure"
    # Each hook runs before its action: replication was still running when the stop hook
    # ran, and stopped when the start hook ran; it runs again after the failure.
    assert states == [("Yes", "Yes"), ("No", "No")]
    assert wait_for(replica.running, timeout=20), replica.status()
    replica.catch_up()
    assert "`extra`" not in replica.show_create("t")
    assert replica.content("t") == db.query(f"SELECT {COLUMNS} FROM t ORDER BY id")


def test_throttle_control_replicas__replica_lags__throttled_until_it_catches_up(
    db: TestDatabase, replica_server: TestServer, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT, w VARCHAR(20))")
    db.execute("INSERT INTO t (v, w) SELECT seq, 'x' FROM seq_1_to_3000")
    copy_as_mirror(db, "t")
    replica = replica_server.connect()
    replica.cursor().execute("STOP SLAVE SQL_THREAD")
    try:
        config = make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            max_lag_millis=500,
            throttle_control_replicas=f"{replica_server.host}:{replica_server.port}",
            serve_socket_file=str(tmp_path / "s.sock"),
        )
        run = Run(config)
        run.start()
        ctx = run.migrator.context
        # The replica has not even applied the changelog table yet: unreadable lag throttles.
        assert wait_for(lambda: "replica" in (ctx.throttle_reason or ""), timeout=30)
        copied = ctx.rows_copied
        time.sleep(1.5)
        assert ctx.rows_copied == copied  # nothing copied while the replica lags
    finally:
        replica.cursor().execute("START SLAVE SQL_THREAD")
    run.join(timeout=120)
    assert run.error is None, run.error
    assert run.result.checksum_verified
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
