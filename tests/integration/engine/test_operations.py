"""Operating a running migration: throttle, live knobs, postpone, panic, hooks, locks."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.control.client import send
from django_ghost.engine.errors import AbortedError, GhostError, PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    AUTO_INCREMENT,
    AUTO_INCREMENT_MIX,
    MirroredWriter,
    Run,
    Shape,
    assert_migrated_like_mirror,
    assert_same_rows,
    make_config,
    same_definition,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for


def test_throttle_flag_file__present__nothing_copied_or_applied_until_removed(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, shape=AUTO_INCREMENT)
    flag = tmp_path / "throttle"
    flag.touch()
    writer = MirroredWriter(db, mix=AUTO_INCREMENT_MIX)
    writer.start()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            throttle_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(lambda: ctx.throttle_reason is not None, timeout=10)
    copied, applied = ctx.rows_copied, ctx.events_applied
    time.sleep(3)
    assert (ctx.rows_copied, ctx.events_applied) == (copied, applied)
    assert "flag-file" in (ctx.throttle_reason or "")
    assert writer.writes > 0
    flag.unlink()
    run.join(timeout=120)
    writer.stop.set()
    writer.join()
    assert run.error is None, run.error
    assert run.result.checksum_verified
    assert run.result.rows_copied > copied
    assert writer.failures == []
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_control_socket__chunk_size_set__next_chunks_use_it(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 20000, shape=AUTO_INCREMENT)
    flag = tmp_path / "throttle"
    flag.touch()
    sock = str(tmp_path / "ctl.sock")
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            chunk_size=10,
            throttle_flag_file=str(flag),
            serve_socket_file=sock,
        )
    )
    run.start()
    assert wait_for(lambda: os.path.exists(sock), timeout=10)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    assert "ok" in send(sock, "chunk-size=500")
    assert send(sock, "chunk-size=?").strip().endswith("500")
    assert "error" in send(sock, "chunk-size=banana")
    assert "error" in send(sock, "no-such-command")
    ctx = run.migrator.context
    before = ctx.chunks_copied
    flag.unlink()
    run.join(timeout=120)
    assert run.error is None, run.error
    # 20000 rows in 500-row chunks: about 40 chunks, not the 2000 of 10-row chunks.
    assert ctx.chunks_copied - before <= 45
    assert run.result.rows_copied == 20000
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_postpone_flag__copy_done__waits_until_unpostpone(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, shape=AUTO_INCREMENT)
    flag = tmp_path / "postpone"
    sock = str(tmp_path / "ctl.sock")
    writer = MirroredWriter(db, mix=AUTO_INCREMENT_MIX)
    writer.start()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=sock,
        )
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(run.postponed, timeout=60)
    applied = ctx.events_applied
    time.sleep(1.5)
    assert run.is_alive() and "_t_gho" in db.tables()
    assert ctx.events_applied > applied  # changes keep being applied while waiting
    assert "postponed" in send(sock, "status-json")
    send(sock, "unpostpone")
    run.join(timeout=120)
    writer.stop.set()
    writer.join()
    assert run.error is None, run.error
    assert "`x` int" in db.show_create("t")
    assert writer.failures == []
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_panic_flag__touched__aborts_and_keeps_original(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, mirror=None, shape=AUTO_INCREMENT)
    before = db.checksum("t", order_by="id")
    flag = tmp_path / "panic"
    throttle = tmp_path / "throttle"
    throttle.touch()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            panic_flag_file=str(flag),
            throttle_flag_file=str(throttle),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    assert wait_for(lambda: run.migrator.context.throttle_reason is not None, timeout=10)
    flag.touch()
    run.join(timeout=30)
    assert isinstance(run.error, AbortedError)
    assert db.checksum("t", order_by="id") == before
    assert db.tables() == ["t"]


def test_hooks__every_step__fire_in_order_with_env(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 200, shape=AUTO_INCREMENT)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    log = tmp_path / "log"
    for event in (
        "startup",
        "validated",
        "before-row-copy",
        "row-copy-complete",
        "before-cut-over",
        "success",
    ):
        script = hooks / f"ghost-on-{event}"
        script.write_text(
            f'#!/bin/sh\necho "{event} $GHOST_TABLE_NAME $GHOST_DATABASE_NAME" '
            f">> {log}\nenv >> {log}.env\n"
        )
        script.chmod(0o755)
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        hooks_path=str(hooks),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    Migrator(config).run()
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [
        "startup",
        "validated",
        "before-row-copy",
        "row-copy-complete",
        "before-cut-over",
        "success",
    ]
    assert all(line.split()[1:] == ["t", db.name] for line in lines)
    env = (tmp_path / "log.env").read_text()
    assert "GH_OST_TABLE_NAME=t" in env
    assert db.server.password not in env
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_hooks__validated_fails__aborts_before_copy(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 200, mirror=None, shape=AUTO_INCREMENT)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    script = hooks / "ghost-on-validated"
    script.write_text("#!/bin/sh\necho no way >&2\nexit 3\n")
    script.chmod(0o755)
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        hooks_path=str(hooks),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    with pytest.raises(GhostError, match="no way"):
        Migrator(config).run()
    assert db.tables() == ["t"]


def test_migration_lock__same_table_twice__second_refused(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, shape=AUTO_INCREMENT)
    flag = tmp_path / "postpone"
    first = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "a.sock"),
        )
    )
    first.start()
    assert wait_for(first.postponed, timeout=60)
    with pytest.raises(PreflightError, match="Another migration .* is running"):
        Migrator(
            make_config(db, "t", "ADD COLUMN y INT", serve_socket_file=str(tmp_path / "b.sock"))
        ).run()
    flag.unlink()
    first.join(timeout=60)
    assert first.error is None, first.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_cut_over__long_transaction__retries_then_succeeds(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, shape=AUTO_INCREMENT)
    holder = db.connect(autocommit=False)
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            cut_over_lock_timeout_seconds=1,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    cur = holder.cursor()
    cur.execute("SELECT * FROM t WHERE id = 5 FOR UPDATE")  # holds a metadata lock on t
    flag.unlink()
    assert wait_for(lambda: run.migrator.context.cut_over_attempts >= 2, timeout=60)
    probe = db.connect()
    started = time.monotonic()
    probe.cursor().execute("UPDATE t SET v = v WHERE id = 1")  # app writes still go through
    assert time.monotonic() - started < 5
    assert db.scalar("SELECT COUNT(*) FROM t") == 3000  # the table is never missing
    holder.rollback()
    run.join(timeout=60)
    assert run.error is None, run.error
    assert run.result.cut_over_attempts >= 2
    assert "`x` int" in db.show_create("t")
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_cut_over__lock_session_killed__original_intact(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, shape=AUTO_INCREMENT)
    killer_done = threading.Event()
    killed: list[int] = []
    admin = db.connect()
    # A transaction holding a row of t keeps the attempt's LOCK TABLES waiting (up to
    # 2 x cut_over_lock_timeout_seconds), so the killer cannot miss the lock session: the
    # attempt's own work under the lock takes milliseconds. Released after the kill.
    blocker = db.connect(autocommit=False)
    blocker.cursor().execute("SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE")

    def kill_lock_session() -> None:
        # The lock session is the one waiting on or holding LOCK TABLES on t.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killer_done.is_set():
            cur = admin.cursor()
            # A sentry under the swap name exists only while an attempt holds its lock.
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 't~d'",
                (db.name,),
            )
            row = cur.fetchone()
            if row[0]:
                # The lock session holds the liveness lock named after its own id.
                cur.execute(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE "
                    "IS_USED_LOCK(CONCAT('django-ghost.cutover.', ID)) = ID"
                )
                for (pid,) in cur.fetchall():
                    cur.execute(f"KILL {int(pid)}")
                    killed.append(int(pid))
                blocker.rollback()
                killer_done.set()
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_lock_session, daemon=True)
    killer.start()
    # No checksum: its short read lock on t would wait for the blocker as well.
    config = make_config(
        db, "t", "ADD COLUMN x INT", checksum=False, serve_socket_file=str(tmp_path / "s.sock")
    )
    with contextlib.suppress(GhostError):
        Migrator(config).run()
    killer_done.set()
    killer.join()
    blocker.rollback()
    # Whatever happened to that attempt, t exists, holds every row and is writable.
    assert killed, "the lock session was never seen"
    assert db.scalar("SELECT COUNT(*) FROM t") == 3000
    # Either the attempt failed and a retry swapped the tables, or nothing was swapped.
    swapped = "`x` int" in db.show_create("t")
    assert swapped == ("_t_del" in db.tables())
    if swapped:
        assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    else:
        assert same_definition(db, "t", "t_mirror")
        assert_same_rows(db, "t", "t_mirror")
    db.execute("INSERT INTO t (v, w) VALUES (1, 'after')")


def test_concurrent_migrations__two_tables__both_complete(db: TestDatabase, tmp_path: Path) -> None:
    shape = Shape("id INT AUTO_INCREMENT PRIMARY KEY, v INT, w INT", "(v, w) SELECT seq, seq")
    for table in ("a", "b"):
        seed(db, 5000, table, shape=shape)
    writers = [MirroredWriter(db, t, mix=AUTO_INCREMENT_MIX) for t in ("a", "b")]
    for w in writers:
        w.start()
    runs = [
        Run(make_config(db, t, "ADD COLUMN x INT", serve_socket_file=str(tmp_path / f"{t}.s")))
        for t in ("a", "b")
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    for w in writers:
        w.stop.set()
        w.join()
    assert [run.error for run in runs] == [None, None]
    assert all(run.result.checksum_verified for run in runs)
    assert all(w.failures == [] for w in writers)
    assert "`x` int" in db.show_create("a") and "`x` int" in db.show_create("b")
    for table in ("a", "b"):
        assert_migrated_like_mirror(db, "ADD COLUMN x INT", table)


def test_exact_rowcount__counted_concurrently__estimate_is_exact(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 5000, shape=AUTO_INCREMENT)
    for table in ("t", "t_mirror"):
        db.execute(f"DELETE FROM {table} WHERE id % 3 = 0")  # the statistics estimate drifts
    snapshots: list[Any] = []
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        exact_rowcount=True,
        chunk_size=100,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    Migrator(config, on_progress=snapshots.append).run()
    copying = [s for s in snapshots if s.phase == "copying"]
    assert copying and copying[-1].rows_estimate == 3334
    assert all(0 <= s.percent <= 100 for s in snapshots)
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
