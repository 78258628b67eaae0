"""Tables with triggers (include_triggers): the triggers follow the table through the
cut-over under their suffixed names and fire from the first write after it, while
neither the copy nor the apply fires them a second time.

The oracle is a mirror with the same triggers writing to its own audit and stats tables:
the mirrored writer sends every statement to both, so after the migration the table, its
audit log (row by row, in firing order) and its stats must equal the mirror's.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.cutover import triggers as cutover_triggers
from django_ghost.engine.cutover.atomic import AtomicAttempt
from django_ghost.engine.cutover.attempts import CutOverAttemptFailed
from django_ghost.engine.errors import ConfigError, GhostError, PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    Shape,
    assert_migrated_like_mirror,
    assert_same_rows,
    make_config,
    rows_md5,
    seed,
    spawn_cli,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7, MODIFY w VARCHAR(40)"
# d is what the BEFORE triggers compute: a copy that fired them again would not change
# it, but a copy that lost it (or an apply that skipped it) would.
SHAPE = Shape(
    "id INT PRIMARY KEY, v INT, w VARCHAR(20), d INT",
    "SELECT seq, seq, CONCAT('x', seq), seq * 2",
)
# Created under a sql_mode of their own, which the new table's triggers must keep.
TRIGGER_SQL_MODE = "NO_ENGINE_SUBSTITUTION"


def _triggers(db: TestDatabase, table: str) -> None:
    """``table`` gets six triggers, BEFORE and AFTER each event, two of them AFTER INSERT
    (the second created to run first), logging to ``<table>_audit`` and counting deletes
    in ``<table>_stats``."""
    audit, stats = f"{table}_audit", f"{table}_stats"
    db.execute(
        f"CREATE TABLE {audit} (seq INT AUTO_INCREMENT PRIMARY KEY, op CHAR(2), id INT, v INT)"
    )
    db.execute(f"CREATE TABLE {stats} (id INT PRIMARY KEY, deletes INT)")
    db.execute(f"INSERT INTO {stats} VALUES (1, 0)")
    conn = db.connect()
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = %s", (TRIGGER_SQL_MODE,))
        for sql in (
            f"CREATE TRIGGER {table}_bi BEFORE INSERT ON {table} FOR EACH ROW "
            "SET NEW.d = NEW.v * 2",
            f"CREATE TRIGGER {table}_bu BEFORE UPDATE ON {table} FOR EACH ROW "
            "SET NEW.d = NEW.v * 2",
            f"CREATE TRIGGER {table}_bd BEFORE DELETE ON {table} FOR EACH ROW "
            f"UPDATE {stats} SET deletes = deletes + 1 WHERE id = 1",
            f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} FOR EACH ROW "
            f"INSERT INTO {audit} (op, id, v) VALUES ('I', NEW.id, NEW.v)",
            f"CREATE TRIGGER {table}_ai0 AFTER INSERT ON {table} FOR EACH ROW "
            f"PRECEDES {table}_ai BEGIN INSERT INTO {audit} (op, id, v) "
            "VALUES ('I0', NEW.id, NULL); END",
            f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} FOR EACH ROW "
            f"INSERT INTO {audit} (op, id, v) VALUES ('U', NEW.id, NEW.v)",
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} FOR EACH ROW "
            f"INSERT INTO {audit} (op, id, v) VALUES ('D', OLD.id, OLD.v)",
        ):
            cur.execute(sql)
    finally:
        conn.close()


def _trigger_rows(db: TestDatabase, table: str) -> dict[str, tuple[Any, ...]]:
    """name -> (timing, event, order, body, definer, sql_mode) of ``table``'s triggers."""
    rows = db.query(
        "SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, "
        "ACTION_STATEMENT, DEFINER, SQL_MODE FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = %s",
        (table,),
    )
    return {str(r[0]): tuple(r[1:]) for r in rows}


def _tables_with_triggers(db: TestDatabase, rows: int = 2000) -> None:
    seed(db, rows, shape=SHAPE)
    _triggers(db, "t")
    _triggers(db, "t_mirror")


def _config(db: TestDatabase, **options: Any) -> Any:
    return make_config(db, "t", ALTER, include_triggers=True, trigger_suffix="_new", **options)


def test_migrate__triggers_under_concurrent_writes__carried_over_and_fired_once(
    db: TestDatabase,
) -> None:
    _tables_with_triggers(db)
    before = _trigger_rows(db, "t")
    writer = MirroredWriter(db)
    writer.start()
    try:
        assert wait_for(lambda: writer.writes > 200)
        Migrator(_config(db)).run()
        assert wait_for(lambda: writer.writes > 800)  # writes after the swap fire them too
    finally:
        writer.finish()
    assert writer.failures == []
    assert_migrated_like_mirror(db, ALTER)
    # Each write fired each trigger once, in the same order: neither the copy nor the
    # apply fired them again, none was lost around the swap.
    assert_same_rows(db, "t_audit", "t_mirror_audit", key=("seq",))
    assert_same_rows(db, "t_stats", "t_mirror_stats")
    after = _trigger_rows(db, "t")
    assert after == {f"{name}_new": definition for name, definition in before.items()}
    assert {row[5] for row in after.values()} == {TRIGGER_SQL_MODE}
    assert _trigger_rows(db, "_t_del") == before  # the old table keeps the originals


def _fail_once_after_carrying(monkeypatch: pytest.MonkeyPatch, fault: str) -> list[int]:
    """Make the first cut-over attempt fail once the triggers are on the ghost
    (``fault="after"``: all of them, before the RENAME) or half-way through creating them
    (``"midway"``); returns the attempts' count of failures injected."""
    injected: list[int] = []
    if fault == "after":
        real_wait = AtomicAttempt._wait_rename_queued

        def wait_then_fail(self: AtomicAttempt, *args: Any) -> None:
            real_wait(self, *args)
            if not injected:
                injected.append(1)
                raise CutOverAttemptFailed("injected: after the triggers were created")

        monkeypatch.setattr(AtomicAttempt, "_wait_rename_queued", wait_then_fail)
        return injected
    real_sql = cutover_triggers.create_trigger_sql
    made: list[int] = []

    def fail_on_the_fourth(*args: Any, **kwargs: Any) -> str:
        made.append(1)
        if len(made) == 4 and not injected:
            injected.append(1)
            raise MySQLdb.OperationalError(1205, "injected: half-way through the triggers")
        return real_sql(*args, **kwargs)

    monkeypatch.setattr(cutover_triggers, "create_trigger_sql", fail_on_the_fourth)
    return injected


@pytest.mark.parametrize("fault", ["after", "midway"])
def test_migrate__attempt_fails_with_triggers_on_ghost__dropped_before_the_catch_up(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    _tables_with_triggers(db, rows=500)
    injected = _fail_once_after_carrying(monkeypatch, fault)
    writer = MirroredWriter(db)
    writer.start()
    try:
        assert wait_for(lambda: writer.writes > 100)
        result = Migrator(_config(db)).run()
    finally:
        writer.finish()
    assert injected and result.cut_over_attempts == 2
    assert writer.failures == []
    assert_migrated_like_mirror(db, ALTER)
    # The catch-up between the attempts applied changes to the ghost: had the triggers
    # stayed on it, they would have logged those changes a second time.
    assert_same_rows(db, "t_audit", "t_mirror_audit", key=("seq",))
    assert_same_rows(db, "t_stats", "t_mirror_stats")
    assert len(_trigger_rows(db, "t")) == 7


@pytest.mark.parametrize("cut_over", ["atomic", "two-step"])
def test_migrate__triggers__fire_on_the_new_table(db: TestDatabase, cut_over: str) -> None:
    _tables_with_triggers(db, rows=300)
    Migrator(_config(db, cut_over=cut_over, ok_to_drop_table=True)).run()
    assert db.scalar("SELECT COUNT(*) FROM t_audit") == 0  # the copy fired nothing
    db.execute("INSERT INTO t (id, v, w) VALUES (5000, 21, 'new')")
    db.execute("DELETE FROM t WHERE id = 1")
    assert db.scalar("SELECT d FROM t WHERE id = 5000") == 42
    ops = db.query("SELECT op, id FROM t_audit ORDER BY seq")
    assert ops == [("I0", 5000), ("I", 5000), ("D", 1)]
    assert db.scalar("SELECT deletes FROM t_stats") == 1
    assert sorted(_trigger_rows(db, "t")) == sorted(
        f"t_{n}_new" for n in ("bi", "bu", "bd", "ai", "ai0", "au", "ad")
    )


def test_migrate__trigger_of_another_definer__definer_kept(db: TestDatabase) -> None:
    seed(db, 200, shape=SHAPE, mirror=None)
    owner = f"trg_{db.name[-20:]}"
    db.execute("CREATE USER %s@'%%'", (owner,))
    try:
        db.execute(
            f"CREATE DEFINER=`{owner}`@`%` TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW "
            "SET NEW.d = NEW.v * 2"
        )
        Migrator(_config(db)).run()
        definer = db.scalar(
            "SELECT DEFINER FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 't_bi_new' "
            "AND EVENT_OBJECT_TABLE = 't'"
        )
        assert definer == f"{owner}@%"
    finally:
        db.execute("DROP USER %s@'%%'", (owner,))


def test_migrate__twice_with_suffix_removal__names_alternate(db: TestDatabase) -> None:
    _tables_with_triggers(db, rows=200)
    names = sorted(_trigger_rows(db, "t"))
    options = {"remove_trigger_suffix_if_exists": True, "ok_to_drop_table": True}
    Migrator(_config(db, **options)).run()
    assert sorted(_trigger_rows(db, "t")) == sorted(f"{n}_new" for n in names)
    Migrator(
        make_config(
            db, "t", "ADD COLUMN more INT", include_triggers=True, trigger_suffix="_new", **options
        )
    ).run()
    assert sorted(_trigger_rows(db, "t")) == names
    db.execute("INSERT INTO t (id, v, w) VALUES (9000, 1, 'x')")
    assert db.scalar("SELECT COUNT(*) FROM t_audit WHERE id = 9000") == 2


def test_resume__trigger_left_on_the_ghost__dropped_before_applying(
    db: TestDatabase, tmp_path: Path
) -> None:
    _tables_with_triggers(db, rows=3000)
    flag = tmp_path / "postpone"
    flag.touch()
    writer = MirroredWriter(db)
    writer.start()
    try:
        first = spawn_cli(
            db,
            "--table=t",
            f"--alter={ALTER}",
            "--execute",
            "--include-triggers",
            "--trigger-suffix=_new",
            "--checkpoint-seconds=1",
            "--chunk-size=200",
            f"--postpone-cut-over-flag-file={flag}",
        )
        assert wait_for(lambda: _copy_done(db), timeout=90), "the copy never finished"
        first.send_signal(signal.SIGKILL)
        first.communicate()
        # What a run killed between creating the triggers on the ghost and the RENAME
        # leaves: the resumed run's apply must not fire it.
        db.execute(
            "CREATE TRIGGER t_ai_new AFTER INSERT ON _t_gho FOR EACH ROW "
            "INSERT INTO t_audit (op, id, v) VALUES ('I', NEW.id, NEW.v)"
        )
        flag.unlink()
        Migrator(_config(db, resume=True, chunk_size=200)).run()
        assert wait_for(lambda: writer.writes > 2000)
    finally:
        writer.finish()
    assert writer.failures == []
    assert_migrated_like_mirror(db, ALTER)
    assert_same_rows(db, "t_audit", "t_mirror_audit", key=("seq",))
    assert len(_trigger_rows(db, "t")) == 7


def _copy_done(db: TestDatabase) -> bool:
    try:
        rows = db.query("SELECT value FROM _t_ghc WHERE hint = 'checkpoint'")
    except MySQLdb.Error:
        return False
    return bool(rows) and bool(json.loads(rows[0][0]).get("copy_done"))


def test_migrate__trigger_created_on_original_mid_run__stopped_original_keeps_it(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 500, shape=SHAPE, mirror=None)
    flag = tmp_path / "postpone"
    flag.touch()
    run = Run(make_config(db, "t", ALTER, postpone_cut_over_flag_file=str(flag)))
    run.start()
    assert wait_for(run.postponed, timeout=60), run.error
    db.execute("CREATE TRIGGER t_late BEFORE INSERT ON t FOR EACH ROW SET NEW.d = 0")
    flag.unlink()
    run.join(timeout=60)
    assert not run.is_alive()
    assert isinstance(run.error, GhostError) and "changed by another statement" in str(run.error)
    assert "`extra`" not in db.show_create("t")
    assert list(_trigger_rows(db, "t")) == ["t_late"]
    assert sorted(db.tables()) == ["t"]


# -- refusals: the original untouched --------------------------------------------------


def _untouched(db: TestDatabase, state: tuple[Any, ...]) -> None:
    assert (rows_md5(db, "t"), sorted(db.tables()), _trigger_rows(db, "t")) == state


def _state(db: TestDatabase) -> tuple[Any, ...]:
    return rows_md5(db, "t"), sorted(db.tables()), _trigger_rows(db, "t")


def test_migrate__triggers_without_include_triggers__refused_naming_the_option(
    db: TestDatabase,
) -> None:
    _tables_with_triggers(db, rows=100)
    state = _state(db)
    with pytest.raises(PreflightError) as refused:
        Migrator(make_config(db, "t", ALTER)).run()
    assert "t_bi" in str(refused.value) and "--include-triggers" in str(refused.value)
    _untouched(db, state)


def test_migrate__include_triggers_without_suffix__refused(db: TestDatabase) -> None:
    _tables_with_triggers(db, rows=100)
    state = _state(db)
    with pytest.raises(ConfigError, match="include_triggers needs trigger_suffix"):
        Migrator(make_config(db, "t", ALTER, include_triggers=True)).run()
    _untouched(db, state)


def test_migrate__new_trigger_name_too_long__refused(db: TestDatabase) -> None:
    _tables_with_triggers(db, rows=100)
    long_name = "a" * 61
    db.execute(f"CREATE TRIGGER {long_name} AFTER UPDATE ON t FOR EACH ROW SET @x = 1")
    state = _state(db)
    with pytest.raises(PreflightError, match="longer than 64 characters") as refused:
        Migrator(_config(db)).run()
    assert f"{long_name}_new" in str(refused.value)
    _untouched(db, state)


def test_migrate__new_trigger_name_taken_in_schema__refused(db: TestDatabase) -> None:
    _tables_with_triggers(db, rows=100)
    db.execute("CREATE TABLE other (id INT PRIMARY KEY)")
    db.execute("CREATE TRIGGER t_ai_new AFTER INSERT ON other FOR EACH ROW SET @x = 1")
    state = _state(db)
    with pytest.raises(PreflightError, match=r"t_ai_new \(on table other\)"):
        Migrator(_config(db)).run()
    _untouched(db, state)
