"""Server and connection faults under a write load: the binlog dump connection killed,
the copy/apply connection killed, the server restarted mid-copy, the binlog purged while
the cut-over is postponed. Whatever happens, the original table equals its mirror (every
write went to both) and nothing half-done is left in place of it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

import django_ghost.sandbox as sandbox_module
from django_ghost.engine.apply.streaming import default_reader_factory
from django_ghost.engine.control.client import send
from django_ghost.engine.errors import BinlogError, GhostError
from django_ghost.engine.mysql.connection import connect
from django_ghost.engine.state.cleanup import drop_leftovers
from django_ghost.sandbox import Sandbox
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    helper_tables,
    make_config,
    rows_md5,
    seed,
)
from tests.plugins.mariadb import TestDatabase, TestServer, wait_for

ALTER = "ADD COLUMN x INT NOT NULL DEFAULT 3"


def dump_threads(db: TestDatabase) -> list[int]:
    """Binlog dump sessions of the engine user (the sandbox replica logs in as another)."""
    rows = db.query(
        "SELECT ID FROM information_schema.PROCESSLIST "
        "WHERE COMMAND LIKE 'Binlog Dump%%' AND USER = %s",
        (db.server.user,),
    )
    return [int(r[0]) for r in rows]


def kill(db: TestDatabase, ids: list[int]) -> int:
    done = 0
    for pid in ids:
        with contextlib.suppress(MySQLdb.Error):
            db.execute(f"KILL {int(pid)}")
            done += 1
    return done


class Opened:
    """The binlog reader and the writer session a migration opens, seen through its
    ``reader_factory`` and ``connect_fn`` so the test can count reconnects and kill."""

    def __init__(self) -> None:
        self.readers: list[Any] = []
        self.writers: list[Any] = []

    def reader_factory(self, spec: Any, config: Any, watch: Any, start: Any) -> Any:
        reader = default_reader_factory(spec, config, watch, start)
        self.readers.append(reader)
        return reader

    def connect(self, spec: Any, **kwargs: Any) -> Any:
        conn = connect(spec, **kwargs)
        if kwargs.get("isolation") == "READ COMMITTED":  # only the writer reads so
            self.writers.append(conn)
        return conn

    def reconnects(self) -> int:
        reader = self.readers[-1] if self.readers else None
        return int(getattr(reader, "reconnects", 0)) if reader is not None else 0


def assert_matches_mirror_after_alter(db: TestDatabase) -> None:
    db.execute(f"ALTER TABLE t_mirror {ALTER}")
    assert db.show_create("t").replace("`t`", "") == db.show_create("t_mirror").replace(
        "`t_mirror`", ""
    )
    assert rows_md5(db, "t", "id, v, w, x") == rows_md5(db, "t_mirror", "id, v, w, x")


def test_binlog_connection__killed_three_times__reconnects_and_matches_mirror(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 3000)
    writer = MirroredWriter(db)
    writer.start()
    flag = tmp_path / "postpone"
    opened = Opened()
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            chunk_size=50,
            nice_ratio=2.0,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        ),
        reader_factory=opened.reader_factory,
    )
    run.start()
    ctx = run.migrator.context
    killed = 0
    for fraction in (0.2, 0.6):
        assert wait_for(lambda f=fraction: ctx.rows_copied >= 3000 * f, timeout=60)
        assert wait_for(lambda: dump_threads(db), timeout=10)
        killed += kill(db, dump_threads(db))
        assert wait_for(lambda k=killed: opened.reconnects() >= k, timeout=20)
    assert wait_for(run.postponed, timeout=90), ctx.phase
    assert wait_for(lambda: dump_threads(db), timeout=10)
    killed += kill(db, dump_threads(db))
    assert wait_for(lambda: opened.reconnects() >= killed, timeout=20)
    time.sleep(0.5)  # writes keep flowing through the new dump connection
    flag.unlink()
    run.join(timeout=120)
    writer.finish()
    assert run.error is None, repr(run.error)
    assert run.result.checksum_verified
    assert opened.reconnects() >= 3
    assert writer.failures == [] and writer.writes > 0
    assert_matches_mirror_after_alter(db)


def writer_thread_id(conn: Any) -> int:
    """The server id of a connection another thread uses (MySQLdb refuses while busy)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return int(conn.thread_id())
        except MySQLdb.ProgrammingError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)


def _kill_writer_mid_copy(db: TestDatabase, tmp_path: Path) -> tuple[Run, MirroredWriter]:
    seed(db, 3000)
    writer = MirroredWriter(db)
    writer.start()
    opened = Opened()
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            chunk_size=50,
            nice_ratio=2.0,
            default_retries=5,
            serve_socket_file=str(tmp_path / "s.sock"),
        ),
        connect_fn=opened.connect,
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(lambda: ctx.rows_copied >= 1000, timeout=60)
    conn: Any = opened.writers[-1]
    db.execute(f"KILL {writer_thread_id(conn)}")
    run.join(timeout=120)
    writer.finish()
    return run, writer


def test_writer_connection__killed_mid_copy__original_intact(
    db: TestDatabase, tmp_path: Path
) -> None:
    run, writer = _kill_writer_mid_copy(db, tmp_path)
    assert not run.is_alive()
    assert writer.failures == []
    if run.error is None:
        assert_matches_mirror_after_alter(db)
        return
    print(f"writer kill outcome: {type(run.error).__name__}: {run.error}")
    # Today: the error ends the migration; the original is untouched and equals the mirror.
    assert "`x`" not in db.show_create("t")
    assert rows_md5(db, "t") == rows_md5(db, "t_mirror")
    # In most runs _t_gho and _t_ghc are left (the DROPs in Resources.release fail and the
    # error is suppressed; cause not established): clean-up must remove them.
    leftovers = helper_tables(db)
    print(f"leftovers after the writer kill: {leftovers}")
    conn = db.connect()
    try:
        drop_leftovers(conn, db.name, "t", drop_old=False)
    finally:
        conn.close()
    assert helper_tables(db) == []
    assert sorted(db.tables()) == ["t", "t_mirror"]


def test_writer_connection__killed_mid_copy__retried_and_completes(
    db: TestDatabase, tmp_path: Path
) -> None:
    run, writer = _kill_writer_mid_copy(db, tmp_path)
    assert run.error is None, repr(run.error)
    assert_matches_mirror_after_alter(db)


# -- dedicated server: restart and purge ------------------------------------------------


class DedicatedDatabase(TestDatabase):
    """A TestDatabase on a dedicated sandbox (never the shared session server)."""

    def reopen(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        self._conn = self.server.connect(self.name)


@pytest.fixture
def dedicated(tmp_path: Path) -> Iterator[tuple[Sandbox, DedicatedDatabase]]:
    box = Sandbox(tmp_path / "box")
    info = box.start()
    server = TestServer(host=info.host, port=info.port, user=info.user, password=info.password)
    admin = server.connect()
    admin.cursor().execute("CREATE DATABASE rel")
    admin.close()
    database = DedicatedDatabase(server, "rel")
    try:
        yield box, database
    finally:
        with contextlib.suppress(Exception):
            database.close()
        box.stop()


def test_server_restart__mid_copy_while_throttled__resumes_from_checkpoint_by_itself(
    dedicated: tuple[Sandbox, DedicatedDatabase],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, db = dedicated
    # Enough rows, and a slow enough copy (~10 ms a chunk of 50), that the throttle
    # command lands mid-copy: at nice_ratio 2 with 3,000 rows a fast machine copied the
    # rest before the command was read.
    rows = 12000
    seed(db, rows)
    before = rows_md5(db, "t")
    # A stop event of the caller's, as the CLI and ghost_migrate pass: the lost
    # connections must not set it, or the resumed run would stop at once.
    caller_stop = threading.Event()
    socket_path = str(tmp_path / "s")
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            chunk_size=50,
            nice_ratio=10.0,
            checkpoint_seconds=1,
            serve_socket_file=socket_path,
        ),
        stop=caller_stop,
    )
    run.start()
    assert wait_for(lambda: run.migrator.context.rows_copied >= 1000, timeout=60)
    # Throttled, the copy loop touches no connection: the heartbeat and the binlog
    # stream are the first to find the server gone, and their failure must resume too.
    send(socket_path, "throttle")
    assert wait_for(lambda: run.migrator.context.throttle_reason is not None, timeout=10)
    time.sleep(1.5)  # at least one checkpoint
    copied_before_restart = run.migrator.context.rows_copied
    port = db.server.port
    sandbox_module._stop_pid(box.primary.pid)  # a clean shutdown, as a restart does
    # Down long enough for the heartbeat's 30 tries and the stream's reconnects to fail.
    time.sleep(8)
    monkeypatch.setattr(sandbox_module, "free_port", lambda: port)
    box.servers.clear()
    with caplog.at_level("WARNING", logger="django_ghost"):
        box.start()  # same data directory, same port
        run.join(timeout=120)
    assert not run.is_alive()
    db.reopen()
    assert copied_before_restart < rows
    assert "resuming from the last checkpoint" in caplog.text
    assert run.error is None, run.error
    assert not caller_stop.is_set()
    assert rows_md5(db, "t") == before
    assert db.scalar("SELECT COUNT(*) FROM t WHERE x <> 3") == 0
    assert helper_tables(db) == ["_t_del"]
    db.execute("INSERT INTO t (id, v, w) VALUES (-1, -1, 'after')")


def test_binlog_purged__while_postponed__clear_failure_original_untouched(
    dedicated: tuple[Sandbox, DedicatedDatabase], tmp_path: Path
) -> None:
    _, db = dedicated
    seed(db, 2000)
    writer = MirroredWriter(db)
    writer.start()
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s"),
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    admin = db.server.connect()
    cur = admin.cursor()
    # The stream reads continuously, so a plain PURGE never overtakes it. Make it lose
    # its connection, and purge its file before the reconnect (0.2 s backoff).
    purged = False
    deadline = time.monotonic() + 30
    while run.is_alive() and time.monotonic() < deadline and not purged:
        kill(db, dump_threads(db))
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW MASTER STATUS")
        current = cur.fetchone()[0]
        for _ in range(30):
            cur.execute("PURGE BINARY LOGS TO %s", (current,))
            cur.execute("SHOW BINARY LOGS")
            if [r[0] for r in cur.fetchall()] == [current]:
                purged = True
                break
            time.sleep(0.005)
        if not purged:
            time.sleep(0.5)
    admin.close()
    run.join(timeout=60)
    writer.finish()
    assert purged, "could not purge the stream's file"
    assert isinstance(run.error, BinlogError), repr(run.error)
    assert "purged" in str(run.error) and "restart" in str(run.error)
    assert writer.failures == []
    assert "`x`" not in db.show_create("t")
    assert rows_md5(db, "t") == rows_md5(db, "t_mirror")
    assert helper_tables(db) == []
    assert isinstance(run.error, GhostError)
