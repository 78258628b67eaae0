"""Hand-built binlog bytes shared by the unit tests of the binlog package."""

from __future__ import annotations

from collections.abc import Sequence


def _packed(n: int) -> bytes:
    """A length-encoded integer, as the binlog writes counts and lengths."""
    if n < 251:
        return bytes((n,))
    if n < 1 << 16:
        return b"\xfc" + n.to_bytes(2, "little")
    return b"\xfd" + n.to_bytes(3, "little")


def table_map_body(
    columns: Sequence[tuple[str, int, bytes, bool, bool]],
    *,
    schema: str = "app",
    table: str = "t",
    table_id: int = 77,
    names: bool = True,
    metadata: bytes = b"",
) -> bytes:
    """A TABLE_MAP body; columns are (name, type, raw metadata, nullable, unsigned);
    ``metadata``: more optional metadata fields (see :func:`field`)."""
    body = table_id.to_bytes(6, "little") + b"\x01\x00"
    for name in (schema, table):
        body += bytes((len(name),)) + name.encode() + b"\x00"
    body += _packed(len(columns)) + bytes(c[1] for c in columns)
    meta = b"".join(c[2] for c in columns)
    body += _packed(len(meta)) + meta
    nulls = sum(1 << i for i, c in enumerate(columns) if c[3])
    body += nulls.to_bytes((len(columns) + 7) // 8, "little")
    numeric = [c for c in columns if c[1] in (1, 2, 3, 4, 5, 8, 9, 13, 246)]
    bits = 0
    for i, c in enumerate(numeric):
        if c[4]:
            bits |= 0x80 >> (i % 8) << (8 * (i // 8))
    sign = bits.to_bytes((len(numeric) + 7) // 8 or 1, "little")
    body += b"\x01" + _packed(len(sign)) + sign
    if names:
        value = b"".join(_packed(len(c[0])) + c[0].encode() for c in columns)
        body += b"\x04" + _packed(len(value)) + value
    return body + metadata


def field(field_type: int, *numbers: int) -> bytes:
    """An optional metadata field whose value is a list of packed integers."""
    value = b"".join(_packed(n) for n in numbers)
    return bytes((field_type,)) + _packed(len(value)) + value
