"""Test-database creation never goes online, whatever the environment says.

``create_test_db`` runs ``migrate`` (ours included, which honours ``GHOST_MIGRATE``);
a CI job exporting ``GHOST_MIGRATE=true`` must still build its test database with plain
DDL, so creation and cloning run inside :func:`~.state.suppressed`.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.mysql.creation import DatabaseCreation as MySQLDatabaseCreation

from .state import suppressed


class DatabaseCreation(MySQLDatabaseCreation):
    def create_test_db(self, *args: Any, **kwargs: Any) -> Any:
        with suppressed():
            return super().create_test_db(*args, **kwargs)

    def _clone_test_db(self, *args: Any, **kwargs: Any) -> Any:
        with suppressed():
            return super()._clone_test_db(*args, **kwargs)
