"""System checks for aliases that can go online, with stable ids and hints.

Registered under the ``database`` tag (Django runs those only when a command asks for
specific databases, as ``migrate`` does) and the ``django_ghost`` tag; ``ghost_migrate``
runs them for its alias before any work.

=====================  =====================================================
django_ghost.E001      the binary log is off
django_ghost.E002      binlog_format is not ROW
django_ghost.E003      binlog_row_image is not FULL
django_ghost.E004      the user lacks replication privileges
django_ghost.E005      the server cannot be reached
django_ghost.E006      binlog_row_metadata is not FULL
django_ghost.E010      the django_ghost configuration is invalid
django_ghost.W001      the server version is older than what django_ghost is tested on
=====================  =====================================================
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connections

from django_ghost.conf import resolve
from django_ghost.engine.errors import ConfigError

DOCS = "See docs/django.md#system-checks."
MIN_MARIADB = (10, 6)
MIN_MYSQL = (8, 0)


@dataclasses.dataclass(frozen=True)
class ServerFacts:
    log_bin: bool
    binlog_format: str
    binlog_row_image: str
    version: str
    grants: tuple[str, ...]
    # "" when the server has no such variable (MariaDB < 10.5, MySQL < 8.0.14).
    binlog_row_metadata: str = ""

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.version.lower()

    def version_tuple(self) -> tuple[int, int]:
        match = re.match(r"(\d+)\.(\d+)", self.version)
        return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def missing_privileges(grants: Iterable[str]) -> list[str]:
    """Global privileges the engine needs that ``SHOW GRANTS`` output does not give."""
    global_grants = [g.upper() for g in grants if " ON *.* " in g.upper()]
    if any("ALL PRIVILEGES" in g for g in global_grants):
        return []
    text = " ".join(global_grants)
    missing = []
    if "REPLICATION SLAVE" not in text and "REPLICATION REPLICA" not in text:
        missing.append("REPLICATION SLAVE")
    if not any(p in text for p in ("REPLICATION CLIENT", "BINLOG MONITOR", "SUPER")):
        missing.append("REPLICATION CLIENT")
    return missing


def evaluate(alias: str, facts: ServerFacts) -> list[CheckMessage]:
    """The check messages for one alias's server facts (pure, unit-tested)."""
    where = f"database alias {alias!r}"
    out: list[CheckMessage] = []
    if not facts.log_bin:
        out.append(
            Error(
                f"The binary log is off on {where}.",
                hint="Start the server with --log-bin (and a server_id). " + DOCS,
                id="django_ghost.E001",
            )
        )
    if facts.binlog_format.upper() != "ROW":
        out.append(
            Error(
                f"binlog_format is {facts.binlog_format!r} on {where}; the engine needs ROW.",
                hint="SET GLOBAL binlog_format = 'ROW' (and in my.cnf). " + DOCS,
                id="django_ghost.E002",
            )
        )
    if facts.binlog_row_image.upper() != "FULL":
        out.append(
            Error(
                f"binlog_row_image is {facts.binlog_row_image!r} on {where}; "
                "the engine needs FULL.",
                hint="SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf). " + DOCS,
                id="django_ghost.E003",
            )
        )
    if facts.binlog_row_metadata and facts.binlog_row_metadata.upper() != "FULL":
        out.append(
            Error(
                f"binlog_row_metadata is {facts.binlog_row_metadata!r} on {where}; the engine "
                "needs FULL (column names in the binlog, to decode rows).",
                hint="SET GLOBAL binlog_row_metadata = 'FULL' (and in my.cnf). " + DOCS,
                id="django_ghost.E006",
            )
        )
    missing = missing_privileges(facts.grants)
    if missing:
        out.append(
            Error(
                f"The user of {where} lacks {', '.join(missing)}.",
                hint=f"GRANT {', '.join(missing)} ON *.* TO <user>; " + DOCS,
                id="django_ghost.E004",
            )
        )
    minimum = MIN_MARIADB if facts.is_mariadb else MIN_MYSQL
    if facts.version_tuple() < minimum:
        flavor = "MariaDB" if facts.is_mariadb else "MySQL"
        out.append(
            Warning(
                f"{where} runs {flavor} {facts.version}; django_ghost is tested on "
                f"{flavor} {'.'.join(map(str, minimum))} and later.",
                hint="Upgrade the server, or test online migrations on a copy first. " + DOCS,
                id="django_ghost.W001",
            )
        )
    return out


def read_facts(connection: Any) -> ServerFacts:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, VERSION()")
        log_bin, fmt, image, version = cursor.fetchone()
        cursor.execute("SHOW GRANTS")
        grants: Sequence[tuple[Any, ...]] = cursor.fetchall()
        # SHOW, not @@: servers without the variable answer with no row instead of an error.
        cursor.execute("SHOW GLOBAL VARIABLES LIKE 'binlog_row_metadata'")
        metadata = cursor.fetchone()
    return ServerFacts(
        log_bin=str(log_bin) in ("1", "ON"),
        binlog_format=str(fmt),
        binlog_row_image=str(image),
        version=str(version),
        grants=tuple(str(g[0]) for g in grants),
        binlog_row_metadata=str(metadata[1]) if metadata else "",
    )


def is_ghost_alias(alias: str) -> bool:
    from django_ghost.backends.mysql.schema import GhostSchemaEditorMixin

    connection = connections[alias]
    editor_class = getattr(connection, "SchemaEditorClass", None)
    return isinstance(editor_class, type) and issubclass(editor_class, GhostSchemaEditorMixin)


def check_alias(alias: str) -> list[CheckMessage]:
    try:
        config = resolve(alias)
    except ConfigError as exc:
        return [Error(str(exc), hint=DOCS, id="django_ghost.E010")]
    if not config.options.enabled:
        return []
    try:
        facts = read_facts(connections[alias])
    except DatabaseError as exc:
        return [
            Error(
                f"Cannot read server settings of database alias {alias!r}: {exc}",
                hint="Check the DATABASES entry and that the server is up. " + DOCS,
                id="django_ghost.E005",
            )
        ]
    return evaluate(alias, facts)


@register(Tags.database, "django_ghost")
def check_servers(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Server prerequisites of every requested alias that uses a django_ghost editor."""
    out: list[CheckMessage] = []
    for alias in databases or ():
        if is_ghost_alias(alias):
            out.extend(check_alias(alias))
    return out
