"""ghost_migrate through call_command against the sandbox.

The oracle is Django's own MySQL backend (alias ``stock``) running the same migrations:
after every step, forwards and backwards, both databases must have identical
``SHOW CREATE TABLE`` output.
"""

from __future__ import annotations

import io
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import MySQLdb
import pytest
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_ghost.backends.mysql import router as router_module
from django_ghost.engine.errors import CutOverError
from tests.integration.helpers import assert_same_rows, definition_body

from .conftest import DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
OPS = [
    "0001_initial",
    "0002_add_nullable",
    "0003_add_not_null_default",
    "0004_alter_type",
    "0005_alter_null",
    "0006_alter_default",
    "0007_rename_field",
    "0008_add_index",
    "0009_remove_index",
    "0010_unique_constraint",
    "0011_check_constraint",
    "0012_unique_together",
    "0013_remove_field",
    "0014_runsql",
    "0015_runpython",
    "0016_rename_model",
    "0017_delete_model",
]


@contextmanager
def flow(name: str) -> Iterator[None]:
    with override_settings(MIGRATION_MODULES={"testapp": f"{FLOWS}.{name}"}):
        yield


def seed(dj: DjangoEnv, rows: int = 200) -> None:
    values = ", ".join(f"('n{i}', {i})" for i in range(rows))
    for database in (dj.db, dj.stock):
        database.execute(f"INSERT INTO testapp_item (name, qty) VALUES {values}")


def test_ghost_migrate__every_operation_kind_forward_and_back__same_schema_as_stock(
    dj: DjangoEnv,
) -> None:
    with flow("ops"):
        for alias in ("default", "stock"):
            dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
        seed(dj)
        for name in OPS[1:]:
            dj.migrate("testapp", name)
            dj.migrate("testapp", name, database="stock", command="migrate")
            assert dj.schema() == dj.schema("stock"), f"after {name}"
        assert dj.applied() == OPS
        columns = "id, name, qty, sku, extra"
        assert dj.db.checksum("testapp_thing", columns, "id") == dj.stock.checksum(
            "testapp_thing", columns, "id"
        )
        for name in reversed(OPS[:-1]):
            dj.migrate("testapp", name)
            dj.migrate("testapp", name, database="stock", command="migrate")
            assert dj.schema() == dj.schema("stock"), f"back to {name}"
        dj.migrate("testapp", "zero")
        assert dj.schema() == {}
    online = [r for r in dj.runs() if r["status"] == "done"]
    assert online, "no online run was recorded"
    assert all(r["rows_copied"] == 200 for r in online), online


class Writer(threading.Thread):
    """Updates and inserts rows while a migration runs, keeping its own expected copy."""

    def __init__(self, dj: DjangoEnv, ids: list[int]):
        super().__init__(name="test-writer", daemon=True)
        self.conn = dj.db.connect()
        self.expected: dict[int, tuple[str, int]] = {}
        self.codes: dict[int, str] = {}
        """The ``code`` each row must hold: the AddField default, or what was inserted."""
        self.ids = ids
        self.stop = threading.Event()
        self.writes = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        rng = random.Random(7)
        cur = self.conn.cursor()
        try:
            while not self.stop.is_set():
                if rng.random() < 0.3:
                    name = f"w{self.writes}"
                    code = "x"
                    try:
                        cur.execute("INSERT INTO testapp_item (name, qty) VALUES (%s, 1)", [name])
                    except MySQLdb.IntegrityError:
                        # After cut-over `code` is NOT NULL without a default, as in Django.
                        cur.execute(
                            "INSERT INTO testapp_item (name, qty, code) VALUES (%s, 1, 'w')",
                            [name],
                        )
                        code = "w"
                    self.expected[int(cur.lastrowid)] = (name, 1)
                    self.codes[int(cur.lastrowid)] = code
                else:
                    row = rng.choice(self.ids)
                    qty = rng.randint(0, 1000)
                    cur.execute("UPDATE testapp_item SET qty = %s WHERE id = %s", [qty, row])
                    self.expected[row] = (self.expected_name(row), qty)
                self.writes += 1
                self.stop.wait(0.002)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            self.conn.close()

    def expected_name(self, row: int) -> str:
        return self.expected[row][0]


def test_ghost_migrate__online_with_concurrent_writer__engine_ran_and_no_write_lost(
    dj: DjangoEnv,
) -> None:
    with flow("online"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.db.execute(
            "INSERT INTO testapp_item (name, qty) VALUES "
            + ", ".join(f"('n{i}', {i})" for i in range(2000))
        )
        rows = dj.db.query("SELECT id, name, qty FROM testapp_item")
        writer = Writer(dj, [r[0] for r in rows])
        writer.expected = {r[0]: (r[1], r[2]) for r in rows}
        writer.codes = {r[0]: "x" for r in rows}
        writer.start()
        try:
            dj.migrate("testapp", chunk_size=100)
        finally:
            writer.stop.set()
            writer.join(10)
        dj.migrate("testapp", database="stock", command="migrate")
    assert not writer.errors, writer.errors
    assert writer.writes > 0
    assert dj.applied() == ["0001_initial", "0002_online"]
    runs = dj.runs()
    assert runs and all(r["status"] == "done" for r in runs), runs
    assert sum(r["events_applied"] for r in runs) > 0, runs
    actual = {r[0]: (r[1], r[2]) for r in dj.db.query("SELECT id, name, qty FROM testapp_item")}
    assert actual == writer.expected
    assert dj.db.scalar("SELECT COUNT(*) FROM testapp_item WHERE code NOT IN ('x', 'w')") == 0
    assert "`item_qty_idx`" in dj.db.show_create("testapp_item")
    # The oracles of the new column and the definition: the writer's own record, and
    # Django's stock backend running the same migrations.
    assert dict(dj.db.query("SELECT id, code FROM testapp_item")) == writer.codes
    assert definition_body(dj.db, "testapp_item") == definition_body(dj.stock, "testapp_item")


def test_ghost_migrate__table_with_foreign_keys__refused_and_unrecorded(dj: DjangoEnv) -> None:
    with flow("refuse"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        before = dj.db.show_create("testapp_parent")
        with pytest.raises(CommandError, match="refuses to migrate `testapp_parent` online"):
            dj.migrate("testapp")
    assert dj.applied() == ["0001_initial"]
    assert dj.db.show_create("testapp_parent") == before


def test_ghost_migrate__engine_fails_cut_over__migration_unrecorded_and_reported(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(config: Any, session: Any) -> Any:
        raise CutOverError("cut-over timed out (simulated)")

    with flow("online"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        monkeypatch.setattr(router_module, "_run_engine", failing)
        with pytest.raises(CommandError) as info:
            dj.migrate("testapp")
    assert "testapp.0002_online was NOT recorded" in str(info.value)
    assert "cut-over timed out" in str(info.value)
    assert dj.applied() == ["0001_initial"]
    assert [r["status"] for r in dj.runs()] == ["failed"]


def test_ghost_migrate__plan__prints_routes_and_writes_nothing(dj: DjangoEnv) -> None:
    with flow("online"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        before = (dj.schema(), dj.applied(), dj.runs())
        out = io.StringIO()
        dj.migrate("testapp", plan=True, stdout=out, verbosity=1)
    text = out.getvalue()
    assert "testapp.0002_online" in text
    assert "-> ONLINE" in text
    assert "ADD INDEX `item_qty_idx`" in text
    assert "preflight: ok" in text
    assert (dj.schema(), dj.applied(), dj.runs()) == before


def test_ghost_migrate__show_config__values_with_sources_and_redacted_password(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHOST_DEFAULT__CHUNK_SIZE", "321")
    out = io.StringIO()
    dj.migrate(show_config=True, stdout=out, ghost_set=["dml_batch_size=42"])
    text = out.getvalue()
    assert "321" in text and "env GHOST_DEFAULT__CHUNK_SIZE" in text
    assert "42" in text and "ghost_migrate flags" in text
    assert "min_table_rows" in text and "settings.GHOST" in text
    assert "ghost-sandbox" not in text


def test_migrate__ghost_migrate_true__goes_online(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    with flow("online"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.db.execute("INSERT INTO testapp_item (name, qty) VALUES ('a', 1)")
        monkeypatch.setenv("GHOST_MIGRATE", "true")
        dj.migrate("testapp", command="migrate")
        # The oracle: Django's stock backend, the same migrations over the same rows.
        dj.migrate("testapp", "0001_initial", database="stock", command="migrate")
        dj.stock.execute("INSERT INTO testapp_item (name, qty) VALUES ('a', 1)")
        dj.migrate("testapp", database="stock", command="migrate")
    assert [r["status"] for r in dj.runs()] == ["done", "done"]
    assert dj.schema() == dj.schema("stock")
    assert_same_rows(dj.db, "testapp_item", "testapp_item", expected_db=dj.stock)


def test_migrate__ghost_migrate_unset__stock(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GHOST_MIGRATE", raising=False)
    with flow("online"):
        dj.migrate("testapp", command="migrate")
    assert dj.applied() == ["0001_initial", "0002_online"]
    assert dj.runs() == []


def test_migrate__bad_ghost_migrate__error_naming_accepted_values(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHOST_MIGRATE", "yes-please")
    with flow("online"), pytest.raises(CommandError, match="true or 1.*false or 0"):
        dj.migrate("testapp", command="migrate")
    assert dj.applied() == []


def test_ghost_migrate__no_ghost__stock(dj: DjangoEnv) -> None:
    with flow("online"):
        dj.migrate("testapp", "0001_initial", command="migrate")
        dj.migrate("testapp", no_ghost=True)
    assert dj.applied() == ["0001_initial", "0002_online"]
    assert dj.runs() == []


def test_create_test_db__ghost_migrate_true_exported__bypasses_engine(
    dj: DjangoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    def forbidden(config: Any, session: Any) -> Any:
        raise AssertionError("the engine ran during test-database creation")

    monkeypatch.setenv("GHOST_MIGRATE", "true")
    monkeypatch.setattr(router_module, "_run_engine", forbidden)
    connection = connections["default"]
    old_name = connection.settings_dict["NAME"]
    test_name = (old_name[:55] + "_testdb")[:64]
    monkeypatch.setitem(connection.settings_dict["TEST"], "NAME", test_name)
    with flow("online"):
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            tables = [r[0] for r in dj.db.query(f"SHOW TABLES FROM `{test_name}`")]
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    assert "testapp_item" in tables
    assert dj.runs() == []
