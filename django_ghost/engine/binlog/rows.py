"""Row-image decoding for watched tables, compiled once per table map.

A row image is a NULL bitmap (one bit per *present* column, least significant bit
first) followed by the values of the present, non-NULL columns back to back. Nothing
in the image says where a value ends: each column's width comes from its type and
TABLE_MAP metadata, so every column before the last watched one, and every column of
the row (to find the next row), has to be walked.

:func:`compile_table` turns a :class:`TableMap` plus the watched column names into a
straight-line Python function for images where every column is present (always the case
with ``binlog_row_image=FULL``): fixed-width columns that cannot be NULL collapse into a
single offset addition, watched integers are read with a prebuilt ``struct`` unpacker,
and the NULL test exists only for NULL-able columns. The generated source contains only
numbers, never names from the server. :func:`decode_image_generic` is the interpretive
reference used for partial images (and by the tests to cross-check the compiled code).

Strings (CHAR/VARCHAR/TEXT, any charset) come back as the raw stored bytes: the engine
converts them server-side with the column's own charset, which avoids every Python
codec mismatch (latin1 0x81/0x8D/0x8F/0x90/0x9D have no cp1252 mapping). BINARY(n)
values (and MariaDB's UUID and INET6) lose their trailing 0x00 bytes in the binlog and
are padded back to n: the TABLE_MAP's collation metadata says which columns are binary.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Sequence
from typing import Any

from pymysqlreplication.constants import FIELD_TYPE as T

from ..errors import BinlogError
from . import values as V
from .tablemap import Column, TableMap

ImageDecoder = Callable[[bytes, int], tuple[tuple[Any, ...], int]]
ValueReader = Callable[[bytes, int], tuple[Any, int]]

_FIXED_SIZES = {
    T.TINY: 1,
    T.SHORT: 2,
    T.INT24: 3,
    T.LONG: 4,
    T.LONGLONG: 8,
    T.FLOAT: 4,
    T.DOUBLE: 8,
    T.YEAR: 1,
    T.DATE: 3,
    T.NEWDATE: 3,
    T.TIME: 3,
    T.DATETIME: 8,
    T.TIMESTAMP: 4,
    T.NULL: 0,
}
_INT_FORMATS = {1: "b", 2: "h", 4: "i", 8: "q"}
_BLOBS = frozenset((T.BLOB, T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.GEOMETRY, T.JSON))


def layout(col: Column) -> tuple[int, int]:
    """(fixed size, 0) for fixed-width columns, (0, length-prefix bytes) for the others."""
    t, m = col.type, col.meta
    size = _FIXED_SIZES.get(t)
    if size is not None:
        return size, 0
    if t == T.TIMESTAMP2:
        return 4 + V.fraction_size(m), 0
    if t == T.DATETIME2:
        return 5 + V.fraction_size(m), 0
    if t == T.TIME2:
        return 3 + V.fraction_size(m), 0
    if t == T.NEWDECIMAL:
        return V.decimal_size(m >> 8, m & 0xFF), 0
    if t in (T.BIT, T.ENUM, T.SET):
        return m, 0
    if t in (T.VARCHAR, T.VAR_STRING, T.STRING):
        # The length prefix is 2 bytes when the column's max byte length exceeds 255.
        return 0, 2 if m > 255 else 1
    if t in _BLOBS:
        return 0, m
    raise BinlogError(f"binlog column type {t} cannot be decoded")


def _value_expr(col: Column) -> str:
    """A Python expression reading a fixed-width value of ``col`` at ``d[p:]``."""
    t, m = col.type, col.meta
    if t in (T.TINY, T.SHORT, T.LONG, T.LONGLONG):
        fmt = _INT_FORMATS[_FIXED_SIZES[t]]
        return f"_{fmt.upper() if col.unsigned else fmt}(d, p)[0]"
    if t == T.INT24:
        return f"int.from_bytes(d[p:p + 3], 'little', signed={not col.unsigned})"
    if t == T.FLOAT:
        return "_f(d, p)[0]"
    if t == T.DOUBLE:
        return "_d(d, p)[0]"
    if t == T.YEAR:
        return "_year(d, p)"
    if t in (T.DATE, T.NEWDATE):
        return "_date(d, p)"
    if t == T.TIME:
        return "_time_old(d, p)"
    if t == T.DATETIME:
        return "_datetime_old(d, p)"
    if t == T.TIMESTAMP:
        return "_timestamp_old(d, p)"
    if t == T.TIMESTAMP2:
        return f"_timestamp2(d, p, {m})"
    if t == T.DATETIME2:
        return f"_datetime2(d, p, {m})"
    if t == T.TIME2:
        return f"_time2(d, p, {m})"
    if t == T.NEWDECIMAL:
        return f"_decimal(d, p, {m >> 8}, {m & 0xFF})"
    if t == T.BIT:
        return f"int.from_bytes(d[p:p + {m}], 'big')"
    if t in (T.ENUM, T.SET):
        return f"int.from_bytes(d[p:p + {m}], 'little')"
    if t == T.NULL:
        return "None"
    raise BinlogError(f"binlog column type {t} cannot be decoded")


def _prefix_expr(prefix: int) -> str:
    if prefix == 1:
        return "d[p]"
    if prefix == 2:
        return "(d[p] | d[p + 1] << 8)"
    return f"int.from_bytes(d[p:p + {prefix}], 'little')"


_NAMESPACE: dict[str, Any] = {
    **{f"_{f}": struct.Struct(f"<{f}").unpack_from for f in "bBhHiIqQfd"},
    "_year": V.decode_year,
    "_date": V.decode_date,
    "_time_old": V.decode_time_old,
    "_datetime_old": V.decode_datetime_old,
    "_timestamp_old": V.decode_timestamp,
    "_timestamp2": V.decode_timestamp2,
    "_datetime2": V.decode_datetime2,
    "_time2": V.decode_time2,
    "_decimal": V.decode_decimal,
}


def _column_lines(col: Column, var: str | None, pad: int) -> list[str]:
    """Statements that read (``var`` set) or skip (``var`` None) one non-NULL value."""
    size, prefix = layout(col)
    if prefix:
        n = _prefix_expr(prefix)
        if var is None:
            return [f"p += {prefix} + {n}"]
        lines = [f"n = {n}", f"p += {prefix}", f"{var} = d[p:p + n]", "p += n"]
        if pad:
            lines.append(f"{var} = {var}.ljust({pad}, b'\\x00')")
        return lines
    if var is None:
        return [f"p += {size}"] if size else []
    return [f"{var} = {_value_expr(col)}", f"p += {size}"] if size else [f"{var} = None"]


def binary_pad(col: Column) -> int:
    """The length a value of ``col`` is padded back to with 0x00 bytes (0: none)."""
    return col.meta if col.type == T.STRING and col.binary else 0


def compile_image(columns: Sequence[Column], watched: Sequence[int]) -> ImageDecoder:
    """A function (data, offset) → (watched values, offset after the image)."""
    slot = {col_index: k for k, col_index in enumerate(watched)}
    null_bytes = (len(columns) + 7) // 8
    body: list[str] = []
    if any(c.nullable for c in columns):
        body.append(f"nb = int.from_bytes(d[p:p + {null_bytes}], 'little')")
    skip = null_bytes  # pending offset of NOT NULL fixed-width columns being skipped

    for i, col in enumerate(columns):
        k = slot.get(i)
        var = None if k is None else f"w{k}"
        size, prefix = layout(col)
        if var is None and not col.nullable and not prefix:
            skip += size
            continue
        if skip:
            body.append(f"p += {skip}")
            skip = 0
        lines = _column_lines(col, var, binary_pad(col))
        if col.nullable:
            if var is None:
                body.append(f"if not nb & {1 << i}:")
                body.extend("    " + line for line in lines)
            else:
                body.append(f"if nb & {1 << i}:")
                body.append(f"    {var} = None")
                body.append("else:")
                body.extend("    " + line for line in lines)
        else:
            body.extend(lines)
    if skip:
        body.append(f"p += {skip}")
    result = ", ".join(f"w{k}" for k in range(len(watched)))
    body.append(f"return ({result}{',' if len(watched) == 1 else ''}), p")
    source = "def image(d, p):\n" + "".join(f"    {line}\n" for line in body)
    namespace = dict(_NAMESPACE)
    exec(compile(source, "<django_ghost row image>", "exec"), namespace)
    decoder: ImageDecoder = namespace["image"]
    decoder.__doc__ = source
    return decoder


def value_reader(col: Column) -> ValueReader:
    """An interpretive (data, offset) → (value, offset after) reader for one column."""
    size, prefix = layout(col)
    pad = binary_pad(col)
    if prefix:

        def read_var(d: bytes, p: int) -> tuple[Any, int]:
            n = int.from_bytes(d[p : p + prefix], "little")
            p += prefix
            v = d[p : p + n]
            return (v.ljust(pad, b"\x00") if pad else v), p + n

        return read_var
    namespace = dict(_NAMESPACE)
    expr = _value_expr(col)
    func: Callable[[bytes, int], Any] = eval(f"lambda d, p: {expr}", namespace)

    def read_fixed(d: bytes, p: int) -> tuple[Any, int]:
        return func(d, p), p + size

    return read_fixed


def decode_image_generic(
    readers: Sequence[ValueReader],
    present: int,
    watched: Sequence[int],
    d: bytes,
    p: int,
) -> tuple[tuple[Any, ...], int]:
    """Decode one image with any present-columns bitmap; raises if a watched one is missing."""
    ncols = len(readers)
    present_count = bin(present & ((1 << ncols) - 1)).count("1")
    null_bytes = (present_count + 7) // 8
    nulls = int.from_bytes(d[p : p + null_bytes], "little")
    p += null_bytes
    out: dict[int, Any] = {}
    k = 0
    for i, reader in enumerate(readers):
        if not present >> i & 1:
            continue
        if nulls >> k & 1:
            out[i] = None
        else:
            out[i], p = reader(d, p)
        k += 1
    missing = [i for i in watched if i not in out]
    if missing:
        raise BinlogError(
            "a binlog row image lacks key columns of a watched table: the server must run "
            "with binlog_row_image=FULL (SET GLOBAL binlog_row_image='FULL' and in my.cnf)"
        )
    return tuple(out[i] for i in watched), p


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledTable:
    """Everything needed to turn a watched table's rows events into key tuples."""

    name: str
    table_map: TableMap
    watched: tuple[int, ...]
    image: ImageDecoder
    readers: tuple[ValueReader, ...]
    full_bitmap: bytes

    def decode_image(self, d: bytes, p: int, present: bytes) -> tuple[tuple[Any, ...], int]:
        if present == self.full_bitmap:
            return self.image(d, p)
        return decode_image_generic(
            self.readers, int.from_bytes(present, "little"), self.watched, d, p
        )


def compile_table(name: str, table_map: TableMap, columns: Sequence[str]) -> CompiledTable:
    """Compile the decoder of ``table_map`` for the watched ``columns`` (by name)."""
    if not table_map.has_names:
        raise BinlogError(
            f"the binlog carries no column names for {table_map.schema}.{table_map.table}: "
            "the server must run with binlog_row_metadata=FULL (MariaDB >= 10.5, MySQL >= "
            "8.0.14): SET GLOBAL binlog_row_metadata='FULL' and add it to my.cnf"
        )
    by_name = {c.name: i for i, c in enumerate(table_map.columns)}
    by_lower = {str(c.name).lower(): i for i, c in enumerate(table_map.columns)}
    watched: list[int] = []
    for column in columns:
        index = by_name.get(column, by_lower.get(column.lower()))
        if index is None:
            raise BinlogError(
                f"column {column!r} of {table_map.schema}.{table_map.table} is not in the "
                "table's binlog TABLE_MAP: the table changed under the migration"
            )
        watched.append(index)
    ncols = len(table_map.columns)
    full = bytearray(b"\xff" * ((ncols + 7) // 8))
    if ncols % 8:
        full[-1] = (1 << (ncols % 8)) - 1
    return CompiledTable(
        name=name,
        table_map=table_map,
        watched=tuple(watched),
        image=compile_image(table_map.columns, watched),
        readers=tuple(value_reader(c) for c in table_map.columns),
        full_bitmap=bytes(full),
    )
