"""Checkpoint and resume: a run killed with SIGKILL is continued by a second run."""

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

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import NO_KEY_MOVES, REPO, MirroredWriter, Shape, make_config, seed
from tests.plugins.mariadb import TestDatabase, wait_for

RUNNER = """
import json, sys
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.migrator import Migrator
Migrator(GhostConfig(**json.loads(sys.argv[1]))).run()
"""


SHAPE = Shape("id INT PRIMARY KEY, v INT, w VARCHAR(10)", "SELECT seq, seq, 'x'")


def start_engine_process(config: GhostConfig) -> subprocess.Popen[bytes]:
    """The migration in a child process, so the test can SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(dataclasses.asdict(config))], env=env
    )


def checkpoint(db: TestDatabase) -> dict[str, Any] | None:
    try:
        rows = db.query("SELECT value FROM _t_ghc WHERE hint = 'checkpoint'")
    except Exception:  # noqa: BLE001 - the table may not exist yet
        return None
    return json.loads(rows[0][0]) if rows else None


def kill_when(process: subprocess.Popen[bytes], predicate: Any, timeout: float = 90) -> None:
    assert wait_for(predicate, timeout=timeout, interval=0.1), "condition never met"
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_resume__killed_mid_copy__ends_identical(
    db: TestDatabase, tmp_path: Path, fraction: float
) -> None:
    seed(db, 20000, mirror="m", shape=SHAPE)
    config = make_config(
        db,
        "t",
        "ADD COLUMN extra INT NOT NULL DEFAULT 5",
        # 200 chunks, each followed by a sleep of 10x its time: seconds of copy at least,
        # so the 1 s checkpoints catch it mid-way on any machine; the postponed cut-over
        # keeps a kill that lands after the last chunk before the swap.
        chunk_size=100,
        nice_ratio=10.0,
        checkpoint_seconds=1,
        serve_socket_file=str(tmp_path / "s.sock"),
        postpone_cut_over_flag_file=str(tmp_path / "postpone"),
    )
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    first = start_engine_process(config)
    kill_when(first, lambda: (checkpoint(db) or {}).get("rows_copied", 0) >= 20000 * fraction)
    assert "_t_gho" in db.tables() and "_t_ghc" in db.tables()
    saved = checkpoint(db)
    assert saved is not None and saved["rows_copied"] >= 20000 * fraction
    time.sleep(0.5)  # changes keep arriving while nothing runs
    resumed = Migrator(
        dataclasses.replace(config, resume=True, postpone_cut_over_flag_file="")
    ).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    assert resumed.checksum_verified
    assert resumed.rows_copied >= saved["rows_copied"]
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )
    assert db.scalar("SELECT COUNT(*) FROM t WHERE extra <> 5") == 0


def test_resume__killed_while_postponed__ends_identical(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 20000, mirror="m", shape=SHAPE)
    flag = tmp_path / "postpone"
    config = make_config(
        db,
        "t",
        "ADD COLUMN extra INT",
        chunk_size=2000,
        checkpoint_seconds=1,
        postpone_cut_over_flag_file=str(flag),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    first = start_engine_process(config)
    kill_when(first, lambda: (checkpoint(db) or {}).get("copy_done", False))
    time.sleep(1.5)
    flag.unlink()
    Migrator(dataclasses.replace(config, resume=True)).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )


def test_resume__different_alter__refused(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 20000, mirror=None, shape=SHAPE)
    config = make_config(
        db,
        "t",
        "ADD COLUMN extra INT",
        chunk_size=100,
        nice_ratio=10.0,
        checkpoint_seconds=1,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    first = start_engine_process(config)
    kill_when(first, lambda: checkpoint(db) is not None)
    other = dataclasses.replace(config, alter="ADD COLUMN other INT", resume=True)
    with pytest.raises(PreflightError, match="different ALTER"):
        Migrator(other).run()
    assert "_t_gho" in db.tables()  # a refused resume leaves the earlier run's tables


def test_resume__nothing_to_resume__refused(db: TestDatabase) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    config: GhostConfig = make_config(db, "t", "ADD COLUMN x INT", resume=True)
    with pytest.raises(PreflightError, match="Cannot resume"):
        Migrator(config).run()


def test_kill__between_lock_and_rename__original_intact_and_rerun_identical(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 20000, mirror="m", shape=SHAPE)
    config = make_config(
        db,
        "t",
        "ADD COLUMN extra INT",
        chunk_size=2000,
        checkpoint_seconds=1,
        cut_over_lock_timeout_seconds=3,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    admin = db.connect()
    # A reader of the ghost holds the RENAME after the lock is taken, widening the window
    # between LOCK TABLES and the swap so the kill lands inside it.
    holder = db.connect(autocommit=False)

    def rename_waiting() -> bool:
        cur = admin.cursor()
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = '_t_gho'",
            (db.name,),
        )
        if cur.fetchone()[0] and not getattr(holder, "holding", False):
            holder.cursor().execute("SELECT 1 FROM _t_gho LIMIT 1")
            holder.holding = True
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE INFO LIKE 'RENAME TABLE%%' AND DB = %s",
            (db.name,),
        )
        return bool(cur.fetchone()[0])

    first = start_engine_process(config)
    kill_when(first, rename_waiting, timeout=120)
    holder.rollback()
    time.sleep(0.5)
    # Never missing, writable again; swapped only if the final apply was complete.
    assert db.scalar("SELECT COUNT(*) FROM t") > 0
    db.execute("UPDATE t SET v = v WHERE id = 1")
    if "`extra` int" not in db.show_create("t"):
        Migrator(dataclasses.replace(config, resume=True)).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    assert "`extra` int" in db.show_create("t")
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )
