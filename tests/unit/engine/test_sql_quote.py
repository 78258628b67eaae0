"""Quoting of identifiers and literals, checked as strings."""

from __future__ import annotations

import pytest

from django_ghost.engine.errors import UnsupportedAlterError
from django_ghost.engine.sql.quote import (
    quote_columns,
    quote_identifier,
    quote_qualified,
    quote_string_literal,
)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("t", "`t`"),
        ("order", "`order`"),
        ("a`b", "`a``b`"),
        ("``", "``````"),
        ("with space", "`with space`"),
        ("żółw", "`żółw`"),
        ("a.b", "`a.b`"),
    ],
)
def test_quote_identifier__name__backticked(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted


def test_quote_identifier__64_unicode_characters__accepted() -> None:
    name = "ż" * 64  # 128 bytes in UTF-8: the limit counts characters
    assert quote_identifier(name) == f"`{name}`"


def test_quote_identifier__65_characters__rejected() -> None:
    with pytest.raises(UnsupportedAlterError, match="65 characters long; MySQL allows at most 64"):
        quote_identifier("x" * 65)


def test_quote_identifier__empty__rejected() -> None:
    with pytest.raises(UnsupportedAlterError, match="empty identifier"):
        quote_identifier("")


def test_quote_identifier__nul_byte__rejected() -> None:
    with pytest.raises(UnsupportedAlterError, match="NUL byte"):
        quote_identifier("a\x00b")


def test_quote_qualified__schema_and_table__both_quoted() -> None:
    assert quote_qualified("db", "t`x") == "`db`.`t``x`"


@pytest.mark.parametrize("schema", [None, ""])
def test_quote_qualified__no_schema__table_only(schema: str | None) -> None:
    assert quote_qualified(schema, "t") == "`t`"


def test_quote_columns__names__comma_separated() -> None:
    assert quote_columns(["a", "b`c"]) == "`a`, `b``c`"


def test_quote_columns__empty__empty_string() -> None:
    assert quote_columns([]) == ""


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("\\'", "'\\\\'''"),
        ("nul\x00", "'nul\\0'"),
        ("", "''"),
        ("żółw, #1 -- x", "'żółw, #1 -- x'"),
    ],
)
def test_quote_string_literal__value__escaped(value: str, literal: str) -> None:
    assert quote_string_literal(value) == literal
