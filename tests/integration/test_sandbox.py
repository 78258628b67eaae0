"""The throwaway server the whole suite stands on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.plugins.mariadb import TestDatabase, TestServer, wait_for


def test_sandbox__primary__has_row_binlogs(ghost_server: TestServer) -> None:
    conn = ghost_server.connect()
    cur = conn.cursor()
    cur.execute("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata")
    assert cur.fetchone() == (1, "ROW", "FULL", "FULL")
    conn.close()


def test_sandbox__replica__sees_primary_write_within_5s(
    db: TestDatabase, replica_server: TestServer
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
    started = time.monotonic()
    db.execute("INSERT INTO t VALUES (1, 'hello')")
    replica = replica_server.connect()

    def seen() -> bool:
        cur = replica.cursor()
        try:
            cur.execute(f"SELECT v FROM `{db.name}`.t WHERE id = 1")
            return cur.fetchone() == ("hello",)
        except Exception:
            return False

    assert wait_for(seen, timeout=5.0)
    assert time.monotonic() - started < 5.0
    cur = replica.cursor()
    cur.execute("SELECT @@log_slave_updates, @@server_id")
    assert cur.fetchone() == (1, 2)
    replica.close()


def test_sandbox_cli__start_status_stop__round_trip(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "django_ghost.sandbox"]
    folder = str(tmp_path / "box")
    started = subprocess.run([*run, "start", "--dir", folder], capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        assert "primary: host=127.0.0.1 port=" in started.stdout
        assert "dsn: mysql://ghost:" in started.stdout
        status = subprocess.run([*run, "status", "--dir", folder], capture_output=True, text=True)
        assert status.returncode == 0
        port = int(status.stdout.split("port=")[1].split()[0])
        server = TestServer(host="127.0.0.1", port=port, user="ghost", password="ghost-sandbox")
        conn = server.connect()
        conn.close()
    finally:
        stopped = subprocess.run([*run, "stop", "--dir", folder], capture_output=True, text=True)
    assert stopped.returncode == 0
    status = subprocess.run([*run, "status", "--dir", folder], capture_output=True, text=True)
    assert status.returncode == 3
    assert "no sandbox running" in status.stdout


def test_sandbox__primary__private_tmpdir_inside_its_directory(ghost_server: TestServer) -> None:
    # A server removes the #sql* files of its tmpdir when it starts: sharing /tmp would let
    # a dedicated sandbox started by a test delete the session server's temporary tables.
    if "GHOST_TEST_DSN" in os.environ:
        pytest.skip("GHOST_TEST_DSN names a server the sandbox did not start")
    conn = ghost_server.connect()
    cur = conn.cursor()
    cur.execute("SELECT @@tmpdir, @@datadir")
    tmpdir, datadir = cur.fetchone()
    conn.close()
    assert Path(tmpdir).resolve() == (Path(datadir).parent / "tmp").resolve()
