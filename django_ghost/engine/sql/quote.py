"""Quoting of identifiers and string literals for the statements the engine builds.

Values always travel as driver parameters; these helpers cover what parameters cannot:
identifiers (table, column and index names) and the rare literal that MySQL only accepts
inline, such as ``COMMENT '...'``. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import UnsupportedAlterError

MAX_IDENTIFIER_LENGTH = 64
"""MySQL and MariaDB limit table, column and index names to 64 characters (not bytes)."""


def check_identifier(name: str) -> str:
    """Return ``name`` unchanged if the server can accept it as an identifier, else raise."""
    if not name:
        raise UnsupportedAlterError(
            "An empty identifier cannot be quoted; give the table, column or index name."
        )
    if "\x00" in name:
        raise UnsupportedAlterError(
            f"The identifier {name!r} contains a NUL byte, which MySQL never accepts; "
            "rename the object."
        )
    if len(name) > MAX_IDENTIFIER_LENGTH:
        raise UnsupportedAlterError(
            f"The identifier {name[:20]!r}... is {len(name)} characters long; MySQL allows "
            f"at most {MAX_IDENTIFIER_LENGTH}. Use a shorter name."
        )
    return name


def quote_identifier(name: str) -> str:
    """Quote one identifier with backticks, doubling any backtick inside it."""
    check_identifier(name)
    return "`" + name.replace("`", "``") + "`"


def quote_qualified(schema: str | None, table: str) -> str:
    """Quote ``schema.table``; without a schema, only the table (the session's database)."""
    if not schema:
        return quote_identifier(table)
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def quote_columns(names: Iterable[str]) -> str:
    """Quote a column list for ``INSERT (...)``/``SELECT ...``: ``"`a`, `b`"``."""
    return ", ".join(quote_identifier(name) for name in names)


# Backslash first, so the backslashes added for the others are not escaped again.
_LITERAL_ESCAPES = (("\\", "\\\\"), ("'", "''"), ("\x00", "\\0"))


def quote_string_literal(value: str) -> str:
    """Quote ``value`` as a single-quoted string literal.

    Only for places where a parameter is not allowed (``COMMENT '...'``). The escaping
    assumes ``NO_BACKSLASH_ESCAPES`` is not in the session's sql_mode, which the engine's
    session setup guarantees; quotes are doubled, which is correct in either mode.
    """
    for raw, escaped in _LITERAL_ESCAPES:
        value = value.replace(raw, escaped)
    return f"'{value}'"
