"""The applier's coalescing and statement choice, against a connection that records SQL."""

from __future__ import annotations

import queue
from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.apply.applier import KEYS_PER_STATEMENT, Applier
from django_ghost.engine.apply.streamer import Committed, KeyChange, Marker, StreamItem
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import DataError
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan


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


def make_applier(
    ghost_unique: tuple[UniqueKey, ...] = (PRIMARY,),
    fail_with: list[Exception] | None = None,
    **fake: Any,
) -> tuple[Applier, RecordingConnection, RecordingConnection]:
    plan = build_plan(
        table("t", (PRIMARY,)),
        table("_t_gho", ghost_unique),
        renamed={},
        dropped=frozenset(),
    )
    config = GhostConfig(database="s", table="t", alter="ENGINE=InnoDB", default_retries=3)
    writer, barrier = RecordingConnection(fail_with, **fake), RecordingConnection()
    applier = Applier(
        writer,  # type: ignore[arg-type]
        plan,
        MigrationContext(config),
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        lock_clause="LOCK IN SHARE MODE",
        barrier_conn=barrier,  # type: ignore[arg-type]
    )
    applier.copying = False
    return applier, writer, barrier


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


def test_drain__barrier__locks_the_last_queued_key_once() -> None:
    applier, _, barrier = make_applier()
    items = feed(*(KeyChange(((i,),)) for i in range(1, 2 * KEYS_PER_STATEMENT + 2)))

    applier.drain(items, max_events=10 * KEYS_PER_STATEMENT)

    assert len(barrier.statements) == 1
    sql, params = barrier.statements[0]
    assert "LOCK IN SHARE MODE" in sql
    assert params == [2 * KEYS_PER_STATEMENT + 1]


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


def test_drain__duplicate_in_the_original__data_error() -> None:
    duplicate = MySQLdb.IntegrityError(1062, "Duplicate entry '5' for key 'uv'")
    applier, _, _ = make_applier((PRIMARY, UNIQUE_V), [duplicate], fail_verb="INSERT")

    with pytest.raises(DataError, match="duplicates"):
        applier.drain(feed(KeyChange(((1,),))), max_events=10)
