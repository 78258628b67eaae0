"""The routes the other Django tests switch off: INSTANT, and ``batch="migration"``.

The oracle is Django's own MySQL backend (alias ``stock``) running the same migrations
on a copy of the seeded table: ``SHOW CREATE TABLE`` and the rows must be equal. Which
route a change took is judged by the server, not by the router's word alone: an online
copy (or any rebuild) gives the table a new InnoDB table id, an instant change keeps it;
the history table counts the online copies.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test.utils import override_settings

from django_ghost.backends.mysql.router import INSTANT, ONLINE, Step
from django_ghost.management.commands.ghost_migrate import Command as GhostMigrate

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_item"
ROWS = 500
COLUMNS = "id, name, qty"


@contextmanager
def flow(name: str, **ghost: Any) -> Iterator[None]:
    with override_settings(
        MIGRATION_MODULES={"testapp": f"{FLOWS}.{name}"}, GHOST={**FORCE_ONLINE, **ghost}
    ):
        yield


def prepare(dj: DjangoEnv) -> None:
    """Both aliases at 0001 with the same ROWS rows."""
    values = ", ".join(f"('n{i}', {i})" for i in range(ROWS))
    for alias, database in (("default", dj.db), ("stock", dj.stock)):
        dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
        database.execute(f"INSERT INTO {TABLE} (name, qty) VALUES {values}")


def ghost_and_stock(dj: DjangoEnv, target: str, **options: Any) -> list[Step]:
    """``ghost_migrate testapp <target>`` (with ``options``) on default, ``migrate`` on
    stock; the steps the ghost_migrate run took (route, table, statements)."""
    command = GhostMigrate()
    # An instant step gets no history row (those are for online runs): the command's
    # session events are its record, and its summary line.
    dj.migrate("testapp", target, command=command, **options)
    dj.migrate("testapp", target, database="stock", command="migrate")
    return [s for s in command._session.events if s.table == TABLE]


def table_id(dj: DjangoEnv) -> int:
    """InnoDB's id of the table: any copy or rebuild changes it, an instant ALTER does not."""
    return int(
        dj.db.scalar(
            "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME = %s",
            [f"{dj.db.name}/{TABLE}"],
        )
    )


def assert_same_as_stock(dj: DjangoEnv, columns: str) -> None:
    assert dj.db.show_create(TABLE) == dj.stock.show_create(TABLE)
    assert dj.db.checksum(TABLE, columns, "id") == dj.stock.checksum(TABLE, columns, "id")
    assert dj.db.checksum(TABLE, columns, "id")[0] == ROWS


def test_ghost_migrate__instant_capable_add_field__instant_route_same_as_stock(
    dj: DjangoEnv,
) -> None:
    with flow("instant", instant_ddl=True):
        prepare(dj)
        before = table_id(dj)
        out = io.StringIO()
        steps = ghost_and_stock(dj, "0002_add_nullable", stdout=out, verbosity=1)
    assert [(s.route, s.done) for s in steps] == [(INSTANT, True)], steps
    summary = "testapp.0002_add_nullable `testapp_item`: done with ALGORITHM=INSTANT"
    assert summary in out.getvalue()
    assert steps[0].statements == ["ALTER TABLE `testapp_item` ADD COLUMN `note` varchar(20) NULL"]
    assert table_id(dj) == before, "the table was rebuilt: the change did not go INSTANT"
    assert dj.runs() == [], "an instant change must not start the engine"
    assert not [t for t in dj.db.tables() if t.startswith(f"_{TABLE}_")]
    assert dj.applied() == ["0001_initial", "0002_add_nullable"]
    assert_same_as_stock(dj, COLUMNS + ", note")


def test_ghost_migrate__engine_attempt_instant_ddl__engine_does_it_instantly_same_as_stock(
    dj: DjangoEnv,
) -> None:
    # The router's own probe off (instant_ddl=False): the engine's option does the same.
    with flow("instant", attempt_instant_ddl=True):
        prepare(dj)
        before = table_id(dj)
        out = io.StringIO()
        steps = ghost_and_stock(dj, "0002_add_nullable", stdout=out, verbosity=1)
    assert [(s.route, s.done) for s in steps] == [(ONLINE, True)], steps
    assert steps[0].result.instant and steps[0].result.rows_copied == 0
    assert table_id(dj) == before, "the table was rebuilt: the change did not go INSTANT"
    assert "`testapp_item`: done with ALGORITHM=INSTANT" in out.getvalue()
    assert not [t for t in dj.db.tables() if t.startswith(f"_{TABLE}_")]
    assert_same_as_stock(dj, COLUMNS + ", note")


def test_ghost_migrate__add_index_not_instant__falls_back_online_same_as_stock(
    dj: DjangoEnv,
) -> None:
    with flow("instant", instant_ddl=True):
        prepare(dj)
        ghost_and_stock(dj, "0002_add_nullable")
        before = table_id(dj)
        steps = ghost_and_stock(dj, "0003_add_index")
    assert [s.route for s in steps] == [ONLINE], steps
    assert steps[0].reason == "online copy through the engine (not instant)"
    assert table_id(dj) != before, "the table was not copied"
    runs = dj.runs()
    assert [(r["route"], r["status"], r["rows_copied"]) for r in runs] == [(ONLINE, "done", ROWS)]
    assert runs[0]["migration"] == "testapp.0003_add_index"
    assert "KEY `item_qty_idx` (`qty`)" in dj.db.show_create(TABLE)
    assert_same_as_stock(dj, COLUMNS + ", note")


def test_ghost_migrate__batch_migration_setting__three_alters_one_copy_same_as_stock(
    dj: DjangoEnv,
) -> None:
    with flow("batch", batch="migration"):
        prepare(dj)
        steps = ghost_and_stock(dj, "0002_three_alters")
    online = [s for s in steps if s.route == ONLINE]
    assert len(online) == 1, steps
    runs = dj.runs()
    assert [(r["status"], r["rows_copied"]) for r in runs] == [("done", ROWS)], runs
    text = str(dj.db.scalar("SELECT statements FROM django_ghost_onlinerun"))
    for part in ("ADD COLUMN `code`", "MODIFY `qty` bigint", "ADD INDEX `item_qty_idx`"):
        assert part in text, (part, text)
    assert dj.db.scalar(f"SELECT COUNT(*) FROM {TABLE} WHERE code = 'x'") == ROWS
    assert_same_as_stock(dj, COLUMNS + ", code")


def test_ghost_migrate__ghost_batch_operation__three_alters_one_copy_same_as_stock(
    dj: DjangoEnv,
) -> None:
    with flow("batch"):  # batch="operation", the default: GhostBatch alone merges them
        prepare(dj)
        ghost_and_stock(dj, "0002_three_alters")
        copies_before = len(dj.runs())
        steps = ghost_and_stock(dj, "0003_ghost_batch")
    assert copies_before > 1, "0002 without GhostBatch should take one copy per operation"
    runs = dj.runs()[copies_before:]
    assert [(r["status"], r["rows_copied"]) for r in runs] == [("done", ROWS)], runs
    assert runs[0]["migration"] == "testapp.0003_ghost_batch"
    assert len([s for s in steps if s.route == ONLINE]) == 1, steps
    assert dj.db.scalar(f"SELECT COUNT(*) FROM {TABLE} WHERE flag = 0") == ROWS
    assert_same_as_stock(dj, COLUMNS + ", code, flag")
