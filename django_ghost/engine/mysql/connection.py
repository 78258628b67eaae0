"""ConnectionSpec and connect(): every engine connection is opened here.

Each session gets the engine's settings at connect time: REPEATABLE READ (set with
``SET SESSION TRANSACTION ISOLATION LEVEL`` because ``transaction_isolation`` does not
exist before MariaDB 11.1), the requested time zone, and a strict sql_mode with
``NO_AUTO_VALUE_ON_ZERO`` so that copied zeros in AUTO_INCREMENT columns stay zeros.

Transport: with TLS (gh-ost's ``--ssl``; :class:`TlsSettings`) every session is
encrypted, the binlog dump's included (binlog/transport.py takes the same settings), and
each one checks after the handshake that it really is (``Ssl_cipher`` is set): a session
that is not encrypted fails with error 2026 rather than carrying on in clear text.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import MySQLdb
import MySQLdb.cursors

from ..config import GhostConfig
from ..errors import ConfigError

Connection = Any  # MySQLdb.connections.Connection; typed loosely as the stubs are partial


CR_SSL_CONNECTION_ERROR = 2026


@dataclasses.dataclass(frozen=True)
class TlsSettings:
    """TLS as gh-ost does it: the server's certificate chain is verified against ``ca``
    (the system's CAs when empty) and its name against the host connected to, unless
    ``verify`` is off (``ssl_allow_insecure``); ``cert``/``key`` are a client certificate."""

    ca: str = ""
    cert: str = ""
    key: str = ""
    verify: bool = True

    @classmethod
    def from_config(cls, config: GhostConfig) -> TlsSettings | None:
        if not config.ssl:
            return None
        for option in ("ssl_ca", "ssl_cert", "ssl_key"):
            path = getattr(config, option)
            if path and not Path(path).is_file():
                raise ConfigError(
                    f"{option}={path!r}: no such file. Give the path of the PEM file "
                    "(readable by this process)."
                )
        return cls(config.ssl_ca, config.ssl_cert, config.ssl_key, not config.ssl_allow_insecure)

    def mysqlclient_params(self) -> dict[str, Any]:
        """``MySQLdb.connect`` arguments. The mode is the documented one of mysqlclient
        (emulated with MariaDB Connector/C, where VERIFY_IDENTITY verifies the chain and
        the host name)."""
        files = {k: v for k, v in (("ca", self.ca), ("cert", self.cert), ("key", self.key)) if v}
        return {"ssl": files, "ssl_mode": "VERIFY_IDENTITY" if self.verify else "REQUIRED"}

    def ssl_context(self) -> ssl.SSLContext:
        """The same settings for PyMySQL (the binlog dump connection)."""
        context = ssl.create_default_context(cafile=self.ca or None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert:
            context.load_cert_chain(self.cert, self.key or None)
        return context


@dataclasses.dataclass(frozen=True)
class ConnectionSpec:
    """Where and as whom to connect. ``password`` never appears in repr or logs."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    socket: str = ""
    database: str = ""
    tls: TlsSettings | None = None
    init_command: str = ""

    @classmethod
    def from_config(cls, config: GhostConfig) -> ConnectionSpec:
        """The server, login and transport a migration's options name."""
        return cls(
            host=config.host,
            port=config.port,
            user=config.user,
            password=config.password,
            socket=config.socket,
            database=config.database,
            tls=TlsSettings.from_config(config),
            init_command=config.init_command,
        )

    def describe(self) -> str:
        where = self.socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}{' (TLS)' if self.tls else ''}"

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
    if spec.init_command:
        params["init_command"] = spec.init_command
    if spec.tls is not None:
        params.update(spec.tls.mysqlclient_params())
    conn: Connection = MySQLdb.connect(**params)
    if spec.tls is not None:
        try:
            require_encrypted(conn, spec, MySQLdb.OperationalError)
        except BaseException:
            conn.close()
            raise
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


def require_encrypted(conn: Any, spec: ConnectionSpec, error: type[Exception]) -> None:
    """Raise ``error`` (2026) unless the session on ``conn`` is encrypted."""
    cur = conn.cursor()
    try:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cur.fetchone()
    finally:
        cur.close()
    if not row or not row[1]:
        raise error(
            CR_SSL_CONNECTION_ERROR,
            f"TLS was asked for (ssl) but the session to {spec.describe()} is not encrypted: "
            "the server does not offer TLS. Configure it with ssl_cert/ssl_key/ssl_ca (and "
            "have_ssl=YES), or drop the ssl options.",
        )


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
