"""TABLE_MAP_EVENT parsing: table id, names, column types, metadata, optional metadata.

A TABLE_MAP precedes the rows events of every table in every transaction, so the
stream caches the parsed result by the event's bytes (see stream.py); this module only
parses. :func:`peek_names` reads just the id and names, which is all it takes to decide
that a table is not watched.

Layout after the common header (MySQL ``Table_map_event``; MariaDB is identical):
table id (6 bytes, or 4 when the format description says the post-header is 6 bytes),
flags (2), schema name (1-byte length, bytes, NUL), table name (same), column count
(packed integer), one type byte per column, packed-integer length of the per-column
metadata block, the block, a NULL-able bitmap, then optional metadata TLVs
(``binlog_row_metadata=FULL``): type byte, packed-integer length, value.

Of the optional metadata only signedness, names and the collations of the character
columns are read. The collations matter for one thing: a CHAR column with the binary
collation (BINARY(n), and MariaDB's UUID and INET6, which travel as BINARY(16)) loses
its trailing 0x00 bytes in the row image, so :attr:`Column.binary` tells the row decoder
to pad it back to its length.
"""

from __future__ import annotations

import dataclasses

from pymysqlreplication.constants import FIELD_TYPE as T

from ..errors import BinlogError

# Optional metadata field types (MySQL ``Table_map_event::Optional_metadata_field_type``).
OPT_SIGNEDNESS = 1
OPT_DEFAULT_CHARSET = 2
OPT_COLUMN_CHARSET = 3
OPT_COLUMN_NAME = 4
BINARY_COLLATION = 63

NUMERIC_TYPES = frozenset(
    (T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.NEWDECIMAL, T.FLOAT, T.DOUBLE, T.YEAR)
)
"""Types that get a bit in the SIGNEDNESS bitmap. YEAR has one too (MariaDB 10.11 writes
it: checked by test_binlog_types__year_before_unsigned__decodes_unsigned), although
mysqlbinlog's printing code leaves YEAR out of its ``is_numeric_type``."""

_META_ONE_BYTE = frozenset(
    (
        T.FLOAT,
        T.DOUBLE,
        T.BLOB,
        T.TINY_BLOB,
        T.MEDIUM_BLOB,
        T.LONG_BLOB,
        T.GEOMETRY,
        T.JSON,
        T.TIMESTAMP2,
        T.DATETIME2,
        T.TIME2,
    )
)
CHARACTER_TYPES = frozenset((T.STRING, T.VAR_STRING, T.VARCHAR, T.BLOB))
"""Types numbered in the collation metadata (``is_character_type`` in the servers'
log_event code). MariaDB also numbers GEOMETRY ("base class is blob"), MySQL does not.
ENUM and SET, unfolded here, have their own collation fields."""

_META_TWO_BYTES = frozenset((T.VARCHAR, T.VAR_STRING, T.BIT, T.NEWDECIMAL, T.STRING, T.ENUM, T.SET))
_META_NONE = frozenset(
    (
        T.TINY,
        T.SHORT,
        T.INT24,
        T.LONG,
        T.LONGLONG,
        T.NULL,
        T.TIMESTAMP,
        T.DATE,
        T.TIME,
        T.DATETIME,
        T.YEAR,
        T.NEWDATE,
    )
)


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """One column as the binlog describes it.

    ``type`` is the real type: CHAR, ENUM and SET all travel as MYSQL_TYPE_STRING with
    the real type folded into the metadata, and are unfolded here. ``meta`` is the
    type's metadata as one number: max byte length (VARCHAR, CHAR), length-prefix size
    (BLOB family, JSON, GEOMETRY), fsp (temporal2), precision*256+scale (NEWDECIMAL),
    storage bytes (ENUM, SET, BIT), pack length (FLOAT, DOUBLE). ``binary``: a
    character column with the binary collation.
    """

    type: int
    meta: int
    nullable: bool
    unsigned: bool = False
    name: str | None = None
    binary: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class TableMap:
    table_id: int
    schema: str
    table: str
    columns: tuple[Column, ...]

    @property
    def has_names(self) -> bool:
        return all(c.name is not None for c in self.columns)


def read_packed_int(data: bytes, pos: int) -> tuple[int, int]:
    """A length-encoded integer: (value, offset after it)."""
    first = data[pos]
    if first < 251:
        return first, pos + 1
    if first == 252:
        return data[pos + 1] | data[pos + 2] << 8, pos + 3
    if first == 253:
        return int.from_bytes(data[pos + 1 : pos + 4], "little"), pos + 4
    if first == 254:
        return int.from_bytes(data[pos + 1 : pos + 9], "little"), pos + 9
    raise BinlogError(f"invalid length-encoded integer prefix 0x{first:02x} in a binlog event")


def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def peek_names(body: bytes, id_len: int = 6) -> tuple[int, str, str]:
    """(table id, schema, table) of a TABLE_MAP body (the bytes after the event header)."""
    table_id = int.from_bytes(body[:id_len], "little")
    p = id_len + 2
    n = body[p]
    schema = _name(body[p + 1 : p + 1 + n])
    p += n + 2
    n = body[p]
    table = _name(body[p + 1 : p + 1 + n])
    return table_id, schema, table


def _unfold(col_type: int, meta_raw: bytes) -> tuple[int, int]:
    """(real type, meta as one number) from the column type and its raw metadata bytes."""
    if col_type in (T.VARCHAR, T.VAR_STRING):
        return col_type, meta_raw[0] | meta_raw[1] << 8
    if col_type == T.NEWDECIMAL:
        return col_type, meta_raw[0] << 8 | meta_raw[1]
    if col_type == T.BIT:
        # byte 0 = bits beyond the last full byte, byte 1 = full bytes.
        return col_type, meta_raw[1] + (1 if meta_raw[0] else 0)
    if col_type in (T.STRING, T.ENUM, T.SET):
        b0, b1 = meta_raw[0], meta_raw[1]
        if col_type == T.STRING and b0:
            if (b0 & 0x30) != 0x30:
                # CHAR longer than 255 bytes: two high length bits hide in byte 0.
                return b0 | 0x30, b1 | (((b0 & 0x30) ^ 0x30) << 4)
            return b0, b1
        return col_type, b1
    if col_type in _META_ONE_BYTE:
        return col_type, meta_raw[0]
    return col_type, 0


def _collations(field_type: int, value: bytes, count: int) -> dict[int, int]:
    """Collation id by position among the character columns, from a DEFAULT_CHARSET
    (the most common collation, then ``(position, collation)`` exceptions) or a
    COLUMN_CHARSET (one collation per character column) field."""
    out: dict[int, int] = {}
    q = 0
    if field_type == OPT_DEFAULT_CHARSET:
        default, q = read_packed_int(value, q)
        out = dict.fromkeys(range(count), default)
        while q < len(value):
            index, q = read_packed_int(value, q)
            out[index], q = read_packed_int(value, q)
    else:
        index = 0
        while q < len(value):
            out[index], q = read_packed_int(value, q)
            index += 1
    return out


def parse_table_map(body: bytes, id_len: int = 6, *, mariadb: bool = True) -> TableMap:
    """Parse a TABLE_MAP body (after the 19-byte header, checksum already removed).

    ``mariadb``: the binlog was written by MariaDB, which numbers GEOMETRY columns among
    the character columns of the collation metadata.
    """
    table_id, schema, table = peek_names(body, id_len)
    p = id_len + 2
    p += body[p] + 2
    p += body[p] + 2
    ncols, p = read_packed_int(body, p)
    types = body[p : p + ncols]
    p += ncols
    meta_len, p = read_packed_int(body, p)
    meta_end = p + meta_len
    unfolded: list[tuple[int, int]] = []
    for t in types:
        if t in _META_TWO_BYTES:
            unfolded.append(_unfold(t, body[p : p + 2]))
            p += 2
        elif t in _META_ONE_BYTE:
            unfolded.append(_unfold(t, body[p : p + 1]))
            p += 1
        elif t in _META_NONE:
            unfolded.append((t, 0))
        else:
            raise BinlogError(
                f"table {schema}.{table} has a column of binlog type {t} that django_ghost "
                "cannot decode; it cannot be migrated online"
            )
    if p != meta_end:
        raise BinlogError(
            f"TABLE_MAP of {schema}.{table}: the column metadata block is {meta_len} bytes, "
            "which does not match its column types; the event is not understood"
        )
    null_bytes = (ncols + 7) // 8
    nullmap = int.from_bytes(body[p : p + null_bytes], "little")
    p += null_bytes

    unsigned: list[bool] = [False] * ncols
    names: list[str | None] = [None] * ncols
    character_types = CHARACTER_TYPES | ({T.GEOMETRY} if mariadb else set())
    character = [i for i, (t, _) in enumerate(unfolded) if t in character_types]
    collation: dict[int, int] = {}
    end = len(body)
    while p < end:
        field_type = body[p]
        length, p = read_packed_int(body, p + 1)
        value = body[p : p + length]
        p += length
        if field_type == OPT_SIGNEDNESS:
            bit = 0
            for i, (t, _) in enumerate(unfolded):
                if t in NUMERIC_TYPES:
                    # Most significant bit first, one bit per numeric column only.
                    unsigned[i] = bool(value[bit >> 3] & (0x80 >> (bit & 7)))
                    bit += 1
        elif field_type in (OPT_DEFAULT_CHARSET, OPT_COLUMN_CHARSET):
            by_position = _collations(field_type, value, len(character))
            collation = {character[k]: c for k, c in by_position.items() if k < len(character)}
        elif field_type == OPT_COLUMN_NAME:
            q = 0
            for i in range(ncols):
                n, q = read_packed_int(value, q)
                names[i] = _name(value[q : q + n])
                q += n
    columns = tuple(
        Column(
            t,
            m,
            bool(nullmap >> i & 1),
            unsigned[i],
            names[i],
            collation.get(i) == BINARY_COLLATION,
        )
        for i, (t, m) in enumerate(unfolded)
    )
    return TableMap(table_id, schema, table, columns)
