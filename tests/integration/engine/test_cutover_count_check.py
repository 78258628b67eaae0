"""The cut-over's row count check: a ghost that diverged from the frozen original is never
swapped in (cutover/attempts.py, step 3; docs/cut-over.md "Row count check").

The divergence is made on purpose right after the final apply: the test wraps
``Attempt.carry_auto_increment`` (which runs under the lock, just after
``apply_up_to_lock``) so that it also deletes one ghost row, on the session it is given
(the main session in the atomic cut-over, the lock session holding the ghost WRITE in
the two-step one).
"""

from __future__ import annotations

import logging

import pytest

from django_ghost.engine.cutover.attempts import Attempt, CutOverCountMismatch
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


@pytest.fixture
def diverge(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Delete ghost row LOST_ID under the cut-over lock, after the final apply; returns
    the ghost names it was deleted from (one per attempt)."""
    carry = Attempt.carry_auto_increment
    attempts: list[str] = []

    def carry_and_lose_a_row(self: Attempt, conn: Connection) -> None:
        carry(self, conn)
        execute(conn, f"DELETE FROM {q(self.ghost)} WHERE id = {LOST_ID}")
        attempts.append(self.ghost)

    monkeypatch.setattr(Attempt, "carry_auto_increment", carry_and_lose_a_row)
    return attempts


def assert_lost_one_row_and_nothing_else(db: TestDatabase, alter: str) -> None:
    """Swapped in unchecked: the old table is the original (t_mirror, never written), the
    new one is the original after the ALTER, less row LOST_ID and nothing else."""
    assert_same_rows(db, "_t_del", "t_mirror")
    db.execute(f"DELETE FROM t_mirror WHERE id = {LOST_ID}")
    assert_migrated_like_mirror(db, alter)


def _sentries(db: TestDatabase) -> list[str]:
    return [
        str(name)
        for (name,) in db.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COMMENT = %s",
            (SENTRY_COMMENT,),
        )
    ]


@pytest.mark.parametrize("algorithm", ["atomic", "two-step"])
def test_cut_over__ghost_lost_a_row__migration_fails_and_original_stays(
    db: TestDatabase, diverge: list[str], algorithm: str
) -> None:
    seed(db, ROWS)
    before = db.checksum("t", order_by="id")
    ddl_before = db.show_create("t")
    config = make_config(db, "t", "ADD COLUMN extra INT NOT NULL DEFAULT 7", cut_over=algorithm)

    with pytest.raises(CutOverCountMismatch) as raised:
        Migrator(config).run()

    message = str(raised.value)
    assert isinstance(raised.value, CutOverError)
    assert f"original table t has {ROWS} rows but the ghost table has {ROWS - 1}" in message
    assert "the original table t is untouched" in message
    assert "please report it" in message
    assert "The ghost table _t_gho is kept for inspection" in message
    assert (raised.value.original_rows, raised.value.ghost_rows) == (ROWS, ROWS - 1)
    assert len(diverge) == 1  # not retried: another attempt would find the same divergence
    # No swap: the name t is still the original table, with its data and definition.
    assert db.checksum("t", order_by="id") == before
    assert db.show_create("t") == ddl_before
    assert "extra" not in db.show_create("t")
    # The attempt cleaned up (no sentry, no cut-over names); the ghost is kept aside.
    assert _sentries(db) == []
    assert sorted(db.tables()) == ["_t_gho", "t", "t_mirror"]
    assert db.scalar("SELECT COUNT(*) FROM _t_gho") == ROWS - 1
    assert db.scalar(f"SELECT COUNT(*) FROM _t_gho WHERE id = {LOST_ID}") == 0
    # The application can write to t again (no lock left behind).
    db.execute("INSERT INTO t (id, v, w) VALUES (100000, 1, 'after')")


def test_cut_over__check_disabled__diverged_ghost_swapped_in(
    db: TestDatabase, diverge: list[str]
) -> None:
    seed(db, ROWS)
    config = make_config(
        db, "t", "ADD COLUMN extra INT NOT NULL DEFAULT 7", cut_over_count_check_max_rows=0
    )

    result = Migrator(config).run()

    # Without the check the divergence goes through: the new table lacks the row, which
    # shows that the check (and nothing else) stops it in the test above.
    assert result.checksum_verified  # the checksum ran before the row was lost
    assert len(diverge) == 1
    assert "extra" in db.show_create("t")
    assert db.scalar("SELECT COUNT(*) FROM t") == ROWS - 1
    assert db.scalar(f"SELECT COUNT(*) FROM t WHERE id = {LOST_ID}") == 0
    assert db.scalar("SELECT COUNT(*) FROM _t_del") == ROWS
    assert_lost_one_row_and_nothing_else(db, "ADD COLUMN extra INT NOT NULL DEFAULT 7")


def test_cut_over__table_above_count_limit__check_skipped(
    db: TestDatabase, diverge: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    seed(db, ROWS)
    config = make_config(db, "t", "ADD COLUMN extra INT", cut_over_count_check_max_rows=ROWS - 1)

    with caplog.at_level(logging.INFO, logger="django_ghost"):
        Migrator(config).run()

    assert "extra" in db.show_create("t")
    assert db.scalar("SELECT COUNT(*) FROM t") == ROWS - 1
    assert any("row count check skipped" in r.getMessage() for r in caplog.records)
    assert_lost_one_row_and_nothing_else(db, "ADD COLUMN extra INT")


def test_cut_over__writes_through_the_swap__counts_match_and_logged(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    # Atomic only: the two-step cut-over has a gap where t does not exist, which fails
    # the writer's statements (error 1146) by design.
    seed(db, 3000)
    writer = MirroredWriter(db)
    writer.start()
    try:
        with caplog.at_level(logging.INFO, logger="django_ghost"):
            Migrator(make_config(db, "t", "ADD COLUMN extra INT")).run()
    finally:
        writer.finish()
    checks = [r.getMessage() for r in caplog.records if "row count check:" in r.getMessage()]
    assert checks, "the check did not run"
    assert "s under the lock" in checks[-1]
    assert writer.failures == []
    assert db.checksum("t", "id, v, w", order_by="id") == db.checksum(
        "t_mirror", "id, v, w", order_by="id"
    )
