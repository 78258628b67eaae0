"""The whole migration against the real sandbox, with writers running during it."""

from __future__ import annotations

import threading

import pytest

from django_ghost.engine.errors import DataError, PreflightError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    AUTO_INCREMENT,
    AUTO_INCREMENT_MIX,
    MirroredWriter,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase


def test_migrate__add_column_under_writes__tables_match(db: TestDatabase) -> None:
    seed(db, 3000, shape=AUTO_INCREMENT)
    writer = MirroredWriter(db, mix=AUTO_INCREMENT_MIX)
    writer.start()
    result = Migrator(make_config(db, "t", "ADD COLUMN extra INT NOT NULL DEFAULT 7")).run()
    writer.stop.set()
    writer.join()
    assert writer.failures == []
    # The oracle: every write also went to t_mirror; the server's own ALTER of it is what
    # the migrated table must be, row by row.
    assert_migrated_like_mirror(db, "ADD COLUMN extra INT NOT NULL DEFAULT 7")
    assert result.rows_copied > 1000  # the writer deletes and moves rows meanwhile
    assert result.events_applied > 0
    assert result.checksum_verified
    assert "`extra` int(11) NOT NULL DEFAULT 7" in db.show_create("t")
    old = db.checksum("_t_del", "id, v, w", order_by="id")
    assert old[0] > 0
    # Writes kept going after the swap: compare the new table with what the writer did,
    # by replaying nothing: the shared columns of every row must be internally sane.
    assert db.scalar("SELECT COUNT(*) FROM t WHERE extra <> 7") == 0
    assert "_t_gho" not in db.tables() and "_t_ghc" not in db.tables()
    assert db.scalar(
        "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE "
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'"
    ) == db.scalar(
        "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE "
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't_mirror'"
    )


def test_migrate__unique_over_duplicates__fails_and_keeps_original(db: TestDatabase) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(20))")
    db.execute("INSERT INTO t SELECT seq, CONCAT('e', seq % 50) FROM seq_1_to_500")
    before = db.checksum("t", order_by="id")
    with pytest.raises(DataError, match="duplicates for a UNIQUE key"):
        Migrator(make_config(db, "t", "ADD UNIQUE KEY (email)")).run()
    assert db.checksum("t", order_by="id") == before
    assert sorted(db.tables()) == ["t"]


def test_migrate__no_unique_key__refused(db: TestDatabase) -> None:
    db.execute("CREATE TABLE t (a INT, b INT)")
    with pytest.raises(PreflightError, match="no PRIMARY KEY or UNIQUE key"):
        Migrator(make_config(db, "t", "ADD COLUMN c INT")).run()
    assert db.tables() == ["t"]


class HotRowWriter(threading.Thread):
    """Updates its own hot rows with increasing values; remembers the last committed."""

    def __init__(self, db: TestDatabase, table: str, rows: range):
        super().__init__(daemon=True)
        self.conn = db.connect()
        self.table = table
        self.rows = rows
        self.stop = threading.Event()
        self.last: dict[int, int] = {}
        self.failures: list[str] = []

    def run(self) -> None:
        cur = self.conn.cursor()
        n = 0
        while not self.stop.is_set():
            n += 1
            row = self.rows[n % len(self.rows)]
            try:
                cur.execute(f"UPDATE {self.table} SET v = %s WHERE id = %s", (n, row))
                self.last[row] = n
            except Exception as exc:  # noqa: BLE001 - counted and asserted on
                self.failures.append(str(exc))


def test_cut_over__updates_queued_during_swap__none_lost(db: TestDatabase) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT, w VARCHAR(20))")
    db.execute("INSERT INTO t SELECT seq, 0, 'x' FROM seq_1_to_2000")
    writers = [HotRowWriter(db, "t", range(1 + 10 * i, 11 + 10 * i)) for i in range(3)]
    for w in writers:
        w.start()
    for i in range(3):  # several swaps: each is a chance for a queued write to slip
        Migrator(make_config(db, "t", f"ADD COLUMN c{i} INT", ok_to_drop_table=True)).run()
    for w in writers:
        w.stop.set()
        w.join()
    expected = {row: value for w in writers for row, value in w.last.items()}
    assert all(w.failures == [] for w in writers)
    actual = dict(db.query("SELECT id, v FROM t WHERE id <= 30"))
    assert actual == expected
