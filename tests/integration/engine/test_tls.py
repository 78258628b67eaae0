"""Migrations against a server that requires TLS (require_secure_transport=ON, its own CA).

Without TLS options the migration cannot even connect and leaves the table alone; with
them it migrates under writes like the mirror, and the server itself reports the engine's
binlog dump session as encrypted (performance_schema.threads.CONNECTION_TYPE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import GhostError
from django_ghost.engine.migrator import Migrator
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    assert_migrated_like_mirror,
    helper_tables,
    make_config,
    rows_md5,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for

ALTER = "ADD COLUMN extra INT NOT NULL DEFAULT 7"


def tls_options(db: TestDatabase, **extra: Any) -> dict[str, Any]:
    files = dict(db.server.ssl)
    return {
        "ssl": True,
        "ssl_ca": files["ca"],
        "ssl_cert": files["cert"],
        "ssl_key": files["key"],
        **extra,
    }


def engine_sessions(db: TestDatabase) -> list[tuple[str, str]]:
    """(command, transport) of every session of the engine user but this one."""
    rows = db.query(
        "SELECT PROCESSLIST_COMMAND, CONNECTION_TYPE FROM performance_schema.threads "
        "WHERE PROCESSLIST_USER = %s AND PROCESSLIST_ID <> CONNECTION_ID()",
        (db.server.user,),
    )
    return [(str(command), str(kind)) for command, kind in rows]


def assert_refused_untouched(db: TestDatabase, config: GhostConfig, message: str) -> None:
    before = rows_md5(db, "t")
    with pytest.raises(GhostError, match=message):
        Migrator(config).run()
    assert rows_md5(db, "t") == before
    assert "extra" not in db.show_create("t")
    assert helper_tables(db) == []


def test_migrate__tls_server_without_ssl__refused_table_untouched(tls_db: TestDatabase) -> None:
    seed(tls_db, 500, mirror=None)

    assert_refused_untouched(
        tls_db, make_config(tls_db, "t", ALTER), r"Cannot connect.*require_secure_transport"
    )


def test_migrate__tls_server_ssl_without_ca__certificate_refused_table_untouched(
    tls_db: TestDatabase,
) -> None:
    seed(tls_db, 500, mirror=None)
    # The system's CAs do not know the sandbox's private CA: verification must fail.
    config = make_config(tls_db, "t", ALTER, ssl=True)

    assert_refused_untouched(tls_db, config, r"Cannot connect.*(certificate|TLS/SSL)")


def test_migrate__tls_server_with_ssl__migrated_like_mirror_binlog_over_tls(
    tls_db: TestDatabase, tmp_path: Path
) -> None:
    seed(tls_db, 2000)
    postpone = tmp_path / "postpone"
    postpone.touch()
    config = make_config(
        tls_db, "t", ALTER, postpone_cut_over_flag_file=str(postpone), **tls_options(tls_db)
    )
    writer = MirroredWriter(tls_db)
    writer.start()
    run = Run(config)
    run.start()
    try:
        assert wait_for(run.postponed, timeout=60), run.error
        sessions = engine_sessions(tls_db)
    finally:
        postpone.unlink()
        run.join(timeout=120)
        writer.finish()

    assert ("Binlog Dump", "SSL/TLS") in sessions
    assert {kind for _, kind in sessions} == {"SSL/TLS"}
    assert run.error is None
    assert writer.failures == []
    assert run.result.checksum_verified and run.result.events_applied > 0
    assert_migrated_like_mirror(tls_db, ALTER)


def test_migrate__tls_server_allow_insecure__migrated(tls_db: TestDatabase) -> None:
    seed(tls_db, 300)
    config = make_config(tls_db, "t", ALTER, ssl=True, ssl_allow_insecure=True)

    result = Migrator(config).run()

    assert result.checksum_verified
    assert_migrated_like_mirror(tls_db, ALTER)
