"""gh-ost's flags that change what the engine does on the server: --force-table-names,
--timestamp-old-table, --mysql-timeout, --charset, --concurrent-rowcount=false and the
cloud flags' server identity, against the sandbox."""

from __future__ import annotations

import dataclasses
import io
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from django_ghost.cli.main import main
from django_ghost.engine.errors import PreflightError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import ConnectionSpec, connect, scalar
from tests.integration.helpers import (
    AUTO_INCREMENT,
    MirroredWriter,
    Run,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN x INT"


class TablesAt:
    """Hooks that record the tables of the database when each event fires."""

    def __init__(self, db: TestDatabase):
        self.db = db
        self.seen: dict[str, list[str]] = {}
        self.events: list[str] = []

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        self.events.append(event)
        self.seen[event] = sorted(self.db.tables())


def test_migrate__force_table_names__helper_tables_named_from_it(db: TestDatabase) -> None:
    seed(db, 500, shape=AUTO_INCREMENT)
    before = db.checksum("t", order_by="id")
    hooks = TablesAt(db)
    Migrator(make_config(db, "t", ALTER, force_table_names="tmpx"), hooks=hooks).run()
    during = hooks.seen["before-cut-over"]
    assert {"_tmpx_gho", "_tmpx_ghc"} <= set(during)
    assert not {"_t_gho", "_t_ghc"} & set(during)
    after = db.tables()
    assert "_tmpx_del" in after and "_tmpx_gho" not in after and "_tmpx_ghc" not in after
    assert db.checksum("_tmpx_del", order_by="id") == before
    assert_migrated_like_mirror(db, ALTER)


def test_migrate__timestamp_old_table__two_runs_keep_two_old_tables(db: TestDatabase) -> None:
    seed(db, 300, shape=AUTO_INCREMENT)
    first = db.checksum("t", order_by="id")
    Migrator(make_config(db, "t", ALTER, timestamp_old_table=True)).run()
    old = [name for name in db.tables() if name not in ("t", "t_mirror", "_ghost_revert")]
    assert len(old) == 1 and re.fullmatch(r"_t_\d{14}_del", old[0])
    assert db.checksum(old[0], order_by="id") == first
    time.sleep(1.1)  # the stamp has one-second resolution
    Migrator(make_config(db, "t", "ADD COLUMN y INT", timestamp_old_table=True)).run()
    olds = sorted(n for n in db.tables() if re.fullmatch(r"_t_\d{14}_del", n))
    assert len(olds) == 2 and olds[0] == old[0]
    assert "`x` int" in db.show_create(olds[1]) and "`y` int" in db.show_create("t")


def spec_of(db: TestDatabase, **kwargs: Any) -> ConnectionSpec:
    server = db.server
    return ConnectionSpec(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=db.name,
        **kwargs,
    )


def test_connect__mysql_timeout__statement_longer_than_it_fails(db: TestDatabase) -> None:
    conn = connect(spec_of(db, timeout=1))
    try:
        with pytest.raises(MySQLdb.OperationalError) as lost:
            scalar(conn, "SELECT SLEEP(20)")
        assert lost.value.args[0] == 2013  # lost connection: the client stopped waiting
    finally:
        conn.close()
    plain = connect(spec_of(db))
    try:
        assert scalar(plain, "SELECT SLEEP(2)") == 0
    finally:
        plain.close()


def test_migrate__mysql_timeout_under_writes__completes_like_the_mirror(
    db: TestDatabase,
) -> None:
    seed(db, 1000, shape=AUTO_INCREMENT)
    writer = MirroredWriter(db)
    writer.start()
    try:
        result = Migrator(make_config(db, "t", ALTER, mysql_timeout=30)).run()
    finally:
        writer.stop.set()
        writer.join()
    assert writer.failures == [] and result.checksum_verified
    assert_migrated_like_mirror(db, ALTER)


@pytest.mark.parametrize(
    ("charset", "variable", "expected"),
    [
        ("koi8r", "@@character_set_client", "koi8r"),
        ("nosuchcharset,latin1", "@@character_set_client", "latin1"),
        ("utf8mb4_unicode_ci", "@@collation_connection", "utf8mb4_unicode_ci"),
    ],
)
def test_connect__charset_list__first_accepted_one_used(
    db: TestDatabase, charset: str, variable: str, expected: str
) -> None:
    conn = connect(spec_of(db, charset=charset))
    try:
        assert scalar(conn, f"SELECT {variable}") == expected
    finally:
        conn.close()


def test_migrate__latin1_connections__utf8mb4_data_unchanged(db: TestDatabase) -> None:
    for table in ("t", "t_mirror"):
        db.execute(
            f"CREATE TABLE {table} (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET utf8mb4, "
            "l VARCHAR(20) CHARACTER SET latin1)"
        )
        db.execute(
            f"INSERT INTO {table} VALUES (1, %s, %s), (2, %s, %s)",
            ("snow \u2603 \U0001f600", "caf\u00e9", "\u65e5\u672c", "na\u00efve"),
        )
    before = db.checksum("t", order_by="id")
    Migrator(make_config(db, "t", ALTER, charset="latin1")).run()
    assert db.checksum("t", "id, s, l", order_by="id") == before
    assert_migrated_like_mirror(db, ALTER)


def test_migrate__exact_rowcount_not_concurrent__counted_before_the_copy(
    db: TestDatabase,
) -> None:
    seed(db, 2000, shape=AUTO_INCREMENT)
    for table in ("t", "t_mirror"):
        db.execute(f"DELETE FROM {table} WHERE id % 3 = 0")  # the statistics estimate drifts
    snapshots: list[Any] = []
    hooks = TablesAt(db)
    config = make_config(db, "t", ALTER, exact_rowcount=True, concurrent_rowcount=False)
    Migrator(config, on_progress=snapshots.append, hooks=hooks).run()
    assert hooks.events.index("rowcount-complete") < hooks.events.index("before-row-copy")
    copying = [s for s in snapshots if s.phase == "copying"]
    assert copying and all(s.rows_estimate == 1334 for s in copying)
    assert_migrated_like_mirror(db, ALTER)


def test_migrate__cloud_flag__hooks_name_the_server_by_its_address(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 100, shape=AUTO_INCREMENT)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    script = hooks / "gh-ost-on-validated"
    script.write_text(f'#!/bin/sh\necho "$GH_OST_MIGRATED_HOST" >> {tmp_path / "hosts"}\n')
    script.chmod(0o755)
    server = db.server
    for cloud in ({}, {"gcp": True}):
        config = make_config(db, "t", ALTER, hooks_path=str(hooks), **cloud)
        Migrator(dataclasses.replace(config, execute=False)).run()
    plain, on_cloud = (tmp_path / "hosts").read_text().splitlines()
    hostname = db.scalar("SELECT @@hostname")
    assert plain == f"{hostname}:{db.scalar('SELECT @@port')}"
    assert on_cloud == f"{server.host}:{server.port}"


def cli(db: TestDatabase, *flags: str) -> tuple[int, str, str]:
    server = db.server
    out, err = io.StringIO(), io.StringIO()
    connection = [f"--host={server.host}", f"--port={server.port}", f"--user={server.user}"]
    code = main(
        [*connection, f"--database={db.name}", *flags],
        environ={"GHOST_PASSWORD": server.password},
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_cleanup__forced_names_of_a_running_migration__not_listed_nor_dropped(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 1000, shape=AUTO_INCREMENT)
    flag = tmp_path / "postpone"
    config = make_config(
        db, "t", ALTER, force_table_names="tmpx", postpone_cut_over_flag_file=str(flag)
    )
    run = Run(dataclasses.replace(config, serve_socket_file=str(tmp_path / "s.sock")))
    run.start()
    try:
        assert wait_for(run.postponed, timeout=60)
        code, out, err = cli(db, "--cleanup")
        assert code == 0, err
        assert "_tmpx_gho" not in out
        for table in ("--table=tmpx", "--table=t"):
            code, _, err = cli(db, table, "--force-table-names=tmpx", "--cleanup", "--yes")
            assert code == 1 and "is running" in err
        assert {"_tmpx_gho", "_tmpx_ghc"} <= set(db.tables())
        other = make_config(db, "t_mirror", ALTER, force_table_names="tmpx")
        with pytest.raises(PreflightError, match="helper table names of .*tmpx is running"):
            Migrator(other).run()
    finally:
        flag.unlink(missing_ok=True)
        run.join(timeout=60)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, ALTER)


def test_cleanup__forced_names_left_over__dropped_as_the_tables(db: TestDatabase) -> None:
    seed(db, 50, shape=AUTO_INCREMENT)
    db.execute("CREATE TABLE _tmpx_gho LIKE t")
    db.execute("CREATE TABLE _tmpx_ghc (id INT PRIMARY KEY)")
    code, out, err = cli(db, "--table=t", "--force-table-names=tmpx", "--cleanup", "--yes")
    assert code == 0, err
    assert "Dropped: " in out
    assert sorted(db.tables()) == ["t", "t_mirror"]
