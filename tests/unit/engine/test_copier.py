"""The copier (copy/copier.py): the visibility fence before each chunk's read, a
duplicate-key error taken for real only when confirmed, each retried chunk's error told
(the batch-copy-retry hook) and, with panic_on_warnings, a chunk's warning stops it."""

from __future__ import annotations

from typing import Any

import MySQLdb
import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.copy.copier import Copier
from django_ghost.engine.errors import DataError
from django_ghost.engine.mysql.dataerrors import DUPLICATE_CONFIRMATIONS
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan

PRIMARY = UniqueKey("PRIMARY", ("id",), False)


class Log:
    """One ordered record of the writer's statements and the fence's waits."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def cursor(self) -> Log:
        return self

    def execute(self, sql: str, params: Any = None) -> int:
        self.entries.append(sql.split()[0])
        return 3

    def close(self) -> None:
        pass


class OneChunk:
    """A chunker with a single chunk left."""

    first = True
    done = False

    def next_chunk(self, size: int) -> bool:
        return not self.done

    def advance(self) -> None:
        self.done = True


def table(name: str) -> TableInfo:
    columns = tuple(
        Column(c, i, "int", "int(11)", False, None, None, False, None, 10, 0, None)
        for i, c in enumerate(("id", "v"), start=1)
    )
    return TableInfo("s", name, "InnoDB", columns, (PRIMARY,), 0, None, (), (), ())


def test_copy_next__fence_given__runs_before_the_chunk_reads() -> None:
    plan = build_plan(table("t"), table("_t_gho"), renamed={}, dropped=frozenset())
    log = Log()
    copier = Copier(
        log,  # type: ignore[arg-type]
        plan,
        OneChunk(),  # type: ignore[arg-type]
        MigrationContext(GhostConfig(database="s", table="t", alter="FORCE")),
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        lock_clause="",
        before_chunk=lambda: log.entries.append("fence"),
    )

    assert copier.copy_next()
    assert not copier.copy_next()

    assert log.entries == ["fence", "INSERT"]
    assert copier.context.rows_copied == 3


class Duplicates(Log):
    """The chunk's INSERT fails ``failures`` times with a duplicate-key error."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def execute(self, sql: str, params: Any = None) -> int:
        if self.failures:
            self.failures -= 1
            raise MySQLdb.IntegrityError(1062, "Duplicate entry '5' for key 'uv'")
        return super().execute(sql, params)


def copier_resolving(conn: Log, lookups: list[int]) -> Copier:
    plan = build_plan(table("t"), table("_t_gho"), renamed={}, dropped=frozenset())
    return Copier(
        conn,  # type: ignore[arg-type]
        plan,
        OneChunk(),  # type: ignore[arg-type]
        MigrationContext(GhostConfig(database="s", table="t", alter="FORCE")),
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        lock_clause="",
        resolve_conflicts=lambda cond: lookups.append(0) or 0,
    )


def test_copy_next__duplicate_whose_value_moved_before_the_lookup__retried_and_copied() -> None:
    conn, lookups = Duplicates(failures=1), []
    copier = copier_resolving(conn, lookups)

    assert copier.copy_next()

    assert conn.entries == ["INSERT"]
    assert lookups == [0]


def test_copy_next__duplicate_in_the_data__data_error_after_confirmations() -> None:
    conn, lookups = Duplicates(failures=10), []
    copier = copier_resolving(conn, lookups)

    with pytest.raises(DataError, match="[Dd]uplicate"):
        copier.copy_next()
    assert len(lookups) == DUPLICATE_CONFIRMATIONS


class FailsTwice(Log):
    """A writer whose first two INSERTs time out on a row lock; warnings on request."""

    def __init__(self, warnings: int = 0) -> None:
        super().__init__()
        self.failures = 2
        self.warnings = warnings

    def execute(self, sql: str, params: Any = None) -> int:
        if sql.startswith("INSERT") and self.failures:
            self.failures -= 1
            raise MySQLdb.OperationalError(1205, "Lock wait timeout exceeded")
        if sql == "SHOW WARNINGS":
            self.rows = [("Note", 1265, "Data truncated for column 'd' at row 2")]
        return super().execute(sql, params)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def warning_count(self) -> int:
        return self.warnings


def copier_on(conn: Log, on_retry: Any = None, **options: Any) -> Copier:
    plan = build_plan(table("t"), table("_t_gho"), renamed={}, dropped=frozenset())
    return Copier(
        conn,  # type: ignore[arg-type]
        plan,
        OneChunk(),  # type: ignore[arg-type]
        MigrationContext(GhostConfig(database="s", table="t", alter="FORCE", **options)),
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        lock_clause="",
        sleep=lambda seconds: None,
        on_retry=on_retry,
    )


def test_copy_next__lock_wait_timeouts__each_retry_reported_then_copied() -> None:
    retries: list[str] = []
    copier = copier_on(FailsTwice(), on_retry=retries.append)
    assert copier.copy_next()
    assert retries == ["1205: Lock wait timeout exceeded"] * 2
    assert copier.context.rows_copied == 3


@pytest.mark.parametrize("panic", [True, False])
def test_copy_next__chunk_raises_a_note__data_error_only_with_panic_on_warnings(
    panic: bool,
) -> None:
    conn = FailsTwice(warnings=1)
    conn.failures = 0
    copier = copier_on(conn, panic_on_warnings=panic)
    if not panic:
        assert copier.copy_next()
        assert "SHOW" not in conn.entries
        return
    with pytest.raises(DataError, match=r"panic_on_warnings: a copy chunk raised 1 warning"):
        copier.copy_next()
    assert conn.entries == ["INSERT", "SHOW"]
