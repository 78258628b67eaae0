"""Revert (docs/revert.md): a migrated table is put back to its kept old table with the
changes made since the cut-over, through the engine and through the CLI, under a
mirrored writer whose mirror keeps the old schema; refused cleanly when the binlog is
purged or the reverse mapping would lose data."""

from __future__ import annotations

import json
import time

import pytest

from django_ghost.engine.errors import PreflightError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.revert import Reverter
from django_ghost.engine.state.revert_checkpoint import TABLE
from tests.integration.helpers import (
    MirroredWriter,
    Shape,
    assert_same_rows,
    definition_body,
    make_config,
    rows_md5,
    run_cli,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7, MODIFY w VARCHAR(40)"


def migrate_then_keep_writing(db: TestDatabase, alter: str = ALTER) -> MirroredWriter:
    """Migrate ``t`` online under a mirrored writer that keeps writing after the cut-over
    (inserts, updates, deletes, key moves); returns the writer, still running."""
    seed(db, 1500)
    writer = MirroredWriter(db)
    writer.start()
    Migrator(make_config(db, "t", alter)).run()
    written = writer.writes
    assert wait_for(lambda: writer.writes > written + 200, timeout=30)
    return writer


def revert_config(db: TestDatabase, **options: object) -> object:
    return make_config(db, "t", "", revert=True, old_table="_t_del", **options)


def assert_reverted_like_mirror(db: TestDatabase) -> None:
    assert definition_body(db, "t") == definition_body(db, "t_mirror")
    assert_same_rows(db, "t", "t_mirror")


def test_revert__engine_under_writer__old_schema_and_mirror_rows(db: TestDatabase) -> None:
    writer = migrate_then_keep_writing(db)
    assert "extra" in definition_body(db, "t")
    assert db.query(f"SELECT old_table, table_name FROM {TABLE}") == [("_t_del", "t")]
    try:
        result = Reverter(revert_config(db)).run()  # type: ignore[arg-type]
        time.sleep(0.3)  # writes after the swap land in the restored table
    finally:
        writer.finish()
    assert not writer.failures, writer.failures[:3]
    assert result.events_applied > 0
    assert_reverted_like_mirror(db)
    assert "_t_rev_del" in db.tables() and "_t_del" not in db.tables()
    assert TABLE not in db.tables()  # forgotten with its last checkpoint


def test_revert__cli_under_writer__old_schema_and_mirror_rows(db: TestDatabase) -> None:
    writer = migrate_then_keep_writing(db)
    try:
        code, out, err = run_cli(
            db, "--database", db.name, "--table", "t", "--revert", "--old-table=_t_del", "--execute"
        )
        time.sleep(0.3)
    finally:
        writer.finish()
    assert code == 0, err
    assert "Reverting" in out
    assert "Revert of " in out and "_t_rev_del kept" in out
    assert not writer.failures, writer.failures[:3]
    assert_reverted_like_mirror(db)


def test_revert__renamed_column__mapped_back_by_name(db: TestDatabase) -> None:
    seed(db, 500)
    Migrator(
        make_config(db, "t", "CHANGE COLUMN w label VARCHAR(20)", approve_renamed_columns=True)
    ).run()
    for table, column in (("t", "label"), ("t_mirror", "w")):
        db.execute(f"UPDATE {table} SET {column} = 'moved', id = id + 10000 WHERE id <= 20")
        db.execute(f"INSERT INTO {table} (id, v, {column}) VALUES (99999, 1, 'new')")
        db.execute(f"DELETE FROM {table} WHERE id BETWEEN 100 AND 110")
    Reverter(revert_config(db)).run()  # type: ignore[arg-type]
    assert_reverted_like_mirror(db)


def test_revert__binlog_purged__refused_current_table_untouched(db: TestDatabase) -> None:
    seed(db, 300)
    Migrator(make_config(db, "t", ALTER)).run()
    db.execute("INSERT INTO t (id, v, w) VALUES (5000, 1, 'after')")
    cut_over_file = json.loads(db.query(f"SELECT checkpoint FROM {TABLE}")[0][0])["position"]
    db.execute("FLUSH BINARY LOGS")
    current = db.query("SHOW MASTER STATUS")[0][0]

    def purged() -> bool:
        # A log still read by a dump thread (the stream just closed) is kept: retry.
        db.execute(f"PURGE BINARY LOGS TO '{current}'")
        files = [r[0] for r in db.query("SHOW BINARY LOGS")]
        return cut_over_file.rpartition(":")[0] not in files

    assert wait_for(purged, timeout=30, interval=0.5)
    before = rows_md5(db, "t", "id, v, w, extra")
    with pytest.raises(PreflightError, match="purged"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]
    assert rows_md5(db, "t", "id, v, w, extra") == before
    assert "extra" in definition_body(db, "t")
    assert "_t_del" in db.tables() and "_t_rev_del" not in db.tables()


def test_revert__value_too_long_for_old_type__refused_current_table_untouched(
    db: TestDatabase,
) -> None:
    seed(db, 300)
    Migrator(make_config(db, "t", ALTER)).run()
    db.execute("INSERT INTO t (id, v, w) VALUES (5000, 1, %s)", ("y" * 30,))
    old_before = rows_md5(db, "_t_del")
    before = rows_md5(db, "t", "id, v, w, extra")
    with pytest.raises(PreflightError, match="column w holds values that varchar\\(20\\)"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]
    assert rows_md5(db, "t", "id, v, w, extra") == before
    assert rows_md5(db, "_t_del") == old_before
    assert "_t_rev_del" not in db.tables()


def test_revert__dropped_not_null_column_without_default__refused(db: TestDatabase) -> None:
    seed(
        db,
        300,
        mirror=None,
        shape=Shape(
            "id INT PRIMARY KEY, v INT, w VARCHAR(20), z INT NOT NULL", "SELECT seq, seq, 'x', seq"
        ),
    )
    Migrator(make_config(db, "t", "DROP COLUMN z")).run()
    before = rows_md5(db, "t")
    with pytest.raises(PreflightError, match="column z of _t_del .* NOT NULL without a default"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]
    assert rows_md5(db, "t") == before
    assert "_t_rev_del" not in db.tables()


def test_revert__table_altered_since_cut_over__refused(db: TestDatabase) -> None:
    seed(db, 100, mirror=None)
    Migrator(make_config(db, "t", ALTER)).run()
    db.execute("ALTER TABLE t ADD COLUMN later INT")
    with pytest.raises(PreflightError, match="altered after the cut-over"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]


def test_revert__ok_to_drop_table__no_checkpoint_revert_refused(db: TestDatabase) -> None:
    seed(db, 100, mirror=None)
    Migrator(make_config(db, "t", ALTER, ok_to_drop_table=True)).run()
    assert "_t_del" not in db.tables()
    rows = db.query(f"SELECT checkpoint FROM {TABLE}") if TABLE in db.tables() else []
    assert [json.loads(r[0])["old"] for r in rows] == []
    with pytest.raises(PreflightError, match="no cut-over checkpoint"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]


def test_revert__with_resume__config_refused(db: TestDatabase) -> None:
    with pytest.raises(Exception, match="revert and resume exclude each other"):
        revert_config(db, resume=True).validate()  # type: ignore[attr-defined]


def test_revert__old_table_dropped_by_cleanup__checkpoint_forgotten(db: TestDatabase) -> None:
    seed(db, 100, mirror=None)
    Migrator(make_config(db, "t", ALTER)).run()
    code, _, err = run_cli(db, "--table=t", "--cleanup", "--drop-old", "--yes")
    assert code == 0, err
    assert "_t_del" not in db.tables()
    assert TABLE not in db.tables()
    with pytest.raises(PreflightError, match="no cut-over checkpoint"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]


def test_revert__binlog_of_another_server__refused(db: TestDatabase) -> None:
    seed(db, 100, mirror=None)
    Migrator(make_config(db, "t", ALTER)).run()
    (text,) = db.query(f"SELECT checkpoint FROM {TABLE}")[0]
    recorded = json.loads(text)
    assert recorded["source_server_id"] == int(db.query("SELECT @@server_id")[0][0])
    # As if the migration had read the binlog of another replica.
    recorded["source_server_id"] += 1000
    db.execute(f"UPDATE {TABLE} SET checkpoint = %s", (json.dumps(recorded),))
    with pytest.raises(PreflightError, match="binary log of the server with server_id"):
        Reverter(revert_config(db)).run()  # type: ignore[arg-type]
    assert "_t_del" in db.tables() and "_t_rev_del" not in db.tables()
