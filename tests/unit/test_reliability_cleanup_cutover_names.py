"""engine.state.leftovers without a server: the atomic cut-over's ``<t>~g`` and ``<t>~d`` names
are recognised as leftovers of ``t`` only while ``t`` exists and, unless ``<t>~d`` is a
sentry, only while the changelog of ``t`` exists too: a user may own ``a~g`` or ``a~d``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django_ghost.engine.cutover.atomic import AtomicAttempt
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import CUTOVER_SUFFIXES, SENTRY_COMMENT, table_names
from django_ghost.engine.state.leftovers import changelog_owners, classify_table

TIMESTAMP_TEMPLATES = (
    "~{table}_{timestamp}_gho",
    "~{table}_{timestamp}_ghc",
    "~{table}_{timestamp}_del",
)


def test_classify_table__tilde_g_with_its_changelog__ghost_of_the_table() -> None:
    assert classify_table("t~g", tables=["t", "t~g", "_t_ghc"]) == ("ghost", "t")


def test_classify_table__tilde_d_with_sentry_comment__sentry() -> None:
    assert classify_table("t~d", SENTRY_COMMENT, tables=["t", "t~d", "_t_ghc"]) == (
        "sentry",
        "t",
    )


def test_classify_table__tilde_d_sentry_without_changelog__sentry() -> None:
    # An empty table with the engine's sentry comment is recognised on its own.
    assert classify_table("t~d", SENTRY_COMMENT, tables=["t", "t~d"]) == ("sentry", "t")


def test_classify_table__tilde_d_without_sentry_comment__old_table() -> None:
    tables = ["t", "t~d", "_t_ghc"]
    assert classify_table("t~d", "", tables=tables) == ("old", "t")
    assert classify_table("t~d", "a comment", tables=tables) == ("old", "t")


@pytest.mark.parametrize("comment", [None, "", "a user's table"])
@pytest.mark.parametrize("name", ["a~g", "a~d"])
def test_classify_table__user_tilde_table_without_changelog__not_a_leftover(
    name: str, comment: str | None
) -> None:
    assert classify_table(name, comment, tables=["a", name]) is None


@pytest.mark.parametrize("name", ["a~g", "a~d"])
def test_classify_table__changelog_of_another_table__not_a_leftover(name: str) -> None:
    tables = ["a", name, "b", "_b_ghc", "_a_gho", "_a_del"]
    assert classify_table(name, "", tables=tables) is None


@pytest.mark.parametrize("name", ["x~g", "x~d"])
def test_classify_table__tilde_name_without_its_table__not_a_leftover(name: str) -> None:
    assert classify_table(name, SENTRY_COMMENT, tables=[name, "t", "_x_ghc"]) is None


@pytest.mark.parametrize("name", ["t", "t~x", "t~G", "t~", "~g", "~d", "t~gg", "t_g"])
def test_classify_table__original_or_other_names__not_a_leftover(name: str) -> None:
    assert classify_table(name, SENTRY_COMMENT, tables=["t", "", "_t_ghc", name]) is None


def test_classify_table__tilde_g_of_a_tilde_table__belongs_to_that_table() -> None:
    tables = ["t", "t~g", "t~g~g", "_t_ghc", "_t~g_ghc"]
    assert classify_table("t~g~g", tables=tables) == ("ghost", "t~g")
    assert classify_table("t~g", tables=tables) == ("ghost", "t")


def test_classify_table__nested_tilde_without_its_changelog__not_a_leftover() -> None:
    # t's changelog exists, not t~g's: t~g is t's leftover, t~g~g is nobody's.
    tables = ["t", "t~g", "t~g~g", "_t_ghc"]
    assert classify_table("t~g~g", tables=tables) is None
    assert classify_table("t~g", tables=tables) == ("ghost", "t")


def test_classify_table__odd_characters__owner_traced() -> None:
    odd = "we`ird t~d \u00e9"
    tables = [odd, f"{odd}~g", f"{odd}~d", f"_{odd}_ghc"]
    assert classify_table(f"{odd}~g", tables=tables) == ("ghost", odd)
    assert classify_table(f"{odd}~d", SENTRY_COMMENT, tables=tables) == ("sentry", odd)


def test_classify_table__long_table_shortened_changelog__tilde_names_recognised() -> None:
    long = "l" * 62  # the longest table whose ~g name still fits in 64 characters
    changelog = table_names(long).changelog
    assert len(changelog) == 64 and long not in changelog  # shortened, with a hash
    tables = [long, f"{long}~g", f"{long}~d", changelog]
    assert classify_table(f"{long}~g", tables=tables) == ("ghost", long)
    assert classify_table(f"{long}~d", "", tables=tables) == ("old", long)
    assert classify_table(f"{long}~g", tables=tables[:3]) is None


def test_classify_table__timestamp_changelog_template__tilde_names_recognised() -> None:
    tables = ["t", "t~g", "t~d", "~t_20240131120000_ghc"]
    templates = TIMESTAMP_TEMPLATES
    assert classify_table("t~g", templates=templates, tables=tables) == ("ghost", "t")
    assert classify_table("t~d", "", templates=templates, tables=tables) == ("old", "t")
    # The default templates do not know that changelog: the tilde names are left alone.
    assert classify_table("t~g", tables=tables) is None


def test_classify_table__changelogs_given__used_instead_of_tables() -> None:
    assert classify_table("t~g", tables=["t", "t~g"], changelogs=["t"]) == ("ghost", "t")
    assert classify_table("t~g", tables=["t", "t~g", "_t_ghc"], changelogs=()) is None


def test_changelog_owners__default_shortened_and_timestamp_names__their_tables() -> None:
    long = "l" * 62
    tables = ["t", "_t_ghc", "u", "_u_gho", "_u_del", long, table_names(long).changelog]
    assert changelog_owners(tables) == {"t", long}
    assert changelog_owners(["t", "~t_20240131120000_ghc"], templates=TIMESTAMP_TEMPLATES) == {"t"}
    assert changelog_owners(["a~g", "a~d", "a"]) == frozenset()


def test_changelog_owners__two_templates__config_error() -> None:
    with pytest.raises(ConfigError, match="ghost, changelog and old"):
        changelog_owners(["t"], templates=("_{table}_gho", "_{table}_ghc"))


def test_classify_table__template_names__kinds_as_before() -> None:
    tables = ["t", "_t_gho", "_t_ghc", "_t_del"]
    assert classify_table("_t_gho", tables=tables) == ("ghost", "t")
    assert classify_table("_t_ghc", tables=tables) == ("changelog", "t")
    assert classify_table("_t_del", "", tables=tables) == ("old", "t")
    assert classify_table("_t_del", SENTRY_COMMENT, tables=tables) == ("sentry", "t")


def test_classify_table__two_templates__config_error() -> None:
    with pytest.raises(ConfigError, match="ghost, changelog and old"):
        classify_table("t~g", templates=("_{table}_gho", "_{table}_ghc"), tables=["t"])


def test_cutover_swap_names__suffixes__the_ones_cleanup_knows() -> None:
    # The cut-over builds the names itself; cleanup must follow if they ever change.
    fake = SimpleNamespace(original="orders", exists=lambda name: False)
    ghost, sentry = AtomicAttempt._swap_names(fake)  # type: ignore[arg-type]
    assert [suffix for suffix, _kind in CUTOVER_SUFFIXES] == [ghost[6:], sentry[6:]]
    tables = ["orders", table_names("orders").changelog]
    assert classify_table(ghost, tables=tables) == ("ghost", "orders")
    assert classify_table(sentry, SENTRY_COMMENT, tables=tables) == ("sentry", "orders")
