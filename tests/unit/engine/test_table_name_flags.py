"""gh-ost's --force-table-names and --timestamp-old-table, and --storage-engine: the
helper table names a config asks for (sql/names.names_of) and what is refused."""

from __future__ import annotations

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import names_of, templates_of

STAMP = "20240131120000"


def test_names_of__defaults__gh_ost_names() -> None:
    names = names_of(GhostConfig(table="orders"))
    assert (names.original, *names.helpers) == (
        "orders",
        "_orders_gho",
        "_orders_ghc",
        "_orders_del",
    )


def test_names_of__force_table_names__prefix_replaces_the_table_in_every_helper() -> None:
    names = names_of(GhostConfig(table="orders", force_table_names="tmp1"))
    assert names.original == "orders"
    assert names.helpers == ("_tmp1_gho", "_tmp1_ghc", "_tmp1_del")


def test_names_of__force_table_names_with_templates__templates_still_apply() -> None:
    config = GhostConfig(table="orders", force_table_names="x", ghost_table_template="{table}__new")
    assert names_of(config).ghost == "x__new"


def test_names_of__long_forced_name__shortened_to_64() -> None:
    names = names_of(GhostConfig(table="t", force_table_names="p" * 64))
    assert all(len(name) <= 64 for name in names.helpers)
    assert len(set(names.helpers)) == 3


def test_names_of__timestamp_old_table__stamped_old_table_only() -> None:
    config = GhostConfig(table="orders", timestamp_old_table=True)
    names = names_of(config, STAMP)
    assert names.old == f"_orders_{STAMP}_del"
    assert (names.ghost, names.changelog) == ("_orders_gho", "_orders_ghc")
    assert names_of(config, "20240131120001").old != names.old


def test_names_of__timestamp_old_table_and_force_table_names__both_apply() -> None:
    config = GhostConfig(table="orders", timestamp_old_table=True, force_table_names="p")
    assert names_of(config, STAMP).old == f"_p_{STAMP}_del"


def test_templates_of__timestamp_already_in_old_template__kept() -> None:
    config = GhostConfig(timestamp_old_table=True, old_table_template="_{table}_{timestamp}_old")
    config.validate()
    assert templates_of(config)[2] == "_{table}_{timestamp}_old"


def test_config_validate__timestamp_old_table_with_other_old_template__refused() -> None:
    config = GhostConfig(timestamp_old_table=True, old_table_template="{table}_old")
    with pytest.raises(ConfigError, match=r"put \{timestamp\} in the template"):
        config.validate()


@pytest.mark.parametrize("prefix", ["a" * 65, " x", "a\x00b"])
def test_config_validate__bad_force_table_names__refused(prefix: str) -> None:
    with pytest.raises(ConfigError, match="force_table_names"):
        GhostConfig(force_table_names=prefix).validate()


def test_config_validate__storage_engine__innodb_only() -> None:
    GhostConfig(storage_engine="InnoDB").validate()
    with pytest.raises(ConfigError, match="storage_engine='rocksdb'.*InnoDB tables only"):
        GhostConfig(storage_engine="rocksdb").validate()
