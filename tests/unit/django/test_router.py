"""Routing decisions with fake table facts and a fake engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from django_ghost.backends.mysql.interrupted import (
    FRESH,
    RESUME,
    Decision,
    InterruptedRunError,
    Leftovers,
)
from django_ghost.backends.mysql.router import (
    DIRECT,
    ONLINE,
    REFUSED,
    Captured,
    OnlineRefusedError,
    Router,
    split_batch,
)
from django_ghost.backends.mysql.sql import classify
from django_ghost.backends.mysql.state import GhostSession
from django_ghost.conf import resolve_layers
from django_ghost.engine.sql.names import table_names
from django_ghost.engine.state.checkpoint import Checkpoint


class FakeConnection:
    alias = "default"
    in_atomic_block = False
    settings_dict = {"NAME": "shop"}

    def get_connection_params(self) -> dict[str, Any]:
        return {}


class FakeMigrator:
    runs: list[Any] = []

    def __init__(self, config: Any, *, on_progress: Any = None, stop: Any = None):
        self.config = config

    def run(self) -> Any:
        FakeMigrator.runs.append(self.config)
        return type("R", (), {"rows_copied": 5, "events_applied": 1})()


def _facts(rows: int = 50_000, fks: int = 0, triggers: int = 0, unique: bool = True) -> Any:
    def query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if "information_schema.TABLES" in sql:
            return [(rows,)]
        if "KEY_COLUMN_USAGE" in sql:
            return [(fks,)]
        if "TRIGGERS" in sql:
            return [(triggers,)]
        return [("PRIMARY",)] if unique else []

    return query


def _no_leftovers(config: Any, engine_config: Any, *, plan: bool = False) -> Decision:
    return Decision(FRESH, engine_config.table)


def _router(
    query: Any, plan: bool = False, check: Any = None, **options: Any
) -> tuple[Router, list[str]]:
    ran: list[str] = []
    config = resolve_layers(
        "default", [("test", {"instant_ddl": False, "history": False, **options})]
    )
    FakeMigrator.runs = []
    router = Router(
        connection=FakeConnection(),
        config=config,
        session=GhostSession(
            migrator_factory=FakeMigrator, interrupted_check=check or _no_leftovers
        ),
        run_direct=lambda item: ran.append(item.rendered),
        query=query,
        plan=plan,
    )
    return router, ran


def _batch(*sql: str) -> list[Captured]:
    return [Captured(s, None, s, classify(s)) for s in sql]


ADD = "ALTER TABLE `t` ADD COLUMN `c` integer DEFAULT 0 NOT NULL"
DROP_DEFAULT = "ALTER TABLE `t` ALTER COLUMN `c` DROP DEFAULT"


def test_route__big_table__one_engine_run_then_drop_default_direct() -> None:
    router, ran = _router(_facts())
    router.route("t", _batch(ADD, DROP_DEFAULT))
    assert [c.alter for c in FakeMigrator.runs] == [ADD]
    assert FakeMigrator.runs[0].table == "t" and FakeMigrator.runs[0].database == "shop"
    assert ran == [DROP_DEFAULT]
    assert [s.route for s in router.session.events] == [ONLINE, DIRECT]


def test_route__several_copy_alters__merged_into_one_run() -> None:
    router, _ = _router(_facts())
    router.route(
        "t", _batch("ALTER TABLE `t` MODIFY `a` bigint NOT NULL", "CREATE INDEX i ON t (a)")
    )
    assert FakeMigrator.runs[0].alter == (
        "ALTER TABLE `t` MODIFY `a` bigint NOT NULL;\nALTER TABLE `t` ADD INDEX i (a)"
    )


def test_route__small_table__direct() -> None:
    router, ran = _router(_facts(rows=10), min_table_rows=100)
    router.route("t", _batch(ADD))
    assert ran == [ADD] and not FakeMigrator.runs
    assert "min_table_rows=100" in router.session.events[0].reason


def test_route__table_created_in_migration__direct() -> None:
    router, ran = _router(_facts())
    router.created_tables.add("t")
    router.route("t", _batch(ADD))
    assert ran == [ADD] and not FakeMigrator.runs


def test_route__metadata_only__direct() -> None:
    router, ran = _router(_facts())
    router.route("t", _batch("ALTER TABLE `t` RENAME COLUMN `a` TO `b`"))
    assert ran and not FakeMigrator.runs


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"fks": 1}, "foreign key"),
        ({"triggers": 2}, "trigger"),
        ({"unique": False}, "no unique key"),
    ],
)
def test_route__unsafe_table__refused(facts: dict[str, Any], reason: str) -> None:
    router, ran = _router(_facts(**facts))
    with pytest.raises(OnlineRefusedError, match=reason):
        router.route("t", _batch(ADD))
    assert not ran and not FakeMigrator.runs
    assert router.session.events[-1].route == REFUSED


def test_route__triggers_with_include_triggers__online() -> None:
    router, ran = _router(_facts(triggers=2), include_triggers=True, trigger_suffix="_new")
    router.route("t", _batch(ADD))
    assert not ran and [c.trigger_suffix for c in FakeMigrator.runs] == ["_new"]


def test_route__triggers_without_include_triggers__refusal_names_the_setting() -> None:
    router, _ = _router(_facts(triggers=2))
    with pytest.raises(OnlineRefusedError, match="include_triggers"):
        router.route("t", _batch(ADD))


def test_route__unsafe_table_with_direct_strategy__direct() -> None:
    router, ran = _router(_facts(fks=1), unsafe_tables="direct")
    router.route("t", _batch(ADD))
    assert ran == [ADD] and not FakeMigrator.runs


def test_route__plan_mode__nothing_runs() -> None:
    router, ran = _router(_facts(fks=1), plan=True)
    router.route("t", _batch(ADD))
    router.route("u", _batch(ADD.replace("`t`", "`u`")))
    assert not ran and not FakeMigrator.runs
    assert [s.route for s in router.session.events] == [REFUSED, REFUSED]


def _resumable(config: Any, engine_config: Any, *, plan: bool = False) -> Decision:
    checkpoint = Checkpoint(
        lo=("7",),
        max=("9",),
        first=False,
        copy_done=False,
        has_range=True,
        position="binlog.000002:1234",
        rows_copied=7,
        events_applied=0,
        alter_sha="",
        table_sha="",
    )
    names = table_names(engine_config.table)
    found = Leftovers(names, (names.ghost, names.changelog), checkpoint, swapped_old=False)
    return Decision(RESUME, engine_config.table, found)


def test_route__interrupted_run_of_same_alter__engine_resumes_and_user_told() -> None:
    router, _ = _router(_facts(), check=_resumable)
    told: list[str] = []
    router.session.notify = told.append
    router.route("t", _batch(ADD))
    assert FakeMigrator.runs[0].resume is True
    assert router.session.events[0].resumed_from == "binlog.000002:1234"
    assert told == [
        "Resuming `t` from its checkpoint at binlog.000002:1234 (7 rows copied by the "
        "interrupted run; --no-resume starts over)."
    ]


def test_route__fresh_table__engine_does_not_resume() -> None:
    router, _ = _router(_facts())
    router.route("t", _batch(ADD))
    assert FakeMigrator.runs[0].resume is False
    assert router.session.events[0].resumed_from == ""


def test_route__interrupted_run_refused__engine_never_runs() -> None:
    def refuse(config: Any, engine_config: Any, *, plan: bool = False) -> Decision:
        raise InterruptedRunError("leftovers of a different ALTER")

    router, _ = _router(_facts(), check=refuse)
    with pytest.raises(InterruptedRunError, match="different ALTER"):
        router.route("t", _batch(ADD))
    assert not FakeMigrator.runs


def test_route__plan_mode_with_interrupted_run__reported_once_per_table() -> None:
    router, _ = _router(_facts(), plan=True, check=_resumable)
    router.route("t", _batch(ADD))
    router.route("t", _batch("CREATE INDEX i ON t (a)"))
    first, second = router.session.events
    assert "would resume the interrupted run: _t_gho, _t_ghc (checkpoint at" in first.reason
    assert "interrupted" not in second.reason
    assert not FakeMigrator.runs


def test_split_batch__leading_metadata_and_trailing_defaults__separated() -> None:
    head, core, tail = split_batch(
        _batch("DROP INDEX `u` ON `t`", "ALTER TABLE `t` MODIFY `c` int NOT NULL", DROP_DEFAULT)
    )
    assert (len(head), len(core), len(tail)) == (1, 1, 1)
