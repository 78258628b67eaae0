"""The Django path against a server that requires TLS: the alias's OPTIONS (ssl,
ssl_mode, read_default_file, init_command) reach the engine's connections, which migrate;
an OPTION the engine cannot honour is refused by name before anything is touched."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from django.test.utils import override_settings

from django_ghost.conf import resolve
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import assert_migrated_like_mirror, helper_tables, seed
from tests.plugins.mariadb import TestDatabase

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7"


def alias_settings(db: TestDatabase, **options: Any) -> dict[str, Any]:
    server = db.server
    return {
        "ENGINE": "django_ghost.backends.mysql",
        "HOST": server.host,
        "PORT": str(server.port),
        "USER": server.user,
        "PASSWORD": server.password,
        "NAME": db.name,
        "OPTIONS": options,
    }


def migrate_with(settings_dict: dict[str, Any]) -> Any:
    with override_settings(GHOST={}):
        resolved = resolve("tls", settings_dict=settings_dict, environ_={})
    config = dataclasses.replace(resolved.engine, table="t", alter=ALTER, execute=True)
    return Migrator(config).run()


def test_ghost_migrate__options_ssl_on_tls_server__migrated_like_mirror(
    tls_db: TestDatabase,
) -> None:
    seed(tls_db, 500)
    settings_dict = alias_settings(
        tls_db,
        ssl=dict(tls_db.server.ssl),
        ssl_mode="VERIFY_IDENTITY",
        charset="utf8mb4",
        init_command="SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_ENGINE_SUBSTITUTION')",
    )

    result = migrate_with(settings_dict)

    assert result.checksum_verified
    assert_migrated_like_mirror(tls_db, ALTER)


def test_ghost_migrate__read_default_file_with_tls_on_tls_server__migrated_like_mirror(
    tls_db: TestDatabase, tmp_path: Path
) -> None:
    seed(tls_db, 500)
    files = dict(tls_db.server.ssl)
    server = tls_db.server
    cnf = tmp_path / "my.cnf"
    cnf.write_text(
        f"[client]\nuser={server.user}\npassword={server.password}\nssl-ca={files['ca']}\n"
        f"ssl-cert={files['cert']}\nssl-key={files['key']}\nssl-verify-server-cert\n"
    )
    settings_dict = alias_settings(tls_db, read_default_file=str(cnf))
    settings_dict.update(USER="", PASSWORD="")

    result = migrate_with(settings_dict)

    assert result.checksum_verified
    assert_migrated_like_mirror(tls_db, ALTER)


def test_ghost_migrate__unsupported_option__refused_by_name_table_untouched(
    tls_db: TestDatabase,
) -> None:
    seed(tls_db, 100, mirror=None)
    before = tls_db.checksum("t")
    settings_dict = alias_settings(tls_db, ssl=dict(tls_db.server.ssl), local_infile=1)

    with pytest.raises(ConfigError, match="'local_infile'") as raised:
        migrate_with(settings_dict)

    assert tls_db.server.password not in str(raised.value)
    assert tls_db.checksum("t") == before and helper_tables(tls_db) == []
