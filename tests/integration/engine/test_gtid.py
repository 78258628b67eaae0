"""Streaming, checkpoints and resume by GTID (config ``gtid``) on the sandbox MariaDB.

The oracle is independent of the engine: the events a stream by file and offset reads,
the server's own ``BINLOG_GTID_POS``, and a mirror table every write also went to.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.binlog.coordinates import current_position, gtid_start_problem
from django_ghost.engine.binlog.events import BinlogPosition, TransactionEnd
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import BinlogError, PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration import helpers
from tests.integration.helpers import (
    NO_KEY_MOVES,
    REPO,
    MirroredWriter,
    Shape,
    assert_migrated_like_mirror,
    drain,
    make_config,
    open_stream,
    position,
    read_all,
    row_changes,
    seed,
)
from tests.plugins.mariadb import TestDatabase, TestServer, wait_for

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 5"
SHAPE = Shape("id INT PRIMARY KEY, v INT, w VARCHAR(10)", "SELECT seq, seq, 'x'")
RUNNER = """
import json, sys
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.migrator import Migrator
Migrator(GhostConfig(**json.loads(sys.argv[1]))).run()
"""


def gtid_position(db: TestDatabase) -> BinlogPosition:
    conn = db.connect()
    try:
        return current_position(conn, gtid=True)
    finally:
        conn.close()


def read_by_gtid(db: TestDatabase, start: BinlogPosition, end: BinlogPosition) -> list[Any]:
    stream = open_stream(db, {"t": ["id", "v"]}, start, by_gtid=True)
    try:
        return drain(stream, end)
    finally:
        stream.close()


def test_binlog_stream__by_gtid__same_rows_as_by_file_and_gtid_of_server(
    db: TestDatabase,
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    start = gtid_position(db)
    assert start.gtid == db.scalar("SELECT BINLOG_GTID_POS(%s, %s)", (start.file, start.pos))
    db.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
    db.execute("UPDATE t SET v = 5 WHERE id = 1")
    db.execute("DELETE FROM t WHERE id = 2")
    end = position(db)
    by_gtid = read_by_gtid(db, start, end)
    by_file = read_all(db, {"t": ["id", "v"]}, BinlogPosition(start.file, start.pos))
    assert row_changes(by_gtid) == row_changes(by_file)
    ends = [e for e in by_gtid if isinstance(e, TransactionEnd)]
    assert len(ends) == 3
    for event in ends:
        expected = db.scalar(
            "SELECT BINLOG_GTID_POS(%s, %s)", (event.position.file, event.position.pos)
        )
        assert event.position.gtid == expected


def test_binlog_stream__start_by_gtid_only__continues_after_that_transaction(
    db: TestDatabase,
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    start = gtid_position(db)
    for i in range(5):
        db.execute("INSERT INTO t VALUES (%s, %s)", (i, i))
    end = position(db)
    ends = [e for e in read_by_gtid(db, start, end) if isinstance(e, TransactionEnd)]
    third = ends[2].position
    resumed = read_by_gtid(db, BinlogPosition("", 0, third.gtid), end)
    assert [c.after for c in row_changes(resumed)] == [(3, 3), (4, 4)]
    # The server names its own file: positions after a start by GTID are real ones.
    assert [e.position for e in resumed if isinstance(e, TransactionEnd)] == [
        e.position for e in ends[3:]
    ]


def test_binlog_stream__by_gtid_dump_thread_killed__reconnects_after_last_transaction(
    db: TestDatabase,
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    start = BinlogPosition("", 0, gtid_position(db).gtid)
    db.execute("INSERT INTO t VALUES (1, 1)")
    dumps = "SELECT id FROM information_schema.processlist WHERE command = 'Binlog Dump'"
    before = {r[0] for r in db.query(dumps)}
    stream = open_stream(db, {"t": ["id", "v"]}, start, by_gtid=True, reconnect_backoff=0.05)
    try:
        assert [c.after for c in row_changes(drain(stream, position(db)))] == [(1, 1)]
        (ours,) = {r[0] for r in db.query(dumps)} - before
        db.execute(f"KILL {ours}")
        db.execute("INSERT INTO t VALUES (2, 2)")
        db.execute("INSERT INTO t VALUES (3, 3)")
        later = drain(stream, position(db))
    finally:
        stream.close()
    assert stream.reconnects >= 1
    assert [c.after for c in row_changes(later)] == [(2, 2), (3, 3)]
    assert stream.position.gtid == db.scalar("SELECT @@GLOBAL.gtid_binlog_pos")


def test_binlog_stream__by_gtid_xa__rows_at_commit_and_start_between_refused(
    db: TestDatabase,
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    start = gtid_position(db)
    xa = db.connect()
    try:
        cur = xa.cursor()
        for sql in ("XA START 'g1'", "INSERT INTO t VALUES (1, 1)", "XA END 'g1'"):
            cur.execute(sql)
        cur.execute("XA PREPARE 'g1'")
        cur.execute("XA COMMIT 'g1'")
    finally:
        xa.close()
    end = position(db)
    events = read_by_gtid(db, start, end)
    prepare, commit = [e.position for e in events if isinstance(e, TransactionEnd)]
    (row,) = row_changes(events)
    assert (row.after, row.position) == ((1, 1), commit)
    for at in (prepare, commit):
        assert at.gtid == db.scalar("SELECT BINLOG_GTID_POS(%s, %s)", (at.file, at.pos))
    # Started after the PREPARE, by GTID: its rows were never read, so the stream stops.
    with pytest.raises(BinlogError, match="was prepared before"):
        read_by_gtid(db, BinlogPosition("", 0, prepare.gtid), end)


@pytest.mark.replica
def test_gtid_start_problem__replica_behind_checkpoint__names_gtids_and_wait(
    replica_server: TestServer, db: TestDatabase
) -> None:
    replica = replica_server.connect()
    cur = replica.cursor()
    try:
        cur.execute("STOP SLAVE SQL_THREAD")
        db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        wanted = db.scalar("SELECT @@GLOBAL.gtid_binlog_pos")
        problem = gtid_start_problem(replica, wanted)
        cur.execute("START SLAVE SQL_THREAD")
        replica_caught_up(replica_server, db)
        assert gtid_start_problem(replica, wanted) == ""
    finally:
        cur.execute("START SLAVE SQL_THREAD")
        replica.close()
    assert "MASTER_GTID_WAIT" in problem and wanted.split(",")[0] in problem


# -- migrations ----------------------------------------------------------------------------


def start_engine_process(config: GhostConfig) -> subprocess.Popen[bytes]:
    """The migration in a child process, so the test can SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(dataclasses.asdict(config))], env=env
    )


def checkpoint(db: TestDatabase) -> dict[str, Any]:
    try:
        rows = db.query("SELECT value FROM _t_ghc WHERE hint = 'checkpoint'")
    except Exception:  # noqa: BLE001 - the table may not exist yet
        return {}
    return json.loads(rows[0][0]) if rows else {}


def kill_after_checkpoint(db: TestDatabase, config: GhostConfig, rows: int) -> dict[str, Any]:
    """Run ``config`` in a child, SIGKILL it once a checkpoint says ``rows`` are copied;
    the checkpoint it left. The child's cut-over is postponed: on a fast machine the copy
    may end before the kill lands, and the run must still be there to resume."""
    flag = Path(config.serve_socket_file).with_name("postpone")
    flag.touch()
    config = dataclasses.replace(config, postpone_cut_over_flag_file=str(flag))
    child = start_engine_process(config)
    try:
        assert wait_for(
            lambda: checkpoint(db).get("rows_copied", 0) >= rows, timeout=90, interval=0.1
        ), "no checkpoint"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return checkpoint(db)


def slow_copy(db: TestDatabase, tmp_path: Path, **options: Any) -> GhostConfig:
    return helpers.slow_copy(db, tmp_path, ALTER, gtid=True, **options)


def test_migrate__gtid_under_mirrored_writes__matches_mirror(db: TestDatabase) -> None:
    seed(db, 3000, mirror="t_mirror", shape=SHAPE)
    writer = MirroredWriter(db, mirror="t_mirror", mix=NO_KEY_MOVES)
    writer.start()
    try:
        result = Migrator(make_config(db, "t", ALTER, gtid=True, chunk_size=200)).run()
    finally:
        writer.stop.set()
        writer.join()
    assert writer.failures == []
    assert result.checksum_verified and result.events_applied > 0
    assert_migrated_like_mirror(db, ALTER)


def test_resume__gtid_killed_after_checkpoint__resumes_from_gtid_matches_mirror(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 8000, mirror="t_mirror", shape=SHAPE)
    writer = MirroredWriter(db, mirror="t_mirror", mix=NO_KEY_MOVES)
    writer.start()
    try:
        saved = kill_after_checkpoint(db, slow_copy(db, tmp_path), 2000)
        # The checkpoint names the GTID position the server gives for its file and offset.
        file, _, pos = saved["position"].rpartition(":")
        assert saved["gtid"] == db.scalar("SELECT BINLOG_GTID_POS(%s, %s)", (file, int(pos)))
        time.sleep(0.5)  # changes keep arriving while nothing runs
        resumed = Migrator(
            dataclasses.replace(slow_copy(db, tmp_path), resume=True, nice_ratio=0.0)
        ).run()
    finally:
        writer.stop.set()
        writer.join()
    assert writer.failures == []
    assert resumed.checksum_verified
    assert resumed.rows_copied >= saved["rows_copied"]
    assert_migrated_like_mirror(db, ALTER)


def test_resume__gtid_checkpoint_without_gtid__refused_naming_remedy(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 8000, mirror=None, shape=SHAPE)
    kill_after_checkpoint(db, dataclasses.replace(slow_copy(db, tmp_path), gtid=False), 500)
    with pytest.raises(PreflightError, match="did not stream by GTID"):
        Migrator(dataclasses.replace(slow_copy(db, tmp_path), resume=True)).run()
    assert db.checksum("t", "id, v, w", order_by="id")[0] == 8000


def replica_caught_up(replica: TestServer, db: TestDatabase) -> None:
    """Wait until the replica has applied every GTID the primary has written."""
    target = db.scalar("SELECT @@GLOBAL.gtid_binlog_pos")
    conn = replica.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT MASTER_GTID_WAIT(%s, 60)", (target,))
        assert cur.fetchone()[0] == 0, f"the replica did not reach {target}"
    finally:
        conn.close()


@pytest.mark.replica
def test_resume__gtid_binlog_of_replica_after_run_on_primary__matches_mirror(
    replica_server: TestServer, db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 8000, mirror="t_mirror", shape=SHAPE)
    writer = MirroredWriter(db, mirror="t_mirror", mix=NO_KEY_MOVES)
    writer.start()
    try:
        saved = kill_after_checkpoint(db, slow_copy(db, tmp_path), 2000)
        replica_caught_up(replica_server, db)
        # Resumed reading the replica's binlog (log_slave_updates: the primary's GTIDs in
        # files and offsets of its own); the tables are still written on the primary.
        on_replica = dataclasses.replace(
            slow_copy(db, tmp_path),
            host=replica_server.host,
            port=replica_server.port,
            resume=True,
            nice_ratio=0.0,
        )
        migrator = Migrator(on_replica)
        resumed = migrator.run()
    finally:
        writer.stop.set()
        writer.join()
    assert migrator.ops.topology is not None and migrator.ops.topology.mode == "replica"
    assert writer.failures == []
    assert resumed.checksum_verified and resumed.rows_copied >= saved["rows_copied"]
    assert_migrated_like_mirror(db, ALTER)
