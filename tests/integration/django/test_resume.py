"""Resume from Django: a ``ghost_migrate`` killed mid-copy is continued by the next one.

The first run is a child process (``call_command("ghost_migrate")`` with the test app's
settings), killed with SIGKILL once its copy has saved a checkpoint: it leaves what a
crash leaves. The re-run happens in this process through ``call_command``. Oracles,
independent of the engine: a mirror table to which a writer applies every statement it
runs on the migrated table, and Django's stock backend applying the same migration to
the ``stock`` alias (same ``SHOW CREATE TABLE``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_ghost.engine.sql.names import migration_lock_name
from tests.integration.helpers import REPO, make_config
from tests.plugins.mariadb import wait_for

from .conftest import FORCE_ONLINE, DjangoEnv

FLOW = "tests.integration.django.testapp.flows.resume"
TABLE = "testapp_item"
GHOST = f"_{TABLE}_gho"
CHANGELOG = f"_{TABLE}_ghc"
ROWS = 5000
MIRROR = "mirror"
# The killed run copies slowly (50-row chunks, each followed by a sleep of 20x its time)
# and saves a checkpoint every second, so it is killed mid-copy on any machine.
SLOW = ("--chunk-size=50", "--ghost-set=nice_ratio=20", "--ghost-set=checkpoint_seconds=1")
SPEC_VAR = "DJANGO_GHOST_TEST_RUN"

RUNNER = f"""
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django_settings"
import django
django.setup()
from django.conf import settings
spec = json.loads(os.environ.pop("{SPEC_VAR}"))
if spec["kind"] == "engine":
    from django_ghost.engine.config import GhostConfig
    from django_ghost.engine.migrator import Migrator
    Migrator(GhostConfig(**spec["config"])).run()
else:
    from django.core.management import call_command
    settings.DATABASES["default"].update(spec["database"])
    settings.MIGRATION_MODULES = {{"testapp": spec["flow"]}}
    settings.GHOST = spec["ghost"]
    call_command("ghost_migrate", *spec["args"], verbosity=0)
"""


@contextmanager
def resume_flow() -> Iterator[None]:
    with override_settings(MIGRATION_MODULES={"testapp": FLOW}, GHOST=dict(FORCE_ONLINE)):
        yield


def spawn(spec: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    """The runner in a child process (the spec, password included, in its environment)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), SPEC_VAR: json.dumps(spec)}
    env.pop("GHOST_MIGRATE", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", RUNNER], cwd=REPO, env=env, stdout=out, stderr=out
        )


def spawn_ghost_migrate(log: Path, *args: str) -> subprocess.Popen[bytes]:
    keys = ("HOST", "PORT", "USER", "PASSWORD", "NAME")
    database = {key: settings.DATABASES["default"][key] for key in keys}
    spec = {"kind": "django", "database": database, "flow": FLOW, "ghost": FORCE_ONLINE}
    return spawn({**spec, "args": ["testapp", *args]}, log)


def checkpoint(dj: DjangoEnv) -> dict[str, Any] | None:
    try:
        rows = dj.db.query(f"SELECT value FROM `{CHANGELOG}` WHERE hint = 'checkpoint'")
    except MySQLdb.Error:  # not created yet
        return None
    return json.loads(rows[0][0]) if rows else None


def session_ids(dj: DjangoEnv) -> set[int]:
    return {int(row[0]) for row in dj.db.query("SHOW PROCESSLIST")}


def kill_mid_copy(
    dj: DjangoEnv, process: subprocess.Popen[bytes], log: Path, before: set[int]
) -> dict[str, Any]:
    """SIGKILL ``process`` once a checkpoint shows part of the copy; the last checkpoint,
    once the server has ended the killed process's sessions (those not in ``before``)
    and with them its migration lock."""

    def copying() -> bool:
        return (checkpoint(dj) or {}).get("rows_copied", 0) >= 500 or process.poll() is not None

    assert wait_for(copying, timeout=120, interval=0.05), "no checkpoint"
    assert process.poll() is None, log.read_text()[-3000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert wait_for(lambda: not session_ids(dj) - before, timeout=30)
    lock = migration_lock_name(dj.db.name, TABLE)
    assert dj.db.scalar("SELECT IS_USED_LOCK(%s)", [lock]) is None
    saved = checkpoint(dj)
    assert saved is not None and not saved["copy_done"], saved
    assert {GHOST, CHANGELOG} <= set(dj.db.tables())
    return saved


def prepare(dj: DjangoEnv) -> None:
    """0001 on both aliases, ROWS rows in both, and the mirror of the migrated table."""
    for alias in ("default", "stock"):
        dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
    values = ", ".join(f"('n{i}', {i})" for i in range(ROWS))
    for database in (dj.db, dj.stock):
        database.execute(f"INSERT INTO {TABLE} (name, qty) VALUES {values}")
    dj.db.execute(f"CREATE TABLE {MIRROR} LIKE {TABLE}")
    dj.db.execute(f"INSERT INTO {MIRROR} SELECT * FROM {TABLE}")


def ghost_migrate(*args: str) -> str:
    out = io.StringIO()
    call_command("ghost_migrate", "testapp", *args, verbosity=1, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def plan_text() -> str:
    out = io.StringIO()
    call_command("ghost_migrate", "testapp", "--plan", stdout=out)
    return out.getvalue()


def rows_of(dj: DjangoEnv, table: str) -> list[tuple[Any, ...]]:
    return dj.db.query(f"SELECT id, name, qty FROM `{table}` ORDER BY id")


def without_counter(ddl: str) -> str:
    return re.sub(r" AUTO_INCREMENT=\d+", "", ddl)


def assert_migrated_like_stock(dj: DjangoEnv) -> None:
    """0002 recorded once, the table as Django's stock backend makes it, no helper left."""
    dj.migrate("testapp", "0002_add_note", database="stock", command="migrate")
    assert without_counter(dj.db.show_create(TABLE)) == without_counter(dj.stock.show_create(TABLE))
    assert dj.applied() == ["0001_initial", "0002_add_note"]
    assert not [t for t in dj.db.tables() if t.startswith(f"_{TABLE}_") or "~" in t]


def history(dj: DjangoEnv) -> list[tuple[Any, ...]]:
    return dj.db.query(
        "SELECT status, resumed_from, rows_copied FROM django_ghost_onlinerun "
        "WHERE table_name = %s ORDER BY id",
        [TABLE],
    )


class MirroredWriter(threading.Thread):
    """Inserts, updates and deletes rows of the table, each statement also on the mirror."""

    def __init__(self, dj: DjangoEnv):
        super().__init__(name="mirrored-writer", daemon=True)
        self.conn = dj.db.connect()
        self.stop = threading.Event()
        self.writes = 0
        self.failures: list[str] = []

    def run(self) -> None:
        cur = self.conn.cursor()
        n = 0
        while not self.stop.is_set():
            n += 1
            statements = [
                ("INSERT INTO {} (id, name, qty) VALUES (%s, %s, %s)", (100_000 + n, f"w{n}", n)),
                ("UPDATE {} SET qty = qty + %s WHERE id = %s", (n, n * 7 % ROWS + 1)),
                ("DELETE FROM {} WHERE id = %s", (n * 13 % ROWS + 1,)),
            ]
            for sql, params in statements:
                for table in (TABLE, MIRROR):
                    try:
                        cur.execute(sql.format(table), params)
                    except MySQLdb.Error as exc:
                        self.failures.append(f"{table}: {exc}")
                self.writes += 1
            time.sleep(0.002)

    def finish(self) -> None:
        self.stop.set()
        self.join(30)
        self.conn.close()


def test_ghost_migrate__killed_mid_copy_then_rerun__resumes_from_checkpoint_like_stock(
    dj: DjangoEnv, tmp_path: Path
) -> None:
    with resume_flow():
        prepare(dj)
        writer = MirroredWriter(dj)
        writer.start()
        try:
            log, sessions = tmp_path / "first.log", session_ids(dj)
            killed = kill_mid_copy(dj, spawn_ghost_migrate(log, *SLOW), log, sessions)
            assert dj.applied() == ["0001_initial"]
            assert "would resume the interrupted run" in plan_text()
            time.sleep(0.5)  # changes keep arriving while nothing runs
            text = ghost_migrate()
        finally:
            writer.finish()
        assert writer.writes > 0 and writer.failures == []
        assert f"Resuming `{TABLE}` from its checkpoint at {killed['position']}" in text, text
        assert f"resumed from its checkpoint at {killed['position']}" in text, text
        assert rows_of(dj, TABLE) == rows_of(dj, MIRROR)
        assert dj.db.scalar(f"SELECT COUNT(*) FROM {TABLE} WHERE note IS NOT NULL") == 0
        assert_migrated_like_stock(dj)
    recorded = "SELECT COUNT(*) FROM django_migrations WHERE app = 'testapp' AND name = %s"
    assert dj.db.scalar(recorded, ["0002_add_note"]) == 1
    # The killed run's row is closed; the resumed run says where it resumed from; the
    # AddIndex after it is a fresh run.
    runs = history(dj)
    assert [(status, resumed) for status, resumed, _ in runs] == [
        ("interrupted", None),
        ("done", killed["position"]),
        ("done", None),
    ]
    assert runs[1][2] >= killed["rows_copied"]


def test_ghost_migrate__no_resume_after_kill__drops_leftovers_and_starts_over(
    dj: DjangoEnv, tmp_path: Path
) -> None:
    with resume_flow():
        prepare(dj)
        before = rows_of(dj, TABLE)
        log, sessions = tmp_path / "first.log", session_ids(dj)
        kill_mid_copy(dj, spawn_ghost_migrate(log, *SLOW), log, sessions)
        # A row only the old ghost holds: a run that resumed would keep it (it lies
        # beyond the copy range), one that starts over never sees it.
        dj.db.execute(f"INSERT INTO `{GHOST}` (id, name, qty) VALUES (999999, 'stale', 0)")
        text = ghost_migrate("--no-resume")
        assert f"Starting `{TABLE}` over (resume_interrupted is off (--no-resume))" in text, text
        assert GHOST in text and CHANGELOG in text
        assert rows_of(dj, TABLE) == before
        assert_migrated_like_stock(dj)
    assert [(status, resumed) for status, resumed, _ in history(dj)] == [
        ("interrupted", None),
        ("done", None),
        ("done", None),
    ]


def test_ghost_migrate__leftovers_of_other_alter__refused_table_untouched(
    dj: DjangoEnv, tmp_path: Path
) -> None:
    with resume_flow():
        prepare(dj)
        config = make_config(
            dj.db,
            TABLE,
            "ADD COLUMN other INT",
            chunk_size=50,
            nice_ratio=20.0,
            checkpoint_seconds=1,
            serve_socket_file=str(tmp_path / "s.sock"),
        )
        log, sessions = tmp_path / "engine.log", session_ids(dj)
        engine = spawn({"kind": "engine", "config": dataclasses.asdict(config)}, log)
        killed = kill_mid_copy(dj, engine, log, sessions)
        schema, rows = dj.db.show_create(TABLE), rows_of(dj, TABLE)
        lock = migration_lock_name(dj.db.name, TABLE)

        # While a migration holds the table's lock its tables are in use, not leftovers:
        # neither resumed nor dropped, even with --no-resume.
        holder = dj.db.connect()
        holder.cursor().execute("SELECT GET_LOCK(%s, 0)", [lock])
        try:
            for args in ((), ("--no-resume",)):
                with pytest.raises(CommandError, match="is running"):
                    ghost_migrate(*args)
                assert {GHOST, CHANGELOG} <= set(dj.db.tables())
        finally:
            holder.close()
        assert wait_for(lambda: dj.db.scalar("SELECT IS_USED_LOCK(%s)", [lock]) is None)

        assert "refused: `testapp_item` has leftovers" in plan_text()
        with pytest.raises(CommandError) as refused:
            ghost_migrate()
        message = str(refused.value)
        for part in (
            "leftovers of an interrupted online migration",
            GHOST,
            CHANGELOG,
            f"checkpoint at {killed['position']}",
            "different ALTER",
            "--no-resume",
            f"ghost_ctl cleanup {TABLE}",
            "NOT recorded",
        ):
            assert part in message, (part, message)
        assert dj.db.show_create(TABLE) == schema and rows_of(dj, TABLE) == rows
        assert {GHOST, CHANGELOG} <= set(dj.db.tables())
        assert dj.applied() == ["0001_initial"]

        text = ghost_migrate("--no-resume")
        assert f"Starting `{TABLE}` over" in text
        assert rows_of(dj, TABLE) == rows
        assert "`other`" not in dj.db.show_create(TABLE)
        assert_migrated_like_stock(dj)
