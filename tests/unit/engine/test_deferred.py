"""Which ghost indexes are built after the copy, read from SHOW CREATE TABLE text; the
build's statement on its own thread, killed when the migrator's turn raises or the run is
released; the early build when the table is busy."""

from __future__ import annotations

import threading
from typing import Any, cast

import MySQLdb
import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.copy.deferred import EarlyBuild, IndexBuild, plain_index_definitions

CREATE = """CREATE TABLE `t` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `k` int(11) NOT NULL DEFAULT 0,
  `c` varchar(120) NOT NULL,
  `e` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `e_uq` (`e`),
  KEY `k_1` (`k`),
  KEY `odd``name` (`c`(10),`k`) COMMENT 'prefix, then k',
  KEY `c_desc` (`c` DESC) USING BTREE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def test_plain_indexes__mixed_keys__only_plain_ones_in_order_verbatim() -> None:
    assert plain_index_definitions(CREATE) == [
        ("k_1", "KEY `k_1` (`k`)"),
        ("odd`name", "KEY `odd``name` (`c`(10),`k`) COMMENT 'prefix, then k'"),
        ("c_desc", "KEY `c_desc` (`c` DESC) USING BTREE"),
    ]


def test_plain_indexes__fulltext_present__none_deferred() -> None:
    with_fulltext = CREATE.replace(
        "  PRIMARY KEY (`id`),", "  PRIMARY KEY (`id`),\n  FULLTEXT KEY `ft` (`c`),"
    )

    assert plain_index_definitions(with_fulltext) == []


def test_plain_indexes__only_primary_and_unique__none() -> None:
    create = (
        "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  UNIQUE KEY `u` (`id`)\n)"
    )

    assert plain_index_definitions(create) == []


def test_plain_indexes__column_named_key__not_an_index() -> None:
    create = "CREATE TABLE `t` (\n  `KEY` int NOT NULL,\n  PRIMARY KEY (`KEY`)\n)"

    assert plain_index_definitions(create) == []


class Session:
    """A server session as the build sees it: ``CONNECTION_ID()`` answers 42; the ALTER
    runs until ``KILL QUERY 42`` on another session (``killed``), or returns at once when
    ``instant``."""

    def __init__(self, killed: threading.Event, *, instant: bool = False) -> None:
        self.killed = killed
        self.instant = instant
        self.statements: list[str] = []
        self.closed = False
        self._rows: list[tuple[Any, ...]] = []

    def cursor(self) -> Session:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.statements.append(sql)
        self._rows = [(42,)] if sql == "SELECT CONNECTION_ID()" else []
        if sql == "KILL QUERY 42":
            self.killed.set()
        elif sql.startswith("ALTER TABLE") and not self.instant:
            if not self.killed.wait(10):
                raise AssertionError("never killed")
            raise MySQLdb.OperationalError(1317, "Query execution was interrupted")
        return 0

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        self.closed = True


STATEMENT = "ALTER TABLE `_t_gho` ADD KEY `k_1` (`k`), ALGORITHM=INPLACE, LOCK=NONE"


def index_build(main: Session, builder: Session) -> IndexBuild:
    context = MigrationContext(GhostConfig(database="s", table="t", alter="ENGINE=InnoDB"))
    return IndexBuild(
        cast(Any, main),
        lambda: cast(Any, builder),
        context,
        STATEMENT,
        ghost="_t_gho",
        changelog="_t_ghc",
    )


def test_index_build__tend_raises__statement_killed_error_raised_session_closed() -> None:
    killed = threading.Event()
    main, builder = Session(killed), Session(killed)
    build = index_build(main, builder)

    def tend() -> None:
        raise RuntimeError("aborted while building")

    with pytest.raises(RuntimeError, match="aborted while building"):
        build.finish(tend)
    assert main.statements == ["KILL QUERY 42"]
    assert STATEMENT in builder.statements
    assert builder.closed and build.finished.is_set()
    build.stop()  # the release's call after the abort: nothing left to do
    assert main.statements == ["KILL QUERY 42"]


def test_index_build__statement_ends__tended_until_then_nothing_killed() -> None:
    killed = threading.Event()
    main, builder = Session(killed), Session(killed, instant=True)
    build = index_build(main, builder)
    build.start()
    assert build.finished.wait(10)
    turns: list[int] = []
    build.finish(lambda: turns.append(1))
    assert main.statements == [] and turns == []
    assert builder.closed and build.context.phase == "building indexes"


def test_index_build__stopped_while_running__killed_and_session_closed() -> None:
    killed = threading.Event()
    main, builder = Session(killed), Session(killed)
    build = index_build(main, builder)
    build.start()
    build.stop()
    assert main.statements == ["KILL QUERY 42"]
    assert build.finished.is_set() and builder.closed


class FakeBuild:
    """The build as the early rule sees it: ``finish`` records that it ran."""

    def __init__(self) -> None:
        self.finished_with: list[object] = []

    def finish(self, tend: object) -> None:
        self.finished_with.append(tend)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def early_build(events_per_second: int = 1000) -> tuple[EarlyBuild, FakeBuild, Clock]:
    config = GhostConfig(
        database="s",
        table="t",
        alter="ENGINE=InnoDB",
        early_index_build_events_per_second=events_per_second,
    )
    context = MigrationContext(config)
    context.rows_estimate = 1_000_000
    context.set_phase("copying")
    build, clock = FakeBuild(), Clock()
    rule = EarlyBuild(context, lambda: cast(Any, build), lambda: None, clock=clock)
    return rule, build, clock


def test_early_build__busy_table_after_a_second__built_once_copy_resumes() -> None:
    rule, build, clock = early_build()
    assert not rule.check()  # the first call only marks the start
    rule.context.add_applied(600)
    clock.now += 0.5
    assert not rule.check()  # too soon to judge, busy as it looks
    rule.context.add_applied(600)
    clock.now += 0.6
    assert rule.check()
    assert len(build.finished_with) == 1
    assert rule.context.phase == "copying"
    rule.context.add_applied(100_000)
    clock.now += 5
    assert not rule.check() and len(build.finished_with) == 1


def test_early_build__quiet_table__not_built() -> None:
    rule, build, clock = early_build()
    rule.check()
    rule.context.add_applied(999)
    clock.now += 1.0
    assert not rule.check()
    assert build.finished_with == [] and not rule.decided


def test_early_build__past_half_the_rows__left_for_after_the_copy() -> None:
    rule, build, clock = early_build()
    rule.check()
    rule.context.add_copied(500_001)
    rule.context.add_applied(1_000_000)
    clock.now += 2
    assert not rule.check()
    assert build.finished_with == [] and rule.decided


def test_early_build__option_zero__never_built() -> None:
    rule, build, clock = early_build(events_per_second=0)
    rule.check()
    rule.context.add_applied(1_000_000)
    clock.now += 2
    assert not rule.check()
    assert build.finished_with == []


def test_early_build__nothing_deferred__copy_goes_on() -> None:
    rule, _, clock = early_build()
    rule.build = lambda: None
    rule.check()
    rule.context.add_applied(5000)
    clock.now += 1
    assert not rule.check()
    assert rule.decided
