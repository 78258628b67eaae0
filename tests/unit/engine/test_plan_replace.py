"""When the apply may re-read a key with one REPLACE: only when the ghost's one unique key
is exactly the shared key (table/plan.py ``replaces_by_shared_key``)."""

from __future__ import annotations

import pytest

from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan

PRIMARY_ID = UniqueKey("PRIMARY", ("id",), False)


def _column(name: str, ordinal: int) -> Column:
    return Column(name, ordinal, "int", "int(11)", False, None, None, False, None, 10, 0, None)


def _table(name: str, unique: tuple[UniqueKey, ...]) -> TableInfo:
    return TableInfo(
        schema="s",
        name=name,
        engine="InnoDB",
        columns=(_column("id", 1), _column("a", 2), _column("b", 3)),
        unique_keys=unique,
        row_estimate=0,
        auto_increment=None,
        triggers=(),
        child_foreign_keys=(),
        parent_foreign_keys=(),
    )


@pytest.mark.parametrize(
    ("ghost_keys", "replaces"),
    [
        ((PRIMARY_ID,), True),
        ((UniqueKey("PRIMARY", ("ID",), False),), True),
        ((UniqueKey("PRIMARY", ("id", "a"), False),), False),
        ((PRIMARY_ID, UniqueKey("ab", ("a", "b"), False)), False),
        ((UniqueKey("PRIMARY", ("id", "a"), False), UniqueKey("u_id", ("id",), False)), False),
    ],
    ids=["same", "same-other-case", "prefix", "another-unique", "two-keys"],
)
def test_replaces_by_shared_key__ghost_keys__only_the_exact_shared_key(
    ghost_keys: tuple[UniqueKey, ...], replaces: bool
) -> None:
    plan = build_plan(
        _table("t", (PRIMARY_ID,)), _table("_t_gho", ghost_keys), renamed={}, dropped=frozenset()
    )
    assert plan.replaces_by_shared_key is replaces
