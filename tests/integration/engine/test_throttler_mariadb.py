"""Throttler against a real server: SHOW GLOBAL STATUS thresholds, throttle-query, and the
background thread releasing a waiting loop when the throttling condition goes away."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError
from django_ghost.engine.throttle.load import connection_status_reader
from django_ghost.engine.throttle.options import ThrottleOptions
from django_ghost.engine.throttle.order import ThrottleReaders
from django_ghost.engine.throttle.query import connection_scalar_query
from django_ghost.engine.throttle.throttler import RealThrottler
from tests.plugins.mariadb import TestDatabase

NO_DEFAULT_FLAG = ThrottleOptions(throttle_additional_flag_file="", tick_seconds=0.02)


@pytest.fixture
def conn(db: TestDatabase) -> Any:
    connection = db.connect()
    yield connection
    connection.close()


@pytest.fixture
def context(db: TestDatabase) -> MigrationContext:
    return MigrationContext(GhostConfig(database=db.name, table="orders"))


def test_max_load__threads_connected_over_threshold__throttled_with_value(
    conn: Any, context: MigrationContext
) -> None:
    throttler = RealThrottler(
        context,
        options=NO_DEFAULT_FLAG,
        readers=ThrottleReaders(status_reader=connection_status_reader(conn)),
    )
    context.knobs.max_load = "Threads_connected=1"
    reason = throttler.check()
    assert reason is not None and reason.startswith("max-load Threads_connected=")
    assert reason.endswith(">= 1")
    context.knobs.max_load = "Threads_connected=1000000"
    assert throttler.check() is None


def test_max_load__unknown_variable__throttled_with_name(
    conn: Any, context: MigrationContext
) -> None:
    throttler = RealThrottler(
        context,
        options=NO_DEFAULT_FLAG,
        readers=ThrottleReaders(status_reader=connection_status_reader(conn)),
    )
    context.knobs.max_load = "No_such_status_variable=1"
    assert throttler.check() == "max-load: unknown status variable No_such_status_variable"


def test_critical_load__met__migration_aborted(conn: Any, context: MigrationContext) -> None:
    throttler = RealThrottler(
        context,
        options=NO_DEFAULT_FLAG,
        readers=ThrottleReaders(status_reader=connection_status_reader(conn)),
    )
    context.knobs.critical_load = "Threads_connected=1"
    throttler.check()
    assert context.aborted
    assert (context.abort_reason or "").startswith("critical-load met: Threads_connected=")


def test_throttle_query__real_results__positive_throttles_errors_ignored(
    conn: Any, context: MigrationContext
) -> None:
    throttler = RealThrottler(
        context,
        options=NO_DEFAULT_FLAG,
        readers=ThrottleReaders(scalar_query=connection_scalar_query(conn)),
    )
    results = {}
    for sql in ("SELECT 1", "SELECT 0", "SELECT NULL", "SELECT nonsense FROM nowhere"):
        context.knobs.throttle_query = sql
        results[sql] = throttler.check()
    assert results == {
        "SELECT 1": "throttle-query",
        "SELECT 0": None,
        "SELECT NULL": None,
        "SELECT nonsense FROM nowhere": None,
    }
    assert connection_scalar_query(conn)("SELECT 7") == 7  # the connection is still usable


def test_wait_while_throttled__query_on_table__released_when_rows_deleted(
    db: TestDatabase, conn: Any, context: MigrationContext
) -> None:
    db.execute("CREATE TABLE pause_requests (id INT PRIMARY KEY)")
    db.execute("INSERT INTO pause_requests VALUES (1)")
    context.knobs.throttle_query = f"SELECT COUNT(*) FROM `{db.name}`.pause_requests"
    options = ThrottleOptions(
        throttle_additional_flag_file="", tick_seconds=0.02, general_interval_seconds=0.05
    )
    throttler = RealThrottler(
        context,
        options=options,
        readers=ThrottleReaders(scalar_query=connection_scalar_query(conn)),
    )
    throttler.start()
    try:
        released = threading.Event()

        def copy_loop() -> None:
            throttler.wait_while_throttled()
            released.set()

        worker = threading.Thread(target=copy_loop)
        worker.start()
        time.sleep(0.3)
        assert not released.is_set()
        assert context.throttle_reason == "throttle-query"
        db.execute("DELETE FROM pause_requests")
        worker.join(timeout=10)
        assert released.is_set()
        assert context.throttle_reason is None
    finally:
        throttler.stop()


def test_wait_while_throttled__critical_load_while_waiting__raises_aborted(
    conn: Any, context: MigrationContext
) -> None:
    context.knobs.forced_throttle = True
    throttler = RealThrottler(
        context,
        options=NO_DEFAULT_FLAG,
        readers=ThrottleReaders(status_reader=connection_status_reader(conn)),
    )
    throttler.start()
    try:
        threading.Timer(
            0.1, setattr, args=(context.knobs, "critical_load", "Threads_connected=1")
        ).start()
        with pytest.raises(AbortedError, match="critical-load met: Threads_connected="):
            throttler.wait_while_throttled()
    finally:
        throttler.stop()
