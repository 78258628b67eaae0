"""Hook events beyond the main line of a migration: batch-copy-retry, rowcount-complete,
and the status event (and status line) while the copy is throttled; Python callables
configured by dotted path, without a hooks directory.

(stop-replication and start-replication need the replica: tests/integration/engine/
test_topology.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    AUTO_INCREMENT,
    RECORDED_HOOK_CALLS,
    HookRecorder,
    Run,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for


@pytest.fixture
def short_row_lock_waits(db: TestDatabase) -> Iterator[None]:
    """innodb_lock_wait_timeout of 1 s for the sessions opened meanwhile (the engine's)."""
    previous = db.scalar("SELECT @@GLOBAL.innodb_lock_wait_timeout")
    db.execute("SET GLOBAL innodb_lock_wait_timeout = 1")
    try:
        yield
    finally:
        db.execute(f"SET GLOBAL innodb_lock_wait_timeout = {int(previous)}")


def test_batch_copy_retry__chunk_waits_on_a_row_lock__hook_fired_then_copy_retried(
    db: TestDatabase, tmp_path: Path, short_row_lock_waits: None
) -> None:
    seed(db, 500)
    blocker = db.connect(autocommit=False)

    def block_the_ghost() -> None:
        # A locking read of the empty ghost holds its gap locks: every insert waits.
        blocker.cursor().execute("SELECT * FROM _t_gho FOR UPDATE")

    hooks = HookRecorder(
        on={"before-row-copy": block_the_ghost, "batch-copy-retry": blocker.rollback}
    )
    config = make_config(db, "t", "ADD COLUMN x INT", serve_socket_file=str(tmp_path / "s.sock"))
    try:
        result = Migrator(config, hooks=hooks).run()
    finally:
        blocker.close()
    retries = hooks.envs("batch-copy-retry")
    assert len(retries) == 1
    assert retries[0]["GHOST_LAST_BATCH_COPY_ERROR"].startswith("1205: Lock wait timeout")
    names = hooks.names()
    assert names.index("before-row-copy") < names.index("batch-copy-retry")
    assert names.index("batch-copy-retry") < names.index("row-copy-complete")
    assert result.rows_copied == 500
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_batch_copy_retry__hook_fails__ignored_and_migration_completes(
    db: TestDatabase, tmp_path: Path, short_row_lock_waits: None
) -> None:
    seed(db, 300)
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    log = tmp_path / "log"
    script = hooks_dir / "gh-ost-on-batch-copy-retry"
    script.write_text(f'#!/bin/sh\necho "$GH_OST_LAST_BATCH_COPY_ERROR" >> {log}\nexit 1\n')
    script.chmod(0o755)
    blocker = db.connect(autocommit=False)
    hooks = HookRecorder(
        on={
            "before-row-copy": lambda: blocker.cursor().execute("SELECT * FROM _t_gho FOR UPDATE"),
            "batch-copy-retry": blocker.rollback,
        }
    )
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        hooks_path=str(hooks_dir),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    try:
        Migrator(config, hooks=hooks).run()
    finally:
        blocker.close()
    assert log.read_text().startswith("1205: Lock wait timeout")
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_rowcount_complete__exact_rowcount__gh_ost_hook_gets_the_exact_count(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 600, shape=AUTO_INCREMENT)
    for table in ("t", "t_mirror"):
        db.execute(f"DELETE FROM {table} WHERE id % 3 = 0")  # 400 rows; statistics drift
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    log = tmp_path / "log"
    for event in ("startup", "rowcount-complete", "success"):
        script = hooks_dir / f"gh-ost-on-{event}"
        script.write_text(f'#!/bin/sh\necho "{event} $GH_OST_ESTIMATED_ROWS" >> {log}\n')
        script.chmod(0o755)
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        exact_rowcount=True,
        hooks_path=str(hooks_dir),
        serve_socket_file=str(tmp_path / "s.sock"),
    )
    Migrator(config).run()
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["startup", "rowcount-complete", "success"]
    assert lines[1] == "rowcount-complete 400"
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")


def test_rowcount_complete__no_exact_rowcount__not_fired(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 300)
    hooks = HookRecorder()
    config = make_config(db, "t", "ADD COLUMN x INT", serve_socket_file=str(tmp_path / "s.sock"))
    Migrator(config, hooks=hooks).run()
    assert "success" in hooks.names() and "rowcount-complete" not in hooks.names()


def test_status__throttled_copy__status_hook_and_line_keep_coming(
    db: TestDatabase, tmp_path: Path
) -> None:
    """The status hook (here a Python callable given by dotted path, no hooks directory)
    and the status line are reported while the copy waits on a throttle."""
    seed(db, 500)
    flag = tmp_path / "throttle"
    flag.touch()
    RECORDED_HOOK_CALLS.clear()
    printed: list[str] = []
    snapshots: list[Any] = []
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            throttle_flag_file=str(flag),
            hooks_callables="tests.integration.helpers.record_hook_call",
            hooks_status_interval=1,
            status_interval_seconds=1,
            serve_socket_file=str(tmp_path / "s.sock"),
        ),
        status_printer=printed.append,
        on_progress=snapshots.append,
    )
    run.start()
    context = run.migrator.context
    assert wait_for(lambda: context.phase == "copying" and context.throttle_reason, timeout=60)
    time.sleep(3.5)  # three status intervals, throttled throughout
    throttled_statuses = [
        env["GHOST_STATUS"]
        for event, env in list(RECORDED_HOOK_CALLS)
        if event == "status" and "State: throttled" in env["GHOST_STATUS"]
    ]
    throttled_lines = [line for line in printed if "State: throttled" in line]
    throttled_snapshots = [s for s in snapshots if s.throttle_reason]
    assert context.rows_copied == 0  # still throttled: the reports were not from copying
    flag.unlink()
    run.join(timeout=120)
    assert run.error is None, run.error
    assert len(throttled_statuses) >= 2, RECORDED_HOOK_CALLS
    assert all(f"flag-file {flag}" in status for status in throttled_statuses)
    assert len(throttled_lines) >= 2, printed
    assert len(throttled_snapshots) >= 2
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
