"""What an automatic resume rests on (migrator.run, state/resume.py): the caller's stop
event is only read, a thread's lost connection counts as the run's, and the wait for
the server is bounded and interruptible; a resumed copy's rate counts its own rows."""

from __future__ import annotations

import threading
from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError, BinlogConnectionLost, BinlogError, GhostError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.state.resume import connection_loss, wait_for_server

CONFIG = GhostConfig(database="d", table="t", alter="ADD COLUMN x INT")


def test_request_abort__with_caller_stop_event__leaves_the_callers_event_unset() -> None:
    caller = threading.Event()
    migrator = Migrator(CONFIG, stop=caller)
    migrator.context.request_abort("lost", MySQLdb.OperationalError(2013, "gone"))
    assert migrator.context.aborted
    assert not caller.is_set()


def test_caller_stop__set__aborts_with_stop_requested() -> None:
    caller = threading.Event()
    migrator = Migrator(CONFIG, stop=caller)
    caller.set()
    assert migrator.context.aborted
    assert migrator.context.abort_reason == "stop requested"


def test_connection_loss__thread_lost_connection_behind_abort__found() -> None:
    cause = MySQLdb.OperationalError(2003, "Can't connect")
    assert connection_loss(AbortedError("heartbeat: ..."), cause) is cause
    lost = BinlogConnectionLost("could not reconnect")
    assert connection_loss(AbortedError("binlog stream failed"), lost) is lost


def test_connection_loss__other_errors__none() -> None:
    assert connection_loss(AbortedError("stop requested"), None) is None
    assert connection_loss(BinlogError("purged"), BinlogError("purged")) is None
    assert connection_loss(MySQLdb.OperationalError(1205, "lock wait"), None) is None


class Server:
    """Refuses ``down`` connections, then accepts."""

    def __init__(self, down: int):
        self.down = down
        self.tries = 0

    def connect(self, spec: Any) -> Any:
        self.tries += 1
        if self.tries <= self.down:
            raise MySQLdb.OperationalError(2003, "Can't connect")
        return self

    def close(self) -> None:
        pass


def test_wait_for_server__back_after_two_refusals__returns_once_it_accepts() -> None:
    server = Server(down=2)
    wait_for_server(server.connect, None, threading.Event(), timeout=30)
    assert server.tries == 3


def test_wait_for_server__never_back__gives_up_at_the_deadline() -> None:
    server = Server(down=1000)
    wait_for_server(server.connect, None, threading.Event(), timeout=1.0)
    assert 1 <= server.tries <= 3


def test_wait_for_server__stop_set__returns_at_once() -> None:
    server = Server(down=1000)
    stop = threading.Event()
    stop.set()
    wait_for_server(server.connect, None, stop, timeout=60)
    assert server.tries == 1


def test_copy_rate__resumed_with_checkpoint_rows__counts_only_this_runs_rows() -> None:
    now = [100.0]
    context = MigrationContext(CONFIG, clock=lambda: now[0])
    context.rows_copied = 50_000  # restored from the checkpoint
    context.copy_started_at = 100.0
    context.rows_copied_before = context.rows_copied
    now[0] = 110.0
    context.rows_copied += 1_000
    assert context.copy_rate() == 100.0


def test_run__connection_lost_after_the_swap__done_not_resumed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    migrator = Migrator(CONFIG)

    def swapped_then_lost(resources: Any) -> Any:
        resources.mark_resumable()
        migrator.context.set_phase("cut over")
        raise MySQLdb.OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(migrator, "_run_once", swapped_then_lost)
    monkeypatch.setattr(
        "django_ghost.engine.state.resume.wait_for_server",
        lambda *a: pytest.fail("an automatic resume was started"),
    )
    with pytest.raises(GhostError, match="the migration is done and there is nothing to resume"):
        migrator.run()
