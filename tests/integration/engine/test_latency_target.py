"""The latency target (max_latency_millis) on a real server: a row lock held on the
table makes the probe's latency far exceed the target, the controller slows the copy
(smaller chunks, a pause) and status-json shows it; once the lock goes the migration
completes like the mirror. Without a target there is no probe at all."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django_ghost.engine.control.client import send
from django_ghost.engine.copy.copier import MIN_CHUNK
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN x INT"
CHUNK = 100


def probe_waits(db: TestDatabase) -> int:
    """Sessions running the probe's locking read (read from the process list: under load,
    information_schema.INNODB_TRX was seen listing only the lock holder)."""
    rows = db.query(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
        "WHERE DB = %s AND COMMAND = 'Query' AND ID <> CONNECTION_ID() "
        "AND INFO LIKE '%%LIMIT 1 FOR UPDATE%%'",
        (db.name,),
    )
    return int(rows[0][0])


def lock_first_row(db: TestDatabase) -> Any:
    """A session holding the row lock on the table's first key (the probed row)."""
    conn = db.connect()
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.execute("SELECT id FROM t WHERE id = 1 FOR UPDATE")
    return conn


def status(sock: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(send(sock, "status-json"))
    return data


def test_max_latency_millis__latency_exceeded__copy_paced_then_completes_like_mirror(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 3000)
    flag = tmp_path / "throttle"
    flag.touch()  # the copy waits until the controller has reacted
    sock = str(tmp_path / "ctl.sock")
    locker = lock_first_row(db)
    writer = MirroredWriter(db)
    writer.start()
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            chunk_size=CHUNK,
            max_latency_millis=50,
            throttle_flag_file=str(flag),
            serve_socket_file=sock,
        )
    )
    run.start()
    ctx = run.migrator.context
    try:
        # The probe waits on the held row lock: its samples are lock-wait timeouts.
        assert wait_for(lambda: probe_waits(db) > 0, timeout=30)
        assert wait_for(lambda: ctx.pacing.pause_seconds > 0, timeout=30)
        seen = status(sock)
        assert seen["latency_target_millis"] == 50
        assert seen["latency_p95_millis"] > 50
        assert MIN_CHUNK <= seen["pacing_chunk_size"] < CHUNK
        assert seen["pacing_pause_seconds"] > 0
        assert "Latency p95:" in send(sock, "status")
        flag.unlink()
        assert wait_for(lambda: ctx.chunks_copied >= 3, timeout=60)
        with ctx.lock:
            rows, chunks = ctx.rows_copied, ctx.chunks_copied
        # Every chunk was paced: at most half the configured size.
        assert rows <= chunks * CHUNK // 2
    finally:
        locker.rollback()
        locker.close()
        flag.unlink(missing_ok=True)
    run.join(timeout=300)
    writer.finish()
    assert run.error is None, run.error
    assert run.result.checksum_verified
    assert writer.failures == []
    assert_migrated_like_mirror(db, ALTER)


def test_max_latency_millis__off__no_probe_and_no_latency_status(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 1000)
    flag = tmp_path / "throttle"
    flag.touch()
    sock = str(tmp_path / "ctl.sock")
    locker = lock_first_row(db)
    run = Run(make_config(db, "t", ALTER, throttle_flag_file=str(flag), serve_socket_file=sock))
    run.start()
    ctx = run.migrator.context
    try:
        assert wait_for(lambda: ctx.throttle_reason is not None, timeout=30)
        assert wait_for(lambda: Path(sock).exists(), timeout=10)
        waits = []
        for _ in range(15):  # well over the probe's 50 ms interval
            waits.append(probe_waits(db))
            time.sleep(0.1)
        assert waits == [0] * 15
        seen = status(sock)
        assert seen["latency_target_millis"] == 0
        assert seen["latency_p95_millis"] is None
        assert "Latency" not in send(sock, "status")
    finally:
        locker.rollback()
        locker.close()
        flag.unlink(missing_ok=True)
    run.join(timeout=120)
    assert run.error is None, run.error
    assert ctx.pacing.chunk_factor == 1.0 and ctx.pacing.pause_seconds == 0.0
    assert_migrated_like_mirror(db, ALTER)


def test_max_latency_millis__probe__commits_a_changelog_row_each_time(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 1000)
    postpone = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            max_latency_millis=50,
            postpone_cut_over_flag_file=str(postpone),
        )
    )
    run.start()

    def probe_row() -> Any:
        if "_t_ghc" not in db.tables():
            return None
        rows = db.query("SELECT hint, last_update FROM _t_ghc WHERE id = 3")
        return rows[0] if rows else None

    try:
        assert wait_for(lambda: probe_row() is not None, timeout=60)
        first = probe_row()
        assert first[0] == "latency-probe"
        # Rewritten and committed by every probe: the commit's latency is measured too.
        assert wait_for(lambda: probe_row()[1] > first[1], timeout=10)
    finally:
        postpone.unlink(missing_ok=True)
    run.join(timeout=300)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, ALTER)
