"""XA transactions against the real sandbox: their rows are logged at ``XA PREPARE`` and
``XA COMMIT`` carries none, so the apply must take them at the commit (and drop them at
``XA ROLLBACK``). The oracle is a mirror table given the same changes in plain
transactions when (and only when) the XA transaction commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django_ghost.engine.errors import GhostError
from tests.integration.helpers import Run, make_config, position, rows_md5, seed
from tests.plugins.mariadb import TestDatabase, wait_for

XA_STATEMENTS = (
    "UPDATE {t} SET v = v + 1000 WHERE id BETWEEN 1 AND 10",
    "INSERT INTO {t} (id, v, w) VALUES (900001, 1, 'xa')",
    "DELETE FROM {t} WHERE id = 20",
)


def _prepare(conn: Any, xid: str) -> None:
    cur = conn.cursor()
    cur.execute(f"XA START '{xid}'")
    for statement in XA_STATEMENTS:
        cur.execute(statement.format(t="t"))
    cur.execute(f"XA END '{xid}'")
    cur.execute(f"XA PREPARE '{xid}'")


@contextlib.contextmanager
def _cleanup(db: TestDatabase, xid: str, run: Run) -> Iterator[Any]:
    """The XA session; however the test ends, no prepared XA transaction outlives it (it
    would survive its session and hold its locks) and the migration is stopped."""
    xa = db.connect()
    try:
        yield xa
    finally:
        # Another session may end a prepared XA transaction only once its own is gone.
        xa.close()
        with contextlib.suppress(Exception):
            db.execute(f"XA ROLLBACK '{xid}'")
        if run.is_alive():
            run.migrator.context.request_abort("the test is over")
            run.join(timeout=30)


def _mirror(db: TestDatabase) -> None:
    for statement in XA_STATEMENTS:
        db.execute(statement.format(t="m"))


def _wait_applied_past_now(db: TestDatabase, run: Run) -> None:
    """A plain write after the XA PREPARE (mirrored), then wait until the apply has
    passed it: the prepared rows, had they been applied at the PREPARE, are behind us."""
    db.execute("UPDATE t SET v = v + 1 WHERE id = 2000")
    db.execute("UPDATE m SET v = v + 1 WHERE id = 2000")
    target = position(db)

    def passed() -> bool:
        applied = run.migrator.context.applied_position
        return applied is not None and applied >= target

    assert wait_for(passed, timeout=20), "the apply never passed the write after XA PREPARE"


def _run(db: TestDatabase, tmp_path: Path) -> tuple[Run, Path]:
    seed(db, 3000, mirror="m")
    flag = tmp_path / "postpone"
    flag.touch()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN extra INT",
            chunk_size=100,
            nice_ratio=2.0,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    return run, flag


def _copied_past_the_xa_rows(run: Run) -> None:
    """Rows 1..20 are copied: the XA transaction changes rows the apply must refresh."""
    ctx = run.migrator.context
    assert wait_for(lambda: ctx.rows_copied >= 500, timeout=60), run.error


def test_xa__committed_during_copy__ghost_equals_mirror(db: TestDatabase, tmp_path: Path) -> None:
    run, flag = _run(db, tmp_path)
    run.start()
    with _cleanup(db, "x1", run) as xa:
        _copied_past_the_xa_rows(run)
        _prepare(xa, "x1")
        _wait_applied_past_now(db, run)
        xa.cursor().execute("XA COMMIT 'x1'")
        _mirror(db)
        assert wait_for(run.postponed, timeout=60), run.error
        flag.unlink()
        run.join(timeout=120)
    assert run.error is None, run.error
    assert "`extra` int" in db.show_create("t")
    assert rows_md5(db, "t") == rows_md5(db, "m")


def test_xa__rolled_back_during_copy__ghost_equals_mirror(db: TestDatabase, tmp_path: Path) -> None:
    run, flag = _run(db, tmp_path)
    run.start()
    with _cleanup(db, "x2", run) as xa:
        _copied_past_the_xa_rows(run)
        _prepare(xa, "x2")
        _wait_applied_past_now(db, run)
        xa.cursor().execute("XA ROLLBACK 'x2'")
        assert wait_for(run.postponed, timeout=60), run.error
        flag.unlink()
        run.join(timeout=120)
    assert run.error is None, run.error
    assert rows_md5(db, "t") == rows_md5(db, "m")


def test_xa__prepared_before_the_stream_started__aborts_original_untouched(
    db: TestDatabase, tmp_path: Path
) -> None:
    """Its rows were logged before the migration's start position: they cannot be had,
    so its commit must stop the migration, not be skipped."""
    run, flag = _run(db, tmp_path)
    with _cleanup(db, "x3", run) as xa:
        _prepare(xa, "x3")
        run.start()
        _copied_past_the_xa_rows(run)
        xa.cursor().execute("XA COMMIT 'x3'")
        _mirror(db)
        run.join(timeout=30)
        if run.is_alive():  # not stopped: let it cut over, and judge what it swapped in
            assert wait_for(run.postponed, timeout=60), run.error
            flag.unlink()
            run.join(timeout=120)
    assert isinstance(run.error, GhostError), run.error
    assert "XA transaction" in str(run.error) and "XA RECOVER" in str(run.error)
    assert "`extra`" not in db.show_create("t")
    assert rows_md5(db, "t") == rows_md5(db, "m")
    assert sorted(db.tables()) == ["m", "t"]
