"""Every tests/scenarios/<name>/ folder, migrated online under a concurrent write load.

Two tests per folder:

* ``test_scenario_sql__oracle_only__runs_clean`` checks the folder itself, without the
  engine: create.sql, dml.sql before and after the plain ALTER, and the plain ALTER.
* ``test_online_alter__scenario__matches_plain_alter`` runs the engine on ``gh_test``
  while the load writes to it and to the mirror ``ghm_test``, then judges the result
  against the plain ALTER of the mirror (or, for ``expect_failure``, checks the error
  message and that the original still equals the untouched mirror).

docs/scenarios.md explains the folder format and the oracle.
"""

from __future__ import annotations

import os

import MySQLdb
import pytest

from django_ghost.engine.config import GhostConfig, parse_value
from django_ghost.engine.errors import GhostError
from tests.integration.helpers import make_config
from tests.integration.scenario_harness import (
    MIRROR,
    TABLE,
    EngineRun,
    Scenario,
    ScenarioLoad,
    all_scenarios,
    auto_increment,
    chunk_size_for,
    engine_leftovers,
    fingerprint,
    first_difference,
    mirror_sql,
    order_by_clause,
    seed_rows,
    session_prelude,
    set_session_sql_mode,
)
from tests.plugins.mariadb import TestDatabase

SCENARIOS = all_scenarios()
ENGINE_TIMEOUT_SECONDS = float(os.environ.get("GHOST_SCENARIO_TIMEOUT", "120"))


def _plain_alter(db: TestDatabase, scenario: Scenario, table: str) -> None:
    conn = db.connect()
    try:
        set_session_sql_mode(conn, scenario)
        conn.cursor().execute(f"ALTER TABLE `{table}` {mirror_sql(scenario.alter)}")
    finally:
        conn.close()


def _create(db: TestDatabase, scenario: Scenario, *, real: bool) -> None:
    prelude = session_prelude(scenario)
    if real:
        db.run_script(prelude + scenario.create_sql)
    db.run_script(prelude + mirror_sql(scenario.create_sql))


def _config(db: TestDatabase, scenario: Scenario) -> GhostConfig:
    options = {key: parse_value(key, raw) for key, raw in scenario.options.items()}
    options.setdefault("chunk_size", chunk_size_for(seed_rows(db, TABLE)))
    return make_config(db, TABLE, scenario.alter, **options).validate()


def _write_failures(load: ScenarioLoad) -> str:
    lines = [f"  #{f.iteration}: {f.statement}\n    -> {f.error}" for f in load.failures[:10]]
    return "\n".join(lines)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_sql__oracle_only__runs_clean(db: TestDatabase, scenario: Scenario) -> None:
    """The folder is valid MariaDB SQL: the load runs on the mirror before and after the
    plain ALTER without one error, and (unless a failure is expected) the ALTER succeeds."""
    _create(db, scenario, real=False)
    before = ScenarioLoad(db.connect, scenario, tables=(MIRROR,), pause=0)
    before.start()
    before.stop(more_iterations=8)
    assert before.crashed is None, before.crashed
    bad = before.failures + before.mirror_failures
    assert not bad, f"dml.sql fails on the original schema: {bad[:3]}"
    try:
        _plain_alter(db, scenario, MIRROR)
    except MySQLdb.Error as exc:
        if scenario.expects_failure:
            return
        pytest.fail(f"the plain ALTER fails, so no oracle exists: {exc}")
    if scenario.expects_failure:
        return
    after = ScenarioLoad(
        db.connect, scenario, tables=(MIRROR,), pause=0, first_n=before.iterations + 1
    )
    after.start()
    after.stop(more_iterations=8)
    assert after.crashed is None, after.crashed
    bad = after.failures + after.mirror_failures
    assert not bad, f"dml.sql fails on the altered schema (the load outlives cut-over): {bad[:3]}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_online_alter__scenario__matches_plain_alter(db: TestDatabase, scenario: Scenario) -> None:
    _create(db, scenario, real=True)
    config = _config(db, scenario)
    columns = scenario.expect_columns

    load = ScenarioLoad(db.connect, scenario)
    load.start()
    if scenario.dml:
        load.wait_for_iterations(3)
    started_at = load.iterations
    engine = EngineRun(config)
    engine.start()
    finished = engine.finish(ENGINE_TIMEOUT_SECONDS)
    during = load.iterations - started_at
    load.stop(more_iterations=5)
    assert finished, f"the engine did not finish within {ENGINE_TIMEOUT_SECONDS:.0f}s (stopped)"
    assert load.crashed is None, f"load thread crashed: {load.crashed!r}"
    assert not load.mirror_failures, f"bad scenario, the mirror rejects: {load.mirror_failures[:3]}"
    assert not load.failures, (
        f"{len(load.failures)} of {load.writes + len(load.failures)} writes to the migrated "
        f"table failed:\n{_write_failures(load)}"
    )
    if scenario.dml and not scenario.expects_failure:
        assert during > 0, "the load made no progress while the engine ran"

    if scenario.expects_failure:
        _judge_failure(db, scenario, engine)
        return
    if engine.error is not None:
        raise AssertionError(
            f"engine failed: {type(engine.error).__name__}: {engine.error}"
        ) from engine.error

    _plain_alter(db, scenario, MIRROR)
    order = order_by_clause(db, MIRROR)
    migrated = fingerprint(db, TABLE, columns, order)
    oracle = fingerprint(db, MIRROR, columns, order)
    assert migrated.create_table == oracle.create_table, "schema differs from the plain ALTER"
    assert migrated.rows == oracle.rows, first_difference(db, TABLE, MIRROR, columns, order)
    assert migrated.md5 == oracle.md5, first_difference(db, TABLE, MIRROR, columns, order)
    if scenario.compare_auto_increment:
        assert auto_increment(db, TABLE) == auto_increment(db, MIRROR), "AUTO_INCREMENT differs"
    leftovers = [t for t in engine_leftovers(db) if not t.endswith("_del")]
    assert not leftovers, f"engine tables left behind: {leftovers}"


def _judge_failure(db: TestDatabase, scenario: Scenario, engine: EngineRun) -> None:
    error = engine.error
    assert error is not None, (
        f"expected a failure matching {scenario.expect_failure!r}, but the migration succeeded"
    )
    assert isinstance(error, GhostError), f"not a GhostError: {type(error).__name__}: {error}"
    message = str(error)
    assert scenario.failure_matches(message), (
        f"message {message!r} does not match {scenario.expect_failure!r}"
    )
    # The original is untouched: it still equals the mirror, which got the same writes.
    order = order_by_clause(db, MIRROR)
    original = fingerprint(db, TABLE, None, order)
    mirror = fingerprint(db, MIRROR, None, order)
    assert original.create_table == mirror.create_table, "the original table's schema changed"
    assert original == mirror, first_difference(db, TABLE, MIRROR, None, order)
    assert not engine_leftovers(db), f"engine tables left behind: {engine_leftovers(db)}"


def test_scenarios__folder_count__at_least_sixty() -> None:
    assert len(SCENARIOS) >= 60
    names = [s.name for s in SCENARIOS]
    assert len(set(names)) == len(names)
