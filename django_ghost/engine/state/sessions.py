"""The sessions of a run that write, recorded in its checkpoint and ended before a resume.

When the engine process dies (SIGKILL, a crash), the server does not notice at once: a
session waiting in a statement (a chunk copy or an apply statement waiting for a row
lock, a RENAME waiting for a metadata lock) goes on until that statement ends, then
writes its result. Landing after the resume's DELETE of the chunks to copy again, or
after the resume re-read the same key, it would put rows the resumed run has already
replaced, or would copy again, back into the ghost table, with values older than the
resumed run's.

So each checkpoint records the connection ids of the run's writing sessions (the
writer, which copies and applies, and the main session, which renames the ghost), the
user they are logged in as, and when the server started. Before a resumed run touches
anything, :func:`end_sessions_of_killed_run` sends ``KILL CONNECTION`` to each of those
ids still on the server, and waits until they are gone. Only when they are the same
sessions: a connection id names one session only while the server runs (the server
hands out increasing ids and never reuses one before a restart), so the ids are trusted
only when the server has not restarted since (then they are all gone anyway), and only
sessions of the recorded user are killed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence

import MySQLdb

from ..errors import PreflightError
from ..mysql.connection import Connection, execute, query, scalar

log = logging.getLogger("django_ghost")

SESSIONS_GONE_TIMEOUT = 300.0
"""How long to wait for killed sessions to end: a killed statement rolls back first,
which for a large chunk can take a while."""
_SAME_BOOT_SLACK = 2
"""Seconds the server start computed from ``Uptime`` may move between two readings."""


def server_started(conn: Connection) -> int:
    """When the server started, in epoch seconds (its clock minus its uptime)."""
    now = int(scalar(conn, "SELECT UNIX_TIMESTAMP()"))
    uptime = int(query(conn, "SHOW GLOBAL STATUS LIKE 'Uptime'")[0][1])
    return now - uptime


def session_user(conn: Connection) -> str:
    """The user ``conn`` is logged in as, as the process list shows it."""
    return str(
        scalar(conn, "SELECT USER FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()")
    )


def connection_ids(conns: Sequence[Connection]) -> tuple[int, ...]:
    return tuple(int(scalar(conn, "SELECT CONNECTION_ID()")) for conn in conns)


def end_sessions_of_killed_run(
    conn: Connection,
    ids: Sequence[int],
    *,
    user: str,
    started: int,
    timeout: float = SESSIONS_GONE_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> list[int]:
    """KILL the sessions ``ids`` of a killed run that are still on the server (only if
    they are its: logged in as ``user``, on a server running since ``started``) and
    wait until they are gone; returns the ids killed. PreflightError if one outlives
    ``timeout``."""
    if not ids:
        return []
    if abs(server_started(conn) - started) > _SAME_BOOT_SLACK:
        log.info("the server restarted since the earlier run: none of its sessions is left")
        return []
    alive = _alive(conn, ids)
    ours = sorted(i for i, who in alive.items() if who == user)
    if not ours:
        return []
    for session in sorted(set(alive) - set(ours)):
        log.warning("session %d is not the earlier run's (user %s): left alone", session, user)
    for session in ours:
        log.warning("ending session %d of the earlier run, still running on the server", session)
        with contextlib.suppress(MySQLdb.OperationalError):  # gone meanwhile
            execute(conn, f"KILL CONNECTION {int(session)}")
    deadline = time.monotonic() + timeout
    while True:
        left = sorted(set(_alive(conn, ours)))
        if not left:
            return ours
        if time.monotonic() > deadline:
            raise PreflightError(
                f"Cannot resume yet: session(s) {', '.join(map(str, left))} of the earlier "
                f"run are still on the server {timeout:.0f} s after KILL (rolling back a "
                "statement). Wait until SHOW PROCESSLIST no longer lists them, then resume "
                "again."
            )
        sleep(0.1)


def _alive(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The sessions among ``ids`` on the server, with their user."""
    marks = ", ".join(["%s"] * len(ids))
    rows = query(
        conn,
        f"SELECT ID, USER FROM information_schema.PROCESSLIST WHERE ID IN ({marks})",
        [int(i) for i in ids],
    )
    return {int(row[0]): str(row[1]) for row in rows}
