"""Leftovers of killed migrations: listed, dropped on request, never the original, never
while a migration runs; a SIGKILLed engine leaves the original complete and writable."""

from __future__ import annotations

import io
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from django_ghost.cli.main import main
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.sql.names import SENTRY_COMMENT, migration_lock_name, table_names
from django_ghost.engine.state.cleanup import drop_leftovers, running_migration
from django_ghost.engine.state.leftovers import find_leftovers
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    assert_migrated_like_mirror,
    copy_as_mirror,
    engine_conn,
    helper_tables,
    make_config,
    rows_md5,
    run_cli,
    seed,
    spawn_cli,
)
from tests.plugins.mariadb import TestDatabase, wait_for


def leave_helpers(db: TestDatabase, table: str = "t", *, sentry: bool = False) -> None:
    names = table_names(table)
    db.execute(f"CREATE TABLE `{names.ghost}` LIKE `{table}`")
    db.execute(f"INSERT INTO `{names.ghost}` SELECT * FROM `{table}` LIMIT 10")
    db.execute(f"CREATE TABLE `{names.changelog}` (id INT PRIMARY KEY)")
    if sentry:
        db.execute(f"CREATE TABLE `{names.old}` (id INT PRIMARY KEY) COMMENT='{SENTRY_COMMENT}'")
    else:
        db.execute(f"CREATE TABLE `{names.old}` LIKE `{table}`")
        db.execute(f"INSERT INTO `{names.old}` SELECT * FROM `{table}`")


def stale_socket(directory: Path, database: str, table: str) -> str:
    path = str(directory / f"django-ghost.{database}.{table}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()  # the file stays, nobody listens: stale
    return path


def test_cleanup__helper_tables_and_stale_socket__listed_with_owner_kind_age_size(
    db: TestDatabase, sock_dir: Path
) -> None:
    seed(db, 200)
    leave_helpers(db)
    long_name = "L" * 64
    db.execute(f"CREATE TABLE `{long_name}` (id INT PRIMARY KEY)")
    long_ghost = table_names(long_name).ghost
    db.execute(f"CREATE TABLE `{long_ghost}` (id INT PRIMARY KEY)")
    path = stale_socket(sock_dir, db.name, "t")
    conn = engine_conn(db)
    try:
        found = find_leftovers(conn, db.name, socket_glob_dir=str(sock_dir))
    finally:
        conn.close()
    by_name = {item.name: item for item in found}
    assert {by_name[n].kind for n in ("_t_gho", "_t_ghc", "_t_del")} == {
        "ghost",
        "changelog",
        "old",
    }
    assert all(by_name[n].table == "t" for n in ("_t_gho", "_t_ghc", "_t_del"))
    assert by_name[long_ghost].table == long_name and len(long_ghost) <= 64
    assert by_name["_t_del"].size_bytes and by_name["_t_del"].size_bytes > 0
    assert by_name["_t_gho"].age_seconds is not None and by_name["_t_gho"].age_seconds >= 0
    assert by_name[path].kind == "socket" and by_name[path].table == "t"
    assert "t" not in by_name and "t_mirror" not in by_name and long_name not in by_name


def test_cleanup__drop_without_drop_old__ghost_changelog_sentry_socket_gone_old_kept(
    db: TestDatabase, sock_dir: Path
) -> None:
    seed(db, 200)
    leave_helpers(db)
    before = rows_md5(db, "t")
    path = stale_socket(sock_dir, db.name, "t")
    conn = engine_conn(db)
    try:
        removed = drop_leftovers(conn, db.name, "t", drop_old=False, socket_glob_dir=str(sock_dir))
        assert sorted(r.name for r in removed) == sorted(["_t_gho", "_t_ghc", path])
        assert helper_tables(db) == ["_t_del"] and not os.path.exists(path)
        removed = drop_leftovers(conn, db.name, "t", drop_old=True, socket_glob_dir=str(sock_dir))
        assert [r.name for r in removed] == ["_t_del"]
    finally:
        conn.close()
    assert sorted(db.tables()) == ["t", "t_mirror"]
    assert rows_md5(db, "t") == before


def test_cleanup__sentry_left_by_cut_over__dropped_without_drop_old(db: TestDatabase) -> None:
    seed(db, 50)
    leave_helpers(db, sentry=True)
    conn = engine_conn(db)
    try:
        removed = drop_leftovers(conn, db.name, "t", drop_old=False)
    finally:
        conn.close()
    assert {r.kind for r in removed} == {"ghost", "changelog", "sentry"}
    assert sorted(db.tables()) == ["t", "t_mirror"]


def test_cleanup__table_named_like_a_helper__original_never_dropped(db: TestDatabase) -> None:
    # "_x_gho" is itself the table being cleaned: it must survive, its own helpers go.
    db.execute("CREATE TABLE `_x_gho` (id INT PRIMARY KEY)")
    db.execute("INSERT INTO `_x_gho` VALUES (1)")
    db.execute("CREATE TABLE `__x_gho_gho` (id INT PRIMARY KEY)")
    conn = engine_conn(db)
    try:
        removed = drop_leftovers(conn, db.name, "_x_gho", drop_old=True)
    finally:
        conn.close()
    assert [r.name for r in removed] == ["__x_gho_gho"]
    assert db.tables() == ["_x_gho"] and db.scalar("SELECT COUNT(*) FROM `_x_gho`") == 1


def test_cleanup__migration_running__refused_and_nothing_dropped(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 2000)
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    conn = engine_conn(db)
    try:
        assert running_migration(conn, db.name, "t") is not None
        with pytest.raises(PreflightError, match="is running .* Stop it"):
            drop_leftovers(conn, db.name, "t", drop_old=True)
    finally:
        conn.close()
    assert {"_t_gho", "_t_ghc"} <= set(db.tables())
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--yes")
    assert code == 1 and "is running" in err
    assert {"_t_gho", "_t_ghc"} <= set(db.tables())
    flag.unlink()
    run.join(timeout=60)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    conn = engine_conn(db)
    try:
        assert running_migration(conn, db.name, "t") is None
    finally:
        conn.close()


def test_cleanup__lock_name__same_as_the_migrators(db: TestDatabase, tmp_path: Path) -> None:
    long_name = "m" * 64
    db.execute(f"CREATE TABLE `{long_name}` (id INT PRIMARY KEY, v INT)")
    db.execute(f"INSERT INTO `{long_name}` SELECT seq, seq FROM seq_1_to_500")
    mirror = copy_as_mirror(db, long_name, "mirror")
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            long_name,
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    holder = db.scalar("SELECT IS_USED_LOCK(%s)", (migration_lock_name(db.name, long_name),))
    flag.unlink()
    run.join(timeout=60)
    assert holder is not None
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT", long_name, mirror)


def test_cli_cleanup__list_then_drop_with_yes__helpers_gone(db: TestDatabase) -> None:
    seed(db, 100)
    leave_helpers(db)
    code, out, err = run_cli(db, "--cleanup")
    assert code == 0, err
    assert "_t_gho" in out and "ghost" in out and "_t_del" in out and "Give --table" in out
    assert len(helper_tables(db)) == 3
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--yes")
    assert code == 0, err
    assert "Dropped: " in out and helper_tables(db) == ["_t_del"]
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--drop-old", "--yes")
    assert code == 0, err
    assert helper_tables(db) == []
    code, out, err = run_cli(db, "--cleanup")
    assert code == 0 and "No leftovers" in out


def test_cli_cleanup__confirmation_declined__nothing_dropped(db: TestDatabase) -> None:
    seed(db, 100)
    leave_helpers(db)
    s = db.server
    out, err = io.StringIO(), io.StringIO()
    asked: list[str] = []
    code = main(
        [f"--host={s.host}", f"--port={s.port}", f"--user={s.user}", f"--database={db.name}"]
        + ["--table=t", "--cleanup"],
        environ={"GHOST_PASSWORD": s.password},
        stdout=out,
        stderr=err,
        confirm=lambda prompt: asked.append(prompt) or "n",
    )
    assert code == 1
    assert asked and "_t_gho" in asked[0] and "_t_del" not in asked[0]
    assert len(helper_tables(db)) == 3


@pytest.mark.parametrize("stage", ["copy_50", "postponed"])
def test_sigkill_engine__mid_run__original_intact_cleanup_then_fresh_run_identical(
    db: TestDatabase, tmp_path: Path, stage: str
) -> None:
    seed(db, 3000)
    writer = MirroredWriter(db)
    writer.start()
    flags = [
        "--table=t",
        "--alter=ADD COLUMN x INT NOT NULL DEFAULT 3",
        "--execute",
        f"--serve-socket-file={tmp_path / 'a.sock'}",
        "--chunk-size=50",
    ]
    if stage == "postponed":
        flags.append(f"--postpone-cut-over-flag-file={tmp_path / 'postpone'}")
    else:
        flags.append("--nice-ratio=3")
    proc = spawn_cli(db, *flags)

    def reached() -> bool:
        tables = db.tables()
        if "_t_gho" not in tables:
            return False
        if stage == "postponed":
            return (tmp_path / "postpone").exists() and _ghost_rows(db) >= 2500
        return _ghost_rows(db) >= 1500

    assert wait_for(reached, timeout=90, interval=0.02), proc.stderr.read() if proc.poll() else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(0.3)
    # The original is present, complete and writable at once.
    db.execute("INSERT INTO t (id, v, w) VALUES (-1, -1, 'after-kill')")
    db.execute("INSERT INTO t_mirror (id, v, w) VALUES (-1, -1, 'after-kill')")
    assert "`x`" not in db.show_create("t")
    assert {"_t_gho", "_t_ghc"} <= set(db.tables())
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--yes")
    assert code == 0, err
    assert helper_tables(db) == []
    code, out, err = run_cli(
        db,
        "--table=t",
        "--alter=ADD COLUMN x INT NOT NULL DEFAULT 3",
        "--execute",
        f"--serve-socket-file={tmp_path / 'b.sock'}",
        "--chunk-size=500",
    )
    writer.finish()
    assert code == 0, err
    assert "checksum:       verified" in out
    assert writer.failures == []
    db.execute("ALTER TABLE t_mirror ADD COLUMN x INT NOT NULL DEFAULT 3")
    assert rows_md5(db, "t", "id, v, w, x") == rows_md5(db, "t_mirror", "id, v, w, x")


def _ghost_rows(db: TestDatabase) -> int:
    try:
        return int(db.scalar("SELECT COUNT(*) FROM `_t_gho`") or 0)
    except Exception:  # noqa: BLE001 - the ghost may come and go
        return 0
