"""Byte-level decoders for single column values of a binlog row image.

Every function takes the event bytes and the offset of the value and returns the value
in the form the engine needs to re-select a row by key:

- integers, ENUM index, SET bitmask, BIT → ``int``; YEAR → ``int`` (0 stays 0);
- DECIMAL → exact ``decimal.Decimal``;
- DATE / DATETIME / TIME → the MySQL literal as ``str`` (``'2024-01-00'``,
  ``'0000-00-00 00:00:00.000000'``, ``'-838:59:59.000000'``) so zero and invalid dates
  survive, which a ``datetime`` cannot represent;
- TIMESTAMP → ``Decimal`` epoch seconds (what ``UNIX_TIMESTAMP(col)`` returns), 0 for the
  zero timestamp: this is time-zone free, unlike a rendered datetime;
- strings and binary strings → the raw stored ``bytes`` (see rows.py).

The formats are the server's on-disk/binlog ones (MySQL ``my_time.cc`` / ``decimal.c``;
MariaDB uses the same "mysql56" temporal format since 10.1.2).
"""

from __future__ import annotations

from decimal import Decimal

DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)
"""Bytes that hold 0..9 leftover decimal digits (a full group of 9 digits takes 4)."""

# Offsets the server adds so that the packed big-endian forms sort as unsigned bytes.
_DATETIMEF_INT_OFS = 0x8000000000
_TIMEF_INT_OFS = 0x800000
_TIMEF_OFS = 0x800000000000


def decimal_size(precision: int, scale: int) -> int:
    """Bytes a NEWDECIMAL(precision, scale) value takes in a row image."""
    intg0, intg0x = divmod(precision - scale, 9)
    frac0, frac0x = divmod(scale, 9)
    return intg0 * 4 + DIG2BYTES[intg0x] + frac0 * 4 + DIG2BYTES[frac0x]


def decode_decimal(data: bytes, pos: int, precision: int, scale: int) -> Decimal:
    """NEWDECIMAL: big-endian base-10^9 groups, sign in the inverted top bit.

    A negative number is stored with every byte complemented; the top bit of the first
    byte is set for non-negative values.
    """
    size = decimal_size(precision, scale)
    bits = size * 8
    value = int.from_bytes(data[pos : pos + size], "big")
    negative = not value >> (bits - 1)
    value ^= 1 << (bits - 1)
    if negative:
        value ^= (1 << bits) - 1
    raw = value.to_bytes(size, "big")
    intg0, intg0x = divmod(precision - scale, 9)
    frac0, frac0x = divmod(scale, 9)
    parts: list[str] = []
    p = 0
    if intg0x:
        n = DIG2BYTES[intg0x]
        parts.append(str(int.from_bytes(raw[p : p + n], "big")))
        p += n
    for _ in range(intg0):
        parts.append(f"{int.from_bytes(raw[p : p + 4], 'big'):09d}")
        p += 4
    text = "".join(parts) or "0"
    if scale:
        frac: list[str] = []
        for _ in range(frac0):
            frac.append(f"{int.from_bytes(raw[p : p + 4], 'big'):09d}")
            p += 4
        if frac0x:
            n = DIG2BYTES[frac0x]
            frac.append(f"{int.from_bytes(raw[p : p + n], 'big'):0{frac0x}d}")
        text = f"{text}.{''.join(frac)}"
    return Decimal(f"-{text}" if negative else text)


def _fraction(data: bytes, pos: int, fsp: int) -> int:
    """Microseconds of a temporal2 fractional part stored in (fsp + 1) // 2 bytes."""
    if fsp <= 0:
        return 0
    if fsp <= 2:
        return data[pos] * 10000
    if fsp <= 4:
        return int.from_bytes(data[pos : pos + 2], "big") * 100
    return int.from_bytes(data[pos : pos + 3], "big")


def fraction_size(fsp: int) -> int:
    return (fsp + 1) // 2


def decode_date(data: bytes, pos: int) -> str:
    """DATE (NEWDATE): 3 bytes little-endian, day:5 month:4 year:15 bits from the bottom."""
    v = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
    return f"{v >> 9:04d}-{(v >> 5) & 15:02d}-{v & 31:02d}"


def decode_datetime2(data: bytes, pos: int, fsp: int) -> str:
    """DATETIME2: 5 bytes big-endian (offset 2^39) = year*13+month:17, day:5, h:5 m:6 s:6."""
    packed = int.from_bytes(data[pos : pos + 5], "big") - _DATETIMEF_INT_OFS
    ymd = packed >> 17
    ym = ymd >> 5
    hms = packed & 0x1FFFF
    usec = _fraction(data, pos + 5, fsp)
    return (
        f"{ym // 13:04d}-{ym % 13:02d}-{ymd & 31:02d} "
        f"{hms >> 12:02d}:{(hms >> 6) & 63:02d}:{hms & 63:02d}.{usec:06d}"
    )


def decode_time2(data: bytes, pos: int, fsp: int) -> str:
    """TIME2: 3 bytes big-endian (offset 2^23) of h:10 m:6 s:6, then the fraction.

    Negative times store the fraction as a negative count with the integer part moved
    one step towards zero, so both are recombined into one signed packed value (as the
    server's ``my_time_packed_from_binary`` does) before splitting into fields.
    """
    if fsp >= 5:
        packed = int.from_bytes(data[pos : pos + 6], "big") - _TIMEF_OFS
    else:
        intpart = int.from_bytes(data[pos : pos + 3], "big") - _TIMEF_INT_OFS
        if fsp <= 0:
            frac = 0
        elif fsp <= 2:
            frac = data[pos + 3]
            if intpart < 0 and frac:
                intpart += 1
                frac -= 0x100
            frac *= 10000
        else:
            frac = int.from_bytes(data[pos + 3 : pos + 5], "big")
            if intpart < 0 and frac:
                intpart += 1
                frac -= 0x10000
            frac *= 100
        packed = (intpart << 24) + frac
    sign = ""
    if packed < 0:
        sign = "-"
        packed = -packed
    hms = packed >> 24
    usec = packed & 0xFFFFFF
    return f"{sign}{(hms >> 12) & 0x3FF:02d}:{(hms >> 6) & 63:02d}:{hms & 63:02d}.{usec:06d}"


def decode_timestamp2(data: bytes, pos: int, fsp: int) -> Decimal:
    """TIMESTAMP2: 4 bytes big-endian epoch seconds, then the fraction; 0 is the zero date."""
    seconds = int.from_bytes(data[pos : pos + 4], "big")
    if fsp <= 0:
        return Decimal(seconds)
    usec = _fraction(data, pos + 4, fsp)
    return Decimal(f"{seconds}.{usec:06d}"[: fsp - 6 or None])


def decode_timestamp(data: bytes, pos: int) -> Decimal:
    """Pre-5.6 TIMESTAMP: 4 bytes little-endian epoch seconds."""
    return Decimal(int.from_bytes(data[pos : pos + 4], "little"))


def decode_datetime_old(data: bytes, pos: int) -> str:
    """Pre-5.6 DATETIME: 8 bytes little-endian integer YYYYMMDDhhmmss."""
    v = int.from_bytes(data[pos : pos + 8], "little")
    d, t = divmod(v, 1000000)
    return (
        f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d} "
        f"{t // 10000:02d}:{t // 100 % 100:02d}:{t % 100:02d}.000000"
    )


def decode_time_old(data: bytes, pos: int) -> str:
    """Pre-5.6 TIME: 3 bytes little-endian signed integer ±HHMMSS."""
    v = int.from_bytes(data[pos : pos + 3], "little", signed=True)
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // 10000:02d}:{v // 100 % 100:02d}:{v % 100:02d}.000000"


def decode_year(data: bytes, pos: int) -> int:
    """YEAR: one byte, years since 1900, with 0 meaning the zero year 0000 (not 1900)."""
    v = data[pos]
    return v + 1900 if v else 0
