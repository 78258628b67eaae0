"""Django against the sandbox: settings filled in at runtime, a fresh database per test.

``dj`` points the ``default`` alias (django_ghost's backend) and the ``stock`` alias
(Django's own MySQL backend, the oracle) at two fresh databases on the session server,
with settings that force the online route (``min_table_rows=0``, no instant attempts)
so that small test tables exercise the engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import BaseCommand  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from tests.plugins.mariadb import TestDatabase, TestServer  # noqa: E402

FORCE_ONLINE = {"min_table_rows": 0, "instant_ddl": False}


class DjangoEnv:
    """Helpers over the two aliases of one test."""

    def __init__(self, db: TestDatabase, stock: TestDatabase):
        self.db = db
        self.stock = stock

    def migrate(
        self, *args: Any, command: str | BaseCommand = "ghost_migrate", **kwargs: Any
    ) -> None:
        kwargs.setdefault("verbosity", 0)
        call_command(command, *args, **kwargs)

    def database(self, alias: str) -> TestDatabase:
        return self.db if alias == "default" else self.stock

    def schema(self, alias: str = "default") -> dict[str, str]:
        """SHOW CREATE TABLE of every app table (not Django's or the engine's own)."""
        database = self.database(alias)
        return {t: database.show_create(t) for t in database.tables() if t.startswith("testapp_")}

    def applied(self, app: str = "testapp") -> list[str]:
        return [
            r[0]
            for r in self.db.query(
                "SELECT name FROM django_migrations WHERE app = %s ORDER BY id", [app]
            )
        ]

    def runs(self) -> list[dict[str, Any]]:
        cols = [
            "table_name",
            "route",
            "status",
            "rows_copied",
            "events_applied",
            "error",
            "migration",
        ]
        rows = self.db.query(f"SELECT {', '.join(cols)} FROM django_ghost_onlinerun ORDER BY id")
        return [dict(zip(cols, row, strict=True)) for row in rows]


@pytest.fixture(autouse=True)
def _django_db_unblocked(django_db_blocker: Any) -> Iterator[None]:
    # pytest-django blocks database access outside its own markers; these tests manage
    # their databases themselves.
    if django_db_blocker is None:
        yield
        return
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def dj(db: TestDatabase, ghost_server: TestServer) -> Iterator[DjangoEnv]:
    stock_name = (db.name[:58] + "_stock")[:64]
    admin = ghost_server.connect()
    admin.cursor().execute(f"CREATE DATABASE `{stock_name}`")
    stock = TestDatabase(ghost_server, stock_name)
    connections.close_all()
    keys = ("HOST", "PORT", "USER", "PASSWORD", "NAME")
    saved = {a: {k: settings.DATABASES[a][k] for k in keys} for a in ("default", "stock")}
    for alias, name in (("default", db.name), ("stock", stock_name)):
        # In place: the connection handler shares these dicts.
        settings.DATABASES[alias].update(
            HOST=ghost_server.host,
            PORT=str(ghost_server.port),
            USER=ghost_server.user,
            PASSWORD=ghost_server.password,
            NAME=name,
        )
    try:
        with override_settings(GHOST=dict(FORCE_ONLINE)):
            call_command("migrate", "django_ghost", verbosity=0)
            yield DjangoEnv(db, stock)
    finally:
        connections.close_all()
        for alias, values in saved.items():
            settings.DATABASES[alias].update(values)
        stock.close()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{stock_name}`")
        admin.close()
