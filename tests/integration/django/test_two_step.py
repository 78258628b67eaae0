"""A successful two-step cut-over (``cut_over="two-step"``) through ghost_migrate, end to end
under a mirrored writer.

The oracle is the mirror: every write that reached the table was also made to
``testapp_row_mirror`` right after it, and the mirror then gets the migration's change
with a plain ALTER; the migrated table must hold exactly the mirror's rows, and its
definition must be what Django's stock backend makes of the same migration.
"""

from __future__ import annotations

import time
from typing import Any

import MySQLdb
import pytest
from django.test.utils import override_settings

from django_ghost.engine.cutover.two_step import TwoStepAttempt
from tests.integration.helpers import MirroredWriter

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_row"
MIRROR = f"{TABLE}_mirror"
ROWS = 3000
COLUMNS = "id, v, w, extra"
# What Django's stock backend runs for 0002_add_extra (sqlmigrate), the mirror's plain ALTER.
PLAIN_ALTER = (
    f"ALTER TABLE `{MIRROR}` ADD COLUMN `extra` integer DEFAULT 7 NOT NULL",
    f"ALTER TABLE `{MIRROR}` ALTER COLUMN `extra` DROP DEFAULT",
)


class TableFirstWriter(MirroredWriter):
    """The mirrored writer's statements, with the mirror's copy of a statement made only
    when the table's succeeded: the two-step cut-over has a moment where the table's name
    does not exist, and a write the table refused must not reach the mirror."""

    def run(self) -> None:
        cur = self.conn.cursor()
        table, mirror = self.tables
        self.mirror_failures: list[str] = []
        n = 0
        while not self.stop.is_set():
            n += 1
            pairs = zip(self.mix.statements(table, n), self.mix.statements(mirror, n), strict=True)
            for (sql, params), (mirror_sql, mirror_params) in pairs:
                try:
                    cur.execute(sql, params)
                except MySQLdb.Error as exc:
                    self.failures.append(f"{table}: {exc}")
                    continue
                self.writes += 1
                try:
                    cur.execute(mirror_sql, mirror_params)
                except MySQLdb.Error as exc:  # asserted empty by the test
                    self.mirror_failures.append(f"{mirror}: {exc}")
            time.sleep(self.mix.pause)


@pytest.fixture
def two_step_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Outcomes ("ok" or the error) of every two-step attempt the engine ran."""
    outcomes: list[str] = []
    run = TwoStepAttempt.run

    def observed(self: TwoStepAttempt) -> None:
        try:
            run(self)
        except BaseException as exc:
            outcomes.append(repr(exc))
            raise
        outcomes.append("ok")

    monkeypatch.setattr(TwoStepAttempt, "run", observed)
    return outcomes


def rows(dj: DjangoEnv, table: str) -> list[tuple[Any, ...]]:
    return dj.db.query(f"SELECT {COLUMNS} FROM `{table}` ORDER BY id")


def test_ghost_migrate__two_step_cut_over_under_mirrored_writes__table_equals_altered_mirror(
    dj: DjangoEnv, two_step_attempts: list[str]
) -> None:
    ghost = {**FORCE_ONLINE, "cut_over": "two-step"}
    with override_settings(MIGRATION_MODULES={"testapp": f"{FLOWS}.mirror"}, GHOST=ghost):
        for alias in ("default", "stock"):
            dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
        dj.db.execute(
            f"INSERT INTO {TABLE} (id, v, w) SELECT seq, seq, CONCAT('x', seq) FROM seq_1_to_{ROWS}"
        )
        dj.db.execute(f"CREATE TABLE {MIRROR} LIKE {TABLE}")
        dj.db.execute(f"INSERT INTO {MIRROR} SELECT * FROM {TABLE}")
        writer = TableFirstWriter(dj.db, TABLE)
        writer.start()
        try:
            time.sleep(0.3)  # writes before, during and after the copy
            dj.migrate("testapp", chunk_size=100)
            writes_at_cut_over = writer.writes
            time.sleep(0.3)
        finally:
            writer.finish()
        dj.migrate("testapp", database="stock", command="migrate")
    assert two_step_attempts and two_step_attempts[-1] == "ok", two_step_attempts
    assert writer.mirror_failures == []
    assert writer.writes > writes_at_cut_over > 0, "the writer did not write around the run"
    runs = dj.runs()
    assert [(r["status"], r["migration"]) for r in runs] == [("done", "testapp.0002_add_extra")]
    assert runs[0]["events_applied"] > 0, "no write reached the binlog apply"
    assert dj.applied() == ["0001_initial", "0002_add_extra"]
    for statement in PLAIN_ALTER:
        dj.db.execute(statement)
    assert rows(dj, TABLE) == rows(dj, MIRROR)
    assert dj.db.show_create(TABLE) == dj.stock.show_create(TABLE)
    assert dj.db.show_create(MIRROR).replace(MIRROR, TABLE) == dj.db.show_create(TABLE)
    assert not [t for t in dj.db.tables() if t.startswith(f"_{TABLE}_")]
