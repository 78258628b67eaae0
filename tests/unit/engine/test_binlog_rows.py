"""TABLE_MAP parsing and row-image decoding on hand-built bytes (no server).

Every image is decoded twice, by the compiled decoder and by the interpretive one, and
both must agree with the expected values and consume exactly the image's bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from pymysqlreplication.constants import FIELD_TYPE as T

from django_ghost.engine.binlog.rows import compile_table, decode_image_generic
from django_ghost.engine.binlog.tablemap import (
    BINARY_COLLATION,
    OPT_COLUMN_CHARSET,
    OPT_DEFAULT_CHARSET,
    parse_table_map,
    peek_names,
)
from django_ghost.engine.errors import BinlogError
from tests.unit.engine.helpers import field, table_map_body


def _string(real: int, length: int) -> bytes:
    """STRING metadata: real type with the two high length bits folded in, length low."""
    return bytes((real ^ ((length & 0x300) >> 4), length & 0xFF))


COLUMNS = [
    ("a_text", T.BLOB, b"\x02", True, False),
    ("b_dbl", T.DOUBLE, b"\x08", False, False),
    ("c_char", T.STRING, _string(T.STRING, 480), False, False),  # CHAR(120) utf8mb4
    ("d_year", T.YEAR, b"", True, False),
    ("e_enum", T.STRING, bytes((T.ENUM, 2)), False, False),
    ("f_set", T.STRING, bytes((T.SET, 1)), True, False),
    ("g_bit", T.BIT, b"\x01\x01", False, False),  # BIT(9): 1 extra bit + 1 full byte
    ("h_dec", T.NEWDECIMAL, b"\x0e\x04", False, False),
    ("i_dt", T.DATETIME2, b"\x03", True, False),
    ("j_bin", T.STRING, _string(T.STRING, 8), True, False),  # BINARY(8)
    ("k_u64", T.LONGLONG, b"", False, True),
    ("l_vc", T.VARCHAR, (300).to_bytes(2, "little"), True, False),
    ("m_i24", T.INT24, b"", False, False),
]


def _image(values: dict[str, bytes | None]) -> bytes:
    """One full image: NULL bitmap over all 13 columns, then the non-NULL values."""
    nulls = sum(1 << i for i, c in enumerate(COLUMNS) if values[c[0]] is None)
    return nulls.to_bytes(2, "little") + b"".join(v for v in values.values() if v is not None)


ROW = {
    "a_text": (3).to_bytes(2, "little") + b"xyz",
    "b_dbl": b"\x00" * 8,
    "c_char": (2).to_bytes(2, "little") + b"\xf0\x9f",
    "d_year": b"\x00",
    "e_enum": (300).to_bytes(2, "little"),
    "f_set": b"\x05",
    "g_bit": b"\x01\xff",
    "h_dec": bytes.fromhex("810DFB38D204D2"),
    "i_dt": (0x8000000000).to_bytes(5, "big") + bytes(2),  # the zero DATETIME(3)
    "j_bin": b"\x03\x00\xff\x00",
    "k_u64": b"\xff" * 8,
    "l_vc": (4).to_bytes(2, "little") + b"\x81\x8d\x8f\x90",
    "m_i24": (-2).to_bytes(3, "little", signed=True),
}


def test_peek_names__table_map__id_schema_table() -> None:
    assert peek_names(table_map_body(COLUMNS, schema="shop", table="orders")) == (
        77,
        "shop",
        "orders",
    )


def test_parse_table_map__mixed_columns__types_meta_names_signedness() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    by_name = {c.name: c for c in tm.columns}
    assert [c.name for c in tm.columns] == [c[0] for c in COLUMNS]
    assert (by_name["c_char"].type, by_name["c_char"].meta) == (T.STRING, 480)
    assert (by_name["e_enum"].type, by_name["e_enum"].meta) == (T.ENUM, 2)
    assert (by_name["f_set"].type, by_name["f_set"].meta) == (T.SET, 1)
    assert by_name["g_bit"].meta == 2
    assert by_name["h_dec"].meta == 14 << 8 | 4
    assert by_name["l_vc"].meta == 300
    assert by_name["k_u64"].unsigned and not by_name["m_i24"].unsigned
    assert by_name["a_text"].nullable and not by_name["b_dbl"].nullable


def _decode_both(columns: Sequence[str], image: bytes, metadata: bytes = b"") -> Any:
    tm = parse_table_map(table_map_body(COLUMNS, metadata=metadata))
    compiled = compile_table("t", tm, columns)
    data = b"\xee" + image + b"\xee"  # decoding must start and stop at the right offsets
    fast, end_fast = compiled.image(data, 1)
    slow, end_slow = decode_image_generic(
        compiled.readers, (1 << len(COLUMNS)) - 1, compiled.watched, data, 1
    )
    assert end_fast == end_slow == len(data) - 1
    assert fast == slow
    return fast


def test_compile_image__all_watched__every_type_decoded() -> None:
    names = [c[0] for c in COLUMNS]
    values = dict(zip(names, _decode_both(names, _image(ROW)), strict=True))
    assert values == {
        "a_text": b"xyz",
        "b_dbl": 0.0,
        "c_char": b"\xf0\x9f",
        "d_year": 0,
        "e_enum": 300,
        "f_set": 5,
        "g_bit": 0x1FF,
        "h_dec": Decimal("1234567890.1234"),
        "i_dt": "0000-00-00 00:00:00.000000",
        "j_bin": b"\x00\xff\x00",
        "k_u64": 18446744073709551615,
        "l_vc": b"\x81\x8d\x8f\x90",
        "m_i24": -2,
    }


def test_compile_image__key_after_skipped_columns__key_decoded() -> None:
    assert _decode_both(["m_i24", "k_u64"], _image(ROW)) == (-2, 18446744073709551615)


def test_compile_image__nulls__none_and_skipped_correctly() -> None:
    row = dict(ROW, a_text=None, d_year=None, f_set=None, i_dt=None, j_bin=None, l_vc=None)
    assert _decode_both(["j_bin", "l_vc", "m_i24", "d_year"], _image(row)) == (
        None,
        None,
        -2,
        None,
    )


# The character columns of COLUMNS, numbered as the collation metadata numbers them:
# 0 a_text, 1 c_char, 2 j_bin, 3 l_vc. utf8mb4_general_ci (45) except j_bin.
BINARY_J_BIN = field(OPT_DEFAULT_CHARSET, 45, 2, BINARY_COLLATION)


def test_compile_image__binary_collation__trailing_zeros_restored() -> None:
    values = _decode_both(["j_bin", "c_char", "l_vc"], _image(ROW), BINARY_J_BIN)
    assert values == (b"\x00\xff\x00" + b"\x00" * 5, b"\xf0\x9f", b"\x81\x8d\x8f\x90")


def test_parse_table_map__default_charset_with_exception__only_that_column_binary() -> None:
    tm = parse_table_map(table_map_body(COLUMNS, metadata=BINARY_J_BIN))
    assert [c.name for c in tm.columns if c.binary] == ["j_bin"]


def test_parse_table_map__column_charset__binary_columns_marked() -> None:
    metadata = field(OPT_COLUMN_CHARSET, BINARY_COLLATION, 8, BINARY_COLLATION, 45)
    tm = parse_table_map(table_map_body(COLUMNS, metadata=metadata))
    assert [c.name for c in tm.columns if c.binary] == ["a_text", "j_bin"]


def test_parse_table_map__no_charset_metadata__nothing_binary() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    assert not any(c.binary for c in tm.columns)


def test_parse_table_map__geometry_before_binary__numbered_by_mariadb_only() -> None:
    columns = [
        ("g", T.GEOMETRY, b"\x04", True, False),
        ("b", T.STRING, _string(T.STRING, 16), True, False),
    ]
    # MariaDB numbers the GEOMETRY column 0 and the BINARY(16) column 1; MySQL numbers
    # the BINARY(16) column 0, so to MySQL this field says nothing about it.
    body = table_map_body(columns, metadata=field(OPT_DEFAULT_CHARSET, 8, 1, BINARY_COLLATION))
    assert parse_table_map(body, mariadb=True).columns[1].binary
    assert not parse_table_map(body, mariadb=False).columns[1].binary


def test_decode_image_generic__partial_image__present_columns_only() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    compiled = compile_table("t", tm, ["k_u64"])
    # Only columns 10 (k_u64) and 12 (m_i24) present: 2 null bits, then their values.
    present = (1 << 10 | 1 << 12).to_bytes(2, "little")
    data = b"\x00" + ROW["k_u64"] + ROW["m_i24"]
    values, end = compiled.decode_image(data, 0, present)
    assert values == (18446744073709551615,)
    assert end == len(data)


def test_decode_image_generic__watched_column_absent__binlog_error() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    compiled = compile_table("t", tm, ["a_text"])
    present = (1 << 12).to_bytes(2, "little")
    with pytest.raises(BinlogError, match="binlog_row_image=FULL"):
        compiled.decode_image(b"\x00" + ROW["m_i24"], 0, present)


def test_compile_table__no_column_names__error_names_setting() -> None:
    tm = parse_table_map(table_map_body(COLUMNS, names=False))
    with pytest.raises(BinlogError, match="binlog_row_metadata=FULL"):
        compile_table("t", tm, ["k_u64"])


def test_compile_table__unknown_column__binlog_error() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    with pytest.raises(BinlogError, match="not in the table's binlog TABLE_MAP"):
        compile_table("t", tm, ["nope"])


def test_compile_image__generated_source__contains_no_server_names() -> None:
    tm = parse_table_map(table_map_body(COLUMNS))
    compiled = compile_table("t", tm, ["k_u64"])
    source = compiled.image.__doc__ or ""
    assert "def image(d, p)" in source
    assert not any(c[0] in source for c in COLUMNS)
