"""Real-server fixtures: a session server, a replica, and a fresh database per test.

The server is ``GHOST_TEST_DSN`` (``mysql://user:password@host:port/``) when set,
otherwise a sandbox started for the session by :mod:`django_ghost.sandbox`. The replica
is ``GHOST_TEST_REPLICA_DSN`` or a sandbox replica attached to the session sandbox.

When a server cannot be had, every test that needs it **fails**, on every machine: a
run never reports success for tests that did not run. Not running them is a choice made
on the command line, which pytest prints: ``make unit`` (only tests/unit), or
``-m "not integration"`` / ``-m "not replica"`` (tests/conftest.py marks every test of
tests/integration ``integration`` and every test using ``replica_server`` ``replica``).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse

import MySQLdb
import pytest

from django_ghost.sandbox import Sandbox, SandboxError
from django_ghost.sandbox_tls import TlsSetupError


@dataclasses.dataclass(frozen=True)
class TestServer:
    """Where a test server listens, and how to log in as the engine user."""

    __test__ = False
    host: str
    port: int
    user: str
    password: str
    ssl: tuple[tuple[str, str], ...] = ()
    """TLS files (``MySQLdb.connect(ssl=...)``) for a server that requires TLS."""

    @classmethod
    def from_dsn(cls, dsn: str) -> TestServer:
        url = urlparse(dsn)
        return cls(
            host=url.hostname or "127.0.0.1",
            port=url.port or 3306,
            user=unquote(url.username or "root"),
            password=unquote(url.password or ""),
        )

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "autocommit": True,
            "charset": "utf8mb4",
        }
        if database:
            params["database"] = database
        if self.ssl:
            params.update(ssl=dict(self.ssl), ssl_mode="VERIFY_IDENTITY")
        params.update(kwargs)
        return MySQLdb.connect(**params)

    def dsn(self) -> str:
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/"


NO_SERVER_REMEDY = (
    "The integration tests need a MariaDB (or MySQL) server: `make deps` installs "
    "mariadb-server for the sandbox, or set GHOST_TEST_DSN=mysql://user:password@host:port/. "
    "To run without them, say so: `make unit` (or pytest -m 'not integration')."
)
NO_REPLICA_REMEDY = (
    "The replica tests need a replica of the test server: unset GHOST_TEST_DSN to use the "
    "sandbox and its replica, or set GHOST_TEST_REPLICA_DSN. To run without them, say so: "
    "pytest -m 'not replica'."
)
NO_SERVER = "no test server: "


def unavailable(reason: str, remedy: str = NO_SERVER_REMEDY) -> NoReturn:
    """Fail the test that needed a server which cannot be had: never a skip, so that no
    run passes with tests that did not run."""
    pytest.fail(f"{NO_SERVER}{reason}\n{remedy}", pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, at the end, which tests failed for want of a server and why."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("error", []) + terminalreporter.stats.get(
        "failed", []
    ):
        text = getattr(report, "longreprtext", "")
        if NO_SERVER in text:
            reason = text[text.index(NO_SERVER) :]
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("tests that could not run (failures, not skips)", red=True)
        for reason, count in reasons.items():
            terminalreporter.line(f"{count} test(s): {reason}")


def replica_dsn(sandbox: Sandbox | None) -> str:
    """Where the replica test server is: ``GHOST_TEST_REPLICA_DSN``, or the session
    sandbox's replica (started on first use); fails the test when there is neither."""
    dsn = os.environ.get("GHOST_TEST_REPLICA_DSN", "")
    if dsn:
        return dsn
    if sandbox is None:
        unavailable("GHOST_TEST_DSN is set but GHOST_TEST_REPLICA_DSN is not", NO_REPLICA_REMEDY)
    try:
        return (sandbox.replica or sandbox.add_replica()).dsn()
    except SandboxError as exc:
        error = exc
    unavailable(f"the sandbox replica did not start: {error}", NO_REPLICA_REMEDY)


@pytest.fixture(scope="session")
def _sandbox() -> Iterator[Sandbox | None]:
    if os.environ.get("GHOST_TEST_DSN"):
        yield None
        return
    # A private temporary directory, not pytest's basetemp: pytest deletes older basetemps
    # when later sessions start, which would pull the datadir from under a running server.
    box = Sandbox()
    error: SandboxError | None = None
    try:
        box.start()
    except SandboxError as exc:
        box.stop()
        error = exc
    if error is not None:  # failed outside the except block: the cause is told once
        unavailable(f"the sandbox server did not start: {error}")
    yield box
    _keep_error_logs_of_dead_servers(box)
    box.stop()


def _keep_error_logs_of_dead_servers(box: Sandbox) -> None:
    """A server that died during the session takes its error log with the temporary
    directory: copy it somewhere that stays, and say where."""
    started = dict(box.servers)
    alive = box.status()
    for role in started:
        if role in alive:
            continue
        log = box.base_dir / role / "error.log"
        if log.exists():
            kept = Path(tempfile.gettempdir()) / f"django-ghost-test-{role}-{time.time():.0f}.log"
            shutil.copy(log, kept)
            print(f"\nthe test {role} server died during the session; its error log: {kept}")


@pytest.fixture(scope="session")
def ghost_server(_sandbox: Sandbox | None) -> TestServer:
    """The primary test server (session scope)."""
    dsn = os.environ.get("GHOST_TEST_DSN") or (_sandbox.primary.dsn() if _sandbox else "")
    server = TestServer.from_dsn(dsn)
    try:
        server.connect().close()
    except MySQLdb.OperationalError as exc:
        error = exc
    else:
        return server
    unavailable(f"cannot connect to {server.host}:{server.port}: {error}")


@pytest.fixture(scope="session")
def replica_server(_sandbox: Sandbox | None, ghost_server: TestServer) -> TestServer:
    """A replica of ``ghost_server`` with replication running (session scope)."""
    return TestServer.from_dsn(replica_dsn(_sandbox))


_counter = itertools.count()


class TestDatabase:
    """A database created for one test and dropped after it, with small helpers."""

    __test__ = False

    def __init__(self, server: TestServer, name: str):
        self.server = server
        self.name = name
        self._conn = server.connect(name)

    def connect(self, **kwargs: Any) -> Any:
        return self.server.connect(self.name, **kwargs)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        cur = self._conn.cursor()
        try:
            return int(cur.execute(sql, params))
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self._conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def run_script(self, script: str) -> None:
        """Run a script of ``;``-separated statements (no DELIMITER support)."""
        conn = self.connect(client_flag=MySQLdb.constants.CLIENT.MULTI_STATEMENTS)
        try:
            cur = conn.cursor()
            cur.execute(script)
            while cur.nextset():
                pass
        finally:
            conn.close()

    def tables(self) -> list[str]:
        return [r[0] for r in self.query("SHOW TABLES")]

    def show_create(self, table: str) -> str:
        return str(self.query(f"SHOW CREATE TABLE `{table}`")[0][1])

    def checksum(self, table: str, columns: str = "*", order_by: str = "") -> tuple[int, str]:
        """(row count, md5 of every row's values in key order) of a table."""
        order = f" ORDER BY {order_by}" if order_by else ""
        rows = self.query(f"SELECT {columns} FROM `{table}`{order}")
        import hashlib

        digest = hashlib.md5()
        for row in rows:
            digest.update(repr(row).encode())
        return len(rows), digest.hexdigest()

    def close(self) -> None:
        self._conn.close()


@pytest.fixture(scope="session")
def tls_server() -> Iterator[TestServer]:
    """A sandbox server of its own that requires TLS (require_secure_transport=ON), with a
    private CA and a client certificate (``TestServer.ssl``); started on first use."""
    box: Sandbox | None = None
    error: Exception | None = None
    try:
        box = Sandbox(tls=True)
        info = box.start()
    except (SandboxError, TlsSetupError) as exc:
        if box is not None:
            box.stop()
        error = exc
    if error is not None or box is None or box.tls is None:
        unavailable(f"the TLS sandbox server did not start: {error}")
    ssl = tuple(sorted(box.tls.client_ssl().items()))
    yield TestServer(info.host, info.port, info.user, info.password, ssl=ssl)
    box.stop()


@pytest.fixture
def tls_db(tls_server: TestServer, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """A fresh database on ``tls_server`` for this test, dropped afterwards."""
    yield from _fresh_database(tls_server, request)


@pytest.fixture
def db(ghost_server: TestServer, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """A fresh database for this test, dropped afterwards."""
    yield from _fresh_database(ghost_server, request)


def _fresh_database(
    ghost_server: TestServer, request: pytest.FixtureRequest
) -> Iterator[TestDatabase]:
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    name = f"t{next(_counter)}_{os.getpid()}_{slug}"[:64]
    admin = ghost_server.connect()
    admin.cursor().execute(f"CREATE DATABASE `{name}`")
    database = TestDatabase(ghost_server, name)
    try:
        yield database
    finally:
        database.close()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
