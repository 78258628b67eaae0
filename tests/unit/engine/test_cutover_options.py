"""The pure parts of the instant route (cutover/instant.py) and of the ANALYZE before
the cut-over (cutover/analyze.py)."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.cutover.analyze import analyze_problems
from django_ghost.engine.cutover.instant import instant_statement, try_instant
from django_ghost.engine.sql.alter import parse_alter


class ServerError(Exception):
    """An error carrying the server's code first, as MySQLdb's and Django's do."""


class FakeSession:
    """A DB-API connection that records statements; the ALTER raises ``error`` if set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.statements: list[str] = []

    def cursor(self) -> FakeSession:
        return self

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if sql.startswith("ALTER") and self.error is not None:
            raise self.error

    def fetchone(self) -> tuple[int]:
        return (31536000,)


def test_try_instant__server_does_it__true_and_lock_wait_timeout_restored() -> None:
    session = FakeSession()
    assert try_instant(session, "ALTER TABLE `t` ADD COLUMN x INT", lock_wait_timeout=3)
    assert session.statements == [
        "SELECT @@SESSION.lock_wait_timeout",
        "SET SESSION lock_wait_timeout = 3",
        "ALTER TABLE `t` ADD COLUMN x INT, ALGORITHM=INSTANT",
        "SET SESSION lock_wait_timeout = 31536000",
    ]


@pytest.mark.parametrize("code", [1845, 1846, 4092, 1205])
def test_try_instant__not_instant_error__false_and_restored(code: int) -> None:
    session = FakeSession(ServerError(code, "ALGORITHM=INSTANT is not supported"))
    assert not try_instant(session, "ALTER TABLE `t` ADD INDEX (v)", lock_wait_timeout=3)
    assert session.statements[-1] == "SET SESSION lock_wait_timeout = 31536000"


def test_try_instant__other_error__raised_and_restored() -> None:
    session = FakeSession(ServerError(1054, "Unknown column 'nope'"))
    with pytest.raises(ServerError, match="Unknown column"):
        try_instant(session, "ALTER TABLE `t` DROP COLUMN nope", lock_wait_timeout=3)
    assert session.statements[-1] == "SET SESSION lock_wait_timeout = 31536000"


@pytest.mark.parametrize(
    ("alter", "expected"),
    [
        ("ADD COLUMN x INT", "ALTER TABLE `t` ADD COLUMN x INT"),
        ("ADD COLUMN x INT, ALGORITHM=INSTANT", "ALTER TABLE `t` ADD COLUMN x INT"),
        ("ADD COLUMN x INT, ALGORITHM=INPLACE", None),
        ("ALTER TABLE t ADD COLUMN x INT; ALTER TABLE t ADD COLUMN y INT", None),
    ],
)
def test_instant_statement__alter__one_statement_without_other_algorithm(
    alter: str, expected: str | None
) -> None:
    assert instant_statement(parse_alter(alter), "t") == expected


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        ([("d.t", "analyze", "status", "OK")], []),
        (
            [("d.t", "analyze", "status", "Engine-independent statistics collected"),
             ("d.t", "analyze", "status", "OK")],
            [],
        ),
        (
            [("d.t", "analyze", "Error", "Table 'd.t' doesn't exist"),
             ("d.t", "analyze", "status", "Operation failed")],
            ["Table 'd.t' doesn't exist"],
        ),
        (
            [("d.t", "analyze", "note", "The storage engine doesn't support analyze")],
            ["the server did not report the table as analyzed (no status OK)"],
        ),
    ],
)  # fmt: skip
def test_analyze_problems__result_rows__errors_or_missing_ok(
    rows: list[tuple[str, str, str, str]], problems: list[str]
) -> None:
    assert analyze_problems(rows) == problems
