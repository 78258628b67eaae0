"""The verification by key (verify/keyed.py; docs/cut-over.md "Verification by key"): a
ghost row that differs from the original for a key the apply wrote is repaired or
refused, never swapped in, whichever cut-over runs.

The faults are made where the verification by key looks, in the apply, after the
checksum (which runs before the cut-over and would see them otherwise):

- ``miss_rereads``: the apply's re-read of row LOST_ID (``Applier._reread``) skips that
  row, as if it were not yet visible to it: the ghost keeps a stale row (REPLACE) or
  none (DELETE + INSERT). Every time (no re-apply can fix it: refused), or the first
  time only (repaired). The application changes the row at ``before-cut-over``.
- ``corrupt_under_lock``: the application changes row LOST_ID just before the cut-over
  lock is taken, so the final drain applies it under the lock; then, still under the
  lock, that ghost row is changed on the session the attempt gives
  ``carry_auto_increment`` (the main session in the atomic cut-over, the lock session
  holding the ghost WRITE in the two-step one). Only the check under the lock can see it.

The oracle is the mirror: every write of the application also goes to ``t_mirror``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import pytest

from django_ghost.engine.apply.applier import Applier
from django_ghost.engine.cutover.attempts import Attempt, CutOverVerificationFailed
from django_ghost.engine.errors import CutOverError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import Connection, execute
from django_ghost.engine.sql.names import SENTRY_COMMENT
from django_ghost.engine.sql.quote import quote_identifier as q
from tests.integration.helpers import (
    MirroredWriter,
    assert_migrated_like_mirror,
    assert_same_rows,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase

ROWS = 500
LOST_ID = 250
ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7"
ALGORITHMS = ["atomic", "two-step"]


def touch_lost_row(db: TestDatabase) -> None:
    """The application's write of row LOST_ID, to the table and its mirror."""
    for table in ("t", "t_mirror"):
        db.execute(f"UPDATE {table} SET v = -1 WHERE id = {LOST_ID}")


class TouchBeforeCutOver:
    """A hook listener: at ``before-cut-over`` (after the checksum), the application
    writes row LOST_ID; the re-reads that follow may then miss it."""

    def __init__(self, db: TestDatabase, missing: dict[str, int]):
        self.db = db
        self.missing = missing

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        del extra_env
        if event == "before-cut-over":
            touch_lost_row(self.db)
            self.missing["armed"] = 1


@pytest.fixture
def miss_rereads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Once armed, the next ``left`` re-reads (-1: all) skip row LOST_ID; ``missed``
    counts them. No other row of t changes in these tests, so each re-read after the
    hook fired is one of LOST_ID."""
    reread = Applier._reread
    state = {"armed": 0, "left": -1, "missed": 0}

    def reread_missing_a_row(self: Applier, rows: int, *, replace: bool = False) -> str:
        sql = reread(self, rows, replace=replace)
        if not state["armed"] or state["left"] == 0:
            return sql
        state["left"] -= 1
        state["missed"] += 1
        return sql.replace(" WHERE ", f" WHERE {q('id')} <> {LOST_ID} AND ", 1)

    monkeypatch.setattr(Applier, "_reread", reread_missing_a_row)
    return state


@pytest.fixture
def corrupt_under_lock(db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Row LOST_ID written just before each cut-over lock, its ghost row changed under
    the lock after the final drain; returns the ghost names it was changed in."""
    lock_tables = Attempt.lock_tables
    carry = Attempt.carry_auto_increment
    corrupted: list[str] = []

    def touch_then_lock(self: Attempt, lock_conn: Connection, tables: str) -> float:
        touch_lost_row(db)
        return lock_tables(self, lock_conn, tables)

    def carry_and_corrupt(self: Attempt, conn: Connection) -> None:
        carry(self, conn)
        execute(conn, f"UPDATE {q(self.ghost)} SET v = v + 1000 WHERE id = {LOST_ID}")
        corrupted.append(self.ghost)

    monkeypatch.setattr(Attempt, "lock_tables", touch_then_lock)
    monkeypatch.setattr(Attempt, "carry_auto_increment", carry_and_corrupt)
    return corrupted


def _sentries(db: TestDatabase) -> list[str]:
    return [
        str(name)
        for (name,) in db.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COMMENT = %s",
            (SENTRY_COMMENT,),
        )
    ]


def _verification_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "verification by key" in r.getMessage()]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cut_over__reread_misses_a_row_every_time__refused_original_untouched(
    db: TestDatabase, miss_rereads: dict[str, int], algorithm: str
) -> None:
    seed(db, ROWS)
    ddl_before = db.show_create("t")
    config = make_config(db, "t", ALTER, cut_over=algorithm)

    with pytest.raises(CutOverVerificationFailed) as raised:
        Migrator(config, hooks=TouchBeforeCutOver(db, miss_rereads)).run()

    message = str(raised.value)
    assert isinstance(raised.value, CutOverError)
    assert raised.value.keys == [(LOST_ID,)]
    assert f"(keys: {LOST_ID})" in message
    assert "the original table t is untouched" in message
    assert "please report it" in message
    assert "The ghost table _t_gho is kept for inspection" in message
    assert miss_rereads["missed"] >= 2  # the apply, then the re-apply under the lock
    # No swap: t is the original, with every write of the application (the mirror).
    assert db.show_create("t") == ddl_before
    assert_same_rows(db, "t", "t_mirror")
    # The attempt cleaned up (no sentry, no cut-over names); the ghost is kept aside,
    # without the application's write of LOST_ID.
    assert _sentries(db) == []
    assert sorted(db.tables()) == ["_t_gho", "t", "t_mirror"]
    assert db.scalar(f"SELECT COUNT(*) FROM _t_gho WHERE id = {LOST_ID} AND v = -1") == 0
    # The application can write to t again (no lock left behind).
    db.execute("INSERT INTO t (id, v, w) VALUES (100000, 1, 'after')")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cut_over__reread_misses_a_row_once__repaired_equal_to_mirror(
    db: TestDatabase, miss_rereads: dict[str, int], algorithm: str
) -> None:
    seed(db, ROWS)
    miss_rereads["left"] = 1
    config = make_config(db, "t", ALTER, cut_over=algorithm)

    result = Migrator(config, hooks=TouchBeforeCutOver(db, miss_rereads)).run()

    assert result.checksum_verified
    assert miss_rereads["missed"] == 1
    assert_migrated_like_mirror(db, ALTER)


def test_cut_over__verification_off__stale_row_swapped_in(
    db: TestDatabase, miss_rereads: dict[str, int]
) -> None:
    seed(db, ROWS)
    config = make_config(db, "t", ALTER, verify_applied_keys=False)

    Migrator(config, hooks=TouchBeforeCutOver(db, miss_rereads)).run()

    # Without the verification the lost write goes through: the new table holds the old
    # value of LOST_ID, which shows that the verification (and nothing else) stops it in
    # the tests above. Everything else is the mirror after the ALTER.
    assert miss_rereads["missed"] >= 1
    assert "extra" in db.show_create("t")
    assert db.scalar(f"SELECT v FROM t WHERE id = {LOST_ID}") == LOST_ID
    assert_same_rows(db, "_t_del", "t_mirror")
    db.execute(f"UPDATE t_mirror SET v = {LOST_ID} WHERE id = {LOST_ID}")
    assert_migrated_like_mirror(db, ALTER)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cut_over__row_corrupted_after_the_final_drain__caught_under_the_lock_and_repaired(
    db: TestDatabase,
    corrupt_under_lock: list[str],
    algorithm: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(db, ROWS)
    config = make_config(db, "t", ALTER, cut_over=algorithm)

    with caplog.at_level(logging.INFO, logger="django_ghost"):
        Migrator(config).run()

    assert len(corrupt_under_lock) == 1
    logs = _verification_logs(caplog)
    assert any(f"keys differ ({LOST_ID}); re-applying them" in line for line in logs), logs
    assert any("keys compared, 1 re-applied (" in line for line in logs), logs
    assert_migrated_like_mirror(db, ALTER)


def test_cut_over__row_corrupted_after_the_final_drain_verification_off__swapped_in(
    db: TestDatabase, corrupt_under_lock: list[str]
) -> None:
    seed(db, ROWS)

    Migrator(make_config(db, "t", ALTER, verify_applied_keys=False)).run()

    assert len(corrupt_under_lock) == 1
    assert db.scalar(f"SELECT v FROM t WHERE id = {LOST_ID}") == -1 + 1000
    db.execute(f"UPDATE t_mirror SET v = v + 1000 WHERE id = {LOST_ID}")
    assert_migrated_like_mirror(db, ALTER)


@pytest.mark.parametrize("checksum", [True, False])
def test_cut_over__writes_through_the_swap__verified_and_equal_to_mirror(
    db: TestDatabase, caplog: pytest.LogCaptureFixture, checksum: bool
) -> None:
    # Atomic only: the two-step cut-over has a gap where t does not exist, which fails
    # the writer's statements (error 1146) by design. Without the checksum every key
    # applied since the stream started is verified by key, those applied during the copy
    # included (limited to the keys the copy has passed).
    seed(db, 3000)
    writer = MirroredWriter(db)
    writer.start()
    try:
        with caplog.at_level(logging.INFO, logger="django_ghost"):
            Migrator(make_config(db, "t", "ADD COLUMN extra INT", checksum=checksum)).run()
    finally:
        writer.finish()
    checks = [line for line in _verification_logs(caplog) if "s under the lock" in line]
    assert checks, "the verification under the lock did not run"
    found = re.search(r"in the background: (\d+) keys verified", checks[-1])
    assert found, checks[-1]
    if not checksum:
        assert int(found[1]) > 0, checks[-1]
    assert writer.failures == [] and writer.writes > 0
    assert_migrated_like_mirror(db, "ADD COLUMN extra INT")
