"""The applier's coalescing and statement choice, against a connection that records SQL."""

from __future__ import annotations

import queue
from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.apply.applier import KEYS_PER_STATEMENT, Applier
from django_ghost.engine.apply.fence import SnapshotProbe, VisibilityFence, VisibilityFenceTimeout
from django_ghost.engine.apply.streamer import (
    Committed,
    HeartbeatSeen,
    KeyChange,
    Marker,
    StreamItem,
)
from django_ghost.engine.binlog.events import BinlogPosition
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import DataError
from django_ghost.engine.mysql.dataerrors import DUPLICATE_CONFIRMATIONS
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan

from .helpers import FenceServer


class RecordingConnection:
    """Just enough of a MySQLdb connection: every statement and its parameters."""

    def __init__(
        self,
        fail_with: list[Exception] | None = None,
        *,
        fail_verb: str = "",
        select_rows: list[list[Any]] | None = None,
    ):
        self.statements: list[tuple[str, list[Any]]] = []
        self.fail_with = list(fail_with or [])
        self.fail_verb = fail_verb
        self.select_rows = list(select_rows or [])
        self._rows: list[Any] = []

    def cursor(self) -> RecordingConnection:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        verb = sql.split()[0]
        if self.fail_with and verb != "SELECT" and verb.startswith(self.fail_verb):
            raise self.fail_with.pop(0)
        self.statements.append((sql, list(params or [])))
        self._rows = self.select_rows.pop(0) if verb == "SELECT" and self.select_rows else []
        return 1

    def fetchall(self) -> list[Any]:
        return self._rows

    def close(self) -> None:
        pass

    def verbs(self) -> list[str]:
        return [sql.split()[0] for sql, _ in self.statements]


def column(name: str, ordinal: int) -> Column:
    return Column(name, ordinal, "int", "int(11)", False, None, None, False, None, 10, 0, None)


def table(name: str, unique: tuple[UniqueKey, ...]) -> TableInfo:
    return TableInfo(
        schema="s",
        name=name,
        engine="InnoDB",
        columns=(column("id", 1), column("v", 2)),
        unique_keys=unique,
        row_estimate=0,
        auto_increment=None,
        triggers=(),
        child_foreign_keys=(),
        parent_foreign_keys=(),
    )


PRIMARY = UniqueKey("PRIMARY", ("id",), False)


START = BinlogPosition("binlog.000001", 4)


def at(pos: int) -> BinlogPosition:
    return BinlogPosition("binlog.000001", pos)


def make_applier(
    ghost_unique: tuple[UniqueKey, ...] = (PRIMARY,),
    fail_with: list[Exception] | None = None,
    server: FenceServer | None = None,
    **fake: Any,
) -> tuple[Applier, RecordingConnection, FenceServer]:
    plan = build_plan(
        table("t", (PRIMARY,)),
        table("_t_gho", ghost_unique),
        renamed={},
        dropped=frozenset(),
    )
    config = GhostConfig(database="s", table="t", alter="ENGINE=InnoDB", default_retries=3)
    writer, server = RecordingConnection(fail_with, **fake), server or FenceServer()
    context = MigrationContext(config)
    fence = VisibilityFence(
        server,  # type: ignore[arg-type]
        SnapshotProbe(same_server=True),
        context,
        sleep=lambda _: None,
    )
    applier = Applier(
        writer,  # type: ignore[arg-type]
        plan,
        context,
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        fence=fence,
        start_position=START,
    )
    applier.copying = False
    return applier, writer, server


def feed(*items: StreamItem) -> queue.Queue[StreamItem]:
    q: queue.Queue[StreamItem] = queue.Queue()
    for item in items:
        q.put(item)
    return q


def test_drain__many_events_on_one_key__one_statement() -> None:
    applier, writer, _ = make_applier()
    items = feed(*(KeyChange(((7,),)) for _ in range(50)))

    applier.drain(items, max_events=100)

    assert writer.verbs() == ["REPLACE"]
    assert writer.statements[0][1] == [7]
    assert applier.context.events_applied == 50


def test_drain__delete_after_insert__only_the_delete_counts() -> None:
    applier, writer, _ = make_applier()
    items = feed(KeyChange(((1,),)), KeyChange(((2,),)), KeyChange((), ((1,),)))

    applier.drain(items, max_events=100)

    assert [(sql.split()[0], params) for sql, params in writer.statements] == [
        ("DELETE", [1]),
        ("REPLACE", [2]),
    ]


def test_drain__update_moving_the_key__old_deleted_new_reread() -> None:
    applier, writer, _ = make_applier()

    applier.drain(feed(KeyChange(((20,),), ((10,),))), max_events=10)

    assert [(sql.split()[0], params) for sql, params in writer.statements] == [
        ("DELETE", [10]),
        ("REPLACE", [20]),
    ]


def test_drain__ghost_has_another_unique_key__delete_and_insert_in_a_transaction() -> None:
    applier, writer, _ = make_applier((PRIMARY, UniqueKey("uv", ("v",), False)))
    items = feed(KeyChange(((1,),)), KeyChange((), ((2,),)))

    applier.drain(items, max_events=10)

    assert writer.verbs() == ["BEGIN", "DELETE", "INSERT", "COMMIT"]
    assert writer.statements[1][1] == [1, 2]


def test_drain__fence__waits_once_for_the_last_consumed_position() -> None:
    server = FenceServer([("binlog.000001", 90), ("binlog.000001", 5000)])
    applier, writer, _ = make_applier(server=server)
    count = 2 * KEYS_PER_STATEMENT + 1
    items = feed(*(KeyChange(((i,),), position=at(100 + i)) for i in range(1, count + 1)))

    applier.drain(items, max_events=10 * KEYS_PER_STATEMENT)

    assert applier.consumed == at(100 + count)
    assert server.verbs() == ["SHOW", "SHOW"]  # one fence per batch, polled until reached
    assert writer.verbs() == ["REPLACE"] * 3


def test_drain__fence_never_reached__nothing_reread() -> None:
    server = FenceServer([("binlog.000001", 90)])
    applier, writer, _ = make_applier(server=server)
    ticks = iter(range(0, 10_000))
    applier.fence._clock = lambda: float(next(ticks))  # type: ignore[union-attr]

    with pytest.raises(VisibilityFenceTimeout, match="did not become visible"):
        applier.drain(feed(KeyChange(((1,),), position=at(100))), max_events=10)

    assert writer.statements == []


def test_drain__ghost_has_another_unique_key__fenced_before_the_transaction() -> None:
    server = FenceServer([("binlog.000001", 90)])
    applier, writer, _ = make_applier((PRIMARY, UniqueKey("uv", ("v",), False)), server=server)
    ticks = iter(range(0, 10_000))
    applier.fence._clock = lambda: float(next(ticks))  # type: ignore[union-attr]

    with pytest.raises(VisibilityFenceTimeout):
        applier.drain(feed(KeyChange(((1,),), position=at(100))), max_events=10)

    assert writer.statements == []


def test_drain__cut_over_lock_held__no_fence() -> None:
    applier, writer, server = make_applier()
    locked = RecordingConnection()

    applier.drain(
        feed(KeyChange(((1,),), position=at(100))),
        max_events=10,
        locked_conn=locked,  # type: ignore[arg-type]
    )

    assert server.statements == []
    assert locked.verbs() == ["REPLACE"]
    assert writer.statements == []


def test_drain__commit_after_the_rows__consumed_up_to_the_commit() -> None:
    applier, _, _ = make_applier()

    applier.drain(feed(KeyChange(((1,),), position=at(100)), Committed(at(150))), max_events=10)

    assert applier.consumed == at(150)


def test_drain__stream_delivers_rows_again__consumed_never_goes_back() -> None:
    applier, _, _ = make_applier()

    applier.drain(
        feed(KeyChange(((1,),), position=at(300)), KeyChange(((1,),), position=at(200))),
        max_events=10,
    )

    assert applier.consumed == at(300)


def test_drain__next_binlog_file__consumed_moves_to_it_though_its_offset_is_smaller() -> None:
    applier, _, _ = make_applier()
    applier.fence = None  # the fake server commits in binlog.000001 only
    later_file = BinlogPosition("binlog.000002", 4)

    applier.drain(
        feed(
            KeyChange(((1,),), position=at(900)),
            KeyChange(((1,),), position=later_file),
            KeyChange(((1,),), position=at(950)),  # delivered again after a reconnect
        ),
        max_events=10,
    )

    assert applier.consumed == later_file


def test_make_visible__nothing_consumed_yet__fenced_to_the_stream_start() -> None:
    server = FenceServer([("binlog.000001", 3), ("binlog.000001", 4)])
    applier, _, _ = make_applier(server=server)

    applier.make_visible()
    applier.make_visible()

    assert server.verbs() == ["SHOW", "SHOW"]  # polled up to START, then covered


def test_drain__marker__keys_before_it_applied_first() -> None:
    applier, writer, _ = make_applier()
    items = feed(KeyChange(((1,),)), Marker("m"), KeyChange(((2,),)), Committed("pos"))

    markers = applier.drain(items, max_events=10)

    assert markers == ["m"]
    assert [params for _, params in writer.statements] == [[1], [2]]
    assert applier.context.applied_position == "pos"


def test_drain__max_events__rest_stays_queued() -> None:
    applier, writer, _ = make_applier()
    items = feed(*(KeyChange(((i,),)) for i in range(10)))

    applier.drain(items, max_events=4)

    assert writer.statements[0][1] == [0, 1, 2, 3]
    assert items.qsize() == 6


def test_drain__deadlock__statement_retried() -> None:
    deadlock = MySQLdb.OperationalError(1213, "Deadlock found")
    applier, writer, _ = make_applier(fail_with=[deadlock])

    applier.drain(feed(KeyChange(((1,),))), max_events=10)

    assert writer.verbs() == ["REPLACE"]


def test_drain__value_out_of_range__data_error_names_the_cause() -> None:
    too_big = MySQLdb.DataError(1264, "Out of range value for column 'v' at row 1")
    applier, _, _ = make_applier(fail_with=[too_big])

    with pytest.raises(DataError, match="out of range"):
        applier.drain(feed(KeyChange(((1,),))), max_events=10)


UNIQUE_V = UniqueKey("uv", ("v",), False)


def test_drain__stale_ghost_row_holds_the_value__refreshed_with_the_batch() -> None:
    duplicate = MySQLdb.IntegrityError(1062, "Duplicate entry '5' for key 'uv'")
    applier, writer, _ = make_applier(
        (PRIMARY, UNIQUE_V), [duplicate], fail_verb="INSERT", select_rows=[[(9,)]]
    )

    applier.drain(feed(KeyChange(((1,),))), max_events=10)

    inserts = [params for sql, params in writer.statements if sql.startswith("INSERT")]
    assert inserts == [[1, 9]]  # the ghost row holding the value (key 9) came along


def test_drain__duplicate_in_the_original__data_error_after_confirmations() -> None:
    duplicate = MySQLdb.IntegrityError(1062, "Duplicate entry '5' for key 'uv'")
    applier, writer, _ = make_applier((PRIMARY, UNIQUE_V), [duplicate] * 5, fail_verb="INSERT")

    with pytest.raises(DataError, match="duplicates"):
        applier.drain(feed(KeyChange(((1,),))), max_events=10)
    assert writer.verbs().count("SELECT") == DUPLICATE_CONFIRMATIONS


def test_drain__colliding_value_moved_away_before_the_lookup__retried_not_an_error() -> None:
    # The lookup finds no stale ghost row: a writer changed the row between the failed
    # write and the lookup. The next attempt reads the new value and succeeds.
    duplicate = MySQLdb.IntegrityError(1062, "Duplicate entry '5' for key 'uv'")
    applier, writer, _ = make_applier((PRIMARY, UNIQUE_V), [duplicate], fail_verb="INSERT")

    applier.drain(feed(KeyChange(((1,),))), max_events=10)

    inserts = [params for sql, params in writer.statements if sql.startswith("INSERT")]
    assert inserts == [[1]]


def test_drain__heartbeat_behind_queued_changes__lag_measured_once_they_are_applied() -> None:
    applier, writer, _ = make_applier()
    applier.clock = lambda: 110.0

    applier.drain(feed(KeyChange(((1,),)), HeartbeatSeen(100.0)), max_events=10)

    assert writer.verbs().count("REPLACE") == 1
    assert applier.context.lag_seconds == 10.0


def test_drain__no_heartbeat_taken__lag_unchanged() -> None:
    applier, _, _ = make_applier()
    applier.context.lag_seconds = 3.0

    applier.drain(feed(KeyChange(((1,),))), max_events=10)

    assert applier.context.lag_seconds == 3.0
