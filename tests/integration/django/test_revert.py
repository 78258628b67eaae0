"""The revert route (docs/revert.md#under-django): migrating backward over a migration
whose forward run was online and kept its old table puts that table back, with the
writes made since the cut-over; otherwise the backward migration takes the normal route
and says why. The oracle is a mirror table of the old schema that every write also went
to (tests/integration/helpers.py's MirroredWriter)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test.utils import override_settings

from tests.integration.helpers import MirroredWriter, assert_same_rows, definition_body
from tests.plugins.mariadb import wait_for

from .conftest import FORCE_ONLINE, DjangoEnv

FLOW = "tests.integration.django.testapp.flows.revert"
TABLE = "testapp_row"
MIRROR = "testapp_row_mirror"
OLD = f"_{TABLE}_del"
KEEP = {"revert_retention_seconds": 3600}


@contextmanager
def revert_flow(flow: str = FLOW, **ghost: Any) -> Iterator[None]:
    with override_settings(MIGRATION_MODULES={"testapp": flow}, GHOST={**FORCE_ONLINE, **ghost}):
        yield


def prepare(dj: DjangoEnv, rows: int = 1500) -> None:
    """0001 applied, ``rows`` rows, and a mirror of the old schema with the same rows."""
    dj.migrate("testapp", "0001_initial", command="migrate")
    dj.db.execute(f"INSERT INTO {TABLE} SELECT seq, seq, CONCAT('x', seq) FROM seq_1_to_{rows}")
    dj.db.execute(f"CREATE TABLE {MIRROR} LIKE {TABLE}")
    dj.db.execute(f"INSERT INTO {MIRROR} SELECT * FROM {TABLE}")


def forward_then_keep_writing(dj: DjangoEnv) -> MirroredWriter:
    writer = MirroredWriter(dj.db, TABLE, mirror=MIRROR)
    writer.start()
    dj.migrate("testapp", "0002_add_extra")
    written = writer.writes
    assert wait_for(lambda: writer.writes > written + 200, timeout=30)
    return writer


def backward(dj: DjangoEnv, writer: MirroredWriter) -> str:
    out = io.StringIO()
    try:
        dj.migrate("testapp", "0001_initial", stdout=out, verbosity=1)
        time.sleep(0.3)  # writes after the swap land in the restored table
    finally:
        writer.finish()
    assert not writer.failures, writer.failures[:3]
    return out.getvalue()


def test_ghost_migrate__backward_over_kept_online_run__reverted_like_mirror(
    dj: DjangoEnv,
) -> None:
    with revert_flow(**KEEP):
        prepare(dj)
        writer = forward_then_keep_writing(dj)
        assert "extra" in definition_body(dj.db, TABLE)
        plan = io.StringIO()
        dj.migrate("testapp", "0001_initial", plan=True, stdout=plan, verbosity=1)
        output = backward(dj, writer)
    assert f"`{TABLE}` -> REVERT: revert to `{OLD}`" in plan.getvalue()
    assert f"Reverting `{TABLE}` to `{OLD}` (no row copy)" in output
    assert f"`{TABLE}`: reverted to `{OLD}`" in output
    assert definition_body(dj.db, TABLE) == definition_body(dj.db, MIRROR)
    assert_same_rows(dj.db, TABLE, MIRROR)
    assert dj.applied() == ["0001_initial"]
    runs = dj.runs()
    assert [(r["route"], r["status"], r["migration"]) for r in runs] == [
        ("online", "done", "testapp.0002_add_extra"),
        ("revert", "done", "testapp.0002_add_extra"),
    ]
    assert runs[1]["events_applied"] > 0
    olds = dj.db.query("SELECT old_table FROM django_ghost_onlinerun ORDER BY id")
    assert [r[0] for r in olds] == [OLD, OLD]
    assert OLD not in dj.db.tables()  # it is the table again


def test_ghost_migrate__backward_without_retention__normal_route_says_why(
    dj: DjangoEnv,
) -> None:
    with revert_flow():
        prepare(dj, rows=300)
        writer = forward_then_keep_writing(dj)
        output = backward(dj, writer)
    assert "REVERT" not in output and "Reverting" not in output
    assert definition_body(dj.db, TABLE) == definition_body(dj.db, MIRROR)
    assert_same_rows(dj.db, TABLE, MIRROR)
    assert [r["route"] for r in dj.runs()] == ["online", "online"]


def test_ghost_migrate__backward_after_binlog_purge__normal_route_in_plan_with_reason(
    dj: DjangoEnv,
) -> None:
    with revert_flow(**KEEP):
        prepare(dj, rows=300)
        dj.migrate("testapp", "0002_add_extra")
        dj.db.execute("FLUSH BINARY LOGS")
        current = dj.db.query("SHOW MASTER STATUS")[0][0]

        def purged() -> bool:
            dj.db.execute(f"PURGE BINARY LOGS TO '{current}'")
            return [r[0] for r in dj.db.query("SHOW BINARY LOGS")][0] == current

        assert wait_for(purged, timeout=30, interval=0.5)
        plan = io.StringIO()
        dj.migrate("testapp", "0001_initial", plan=True, stdout=plan, verbosity=1)
        dj.migrate("testapp", "0001_initial")
    assert "-> ONLINE" in plan.getvalue()
    assert "no revert: binary log" in plan.getvalue() and "purged" in plan.getvalue()
    assert definition_body(dj.db, TABLE) == definition_body(dj.db, MIRROR)
    assert_same_rows(dj.db, TABLE, MIRROR)
    assert [r["route"] for r in dj.runs()] == ["online", "online"]


def test_ghost_migrate__backward_over_add_field_with_default__reverted_like_mirror(
    dj: DjangoEnv,
) -> None:
    # The forward run's trailing DROP DEFAULT, run by Django's own connection after the
    # cut-over, is in the binlog the revert reads: it must not pass for a foreign ALTER.
    with revert_flow(f"{FLOW}_default", **KEEP):
        prepare(dj)
        writer = forward_then_keep_writing(dj)
        assert "DEFAULT 7" not in definition_body(dj.db, TABLE)  # the default was dropped
        output = backward(dj, writer)
    assert f"`{TABLE}`: reverted to `{OLD}`" in output
    assert definition_body(dj.db, TABLE) == definition_body(dj.db, MIRROR)
    assert_same_rows(dj.db, TABLE, MIRROR)
    assert [r["route"] for r in dj.runs()] == ["online", "revert"]


def test_ghost_migrate__backward_after_retention__old_table_dropped_normal_route(
    dj: DjangoEnv,
) -> None:
    with revert_flow(**KEEP):
        prepare(dj, rows=300)
        dj.migrate("testapp", "0002_add_extra")
        assert OLD in dj.db.tables()
        # Kept two hours ago, longer than the hour of the retention.
        dj.db.execute("UPDATE _ghost_revert SET created_at = created_at - 7200")
        # An old table the CLI kept, as old: not Django's to drop.
        dj.db.execute("CREATE TABLE _cli_kept_del (id INT PRIMARY KEY)")
        dj.db.execute(
            "INSERT INTO _ghost_revert (old_table, table_name, created_at, checkpoint) "
            "SELECT '_cli_kept_del', 'cli_kept', created_at, checkpoint FROM _ghost_revert"
        )
        plan = io.StringIO()
        dj.migrate("testapp", "0001_initial", plan=True, stdout=plan, verbosity=1)
        assert OLD in dj.db.tables()  # the plan writes nothing
        dj.migrate("testapp", "0001_initial")
    assert "no revert: `_testapp_row_del` was kept longer than" in plan.getvalue()
    # The expired old table was dropped; the one now kept is the backward run's own (the
    # table with `extra`), with a fresh checkpoint.
    assert "extra" in definition_body(dj.db, OLD)
    assert dj.db.query(
        "SELECT COUNT(*) FROM _ghost_revert WHERE created_at > UNIX_TIMESTAMP() - 600"
    ) == [(1,)]
    assert "_cli_kept_del" in dj.db.tables()
    assert definition_body(dj.db, TABLE) == definition_body(dj.db, MIRROR)
    assert_same_rows(dj.db, TABLE, MIRROR)
    assert [r["route"] for r in dj.runs()] == ["online", "online"]
