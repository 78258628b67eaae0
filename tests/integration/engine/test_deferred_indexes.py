"""Plain secondary indexes are dropped from the ghost before the copy and built after it."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from django_ghost.engine import deferred
from django_ghost.engine.migrator import Migrator
from tests.integration.engine.test_migrator import make_config
from tests.plugins.mariadb import TestDatabase

TABLE = (
    "CREATE TABLE {name} (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, "
    "e VARCHAR(40), c VARCHAR(60), UNIQUE KEY e_uq (e), KEY k_1 (k), "
    "KEY `odd ``name` (c(10), k) COMMENT 'prefix then k')"
)
ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 1, ADD KEY extra_k (extra, k)"


def seed(db: TestDatabase, name: str) -> None:
    db.execute(TABLE.format(name=name))
    db.execute(
        f"INSERT INTO {name} (k, e, c) SELECT seq % 97, CONCAT('e', seq), REPEAT('c', seq % 50) "
        "FROM seq_1_to_5000"
    )


class Writer(threading.Thread):
    """Writes to t and applies every write to the mirror m too."""

    def __init__(self, db: TestDatabase):
        super().__init__(daemon=True)
        self.conn = db.connect()
        self.stop = threading.Event()
        self.failures: list[str] = []

    def run(self) -> None:
        cur = self.conn.cursor()
        n = 0
        while not self.stop.is_set():
            n += 1
            for table in ("t", "m"):
                try:
                    cur.execute(f"UPDATE {table} SET k = k + 1 WHERE id = %s", (n * 7 % 5000,))
                    cur.execute(f"DELETE FROM {table} WHERE id = %s", (n * 13 % 5000,))
                    cur.execute(
                        f"INSERT INTO {table} (id, k, e, c) VALUES (%s, %s, %s, 'w')",
                        (10000 + n, n, f"w{n}"),
                    )
                except Exception as exc:  # noqa: BLE001 - counted and asserted on
                    self.failures.append(str(exc))


@pytest.mark.parametrize("defer", [True, False])
def test_migrate__secondary_indexes_under_writes__same_table_as_plain_alter(
    db: TestDatabase, defer: bool
) -> None:
    seed(db, "t")
    seed(db, "m")
    writer = Writer(db)
    writer.start()
    result = Migrator(
        make_config(db, "t", ALTER, defer_secondary_indexes=defer, chunk_size=500)
    ).run()
    writer.stop.set()
    writer.join()
    db.execute(f"ALTER TABLE m {ALTER}")

    assert writer.failures == []
    assert result.checksum_verified
    assert db.show_create("t") == db.show_create("m").replace("`m`", "`t`", 1)
    assert db.checksum("t", order_by="id") == db.checksum("m", order_by="id")


def test_migrate__index_added_meanwhile__build_skips_it(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A resumed run whose killed predecessor's ALTER finished meanwhile: by the time this
    # run's ALTER gets the table, one of its indexes exists already (error 1061).
    seed(db, "t")
    real_build = deferred.build

    def build_after_someone_else(conn: Any, session: Any, statement: str, tend: Any) -> None:
        monkeypatch.setattr(deferred, "build", real_build)  # only the first build races
        db.execute(
            "ALTER TABLE _t_gho ADD KEY k_1 (k), ADD KEY `odd ``name` (c(10), k) "
            "COMMENT 'prefix then k'"
        )
        real_build(conn, session, statement, tend)

    monkeypatch.setattr(deferred, "build", build_after_someone_else)
    plain = TABLE.format(name="m")
    db.execute(plain)
    db.execute(f"ALTER TABLE m {ALTER}")

    Migrator(make_config(db, "t", ALTER)).run()

    without_counter = re.compile(r" AUTO_INCREMENT=\d+")
    assert without_counter.sub("", db.show_create("t")) == db.show_create("m").replace(
        "`m`", "`t`", 1
    )
