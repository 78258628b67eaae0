"""Statement classification and index-DDL rewriting, as strings."""

from __future__ import annotations

import pytest

from django_ghost.backends.mysql.sql import ClauseKind, Kind, classify, split_clauses


def test_classify__alter_with_comment_schema_and_semicolon__normalised() -> None:
    c = classify("/* why */ ALTER TABLE `db`.`t` ADD COLUMN `c` int NULL;")
    assert (c.kind, c.schema, c.table) == (Kind.ALTER, "db", "t")
    assert c.alter == "ALTER TABLE `t` ADD COLUMN `c` int NULL"
    assert c.clause_kinds == (ClauseKind.COPY,)


def test_classify__create_index__rewritten_to_alter() -> None:
    c = classify("CREATE INDEX `t_c_idx` ON `t` (`c`, `d` DESC)")
    assert c.kind is Kind.ALTER
    assert c.alter == "ALTER TABLE `t` ADD INDEX `t_c_idx` (`c`, `d` DESC)"
    assert c.rewritten_from == "CREATE INDEX"


def test_classify__create_unique_index__rewritten_with_kind() -> None:
    c = classify("CREATE UNIQUE INDEX u ON t ((lower(c)))")
    assert c.alter == "ALTER TABLE `t` ADD UNIQUE INDEX u ((lower(c)))"


def test_classify__drop_index_on__rewritten_metadata_only() -> None:
    c = classify("DROP INDEX `i` ON `t`")
    assert c.alter == "ALTER TABLE `t` DROP INDEX `i`"
    assert c.metadata_only


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("CREATE TABLE `t` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY)", Kind.CREATE_TABLE),
        ("DROP TABLE `t` CASCADE", Kind.DROP_TABLE),
        ("UPDATE `t` SET `c` = 1 WHERE `c` IS NULL", Kind.DML),
        ("RENAME TABLE `a` TO `b`", Kind.RENAME_TABLE),
        ("ALTER TABLE a ADD x int; ALTER TABLE b ADD y int", Kind.MULTI),
        ("-- only a comment", Kind.EMPTY),
        ("SELECT 1", Kind.OTHER),
    ],
)
def test_classify__statement_kinds__recognised(sql: str, kind: Kind) -> None:
    assert classify(sql).kind is kind


def test_classify__create_table__table_name() -> None:
    assert classify("CREATE TABLE IF NOT EXISTS `x` (a int)").table == "x"


@pytest.mark.parametrize(
    ("clause", "kind"),
    [
        ("ALTER COLUMN `c` DROP DEFAULT", ClauseKind.DEFAULT_ONLY),
        ("ALTER COLUMN `c` SET DEFAULT 'x'", ClauseKind.DEFAULT_ONLY),
        ("RENAME COLUMN `a` TO `b`", ClauseKind.RENAME_COLUMN),
        ("RENAME INDEX `a` TO `b`", ClauseKind.RENAME_INDEX),
        ("RENAME TO `b`", ClauseKind.RENAME_TABLE),
        ("DROP INDEX `u`", ClauseKind.DROP_INDEX),
        ("DROP CONSTRAINT IF EXISTS `ck`", ClauseKind.DROP_CHECK),
        ("ADD CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `p` (`id`)", ClauseKind.FOREIGN_KEY),
        ("DROP FOREIGN KEY `f`", ClauseKind.FOREIGN_KEY),
        ("MODIFY `c` varchar(40) NOT NULL", ClauseKind.COPY),
        ("ADD CONSTRAINT `u` UNIQUE (`c`)", ClauseKind.COPY),
    ],
)
def test_classify__alter_clauses__kinds(clause: str, kind: ClauseKind) -> None:
    assert classify(f"ALTER TABLE t {clause}").clause_kinds == (kind,)


def test_split_clauses__commas_in_parens_and_strings__kept() -> None:
    text = "ADD COLUMN c enum('a,b','c') NULL, ADD INDEX i (a, b), COMMENT = 'x, y'"
    assert split_clauses(text) == [
        "ADD COLUMN c enum('a,b','c') NULL",
        "ADD INDEX i (a, b)",
        "COMMENT = 'x, y'",
    ]


def test_classify__add_not_null_with_default_then_drop__default_only_detected() -> None:
    add = classify("ALTER TABLE `t` ADD COLUMN `c` integer DEFAULT 0 NOT NULL")
    drop = classify("ALTER TABLE `t` ALTER COLUMN `c` DROP DEFAULT")
    assert not add.default_only
    assert drop.default_only and drop.metadata_only
