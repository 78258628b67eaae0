"""Binlog coordinates of a server: where it writes now, and which files it still has.

Works on any DB-API connection (MySQLdb from engine.mysql, or PyMySQL). MySQL 8.4
removed ``SHOW MASTER STATUS`` in favour of ``SHOW BINARY LOG STATUS`` (present since
8.2); MariaDB keeps ``SHOW MASTER STATUS`` (its ``SHOW BINLOG STATUS`` alias is 10.5.2+
only), so the statement is chosen from the version string.

With ``gtid`` the position also carries the GTID position at that file and offset
(MariaDB ``BINLOG_GTID_POS(file, pos)``, exact at an event boundary; MySQL the
``Executed_Gtid_Set`` of the same status row), and :func:`gtid_start_problem` says why a
server cannot stream from a GTID position (it has not got there yet, or has purged
what comes after it).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import BinlogError
from ..mysql.gtid import GtidSet, MariaGtidPos
from .events import BinlogPosition


def binlog_status_statement(version: str) -> str:
    """The statement that shows the current binlog file and position on ``version``."""
    if "mariadb" in version.lower():
        return "SHOW MASTER STATUS"
    match = re.match(r"(\d+)\.(\d+)", version)
    if match and (int(match.group(1)), int(match.group(2))) >= (8, 4):
        return "SHOW BINARY LOG STATUS"
    return "SHOW MASTER STATUS"


def _rows(conn: Any, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    try:
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _server_version(conn: Any) -> str:
    """The server's version: from the session's handshake (MySQLdb's get_server_info, no
    round trip: the visibility fence reads the position before every apply batch), else
    from the server."""
    handshake = getattr(conn, "get_server_info", None)
    if handshake is not None:
        return _text(handshake())
    return _text(_rows(conn, "SELECT VERSION()")[0][0])


def _is_mariadb(conn: Any) -> bool:
    return "mariadb" in _server_version(conn).lower()


def current_position(conn: Any, *, gtid: bool = False) -> BinlogPosition:
    """The server's current binlog file and position (the end of the last write); with
    ``gtid``, also the GTID position there."""
    version = _server_version(conn)
    rows = _rows(conn, binlog_status_statement(version))
    if not rows:
        raise BinlogError(
            "the server has binary logging off: start it with log_bin (and "
            "binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL)"
        )
    file, pos = _text(rows[0][0]), int(rows[0][1])
    if not gtid:
        return BinlogPosition(file, pos)
    if "mariadb" in version.lower():
        found = _rows(conn, "SELECT BINLOG_GTID_POS(%s, %s)", (file, pos))[0][0]
        if found is None:
            raise BinlogError(
                f"the server could not tell the GTID position at {file}:{pos} "
                "(BINLOG_GTID_POS returned NULL); run without gtid"
            )
        return BinlogPosition(file, pos, str(MariaGtidPos.parse(_text(found))))
    executed = _text(rows[0][4]) if len(rows[0]) > 4 and rows[0][4] is not None else ""
    if not executed:
        raise BinlogError(
            "the server reports no executed GTIDs (gtid_mode is not ON): turn GTIDs on "
            "(enforce_gtid_consistency=ON, gtid_mode=ON) or run without gtid"
        )
    return BinlogPosition(file, pos, str(GtidSet.parse(executed)))


def server_gtid_position(conn: Any) -> str:
    """What the server's binlog holds now: MariaDB ``@@gtid_binlog_pos``, MySQL
    ``@@gtid_executed``."""
    variable = "gtid_binlog_pos" if _is_mariadb(conn) else "gtid_executed"
    return _text(_rows(conn, f"SELECT @@GLOBAL.{variable}")[0][0] or "")


def gtid_start_problem(conn: Any, gtid: str) -> str:
    """Why the server cannot stream the changes after ``gtid``, with the remedy ('' when
    it can): it has not got that far yet (a replica behind the server the position was
    taken on), or the binary logs after it are purged."""
    if _is_mariadb(conn):
        wanted = MariaGtidPos.parse(gtid)
        server = MariaGtidPos.parse(server_gtid_position(conn))
        behind = wanted.behind(server)
        if behind:
            return (
                f"the server's binary log ends at GTID {server}, before "
                f"{', '.join(str(g) for g in behind)} (a replica behind the server the "
                "checkpoint was taken on?): wait until it has applied them "
                f"(SELECT MASTER_GTID_WAIT('{wanted}')), or read another server"
            )
        oldest = _oldest_gtid_list(conn)
        start = wanted.start_on(server).domains
        purged = [g for g in oldest.gtids if g.domain in start and start[g.domain].seq < g.seq]
        if purged:
            return (
                f"the server purged the binary logs after {wanted}: its oldest one starts "
                f"at GTID {oldest}. Start over, and keep binlogs longer "
                "(binlog_expire_logs_seconds / expire_logs_days) for long migrations"
            )
        return ""
    wanted_set = GtidSet.parse(gtid)
    if not GtidSet.parse(server_gtid_position(conn)).contains(wanted_set):
        return (
            f"the server has not executed every GTID of {wanted_set} yet (a replica "
            "behind?): wait until it has (WAIT_FOR_EXECUTED_GTID_SET), or read another server"
        )
    purged_set = GtidSet.parse(_text(_rows(conn, "SELECT @@GLOBAL.gtid_purged")[0][0] or ""))
    if not wanted_set.contains(purged_set):
        return (
            f"the server purged binary logs holding GTIDs after {wanted_set} (gtid_purged "
            f"{purged_set}). Start over, and keep binlogs longer for long migrations"
        )
    return ""


def _oldest_gtid_list(conn: Any) -> MariaGtidPos:
    """The GTID position at the start of the server's oldest binary log (its Gtid_list
    event, shown as ``[0-1-5,1-2-3]``)."""
    first = _text(_rows(conn, "SHOW BINARY LOGS")[0][0])
    for row in _rows(conn, "SHOW BINLOG EVENTS IN %s LIMIT 4", (first,)):
        if _text(row[2]).lower() == "gtid_list":
            return MariaGtidPos.parse(_text(row[5]).strip().strip("[]"))
    return MariaGtidPos()


def binlog_file_exists(conn: Any, file: str) -> bool:
    """Whether ``file`` is still among the server's binary logs (not purged)."""
    return any(_text(row[0]) == file for row in _rows(conn, "SHOW BINARY LOGS"))
