"""BinlogStream against the sandbox: filtering, skipping, DDL, positions, reconnects."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from django_ghost.engine.binlog.coordinates import binlog_file_exists, current_position
from django_ghost.engine.binlog.events import (
    BinlogPosition,
    RowChange,
    SchemaChange,
    TransactionEnd,
)
from django_ghost.engine.errors import BinlogError
from tests.integration.helpers import drain, open_stream, position, read_all, row_changes


def test_binlog_stream__unwatched_tables__no_row_events(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    db.execute("CREATE TABLE other (id INT PRIMARY KEY)")
    other_db = f"{db.name[:50]}_x"
    db.execute(f"CREATE DATABASE `{other_db}`")
    try:
        db.execute(f"CREATE TABLE `{other_db}`.t (id INT PRIMARY KEY)")
        start = position(db)
        db.execute("INSERT INTO other VALUES (1), (2)")
        db.execute(f"INSERT INTO `{other_db}`.t VALUES (3)")
        db.execute("INSERT INTO t VALUES (4)")
        db.execute("UPDATE other SET id = 5 WHERE id = 1")
        events = read_all(db, {"t": ["id"]}, start)
    finally:
        db.execute(f"DROP DATABASE `{other_db}`")
    changes = row_changes(events)
    assert [(c.table, c.kind, c.after) for c in changes] == [("t", "insert", (4,))]
    assert sum(isinstance(e, TransactionEnd) for e in events) == 4


def test_binlog_stream__unwatched_columns_of_every_type__skipped_key_after_them(
    db: Any,
) -> None:
    db.execute(
        """
        CREATE TABLE t (
          seq INT AUTO_INCREMENT PRIMARY KEY,
          c_text TEXT, c_tinytext TINYTEXT, c_mediumtext MEDIUMTEXT, c_longtext LONGTEXT,
          c_blob BLOB, c_tinyblob TINYBLOB, c_mediumblob MEDIUMBLOB, c_longblob LONGBLOB,
          c_json JSON, c_point POINT, c_geometry GEOMETRY,
          c_double DOUBLE, c_float FLOAT, c_bit BIT(9), c_bit64 BIT(64),
          c_set SET('a','b','c'), c_bigset SET('a','b','c','d','e','f','g','h','i'),
          c_enum ENUM('x','y'), c_decimal DECIMAL(20,6), c_decimal65 DECIMAL(65,30),
          c_datetime DATETIME(4), c_time TIME(5), c_timestamp TIMESTAMP(1) NULL,
          c_date DATE, c_year YEAR, c_tiny TINYINT, c_medium MEDIUMINT, c_small SMALLINT,
          c_char CHAR(60) CHARACTER SET utf8mb4, c_char_long CHAR(255) CHARACTER SET utf8mb4,
          c_varchar VARCHAR(300) CHARACTER SET latin1, c_varchar_short VARCHAR(10),
          c_binary BINARY(3), c_varbinary VARBINARY(1000),
          k BIGINT UNSIGNED NOT NULL, UNIQUE KEY uk (k)
        )
        """
    )
    start = position(db)
    db.execute(
        """
        INSERT INTO t VALUES (
          NULL, REPEAT('t', 300), 'tiny', REPEAT('m', 70000), 'long',
          X'00FF', X'01', REPEAT(X'AB', 70000), X'',
          '{"a": [1, 2, {"b": null}]}', POINT(1.5, -2), ST_GeomFromText('LINESTRING(0 0,1 1)'),
          -1.5e300, 3.25, b'101010101', b'1',
          'a,c', 'a,i', 'y', -12345678901234.123456, 1.000000000000000000000000000001,
          '2024-05-06 07:08:09.1234', '-100:00:00.12345', '2024-01-01 00:00:00.5',
          '2024-02-29', 2024, -1, -8388608, 32767,
          '😀😀', REPEAT('é', 255),
          _latin1 X'8D8F', 'short',
          X'01', X'000000',
          18446744073709551615
        )
        """
    )
    db.execute("INSERT INTO t (k) VALUES (7)")  # every other column NULL
    db.execute("UPDATE t SET k = 8, c_json = '[]', c_text = NULL WHERE k = 7")
    db.execute("DELETE FROM t WHERE k = 18446744073709551615")
    changes = row_changes(read_all(db, {"t": ["k", "c_decimal", "c_time"]}, start))
    assert [(c.kind, c.before, c.after) for c in changes] == [
        (
            "insert",
            None,
            (18446744073709551615, Decimal("-12345678901234.123456"), "-100:00:00.123450"),
        ),
        ("insert", None, (7, None, None)),
        ("update", (7, None, None), (8, None, None)),
        (
            "delete",
            (18446744073709551615, Decimal("-12345678901234.123456"), "-100:00:00.123450"),
            None,
        ),
    ]


def test_binlog_stream__alter_table__schema_change(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(db)
    db.execute("INSERT INTO t VALUES (1)")
    db.execute("ALTER TABLE t ADD COLUMN x INT")
    db.execute("INSERT INTO t VALUES (2, 20)")
    events = read_all(db, {"t": ["id"]}, start)
    schema_changes = [e for e in events if isinstance(e, SchemaChange)]
    assert len(schema_changes) == 1
    assert schema_changes[0].schema == db.name
    assert "ADD COLUMN x" in schema_changes[0].sql
    # Rows after the ALTER still decode: a new TABLE_MAP replaced the cached one.
    assert [c.after for c in row_changes(events)] == [(1,), (2,)]


def test_binlog_stream__transaction_ends__positions_increase(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(db)
    conn = db.connect()
    cur = conn.cursor()
    for i in range(5):
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (%s)", (i * 2,))
        cur.execute("INSERT INTO t VALUES (%s)", (i * 2 + 1,))
        cur.execute("COMMIT")
    conn.close()
    events = read_all(db, {"t": ["id"]}, start)
    ends = [e.position for e in events if isinstance(e, TransactionEnd)]
    assert len(ends) == 5
    assert ends == sorted(ends) and len(set(ends)) == 5
    assert ends[0] > start
    # Every row comes before the end of its transaction.
    for event, following in zip(events, events[1:], strict=False):
        if isinstance(event, RowChange):
            assert following.position >= event.position


def test_binlog_stream__rotate__file_name_follows(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(db)
    db.execute("INSERT INTO t VALUES (1)")
    db.execute("FLUSH BINARY LOGS")
    db.execute("INSERT INTO t VALUES (2)")
    end = position(db)
    assert end.file != start.file
    stream = open_stream(db, {"t": ["id"]}, start)
    try:
        events = drain(stream, end)
    finally:
        stream.close()
    changes = row_changes(events)
    assert [(c.after, c.position.file) for c in changes] == [
        ((1,), start.file),
        ((2,), end.file),
    ]
    assert stream.position == end


def test_binlog_stream__max_events__rest_kept_for_next_read(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(db)
    db.execute("INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(50)))
    end = position(db)
    stream = open_stream(db, {"t": ["id"]}, start)
    try:
        first = stream.read(10, 5.0)
        assert len(first) == 10
        assert stream.position == first[-1].position
        rest = drain(stream, end)
    finally:
        stream.close()
    ids = [c.after[0] for c in row_changes(first + rest) if c.after]
    assert ids == list(range(50))


def test_binlog_stream__idle_with_heartbeats__read_returns_empty_after_timeout(
    db: Any,
) -> None:
    stream = open_stream(db, {"t": ["id"]}, position(db), heartbeat=0.2)
    try:
        # Long enough for several heartbeat events (checksummed, ignored) to arrive.
        assert stream.read(10, 1.0) == []
        assert stream.read(10, 0.0) == []
        assert stream.reconnects == 0
    finally:
        stream.close()


def test_binlog_stream__background_thread_closed__read_stops(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    stream = open_stream(db, {"t": ["id"]}, position(db))
    got: list[Any] = []
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            while True:
                got.extend(stream.read(100, 0.2))
        except BinlogError as exc:  # read() after close
            errors.append(exc)

    thread = threading.Thread(target=loop)
    thread.start()
    db.execute("INSERT INTO t VALUES (1)")
    deadline = time.monotonic() + 10
    while not row_changes(got) and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.close()
    thread.join(5)
    assert not thread.is_alive()
    assert [c.after for c in row_changes(got)] == [(1,)]
    assert errors and "closed" in str(errors[0])


def _dump_thread_ids(db: Any) -> list[int]:
    return [
        int(r[0])
        for r in db.query(
            "SELECT id FROM information_schema.processlist WHERE command = 'Binlog Dump'"
        )
    ]


def test_binlog_stream__dump_thread_killed__reconnects_and_delivers_later_events(
    db: Any,
) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(db)
    db.execute("INSERT INTO t VALUES (1)")
    before = set(_dump_thread_ids(db))
    stream = open_stream(db, {"t": ["id"]}, start, reconnect_backoff=0.05)
    try:
        first = drain(stream, position(db))
        assert [c.after for c in row_changes(first)] == [(1,)]
        (ours,) = set(_dump_thread_ids(db)) - before
        db.execute(f"KILL {ours}")
        db.execute("INSERT INTO t VALUES (2)")
        db.execute("INSERT INTO t VALUES (3)")
        later = drain(stream, position(db))
    finally:
        stream.close()
    assert stream.reconnects >= 1
    # Resumed at the last TransactionEnd: nothing complete is lost or repeated here.
    assert [c.after for c in row_changes(later)] == [(2,), (3,)]


def test_binlog_stream__purged_file__error_says_purged_and_retention(db: Any) -> None:
    # The server answers a dump from a purged file exactly as from a file it never had
    # (error 1236 "Could not find first log file name in binary log index file"); asking
    # for a name past the current one avoids purging logs other tests may still read.
    current = position(db)
    stem, _, number = current.file.rpartition(".")
    missing = f"{stem}.{int(number) + 1000:0{len(number)}d}"
    conn = db.connect()
    try:
        assert binlog_file_exists(conn, current.file)
        assert not binlog_file_exists(conn, missing)
    finally:
        conn.close()
    stream = open_stream(db, {"t": ["id"]}, BinlogPosition(missing, 4))
    try:
        with pytest.raises(BinlogError, match="was purged") as info:
            stream.read(10, 5.0)
    finally:
        stream.close()
    assert "binlog_expire_logs_seconds" in str(info.value)


def test_binlog_stream__compressed_events__error_names_log_bin_compress(db: Any) -> None:
    db.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    start = position(db)
    db.execute("SET GLOBAL log_bin_compress = ON")
    try:
        db.execute("SET GLOBAL log_bin_compress_min_len = 10")
        conn = db.connect()  # the setting is read when the session starts writing
        conn.cursor().execute("INSERT INTO t VALUES (1, REPEAT('x', 500))")
        conn.close()
    finally:
        db.execute("SET GLOBAL log_bin_compress = OFF")
        db.execute("SET GLOBAL log_bin_compress_min_len = 256")
    with pytest.raises(BinlogError, match="log_bin_compress"):
        read_all(db, {"t": ["id"]}, start)


def test_current_position__real_server__matches_show_master_status(db: Any) -> None:
    conn = db.connect()
    try:
        got = current_position(conn)
        file, pos = db.query("SHOW MASTER STATUS")[0][:2]
    finally:
        conn.close()
    assert got.file == file
    assert got.pos <= int(pos)
