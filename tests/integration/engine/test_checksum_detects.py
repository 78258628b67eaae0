"""The checksum is a judge that can say no: a ghost table that differs from the original by
one value (same row count) is refused, the original untouched.

The checksum runs once, after the copy and the catch-up and *before* the postponed
cut-over (migrator.py: ``verify_checksum`` then ``ops.wait_for_cut_over_approval``). So the
fault is made where the checksum must see it: by a hook at ``row-copy-complete`` (the
migrator's ``hooks`` argument, fired just after the copy) that writes to the ghost on its
own session, as anything but the engine could. Three faults: one value changed, a string
changed in case only (equal under a ``_ci`` collation), two rows' values swapped (the
same COUNT, SUM and per-column XOR: only a hash of each whole row, key included, tells),
and a NULL moved to the next column (the row's other values unchanged).

A fault made *while postponed*, after the checksum, is the verification by key's to see
(verify/keyed.py): the last test loses the apply of one change while the cut-over is
postponed, by writing the ghost row back to its old value right after the engine applied
it (on the engine's thread, so no verification can come in between), and expects the
row repaired or the migration refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.apply.applier import Applier
from django_ghost.engine.errors import ChecksumMismatchError, GhostError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    apply_to_mirror,
    assert_same_rows,
    helper_tables,
    make_config,
    rows_md5,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7"
ROWS = 4000
# The writers' mixes touch keys below 3000 only: the rows from 3001 up change only when
# a test changes them, so no applied event repairs the fault behind the checksum's back.
FAULTS = {
    "one_value": (3500,),
    "case_only": (3500,),
    "swap_two_rows": (3500, 3600),
    "null_moved_to_next_column": (3500,),
}
# Made in the original (and its mirror) before the run, so that the fault's row holds a
# NULL: CONCAT_WS skips NULLs, so (NULL, '7') and ('7', NULL) hash alike unless each
# nullable column's ISNULL flag is hashed too (verify/checksum.py, row_digests).
PREPARE = {"null_moved_to_next_column": "UPDATE {table} SET v = NULL, w = '7' WHERE id = 3500"}


def fault_statements(fault: str) -> list[str]:
    """The statements that make ``fault`` in the ghost table."""
    if fault == "one_value":
        return ["UPDATE _t_gho SET v = v + 1 WHERE id = 3500"]
    if fault == "case_only":
        return ["UPDATE _t_gho SET w = UPPER(w) WHERE id = 3500"]
    if fault == "null_moved_to_next_column":
        return ["UPDATE _t_gho SET v = 7, w = NULL WHERE id = 3500"]
    # Each row gets the other's values: the multiset of (v, w) stays the same.
    return [
        "UPDATE _t_gho SET v = 3600, w = 'x3600' WHERE id = 3500",
        "UPDATE _t_gho SET v = 3500, w = 'x3500' WHERE id = 3600",
    ]


class CorruptGhost:
    """A hook listener that runs ``statements`` on the test's own session when ``event``
    fires: the ghost changed by someone other than the engine."""

    def __init__(self, db: TestDatabase, event: str, statements: list[str]):
        self.db = db
        self.event = event
        self.statements = statements
        self.fired = 0

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        del extra_env
        if event == self.event:
            for statement in self.statements:
                self.db.execute(statement)
            self.fired += 1


def reported_range(message: str) -> tuple[int, int]:
    found = re.search(r"key range \('?(-?\d+)'?\) \.\. \('?(-?\d+)'?\)", message)
    assert found, message
    return int(found[1]), int(found[2])


def add_plain_index(db: TestDatabase) -> None:
    """A plain index on both tables: the ghost's is then built while the checksum runs
    (copy/deferred.py), so the comparison is the one made beside the build."""
    for table in ("t", "t_mirror"):
        db.execute(f"ALTER TABLE {table} ADD KEY v_1 (v)")


@pytest.mark.parametrize("indexed", [False, True], ids=["no_index", "index_built_meanwhile"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_checksum__ghost_value_changed_after_copy__refused_original_untouched(
    db: TestDatabase, fault: str, indexed: bool
) -> None:
    seed(db, ROWS)
    if indexed:
        add_plain_index(db)
    for table in ("t", "t_mirror"):
        if fault in PREPARE:
            db.execute(PREPARE[fault].format(table=table))
    before, ddl_before = rows_md5(db, "t"), db.show_create("t")
    corrupt = CorruptGhost(db, "row-copy-complete", fault_statements(fault))
    config = make_config(db, "t", ALTER, chunk_size=500, checksum_chunk_size=500)

    with pytest.raises(ChecksumMismatchError) as raised:
        Migrator(config, hooks=corrupt).run()

    assert corrupt.fired == 1
    message = str(raised.value)
    assert "the original table is untouched" in message
    low, high = reported_range(message)
    assert any(low <= key <= high for key in FAULTS[fault]), message
    assert rows_md5(db, "t") == before
    assert db.show_create("t") == ddl_before
    assert_same_rows(db, "t", "t_mirror")
    # The release drops what the run created when nothing was swapped (migrator.py).
    assert helper_tables(db) == []
    assert sorted(db.tables()) == ["t", "t_mirror"]


@pytest.mark.parametrize("indexed", [False, True], ids=["no_index", "index_built_meanwhile"])
def test_checksum__ghost_value_changed_under_writes__refused_original_equals_mirror(
    db: TestDatabase, indexed: bool
) -> None:
    seed(db, ROWS)
    if indexed:
        add_plain_index(db)
    ddl_before = db.show_create("t")
    writer = MirroredWriter(db)
    writer.start()
    corrupt = CorruptGhost(db, "row-copy-complete", fault_statements("one_value"))
    try:
        with pytest.raises(ChecksumMismatchError):
            Migrator(make_config(db, "t", ALTER), hooks=corrupt).run()
    finally:
        writer.finish()
    assert corrupt.fired == 1
    assert writer.failures == [] and writer.writes > 0
    assert db.show_create("t") == ddl_before
    assert_same_rows(db, "t", "t_mirror")
    assert helper_tables(db) == []


@pytest.fixture
def lose_apply_once(db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Right after the engine's apply first writes ghost row 3500 (``Applier._record``
    runs after the statements), the row goes back to its old value, as if that apply had
    been lost: written by another session, on the engine's thread."""
    record = Applier._record
    conn = db.connect()
    lost: list[str] = []

    def record_then_lose(self: Applier, keys: Iterable[tuple[Any, ...]]) -> None:
        keys = list(keys)
        record(self, keys)
        if (3500,) in keys and not lost:
            conn.cursor().execute(f"UPDATE `{self.ghost_table}` SET v = 3500 WHERE id = 3500")
            lost.append(self.ghost_table)

    monkeypatch.setattr(Applier, "_record", record_then_lose)
    yield lost
    conn.close()


def test_checksum__ghost_row_stale_while_postponed__refused_or_repaired(
    db: TestDatabase, tmp_path: Path, lose_apply_once: list[str]
) -> None:
    seed(db, ROWS)
    ddl_before = db.show_create("t")
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    # Setup failures raise RuntimeError: only the oracle's verdict is an AssertionError.
    try:
        if not wait_for(run.postponed, timeout=60):
            raise RuntimeError(f"never postponed: {run.error!r}")
        for table in ("t", "t_mirror"):
            db.execute(f"UPDATE {table} SET v = -1 WHERE id = 3500")
        # The engine applies the change to the ghost; then the ghost row goes back to its
        # old value, as if that apply had been lost (lose_apply_once).
        if not wait_for(lambda: bool(lose_apply_once), 30):
            raise RuntimeError("the change never reached the ghost")
    finally:
        flag.unlink(missing_ok=True)
        run.join(timeout=120)
    if run.is_alive():
        raise RuntimeError("the migration did not end")
    if run.error is None:
        # Swapped in: the new table must be the mirror after the same ALTER.
        apply_to_mirror(db, "t_mirror", ALTER)
        assert_same_rows(db, "t", "t_mirror")
    else:
        assert isinstance(run.error, GhostError), repr(run.error)
        assert db.show_create("t") == ddl_before
        assert_same_rows(db, "t", "t_mirror")
