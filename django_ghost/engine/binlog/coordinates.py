"""Binlog coordinates of a server: where it writes now, and which files it still has.

Works on any DB-API connection (MySQLdb from engine.mysql, or PyMySQL). MySQL 8.4
removed ``SHOW MASTER STATUS`` in favour of ``SHOW BINARY LOG STATUS`` (present since
8.2); MariaDB keeps ``SHOW MASTER STATUS`` (its ``SHOW BINLOG STATUS`` alias is 10.5.2+
only), so the statement is chosen from the version string.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import BinlogError
from .events import BinlogPosition


def binlog_status_statement(version: str) -> str:
    """The statement that shows the current binlog file and position on ``version``."""
    if "mariadb" in version.lower():
        return "SHOW MASTER STATUS"
    match = re.match(r"(\d+)\.(\d+)", version)
    if match and (int(match.group(1)), int(match.group(2))) >= (8, 4):
        return "SHOW BINARY LOG STATUS"
    return "SHOW MASTER STATUS"


def _rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return list(cur.fetchall())
    finally:
        cur.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def current_position(conn: Any) -> BinlogPosition:
    """The server's current binlog file and position (the end of the last write)."""
    version = _text(_rows(conn, "SELECT VERSION()")[0][0])
    rows = _rows(conn, binlog_status_statement(version))
    if not rows:
        raise BinlogError(
            "the server has binary logging off: start it with log_bin (and "
            "binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL)"
        )
    return BinlogPosition(_text(rows[0][0]), int(rows[0][1]))


def binlog_file_exists(conn: Any, file: str) -> bool:
    """Whether ``file`` is still among the server's binary logs (not purged)."""
    return any(_text(row[0]) == file for row in _rows(conn, "SHOW BINARY LOGS"))
