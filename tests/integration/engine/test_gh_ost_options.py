"""gh-ost's behaviour options: --attempt-instant-ddl, --analyze-ghost-table-before-cutover,
--panic-on-warnings, and a user's AUTO_INCREMENT=N in the ALTER.

What each did is judged by the server: the table's InnoDB id (a copy gives the table a
new one, an instant ALTER keeps it), its global status counters, the rows by checksum
and the table's counter, never by the engine's own word alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from django_ghost.engine.errors import DataError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    AUTO_INCREMENT,
    HookRecorder,
    Run,
    Shape,
    assert_migrated_like_mirror,
    copy_as_mirror,
    make_config,
    rows_md5,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for


def table_id(db: TestDatabase, table: str = "t") -> int:
    """InnoDB's id of the table: any copy or rebuild changes it, an instant ALTER does not."""
    return int(
        db.scalar(
            "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME = %s",
            [f"{db.name}/{table}"],
        )
    )


def global_status(db: TestDatabase, name: str) -> int:
    return int(db.query("SHOW GLOBAL STATUS LIKE %s", [name])[0][1])


# -- attempt_instant_ddl ----------------------------------------------------------------------


def test_attempt_instant_ddl__add_column_at_end__done_in_place_nothing_created(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 500, mirror=None)
    before_rows, before_id = rows_md5(db, "t"), table_id(db)
    created = global_status(db, "Com_create_table")
    hooks = HookRecorder()
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT NOT NULL DEFAULT 3",
        attempt_instant_ddl=True,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    result = Migrator(config, hooks=hooks).run()
    assert result.instant and result.rows_copied == 0
    assert "`x` int(11) NOT NULL DEFAULT 3" in db.show_create("t")
    assert table_id(db) == before_id, "the table was rebuilt: the ALTER did not go INSTANT"
    assert rows_md5(db, "t") == before_rows
    assert db.scalar("SELECT COUNT(*) FROM t WHERE x <> 3") == 0
    # No ghost, changelog or sentry table was ever created, and none is left.
    assert global_status(db, "Com_create_table") == created
    assert db.tables() == ["t"]
    assert hooks.names() == ["startup", "success"]
    assert hooks.events[-1][1]["GHOST_INSTANT_DDL"] == "true"


def test_attempt_instant_ddl__add_index_not_instant__falls_back_to_the_online_copy(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 500)
    before_id = table_id(db)
    hooks = HookRecorder()
    config = make_config(
        db,
        "t",
        "ADD INDEX v_idx (v)",
        attempt_instant_ddl=True,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    result = Migrator(config, hooks=hooks).run()
    assert not result.instant and result.rows_copied == 500 and result.checksum_verified
    assert table_id(db) != before_id, "the table was not copied"
    assert "row-copy-complete" in hooks.names()
    assert hooks.events[-1] == ("success", {"GHOST_INSTANT_DDL": "false"})
    assert_migrated_like_mirror(db, "ADD INDEX v_idx (v)")


def test_attempt_instant_ddl__off_by_default__instant_capable_alter_copied(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 300)
    before_id = table_id(db)
    config = make_config(db, "t", "ADD COLUMN x INT", serve_socket_file=str(tmp_path / "s.sock"))
    result = Migrator(config).run()
    assert not result.instant and result.rows_copied == 300
    assert table_id(db) != before_id
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


# -- analyze_ghost_table_before_cutover ------------------------------------------------------


@pytest.mark.parametrize("analyze", [True, False])
def test_analyze_ghost_table_before_cutover__flag__analyze_runs_only_when_asked(
    db: TestDatabase, tmp_path: Path, analyze: bool
) -> None:
    seed(db, 500)
    seen: list[int] = []
    hooks = HookRecorder(
        on={"before-cut-over": lambda: seen.append(global_status(db, "Com_analyze"))}
    )
    before = global_status(db, "Com_analyze")
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        analyze_ghost_table_before_cutover=analyze,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    Migrator(config, hooks=hooks).run()
    # Nothing analyzed before the cut-over step; one ANALYZE TABLE in it, when asked.
    assert seen == [before]
    assert global_status(db, "Com_analyze") == before + (1 if analyze else 0)
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


# -- panic_on_warnings ------------------------------------------------------------------------

DECIMALS = Shape(
    "id INT PRIMARY KEY, v INT, w VARCHAR(20), d DECIMAL(10,4)",
    "SELECT seq, seq, CONCAT('x', seq), seq + 0.5 FROM seq_1_to_300 UNION ALL "
    "SELECT 1000 + seq, seq, 'y', seq + 0.1234",
)
CLEAN_DECIMALS = Shape(DECIMALS.columns, "SELECT seq, seq, CONCAT('x', seq), seq + 0.5")
NARROWING = "MODIFY d DECIMAL(10,2)"


def test_panic_on_warnings__decimal_rounded_by_copy__aborts_naming_the_note(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 100, mirror=None, shape=DECIMALS)
    before = rows_md5(db, "t", "id, v, w, d")
    definition = db.show_create("t")
    config = make_config(
        db, "t", NARROWING, panic_on_warnings=True, serve_socket_file=str(tmp_path / "s.sock")
    )
    with pytest.raises(DataError) as raised:
        Migrator(config).run()
    message = str(raised.value)
    assert "panic_on_warnings" in message
    assert "Note 1265: Data truncated for column 'd'" in message
    assert db.tables() == ["t"]
    assert db.show_create("t") == definition
    assert rows_md5(db, "t", "id, v, w, d") == before


def test_panic_on_warnings__apply_rounds_an_update__aborts_naming_the_note(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 300, mirror=None, shape=CLEAN_DECIMALS)
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            NARROWING,
            panic_on_warnings=True,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60), "the copy itself must raise no warning"
    db.execute("UPDATE t SET d = 7.1234 WHERE id = 5")  # the apply rounds it: a note
    before = rows_md5(db, "t", "id, v, w, d")
    definition = db.show_create("t")
    run.join(timeout=60)
    assert isinstance(run.error, DataError), run.error
    assert "applying a binlog change" in str(run.error)
    assert "Note 1265: Data truncated for column 'd'" in str(run.error)
    assert db.tables() == ["t"]
    assert db.show_create("t") == definition
    assert rows_md5(db, "t", "id, v, w, d") == before
    assert str(db.scalar("SELECT d FROM t WHERE id = 5")) == "7.1234"


def test_panic_on_warnings__off__decimal_rounded_as_the_servers_alter_does(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 100, mirror=None, shape=DECIMALS)
    copy_as_mirror(db, "t")
    config = make_config(db, "t", NARROWING, serve_socket_file=str(tmp_path / "s.sock"))
    Migrator(config).run()
    assert str(db.scalar("SELECT d FROM t WHERE id = 1001")) == "1.12"
    assert_migrated_like_mirror(db, NARROWING)


def test_panic_on_warnings__no_value_changes__migrates(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 300)
    config = make_config(
        db,
        "t",
        "MODIFY w VARCHAR(40)",
        panic_on_warnings=True,
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    assert Migrator(config).run().checksum_verified
    assert_migrated_like_mirror(db, "MODIFY w VARCHAR(40)")


# -- AUTO_INCREMENT=N in the ALTER -------------------------------------------------------------


def auto_increment(db: TestDatabase, table: str = "t") -> int:
    return int(
        db.scalar(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table],
        )
    )


def next_id(db: TestDatabase) -> int:
    db.execute("INSERT INTO t (v, w) VALUES (0, 'new')")
    return int(db.scalar("SELECT LAST_INSERT_ID()"))


@pytest.mark.parametrize(
    ("alter", "expected"),
    [
        # Above the highest id: the counter starts there, as the server's own ALTER.
        ("ADD COLUMN x INT, AUTO_INCREMENT=5000", 5000),
        # Below the highest id (300): raised to 301, not to the original's counter (>1000).
        ("ADD COLUMN x INT, AUTO_INCREMENT=10", 301),
    ],
)
def test_alter_auto_increment__user_value__honoured_like_the_servers_alter(
    db: TestDatabase, tmp_path: Path, alter: str, expected: int
) -> None:
    seed(db, 1000, mirror=None, shape=AUTO_INCREMENT)
    db.execute("DELETE FROM t WHERE id > 300")  # the original's counter stays above 1000
    assert auto_increment(db) > 1000
    config = make_config(db, "t", alter, serve_socket_file=str(tmp_path / "s.sock"))
    Migrator(config).run()
    assert "`x` int" in db.show_create("t")
    assert next_id(db) == expected


def test_alter_auto_increment__not_given__original_counter_carried_over(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 1000, mirror=None, shape=AUTO_INCREMENT)
    db.execute("DELETE FROM t WHERE id > 300")
    counter = auto_increment(db)
    assert counter > 1000
    config = make_config(db, "t", "ADD COLUMN x INT", serve_socket_file=str(tmp_path / "s.sock"))
    Migrator(config).run()
    assert next_id(db) == counter
