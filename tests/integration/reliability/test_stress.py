"""The stress harness (bench/stress.py, ``make stress``), bounded: every scenario once on a
3,000-row table with two writers, each with one of the ALTER shapes, judged by the replay
of the writers' committed transactions (never by the engine's own checksum).

The runs use a dedicated sandbox: the restart scenario stops and starts its server.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.stress_migrate import Knobs
from bench.stress_run import RunReport, RunSpec, Server, run_one
from django_ghost.sandbox import Sandbox, SandboxError

KNOBS = Knobs(chunk_size=50, checksum_chunk_size=100, nice_ratio=0.5, timeout=120)

XA_LOSES_ROWS = pytest.mark.xfail(
    strict=True,
    reason=(
        "engine: rows of a two-phase XA transaction are logged at XA PREPARE and XA COMMIT "
        "carries none; the apply re-reads the keys before the commit and never again, so "
        "the new table keeps the old values (issue 16, 'XA'). Reproduction: "
        "python -m bench.stress --rows 3000 --writers 2 --runs 1 --scenarios xa "
        "--engine-verify off: 30-70 rows missing, unexpected or changed every run; with "
        "the engine's checksum on, the run fails with ChecksumMismatchError instead. "
        "One-phase XA and XA ROLLBACK lose nothing."
    ),
)

# (scenario, ALTER shape, the engine's own verification on): every scenario and shape;
# with the checksum and the cut-over's row count check off, nothing but the replay
# stands between an apply bug and the swapped-in table.
CASES = [
    ("none", "add-column", False),
    ("operator", "widen", True),
    pytest.param("xa", "add-index", False, marks=XA_LOSES_ROWS),
    ("kill-copy", "drop-column", False),
    ("kill-catchup", "add-unique", False),
    ("kill-checksum", "add-column", True),
    ("kill-postponed", "widen", True),
    ("kill-cutover", "add-index", False),
    ("restart", "drop-column", False),
]
IDS = [
    "none",
    "operator",
    "xa",
    "kill-copy",
    "kill-catchup",
    "kill-checksum",
    "kill-postponed",
    "kill-cutover",
    "restart",
]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    base = Path(tempfile.mkdtemp(prefix="dg-stress-test-"))
    box = Sandbox(base)
    try:
        box.start()
    except SandboxError as exc:
        box.stop()
        pytest.skip(str(exc))
    try:
        yield Server.of_sandbox(box)
    finally:
        box.stop()
        shutil.rmtree(base, ignore_errors=True)


def stress(
    server: Server, scenario: str, alter: str, seed: int, verify: bool = True, **kwargs: Any
) -> RunReport:
    knobs = dataclasses.replace(KNOBS, checksum=verify)
    spec = RunSpec(
        seed, alter, scenario, rows=3000, writers=2, seed=seed, knobs=knobs, after=1.0, **kwargs
    )
    report = run_one(server, spec)
    print(report.line())
    for text in report.details():
        print(f"    {text}")
    return report


def assert_matches_replay(report: RunReport) -> None:
    assert report.stats.transactions > 100, "the writers hardly wrote"
    assert report.diff.total == 0, report.diff.samples
    assert report.stats.errors == [], report.stats.errors[:5]
    assert report.stats.surprises == [], report.stats.surprises[:5]


def test_stress__writers_without_migration__oracle_matches_table(server: Server) -> None:
    # The XA mix too: the replay must be exact before it can judge a migration.
    report = stress(server, "xa", "add-column", 100, migrate=False, warmup=2.0)
    assert_matches_replay(report)
    assert report.stats.committed["xa-commit"] > 0


@pytest.mark.parametrize(("scenario", "alter", "verify"), CASES, ids=IDS)
def test_stress__scenario__table_matches_replay(
    server: Server, scenario: str, alter: str, verify: bool
) -> None:
    report = stress(server, scenario, alter, IDS.index(scenario) + 1, verify)
    assert_matches_replay(report)
    outcome = report.outcome
    assert outcome.expected, outcome.text()
    assert "MISSED" not in outcome.text()
    if scenario.startswith("kill"):
        assert "SIGKILL" in outcome.text()
    if scenario == "restart":
        assert report.stats.lost_in_fault > 0, "the restart cut no writer's connection"
    if scenario == "xa":
        assert report.stats.committed["xa-commit"] > 0
        assert outcome.status in ("ok", "refused"), outcome.text()
    else:
        assert outcome.status in ("ok", "recovered"), outcome.text()
