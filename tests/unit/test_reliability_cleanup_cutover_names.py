"""engine.cleanup without a server: the atomic cut-over's ``<t>~g`` and ``<t>~d`` names
are recognised as leftovers of ``t``, and only while ``t`` exists."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django_ghost.engine.cleanup import CUTOVER_SUFFIXES, classify_table
from django_ghost.engine.cutover import SENTRY_COMMENT, CutOver
from django_ghost.engine.errors import ConfigError


def test_classify_table__tilde_g_with_its_table__ghost_of_the_table() -> None:
    assert classify_table("t~g", tables=["t", "t~g"]) == ("ghost", "t")


def test_classify_table__tilde_d_with_sentry_comment__sentry() -> None:
    assert classify_table("t~d", SENTRY_COMMENT, tables=["t", "t~d"]) == ("sentry", "t")


def test_classify_table__tilde_d_without_sentry_comment__old_table() -> None:
    assert classify_table("t~d", "", tables=["t", "t~d"]) == ("old", "t")
    assert classify_table("t~d", "a comment", tables=["t", "t~d"]) == ("old", "t")


@pytest.mark.parametrize("name", ["x~g", "x~d"])
def test_classify_table__tilde_name_without_its_table__not_a_leftover(name: str) -> None:
    assert classify_table(name, SENTRY_COMMENT, tables=[name, "t"]) is None


@pytest.mark.parametrize("name", ["t", "t~x", "t~G", "t~", "~g", "~d", "t~gg", "t_g"])
def test_classify_table__original_or_other_names__not_a_leftover(name: str) -> None:
    assert classify_table(name, SENTRY_COMMENT, tables=["t", "", name]) is None


def test_classify_table__tilde_g_of_a_tilde_table__belongs_to_that_table() -> None:
    tables = ["t", "t~g", "t~g~g"]
    assert classify_table("t~g~g", tables=tables) == ("ghost", "t~g")
    assert classify_table("t~g", tables=tables) == ("ghost", "t")


def test_classify_table__odd_characters__owner_traced() -> None:
    odd = "we`ird t~d \u00e9"
    tables = [odd, f"{odd}~g", f"{odd}~d"]
    assert classify_table(f"{odd}~g", tables=tables) == ("ghost", odd)
    assert classify_table(f"{odd}~d", SENTRY_COMMENT, tables=tables) == ("sentry", odd)


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
    fake = SimpleNamespace(original="orders", _exists=lambda name: False)
    ghost, sentry = CutOver._swap_names(fake)  # type: ignore[arg-type]
    assert [suffix for suffix, _kind in CUTOVER_SUFFIXES] == [ghost[6:], sentry[6:]]
    assert classify_table(ghost, tables=["orders"]) == ("ghost", "orders")
    assert classify_table(sentry, SENTRY_COMMENT, tables=["orders"]) == ("sentry", "orders")
