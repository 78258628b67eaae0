"""Preflight: everything checked before anything is written to the server.

Each check raises PreflightError naming the cause and the remedy. The checks only read
(server variables, grants, information_schema), so a refused migration changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..config import GhostConfig
from ..errors import PreflightError, UnsupportedAlterError
from ..mysql.connection import Connection, query
from ..mysql.server import ServerFacts
from ..sql.alter import ParsedAlter
from ..table.info import TableInfo

TABLE_PRIVILEGES = (
    "ALTER",
    "CREATE",
    "DELETE",
    "DROP",
    "INDEX",
    "INSERT",
    "LOCK TABLES",
    "SELECT",
    "UPDATE",
)


def check_binlog(facts: ServerFacts) -> None:
    problems = facts.binlog_problems()
    if problems:
        raise PreflightError(
            f"The server {facts.identity} cannot feed an online migration: "
            + "; ".join(problems)
            + "."
        )


def grant_privileges(grants: Iterable[str], database: str) -> tuple[set[str], set[str]]:
    """(privileges on *.*, privileges on ``database``.*) from the lines of SHOW GRANTS FOR
    CURRENT_USER(); role grants are not expanded."""
    global_privs: set[str] = set()
    db_privs: set[str] = set()
    on_database = re.compile(r" ON `?" + re.escape(database) + r"`?\.\* TO ", re.I)
    for grant in grants:
        match = re.match(r"GRANT (.+?) ON ", grant, re.I)
        if not match:
            continue
        privs = {p.strip().upper() for p in match.group(1).split(",")}
        if " ON *.* TO " in grant.upper():
            global_privs |= privs
        elif on_database.search(grant):
            db_privs |= privs
    return global_privs, db_privs


def check_grants(grants: Iterable[str], database: str) -> None:
    """Grants as printed by SHOW GRANTS FOR CURRENT_USER(); role grants are not expanded."""
    global_privs, db_privs = grant_privileges(grants, database)
    if "ALL PRIVILEGES" in global_privs:
        return
    missing = []
    if "REPLICATION SLAVE" not in global_privs and "REPLICATION REPLICA" not in global_privs:
        missing.append("REPLICATION SLAVE")
    if not global_privs & {"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"}:
        missing.append("REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+)")
    table_privs = global_privs | db_privs
    if "ALL PRIVILEGES" not in table_privs:
        missing += [p for p in TABLE_PRIVILEGES if p not in table_privs]
    if missing:
        raise PreflightError(
            f"The migration user lacks privileges: {', '.join(missing)}. Grant them, e.g. "
            f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO <user>; GRANT ALL ON "
            f"`{database}`.* TO <user>."
        )


def read_grants(conn: Connection) -> list[str]:
    return [str(r[0]) for r in query(conn, "SHOW GRANTS FOR CURRENT_USER()")]


def check_table(info: TableInfo | None, config: GhostConfig) -> TableInfo:
    """The original table must exist, be InnoDB and have no foreign keys (a child table
    may be migrated with discard_foreign_keys or skip_foreign_key_checks, never when a
    foreign key cascades into it) and no triggers unless include_triggers (their own
    checks are in triggers.py)."""
    name = f"`{config.database}`.`{config.table}`"
    if info is None:
        raise PreflightError(f"Table {name} does not exist. Check the database and table name.")
    if info.is_view:
        raise PreflightError(f"{name} is a VIEW, not a table; alter the underlying table.")
    if info.engine.lower() != "innodb":
        raise PreflightError(
            f"{name} uses the {info.engine or 'unknown'} engine; online migrations need InnoDB "
            "(row locks and consistent snapshots). Convert it first with ALTER TABLE ... "
            "ENGINE=InnoDB during a maintenance window, or migrate it offline."
        )
    if info.triggers and not config.include_triggers:
        raise PreflightError(
            f"{name} has triggers ({', '.join(info.triggers)}), which the new table would "
            "not have. To carry them over (created on the new table at the cut-over, their "
            "names plus a suffix), set include_triggers and trigger_suffix: flags "
            "--include-triggers --trigger-suffix=_new, or in Django settings GHOST = "
            '{"include_triggers": True, "trigger_suffix": "_new"}. Or drop them for the '
            "migration and re-create them after, or run a plain ALTER."
        )
    if info.cascading_foreign_keys:
        # Whatever discard_foreign_keys or skip_foreign_key_checks say: these changes
        # never reach the stream, so the new table would silently keep stale rows.
        raise PreflightError(
            f"{name} is the child of foreign keys that change its rows when the parent "
            f"changes ({'; '.join(info.cascading_foreign_keys)}). InnoDB makes those "
            "changes itself and writes no row events for them to the binlog, so the new "
            "table would silently keep rows the original no longer has. For the "
            "migration, make them ON DELETE RESTRICT ON UPDATE RESTRICT (or NO ACTION), "
            "or drop them, or run a plain ALTER."
        )
    if info.parent_foreign_keys and not config.skip_foreign_key_checks:
        raise PreflightError(
            f"{name} is referenced by foreign keys ({', '.join(info.parent_foreign_keys)}); "
            "after the table swap they would point at the old table. Drop those foreign "
            "keys first (or set skip_foreign_key_checks if you handle them yourself)."
        )
    if (
        info.child_foreign_keys
        and not config.discard_foreign_keys
        and not config.skip_foreign_key_checks
    ):
        raise PreflightError(
            f"{name} has foreign keys ({', '.join(info.child_foreign_keys)}); the new table "
            "cannot carry them through the swap. Set discard_foreign_keys to migrate without "
            "them (the new table will have none), or drop them first."
        )
    return info


def check_renames(parsed: ParsedAlter, config: GhostConfig) -> None:
    if parsed.renamed_columns and not config.approve_renamed_columns:
        pairs = ", ".join(f"{a} -> {b}" for a, b in parsed.renamed_columns.items())
        raise UnsupportedAlterError(
            f"The ALTER renames columns ({pairs}). Their data will be carried over to the "
            "new names only if you confirm: set approve_renamed_columns (flag "
            "--approve-renamed-columns)."
        )
