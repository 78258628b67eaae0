"""What a run releases after any step (state/resources.py): threads, then the tables it
created and does not keep, then its sessions, each newest first."""

from __future__ import annotations

from typing import Any

import MySQLdb

from django_ghost.engine.state.resources import Resources


class Session:
    """A connection that records its statements and its close into a shared log."""

    def __init__(self, name: str, log: list[str], *, fail: bool = False):
        self.name = name
        self.log = log
        self.fail = fail

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self.log.append(f"close {self.name}")


class Cursor:
    def __init__(self, session: Session):
        self.session = session

    def execute(self, sql: str, params: Any = None) -> int:
        if self.session.fail:
            raise MySQLdb.OperationalError(2013, "Lost connection")
        self.session.log.append(f"{self.session.name}: {sql}")
        return 0

    def fetchall(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def _run(log: list[str]) -> tuple[Resources, Session]:
    resources = Resources()
    main = resources.session(Session("main", log))
    resources.session(Session("lock", log))
    resources.table(main, "_t_ghc")
    resources.table(main, "_t_gho")
    resources.thread(lambda: log.append("stop streamer"))
    resources.thread(lambda: log.append("stop ops"))
    resources.session(Session("writer", log))
    return resources, main


def test_release__after_a_failure__threads_tables_sessions_newest_first() -> None:
    log: list[str] = []
    resources, _ = _run(log)
    resources.release()
    assert log == [
        "stop ops",
        "stop streamer",
        "main: DROP TABLE IF EXISTS `_t_gho`",
        "main: DROP TABLE IF EXISTS `_t_ghc`",
        "close writer",
        "close lock",
        "close main",
    ]
    log.clear()
    resources.release()
    assert log == []


def test_release__ghost_kept__only_changelog_dropped() -> None:
    log: list[str] = []
    resources, _ = _run(log)
    resources.keep("_t_gho")
    resources.release()
    assert [e for e in log if "DROP" in e] == ["main: DROP TABLE IF EXISTS `_t_ghc`"]


def test_release__tables_kept_for_resume__nothing_dropped() -> None:
    log: list[str] = []
    resources, _ = _run(log)
    resources.mark_resumable()
    resources.keep_tables()
    resources.release()
    assert resources.resumable
    assert not [e for e in log if "DROP" in e]
    assert log[-1] == "close main"


def test_stop_threads__then_release__threads_stopped_once() -> None:
    log: list[str] = []
    resources, _ = _run(log)
    resources.stop_threads()
    resources.release()
    assert log.count("stop ops") == 1 and log.count("stop streamer") == 1


def test_release__drop_fails__error_suppressed_and_sessions_closed() -> None:
    log: list[str] = []
    resources = Resources()
    broken = resources.session(Session("main", log, fail=True))
    resources.table(broken, "_t_gho")
    resources.release()
    assert log == ["close main"]
