"""Tables keyed by MariaDB's own data types (UUID, INET6): the copy's bounds, the
checksum's and a checkpoint's round trip them as text, and the apply finds their rows
by the binlog's values. Before: the checksum session compared the key with its hex
bytes, found no row of the ghost in range, and refused every such table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import Run, make_config
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN x INT NOT NULL DEFAULT 5"

KEYS = {
    "UUID": "UUID()",
    "INET6": "CONCAT('2001:db8::', HEX(seq))",
}


def write_both(db: TestDatabase, statement: str) -> None:
    """The same change to ``t`` and to its mirror."""
    for table in ("t", "t_mirror"):
        db.execute(statement.format(t=table))


def table_md5(db: TestDatabase, table: str) -> str:
    return str(
        db.scalar(
            f"SELECT MD5(GROUP_CONCAT(CONCAT_WS(',', CAST(id AS CHAR), v, x) ORDER BY id)) "
            f"FROM {table}"
        )
    )


@pytest.mark.parametrize("key_type", sorted(KEYS))
def test_migration__native_type_primary_key_under_writes__equals_the_mirror(
    db: TestDatabase, tmp_path: Path, key_type: str
) -> None:
    for table in ("t", "t_mirror"):
        db.execute(f"CREATE TABLE {table} (id {key_type} NOT NULL PRIMARY KEY, v INT NOT NULL)")
    db.execute(f"INSERT INTO t SELECT {KEYS[key_type]}, seq FROM seq_1_to_2000")
    db.execute("INSERT INTO t_mirror SELECT id, v FROM t")
    flag = tmp_path / "postpone"
    flag.touch()
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            chunk_size=100,
            nice_ratio=1.0,
            checkpoint_seconds=1,
            postpone_cut_over_flag_file=str(flag),
        )
    )
    run.start()
    assert wait_for(lambda: run.migrator.context.rows_copied >= 500, timeout=60), run.error
    # During the copy and while postponed: updates, deletes, inserts and key moves.
    for phase in range(2):
        write_both(db, "UPDATE {t} SET v = v + 1000 WHERE v % 7 = " + str(phase))
        write_both(db, "DELETE FROM {t} WHERE v % 11 = " + str(phase))
        new = db.scalar(f"SELECT CAST({KEYS[key_type].replace('seq', str(9000 + phase))} AS CHAR)")
        write_both(db, f"INSERT INTO {{t}} VALUES ('{new}', -{phase + 1})")
        moved = db.scalar("SELECT CAST(id AS CHAR) FROM t WHERE v % 13 = 3 LIMIT 1")
        target = "2001:db8::ffff:" + str(phase) if key_type == "INET6" else None
        target = target or db.scalar("SELECT CAST(UUID() AS CHAR)")
        write_both(db, f"UPDATE {{t}} SET id = '{target}' WHERE id = '{moved}'")
        if phase == 0:
            assert wait_for(run.postponed, timeout=60), run.error
    flag.unlink()
    run.join(timeout=120)
    assert run.error is None, run.error
    db.execute(f"ALTER TABLE t_mirror {ALTER}")
    assert db.scalar("SELECT COUNT(*) FROM t") == db.scalar("SELECT COUNT(*) FROM t_mirror")
    assert table_md5(db, "t") == table_md5(db, "t_mirror")
