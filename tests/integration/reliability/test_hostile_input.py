"""Bad and hostile input: each is refused with a GhostError naming the cause (and a
remedy), the original table keeps its rows and its SHOW CREATE TABLE, and no helper table
is left; odd but legal identifiers migrate correctly, checksum verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.errors import DataError, GhostError, PreflightError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.sql.quote import quote_identifier as q
from django_ghost.engine.state.revert_checkpoint import TABLE as REVERT_CHECKPOINTS
from tests.integration.helpers import (
    MirroredWriter,
    Mix,
    Shape,
    assert_migrated_like_mirror,
    copy_as_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase

BASE = "CREATE TABLE t (id INT PRIMARY KEY, v INT, w VARCHAR(20), n INT NULL)"


def _base(db: TestDatabase) -> None:
    db.execute(BASE)
    db.execute(
        "INSERT INTO t SELECT seq, seq % 7, CONCAT('w', seq), IF(seq % 10 = 0, NULL, seq) "
        "FROM seq_1_to_300"
    )


def _fk_child(db: TestDatabase) -> None:
    db.execute("CREATE TABLE p (id INT PRIMARY KEY)")
    db.execute("INSERT INTO p SELECT seq FROM seq_0_to_10")
    _base(db)
    db.execute("ALTER TABLE t ADD CONSTRAINT fk_t_p FOREIGN KEY (v) REFERENCES p (id)")


def _fk_parent(db: TestDatabase) -> None:
    _base(db)
    db.execute(
        "CREATE TABLE c (id INT PRIMARY KEY, t_id INT, FOREIGN KEY (t_id) REFERENCES t (id))"
    )


def _trigger(db: TestDatabase) -> None:
    _base(db)
    db.execute("CREATE TABLE audit (n INT)")
    db.execute("CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (1)")


# (id, setup, table, alter, options, error class, message pattern: cause ... remedy)
CASES: list[tuple[str, Any, str, str, dict[str, Any], type[GhostError], str]] = [
    ("malformed", _base, "t", "ADD COLUMN", {}, GhostError, r"column name.*write it"),
    ("garbage", _base, "t", "FROBNICATE THE TABLE", {}, GhostError, r"(?i)ALTER"),
    ("unclosed_paren", _base, "t", "ADD COLUMN x DECIMAL(10,2", {}, GhostError, r"unclosed"),
    ("rename_to", _base, "t", "RENAME TO t2", {}, PreflightError, r"renames the table.*RENAME"),
    ("rename_as", _base, "t", "ADD COLUMN x INT, RENAME AS t2", {}, PreflightError, r"RENAME"),
    (
        "drop_pk_no_replacement",
        _base,
        "t",
        "DROP PRIMARY KEY",
        {},
        PreflightError,
        r"No shared unique key.*Keep the primary key",
    ),
    ("unknown_table", _base, "nope", "ADD COLUMN x INT", {}, PreflightError, r"does not exist"),
    ("drop_unknown_column", _base, "t", "DROP COLUMN nope", {}, GhostError, r"nope"),
    (
        "change_unknown_column",
        _base,
        "t",
        "CHANGE nope nope2 INT",
        {"approve_renamed_columns": True},
        GhostError,
        r"nope",
    ),
    ("fk_child", _fk_child, "t", "ADD COLUMN x INT", {}, PreflightError, r"foreign keys.*Set"),
    ("fk_parent", _fk_parent, "t", "ADD COLUMN x INT", {}, PreflightError, r"referenced by"),
    ("trigger", _trigger, "t", "ADD COLUMN x INT", {}, PreflightError, r"triggers"),
    ("unique_over_duplicates", _base, "t", "ADD UNIQUE KEY (v)", {}, DataError, r"UNIQUE.*Remedy"),
    (
        "not_null_over_nulls",
        _base,
        "t",
        "MODIFY n INT NOT NULL",
        {},
        DataError,
        r"NULLs in a column.*Remedy",
    ),
    (
        "rename_without_approval",
        _base,
        "t",
        "CHANGE w w2 VARCHAR(20)",
        {},
        PreflightError,
        r"approve_renamed_columns",
    ),
    (
        "rename_column_without_approval",
        _base,
        "t",
        "RENAME COLUMN w TO w2",
        {},
        PreflightError,
        r"approve_renamed_columns",
    ),
    (
        "other_table_second_statement",
        _base,
        "t",
        "ALTER TABLE t ADD COLUMN x INT; ALTER TABLE p ADD COLUMN y INT",
        {},
        GhostError,
        r"alter different tables.*one table at a time",
    ),
    (
        "injection_in_alter",
        _base,
        "t",
        "ADD COLUMN x INT; DROP TABLE canary; --",
        {},
        GhostError,
        r"'DROP TABLE canary' is not an ALTER TABLE statement",
    ),
    (
        "executable_comment",
        _base,
        "t",
        "ADD COLUMN x INT /*!50000 , DROP TABLE canary */",
        {},
        GhostError,
        r"executable comment",
    ),
]


def _state(db: TestDatabase, table: str) -> tuple[Any, ...]:
    if table not in db.tables():
        return ()
    return db.show_create(table), db.checksum(table, order_by="1")


@pytest.mark.parametrize(
    ("setup", "table", "alter", "options", "error", "pattern"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_migrate__bad_input__clear_error_original_untouched(
    db: TestDatabase,
    tmp_path: Path,
    setup: Any,
    table: str,
    alter: str,
    options: dict[str, Any],
    error: type[GhostError],
    pattern: str,
) -> None:
    setup(db)
    db.execute("CREATE TABLE canary (id INT)")
    tables = sorted(db.tables())
    before = {name: _state(db, name) for name in tables}
    config = make_config(db, table, alter, serve_socket_file=str(tmp_path / "s.sock"), **options)
    with pytest.raises(error, match=pattern) as caught:
        Migrator(config).run()
    message = str(caught.value)
    print(f"{type(caught.value).__name__}: {message}")
    assert len(message) > 30, message  # a sentence, not a bare code
    assert sorted(db.tables()) == tables  # no helper left, nothing dropped
    assert {name: _state(db, name) for name in tables} == before


# -- odd but legal identifiers: these must work ------------------------------------------

ODD_NAMES = ["we`ird", "it's", "a b", "ünï", "order", "select", 'd"q', "x; DROP TABLE canary; --"]


@pytest.mark.parametrize("name", ODD_NAMES + ["T" * 64])
def test_migrate__odd_identifiers__migrated_and_verified(
    db: TestDatabase, tmp_path: Path, name: str
) -> None:
    table = name
    key = name[:60] + "_k"
    col = name[:60] + "_c"
    db.execute("CREATE TABLE canary (id INT)")
    definition = f"{q(key)} INT PRIMARY KEY, v INT, {q(col)} VARCHAR(20)"
    shape = Shape(definition, "SELECT seq, seq, CONCAT('c', seq)")
    seed(db, 500, table, mirror="mirror", shape=shape)
    alter = (
        f"ADD COLUMN {q(name[:60] + '_n')} INT NOT NULL DEFAULT 1, "
        f"MODIFY {q(col)} VARCHAR(40), ADD INDEX {q(name[:60] + '_i')} (v)"
    )
    # Through the quoted key and text column, to the table and to `mirror`.
    mix = Mix(
        500, (1, 7), first_id=100000, text="n{n}", move="", pause=0.0, key=key, text_column=col
    )
    writer = MirroredWriter(db, table, mirror="mirror", mix=mix)
    writer.start()
    result = Migrator(
        make_config(db, table, alter, serve_socket_file=str(tmp_path / "s.sock"))
    ).run()
    writer.finish()
    assert result.checksum_verified
    assert writer.failures == [] and writer.writes > 0
    db.execute(f"ALTER TABLE `mirror` {alter}")
    assert (
        db.show_create(table.replace("`", "``")).split("\n", 1)[1]
        == db.show_create("mirror").split("\n", 1)[1]
    )
    columns = ", ".join(q(c) for c in (key, "v", col, name[:60] + "_n"))
    assert db.checksum(table.replace("`", "``"), columns, order_by=q(key)) == db.checksum(
        "mirror", columns, order_by=q(key)
    )
    assert "canary" in db.tables()
    kept = (table, "mirror", "canary", REVERT_CHECKPOINTS)
    leftovers = [t for t in db.tables() if t not in kept]
    assert all(t.endswith("_del") for t in leftovers), leftovers


def test_migrate__64_char_table_default_socket_path__migrated(db: TestDatabase) -> None:
    table = "S" * 64
    db.execute(f"CREATE TABLE {q(table)} (id INT PRIMARY KEY, v INT)")
    db.execute(f"INSERT INTO {q(table)} SELECT seq, seq FROM seq_1_to_100")
    mirror = copy_as_mirror(db, table, "mirror")
    result = Migrator(make_config(db, table, "ADD COLUMN x INT")).run()
    assert result.checksum_verified
    assert_migrated_like_mirror(db, "ADD COLUMN x INT", table, mirror)
