"""Triggers carried to the new table: options, new names, their checks, the statement."""

from __future__ import annotations

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import ghost_trigger_name
from django_ghost.engine.table.triggers import Trigger, create_trigger_sql, definer_clause
from django_ghost.engine.topology.triggers import (
    definer_problems,
    name_problems,
    new_trigger_names,
)


def _trigger(name: str = "t_ai", definer: str = "ghost@%") -> Trigger:
    return Trigger(
        name=name,
        timing="AFTER",
        event="INSERT",
        statement="INSERT INTO audit (id) VALUES (NEW.id)",
        definer=definer,
        sql_mode="STRICT_TRANS_TABLES",
        collation_connection="utf8mb4_general_ci",
    )


def _config(**options: object) -> GhostConfig:
    return GhostConfig(**{"include_triggers": True, "trigger_suffix": "_new", **options})  # type: ignore[arg-type]


# -- options ---------------------------------------------------------------------------


def test_validate__include_triggers_and_suffix__accepted() -> None:
    assert _config().validate().trigger_suffix == "_new"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include_triggers": True}, "include_triggers needs trigger_suffix"),
        ({"trigger_suffix": "_new"}, "trigger_suffix is only used with include_triggers"),
        ({"remove_trigger_suffix_if_exists": True}, "remove_trigger_suffix_if_exists is only"),
        ({"include_triggers": True, "trigger_suffix": "-new"}, "letters, digits and underscores"),
        ({"include_triggers": True, "trigger_suffix": "_n w"}, "letters, digits and underscores"),
    ],
)
def test_validate__bad_trigger_options__refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GhostConfig(**options).validate()  # type: ignore[arg-type]


# -- names -----------------------------------------------------------------------------


def test_ghost_trigger_name__plain__suffix_appended() -> None:
    assert ghost_trigger_name("audit_ai", "_new", remove_suffix=False) == "audit_ai_new"


def test_ghost_trigger_name__already_suffixed_without_removal__appended_again() -> None:
    assert ghost_trigger_name("audit_ai_new", "_new", remove_suffix=False) == "audit_ai_new_new"


def test_ghost_trigger_name__already_suffixed_with_removal__suffix_removed() -> None:
    assert ghost_trigger_name("audit_ai_new", "_new", remove_suffix=True) == "audit_ai"


def test_ghost_trigger_name__repeated_migrations_with_removal__alternate() -> None:
    first = ghost_trigger_name("audit_ai", "_new", remove_suffix=True)
    assert ghost_trigger_name(first, "_new", remove_suffix=True) == "audit_ai"


def test_new_trigger_names__config__per_original() -> None:
    names = new_trigger_names([_trigger("a"), _trigger("b_new")], _config())
    assert names == {"a": "a_new", "b_new": "b_new_new"}


def test_name_problems__64_characters__accepted() -> None:
    # gh-ost's localtest trigger-long-name-validation: 60 + "_ght" is exactly the limit.
    names = {"x" * 60: "x" * 60 + "_ght"}
    assert name_problems(names, {}, table="t") == []


def test_name_problems__65_characters__refused() -> None:
    problems = name_problems({"x" * 61: "x" * 61 + "_ght"}, {}, table="t")
    assert len(problems) == 1 and "longer than 64 characters" in problems[0]


def test_name_problems__name_taken_in_schema__refused_with_its_table() -> None:
    problems = name_problems({"a": "a_new"}, {"a_new": "other"}, table="t")
    assert len(problems) == 1 and "a_new (on table other)" in problems[0]


def test_name_problems__taken_case_insensitively__refused() -> None:
    assert name_problems({"A": "A_new"}, {"a_new": "other"}, table="t")


def test_name_problems__taken_by_the_ghost_itself__accepted() -> None:
    # A failed cut-over attempt's triggers on the ghost: the next attempt replaces them.
    assert name_problems({"a": "a_new"}, {"a_new": "_t_gho"}, table="t", ghost="_t_gho") == []


def test_name_problems__two_triggers_one_new_name__refused() -> None:
    # "a" gets the suffix, "a_new_new" loses one: both would be "a_new".
    problems = name_problems({"a": "a_new", "a_new_new": "a_new"}, {}, table="t")
    assert len(problems) == 1 and "would both be named a_new" in problems[0]


def test_name_problems__suffix_is_the_whole_name__refused() -> None:
    assert "empty name" in name_problems({"_new": ""}, {}, table="t")[0]


# -- privileges ------------------------------------------------------------------------

ALL = ["GRANT ALL PRIVILEGES ON *.* TO `ghost`@`%`"]
DB_ONLY = [
    "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `app`@`%`",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, TRIGGER ON `shop`.* TO `app`@`%`",
]


def test_definer_problems__all_privileges_other_definer__accepted() -> None:
    assert definer_problems([_trigger(definer="root@localhost")], ALL, "ghost@%", "shop") == []


def test_definer_problems__own_definer_with_db_trigger_grant__accepted() -> None:
    assert definer_problems([_trigger(definer="app@%")], DB_ONLY, "app@%", "shop") == []


def test_definer_problems__other_definer_without_super__refused() -> None:
    problems = definer_problems([_trigger(definer="root@localhost")], DB_ONLY, "app@%", "shop")
    assert len(problems) == 1 and "root@localhost" in problems[0] and "SET USER" in problems[0]


def test_definer_problems__no_trigger_privilege__refused() -> None:
    grants = ["GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`"]
    problems = definer_problems([_trigger(definer="app@%")], grants, "app@%", "shop")
    assert len(problems) == 1 and "GRANT TRIGGER" in problems[0]


# -- the statement ---------------------------------------------------------------------


def test_definer_clause__user_at_host__both_quoted() -> None:
    assert definer_clause("root@localhost") == "DEFINER=`root`@`localhost`"


def test_definer_clause__at_in_user__split_at_the_last() -> None:
    assert definer_clause("a@b@%") == "DEFINER=`a@b`@`%`"


def test_definer_clause__role__no_host() -> None:
    assert definer_clause("auditor") == "DEFINER=`auditor`"


def test_create_trigger_sql__trigger__on_the_given_table_under_the_new_name() -> None:
    sql = create_trigger_sql(_trigger(definer="root@localhost"), name="t_ai_new", table="_t_gho")
    assert sql == (
        "CREATE DEFINER=`root`@`localhost` TRIGGER `t_ai_new` AFTER INSERT ON `_t_gho` "
        "FOR EACH ROW INSERT INTO audit (id) VALUES (NEW.id)"
    )
