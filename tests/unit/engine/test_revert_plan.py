"""A revert's plan (table/reverse.py): columns mapped back through the ALTER, and the
conditions that find values the old type cannot hold; the cut-over checkpoint's JSON."""

from __future__ import annotations

import pytest

from django_ghost.engine.sql.alter import parse_alter
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.state.revert_checkpoint import CutOverCheckpoint
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.reverse import _does_not_fit, plan_revert

PRIMARY_ID = UniqueKey("PRIMARY", ("id",), False)


def _column(name: str, ordinal: int, column_type: str = "int(11)", **kw: object) -> Column:
    data_type = column_type.split("(")[0].split()[0]
    values: dict[str, object] = {
        "name": name,
        "ordinal": ordinal,
        "data_type": data_type,
        "column_type": column_type,
        "nullable": False,
        "charset": "utf8mb4" if "char" in data_type or "text" in data_type else None,
        "collation": None,
        "generated": False,
        "octet_length": None,
        "numeric_precision": None,
        "numeric_scale": None,
        "datetime_precision": None,
    }
    values.update(kw)
    return Column(**values)  # type: ignore[arg-type]


def _table(name: str, *columns: Column) -> TableInfo:
    return TableInfo(
        schema="s",
        name=name,
        engine="InnoDB",
        columns=columns,
        unique_keys=(PRIMARY_ID,),
        row_estimate=0,
        auto_increment=None,
        triggers=(),
        child_foreign_keys=(),
        parent_foreign_keys=(),
    )


def test_plan_revert__rename_add_drop__mapped_back_added_left_out() -> None:
    current = _table("t", _column("id", 1), _column("label", 2, "varchar(40)"), _column("x", 3))
    old = _table("_t_del", _column("id", 1), _column("w", 2, "varchar(20)"), _column("z", 3))
    parsed = parse_alter(
        "CHANGE COLUMN w label VARCHAR(40), ADD COLUMN x INT, DROP COLUMN z", table="t"
    )
    plan = plan_revert(current, old, parsed, allow_nullable_unique_key=False)
    assert [(p.source.name, p.target.name) for p in plan.columns] == [
        ("id", "id"),
        ("label", "w"),
    ]


def test_plan_revert__column_dropped_and_added_again__carries_no_data_back() -> None:
    current = _table("t", _column("id", 1), _column("a", 2, "bigint(20)"))
    old = _table("_t_del", _column("id", 1), _column("a", 2))
    parsed = parse_alter("DROP COLUMN a, ADD COLUMN a BIGINT", table="t")
    plan = plan_revert(current, old, parsed, allow_nullable_unique_key=False)
    assert [p.source.name for p in plan.columns] == ["id"]


@pytest.mark.parametrize(
    ("source", "target", "condition"),
    [
        ("varchar(40)", "varchar(20)", "CHAR_LENGTH(`c`) > 20"),
        ("varbinary(40)", "binary(8)", "LENGTH(`c`) > 8"),
        ("text", "tinytext", "LENGTH(`c`) > 255"),
        ("bigint(20)", "int(11)", "`c` < -2147483648 OR `c` > 2147483647"),
        ("int(11)", "tinyint(3) unsigned", "`c` < 0 OR `c` > 255"),
        ("enum('a','b','c')", "enum('a','b')", "`c` NOT IN ('a','b')"),
        ("double", "float", None),
        ("datetime(6)", "date", None),
    ],
)
def test_does_not_fit__narrowing__condition_or_none_when_uncheckable(
    source: str, target: str, condition: str | None
) -> None:
    assert _does_not_fit(_column("c", 1, source), _column("c", 1, target)) == condition


def test_does_not_fit__decimal__digits_and_scale() -> None:
    wide = _column("c", 1, "decimal(12,4)", numeric_precision=12, numeric_scale=4)
    narrow = _column("c", 1, "decimal(6,2)", numeric_precision=6, numeric_scale=2)
    assert _does_not_fit(wide, narrow) == "`c` <> ROUND(`c`, 2) OR ABS(`c`) >= 10000"


def test_cut_over_checkpoint__json__round_trips() -> None:
    checkpoint = CutOverCheckpoint(
        table="t",
        old="_t_del",
        position="binlog.000007:1234",
        alter="ADD COLUMN x INT",
        table_sha="abc",
        sessions=(12, 13),
        created=200,
        source_server_id=3,
    )
    again = CutOverCheckpoint.from_json(checkpoint.to_json())
    assert again == checkpoint
    assert (again.binlog_position.file, again.binlog_position.pos) == ("binlog.000007", 1234)
