"""Scenario harness: load ``tests/scenarios/<name>/`` folders, drive a write load, judge.

A scenario proves one behaviour of the online migration engine against an *oracle*: the
same ``create.sql`` builds the real table ``gh_test`` and a mirror ``ghm_test`` (every
identifier starting with ``gh_`` in the scenario's SQL gets the prefix ``ghm_`` for the
mirror), one load thread writes each ``dml.sql`` statement to the real table and then the
same statement to the mirror, on one connection, in one order. The engine migrates the
real table while the load runs; the mirror is then given the plain ``ALTER TABLE`` with
the same clauses. Both must end identical: row count, md5 of the compared columns in key
order, and ``SHOW CREATE TABLE`` (table name and ``AUTO_INCREMENT=`` normalised).

See docs/scenarios.md for the folder format and how to add a scenario.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django_ghost.engine.migrator import Migrator

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"
TABLE = "gh_test"
MIRROR = "ghm_test"
ENGINE_TABLES = ("_gh_test_gho", "_gh_test_ghc", "_gh_test_del")

_MIRROR_PREFIX = re.compile(r"\bgh_(?=\w)")
_STATEMENT_END = re.compile(r";[ \t]*(?:\r?\n|$)")


def mirror_sql(sql: str) -> str:
    """The same SQL aimed at the mirror's objects: ``gh_x`` becomes ``ghm_x``."""
    return _MIRROR_PREFIX.sub("ghm_", sql)


def split_statements(script: str) -> list[str]:
    """Statements of a dml.sql: each ends with ``;`` at the end of a line; ``--`` lines skipped."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    parts = _STATEMENT_END.split("\n".join(lines) + "\n")
    return [p.strip() for p in parts if p.strip()]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One folder under tests/scenarios, parsed."""

    name: str
    path: Path
    create_sql: str
    alter: str
    dml: tuple[str, ...]
    expect_failure: str | None
    expect_columns: str | None
    options: dict[str, str]
    sql_mode: str | None
    compare_auto_increment: bool = False

    @classmethod
    def load(cls, path: Path) -> Scenario:
        create = _read(path / "create.sql")
        alter = _read(path / "alter")
        if create is None or alter is None:
            raise ValueError(f"scenario {path.name}: create.sql and alter are required")
        options: dict[str, str] = {}
        for line in (_read(path / "options") or "").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                options[key.strip()] = value.strip()
        failure = _read(path / "expect_failure")
        columns = _read(path / "expect_columns")
        sql_mode = _read(path / "sql_mode")
        return cls(
            name=path.name,
            path=path,
            create_sql=create,
            alter=" ".join(alter.split()),
            dml=tuple(split_statements(_read(path / "dml.sql") or "")),
            expect_failure=failure.strip() if failure is not None else None,
            expect_columns=" ".join(columns.split()) if columns and columns.strip() else None,
            options=options,
            sql_mode=sql_mode.strip() if sql_mode is not None else None,
            compare_auto_increment=(path / "compare_auto_increment").exists(),
        )

    @property
    def expects_failure(self) -> bool:
        return self.expect_failure is not None

    def failure_matches(self, message: str) -> bool:
        pattern = self.expect_failure or ""
        if pattern.lower() in message.lower():
            return True
        return re.search(pattern, message, re.IGNORECASE | re.DOTALL) is not None


def all_scenarios() -> list[Scenario]:
    return [
        Scenario.load(p)
        for p in sorted(SCENARIOS_DIR.iterdir())
        if p.is_dir() and (p / "create.sql").exists()
    ]


def session_prelude(scenario: Scenario) -> str:
    if scenario.sql_mode is None:
        return ""
    return f"SET SESSION sql_mode = '{scenario.sql_mode}';\n"


def set_session_sql_mode(conn: Any, scenario: Scenario) -> None:
    if scenario.sql_mode is not None:
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = %s", (scenario.sql_mode,))
        cur.close()


def render(statement: str, table: str, n: int) -> str:
    return statement.replace("{table}", f"`{table}`").replace("{n}", str(n))


@dataclasses.dataclass
class WriteFailure:
    iteration: int
    statement: str
    error: str


class ScenarioLoad(threading.Thread):
    """Loops over the scenario's DML: each statement on the real table, then the mirror.

    Statements without ``{table}`` (``SET time_zone = ...``, ``BEGIN``, ``COMMIT``) run
    once on the shared connection, so session state and transactions cover both tables.
    A statement that fails on the real table is counted and *not* repeated on the mirror
    (the mirror keeps what the real table holds); one that fails on the mirror makes the
    scenario invalid.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        scenario: Scenario,
        tables: tuple[str, ...] = (TABLE, MIRROR),
        pause: float = 0.004,
        max_seconds: float = 180.0,
        first_n: int = 1,
    ):
        super().__init__(name=f"load-{scenario.name}", daemon=True)
        self.scenario = scenario
        self.tables = tables
        self.pause = pause
        self.max_seconds = max_seconds
        self.first_n = first_n
        self.conn = connect()
        set_session_sql_mode(self.conn, scenario)
        self.iterations = 0
        self.writes = 0
        self.failures: list[WriteFailure] = []
        self.mirror_failures: list[WriteFailure] = []
        self.crashed: BaseException | None = None
        self._stop_requested = threading.Event()
        self._stop_after = 0

    def run(self) -> None:
        started = time.monotonic()
        cur = self.conn.cursor()
        try:
            while not self._should_stop(started):
                self._iteration(cur, self.first_n + self.iterations)
                self.iterations += 1
                time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.crashed = exc
        finally:
            cur.close()
            self.conn.close()

    def _should_stop(self, started: float) -> bool:
        if time.monotonic() - started > self.max_seconds:
            return True
        return self._stop_requested.is_set() and self.iterations >= self._stop_after

    def _iteration(self, cur: Any, n: int) -> None:
        for statement in self.scenario.dml:
            if "{table}" not in statement:
                self._execute(cur, render(statement, "", n), n, self.mirror_failures)
                continue
            real, *others = self.tables
            if not self._execute(cur, render(statement, real, n), n, self.failures):
                continue
            self.writes += 1
            for table in others:
                self._execute(cur, render(mirror_sql(statement), table, n), n, self.mirror_failures)

    @staticmethod
    def _execute(cur: Any, sql: str, n: int, failures: list[WriteFailure]) -> bool:
        try:
            cur.execute(sql)
            while cur.nextset():
                pass
            return True
        except Exception as exc:  # noqa: BLE001 - any failed write is a finding
            failures.append(WriteFailure(n, sql, f"{type(exc).__name__}: {exc}"))
            return False

    def wait_for_iterations(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.iterations < count and self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)

    def stop(self, more_iterations: int = 5, timeout: float = 60.0) -> None:
        """Let the load run ``more_iterations`` more, then stop it and wait."""
        self._stop_after = self.iterations + more_iterations
        self._stop_requested.set()
        self.join(timeout)


def primary_key_columns(db: Any, table: str) -> list[str]:
    """The PRIMARY KEY columns, else the first all-NOT-NULL unique key, else []."""
    rows = db.query(f"SHOW INDEX FROM `{table}`")
    keys: dict[str, list[tuple[str, bool]]] = {}
    for row in rows:
        non_unique, index, column, nullable = row[1], row[2], row[4], row[9]
        if int(non_unique) == 0:
            keys.setdefault(index, []).append((column, nullable == "YES"))
    ordered = sorted(keys.items(), key=lambda item: item[0] != "PRIMARY")
    for _, columns in ordered:
        if not any(nullable for _, nullable in columns):
            return [c for c, _ in columns]
    return []


def column_count(db: Any, table: str) -> int:
    return len(db.query(f"SHOW COLUMNS FROM `{table}`"))


def order_by_clause(db: Any, table: str) -> str:
    key = primary_key_columns(db, table)
    if key:
        return ", ".join(f"`{c}`" for c in key)
    return ", ".join(str(i) for i in range(1, column_count(db, table) + 1))


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    rows: int
    md5: str
    create_table: str


def normalised_create(db: Any, table: str) -> str:
    text = db.show_create(table)
    text = text.replace(f"CREATE TABLE `{table}`", "CREATE TABLE `<t>`", 1)
    text = text.replace("`ghm_", "`gh_")  # the mirror's own constraint and table names
    return re.sub(r" AUTO_INCREMENT=\d+", "", text)


def fingerprint(db: Any, table: str, columns: str | None, order_by: str) -> Fingerprint:
    """Row count, md5 of the rows (compared columns, key order) and normalised DDL."""
    cur = db.connect().cursor()
    try:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(f"SELECT {columns or '*'} FROM `{table}` ORDER BY {order_by}")
        digest = hashlib.md5()
        count = 0
        for row in cur.fetchall():
            digest.update(repr(row).encode())
            digest.update(b"\n")
            count += 1
    finally:
        cur.connection.close()
    return Fingerprint(count, digest.hexdigest(), normalised_create(db, table))


def first_difference(db: Any, a: str, b: str, columns: str | None, order_by: str) -> str:
    """A short description of the first differing row, for failure messages."""
    sql = "SELECT {c} FROM `{t}` ORDER BY {o}"
    rows_a = db.query(sql.format(c=columns or "*", t=a, o=order_by))
    rows_b = db.query(sql.format(c=columns or "*", t=b, o=order_by))
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=False)):
        if ra != rb:
            return f"row #{i}: {a}={ra!r} {b}={rb!r}"
    if len(rows_a) != len(rows_b):
        extra = rows_a[len(rows_b)] if len(rows_a) > len(rows_b) else rows_b[len(rows_a)]
        return f"row counts {a}={len(rows_a)} {b}={len(rows_b)}; first extra row {extra!r}"
    return "no row differs (only the md5/DDL)"


def engine_leftovers(db: Any) -> list[str]:
    return [t for t in db.tables() if t in ENGINE_TABLES]


def auto_increment(db: Any, table: str) -> int | None:
    value = db.scalar(
        "SELECT AUTO_INCREMENT FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (db.name, table),
    )
    return None if value is None else int(value)


def seed_rows(db: Any, table: str) -> int:
    return int(db.scalar(f"SELECT COUNT(*) FROM `{table}`"))


def chunk_size_for(rows: int) -> int:
    """Small chunks: about 20 chunks for the seeded rows, never under the minimum of 10."""
    return max(10, -(-rows // 20))


class EngineRun(threading.Thread):
    """Runs ``Migrator(config).run()`` in a thread so a hung engine cannot hang the suite."""

    def __init__(self, config: Any):
        super().__init__(name="migrator", daemon=True)
        self.config = config
        self.stop_requested = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.monotonic()
        try:
            self.result = Migrator(self.config, stop=self.stop_requested).run()
        except BaseException as exc:  # noqa: BLE001 - judged by the test
            self.error = exc
        finally:
            self.seconds = time.monotonic() - started

    def finish(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; on expiry ask the engine to stop. True if done."""
        self.join(timeout)
        if self.is_alive():
            self.stop_requested.set()
            self.join(15.0)
            return False
        return True
