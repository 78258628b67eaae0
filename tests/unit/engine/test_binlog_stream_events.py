"""BinlogStream event handling on hand-built events, and the status-statement choice.

The stream connects lazily (on the first read), so ``_handle`` can be driven with raw
event bytes here without any server.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from django_ghost.engine.binlog.coordinates import binlog_status_statement, current_position
from django_ghost.engine.binlog.events import (
    BinlogPosition,
    RowChange,
    SchemaChange,
    TransactionEnd,
)
from django_ghost.engine.binlog.reader import WatchSpec
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.errors import BinlogError
from django_ghost.engine.mysql.connection import ConnectionSpec
from tests.unit.engine.helpers import table_map_body


def event(etype: int, body: bytes, log_pos: int = 1000) -> bytes:
    """An event with a 19-byte header and a CRC32 trailer."""
    size = 19 + len(body) + 4
    raw = struct.pack("<IBIIIH", 0, etype, 1, size, log_pos, 0) + body
    return raw + struct.pack("<I", zlib.crc32(raw))


def query_event(sql: str, db: str = "app", log_pos: int = 1000) -> bytes:
    status = b"\x00\x00\x00\x00\x00"  # flags2 status var (type 0 + 4 bytes)
    post = struct.pack("<IIBHH", 1, 0, len(db), 0, len(status))
    return event(2, post + status + db.encode() + b"\x00" + sql.encode(), log_pos)


def stream(**kwargs: Any) -> BinlogStream:
    s = BinlogStream(
        ConnectionSpec(),
        server_id=99,
        schema="app",
        watch={"t": WatchSpec(("id",))},
        start=BinlogPosition("binlog.000001", 4),
        **kwargs,
    )
    s._checksum_len = 4
    return s


def rows_event(etype: int, rows: bytes, table_id: int = 77, log_pos: int = 1000) -> bytes:
    body = table_id.to_bytes(6, "little") + b"\x01\x00"
    if etype >= 30:
        body += b"\x02\x00"  # v2: extra-data length (counts itself), no extra data
    body += b"\x01" + b"\x01"  # one column, present
    if etype in (24, 31):
        body += b"\x01"
    return event(etype, body + rows, log_pos)


ID_INT = [("id", 3, b"", False, False)]


def _int_image(v: int) -> bytes:
    return b"\x00" + v.to_bytes(4, "little", signed=True)


@pytest.mark.parametrize("version", ["1", "2"])
def test_handle__rows_v1_and_v2__row_changes(version: str) -> None:
    s = stream()
    base = 0 if version == "1" else 7  # v2 type codes are v1 + 7
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(rows_event(23 + base, _int_image(1) + _int_image(2), log_pos=500))
    s._handle(rows_event(24 + base, _int_image(2) + _int_image(-3), log_pos=600))
    s._handle(rows_event(25 + base, _int_image(-3), log_pos=700))
    assert s._out == [
        RowChange("t", "insert", None, (1,), BinlogPosition("binlog.000001", 500)),
        RowChange("t", "insert", None, (2,), BinlogPosition("binlog.000001", 500)),
        RowChange("t", "update", (2,), (-3,), BinlogPosition("binlog.000001", 600)),
        RowChange("t", "delete", (-3,), None, BinlogPosition("binlog.000001", 700)),
    ]


def test_handle__rows_of_unwatched_table__nothing_decoded() -> None:
    s = stream()
    s._handle(event(19, table_map_body(ID_INT, table="other", table_id=5)))
    # Garbage rows: decoding them would raise, skipping them must not.
    s._handle(rows_event(23, b"\xff\xff\xff", table_id=5))
    assert s._out == []


def test_handle__table_map_cached__same_compiled_decoder_reused() -> None:
    s = stream()
    body = table_map_body(ID_INT)
    s._handle(event(19, body))
    first = s._by_id[77]
    s._handle(event(19, body))
    assert s._by_id[77] is first
    s._handle(event(19, table_map_body([("id", 8, b"", False, True)])))
    assert s._by_id[77] is not first


def test_handle__rows_event_overrun__binlog_error() -> None:
    s = stream()
    s._handle(event(19, table_map_body(ID_INT)))
    with pytest.raises(BinlogError, match="did not decode to its exact length"):
        s._handle(rows_event(23, _int_image(1) + b"\x00\x01"))


def test_handle__bad_checksum__binlog_error() -> None:
    s = stream()
    raw = bytearray(query_event("ALTER TABLE t ADD x INT"))
    raw[-1] ^= 0xFF
    with pytest.raises(BinlogError, match="CRC32"):
        s._handle(bytes(raw))


@pytest.mark.parametrize("etype", [165, 166, 167, 168, 169, 170, 171])
def test_handle__mariadb_compressed_event__error_names_log_bin_compress(etype: int) -> None:
    with pytest.raises(BinlogError, match="log_bin_compress"):
        stream()._handle(event(etype, b"\x00" * 16))


def test_handle__transaction_payload__error_names_binlog_transaction_compression() -> None:
    with pytest.raises(BinlogError, match="binlog_transaction_compression"):
        stream()._handle(event(40, b"\x00" * 16))


def test_handle__queries__ddl_schema_change_commit_transaction_end() -> None:
    s = stream()
    s._handle(query_event("BEGIN", log_pos=10))
    s._handle(query_event("SAVEPOINT a", log_pos=11))
    s._handle(query_event("COMMIT", log_pos=12))
    s._handle(query_event("ALTER TABLE t ADD x INT", log_pos=13))
    s._handle(query_event("ALTER TABLE app.t ADD y INT", db="elsewhere", log_pos=14))
    s._handle(query_event("CREATE TABLE z (i INT)", db="elsewhere", log_pos=15))
    s._handle(event(16, b"\x01" + b"\x00" * 7, log_pos=16))  # XID
    assert s._out == [
        TransactionEnd(BinlogPosition("binlog.000001", 12)),
        # The session that ran it (query_event's thread id, 1).
        SchemaChange("app", "ALTER TABLE t ADD x INT", BinlogPosition("binlog.000001", 13), 1),
        SchemaChange(
            "elsewhere", "ALTER TABLE app.t ADD y INT", BinlogPosition("binlog.000001", 14), 1
        ),
        TransactionEnd(BinlogPosition("binlog.000001", 16)),
    ]
    assert s._resume == BinlogPosition("binlog.000001", 16)


def _format_description(version: bytes) -> bytes:
    """A FORMAT_DESCRIPTION: binlog version, server version, timestamp, header length,
    post-header lengths (TABLE_MAP's 8: 6-byte table ids), checksum algorithm CRC32."""
    post_headers = bytearray(40)
    post_headers[18] = 8
    body = struct.pack("<H", 4) + version.ljust(50, b"\x00") + b"\x00" * 4 + b"\x13"
    return event(15, body + bytes(post_headers) + b"\x01")


@pytest.mark.parametrize(
    ("version", "mariadb"), [(b"10.11.19-MariaDB-log", True), (b"8.0.36", False)]
)
def test_handle__format_description__server_family_and_checksum(
    version: bytes, mariadb: bool
) -> None:
    s = stream()
    s._checksum_len = 0
    s._handle(_format_description(version))
    assert (s._mariadb, s._checksum_len, s._id_len) == (mariadb, 4, 6)


def test_handle__rotate__file_changes_and_table_ids_forgotten() -> None:
    s = stream()
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(event(4, struct.pack("<Q", 4) + b"binlog.000002", log_pos=0))
    s._handle(event(16, b"\x01" + b"\x00" * 7, log_pos=300))
    assert s._out == [TransactionEnd(BinlogPosition("binlog.000002", 300))]
    assert s._by_id == {}


def _xa_prepare_event(xid: bytes, *, one_phase: bool = False, log_pos: int = 1000) -> bytes:
    body = bytes([one_phase]) + struct.pack("<III", 1, len(xid), 0) + xid
    return event(38, body, log_pos)


def _mariadb_gtid(flags2: int) -> bytes:
    return event(162, struct.pack("<QIB", 7, 0, flags2) + b"\x00" * 8)


def _mariadb_prepared_group(s: BinlogStream, key: int, xid: str) -> None:
    s._handle(_mariadb_gtid(0x40))  # FL_PREPARED_XA
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(rows_event(23, _int_image(key), log_pos=100))
    s._handle(query_event(f"XA END X'{xid.encode().hex()}',X'',1", log_pos=110))
    s._handle(_xa_prepare_event(xid.encode(), log_pos=120))


def test_handle__mariadb_xa_prepared_then_committed__rows_at_the_commit() -> None:
    s = stream()
    _mariadb_prepared_group(s, 5, "x1")
    assert s._out == [TransactionEnd(BinlogPosition("binlog.000001", 120))]
    s._handle(_mariadb_gtid(0x80))  # FL_COMPLETED_XA
    s._handle(query_event("XA COMMIT X'7831',X'',1", log_pos=200))
    assert s._out[1:] == [
        RowChange("t", "insert", None, (5,), BinlogPosition("binlog.000001", 200)),
        TransactionEnd(BinlogPosition("binlog.000001", 200)),
    ]


def test_handle__mariadb_xa_prepared_then_rolled_back__rows_dropped() -> None:
    s = stream()
    _mariadb_prepared_group(s, 5, "x1")
    s._handle(query_event("XA ROLLBACK X'7831',X'',1", log_pos=200))
    s._handle(_mariadb_gtid(0x00))
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(rows_event(23, _int_image(6), log_pos=300))
    assert s._out == [
        TransactionEnd(BinlogPosition("binlog.000001", 120)),
        TransactionEnd(BinlogPosition("binlog.000001", 200)),
        RowChange("t", "insert", None, (6,), BinlogPosition("binlog.000001", 300)),
    ]


def test_handle__mysql_xa_start_and_one_phase_prepare__rows_at_the_prepare() -> None:
    s = stream()
    s._handle(query_event("XA START X'7832',X'',1", log_pos=90))
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(rows_event(30, _int_image(8), log_pos=100))
    s._handle(query_event("XA END X'7832',X'',1", log_pos=110))
    assert s._out == []
    s._handle(_xa_prepare_event(b"x2", one_phase=True, log_pos=120))
    assert s._out == [
        RowChange("t", "insert", None, (8,), BinlogPosition("binlog.000001", 120)),
        TransactionEnd(BinlogPosition("binlog.000001", 120)),
    ]


def test_handle__xa_commit_prepared_before_the_start__binlog_error_names_remedy() -> None:
    with pytest.raises(BinlogError, match="prepared before the migration") as error:
        stream()._handle(query_event("XA COMMIT X'7833',X'',1", log_pos=200))
    assert "X'7833',X'',1" in str(error.value) and "XA RECOVER" in str(error.value)


def test_handle__reconnect_inside_a_prepared_group__group_delivered_again_once() -> None:
    s = stream()
    s._handle(_mariadb_gtid(0x40))
    s._handle(event(19, table_map_body(ID_INT)))
    s._handle(rows_event(23, _int_image(5), log_pos=100))
    s._xa.reset()  # what a reconnect does: the group comes again from its GTID
    _mariadb_prepared_group(s, 5, "x1")
    s._handle(query_event("XA COMMIT X'7831',X'',1", log_pos=200))
    assert [e for e in s._out if isinstance(e, RowChange)] == [
        RowChange("t", "insert", None, (5,), BinlogPosition("binlog.000001", 200))
    ]


def test_handle__rows_without_table_map__binlog_error() -> None:
    with pytest.raises(BinlogError, match="no\nTABLE_MAP|no TABLE_MAP"):
        stream()._handle(rows_event(23, _int_image(1), table_id=12345))


@pytest.mark.parametrize(
    ("version", "statement"),
    [
        ("10.11.6-MariaDB-log", "SHOW MASTER STATUS"),
        ("11.8.1-MariaDB", "SHOW MASTER STATUS"),
        ("5.5.5-10.6.12-MariaDB", "SHOW MASTER STATUS"),
        ("5.7.44-log", "SHOW MASTER STATUS"),
        ("8.0.36", "SHOW MASTER STATUS"),
        ("8.3.0", "SHOW MASTER STATUS"),
        ("8.4.0", "SHOW BINARY LOG STATUS"),
        ("9.1.0-commercial", "SHOW BINARY LOG STATUS"),
        ("10.0.0", "SHOW BINARY LOG STATUS"),
    ],
)
def test_binlog_status_statement__version__right_statement(version: str, statement: str) -> None:
    assert binlog_status_statement(version) == statement


class _FakeCursor:
    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]):
        self.answers = answers
        self.rows: list[tuple[Any, ...]] = []
        self.executed: list[str] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        self.rows = self.answers[sql]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class _FakeConn:
    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]):
        self.cur = _FakeCursor(answers)

    def cursor(self) -> _FakeCursor:
        return self.cur


def test_current_position__mysql_84__binary_log_status_used() -> None:
    conn = _FakeConn(
        {
            "SELECT VERSION()": [("8.4.2",)],
            "SHOW BINARY LOG STATUS": [("binlog.000007", 1234, "", "", "")],
        }
    )
    assert current_position(conn) == BinlogPosition("binlog.000007", 1234)
    assert conn.cur.executed[-1] == "SHOW BINARY LOG STATUS"


def test_current_position__binlog_off__error_names_log_bin() -> None:
    conn = _FakeConn({"SELECT VERSION()": [("10.11.6-MariaDB",)], "SHOW MASTER STATUS": []})
    with pytest.raises(BinlogError, match="log_bin"):
        current_position(conn)
