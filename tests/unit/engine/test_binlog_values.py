"""Byte-level value decoders, fed with hand-built row-image bytes (no server)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from django_ghost.engine.binlog import values as V


def _datetime2(y: int, mo: int, d: int, h: int, mi: int, s: int, usec: int, fsp: int) -> bytes:
    packed = ((y * 13 + mo) << 5 | d) << 17 | h << 12 | mi << 6 | s
    raw = (packed + 0x8000000000).to_bytes(5, "big")
    return raw + _frac(usec, fsp)


def _frac(usec: int, fsp: int) -> bytes:
    if fsp == 0:
        return b""
    if fsp <= 2:
        return bytes((usec // 10000,))
    if fsp <= 4:
        return (usec // 100).to_bytes(2, "big")
    return usec.to_bytes(3, "big")


@pytest.mark.parametrize(
    ("raw", "precision", "scale", "expected"),
    [
        # The MySQL manual's example: 1234567890.1234 as DECIMAL(14,4).
        ("810DFB38D204D2", 14, 4, "1234567890.1234"),
        ("7EF204C72DFB2D", 14, 4, "-1234567890.1234"),
        ("80", 1, 0, "0"),
        ("7F", 1, 0, "-0"),
    ],
)
def test_decode_decimal__documented_bytes__exact_value(
    raw: str, precision: int, scale: int, expected: str
) -> None:
    value = V.decode_decimal(bytes.fromhex("AA" + raw), 1, precision, scale)
    assert value == Decimal(expected)
    assert V.decimal_size(precision, scale) == len(bytes.fromhex(raw))


def test_decode_decimal__30_10_small_negative__exact_value() -> None:
    # DECIMAL(30,10): 20 integer digits = 2 groups + 2 leftover digits (1 byte), 10 frac
    # digits = 1 group + 1 leftover digit (1 byte): 1 + 8 + 4 + 1 = 14 bytes.
    assert V.decimal_size(30, 10) == 14
    positive = bytearray(14)
    positive[13] = 1  # the last fraction digit: 0.0000000001
    positive[0] |= 0x80
    negative = bytes(b ^ 0xFF for b in positive)
    assert V.decode_decimal(bytes(positive), 0, 30, 10) == Decimal("0.0000000001")
    assert V.decode_decimal(negative, 0, 30, 10) == Decimal("-0.0000000001")
    assert str(V.decode_decimal(negative, 0, 30, 10)) == "-1E-10"


def test_decode_date__zero_day__literal_kept() -> None:
    v = 2024 << 9 | 1 << 5 | 0
    assert V.decode_date(v.to_bytes(3, "little"), 0) == "2024-01-00"
    assert V.decode_date(b"\x00\x00\x00", 0) == "0000-00-00"


@pytest.mark.parametrize("fsp", [0, 1, 2, 3, 4, 5, 6])
def test_decode_datetime2__each_fsp__literal_with_microseconds(fsp: int) -> None:
    usec = {0: 0, 1: 100000, 2: 120000, 3: 123000, 4: 123400, 5: 123450, 6: 123456}[fsp]
    raw = _datetime2(2024, 1, 2, 3, 4, 5, usec, fsp)
    assert len(raw) == 5 + V.fraction_size(fsp)
    assert V.decode_datetime2(raw, 0, fsp) == f"2024-01-02 03:04:05.{usec:06d}"


def test_decode_datetime2__zero_datetime__literal_kept() -> None:
    raw = _datetime2(0, 0, 0, 0, 0, 0, 0, 6)
    assert V.decode_datetime2(raw, 0, 6) == "0000-00-00 00:00:00.000000"


@pytest.mark.parametrize(
    ("raw", "fsp", "expected"),
    [
        # -00:00:01.500 at fsp 3: integer part -2 (offset 0x800000), fraction 0x10000-5000.
        ("7FFFFEEC78", 3, "-00:00:01.500000"),
        # +00:00:01.500 at fsp 3.
        ("8000011388", 3, "00:00:01.500000"),
        # -838:59:59 at fsp 0.
        (f"{0x800000 - (838 << 12 | 59 << 6 | 59):06X}", 0, "-838:59:59.000000"),
        # -00:00:00.1 at fsp 1: integer part -1, fraction 0x100-10.
        ("7FFFFFF6", 1, "-00:00:00.100000"),
        # 12:34:56.654321 at fsp 6: 6-byte packed value offset by 0x800000000000.
        (
            f"{0x800000000000 + ((12 << 12 | 34 << 6 | 56) << 24) + 654321:012X}",
            6,
            "12:34:56.654321",
        ),
    ],
)
def test_decode_time2__signed_fractional__literal(raw: str, fsp: int, expected: str) -> None:
    assert V.decode_time2(bytes.fromhex(raw), 0, fsp) == expected


def test_decode_timestamp2__fsp3__decimal_epoch_with_fsp_digits() -> None:
    raw = (1704164645).to_bytes(4, "big") + (1250).to_bytes(2, "big")
    value = V.decode_timestamp2(raw, 0, 3)
    assert value == Decimal("1704164645.125")
    assert str(value) == "1704164645.125"


def test_decode_timestamp2__zero__is_zero() -> None:
    assert V.decode_timestamp2(bytes(4), 0, 0) == 0
    assert V.decode_timestamp2(bytes(7), 0, 6) == 0


def test_decode_year__zero_and_2155__not_1900() -> None:
    assert V.decode_year(b"\x00", 0) == 0
    assert V.decode_year(bytes((255,)), 0) == 2155
    assert V.decode_year(bytes((124,)), 0) == 2024


def test_decode_old_temporal__legacy_formats__literals() -> None:
    assert V.decode_datetime_old((20240102030405).to_bytes(8, "little"), 0) == (
        "2024-01-02 03:04:05.000000"
    )
    assert V.decode_time_old((-8385959).to_bytes(3, "little", signed=True), 0) == (
        "-838:59:59.000000"
    )
    assert V.decode_timestamp((1000).to_bytes(4, "little"), 0) == Decimal(1000)
