"""django_ghost's system checks against the real server, set up wrong on purpose.

``call_command`` skips system checks by default, so no other test runs them against a
server. Here the server is misconfigured one way at a time (a global variable, or a user
without replication grants) and the exact check ids must come back. The global variables
are the session server's, shared by every test: each is restored in a ``finally``, and
Django's connections are reopened on both sides of the change, since sessions copy the
global values when they connect.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections
from django.test.utils import override_settings

from tests.plugins.mariadb import TestServer

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"


def check_ids(*aliases: str) -> list[str]:
    """The ids of django_ghost's check messages for ``aliases`` (fresh connections)."""
    connections.close_all()
    messages = run_checks(tags=["django_ghost"], databases=list(aliases or ["default"]))
    assert all(m.hint for m in messages), messages
    return [str(m.id) for m in messages]


@contextmanager
def global_variable(server: TestServer, name: str, value: str) -> Iterator[None]:
    """``SET GLOBAL name = value`` for the block, the old value restored afterwards."""
    conn = server.connect()
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT @@GLOBAL.{name}")
        old = str(cur.fetchone()[0])
        cur.execute(f"SET GLOBAL {name} = %s", [value])
        try:
            yield
        finally:
            cur.execute(f"SET GLOBAL {name} = %s", [old])
            connections.close_all()
    finally:
        conn.close()


@contextmanager
def limited_user(dj: DjangoEnv) -> Iterator[None]:
    """Django's ``default`` alias logged in as a user with only SELECT and INSERT on the
    test database."""
    user, password = f"ghost_lim_{os.getpid()}", "pw-limited"
    saved = {k: settings.DATABASES["default"][k] for k in ("USER", "PASSWORD")}
    conn = dj.db.server.connect()
    cur = conn.cursor()
    # Local to this server: a replica of the session must not replay the account.
    cur.execute("SET SESSION sql_log_bin = 0")
    cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", [user, password])
    try:
        cur.execute(f"GRANT SELECT, INSERT ON `{dj.db.name}`.* TO %s@'%%'", [user])
        settings.DATABASES["default"].update(USER=user, PASSWORD=password)
        yield
    finally:
        settings.DATABASES["default"].update(saved)
        connections.close_all()
        cur.execute("DROP USER %s@'%%'", [user])
        conn.close()


@pytest.mark.parametrize(
    ("variable", "wrong", "expected"),
    [
        ("binlog_format", "MIXED", "django_ghost.E002"),
        ("binlog_row_image", "MINIMAL", "django_ghost.E003"),
        ("binlog_row_metadata", "MINIMAL", "django_ghost.E006"),
    ],
)
def test_checks__binlog_variable_set_wrong__exactly_its_error(
    dj: DjangoEnv, ghost_server: TestServer, variable: str, wrong: str, expected: str
) -> None:
    assert check_ids() == [], "the sandbox should pass every check"
    with global_variable(ghost_server, variable, wrong):
        assert check_ids() == [expected]
        # The stock alias uses Django's own backend: never checked.
        assert check_ids("default", "stock") == [expected]
    assert check_ids() == []


def test_checks__user_with_select_and_insert_only__missing_replication_grants(
    dj: DjangoEnv,
) -> None:
    with limited_user(dj):
        connections.close_all()
        messages = run_checks(tags=["django_ghost"], databases=["default"])
    assert [m.id for m in messages] == ["django_ghost.E004"]
    assert "REPLICATION SLAVE, REPLICATION CLIENT" in messages[0].msg
    assert check_ids() == []


def test_ghost_migrate__checks_on_and_binlog_mixed__refused_before_any_work(
    dj: DjangoEnv, ghost_server: TestServer
) -> None:
    flow = {"testapp": f"{FLOWS}.online"}
    with override_settings(MIGRATION_MODULES=flow, GHOST=FORCE_ONLINE):
        dj.migrate("testapp", "0001_initial", command="migrate")
        with global_variable(ghost_server, "binlog_format", "MIXED"):
            connections.close_all()
            with pytest.raises(SystemCheckError, match="django_ghost.E002"):
                dj.migrate("testapp", skip_checks=False)
            with pytest.raises(SystemCheckError, match="django_ghost.E002"):
                call_command("check", "--database", "default", "--tag", "django_ghost")
    assert dj.applied() == ["0001_initial"]
    assert dj.runs() == []
