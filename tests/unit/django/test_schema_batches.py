"""How the schema editor cuts a flushed batch before routing: default changes that follow
a copying statement move to the end of their part (the router runs trailing ones direct,
after the online copy), unless a later statement names their column."""

from __future__ import annotations

from django_ghost.backends.mysql.router import Captured
from django_ghost.backends.mysql.schema import defaults_after_copy
from django_ghost.backends.mysql.sql import classify

ADD = "ALTER TABLE `t` ADD COLUMN `c` integer DEFAULT 0 NOT NULL"
DROP_DEFAULT = "ALTER TABLE `t` ALTER COLUMN `c` DROP DEFAULT"
MODIFY_OTHER = "ALTER TABLE `t` MODIFY `q` bigint NOT NULL"
INDEX_OTHER = "ALTER TABLE `t` ADD INDEX `t_q` (`q`)"
INDEX_C = "ALTER TABLE `t` ADD INDEX `t_c_q` (`c`, `q`)"
SET_DEFAULT_Q = "ALTER TABLE `t` ALTER COLUMN `q` SET DEFAULT 1"


def _parts(*sql: str) -> list[list[str]]:
    batch = [Captured(s, None, s, classify(s)) for s in sql]
    return [[c.rendered for c in part] for part in defaults_after_copy(batch)]


def test_defaults_after_copy__add_field_then_other_alters__drop_default_moved_last() -> None:
    parts = _parts(ADD, DROP_DEFAULT, MODIFY_OTHER, INDEX_OTHER)
    assert parts == [[ADD, MODIFY_OTHER, INDEX_OTHER, DROP_DEFAULT]]


def test_defaults_after_copy__later_statement_names_the_column__cut_after_the_default() -> None:
    parts = _parts(ADD, DROP_DEFAULT, MODIFY_OTHER, INDEX_C)
    assert parts == [[ADD, MODIFY_OTHER, DROP_DEFAULT], [INDEX_C]]


def test_defaults_after_copy__default_before_any_copy__left_in_place() -> None:
    assert _parts(SET_DEFAULT_Q, ADD) == [[SET_DEFAULT_Q, ADD]]


def test_defaults_after_copy__already_trailing__unchanged() -> None:
    assert _parts(ADD, DROP_DEFAULT) == [[ADD, DROP_DEFAULT]]
    assert _parts(MODIFY_OTHER) == [[MODIFY_OTHER]]
