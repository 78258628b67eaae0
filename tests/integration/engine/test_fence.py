"""The visibility fence against the sandbox (apply/fence.py): a position already
committed returns at the first read, one past the binlog waits (with backoff, bounded,
abortable), and a position in the next binlog file is reached once the log rotates."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from django_ghost.engine.apply.fence import (
    MAX_BACKOFF,
    SnapshotProbe,
    VisibilityFence,
    VisibilityFenceTimeout,
    probe_for,
)
from django_ghost.engine.binlog.coordinates import current_position
from django_ghost.engine.binlog.events import BinlogPosition
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError
from django_ghost.engine.mysql.server import read_server_facts


class Fence:
    """A fence on its own session of the test database, recording its sleeps."""

    def __init__(self, db: Any, *, same_server: bool = True):
        self.conn = db.connect()
        self.sleeps: list[float] = []
        self.context = MigrationContext(GhostConfig(database=db.name, table="t", alter="FORCE"))
        probe = probe_for(read_server_facts(self.conn), same_server=same_server)
        self.fence = VisibilityFence(self.conn, probe, self.context, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def fence(db: Any) -> Any:
    made = Fence(db)
    yield made
    made.close()


def test_fence__committed_write__returns_at_the_first_read_and_the_row_is_visible(
    db: Any, fence: Fence
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1)")
    end = current_position(fence.conn)

    fence.fence.wait(end)

    assert fence.sleeps == []
    assert fence.fence.waits == 1
    reader = db.connect()
    try:
        cur = reader.cursor()
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone()[0] == 1
    finally:
        reader.close()


def test_fence__position_past_the_binlog_end__waits_then_times_out_naming_the_cause(
    fence: Fence,
) -> None:
    end = current_position(fence.conn)
    beyond = BinlogPosition(end.file, end.pos + 10**9)
    fence.fence.timeout = 0.5

    with pytest.raises(VisibilityFenceTimeout) as raised:
        fence.fence.wait(beyond)

    assert str(beyond) in str(raised.value)
    assert "original table is untouched" in str(raised.value)
    assert len(fence.sleeps) > 3
    assert max(fence.sleeps) <= MAX_BACKOFF


def test_fence__aborted_while_waiting__stops_with_the_abort_reason(fence: Fence) -> None:
    end = current_position(fence.conn)
    timer = threading.Timer(0.2, fence.context.request_abort, ("panic requested",))
    timer.start()
    try:
        with pytest.raises(AbortedError, match="panic requested"):
            fence.fence.wait(BinlogPosition(end.file, end.pos + 10**9))
    finally:
        timer.cancel()


def test_fence__position_in_the_next_binlog_file__reached_once_the_log_rotates(
    db: Any, fence: Fence
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    end = current_position(fence.conn)
    stem, _, number = end.file.rpartition(".")
    next_file = BinlogPosition(f"{stem}.{int(number) + 1:0{len(number)}d}", 4)

    def rotate_and_write() -> None:
        db.execute("FLUSH BINARY LOGS")
        db.execute("INSERT INTO t VALUES (1)")

    timer = threading.Timer(0.2, rotate_and_write)
    timer.start()
    try:
        fence.fence.wait(next_file)
    finally:
        timer.join()

    assert fence.sleeps  # it did wait for the rotation
    assert current_position(fence.conn).file == next_file.file


def test_fence__binlog_read_elsewhere__waits_for_this_servers_binlog_end(db: Any) -> None:
    fence = Fence(db, same_server=False)
    try:
        assert isinstance(fence.fence.probe, SnapshotProbe)
        db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        db.execute("INSERT INTO t VALUES (1)")

        # A replica's coordinates: meaningless here, the primary's binlog end is the target.
        fence.fence.wait(BinlogPosition("replica-bin.000042", 123_456))

        assert fence.sleeps == []
        assert fence.fence.probe.covers(BinlogPosition("replica-bin.000042", 100))
    finally:
        fence.close()
