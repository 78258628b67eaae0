"""Leftovers of a killed atomic cut-over attempt: ``<t>~g`` (the ghost) and ``<t>~d``
(the sentry, or the old table once the RENAME went through) are listed as leftovers of
``t`` and dropped under the same rules as ``_t_gho`` and ``_t_del``; never ``t`` itself.
Unless ``<t>~d`` is a sentry, they count only while the changelog of ``t`` exists (a
killed cut-over always leaves it): a user's own ``a~g`` or ``a~d`` is never dropped."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from django_ghost.engine.control.client import send
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.sql.names import SENTRY_COMMENT, migration_lock_name, table_names
from django_ghost.engine.state.cleanup import drop_leftovers
from django_ghost.engine.state.leftovers import find_leftovers
from tests.integration.helpers import engine_conn, rows_md5, run_cli, seed, spawn_cli
from tests.plugins.mariadb import TestDatabase, wait_for


def qi(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def leave_cutover_tables(
    db: TestDatabase, table: str = "t", *, old_with_data: bool, changelog: bool = True
) -> None:
    """What a cut-over attempt killed mid-way leaves: the changelog (unless
    ``changelog`` is off), the renamed ghost ``<t>~g`` and ``<t>~d``, the empty sentry
    or (RENAME done) the old table with the previous rows."""
    if changelog:
        db.execute(f"CREATE TABLE {qi(table_names(table).changelog)} (id INT PRIMARY KEY)")
    db.execute(f"CREATE TABLE {qi(table + '~g')} LIKE {qi(table)}")
    db.execute(f"INSERT INTO {qi(table + '~g')} SELECT * FROM {qi(table)}")
    if old_with_data:
        db.execute(f"CREATE TABLE {qi(table + '~d')} LIKE {qi(table)}")
        db.execute(f"INSERT INTO {qi(table + '~d')} SELECT * FROM {qi(table)}")
    else:
        db.execute(
            f"CREATE TABLE {qi(table + '~d')} (id INT PRIMARY KEY) COMMENT='{SENTRY_COMMENT}'"
        )


def leftovers(db: TestDatabase) -> list[tuple[str, str, str | None]]:
    conn = engine_conn(db)
    try:
        return sorted((f.name, f.kind, f.table) for f in find_leftovers(conn, db.name))
    finally:
        conn.close()


def drop(db: TestDatabase, table: str, *, drop_old: bool) -> list[str]:
    conn = engine_conn(db)
    try:
        return sorted(r.name for r in drop_leftovers(conn, db.name, table, drop_old=drop_old))
    finally:
        conn.close()


def test_find_leftovers__cutover_names__ghost_sentry_old_of_their_table(db: TestDatabase) -> None:
    seed(db, 100)
    leave_cutover_tables(db, old_with_data=False)
    seed(db, 100, table="u")
    leave_cutover_tables(db, "u", old_with_data=True)
    db.execute("CREATE TABLE `x~g` (id INT PRIMARY KEY)")  # no table x: not a leftover
    db.execute("CREATE VIEW `v` AS SELECT * FROM t")
    db.execute("CREATE TABLE `v~g` (id INT PRIMARY KEY)")  # v is a view: not a leftover
    db.execute("CREATE TABLE `_v_ghc` (id INT PRIMARY KEY)")
    conn = engine_conn(db)
    try:
        found = find_leftovers(conn, db.name)
    finally:
        conn.close()
    assert sorted((f.name, f.kind, f.table) for f in found) == [
        ("_t_ghc", "changelog", "t"),
        ("_u_ghc", "changelog", "u"),
        ("_v_ghc", "changelog", "v"),
        ("t~d", "sentry", "t"),
        ("t~g", "ghost", "t"),
        ("u~d", "old", "u"),
        ("u~g", "ghost", "u"),
    ]
    by_name = {f.name: f for f in found}
    # TABLE_ROWS is InnoDB's estimate (81 for these 100 rows in one run): more than none.
    assert (by_name["u~d"].rows or 0) > 0 and not by_name["u~d"].droppable_without_asking
    assert by_name["t~d"].droppable_without_asking and by_name["t~g"].droppable_without_asking


def test_drop_leftovers__cutover_ghost_and_sentry__dropped_without_drop_old(
    db: TestDatabase,
) -> None:
    seed(db, 200)
    leave_cutover_tables(db, old_with_data=False)
    before = rows_md5(db, "t")
    assert drop(db, "t", drop_old=False) == ["_t_ghc", "t~d", "t~g"]
    assert sorted(db.tables()) == ["t", "t_mirror"]
    assert rows_md5(db, "t") == before


def test_drop_leftovers__cutover_old_table_with_data__kept_with_changelog_until_drop_old(
    db: TestDatabase,
) -> None:
    seed(db, 200)
    leave_cutover_tables(db, old_with_data=True)
    before = rows_md5(db, "t")
    assert drop(db, "t", drop_old=False) == ["t~g"]
    # The changelog stays with t~d: it is what still marks t~d as a leftover of t.
    assert sorted(db.tables()) == ["_t_ghc", "t", "t_mirror", "t~d"]
    assert db.scalar("SELECT COUNT(*) FROM `t~d`") == 200
    assert ("t~d", "old", "t") in leftovers(db)
    assert drop(db, "t", drop_old=True) == ["_t_ghc", "t~d"]
    assert sorted(db.tables()) == ["t", "t_mirror"]
    assert rows_md5(db, "t") == before


def test_drop_leftovers__sentry_without_changelog__still_dropped(db: TestDatabase) -> None:
    seed(db, 50)
    db.execute(f"CREATE TABLE `t~d` (id INT PRIMARY KEY) COMMENT='{SENTRY_COMMENT}'")
    assert leftovers(db) == [("t~d", "sentry", "t")]
    assert drop(db, "t", drop_old=False) == ["t~d"]
    assert sorted(db.tables()) == ["t", "t_mirror"]


@pytest.mark.parametrize("comment", ["", "orders archive"])
def test_drop_leftovers__user_tilde_tables_without_changelog__not_listed_not_dropped(
    db: TestDatabase, comment: str
) -> None:
    seed(db, 300, table="a")
    for name in ("a~g", "a~d"):
        db.execute(f"CREATE TABLE {qi(name)} LIKE `a`")
        db.execute(f"ALTER TABLE {qi(name)} COMMENT='{comment}'")
        db.execute(f"INSERT INTO {qi(name)} SELECT * FROM `a` WHERE id <= 120")
    db.execute("CREATE TABLE `b` (id INT PRIMARY KEY)")
    db.execute("CREATE TABLE `_b_ghc` (id INT PRIMARY KEY)")  # another table's changelog
    sums = {name: rows_md5(db, name) for name in ("a", "a~g", "a~d")}
    assert leftovers(db) == [("_b_ghc", "changelog", "b")]
    assert drop(db, "a", drop_old=True) == []
    assert drop(db, "a", drop_old=False) == []
    assert sorted(db.tables()) == ["_b_ghc", "a", "a_mirror", "a~d", "a~g", "b"]
    assert {name: rows_md5(db, name) for name in sums} == sums
    assert db.scalar("SELECT COUNT(*) FROM `a~g`") == db.scalar("SELECT COUNT(*) FROM `a~d`")
    assert db.scalar("SELECT COUNT(*) FROM `a~d`") == 120


def test_drop_leftovers__user_tilde_tables_with_changelog__listed_and_dropped(
    db: TestDatabase,
) -> None:
    seed(db, 300, table="a")
    leave_cutover_tables(db, "a", old_with_data=True)
    before = rows_md5(db, "a")
    assert leftovers(db) == [
        ("_a_ghc", "changelog", "a"),
        ("a~d", "old", "a"),
        ("a~g", "ghost", "a"),
    ]
    assert drop(db, "a", drop_old=True) == ["_a_ghc", "a~d", "a~g"]
    assert sorted(db.tables()) == ["a", "a_mirror"]
    assert rows_md5(db, "a") == before


def test_drop_leftovers__cutover_names_migration_lock_held__refused_nothing_dropped(
    db: TestDatabase,
) -> None:
    seed(db, 50)
    leave_cutover_tables(db, old_with_data=False)
    holder = db.connect()
    try:
        cur = holder.cursor()
        cur.execute("SELECT GET_LOCK(%s, 0)", (migration_lock_name(db.name, "t"),))
        assert cur.fetchone()[0] == 1
        with pytest.raises(PreflightError, match="is running"):
            drop(db, "t", drop_old=True)
        assert {"t~g", "t~d"} <= set(db.tables())
    finally:
        holder.close()
    assert drop(db, "t", drop_old=True) == ["_t_ghc", "t~d", "t~g"]


def test_drop_leftovers__odd_table_name__quoted_and_dropped(db: TestDatabase) -> None:
    odd = "o`dd t-1;"
    db.execute(f"CREATE TABLE {qi(odd)} (id INT PRIMARY KEY, v INT)")
    db.execute(f"INSERT INTO {qi(odd)} VALUES (1, 1), (2, 2)")
    leave_cutover_tables(db, odd, old_with_data=False)
    assert drop(db, odd, drop_old=False) == sorted([f"_{odd}_ghc", f"{odd}~d", f"{odd}~g"])
    assert db.tables() == [odd] and db.scalar(f"SELECT COUNT(*) FROM {qi(odd)}") == 2


def test_drop_leftovers__tilde_table_cleaned_or_ownerless__never_dropped(
    db: TestDatabase,
) -> None:
    # "a~g" is itself the table being cleaned: it survives, its own "~g" goes.
    for name in ("a", "a~g", "a~g~g", "x~g"):
        db.execute(f"CREATE TABLE {qi(name)} (id INT PRIMARY KEY)")
        db.execute(f"INSERT INTO {qi(name)} VALUES (1)")
    for name in ("_a~g_ghc", "_x_ghc"):
        db.execute(f"CREATE TABLE {qi(name)} (id INT PRIMARY KEY)")
    assert drop(db, "a~g", drop_old=True) == ["_a~g_ghc", "a~g~g"]
    assert sorted(db.tables()) == ["_x_ghc", "a", "a~g", "x~g"]
    # No table x: "x~g" belongs to nobody, even next to x's changelog; cleaning "x"
    # drops only the changelog.
    assert drop(db, "x", drop_old=True) == ["_x_ghc"]
    assert sorted(db.tables()) == ["a", "a~g", "x~g"]
    assert db.scalar("SELECT COUNT(*) FROM `a~g`") == 1


def test_cli_cleanup__cutover_names__listed_then_dropped(db: TestDatabase) -> None:
    seed(db, 100)
    leave_cutover_tables(db, old_with_data=False)
    code, out, err = run_cli(db, "--cleanup")
    assert code == 0, err
    assert "t~g" in out and "t~d" in out and "sentry" in out
    assert {"t~g", "t~d"} <= set(db.tables())
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--yes")
    assert code == 0, err
    assert "t~g" in out and sorted(db.tables()) == ["t", "t_mirror"]


def test_cli_cleanup__user_tilde_tables_without_changelog__nothing_listed_nothing_dropped(
    db: TestDatabase,
) -> None:
    seed(db, 100)
    leave_cutover_tables(db, old_with_data=True, changelog=False)
    sums = {name: rows_md5(db, name) for name in ("t", "t~g", "t~d")}
    code, out, err = run_cli(db, "--cleanup")
    assert code == 0, err
    assert "t~g" not in out and "t~d" not in out
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--drop-old", "--yes")
    assert code == 0, err
    assert sorted(db.tables()) == ["t", "t_mirror", "t~d", "t~g"]
    assert {name: rows_md5(db, name) for name in sums} == sums


def test_sigkill_engine__during_atomic_cut_over__tilde_tables_cleaned_original_intact(
    db: TestDatabase, tmp_path: Path, sock_dir: Path
) -> None:
    seed(db, 2000)
    before = rows_md5(db, "t")
    flag = tmp_path / "postpone"
    control = str(sock_dir / "c.sock")
    proc = spawn_cli(
        db,
        "--table=t",
        "--alter=ADD COLUMN x INT NOT NULL DEFAULT 3",
        "--execute",
        f"--serve-socket-file={control}",
        f"--postpone-cut-over-flag-file={flag}",
        "--cut-over-lock-timeout-seconds=10",
        "--chunk-size=500",
    )
    blocker = db.connect()
    try:

        def postponed() -> bool:
            if proc.poll() is not None:
                return True
            with contextlib.suppress(OSError):
                return "phase: postponed" in send(control, "status")
            return False

        assert wait_for(postponed, timeout=120, interval=0.1) and proc.poll() is None, (
            proc.stderr.read() if proc.poll() is not None else "not postponed"
        )
        # An open transaction that wrote to t holds its metadata lock: the cut-over's
        # LOCK TABLES waits (up to 2 x 10 s) with t~g and the sentry t~d in place.
        cur = blocker.cursor()
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cur.execute("START TRANSACTION")
        cur.execute("UPDATE t SET v = v WHERE id = -1")
        flag.unlink()
        assert wait_for(lambda: {"t~g", "t~d"} <= set(db.tables()), timeout=60, interval=0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        cur.execute("ROLLBACK")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        blocker.close()
    lock = migration_lock_name(db.name, "t")
    assert wait_for(lambda: db.scalar("SELECT IS_USED_LOCK(%s)", (lock,)) is None, timeout=30)
    assert "`x`" not in db.show_create("t") and rows_md5(db, "t") == before
    conn = engine_conn(db)
    try:
        found = {f.name: (f.kind, f.table) for f in find_leftovers(conn, db.name)}
    finally:
        conn.close()
    assert found["t~g"] == ("ghost", "t") and found["t~d"] == ("sentry", "t")
    assert found["_t_ghc"] == ("changelog", "t")  # what marks t~g as the engine's
    code, out, err = run_cli(db, "--table=t", "--cleanup", "--yes")
    assert code == 0, err
    assert sorted(db.tables()) == ["t", "t_mirror"]
    assert rows_md5(db, "t") == before
