"""parse_alter: input forms, column bookkeeping and refusals, checked as strings."""

from __future__ import annotations

import dataclasses

import pytest

from django_ghost.engine.errors import UnsupportedAlterError
from django_ghost.engine.sql.alter import ParsedAlter, parse_alter

# -- input forms -----------------------------------------------------------------------------


def test_parse_alter__bare_clause_list__kept_verbatim() -> None:
    parsed = parse_alter("ADD COLUMN x INT, DROP COLUMN y")
    assert parsed.statements == ("ADD COLUMN x INT, DROP COLUMN y",)
    assert parsed.table is None
    assert parsed.database is None


def test_parse_alter__bare_clause_list_with_table_argument__table_stays_none() -> None:
    assert parse_alter("ADD COLUMN x INT", table="t").table is None


@pytest.mark.parametrize(
    ("text", "database", "table"),
    [
        ("ALTER TABLE t ADD COLUMN x INT", None, "t"),
        ("ALTER TABLE `t` ADD COLUMN x INT", None, "t"),
        ("ALTER TABLE `db`.`t` ADD COLUMN x INT", "db", "t"),
        ("ALTER TABLE db.t ADD COLUMN x INT", "db", "t"),
        ("ALTER TABLE `db`.t ADD COLUMN x INT", "db", "t"),
        ("ALTER TABLE db . `t` ADD COLUMN x INT", "db", "t"),
        ("alter table T add column x int", None, "T"),
        ("ALTER TABLE `db.t` ADD COLUMN x INT", None, "db.t"),
        ("ALTER TABLE `a``b` ADD COLUMN x INT", None, "a`b"),
        ("ALTER TABLE żółw ADD COLUMN x INT", None, "żółw"),
        ("ALTER TABLE 1t ADD COLUMN x INT", None, "1t"),
    ],
)
def test_parse_alter__statement_quoting_styles__name_unquoted(
    text: str, database: str | None, table: str
) -> None:
    parsed = parse_alter(text)
    assert (parsed.database, parsed.table) == (database, table)
    assert parsed.statements[0].lower() == "add column x int"


def test_parse_alter__leading_comments_and_trailing_semicolon__stripped() -> None:
    text = "  -- why\n# note\n/* block */\n  ALTER TABLE t ADD COLUMN x INT ;  \n"
    parsed = parse_alter(text)
    assert parsed.statements == ("ADD COLUMN x INT",)
    assert parsed.table == "t"


def test_parse_alter__bare_clauses_with_trailing_semicolon__accepted() -> None:
    assert parse_alter("ADD COLUMN x INT;").statements == ("ADD COLUMN x INT",)


def test_parse_alter__comment_between_clauses__dropped_from_clause() -> None:
    parsed = parse_alter("ADD COLUMN x INT -- the x\n, DROP COLUMN y # gone\n")
    assert parsed.statements == ("ADD COLUMN x INT, DROP COLUMN y",)


def test_parse_alter__double_dash_without_space__not_a_comment() -> None:
    parsed = parse_alter("ADD COLUMN x INT DEFAULT 1--1")
    assert parsed.statements == ("ADD COLUMN x INT DEFAULT 1--1",)


def test_parse_alter__multiline_statement__keeps_inner_text() -> None:
    parsed = parse_alter("ALTER TABLE t\n  ADD COLUMN x INT\n    NOT NULL,\n  DROP COLUMN y")
    assert parsed.statements == ("ADD COLUMN x INT\n    NOT NULL, DROP COLUMN y",)


def test_parse_alter__mariadb_online_and_if_exists__accepted() -> None:
    parsed = parse_alter("ALTER ONLINE TABLE IF EXISTS t NOWAIT ADD COLUMN x INT")
    assert parsed.table == "t"
    assert parsed.statements == ("ADD COLUMN x INT",)


def test_parse_alter__mariadb_wait__dropped() -> None:
    assert parse_alter("ALTER TABLE t WAIT 5 DROP COLUMN y").statements == ("DROP COLUMN y",)


def test_parse_alter__several_statements__each_kept_in_order() -> None:
    # What Django emits for AlterField NULL -> NOT NULL with a default.
    text = (
        "ALTER TABLE `shop_order` ALTER COLUMN `note` SET DEFAULT 'n/a';\n"
        "ALTER TABLE `shop_order` MODIFY `note` varchar(40) NOT NULL;\n"
        "ALTER TABLE `shop_order` ALTER COLUMN `note` DROP DEFAULT;"
    )
    parsed = parse_alter(text, table="shop_order")
    assert parsed.statements == (
        "ALTER COLUMN `note` SET DEFAULT 'n/a'",
        "MODIFY `note` varchar(40) NOT NULL",
        "ALTER COLUMN `note` DROP DEFAULT",
    )
    assert parsed.modified_columns == {"note"}
    assert parsed.dropped_columns == frozenset()


def test_parse_alter__statements_with_and_without_database__database_kept() -> None:
    parsed = parse_alter("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE db.t DROP COLUMN y")
    assert parsed.database == "db"


def test_parse_alter__alter_statements__prefixed_with_target() -> None:
    parsed = parse_alter("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE t DROP COLUMN y")
    assert parsed.alter_statements("`_t_gho`") == (
        "ALTER TABLE `_t_gho` ADD COLUMN x INT",
        "ALTER TABLE `_t_gho` DROP COLUMN y",
    )


def test_parse_alter__result__frozen_and_hashable() -> None:
    parsed = parse_alter("CHANGE a b INT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.table = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        parsed.renamed_columns["c"] = "d"  # type: ignore[index]
    assert hash(parsed) == hash(parse_alter("CHANGE a b INT"))
    assert isinstance(parsed, ParsedAlter)


# -- tokenizer: strings, identifiers, nesting ------------------------------------------------


def test_parse_alter__default_string_with_comma__one_clause() -> None:
    parsed = parse_alter("ADD COLUMN x VARCHAR(10) DEFAULT 'a,b', DROP COLUMN y")
    assert parsed.statements == ("ADD COLUMN x VARCHAR(10) DEFAULT 'a,b', DROP COLUMN y",)
    assert parsed.added_columns == {"x"}
    assert parsed.dropped_columns == {"y"}


@pytest.mark.parametrize(
    "literal",
    ["'it''s, ok'", "'it\\'s, ok'", '"say ""hi"", ok"', '"back\\\\, DROP COLUMN z"'],
)
def test_parse_alter__escaped_quotes_in_strings__not_split(literal: str) -> None:
    parsed = parse_alter(f"ADD COLUMN x TEXT COMMENT {literal}")
    assert parsed.added_columns == {"x"}
    assert parsed.dropped_columns == frozenset()


def test_parse_alter__string_ending_in_escaped_backslash__closes_there() -> None:
    parsed = parse_alter("ADD COLUMN x TEXT DEFAULT 'c:\\\\', DROP COLUMN z")
    assert parsed.dropped_columns == {"z"}


def test_parse_alter__comma_inside_parentheses__not_split() -> None:
    parsed = parse_alter("ADD COLUMN x DECIMAL(10, 2), ADD COLUMN y ENUM('a', 'b')")
    assert parsed.added_columns == {"x", "y"}


def test_parse_alter__backtick_identifier_with_comma_and_backtick__one_name() -> None:
    parsed = parse_alter("ADD COLUMN `a,``b` INT")
    assert parsed.added_columns == {"a,`b"}


def test_parse_alter__column_named_exchange__not_a_rename() -> None:
    # gh-ost localtest rename-none-column.
    parsed = parse_alter("ADD COLUMN exchange INT, ADD COLUMN `change` INT")
    assert parsed.renamed_columns == {}
    assert parsed.added_columns == {"exchange", "change"}


def test_parse_alter__comment_saying_change_a_b__not_a_rename() -> None:
    # gh-ost localtest rename-none-comment.
    parsed = parse_alter("MODIFY c INT COMMENT 'we change a b, rename column a to b'")
    assert parsed.renamed_columns == {}
    assert parsed.modified_columns == {"c"}


def test_parse_alter__generated_column_expression__nested_parentheses_ok() -> None:
    parsed = parse_alter("ADD COLUMN total INT AS ((a + b) * (c, d)) STORED, DROP COLUMN e")
    assert parsed.added_columns == {"total"}
    assert parsed.dropped_columns == {"e"}


# -- columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "CHANGE a b INT",
        "CHANGE COLUMN a b INT",
        "CHANGE COLUMN `a` `b` INT",
        "CHANGE COLUMN IF EXISTS a b INT",
        "RENAME COLUMN a TO b",
        "RENAME COLUMN `a` TO `b`",
        "rename column A to B",
    ],
)
def test_parse_alter__rename__recorded(text: str) -> None:
    assert parse_alter(text).renamed_columns == {"a": "b"}


def test_parse_alter__change_same_name__reorder_not_rename() -> None:
    parsed = parse_alter("CHANGE a a INT AFTER b")
    assert parsed.renamed_columns == {}
    assert parsed.modified_columns == {"a"}


def test_parse_alter__change_case_only__not_rename() -> None:
    parsed = parse_alter("CHANGE `name` `Name` VARCHAR(10)")
    assert parsed.renamed_columns == {}
    assert parsed.modified_columns == {"name"}


def test_parse_alter__change_target__modified() -> None:
    assert parse_alter("CHANGE a b BIGINT").modified_columns == {"b"}


def test_parse_alter__rename_column__not_modified() -> None:
    assert parse_alter("RENAME COLUMN a TO b").modified_columns == frozenset()


def test_parse_alter__chained_renames_across_statements__resolved() -> None:
    parsed = parse_alter("ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t CHANGE b c INT")
    assert parsed.renamed_columns == {"a": "c"}
    assert parsed.modified_columns == {"c"}


def test_parse_alter__rename_there_and_back__no_rename() -> None:
    parsed = parse_alter("ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t RENAME COLUMN b TO a")
    assert parsed.renamed_columns == {}


def test_parse_alter__swap_in_one_statement__both_renamed() -> None:
    parsed = parse_alter("CHANGE a b INT, CHANGE b a INT")
    assert parsed.renamed_columns == {"a": "b", "b": "a"}


def test_parse_alter__drop_then_rename_into_name__rename_and_drop() -> None:
    parsed = parse_alter("DROP COLUMN a, CHANGE b a INT")
    assert parsed.renamed_columns == {"b": "a"}
    assert parsed.dropped_columns == {"a"}


def test_parse_alter__clauses_refer_to_names_before_statement__drop_hits_original() -> None:
    parsed = parse_alter("CHANGE b a INT, DROP a")
    assert parsed.dropped_columns == {"a"}
    assert parsed.renamed_columns == {"b": "a"}


def test_parse_alter__renamed_then_dropped__original_dropped_no_rename() -> None:
    parsed = parse_alter("ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t DROP COLUMN b")
    assert parsed.renamed_columns == {}
    assert parsed.dropped_columns == {"a"}


def test_parse_alter__drop_and_readd__dropped_and_added() -> None:
    # gh-ost localtest drop-null-add-not-null: the new column must not get the old data.
    parsed = parse_alter("DROP COLUMN c, ADD COLUMN c INT NOT NULL DEFAULT 0")
    assert parsed.dropped_columns == {"c"}
    assert parsed.added_columns == {"c"}


def test_parse_alter__added_then_renamed__added_under_new_name() -> None:
    parsed = parse_alter("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE t RENAME COLUMN x TO y")
    assert parsed.added_columns == {"y"}
    assert parsed.renamed_columns == {}


def test_parse_alter__added_then_dropped__neither() -> None:
    parsed = parse_alter("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE t DROP COLUMN x")
    assert parsed.added_columns == frozenset()
    assert parsed.dropped_columns == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "DROP COLUMN y",
        "DROP y",
        "DROP `y`",
        "DROP COLUMN IF EXISTS y",
        "DROP IF EXISTS y",
        "drop column Y",
    ],
)
def test_parse_alter__drop_column__recorded(text: str) -> None:
    assert parse_alter(text).dropped_columns == {"y"}


def test_parse_alter__drop_column_quoted_keyword_name__recorded() -> None:
    assert parse_alter("DROP `index`, DROP COLUMN `key`").dropped_columns == {"index", "key"}


@pytest.mark.parametrize(
    "text",
    [
        "DROP INDEX idx",
        "DROP KEY idx",
        "DROP INDEX IF EXISTS idx",
        "DROP FOREIGN KEY fk",
        "DROP CHECK chk",
        "DROP CONSTRAINT IF EXISTS chk",
        "DROP SYSTEM VERSIONING",
        "ALTER COLUMN x DROP DEFAULT",
        "ALTER x DROP DEFAULT",
    ],
)
def test_parse_alter__drop_non_column__no_dropped_column(text: str) -> None:
    parsed = parse_alter(text)
    assert parsed.dropped_columns == frozenset()
    assert parsed.drops_primary_key is False


@pytest.mark.parametrize(
    "text",
    [
        "DROP PRIMARY KEY",
        "DROP INDEX `PRIMARY`",
        "DROP KEY `primary`",
        "DROP CONSTRAINT `PRIMARY`",
    ],
)
def test_parse_alter__drop_primary_key__flagged(text: str) -> None:
    parsed = parse_alter(text)
    assert parsed.drops_primary_key is True
    assert parsed.dropped_columns == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "ADD COLUMN x INT",
        "ADD x INT",
        "ADD `x` INT",
        "ADD COLUMN IF NOT EXISTS x INT",
        "ADD IF NOT EXISTS x INT",
        "ADD COLUMN X INT FIRST",
    ],
)
def test_parse_alter__add_column__recorded(text: str) -> None:
    parsed = parse_alter(text)
    assert parsed.added_columns == {"x"}
    assert parsed.adds_unique_or_primary is False


def test_parse_alter__add_column_list__each_recorded() -> None:
    parsed = parse_alter("ADD COLUMN (a INT, `b` VARCHAR(3) DEFAULT 'x,y', INDEX (a))")
    assert parsed.added_columns == {"a", "b"}
    assert parsed.adds_unique_or_primary is False


def test_parse_alter__add_column_list_with_unique__flagged() -> None:
    parsed = parse_alter("ADD (a INT, UNIQUE KEY (a))")
    assert parsed.added_columns == {"a"}
    assert parsed.adds_unique_or_primary is True


@pytest.mark.parametrize(
    "text",
    [
        "ADD INDEX idx (a)",
        "ADD KEY (a)",
        "ADD FULLTEXT INDEX ft (t)",
        "ADD SPATIAL INDEX sp (g)",
        "ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id)",
        "ADD CONSTRAINT chk CHECK (a > 0)",
        "ADD CHECK (a > 0)",
        "ADD COLUMN x INT COMMENT 'unique primary key'",
    ],
)
def test_parse_alter__add_non_unique__no_column_no_flag(text: str) -> None:
    parsed = parse_alter(text)
    assert parsed.adds_unique_or_primary is False
    assert parsed.dropped_columns == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "ADD UNIQUE (a)",
        "ADD UNIQUE KEY uk (a)",
        "ADD UNIQUE INDEX uk (a)",
        "ADD PRIMARY KEY (a, b)",
        "ADD CONSTRAINT uk UNIQUE (a)",
        "ADD CONSTRAINT `x_uniq` UNIQUE (`a`)",
        "ADD CONSTRAINT UNIQUE (a)",
        "ADD CONSTRAINT pk PRIMARY KEY (a)",
        "ADD COLUMN x INT UNIQUE",
        "ADD COLUMN x INT NOT NULL PRIMARY KEY",
        "MODIFY x INT UNIQUE KEY",
        "CHANGE x x INT KEY",
    ],
)
def test_parse_alter__add_unique_or_primary__flagged(text: str) -> None:
    assert parse_alter(text).adds_unique_or_primary is True


def test_parse_alter__add_unique_column__column_added_too() -> None:
    parsed = parse_alter("ADD COLUMN x INT UNIQUE")
    assert parsed.added_columns == {"x"}


@pytest.mark.parametrize("text", ["MODIFY x BIGINT", "MODIFY COLUMN `x` BIGINT NULL"])
def test_parse_alter__modify__recorded(text: str) -> None:
    assert parse_alter(text).modified_columns == {"x"}


def test_parse_alter__alter_column_set_default__no_column_effect() -> None:
    parsed = parse_alter("ALTER COLUMN x SET DEFAULT %s")
    assert parsed.statements == ("ALTER COLUMN x SET DEFAULT %s",)
    assert parsed.modified_columns == frozenset()


def test_parse_alter__rename_index__accepted_no_column_effect() -> None:
    parsed = parse_alter("RENAME INDEX a TO b, RENAME KEY c TO d")
    assert parsed.renamed_columns == {}


# -- table options, ALGORITHM, LOCK ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "engine"),
    [
        ("ENGINE=InnoDB", "InnoDB"),
        ("ENGINE = InnoDB", "InnoDB"),
        ("engine innodb", "innodb"),
        ("ENGINE='Aria'", "Aria"),
        ("DEFAULT CHARSET=utf8mb4 ENGINE=InnoDB", "InnoDB"),
        ("ADD COLUMN engine INT, ENGINE=MyISAM", "MyISAM"),
        ("ADD COLUMN engine INT", None),
        ("COMMENT 'ENGINE=x'", None),
    ],
)
def test_parse_alter__engine__recorded(text: str, engine: str | None) -> None:
    assert parse_alter(text).engine == engine


@pytest.mark.parametrize(
    ("text", "counter"),
    [
        ("AUTO_INCREMENT=1000", 1000),
        ("ADD COLUMN x INT, AUTO_INCREMENT = 5", 5),
        ("ENGINE=InnoDB AUTO_INCREMENT 7", 7),
        ("ALTER TABLE t AUTO_INCREMENT=3; ALTER TABLE t AUTO_INCREMENT=9", 9),
        ("MODIFY id BIGINT NOT NULL AUTO_INCREMENT", None),
        ("ADD COLUMN n INT AUTO_INCREMENT, ADD KEY (n)", None),
        ("COMMENT 'AUTO_INCREMENT=4'", None),
    ],
)
def test_parse_alter__auto_increment_option__recorded_and_kept(
    text: str, counter: int | None
) -> None:
    parsed = parse_alter(text)
    assert parsed.auto_increment == counter
    assert "AUTO_INCREMENT" in " ".join(parsed.statements)


def test_parse_alter__auto_increment_without_number__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="AUTO_INCREMENT needs a number"):
        parse_alter("AUTO_INCREMENT=")


def test_parse_alter__algorithm_and_lock__stripped_and_recorded() -> None:
    parsed = parse_alter("ALTER TABLE t ADD COLUMN x INT, ALGORITHM=INPLACE, LOCK = none")
    assert parsed.statements == ("ADD COLUMN x INT",)
    assert parsed.algorithm == "INPLACE"
    assert parsed.lock == "NONE"


def test_parse_alter__algorithm_first__stripped() -> None:
    parsed = parse_alter("ALGORITHM=COPY, ADD COLUMN x INT")
    assert parsed.statements == ("ADD COLUMN x INT",)
    assert parsed.algorithm == "COPY"


def test_parse_alter__statement_with_only_algorithm__dropped_from_statements() -> None:
    parsed = parse_alter("ALTER TABLE t ALGORITHM=INSTANT; ALTER TABLE t ADD COLUMN x INT")
    assert parsed.statements == ("ADD COLUMN x INT",)


def test_parse_alter__column_named_lock__not_stripped() -> None:
    parsed = parse_alter("ADD COLUMN `lock` INT, ALTER COLUMN lock SET DEFAULT 1")
    assert parsed.statements == ("ADD COLUMN `lock` INT, ALTER COLUMN lock SET DEFAULT 1",)
    assert parsed.lock is None


def test_parse_alter__algorithm_without_comma__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="own comma-separated clause"):
        parse_alter("ENGINE=InnoDB ALGORITHM=COPY")


def test_parse_alter__only_algorithm_and_lock__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="nothing to change.*ENGINE=InnoDB or FORCE"):
        parse_alter("ALTER TABLE t ALGORITHM=INPLACE, LOCK=NONE")


@pytest.mark.parametrize(
    "text",
    ["FORCE", "CONVERT TO CHARACTER SET utf8mb4", "COMMENT = 'x, y'", "AUTO_INCREMENT=100"],
)
def test_parse_alter__table_options__accepted_verbatim(text: str) -> None:
    assert parse_alter(f"ALTER TABLE t {text}").statements == (text,)


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", ";", " ; ;", "-- only a comment\n", "/* x */"])
def test_parse_alter__empty__refused(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="empty"):
        parse_alter(text)


@pytest.mark.parametrize(
    "text",
    [
        "ALTER TABLE t RENAME TO u",
        "ALTER TABLE t RENAME AS u",
        "ALTER TABLE t RENAME u",
        "ADD COLUMN x INT, RENAME TO `u`",
    ],
)
def test_parse_alter__table_rename__refused(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="renames the table.*RENAME TABLE directly"):
        parse_alter(text)


@pytest.mark.parametrize(
    "text",
    [
        "DROP TABLE t",
        "RENAME TABLE t TO u",
        "TRUNCATE TABLE t",
        "TRUNCATE t",
        "UPDATE t SET a = 1",
        "INSERT INTO t VALUES (1)",
        "CREATE TABLE u (id INT)",
        "ALTER DATABASE d CHARACTER SET utf8mb4",
        "ALTER VIEW v AS SELECT 1",
        "LOCK TABLES t WRITE",
        "OPTIMIZE TABLE t",
        "ALTER TABLE t ADD COLUMN x INT; DROP TABLE t",
    ],
)
def test_parse_alter__not_alter_table__refused(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="is not an ALTER TABLE statement"):
        parse_alter(text)


@pytest.mark.parametrize(
    "text",
    ["CREATE INDEX i ON t (a)", "CREATE UNIQUE INDEX i ON t (a)", "DROP INDEX i ON t"],
)
def test_parse_alter__standalone_index_ddl__refused_pointing_to_alter_form(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="ALTER TABLE ... ADD/DROP INDEX"):
        parse_alter(text)


def test_parse_alter__statements_on_different_tables__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match=r"different tables \(t, u\)"):
        parse_alter("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE u ADD COLUMN x INT")


def test_parse_alter__statements_on_different_databases__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match=r"different databases \(a, b\)"):
        parse_alter("ALTER TABLE a.t ADD COLUMN x INT; ALTER TABLE b.t ADD COLUMN x INT")


def test_parse_alter__table_differs_from_argument__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="names table 'u' but the migration is for 't'"):
        parse_alter("ALTER TABLE u ADD COLUMN x INT", table="t")


def test_parse_alter__table_matches_argument__accepted() -> None:
    assert parse_alter("ALTER TABLE `db`.`t` ADD COLUMN x INT", table="t").table == "t"


def test_parse_alter__bare_clauses_mixed_with_statements__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="not all start with ALTER TABLE"):
        parse_alter("ADD COLUMN x INT; ALTER TABLE t DROP COLUMN y")


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("ADD COLUMN x VARCHAR(3) DEFAULT 'abc", "never closed; add the closing '"),
        ('ADD COLUMN x VARCHAR(3) DEFAULT "abc', 'never closed; add the closing "'),
        ("ADD COLUMN x VARCHAR(3) DEFAULT 'abc\\'", "never closed"),
        ("ADD COLUMN `x INT", "never closed; add the closing backtick"),
        ("ADD COLUMN x DECIMAL(10, 2", r"1 unclosed '\('"),
        ("ADD COLUMN x DECIMAL 10, 2)", r"'\)' without a matching '\('"),
        ("ADD COLUMN x INT /* unfinished", "never closed; add the closing"),
    ],
)
def test_parse_alter__unbalanced__refused(text: str, cause: str) -> None:
    with pytest.raises(UnsupportedAlterError, match=cause):
        parse_alter(text)


@pytest.mark.parametrize(
    "text",
    [
        "PARTITION BY HASH (id) PARTITIONS 4",
        "ENGINE=InnoDB PARTITION BY KEY (id)",
        "ADD COLUMN x INT PARTITION BY HASH (id)",
        "REMOVE PARTITIONING",
        "ADD PARTITION (PARTITION p3 VALUES LESS THAN (30))",
        "DROP PARTITION p1",
        "TRUNCATE PARTITION p1",
        "REORGANIZE PARTITION p1 INTO (PARTITION p2 VALUES LESS THAN (10))",
        "EXCHANGE PARTITION p1 WITH TABLE u",
        "COALESCE PARTITION 2",
    ],
)
def test_parse_alter__partitioning__refused(text: str) -> None:
    with pytest.raises(
        UnsupportedAlterError, match="partitions.*run partition operations directly"
    ):
        parse_alter(text)


@pytest.mark.parametrize("text", ["DISCARD TABLESPACE", "IMPORT TABLESPACE"])
def test_parse_alter__tablespace__refused(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="tablespace.*run it directly"):
        parse_alter(f"ALTER TABLE t {text}")


def test_parse_alter__alter_ignore__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="IGNORE.*remove the duplicates"):
        parse_alter("ALTER IGNORE TABLE t ADD UNIQUE (a)")


def test_parse_alter__executable_comment__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="executable comment"):
        parse_alter("ALTER TABLE t /*!50100 PARTITION BY HASH (id) */ ENGINE=InnoDB")


def test_parse_alter__no_clauses__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="has no clauses"):
        parse_alter("ALTER TABLE t;")


@pytest.mark.parametrize("text", ["ADD COLUMN x INT,", "ADD COLUMN x INT,, DROP y"])
def test_parse_alter__empty_clause__refused(text: str) -> None:
    with pytest.raises(UnsupportedAlterError, match="empty clause"):
        parse_alter(text)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("ALTER TABLE 'quoted' ADD x INT", "Expected a table name"),
        ("ALTER TABLE db.", "Expected a table name after the database name"),
        ("CHANGE a", "Expected the new column name"),
        ("RENAME COLUMN a b", "write RENAME COLUMN old TO new"),
        ("'x' INT", "Cannot read the clause"),
        ("DROP COLUMN", "Expected a column name"),
    ],
)
def test_parse_alter__malformed_clause__refused(text: str, cause: str) -> None:
    with pytest.raises(UnsupportedAlterError, match=cause):
        parse_alter(text)


# -- what Django emits -----------------------------------------------------------------------


def test_parse_alter__django_five_statement_alter_field__all_kept_in_order() -> None:
    # AlterField removing unique, widening and making NOT NULL (adapters.md section 4).
    text = (
        "ALTER TABLE `shop_item` DROP INDEX `sku`;"
        "ALTER TABLE `shop_item` MODIFY `sku` varchar(40) NULL;"
        "ALTER TABLE `shop_item` ALTER COLUMN `sku` SET DEFAULT 'none';"
        "ALTER TABLE `shop_item` MODIFY `sku` varchar(40) NOT NULL;"
        "ALTER TABLE `shop_item` ALTER COLUMN `sku` DROP DEFAULT;"
    )
    parsed = parse_alter(text, table="shop_item")
    assert len(parsed.statements) == 5
    assert parsed.statements[0] == "DROP INDEX `sku`"
    assert parsed.modified_columns == {"sku"}
    assert parsed.dropped_columns == frozenset()
    assert parsed.drops_primary_key is False


def test_parse_alter__django_remove_fk_field__fk_then_column() -> None:
    text = (
        "ALTER TABLE `shop_order` DROP FOREIGN KEY `shop_order_customer_id_fk`;\n"
        "ALTER TABLE `shop_order` DROP COLUMN `customer_id`;"
    )
    parsed = parse_alter(text)
    assert parsed.dropped_columns == {"customer_id"}


def test_parse_alter__django_rename_field__rename_recorded() -> None:
    parsed = parse_alter("ALTER TABLE `shop_order` RENAME COLUMN `total` TO `amount`;")
    assert parsed.renamed_columns == {"total": "amount"}
    assert parsed.statements == ("RENAME COLUMN `total` TO `amount`",)


def test_parse_alter__trailing_line_comment_without_newline__ignored() -> None:
    assert parse_alter("ADD COLUMN x INT -- note").statements == ("ADD COLUMN x INT",)


def test_parse_alter__drop_index_if_exists_on_table__refused() -> None:
    with pytest.raises(UnsupportedAlterError, match="ADD/DROP INDEX"):
        parse_alter("DROP INDEX IF EXISTS i ON t")


def test_parse_alter__table_argument_differs_in_case__refused() -> None:
    # Table names are case-sensitive on Linux (lower_case_table_names=0).
    with pytest.raises(UnsupportedAlterError, match="names table 'T'"):
        parse_alter("ALTER TABLE T ADD COLUMN x INT", table="t")
