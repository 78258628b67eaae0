"""The instant route: an ALTER the server can do with ``ALGORITHM=INSTANT`` needs no copy.

``attempt_instant_ddl`` (gh-ost's ``--attempt-instant-ddl``) makes the migrator try the
ALTER on the original table itself with ``ALGORITHM=INSTANT`` before it creates any
helper table: adding a column at the end, or a nullable one, changing a default or
widening an ENUM is a change of metadata only on MariaDB 10.3+ and MySQL 8.0. The server
refuses what it cannot do instantly (errors in :data:`NOT_INSTANT_ERRORS`) before it
changes anything, and the online migration runs as usual. The Django backend's router
probes each statement the same way (``instant_ddl``), through :func:`try_instant`.

An instant ALTER still needs an exclusive metadata lock for a moment: it queues behind
long transactions on the table, and all traffic queues behind it. The session's
``lock_wait_timeout`` bounds that wait; a lock wait timeout (1205) counts as "not
instant now" and the online route takes over, whose cut-over waits on the same lock
but retries and backs off.

Unlike gh-ost, which tries after it created the ghost and changelog tables and leaves the
ghost behind on success (its issue #1773), nothing else is created before the attempt.
"""

from __future__ import annotations

import logging
from typing import Any

from ..config import GhostConfig
from ..mysql.dataerrors import ER_LOCK_WAIT_TIMEOUT
from ..sql.alter import ParsedAlter
from ..sql.quote import quote_identifier as q
from ..topology.preflight import Servers

log = logging.getLogger("django_ghost")

NOT_INSTANT_ERRORS = frozenset({1845, 1846, 4092, ER_LOCK_WAIT_TIMEOUT})
"""Server errors meaning "this ALTER cannot run with ALGORITHM=INSTANT (right now)":
ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON), MariaDB's ER_ALTER_OPERATION_NOT_SUPPORTED_
REASON for instant, and a lock wait timeout."""

# The ALGORITHM= values a user may give with which an instant attempt is still what they
# asked for.
_INSTANT_COMPATIBLE = (None, "DEFAULT", "INSTANT")


def try_instant(conn: Any, statement: str, *, lock_wait_timeout: int) -> bool:
    """Run ``statement`` (a complete ``ALTER TABLE``) with ``ALGORITHM=INSTANT``; True once
    done, False when the server cannot do it instantly (nothing changed then).

    ``conn`` is any DB-API connection whose errors carry the server's error code first
    in their args: a MySQLdb connection, or Django's (the router's). Other errors are
    raised. The session's ``lock_wait_timeout`` is set for the attempt and restored.
    """
    with conn.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.lock_wait_timeout")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"SET SESSION lock_wait_timeout = {int(lock_wait_timeout)}")
        try:
            cursor.execute(f"{statement}, ALGORITHM=INSTANT")
        except Exception as exc:
            code = exc.args[0] if exc.args else None
            if code in NOT_INSTANT_ERRORS:
                log.info("not instant (%s): %s", exc, statement)
                return False
            raise
        finally:
            cursor.execute(f"SET SESSION lock_wait_timeout = {previous}")
    log.info("done with ALGORITHM=INSTANT: %s", statement)
    return True


def instant_statement(parsed: ParsedAlter, table: str) -> str | None:
    """The one statement to try instantly, or None when the ALTER must not be tried:
    several statements (one may go instantly and the next not, leaving the table half
    altered under an ALTER the online route would then re-apply), or an ``ALGORITHM=``
    other than INSTANT given by the user."""
    if len(parsed.statements) != 1 or parsed.algorithm not in _INSTANT_COMPATIBLE:
        return None
    return parsed.alter_statements(q(table))[0]


def attempt_instant(servers: Servers, config: GhostConfig, parsed: ParsedAlter) -> bool:
    """The migrator's instant step: with ``attempt_instant_ddl``, the ALTER done on the
    original on the applier with ALGORITHM=INSTANT; False when not asked, not tried
    (validation only, a resumed run, test_on_replica, which must not alter the replica's
    original, or see :func:`instant_statement`) or not instant."""
    skip = config.resume or servers.topology.test_on_replica
    if not (config.attempt_instant_ddl and config.execute) or skip:
        return False
    statement = instant_statement(parsed, config.table)
    if statement is None:
        log.info("attempt_instant_ddl: not tried for an ALTER of several statements")
        return False
    # The cut-over's lock timeout: the longest the table may stall behind this ALTER.
    timeout = config.cut_over_lock_timeout_seconds
    return try_instant(servers.main, statement, lock_wait_timeout=timeout)
