"""A child table whose foreign key cascades from its parent: InnoDB changes the child's
rows itself, and those changes are not in the binlog as row events, so the new table
would silently miss them. The flags that let a child table be migrated
(discard_foreign_keys, skip_foreign_key_checks) must not let such a table through."""

from __future__ import annotations

import pytest

from django_ghost.engine.errors import PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import make_config, rows_md5
from tests.plugins.mariadb import TestDatabase


def _tables(db: TestDatabase, rule: str) -> None:
    db.execute("CREATE TABLE p (id INT PRIMARY KEY)")
    db.execute("INSERT INTO p SELECT seq FROM seq_1_to_10")
    db.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, v INT, w VARCHAR(20), pid INT, "
        f"CONSTRAINT t_parent_fk FOREIGN KEY (pid) REFERENCES p (id) {rule})"
    )
    db.execute("INSERT INTO t SELECT seq, seq, 'x', seq % 10 + 1 FROM seq_1_to_200")


@pytest.mark.parametrize("flag", ["discard_foreign_keys", "skip_foreign_key_checks"])
@pytest.mark.parametrize(
    "rule", ["ON DELETE CASCADE", "ON UPDATE CASCADE", "ON DELETE SET NULL", "ON UPDATE SET NULL"]
)
def test_migrate__child_of_cascading_foreign_key__refused_naming_it(
    db: TestDatabase, flag: str, rule: str
) -> None:
    _tables(db, rule)
    before = rows_md5(db, "t")
    config = make_config(db, "t", "ADD COLUMN extra INT", **{flag: True})
    with pytest.raises(PreflightError) as refused:
        Migrator(config).run()
    message = str(refused.value)
    assert "t_parent_fk" in message and rule in message
    assert "binlog" in message and "RESTRICT" in message  # the cause and the remedy
    assert rows_md5(db, "t") == before
    assert sorted(db.tables()) == ["p", "t"]


def test_migrate__child_of_restricting_foreign_key_discarded__migrated(db: TestDatabase) -> None:
    _tables(db, "ON DELETE RESTRICT ON UPDATE NO ACTION")
    before = rows_md5(db, "t")
    Migrator(make_config(db, "t", "ADD COLUMN extra INT", discard_foreign_keys=True)).run()
    assert "`extra` int" in db.show_create("t")
    assert "FOREIGN KEY" not in db.show_create("t")
    assert rows_md5(db, "t") == before
