"""Which ghost indexes are built after the copy, read from SHOW CREATE TABLE text."""

from __future__ import annotations

from django_ghost.engine.copy.deferred import plain_index_definitions

CREATE = """CREATE TABLE `t` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `k` int(11) NOT NULL DEFAULT 0,
  `c` varchar(120) NOT NULL,
  `e` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `e_uq` (`e`),
  KEY `k_1` (`k`),
  KEY `odd``name` (`c`(10),`k`) COMMENT 'prefix, then k',
  KEY `c_desc` (`c` DESC) USING BTREE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def test_plain_indexes__mixed_keys__only_plain_ones_in_order_verbatim() -> None:
    assert plain_index_definitions(CREATE) == [
        ("k_1", "KEY `k_1` (`k`)"),
        ("odd`name", "KEY `odd``name` (`c`(10),`k`) COMMENT 'prefix, then k'"),
        ("c_desc", "KEY `c_desc` (`c` DESC) USING BTREE"),
    ]


def test_plain_indexes__fulltext_present__none_deferred() -> None:
    with_fulltext = CREATE.replace(
        "  PRIMARY KEY (`id`),", "  PRIMARY KEY (`id`),\n  FULLTEXT KEY `ft` (`c`),"
    )

    assert plain_index_definitions(with_fulltext) == []


def test_plain_indexes__only_primary_and_unique__none() -> None:
    create = (
        "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  UNIQUE KEY `u` (`id`)\n)"
    )

    assert plain_index_definitions(create) == []


def test_plain_indexes__column_named_key__not_an_index() -> None:
    create = "CREATE TABLE `t` (\n  `KEY` int NOT NULL,\n  PRIMARY KEY (`KEY`)\n)"

    assert plain_index_definitions(create) == []
