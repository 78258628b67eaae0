"""Streaming, checkpoints and resume by GTID (config ``gtid``) on the sandbox MariaDB.

The oracle is independent of the engine: the events a stream by file and offset reads,
the server's own ``BINLOG_GTID_POS``, and a mirror table every write also went to.
"""

from __future__ import annotations

from typing import Any

from django_ghost.engine.binlog.coordinates import current_position
from django_ghost.engine.binlog.events import BinlogPosition, TransactionEnd
from tests.integration.helpers import drain, open_stream, position, read_all, row_changes
from tests.plugins.mariadb import TestDatabase


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
    assert start.gtid == db.scalar(
        "SELECT BINLOG_GTID_POS(%s, %s)", (start.file, start.pos)
    )
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
