"""Plain secondary indexes are dropped from the ghost before the copy and built after it,
or during it once the table turns out to be busy."""

from __future__ import annotations

import re

import pytest

from django_ghost.engine.copy import deferred
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    NO_KEY_MOVES,
    MirroredWriter,
    Shape,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase

SHAPE = Shape(
    "id INT AUTO_INCREMENT PRIMARY KEY, v INT, k INT NOT NULL DEFAULT 0, "
    "e VARCHAR(40), c VARCHAR(60), UNIQUE KEY e_uq (e), KEY k_1 (k), "
    "KEY `odd ``name` (c(10), k) COMMENT 'prefix then k', KEY v_1 (v)",
    "(v, k, e, c) SELECT seq, seq % 97, CONCAT('e', seq), REPEAT('c', seq % 50)",
)
ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 1, ADD KEY extra_k (extra, k)"


@pytest.mark.parametrize("defer", [True, False])
def test_migrate__secondary_indexes_under_writes__same_table_as_plain_alter(
    db: TestDatabase, defer: bool
) -> None:
    seed(db, 5000, mirror="m", shape=SHAPE)
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
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
    seed(db, 5000, shape=SHAPE)
    real_start = deferred.IndexBuild.start

    def start_after_someone_else(build: deferred.IndexBuild) -> None:
        db.execute(
            "ALTER TABLE _t_gho ADD KEY k_1 (k), ADD KEY `odd ``name` (c(10), k) "
            "COMMENT 'prefix then k'"
        )
        real_start(build)

    monkeypatch.setattr(deferred.IndexBuild, "start", start_after_someone_else)
    db.execute(f"CREATE TABLE m ({SHAPE.columns})")
    db.execute(f"ALTER TABLE m {ALTER}")

    Migrator(make_config(db, "t", ALTER)).run()

    without_counter = re.compile(r" AUTO_INCREMENT=\d+")
    assert without_counter.sub("", db.show_create("t")) == db.show_create("m").replace(
        "`m`", "`t`", 1
    )
    assert_migrated_like_mirror(db, ALTER)


def test_migrate__busy_table__indexes_built_early_same_table_as_plain_alter(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seed(db, 10_000, mirror="m", shape=SHAPE)
    # Judged after 0.05 s instead of 1 s: at most a few dozen chunks of 100 rows, each
    # followed by a pause of 3x its time, so the copy is still in its first half.
    monkeypatch.setattr(deferred, "EARLY_BUILD_AFTER_SECONDS", 0.05)
    writer = MirroredWriter(db, mirror="m", mix=NO_KEY_MOVES)
    writer.start()
    config = make_config(
        db, "t", ALTER, chunk_size=100, nice_ratio=3, early_index_build_events_per_second=1
    )
    with caplog.at_level("INFO", logger="django_ghost"):
        result = Migrator(config).run()
    writer.stop.set()
    writer.join()
    db.execute(f"ALTER TABLE m {ALTER}")

    early = [r.getMessage() for r in caplog.records if "deferred indexes now" in r.getMessage()]
    assert len(early) == 1, early
    copied_then = int(re.search(r"on the (\d+) rows", early[0]).group(1))  # type: ignore[union-attr]
    assert copied_then < 5000
    assert writer.failures == []
    assert result.checksum_verified
    assert db.show_create("t") == db.show_create("m").replace("`m`", "`t`", 1)
    assert db.checksum("t", order_by="id") == db.checksum("m", order_by="id")
