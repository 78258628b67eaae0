"""Critical-load hibernation against a real server: nothing is written while it lasts,
heartbeats included (gh-ost's hibernation reads and writes nothing)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from django_ghost.engine.errors import AbortedError
from tests.integration.helpers import Run, make_config, rows_md5, seed
from tests.plugins.mariadb import TestDatabase, wait_for


def _heartbeat(db: TestDatabase) -> str | None:
    if "_t_ghc" not in db.tables():
        return None
    value = db.scalar("SELECT value FROM `_t_ghc` WHERE hint = 'heartbeat'")
    return None if value is None else str(value)


def test_critical_load_hibernation__hibernating__no_heartbeat_written(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 2000)
    before = rows_md5(db, "t")
    stop = threading.Event()
    flag = tmp_path / "throttle"
    flag.touch()  # hold the copy until the heartbeats are seen going
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            throttle_flag_file=str(flag),
            heartbeat_interval_millis=100,
            critical_load_hibernate_seconds=3600,
            serve_socket_file=str(tmp_path / "s.sock"),
        ),
        stop=stop,
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(lambda: _heartbeat(db) is not None, timeout=30)
    first = _heartbeat(db)
    assert wait_for(lambda: _heartbeat(db) != first, timeout=10)  # heartbeats flow
    # Threads_connected is always >= 1: critical-load is met at the next check and,
    # with critical_load_hibernate_seconds, the throttler hibernates instead of aborting.
    ctx.knobs.critical_load = "Threads_connected=1"
    flag.unlink()
    assert wait_for(
        lambda: (ctx.throttle_reason or "").startswith("critical-load-hibernate"), timeout=30
    ), ctx.throttle_reason
    time.sleep(0.5)  # a heartbeat already on its way may still land
    during = _heartbeat(db)
    time.sleep(1.5)  # 15 heartbeat intervals
    assert _heartbeat(db) == during
    stop.set()
    run.join(timeout=60)
    assert isinstance(run.error, AbortedError)
    assert rows_md5(db, "t") == before
