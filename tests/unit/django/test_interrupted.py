"""What ghost_migrate does about an interrupted run: the decision, its notice, --plan's note."""

from __future__ import annotations

import dataclasses
from typing import Any

import MySQLdb
import pytest

from django_ghost.backends.mysql.interrupted import (
    FRESH,
    RESUME,
    START_OVER,
    Decision,
    InterruptedRunError,
    Leftovers,
    decide,
    plan_note,
)
from django_ghost.conf import resolve_layers
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import GhostError
from django_ghost.engine.sql.names import table_names
from django_ghost.engine.state.checkpoint import Checkpoint

NAMES = table_names("t")
CHECKPOINT = Checkpoint(
    lo=("1",),
    max=("9",),
    first=False,
    copy_done=False,
    has_range=True,
    position="binlog.000003:99",
    rows_copied=42,
    events_applied=3,
    alter_sha="a",
    table_sha="b",
)
ENGINE = GhostConfig(database="shop", table="t", alter="ADD COLUMN c INT", execute=True)


def _leftovers(*tables: str, checkpoint: Checkpoint | None = CHECKPOINT) -> Leftovers:
    return Leftovers(NAMES, tables, checkpoint, swapped_old=False)


def _config(**options: Any) -> Any:
    return resolve_layers("default", [("test", options)])


def test_leftovers__checkpoint_and_ghost__resumable() -> None:
    assert _leftovers(NAMES.ghost, NAMES.changelog).resumable
    # Killed inside a cut-over attempt: the ghost is under the attempt's name.
    assert _leftovers("t~g", NAMES.changelog).resumable


@pytest.mark.parametrize(
    "found",
    [_leftovers(NAMES.ghost, NAMES.changelog, checkpoint=None), _leftovers(NAMES.changelog)],
)
def test_leftovers__no_checkpoint_or_no_ghost__not_resumable(found: Leftovers) -> None:
    assert not found.resumable


def test_decision__resume__engine_resumes_without_dropping_the_ghost() -> None:
    initially_drop = dataclasses.replace(ENGINE, initially_drop_ghost_table=True)
    decision = Decision(RESUME, "t", _leftovers(NAMES.ghost, NAMES.changelog))
    config = decision.engine_config(initially_drop).validate()
    assert config.resume and not config.initially_drop_ghost_table
    assert decision.resumed_from == "binlog.000003:99"
    assert "Resuming `t` from its checkpoint at binlog.000003:99 (42 rows" in decision.notice()


def test_decision__start_over__fresh_engine_run_and_dropped_tables_named() -> None:
    found = _leftovers(NAMES.ghost, NAMES.changelog)
    decision = Decision(START_OVER, "t", found, dropped=found.tables, reason="--no-resume")
    assert decision.engine_config(ENGINE).resume is False
    assert decision.resumed_from == ""
    assert decision.notice() == "Starting `t` over (--no-resume): dropped _t_gho, _t_ghc."


def test_decision__fresh__nothing_to_say() -> None:
    decision = Decision(FRESH, "t")
    assert decision.notice() == "" and decision.resumed_from == ""


def test_plan_note__each_outcome__described() -> None:
    def returning(decision: Decision) -> Any:
        return lambda config, engine, *, plan: decision

    found = _leftovers(NAMES.ghost, NAMES.changelog)
    notes = [
        plan_note(returning(d), _config(), ENGINE)
        for d in (
            Decision(FRESH, "t"),
            Decision(RESUME, "t", found),
            Decision(START_OVER, "t", found, dropped=found.tables, reason="--no-resume"),
        )
    ]
    assert notes == [
        "no interrupted run to resume",
        "would resume the interrupted run: _t_gho, _t_ghc "
        "(checkpoint at binlog.000003:99, 42 rows copied)",
        "would drop the interrupted run's _t_gho, _t_ghc and start over (--no-resume)",
    ]


@pytest.mark.parametrize(
    ("error", "note"),
    [
        (InterruptedRunError("a different ALTER"), "refused: a different ALTER"),
        (MySQLdb.OperationalError(2003, "no server"), "could not look for an interrupted run"),
    ],
)
def test_plan_note__check_fails__reported_not_raised(error: Exception, note: str) -> None:
    def failing(config: Any, engine: Any, *, plan: bool) -> Decision:
        raise error

    assert plan_note(failing, _config(), ENGINE).startswith(note)


def test_decide__server_unreachable__ghost_error_naming_table_and_server() -> None:
    def unreachable(spec: Any) -> Any:
        raise MySQLdb.OperationalError(2003, "Can't connect")

    with pytest.raises(GhostError, match=r"interrupted online run of `t` on @127.0.0.1:3306"):
        decide(ENGINE, connect_fn=unreachable)
