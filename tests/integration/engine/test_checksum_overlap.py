"""The checksum beside the deferred index build (verify/checksum.py, copy/deferred.py):
the original's side is summed while the ghost is off limits, the ghost is read only once
the build has ended, and the snapshot taken before the build still reads the ghost after
it, as it was at the snapshot. And no chunk is compared while the migration is
throttled."""

from __future__ import annotations

import re
import threading
import time

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError, ChecksumMismatchError
from django_ghost.engine.metrics.registry import Registry
from django_ghost.engine.sql.alter import parse_alter
from django_ghost.engine.table.info import read_table
from django_ghost.engine.table.plan import plan_alter
from django_ghost.engine.verify.checksum import Checksum
from tests.integration.helpers import engine_conn, seed
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN x INT NOT NULL DEFAULT 3"
ROWS = 3000


def ghost_and_checksum(db: TestDatabase, context: MigrationContext | None = None) -> Checksum:
    """``t`` and its ghost ``_t_gho`` holding the same rows, and a checksum of the two
    in chunks of 100 rows, on two sessions of its own."""
    seed(db, ROWS, mirror=None)
    db.execute("CREATE TABLE _t_gho LIKE t")
    db.execute(f"ALTER TABLE _t_gho {ALTER}")
    db.execute("INSERT INTO _t_gho (id, v, w) SELECT id, v, w FROM t")
    conn = engine_conn(db)
    original, ghost = read_table(conn, db.name, "t"), read_table(conn, db.name, "_t_gho")
    assert original is not None and ghost is not None
    plan = plan_alter(original, ghost, parse_alter(ALTER), allow_nullable_unique_key=False)
    return Checksum(
        conn,
        plan,
        ghost_table="_t_gho",
        key=plan.shared_key,
        chunk_size=100,
        ghost_conn=engine_conn(db),
        context=context,
    )


def sessions_waiting_for_a_lock(db: TestDatabase, ids: tuple[int, int]) -> list[str]:
    rows = db.query("SELECT STATE FROM information_schema.PROCESSLIST WHERE ID IN (%s, %s)", ids)
    return [str(r[0]) for r in rows if r[0] and "lock" in str(r[0]).lower()]


def test_checksum__ghost_locked_until_ready__original_summed_ghost_not_read(
    db: TestDatabase,
) -> None:
    checksum = ghost_and_checksum(db)
    checksum.open_snapshot()
    ids = (int(checksum.conn.thread_id()), int(checksum.ghost_conn.thread_id()))
    blocker = db.connect()
    blocker.cursor().execute("LOCK TABLES _t_gho WRITE")
    ready, done = threading.Event(), threading.Event()
    thread = checksum.compare_in_thread(done.set, ready)
    try:
        assert wait_for(lambda: checksum.rows_compared == ROWS, timeout=30)
        time.sleep(0.3)  # a session that read the ghost would now wait for its lock
        assert not done.is_set()
        assert sessions_waiting_for_a_lock(db, ids) == []
    finally:
        blocker.cursor().execute("UNLOCK TABLES")
        blocker.close()
        ready.set()
        thread.join(timeout=30)
    assert done.is_set()
    assert checksum.error is None, checksum.error
    assert checksum.rows_compared == ROWS


@pytest.mark.parametrize("changed", ["after_the_snapshot", "before_the_snapshot"])
def test_checksum__ghost_indexed_while_compared__reads_the_snapshot(
    db: TestDatabase, changed: str
) -> None:
    checksum = ghost_and_checksum(db)
    change = "UPDATE _t_gho SET v = v + 1 WHERE id = 1500"
    if changed == "before_the_snapshot":
        db.execute(change)
    checksum.open_snapshot()
    if changed == "after_the_snapshot":
        db.execute(change)  # not in the snapshot: the ghost still equals the original there
    ready, done = threading.Event(), threading.Event()
    thread = checksum.compare_in_thread(done.set, ready)
    # The build the checksum runs beside: InnoDB refuses the older snapshot only on the
    # new index (error 1412), which the checksum never reads.
    db.execute("ALTER TABLE _t_gho ADD KEY v_1 (v), ALGORITHM=INPLACE, LOCK=NONE")
    ready.set()
    thread.join(timeout=30)
    assert done.is_set()
    if changed == "after_the_snapshot":
        assert checksum.error is None, checksum.error
        assert checksum.rows_compared == ROWS
        return
    assert isinstance(checksum.error, ChecksumMismatchError)
    found = re.search(r"key range \('(\d+)'\) \.\. \('(\d+)'\)", str(checksum.error))
    assert found, checksum.error
    assert int(found[1]) <= 1500 <= int(found[2])


def test_checksum__cancelled_while_the_ghost_is_off_limits__stops_and_releases_its_locks(
    db: TestDatabase,
) -> None:
    checksum = ghost_and_checksum(db)
    checksum.open_snapshot()
    ready, done = threading.Event(), threading.Event()
    thread = checksum.compare_in_thread(done.set, ready)
    assert wait_for(lambda: checksum.rows_compared == ROWS, timeout=30)
    checksum.cancel()
    thread.join(timeout=10)
    assert done.is_set()
    assert isinstance(checksum.error, AbortedError)
    # Rolled back: nothing of the snapshot's metadata locks is left to wait for.
    other = db.connect()
    try:
        other.cursor().execute("SET SESSION lock_wait_timeout = 2")
        other.cursor().execute("LOCK TABLES t WRITE, _t_gho WRITE")
        other.cursor().execute("UNLOCK TABLES")
    finally:
        other.close()


def test_checksum__throttled__no_chunk_until_the_throttle_lifts(db: TestDatabase) -> None:
    context = MigrationContext(GhostConfig(database="s", table="t"))
    registry = context.metrics = Registry()
    context.throttle_reason = "commanded by user"
    checksum = ghost_and_checksum(db, context)
    checksum.open_snapshot()
    done = threading.Event()
    thread = checksum.compare_in_thread(done.set)
    time.sleep(0.5)
    assert checksum.rows_compared == 0 and not done.is_set()
    context.throttle_reason = None
    thread.join(timeout=30)
    assert checksum.error is None, checksum.error
    assert checksum.rows_compared == ROWS
    # Both sessions waited, and each wait was recorded once it ended.
    throttle_waits = [
        series.count
        for series in registry.series()
        if series.name == "sleep.duration_milliseconds"
        and series.labels == (("stage", "checksum_throttle"),)
    ]
    assert throttle_waits == [2]
