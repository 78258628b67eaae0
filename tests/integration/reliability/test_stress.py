"""A short, bounded ``make stress`` (bench/stress*.py) in every ``make test``: each fault
scenario once (in-process, operator at the socket, XA, SIGKILL of the CLI in copy /
catch-up / checksum / postponed cut-over / cut-over then ``--resume``, a server restart),
the ALTER shapes in turn, on a small table under two writers with the hostile mix. Each
run is judged by the replay of the writers' committed transactions, never by the
engine's own verdict (its checksum is off in every second run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.stress import knobs_for, plan
from bench.stress_faults import SCENARIOS
from bench.stress_migrate import ALTERS
from bench.stress_run import RunSpec, Server, run_one
from django_ghost.sandbox import Sandbox

ROWS = 3000
WRITERS = 2
RATE = 800.0
"""Transactions per second of both writers together: bounded so the suite's time does
not depend on the machine's speed; ``make stress`` runs them at full speed."""
RUNS = plan(len(SCENARIOS), list(ALTERS), list(SCENARIOS))


@pytest.fixture(scope="module")
def stress_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own: the ``restart`` scenario restarts it."""
    box = Sandbox(Path(tmp_path_factory.mktemp("stress")))
    box.start()
    try:
        yield Server.of_sandbox(box)
    finally:
        box.stop()


@pytest.mark.parametrize(
    ("index", "alter", "scenario"),
    [(i, alter, scenario) for i, (alter, scenario) in enumerate(RUNS, 1)],
    ids=[f"{scenario}-{alter}" for alter, scenario in RUNS],
)
def test_migration_under_stress__scenario__table_equals_the_replay(
    stress_server: Server, index: int, alter: str, scenario: str
) -> None:
    spec = RunSpec(
        index,
        alter,
        scenario,
        ROWS,
        WRITERS,
        seed=index,
        knobs=knobs_for(ROWS, scenario, index, "alternate"),
        rate=RATE,
    )
    report = run_one(stress_server, spec)
    details = "\n".join([report.line(), *report.details()])
    assert report.diff.total == 0, details
    assert report.stats.errors == [], details
    assert report.stats.surprises == [], details
    assert report.outcome.expected, details
    assert report.stats.transactions > 0
