"""Security: the password stays out of logs, status output, hook environments, error
messages and the process list; the control socket is 0600; TCP control is off by default
and loopback when on; injection attempts through identifiers never run anything extra."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_ghost.engine.control.client import send
from django_ghost.engine.errors import GhostError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.sql.quote import quote_identifier as q
from tests.integration.helpers import (
    REPO,
    Run,
    assert_migrated_like_mirror,
    copy_as_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, TestServer, wait_for


@dataclasses.dataclass
class Secret:
    user: str
    password: str
    db: TestDatabase


@pytest.fixture
def secret_user(db: TestDatabase) -> Iterator[Secret]:
    """A user whose password is distinctive (and full of quoting hazards)."""
    user = f"sec_{secrets.token_hex(4)}"
    password = f"Pw'q\"s;-{secrets.token_hex(8)}"
    db.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s", (password,))
    db.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'127.0.0.1'")
    server = TestServer(db.server.host, db.server.port, user, password)
    try:
        yield Secret(user, password, TestDatabase(server, db.name))
    finally:
        db.execute(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")


def _listening_inodes(local_hex_prefix: str | None = None) -> dict[str, str]:
    """inode -> local address of every LISTEN socket in /proc/net/tcp{,6}."""
    found = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(name) as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[3] == "0A":  # LISTEN
                    found[parts[9]] = parts[1]
    return found


def _own_socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _own_listening() -> dict[str, str]:
    mine = _own_socket_inodes()
    return {i: a for i, a in _listening_inodes().items() if i in mine}


def test_password__logs_status_hooks_errors__never_shown(
    secret_user: Secret, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = secret_user.db
    seed(db, 500)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    envs = tmp_path / "envs"
    for event in ("startup", "validated", "before-row-copy", "begin-postponed", "success"):
        script = hooks / f"ghost-on-{event}"
        script.write_text(f"#!/bin/sh\nenv >> {envs}\n")
        script.chmod(0o755)
    flag = tmp_path / "postpone"
    sock = str(tmp_path / "s.sock")
    caplog.set_level(logging.DEBUG)
    config = make_config(
        db,
        "t",
        "ADD COLUMN x INT",
        hooks_path=str(hooks),
        postpone_cut_over_flag_file=str(flag),
        serve_socket_file=sock,
        status_interval_seconds=1,
    )
    assert config.password == secret_user.password
    run = Run(config)
    run.start()
    assert wait_for(run.postponed, timeout=60)
    replies = [send(sock, c) for c in ("status", "status-json", "sup", "help", "applier")]
    time.sleep(1.2)  # a status line is logged
    flag.unlink()
    run.join(timeout=60)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    assert all(replies) and "postponed" in replies[1]
    assert envs.read_text().count("GHOST_TABLE_NAME=t") == 5
    assert caplog.records, "nothing was logged at DEBUG"
    texts = {
        "logs": "\n".join(r.getMessage() for r in caplog.records),
        "status": "\n".join(replies),
        "hook env": envs.read_text(),
        "config repr": repr(config) + str(run.migrator.ops.spec),
    }
    for where, text in texts.items():
        assert secret_user.password not in text, f"password in {where}"
        assert secret_user.password[-16:] not in text, f"password tail in {where}"


def test_password__failed_runs__not_in_exception_messages(
    secret_user: Secret, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = secret_user.db
    seed(db, 50)
    caplog.set_level(logging.DEBUG)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    script = hooks / "ghost-on-failure"
    script.write_text(f"#!/bin/sh\nenv >> {tmp_path / 'env'}\n")
    script.chmod(0o755)
    messages = []
    wrong = dataclasses.replace(
        make_config(db, "t", "ADD COLUMN x INT", hooks_path=str(hooks)),
        password=secret_user.password + "-wrong",
    )
    bad_alter = make_config(
        db, "t", f"ADD COLUMN x INT DEFAULT '{secret_user.password[:6]}", hooks_path=str(hooks)
    )
    other = make_config(db, "nope", "ADD COLUMN x INT", hooks_path=str(hooks))
    for config in (wrong, bad_alter, other):
        with pytest.raises(GhostError) as caught:
            Migrator(config).run()
        messages.append(f"{caught.value!r} {caught.value}")
    assert "Cannot connect" in messages[0]
    text = "\n".join(messages) + (tmp_path / "env").read_text()
    text += "\n".join(r.getMessage() for r in caplog.records)
    assert secret_user.password not in text


def test_password__cli_with_conf_file__absent_from_process_list(
    secret_user: Secret, tmp_path: Path
) -> None:
    db = secret_user.db
    seed(db, 500)
    conf = tmp_path / "my.cnf"
    conf.write_text(f'[client]\nuser={secret_user.user}\npassword="{secret_user.password}"\n')
    conf.chmod(0o600)
    flag = tmp_path / "postpone"
    env = {k: v for k, v in os.environ.items() if k not in ("GHOST_PASSWORD", "MYSQL_PWD")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_ghost.cli",
            f"--conf={conf}",
            f"--host={db.server.host}",
            f"--port={db.server.port}",
            f"--database={db.name}",
            "--table=t",
            "--alter=ADD COLUMN x INT",
            "--execute",
            "--verbose",
            f"--postpone-cut-over-flag-file={flag}",
            f"--serve-socket-file={tmp_path / 's.sock'}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: flag.exists() and "_t_gho" in db.tables(), timeout=60)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().decode(errors="replace")
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        flag.unlink()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    assert f"--conf={conf}" in cmdline
    seen = {"cmdline": cmdline, "environ": environ, "ps": ps, "output": out + err}
    for where, text in seen.items():
        assert secret_user.password not in text, f"password in {where}"


def test_control_socket__default_run__0600_and_no_tcp_listener(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 500)
    flag = tmp_path / "postpone"
    before = _own_listening()
    config = make_config(db, "t", "ADD COLUMN x INT", postpone_cut_over_flag_file=str(flag))
    assert config.serve_tcp_port == 0 and config.serve_socket_file == ""
    run = Run(config)
    run.start()
    assert wait_for(run.postponed, timeout=60)
    path = f"/tmp/django-ghost.{db.name}.t.sock"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    during = _own_listening()
    reply = send(path, "status")
    flag.unlink()
    run.join(timeout=60)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    assert mode == 0o600
    assert "Copy:" in reply
    assert during == before  # no TCP listener was opened
    assert not os.path.exists(path)  # removed at the end


def test_control_socket__tcp_enabled__loopback_only(db: TestDatabase, tmp_path: Path) -> None:
    seed(db, 500)
    flag = tmp_path / "postpone"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = _own_listening()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
            serve_tcp_port=port,
        )
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    new = {i: a for i, a in _own_listening().items() if i not in before}
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"sup\n")
        reply = conn.recv(4096).decode()
    flag.unlink()
    run.join(timeout=60)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, "ADD COLUMN x INT")
    assert list(new.values()) == [f"0100007F:{port:04X}"]  # 127.0.0.1 only
    assert "Copy:" in reply


def test_injection__database_table_column_index_names__canary_survives(
    db: TestDatabase, tmp_path: Path
) -> None:
    hostile = "d`; DROP TABLE canary; --'\""
    admin = db.server.connect()
    cur = admin.cursor()
    cur.execute(f"CREATE DATABASE {q(hostile)}")
    try:
        cur.execute(f"CREATE TABLE {q(db.name)}.canary (id INT)")
        cur.execute(f"CREATE TABLE {q(hostile)}.canary (id INT)")
        table = "t`; DROP TABLE canary; --"
        col = "c'); DROP TABLE canary; --"
        cur.execute(f"CREATE TABLE {q(hostile)}.{q(table)} (id INT PRIMARY KEY, {q(col)} INT)")
        cur.execute(
            f"INSERT INTO {q(hostile)}.{q(table)} SELECT seq, seq FROM {q(hostile)}.seq_1_to_300"
        )
        hostile_db = TestDatabase(db.server, hostile)
        mirror = copy_as_mirror(hostile_db, table, "mirror")
        alter = (
            f"ADD COLUMN {q(col + '2')} INT DEFAULT 1, "
            f"ADD INDEX {q('i`; DROP TABLE canary; --')} ({q(col)}), "
            f"MODIFY {q(col)} BIGINT COMMENT '; DROP TABLE canary; --'"
        )
        result = Migrator(
            make_config(hostile_db, table, alter, serve_socket_file=str(tmp_path / "s.sock"))
        ).run()
        assert_migrated_like_mirror(hostile_db, alter, table, mirror)
        hostile_db.close()
        assert result.checksum_verified
        cur.execute(f"SHOW TABLES FROM {q(hostile)}")
        names = {r[0] for r in cur.fetchall()}
        assert {"canary", table} <= names
        cur.execute(f"SHOW TABLES FROM {q(db.name)}")
        assert "canary" in {r[0] for r in cur.fetchall()}
        cur.execute(f"SHOW CREATE TABLE {q(hostile)}.{q(table)}")
        created = cur.fetchone()[1]
        assert "i`` DROP" not in created and "KEY `i``; DROP TABLE canary; --`" in created
        cur.execute(f"SELECT COUNT(*), SUM({q(col + '2')}) FROM {q(hostile)}.{q(table)}")
        assert cur.fetchone() == (300, 300)
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS {q(hostile)}")
        admin.close()
