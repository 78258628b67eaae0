"""gh-ost's connection flags in the engine: --charset (a list tried in order),
--mysql-timeout (connect/read/write timeouts) and --binlogsyncer-max-reconnect-attempts
(the binlog stream's reconnects), without a server."""

from __future__ import annotations

from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.binlog.events import BinlogPosition
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.binlog.transport import StreamLost, dump_charset
from django_ghost.engine.charsets import parse_charsets
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import BinlogError, ConfigError
from django_ghost.engine.mysql import connection
from django_ghost.engine.mysql.connection import ConnectionSpec


def test_parse_charsets__gh_ost_default_list__in_order() -> None:
    assert parse_charsets("utf8mb4,utf8,latin1") == [
        ("utf8mb4", ""),
        ("utf8", ""),
        ("latin1", ""),
    ]
    assert parse_charsets("") == [("utf8mb4", "")]


def test_parse_charsets__collation__names_its_charset() -> None:
    assert parse_charsets("UTF8MB4_general_ci, latin1") == [
        ("utf8mb4", "utf8mb4_general_ci"),
        ("latin1", ""),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("utf8mb4;DROP", "not a character set"),
        ("utf8mb4,,latin1", "not a character set"),
        ("ucs2", "cannot be a connection character set"),
        ("utf16_general_ci", "cannot be a connection character set"),
    ],
)
def test_config_validate__bad_charset__refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GhostConfig(charset=value).validate()


def test_connection_spec__from_config__carries_charset_and_timeout() -> None:
    spec = ConnectionSpec.from_config(GhostConfig(charset="latin1", mysql_timeout=2.5))
    assert (spec.charset, spec.timeout) == ("latin1", 2.5)
    # Specs derived for other servers keep them.
    assert spec.with_host("db2", 3307).timeout == 2.5


class FakeConnection:
    def __init__(self, kwargs: dict[str, Any]):
        self.kwargs = kwargs
        self.statements: list[str] = []

    def cursor(self) -> FakeConnection:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.statements.append(sql)
        return 0

    def fetchone(self) -> tuple[str]:
        return ("STRICT_TRANS_TABLES",)

    def close(self) -> None:
        pass


def opened_with(
    monkeypatch: pytest.MonkeyPatch, spec: ConnectionSpec, refuse: tuple[str, ...] = ()
) -> tuple[FakeConnection, list[str]]:
    tried: list[str] = []

    def fake_connect(**kwargs: Any) -> FakeConnection:
        tried.append(kwargs["charset"])
        if kwargs["charset"] in refuse:
            raise MySQLdb.OperationalError(2019, "Can't initialize character set")
        return FakeConnection(kwargs)

    monkeypatch.setattr(connection.MySQLdb, "connect", fake_connect)
    return connection.connect(spec), tried


def test_connect__first_charset_refused__next_one_used(monkeypatch: pytest.MonkeyPatch) -> None:
    conn, tried = opened_with(monkeypatch, ConnectionSpec(charset="utf8mb4,utf8"), ("utf8mb4",))
    assert tried == ["utf8mb4", "utf8"]
    assert conn.kwargs["charset"] == "utf8"


def test_connect__every_charset_refused__last_error_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MySQLdb.OperationalError):
        opened_with(monkeypatch, ConnectionSpec(charset="utf8mb4,utf8"), ("utf8mb4", "utf8"))


def test_connect__unreachable_server__no_other_charset_tried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[str] = []

    def unreachable(**kwargs: Any) -> None:
        tried.append(kwargs["charset"])
        raise MySQLdb.OperationalError(2003, "Can't connect")

    monkeypatch.setattr(connection.MySQLdb, "connect", unreachable)
    with pytest.raises(MySQLdb.OperationalError):
        connection.connect(ConnectionSpec(charset="utf8mb4,utf8,latin1"))
    assert tried == ["utf8mb4"]


def test_connect__collation__set_names_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    conn, _ = opened_with(monkeypatch, ConnectionSpec(charset="utf8mb4_unicode_ci"))
    assert "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci" in conn.statements


def test_connect__mysql_timeout__connect_read_write_timeouts_whole_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn, _ = opened_with(monkeypatch, ConnectionSpec(timeout=2.5))
    timeouts = [conn.kwargs[k] for k in ("connect_timeout", "read_timeout", "write_timeout")]
    assert timeouts == [3, 3, 3]
    plain, _ = opened_with(monkeypatch, ConnectionSpec())
    assert "read_timeout" not in plain.kwargs and plain.kwargs["connect_timeout"] == 10


def test_dump_charset__unknown_to_the_driver__next_one() -> None:
    assert dump_charset("nosuchcharset,latin1") == "latin1"
    assert dump_charset("utf8mb4_general_ci") == "utf8mb4"


class Link:
    def next_events(self, deadline: float) -> list[bytes]:
        return [b"event"]

    def close(self) -> None:
        pass


def flaky_stream(monkeypatch: pytest.MonkeyPatch, attempts: int, failures: int) -> BinlogStream:
    s = BinlogStream(
        ConnectionSpec(),
        server_id=99,
        schema="app",
        watch={},
        start=BinlogPosition("binlog.000001", 4),
        reconnect_attempts=attempts,
        reconnect_backoff=0.0,
    )
    left = [failures]

    def connect() -> None:
        if left[0] > 0:
            left[0] -= 1
            raise StreamLost("gone")
        s._conn = Link()  # type: ignore[assignment]

    monkeypatch.setattr(s, "_connect", connect)
    return s


def test_binlog_stream__zero_reconnect_attempts__unlimited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = flaky_stream(monkeypatch, attempts=0, failures=12)
    assert s._fetch(0.0) == [b"event"]
    assert s.reconnects == 12


def test_binlog_stream__reconnect_attempts_used_up__fails_naming_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = flaky_stream(monkeypatch, attempts=3, failures=4)
    with pytest.raises(BinlogError, match="after 3 attempts"):
        s._fetch(0.0)
    assert flaky_stream(monkeypatch, attempts=3, failures=3)._fetch(0.0) == [b"event"]
