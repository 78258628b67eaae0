"""ConnectionSpec and connect(): every engine connection is opened here.

Each session gets the engine's settings at connect time: REPEATABLE READ (set with
``SET SESSION TRANSACTION ISOLATION LEVEL`` because ``transaction_isolation`` does not
exist before MariaDB 11.1), the requested time zone, and a strict sql_mode with
``NO_AUTO_VALUE_ON_ZERO`` so that copied zeros in AUTO_INCREMENT columns stay zeros.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import MySQLdb
import MySQLdb.cursors

from ..config import GhostConfig

Connection = Any  # MySQLdb.connections.Connection; typed loosely as the stubs are partial


@dataclasses.dataclass(frozen=True)
class ConnectionSpec:
    """Where and as whom to connect. ``password`` never appears in repr or logs."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    socket: str = ""
    database: str = ""

    @classmethod
    def from_config(cls, config: GhostConfig) -> ConnectionSpec:
        """The server and login a migration's options name."""
        return cls(
            host=config.host,
            port=config.port,
            user=config.user,
            password=config.password,
            socket=config.socket,
            database=config.database,
        )

    def describe(self) -> str:
        where = self.socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}"

    def with_host(self, host: str, port: int) -> ConnectionSpec:
        return dataclasses.replace(self, host=host, port=port, socket="")


def connect(
    spec: ConnectionSpec,
    *,
    time_zone: str = "+00:00",
    sql_mode_extra: Sequence[str] = ("STRICT_ALL_TABLES", "NO_AUTO_VALUE_ON_ZERO"),
    sql_mode_remove: Sequence[str] = (),
    autocommit: bool = True,
    connect_timeout: int = 10,
    isolation: str = "REPEATABLE READ",
) -> Connection:
    """Open a session with the engine's session settings."""
    params: dict[str, Any] = {
        "host": spec.host,
        "port": spec.port,
        "user": spec.user,
        "password": spec.password,
        "charset": "utf8mb4",
        "autocommit": autocommit,
        "connect_timeout": connect_timeout,
        # bytes parameters are sent as _binary'...' so the server never charset-validates
        # raw key values taken from the binlog.
        "binary_prefix": True,
    }
    if spec.socket:
        params["unix_socket"] = spec.socket
    if spec.database:
        params["database"] = spec.database
    conn = MySQLdb.connect(**params)
    cur = conn.cursor()
    if isolation not in ("REPEATABLE READ", "READ COMMITTED"):
        raise ValueError(f"unsupported isolation level {isolation!r}")
    cur.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {isolation}")
    cur.execute("SET SESSION time_zone = %s", (time_zone,))
    cur.execute("SELECT @@SESSION.sql_mode")
    modes = [m for m in str(cur.fetchone()[0]).split(",") if m]
    modes = [m for m in modes if m not in sql_mode_remove]
    modes += [m for m in sql_mode_extra if m not in modes]
    cur.execute("SET SESSION sql_mode = %s", (",".join(modes),))
    cur.close()
    return conn


def query(conn: Connection, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def query_dicts(
    conn: Connection, sql: str, params: Sequence[Any] | None = None
) -> list[dict[str, Any]]:
    cur = conn.cursor(MySQLdb.cursors.DictCursor)
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def execute(conn: Connection, sql: str, params: Sequence[Any] | None = None) -> int:
    cur = conn.cursor()
    try:
        return int(cur.execute(sql, params))
    finally:
        cur.close()


def scalar(conn: Connection, sql: str, params: Sequence[Any] | None = None) -> Any:
    rows = query(conn, sql, params)
    return rows[0][0] if rows else None
