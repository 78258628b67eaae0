"""The heartbeat thread writes only while allowed: critical-load hibernation writes nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

from django_ghost.engine.mysql.connection import ConnectionSpec
from django_ghost.engine.table.changelog import Heartbeat


class RecordingConnection:
    """Stands in for a session: records the statements a heartbeat sends."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def cursor(self) -> Any:
        conn = self

        class Cursor:
            def execute(self, sql: str, params: Any = None) -> int:
                conn.statements.append(sql)
                return 1

            def close(self) -> None:
                pass

        return Cursor()

    def close(self) -> None:
        pass


def _run(allowed: Any, seconds: float) -> RecordingConnection:
    conn = RecordingConnection()
    errors: list[BaseException] = []
    beat = Heartbeat(ConnectionSpec(), "_t_ghc", 0.01, lambda spec: conn, errors.append, allowed)
    beat.start()
    time.sleep(seconds)
    beat.stop()
    assert errors == []
    return conn


def test_heartbeat__allowed__writes_each_interval() -> None:
    conn = _run(lambda: True, 0.2)
    assert len(conn.statements) >= 3


def test_heartbeat__hibernating__writes_nothing_until_allowed_again() -> None:
    hibernating = threading.Event()
    hibernating.set()
    conn = RecordingConnection()
    beat = Heartbeat(
        ConnectionSpec(), "_t_ghc", 0.01, lambda spec: conn, print, lambda: not hibernating.is_set()
    )
    beat.start()
    time.sleep(0.2)
    during = len(conn.statements)
    hibernating.clear()
    time.sleep(0.2)
    beat.stop()
    assert during == 0
    assert len(conn.statements) >= 3
