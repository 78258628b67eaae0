"""cut_over_count_check_max_rows: its validation, and when the cut-over counts at all."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig, merge_layers
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.cutover.attempts import CountsDiffer
from django_ghost.engine.cutover.two_step import TwoStepAttempt
from django_ghost.engine.errors import ConfigError


def test_config_count_check__default__two_million() -> None:
    assert GhostConfig().validate().cut_over_count_check_max_rows == 2_000_000


@pytest.mark.parametrize("value", [0, 1, 2_000_000, 1_000_000_000_000])
def test_config_count_check__in_range__accepted(value: int) -> None:
    config = GhostConfig(cut_over_count_check_max_rows=value).validate()
    assert config.cut_over_count_check_max_rows == value


@pytest.mark.parametrize("value", [-1, 1_000_000_000_001])
def test_config_count_check__out_of_range__refused(value: int) -> None:
    with pytest.raises(
        ConfigError, match=rf"cut_over_count_check_max_rows={value} is out of range"
    ):
        GhostConfig(cut_over_count_check_max_rows=value).validate()


def test_config_count_check__string_layer__parsed_as_int() -> None:
    config, origin = merge_layers([("env", {"CUT_OVER_COUNT_CHECK_MAX_ROWS": "0"})])
    assert config.cut_over_count_check_max_rows == 0
    assert origin["cut_over_count_check_max_rows"] == "env"


def test_config_count_check__not_a_number__refused() -> None:
    with pytest.raises(ConfigError, match="must be an integer"):
        merge_layers([("env", {"cut_over_count_check_max_rows": "lots"})])


class FakeConn:
    """Answers SELECT COUNT(*) per table; records the statements."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        self.statements: list[str] = []

    def cursor(self) -> FakeConn:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.statements.append(sql)
        self._last = next(n for t, n in self.counts.items() if f"`{t}`" in sql)
        return 1

    def fetchall(self) -> list[tuple[int]]:
        return [(self._last,)]

    def close(self) -> None:
        pass


def _cut_over(limit: int, *, rows_copied: int, rows_estimate: int = 0) -> TwoStepAttempt:
    context = MigrationContext(GhostConfig(cut_over_count_check_max_rows=limit))
    context.rows_copied, context.rows_estimate = rows_copied, rows_estimate
    return TwoStepAttempt(
        spec=None,  # type: ignore[arg-type]
        connect=lambda *_a, **_k: None,
        context=context,
        original="t",
        ghost="_t_gho",
        old="_t_del",
        applier=None,  # type: ignore[arg-type]
        streamer=None,  # type: ignore[arg-type]
        changelog=None,  # type: ignore[arg-type]
        main_conn=None,
    )


def test_check_row_counts__option_zero__no_query() -> None:
    conn = FakeConn({"t": 10, "_t_gho": 9})
    _cut_over(0, rows_copied=10).check_row_counts(conn, conn)
    assert conn.statements == []


def test_check_row_counts__rows_above_limit__no_query() -> None:
    conn = FakeConn({"t": 10, "_t_gho": 9})
    _cut_over(100, rows_copied=50, rows_estimate=101).check_row_counts(conn, conn)
    assert conn.statements == []


def test_check_row_counts__equal_on_two_sessions__passes_and_counts_each_table_once() -> None:
    original, ghost = FakeConn({"t": 10}), FakeConn({"_t_gho": 10})
    _cut_over(100, rows_copied=10).check_row_counts(original, ghost)
    assert original.statements == ["SELECT COUNT(*) FROM `t`"]
    assert ghost.statements == ["SELECT COUNT(*) FROM `_t_gho`"]


def test_check_row_counts__differ_on_one_session__raises_with_both_counts() -> None:
    conn = FakeConn({"_t_gho": 9, "t": 10})
    with pytest.raises(CountsDiffer) as raised:
        _cut_over(100, rows_copied=10).check_row_counts(conn, conn)
    assert (raised.value.original_rows, raised.value.ghost_rows) == (10, 9)
    assert conn.statements == ["SELECT COUNT(*) FROM `t`", "SELECT COUNT(*) FROM `_t_gho`"]
