"""ghost_migrate on a table with triggers: refused by default, naming the settings that
carry the triggers over; migrated online with them, the triggers then on the new table.

The oracle is Django's stock backend running the same migration on a copy of the table
with the same trigger: definitions, rows and the triggers' audit rows must be equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.test.utils import override_settings

from tests.integration.helpers import assert_same_rows, definition_body

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_row"


@contextmanager
def mirror_flow(**ghost: Any) -> Iterator[None]:
    with override_settings(
        MIGRATION_MODULES={"testapp": f"{FLOWS}.mirror"}, GHOST={**FORCE_ONLINE, **ghost}
    ):
        yield


def _prepare(dj: DjangoEnv) -> None:
    """Both aliases at 0001, 300 rows, an audit table and a trigger that fills it."""
    for alias, database in (("default", dj.db), ("stock", dj.stock)):
        dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
        database.execute(f"INSERT INTO {TABLE} SELECT seq, seq, 'x' FROM seq_1_to_300")
        database.execute("CREATE TABLE audit (seq INT AUTO_INCREMENT PRIMARY KEY, id INT, v INT)")
        database.execute(
            f"CREATE TRIGGER row_au AFTER UPDATE ON {TABLE} FOR EACH ROW "
            "INSERT INTO audit (id, v) VALUES (NEW.id, NEW.v)"
        )


def _triggers(dj: DjangoEnv) -> list[str]:
    return [
        str(r[0])
        for r in dj.db.query(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = %s",
            [TABLE],
        )
    ]


def test_ghost_migrate__table_with_trigger_by_default__refused_naming_the_setting(
    dj: DjangoEnv,
) -> None:
    with mirror_flow():
        _prepare(dj)
        before = dj.db.show_create(TABLE)
        with pytest.raises(CommandError, match="include_triggers"):
            dj.migrate("testapp")
    assert dj.applied() == ["0001_initial"]
    assert dj.db.show_create(TABLE) == before
    assert _triggers(dj) == ["row_au"]


def test_ghost_migrate__table_with_trigger_and_include_triggers__online_and_trigger_kept(
    dj: DjangoEnv,
) -> None:
    with mirror_flow(include_triggers=True, trigger_suffix="_new"):
        _prepare(dj)
        dj.migrate("testapp")
        dj.migrate("testapp", database="stock", command="migrate")
    assert dj.applied() == ["0001_initial", "0002_add_extra"]
    assert [r["status"] for r in dj.runs()] == ["done"]
    assert _triggers(dj) == ["row_au_new"]
    for database in (dj.db, dj.stock):
        database.execute(f"UPDATE {TABLE} SET v = v + 1 WHERE id <= 3")
    assert definition_body(dj.db, TABLE) == definition_body(dj.stock, TABLE)
    assert_same_rows(dj.db, TABLE, TABLE, expected_db=dj.stock)
    assert_same_rows(dj.db, "audit", "audit", key=("seq",), expected_db=dj.stock)
    assert dj.db.scalar("SELECT COUNT(*) FROM audit") == 3
