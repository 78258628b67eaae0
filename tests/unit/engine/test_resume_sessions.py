"""Ending a killed run's sessions before a resume (state/sessions.py): only the run's
own sessions, only while the server has not restarted, and only once they are gone."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.errors import PreflightError
from django_ghost.engine.state.sessions import end_sessions_of_killed_run


class FakeServer:
    """Answers the statements sessions.py sends; ``processlist`` maps id -> user, and a
    KILL removes the id after ``kill_lag`` more process-list reads."""

    def __init__(self, processlist: dict[int, str], *, started: int = 1000, kill_lag: int = 0):
        self.processlist = dict(processlist)
        self.started = started
        self.kill_lag = kill_lag
        self.killed: list[int] = []
        self._dying: dict[int, int] = {}
        self._rows: list[tuple[Any, ...]] = []

    def cursor(self) -> FakeServer:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        if sql.startswith("SELECT UNIX_TIMESTAMP()"):
            self._rows = [(self.started + 500,)]
        elif sql.startswith("SHOW GLOBAL STATUS"):
            self._rows = [("Uptime", "500")]
        elif sql.startswith("KILL CONNECTION"):
            session = int(sql.split()[-1])
            self.killed.append(session)
            self._dying[session] = self.kill_lag
        elif "PROCESSLIST" in sql:
            for session, left in list(self._dying.items()):
                if left == 0:
                    self.processlist.pop(session, None)
                    del self._dying[session]
                else:
                    self._dying[session] = left - 1
            wanted = set(params or ())
            self._rows = [(i, u) for i, u in self.processlist.items() if i in wanted]
        return len(self._rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


def _end(server: FakeServer, ids: tuple[int, ...], **kwargs: Any) -> list[int]:
    options: dict[str, Any] = {"user": "ghost", "started": 1000, "sleep": lambda s: None}
    options.update(kwargs)
    return end_sessions_of_killed_run(server, ids, **options)  # type: ignore[arg-type]


def test_end_sessions__still_running__killed_and_waited_for() -> None:
    server = FakeServer({40: "ghost", 41: "ghost", 99: "app"}, kill_lag=3)
    assert _end(server, (40, 41, 42)) == [40, 41]
    assert server.killed == [40, 41]
    assert 40 not in server.processlist and 41 not in server.processlist


def test_end_sessions__id_now_held_by_another_user__left_alone() -> None:
    server = FakeServer({40: "app"})
    assert _end(server, (40,)) == []
    assert server.killed == []


def test_end_sessions__server_restarted_since__nothing_killed() -> None:
    server = FakeServer({40: "ghost"}, started=5000)
    assert _end(server, (40,)) == []
    assert server.killed == []


def test_end_sessions__outlives_the_timeout__refused_naming_it() -> None:
    server = FakeServer({40: "ghost"}, kill_lag=10**9)
    with pytest.raises(PreflightError, match="session.s. 40 of the earlier run"):
        _end(server, (40,), timeout=0.0)
