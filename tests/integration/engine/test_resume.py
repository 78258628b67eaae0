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

import MySQLdb
import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import connect
from tests.integration.helpers import (
    NO_KEY_MOVES,
    REPO,
    MirroredWriter,
    Run,
    Shape,
    make_config,
    seed,
    slow_copy,
)
from tests.plugins.mariadb import TestDatabase, wait_for

RUNNER = """
import json, sys
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import connect
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
    # The postponed cut-over keeps a kill that lands after the last chunk before the swap.
    config = slow_copy(
        db,
        tmp_path,
        "ADD COLUMN extra INT NOT NULL DEFAULT 5",
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
    config = slow_copy(db, tmp_path, "ADD COLUMN extra INT")
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
        # Only once the ghost is ALTERed (the table has no secondary index, so no later DDL
        # runs on the ghost before the RENAME): a read taken between its CREATE and its
        # ALTER would hold the ALTER, and the test, forever.
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = '_t_gho' AND COLUMN_NAME = 'extra'",
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


def any_checkpoint(db: TestDatabase) -> dict[str, Any] | None:
    """The checkpoint of whichever changelog of ``t`` holds one (its name may carry a
    timestamp)."""
    for (name,) in db.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '%%ghc'"
    ):
        rows = db.query(f"SELECT value FROM `{name}` WHERE hint = 'checkpoint'")
        if rows:
            return dict(json.loads(rows[0][0]))
    return None


@pytest.mark.parametrize(
    "templates",
    [
        {"ghost_table_template": "_{table}_{timestamp}_gho"},
        {
            "ghost_table_template": "~{table}_{timestamp}_gho",
            "changelog_table_template": "~{table}_{timestamp}_ghc",
            "old_table_template": "~{table}_{timestamp}_del",
        },
    ],
    ids=["ghost", "all"],
)
def test_resume__timestamp_templates_killed_mid_copy__ends_identical(
    db: TestDatabase, tmp_path: Path, templates: dict[str, str]
) -> None:
    seed(db, 20000, mirror="m", shape=SHAPE)
    config = slow_copy(
        db,
        tmp_path,
        "ADD COLUMN extra INT NOT NULL DEFAULT 5",
        postpone_cut_over_flag_file=str(tmp_path / "postpone"),
        **templates,
    )
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    first = start_engine_process(config)
    kill_when(first, lambda: (any_checkpoint(db) or {}).get("rows_copied", 0) >= 5000)
    time.sleep(1.1)  # the resumed run renders another timestamp
    resumed = Migrator(
        dataclasses.replace(config, resume=True, postpone_cut_over_flag_file="")
    ).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    assert resumed.rows_copied >= 5000
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )
    assert db.scalar("SELECT COUNT(*) FROM t WHERE extra <> 5") == 0
    left = [n for n in db.tables() if n not in ("t", "m", "_ghost_revert")]
    assert left == [resumed.old_table]  # the ghost and the changelog are gone


class WriterRecorder:
    """A connect function that remembers the writer sessions it opened."""

    def __init__(self) -> None:
        self.writers: list[Any] = []

    def connect(self, spec: Any, **kwargs: Any) -> Any:
        conn = connect(spec, **kwargs)
        if kwargs.get("isolation") == "READ COMMITTED":  # the writer reads so
            self.writers.append(conn)
        return conn

    def last_writer_id(self) -> int:
        deadline = time.monotonic() + 10
        while True:
            try:  # MySQLdb refuses while another thread's statement runs
                return int(self.writers[-1].thread_id())
            except MySQLdb.ProgrammingError:
                assert time.monotonic() < deadline
                time.sleep(0.001)


def test_auto_resume__timestamp_templates_writer_killed__ends_identical(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 20000, mirror="m", shape=SHAPE)
    recorder = WriterRecorder()
    run = Run(
        slow_copy(
            db,
            tmp_path,
            "ADD COLUMN extra INT",
            ghost_table_template="_{table}_{timestamp}_gho",
            changelog_table_template="_{table}_{timestamp}_ghc",
        ),
        connect_fn=recorder.connect,
    )
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    run.start()
    assert wait_for(lambda: run.migrator.context.rows_copied >= 2000, timeout=60)
    time.sleep(1.1)  # a checkpoint is saved; a new run would render another timestamp
    assert not run.migrator.context.copy_finished_at, "the copy ended before the kill"
    # The lost connection makes the run resume by itself, from its checkpoint.
    db.execute(f"KILL {recorder.last_writer_id()}")
    run.join(timeout=120)
    writer.stop.set()
    writer.join()
    assert not run.is_alive()
    assert run.error is None, run.error
    assert writer.failures == []
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )
    assert [n for n in db.tables() if n.endswith(("_gho", "_ghc"))] == []


class ProcesslistProbe:
    """Hooks that, when the resumed run has validated its plan (before it writes to the
    ghost), note whether any of ``ids`` is still on the server, then let ``release``
    free what the old session waited for."""

    def __init__(self, db: TestDatabase, ids: list[int], release: Any):
        self.db = db
        self.ids = ids
        self.release = release
        self.still_there: list[int] | None = None

    def fire(self, event: str, extra_env: Any = None) -> None:
        if event != "validated":
            return
        conn = self.db.connect()
        try:
            cur = conn.cursor()
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST")
            alive = {int(row[0]) for row in cur.fetchall()}
        finally:
            conn.close()
        self.still_there = sorted(alive & set(self.ids))
        self.release()


def test_resume__killed_while_a_statement_waits__old_session_ended_before_writes(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 2000, mirror="m", shape=SHAPE)
    flag = tmp_path / "postpone"
    config = make_config(
        db,
        "t",
        "ADD COLUMN extra INT",
        chunk_size=500,
        checkpoint_seconds=1,
        postpone_cut_over_flag_file=str(flag),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    first = start_engine_process(config)
    assert wait_for(lambda: (checkpoint(db) or {}).get("copy_done"), timeout=90)
    # The killed run's writer will be inside a statement on the server: waiting for a
    # row of the ghost this session locks, to apply a change of that row.
    holder = db.connect(autocommit=False)
    holder_cur = holder.cursor()
    holder_cur.execute("SELECT CONNECTION_ID()")
    holder_id = int(holder_cur.fetchone()[0])
    holder_cur.execute("SELECT * FROM _t_gho WHERE id = 5 FOR UPDATE")
    for table in ("t", "m"):
        db.execute(f"UPDATE {table} SET v = v + 1 WHERE id = 5")

    def waiting_on_ghost() -> list[int]:
        return [
            int(row[0])
            for row in db.query(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' "
                "AND INFO LIKE '%%_t_gho%%' AND ID NOT IN (%s, CONNECTION_ID())",
                (holder_id,),
            )
        ]

    blocked = wait_for(waiting_on_ghost, timeout=30)
    assert blocked, "the engine's writer never waited on the locked ghost row"
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert set(blocked) <= set(waiting_on_ghost())  # the server still runs it
    flag.unlink()
    probe = ProcesslistProbe(db, blocked, holder.rollback)
    try:
        Migrator(dataclasses.replace(config, resume=True), hooks=probe).run()
    finally:
        holder.rollback()
        holder.close()
    assert probe.still_there == []
    assert "`extra` int" in db.show_create("t")
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "m", "id, v, w", order_by="id"
    )
