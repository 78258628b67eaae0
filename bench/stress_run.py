"""One stress run: seed the table, start the writers, migrate under a scenario, let the
writers go on after the cut-over, stop them, and compare the table with the replay.

The comparison is key by key against the expected table computed in Python
(stress_model.expected_table): rows missing, rows unexpected, rows changed (any column:
``u``, the ``_ci`` string ``s`` byte for byte, ``n``, ``v``, ``w``, ``z``; a column the
ALTER adds must hold its default). Whichever schema the table ends with (migrated, or the
original after a refusal), its rows must be the replay's.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import MySQLdb

import django_ghost.sandbox as sandbox_module
from django_ghost.sandbox import Sandbox

from .stress_faults import SCENARIOS, Stage
from .stress_migrate import ALTERS, AlterShape, Knobs, Migration, Outcome
from .stress_model import (
    COLUMNS,
    CREATE_MARKERS,
    CREATE_TABLE,
    SEED_SQL,
    TABLE,
    Partition,
    Row,
    expected_table,
)
from .stress_writers import Target, Writer, WriterStats, total

SAMPLES = 5


@dataclasses.dataclass
class Server:
    """Where the runs go; ``restart`` restarts it on the same port (None: cannot)."""

    host: str
    port: int
    user: str
    password: str
    restart: Callable[[], None] | None = None

    def target(self, database: str) -> Target:
        return Target(self.host, self.port, self.user, self.password, database)

    @classmethod
    def of_sandbox(cls, box: Sandbox) -> Server:
        info = box.primary
        return cls(info.host, info.port, info.user, info.password, lambda: restart_sandbox(box))


def restart_sandbox(box: Sandbox) -> None:
    """Stop the sandbox's server cleanly and start it again on the same data directory
    and port, as tests/integration/reliability/test_faults.py does (the sandbox has no
    restart of its own)."""
    port = box.primary.port
    sandbox_module._stop_pid(box.primary.pid)
    free_port = sandbox_module.free_port
    sandbox_module.free_port = lambda: port
    try:
        box.servers.clear()
        box.start()
    finally:
        sandbox_module.free_port = free_port


@dataclasses.dataclass(frozen=True)
class RunSpec:
    index: int
    alter: str
    scenario: str
    rows: int
    writers: int = 4
    seed: int = 1
    knobs: Knobs = Knobs()
    warmup: float = 1.0
    """Seconds of writes before the migration starts."""
    after: float = 2.0
    """Seconds of writes after the migration ends (into the new table)."""
    rate: float = 0.0
    """Transactions per second of all writers together (0: each at full speed)."""
    migrate: bool = True
    """False: writers only, no migration (the oracle's self-check)."""
    logs: str = ""
    """A directory to keep the CLI children's output in (``run<index>-cli-<n>.log``)."""


@dataclasses.dataclass
class Diff:
    missing: int = 0
    unexpected: int = 0
    changed: int = 0
    samples: list[str] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return self.missing + self.unexpected + self.changed


@dataclasses.dataclass
class RunReport:
    spec: RunSpec
    outcome: Outcome
    stats: WriterStats
    diff: Diff
    rows_final: int = 0
    seconds: float = 0.0
    leftovers: list[str] = dataclasses.field(default_factory=list)

    @property
    def failed(self) -> bool:
        s = self.stats
        return bool(self.diff.total or s.errors or s.surprises or not self.outcome.expected)

    def line(self) -> str:
        s, d, spec = self.stats, self.diff, self.spec
        return (
            f"run {spec.index}: {spec.alter} x {spec.scenario} (seed {spec.seed}, engine "
            f"verify {'on' if spec.knobs.checksum else 'off'}): "
            f"rows {spec.rows:,} -> {self.rows_final:,}, txns {s.transactions:,} "
            f"({sum(s.rolled_back.values()):,} rolled back), statements {s.statements:,}; "
            f"mismatches {d.total} (missing {d.missing}, unexpected {d.unexpected}, "
            f"changed {d.changed}); client errors {len(s.errors)}, rowcount surprises "
            f"{len(s.surprises)}; deadlocks engine {s.deadlocks_engine} / writers "
            f"{s.deadlocks_writers}; lost in fault {s.lost_in_fault} (in doubt: "
            f"{s.in_doubt_committed} committed, {s.in_doubt_not} not); "
            f"{self.seconds:.0f}s\n    migration {self.outcome.text()}"
        )

    def details(self) -> list[str]:
        return [
            *self.diff.samples,
            *self.stats.errors[:SAMPLES],
            *self.stats.surprises[:SAMPLES],
            *([f"leftover tables: {self.leftovers}"] if self.leftovers else []),
        ]


def prepare(server: Server, database: str, rows: int) -> None:
    admin: Any = MySQLdb.connect(
        host=server.host, port=server.port, user=server.user, password=server.password
    )
    try:
        cur = admin.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS {database}")
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"USE {database}")
        cur.execute(CREATE_TABLE)
        cur.execute(CREATE_MARKERS)
        cur.execute(SEED_SQL.format(rows=rows))
        admin.commit()
    finally:
        admin.close()


def expected_row(row: Row, columns: list[str], alter: AlterShape) -> tuple[Any, ...]:
    added = dict(alter.added)
    return tuple(getattr(row, c) if c in COLUMNS else added.get(c, "?") for c in columns)


def compare(target: Target, expected: dict[int, Row], alter: AlterShape) -> tuple[Diff, int]:
    """The table against the replay, key by key; (the differences, rows in the table)."""
    conn = target.connect()
    diff, seen = Diff(), 0
    try:
        cur = conn.cursor()
        cur.execute(f"SHOW COLUMNS FROM {TABLE}")
        columns = [str(r[0]) for r in cur.fetchall() if r[0] != "id"]
        cur = conn.cursor(MySQLdb.cursors.SSCursor)
        cur.execute(f"SELECT id, {', '.join(columns)} FROM {TABLE}")
        found: set[int] = set()
        for key, *values in cur:
            seen += 1
            found.add(key)
            row = expected.get(key)
            if row is None:
                diff.unexpected += 1
                _sample(diff, f"unexpected id {key}: {tuple(values)}")
                continue
            want = expected_row(row, columns, alter)
            if tuple(values) != want:
                diff.changed += 1
                _sample(diff, f"changed id {key}: {tuple(values)} expected {want} ({columns})")
        cur.close()
    finally:
        conn.close()
    for key in expected.keys() - found:
        diff.missing += 1
        _sample(diff, f"missing id {key}: expected {expected[key]}")
    return diff, seen


def _sample(diff: Diff, text: str) -> None:
    if len(diff.samples) < 3 * SAMPLES:
        diff.samples.append(text)


def pending_xa(target: Target) -> list[str]:
    conn = target.connect()
    try:
        cur = conn.cursor()
        cur.execute("XA RECOVER")
        return [str(r[3]) for r in cur.fetchall() if str(r[3]).startswith("stress-")]
    finally:
        conn.close()


def keep_logs(work: Path, spec: RunSpec) -> None:
    if spec.logs:
        Path(spec.logs).mkdir(parents=True, exist_ok=True)
        for log in work.glob("*.log"):
            shutil.copy(log, Path(spec.logs) / f"run{spec.index}-{log.name}")


def run_one(server: Server, spec: RunSpec, *, database: str = "stress") -> RunReport:
    started = time.monotonic()
    alter = ALTERS[spec.alter]
    prepare(server, database, spec.rows)
    target = server.target(database)
    parts = [Partition.seeded(i, spec.writers, spec.rows) for i in range(spec.writers)]
    fault = threading.Event()
    xa = spec.scenario == "xa"
    pace = spec.writers / spec.rate if spec.rate else 0.0
    writers = [Writer(target, p, seed=spec.seed, xa=xa, fault=fault, pace=pace) for p in parts]
    work = Path(tempfile.mkdtemp(prefix="dgst", dir="/tmp"))  # short: a socket lives here
    rng = random.Random(spec.seed)
    outcome = Outcome(detail=["no migration (oracle self-check)"])
    try:
        for w in writers:
            w.start()
        time.sleep(spec.warmup)
        if spec.migrate:
            migration = Migration(target, alter, spec.knobs, work, rng)
            stage = Stage(migration, spec.rows, rng, fault, server.restart)
            outcome = SCENARIOS[spec.scenario](stage)
        time.sleep(spec.after)
    finally:
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(120)
        keep_logs(work, spec)
        shutil.rmtree(work, ignore_errors=True)
    stats = total(writers)
    for w in writers:
        if w.is_alive():
            stats.errors.append(f"{w.name} did not stop")
    left = pending_xa(target)
    if left:
        stats.errors.append(f"prepared XA branches left: {left[:5]}")
    diff, rows = compare(target, expected_table(parts), alter)
    state, leftovers = Migration(target, alter, spec.knobs, work, rng).table_state()
    wanted = {"ok": "migrated", "recovered": "migrated", "refused": "original"}.get(outcome.status)
    if spec.migrate and wanted and state != wanted:
        outcome.fail(f"the outcome is {outcome.status} but the table is {state}")
    return RunReport(spec, outcome, stats, diff, rows, time.monotonic() - started, leftovers)
