"""Helper table names: templates, the 64-character limit, and recognising leftovers."""

from __future__ import annotations

import hashlib

import pytest

from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import (
    DEFAULT_TEMPLATES,
    TableNames,
    is_helper_table,
    match_helper_table,
    original_table_of,
    table_names,
)

BYTEBASE = ("~{table}_{timestamp}_gho", "~{table}_{timestamp}_ghc", "~{table}_{timestamp}_del")


def _digest(table: str) -> str:
    return hashlib.sha1(table.encode("utf-8")).hexdigest()[:8]


def test_table_names__defaults__gh_ost_names() -> None:
    assert table_names("orders") == TableNames(
        "orders", "_orders_gho", "_orders_ghc", "_orders_del"
    )


def test_table_names__helpers__in_order() -> None:
    assert table_names("t").helpers == ("_t_gho", "_t_ghc", "_t_del")


def test_table_names__timestamp_templates__rendered() -> None:
    names = table_names(
        "t",
        ghost_template=BYTEBASE[0],
        changelog_template=BYTEBASE[1],
        old_template=BYTEBASE[2],
        timestamp="1700000000",
    )
    assert names.helpers == ("~t_1700000000_gho", "~t_1700000000_ghc", "~t_1700000000_del")


def test_table_names__timestamped_old_table_only__others_plain() -> None:
    names = table_names("t", old_template="_{table}_{timestamp}_del", timestamp="20240131120000")
    assert names.old == "_t_20240131120000_del"
    assert names.ghost == "_t_gho"


def test_table_names__60_characters__unchanged() -> None:
    table = "t" * 59
    assert table_names(table).ghost == f"_{table}_gho"


def test_table_names__63_characters__shortened_with_hash() -> None:
    table = "a" * 63
    names = table_names(table)
    assert names.ghost == "_" + "a" * 50 + "_" + _digest(table) + "_gho"
    assert all(len(name) == 64 for name in names.helpers)


@pytest.mark.parametrize("length", [59, 60, 61, 63, 64])
def test_table_names__long_names__at_most_64_characters(length: int) -> None:
    names = table_names("x" * length)
    assert all(len(name) <= 64 for name in names.helpers)
    assert len(set(names.helpers)) == 3


def test_table_names__exactly_fits__not_shortened() -> None:
    table = "y" * 59  # _ + 59 + _gho = 64
    assert table_names(table).ghost == f"_{table}_gho"
    assert len(table_names("y" * 60).ghost) == 64
    assert table_names("y" * 60).ghost.endswith(_digest("y" * 60) + "_gho")


def test_table_names__long_names_sharing_prefix__differ() -> None:
    first = table_names("p" * 62 + "_a")
    second = table_names("p" * 62 + "_b")
    assert first.ghost != second.ghost
    assert first.ghost[:51] == second.ghost[:51]


@pytest.mark.parametrize("length", [65, 100])
def test_table_names__longer_than_64__config_error(length: int) -> None:
    with pytest.raises(ConfigError, match="not a valid table name"):
        table_names("z" * length)


def test_table_names__empty__config_error() -> None:
    with pytest.raises(ConfigError, match="not a valid table name"):
        table_names("")


def test_table_names__unicode_64_characters__counted_as_characters() -> None:
    table = "ż" * 64  # 128 bytes
    names = table_names(table)
    assert all(len(name) == 64 for name in names.helpers)
    assert names.ghost.startswith("_" + "ż" * 50 + "_")


def test_table_names__unicode_short__unchanged() -> None:
    assert table_names("żółw").ghost == "_żółw_gho"


def test_table_names__backtick_in_name__kept_raw() -> None:
    # Names are raw; quoting happens when a statement is built.
    assert table_names("a`b").ghost == "_a`b_gho"


def test_table_names__long_timestamp_template__shortened_with_hash() -> None:
    table = "q" * 45  # 1 + 45 + 1 + 14 + 4 = 65
    names = table_names(
        table, ghost_template="~{table}_{timestamp}_gho", timestamp="20240131120000"
    )
    assert len(names.ghost) == 64
    assert names.ghost.endswith(f"_{_digest(table)}_20240131120000_gho")


def test_table_names__template_leaves_no_room__config_error() -> None:
    with pytest.raises(ConfigError, match="leaves 4 of 64 characters"):
        table_names("t" * 30, ghost_template="{table}" + "g" * 60)


def test_table_names__template_without_table__config_error() -> None:
    with pytest.raises(ConfigError, match="must contain \\{table\\}"):
        table_names("t", ghost_template="ghost")


@pytest.mark.parametrize("template", ["_{tbl}_gho", "_{table!r}_gho", "_{table:>5}_gho", "_{}_g"])
def test_table_names__unknown_placeholder__config_error(template: str) -> None:
    with pytest.raises(ConfigError, match="only \\{table\\} and \\{timestamp\\}"):
        table_names("t", ghost_template=template)


def test_table_names__malformed_template__config_error() -> None:
    with pytest.raises(ConfigError, match="malformed"):
        table_names("t", ghost_template="_{table_gho")


def test_table_names__timestamp_placeholder_without_timestamp__config_error() -> None:
    with pytest.raises(ConfigError, match="no timestamp was given"):
        table_names("t", old_template="_{table}_{timestamp}_del")


@pytest.mark.parametrize("timestamp", ["2024-01-31", "a_b", "x y"])
def test_table_names__timestamp_with_separators__config_error(timestamp: str) -> None:
    with pytest.raises(ConfigError, match="only hold letters and digits"):
        table_names("t", timestamp=timestamp)


def test_table_names__templates_equal__config_error() -> None:
    with pytest.raises(ConfigError, match="not all distinct"):
        table_names("t", changelog_template="_{table}_gho")


def test_table_names__templates_differ_in_case_only__config_error() -> None:
    with pytest.raises(ConfigError, match="not all distinct"):
        table_names("t", changelog_template="_{table}_GHO")


def test_table_names__helper_equals_original__config_error() -> None:
    with pytest.raises(ConfigError, match="not all distinct"):
        table_names("t", ghost_template="{table}")


def test_table_names__table_looking_like_helper__gets_its_own_helpers() -> None:
    names = table_names("_t_gho")
    assert names.ghost == "__t_gho_gho"


# -- recognising helper tables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("_orders_gho", "orders"),
        ("_orders_ghc", "orders"),
        ("_orders_del", "orders"),
        ("_my_table_del", "my_table"),
        ("__t_gho_gho", "_t_gho"),
        ("_żółw_gho", "żółw"),
    ],
)
def test_original_table_of__default_templates__owner(name: str, owner: str) -> None:
    assert is_helper_table(name)
    assert original_table_of(name) == owner


@pytest.mark.parametrize("name", ["orders", "_orders", "orders_gho", "_orders_gho_", "__gho", ""])
def test_is_helper_table__ordinary_table__false(name: str) -> None:
    assert not is_helper_table(name)
    assert original_table_of(name) is None


def test_match_helper_table__timestamp_template__table_and_timestamp() -> None:
    match = match_helper_table("~my_table_1700000000_gho", BYTEBASE)
    assert match is not None
    assert (match.table, match.timestamp, match.template) == (
        "my_table",
        "1700000000",
        BYTEBASE[0],
    )


def test_match_helper_table__timestamp_template_without_timestamp__no_match() -> None:
    assert match_helper_table("~my_table__gho", BYTEBASE) is None


def test_match_helper_table__shortened_without_candidates__helper_with_unknown_owner() -> None:
    table = "a" * 63
    ghost = table_names(table).ghost
    match = match_helper_table(ghost)
    assert match is not None
    assert match.table is None
    assert is_helper_table(ghost)


def test_match_helper_table__shortened_with_candidates__owner_found() -> None:
    first, second = "p" * 62 + "_a", "p" * 62 + "_b"
    for table in (first, second):
        old = table_names(table).old
        assert original_table_of(old, tables=["other", first, second]) == table


def test_match_helper_table__shortened_timestamped_with_candidates__owner_found() -> None:
    table = "q" * 60
    ghost = table_names(table, ghost_template=BYTEBASE[0], timestamp="20240131").ghost
    assert original_table_of(ghost, BYTEBASE, tables=[table]) == table


def test_match_helper_table__custom_templates__default_names_not_matched() -> None:
    assert not is_helper_table("_t_gho", BYTEBASE)
    assert is_helper_table("_t_gho", DEFAULT_TEMPLATES)


def test_match_helper_table__roundtrip__every_helper_recognised() -> None:
    for table in ["t", "orders_2024", "x" * 64, "ż" * 64]:
        for name in table_names(table).helpers:
            assert original_table_of(name, tables=[table]) == table
