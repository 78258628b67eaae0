"""The schema-change watch around the cut-over: another session's ALTER of the original
must stop the migration whenever it lands, also between two cut-over attempts (the
ghost would be swapped in without the change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_ghost.engine.errors import GhostError
from tests.integration.helpers import Run, make_config, seed
from tests.plugins.mariadb import TestDatabase, wait_for


@pytest.mark.parametrize("algorithm", ["atomic", "two-step"])
def test_cut_over__failed_attempt_then_alter_of_original__aborts_with_schema_change(
    db: TestDatabase, tmp_path: Path, algorithm: str
) -> None:
    seed(db, 2000, mirror=None)
    flag = tmp_path / "postpone"
    flag.touch()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN extra INT",
            cut_over=algorithm,
            cut_over_lock_timeout_seconds=1,
            default_retries=30,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(run.postponed, timeout=60), run.error
    # A reader of the ghost holds its metadata lock: every attempt times out (renaming
    # the ghost, or locking it for the two-step swap) and is retried.
    holder = db.connect(autocommit=False)
    holder.cursor().execute("SELECT 1 FROM _t_gho LIMIT 1")
    try:
        flag.unlink()
        assert wait_for(lambda: ctx.cut_over_attempts >= 2, timeout=60), run.error
        db.execute("ALTER TABLE t ADD COLUMN z INT")
    finally:
        # The next attempt could swap now: only the watch can stop it.
        holder.rollback()
        holder.close()
    run.join(timeout=120)
    assert not run.is_alive()
    assert isinstance(run.error, GhostError), run.error
    assert "changed by another statement" in str(run.error)
    assert "ALTER TABLE t ADD COLUMN z" in str(run.error)
    create = db.show_create("t")
    assert "`z` int" in create and "`extra`" not in create
    assert db.scalar("SELECT COUNT(*) FROM t") == 2000
    assert sorted(db.tables()) == ["t"]
