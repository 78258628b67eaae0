"""Key values decoded from real binlog events equal what the server stores.

Each test makes a table whose unique key is the column under test (plus an
AUTO_INCREMENT ``seq`` primary key to pair events with rows), inserts values, changes
one key with an UPDATE, deletes another row, then reads the binlog from a position
taken before the writes. Expected values come from the server itself (``HEX(k)``,
``CAST(k AS CHAR)``, ``UNIX_TIMESTAMP(k)``, ``k+0``) read before the update/delete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from django_ghost.engine.binlog.reader import WatchSpec
from tests.integration.helpers import position, read_all, row_changes


def _hex(value: Any) -> Any:
    return value.hex().upper() if isinstance(value, bytes) else value


def check_key(
    db: Any,
    column: str,
    literals: Sequence[str],
    update_to: str,
    expr: str = "k",
    *,
    session: Sequence[str] = (),
    convert: Callable[[Any], Any] = lambda v: v,
) -> dict[int, Any]:
    """Write, update and delete rows keyed by ``column``; assert the decoded keys."""
    db.execute(
        f"CREATE TABLE t (seq INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20) NULL, "
        f"k {column}, UNIQUE KEY uk (k))"
    )
    conn = db.connect()
    cur = conn.cursor()
    for statement in session:
        cur.execute(statement)
    start = position(db)
    for literal in literals:
        cur.execute(f"INSERT INTO t (k) VALUES ({literal})")
    expected = dict(db.query(f"SELECT seq, {expr} FROM t"))
    cur.execute(f"UPDATE t SET k = {update_to} WHERE seq = 1")
    updated = db.scalar(f"SELECT {expr} FROM t WHERE seq = 1")
    cur.execute("DELETE FROM t WHERE seq = 2")
    conn.close()

    watch = WatchSpec(("seq", "k"))
    changes = row_changes(read_all(db, {"t": watch}, start))
    inserts = {c.after[0]: convert(c.after[1]) for c in changes if c.kind == "insert" and c.after}
    assert inserts == expected
    (update,) = [c for c in changes if c.kind == "update"]
    assert update.before is not None and update.after is not None
    assert (update.before[0], convert(update.before[1])) == (1, expected[1])
    assert (update.after[0], convert(update.after[1])) == (1, updated)
    (delete,) = [c for c in changes if c.kind == "delete"]
    assert delete.before is not None and delete.after is None
    assert (delete.before[0], convert(delete.before[1])) == (2, expected[2])
    return inserts


INTEGERS = [
    ("TINYINT", -128, 127),
    ("SMALLINT", -32768, 32767),
    ("MEDIUMINT", -8388608, 8388607),
    ("INT", -2147483648, 2147483647),
    ("BIGINT", -9223372036854775808, 9223372036854775807),
]


@pytest.mark.parametrize(("name", "low", "high"), INTEGERS)
def test_binlog_types__signed_integer_extremes__decoded(
    db: Any, name: str, low: int, high: int
) -> None:
    got = check_key(db, f"{name} NOT NULL", [str(low), str(high), "0", "-1"], "1")
    assert set(got.values()) == {low, high, 0, -1}


@pytest.mark.parametrize(("name", "low", "high"), INTEGERS)
def test_binlog_types__unsigned_integer_extremes__decoded(
    db: Any, name: str, low: int, high: int
) -> None:
    top = high * 2 + 1
    got = check_key(db, f"{name} UNSIGNED NOT NULL", [str(top), "0", str(high + 1)], "7")
    assert set(got.values()) == {top, 0, high + 1}


def test_binlog_types__bigint_unsigned_max__exact(db: Any) -> None:
    got = check_key(db, "BIGINT UNSIGNED NOT NULL", ["18446744073709551615", "1"], "2")
    assert got[1] == 18446744073709551615


def test_binlog_types__decimal_30_10_negative_small__exact(db: Any) -> None:
    got = check_key(
        db,
        "DECIMAL(30,10) NOT NULL",
        [
            "-12345678901234567890.0123456789",
            "-0.0000000001",
            "0",
            "99999999999999999999.9999999999",
            "0.5",
        ],
        "-1.1",
    )
    assert Decimal("-0.0000000001") in got.values()


def test_binlog_types__latin1_char_varchar_high_bytes__raw_bytes(db: Any) -> None:
    # The bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) and the rest of
    # 0x80-0xFF; VARCHAR(300) latin1 has a 2-byte length prefix, CHAR(10) a 1-byte one.
    literals = ["_latin1 X'818D8F909D'", "_latin1 X'80FF'", "_latin1 X'E9C0'"]
    for column in ("CHAR(10) CHARACTER SET latin1", "VARCHAR(300) CHARACTER SET latin1"):
        got = check_key(
            db, f"{column} NOT NULL", literals, "_latin1 X'FEFD'", "HEX(k)", convert=_hex
        )
        assert "818D8F909D" in got.values()
        db.execute("DROP TABLE t")
    everything = "".join(f"{b:02X}" for b in range(0x80, 0x100))
    got = check_key(
        db,
        "VARCHAR(200) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL",
        [f"_latin1 X'{everything}'", "'a'", "'b'"],
        "'c'",
        "HEX(k)",
        convert=_hex,
    )
    assert got[1] == everything


def test_binlog_types__utf8mb3_and_utf8mb4__raw_bytes(db: Any) -> None:
    got = check_key(
        db,
        "VARCHAR(100) CHARACTER SET utf8mb3 NOT NULL",
        ["'é€ü'", "'plain'", "''"],
        "'ñ'",
        "HEX(k)",
        convert=_hex,
    )
    assert got[1] == "é€ü".encode().hex().upper()
    db.execute("DROP TABLE t")
    # CHAR(100) utf8mb4 is 400 bytes: the length's high bits travel in the type byte.
    got = check_key(
        db,
        "CHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
        ["'😀 emoji'", "'𝄞'", "'x'"],
        "'🎉'",
        "HEX(k)",
        convert=_hex,
    )
    assert got[1] == "😀 emoji".encode().hex().upper()


def test_binlog_types__binary16_trailing_zero__padded_back(db: Any) -> None:
    got = check_key(
        db,
        "BINARY(16) NOT NULL",
        ["X'00112233445566778899AABBCCDDEE00'", "X'FF'", "X'00'"],
        "X'0100'",
        "HEX(k)",
        convert=_hex,
    )
    assert got[1] == "00112233445566778899AABBCCDDEE00"
    assert got[2] == "FF" + "00" * 15


def test_binlog_types__varbinary_trailing_zeros__kept(db: Any) -> None:
    got = check_key(
        db,
        "VARBINARY(20) NOT NULL",
        ["X'AB0000'", "X''", "X'00'"],
        "X'000000'",
        "HEX(k)",
        convert=_hex,
    )
    assert set(got.values()) == {"AB0000", "", "00"}


ZERO_DATES = ("SET SESSION sql_mode = ''",)


def test_binlog_types__date_zero_and_zero_day__literal(db: Any) -> None:
    got = check_key(
        db,
        "DATE NOT NULL",
        ["'2024-01-00'", "'0000-00-00'", "'9999-12-31'", "'1000-01-01'"],
        "'2024-02-29'",
        "CAST(k AS CHAR)",
        session=ZERO_DATES,
    )
    assert {"2024-01-00", "0000-00-00"} <= set(got.values())


def test_binlog_types__datetime6_incl_zero__literal(db: Any) -> None:
    got = check_key(
        db,
        "DATETIME(6) NOT NULL",
        ["'2024-01-02 03:04:05.123456'", "'0000-00-00 00:00:00'", "'9999-12-31 23:59:59.999999'"],
        "'2024-01-00 10:00:00.000001'",
        "CAST(k AS CHAR)",
        session=ZERO_DATES,
    )
    assert "0000-00-00 00:00:00.000000" in got.values()


def test_binlog_types__datetime0__literal_with_zero_fraction(db: Any) -> None:
    got = check_key(
        db,
        "DATETIME NOT NULL",
        ["'2024-01-02 03:04:05'", "'1999-12-31 23:59:59'"],
        "'2000-01-01 00:00:00'",
        "CAST(CAST(k AS DATETIME(6)) AS CHAR)",
    )
    assert got[1] == "2024-01-02 03:04:05.000000"


def test_binlog_types__time3_negative__literal(db: Any) -> None:
    got = check_key(
        db,
        "TIME(3) NOT NULL",
        ["'-838:59:59'", "'-00:00:01.5'", "'838:59:59.999'", "'00:00:00'", "'-12:34:56.789'"],
        "'-00:00:00.001'",
        "CAST(CAST(k AS TIME(6)) AS CHAR)",
    )
    assert {"-838:59:59.000000", "-00:00:01.500000"} <= set(got.values())


def test_binlog_types__time6_and_time1__literal(db: Any) -> None:
    check_key(
        db,
        "TIME(6) NOT NULL",
        ["'-00:00:00.000001'", "'123:45:06.654321'"],
        "'-1:00:00.5'",
        "CAST(k AS CHAR)",
    )
    db.execute("DROP TABLE t")
    check_key(
        db,
        "TIME(1) NOT NULL",
        ["'-00:00:00.1'", "'-10:00:00.9'", "'1:00:00.3'"],
        "'-5:00:00'",
        "CAST(CAST(k AS TIME(6)) AS CHAR)",
    )


def test_binlog_types__timestamp3_session_time_zones__epoch_matches(db: Any) -> None:
    db.execute(
        "CREATE TABLE t (seq INT AUTO_INCREMENT PRIMARY KEY, "
        "k TIMESTAMP(3) NULL DEFAULT NULL, UNIQUE KEY uk (k))"
    )
    start = position(db)
    for zone, literal in [
        ("+05:30", "'2024-01-02 03:04:05.125'"),
        ("-08:00", "'2024-01-02 03:04:05.125'"),
        ("+00:00", "'2038-01-19 03:14:07.999'"),
        ("+00:00", "'0000-00-00 00:00:00'"),
    ]:
        conn = db.connect()
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute(f"SET SESSION time_zone = '{zone}'")
        cur.execute(f"INSERT INTO t (k) VALUES ({literal})")
        conn.close()
    expected = dict(db.query("SELECT seq, UNIX_TIMESTAMP(k) FROM t"))
    changes = row_changes(read_all(db, {"t": ("seq", "k")}, start))
    got = {c.after[0]: c.after[1] for c in changes if c.after}
    assert got == expected
    assert got[1] != got[2]  # the same wall-clock literal in two zones
    assert got[4] == 0


def test_binlog_types__year_incl_zero__int(db: Any) -> None:
    got = check_key(db, "YEAR NOT NULL", ["0", "1901", "2155"], "2024", "k+0")
    assert set(got.values()) == {0, 1901, 2155}


def test_binlog_types__year_before_unsigned__signedness_aligned(db: Any) -> None:
    # YEAR takes a bit in the SIGNEDNESS metadata: if it did not, this INT UNSIGNED key
    # would read the next column's bit and decode 4294967295 as -1.
    db.execute(
        "CREATE TABLE t (y YEAR NULL, d DECIMAL(5,2) NULL, k INT UNSIGNED NOT NULL PRIMARY KEY)"
    )
    start = position(db)
    db.execute("INSERT INTO t VALUES (2000, -1.5, 4294967295)")
    (change,) = row_changes(read_all(db, {"t": ("k", "y", "d")}, start))
    assert change.after == (4294967295, 2000, Decimal("-1.50"))


def test_binlog_types__enum_and_set_incl_empty__index_and_bitmask(db: Any) -> None:
    got = check_key(
        db,
        "ENUM('a','b','c') NOT NULL",
        ["'a'", "'c'", "''"],
        "'b'",
        "k+0",
        session=ZERO_DATES,
    )
    assert set(got.values()) == {1, 3, 0}
    db.execute("DROP TABLE t")
    got = check_key(db, "SET('a','b','c','d') NOT NULL", ["'a,c'", "''", "'d'"], "'a,b,c,d'", "k+0")
    assert set(got.values()) == {5, 0, 8}


def test_binlog_types__set_64_members__eight_bytes(db: Any) -> None:
    members = ",".join(f"'m{i}'" for i in range(64))
    # k+0 of a 64-member SET comes back as a signed BIGINT; the bitmask is unsigned.
    got = check_key(
        db, f"SET({members}) NOT NULL", ["'m63'", "'m0,m63'"], "'m1'", "CAST(k+0 AS UNSIGNED)"
    )
    assert got[1] == 1 << 63


def test_binlog_types__bit64__int(db: Any) -> None:
    got = check_key(
        db,
        "BIT(64) NOT NULL",
        ["b'1111111111111111111111111111111111111111111111111111111111111111'", "0", "1"],
        "b'101'",
        "k+0",
    )
    assert got[1] == 18446744073709551615


def test_binlog_types__bit9__int(db: Any) -> None:
    got = check_key(db, "BIT(9) NOT NULL", ["b'111111111'", "b'100000000'"], "1", "k+0")
    assert set(got.values()) == {511, 256}


def test_binlog_types__nullable_key__none(db: Any) -> None:
    got = check_key(db, "INT NULL", ["NULL", "NULL", "5"], "7")
    assert sorted(got.items(), key=lambda kv: kv[0]) == [(1, None), (2, None), (3, 5)]


def test_binlog_types__composite_key__both_columns_in_watch_order(db: Any) -> None:
    db.execute(
        "CREATE TABLE t (a INT NOT NULL, note TEXT, b VARCHAR(10) CHARACTER SET latin1 NOT NULL,"
        " PRIMARY KEY (a, b))"
    )
    start = position(db)
    db.execute("INSERT INTO t VALUES (1, 'x', _latin1 X'8D'), (1, 'y', 'b')")
    db.execute("UPDATE t SET a = 2, b = 'z' WHERE a = 1 AND b = 'b'")
    db.execute("DELETE FROM t WHERE a = 1")
    changes = row_changes(read_all(db, {"t": ("b", "a")}, start))
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("insert", None, (b"\x8d", 1)),
        ("insert", None, (b"b", 1)),
        ("update", (b"b", 1), (b"z", 2)),
        ("delete", (b"\x8d", 1), None),
    ]
