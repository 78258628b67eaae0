"""``analyze_ghost_table_before_cutover``: ANALYZE TABLE on the ghost before the cut-over.

The ghost was filled by the copy and the apply; InnoDB recomputes its persistent
statistics in the background, at its own pace, so right after the swap the optimizer may
plan the application's queries with statistics taken from a nearly empty table.
``ANALYZE TABLE`` first (gh-ost's ``--analyze-ghost-table-before-cutover``) makes them
fresh when the table takes the traffic. It runs once, after the cut-over was approved
and before test_on_replica stops replication, outside any lock. As in gh-ost, a failure
is fatal: the server said the table could not be analyzed, which no retry fixes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import CutOverError
from ..mysql.connection import Connection, query
from ..sql.quote import quote_identifier as q

log = logging.getLogger("django_ghost")


def analyze_problems(rows: Iterable[Sequence[Any]]) -> list[str]:
    """What is wrong in ANALYZE TABLE's result rows (Table, Op, Msg_type, Msg_text): an
    error row, or no ``status``/``OK`` row at all; empty when the table was analyzed."""
    problems: list[str] = []
    ok = False
    for row in rows:
        kind, text = str(row[2]).lower(), str(row[3])
        if kind == "error":
            problems.append(text)
        elif kind == "status" and text == "OK":
            ok = True
    if not ok and not problems:
        problems.append("the server did not report the table as analyzed (no status OK)")
    return problems


def analyze_ghost(conn: Connection, ghost: str, original: str) -> None:
    """ANALYZE TABLE ``ghost`` on ``conn``; raise CutOverError if the server refused."""
    rows = query(conn, f"ANALYZE TABLE {q(ghost)}")
    problems = analyze_problems(rows)
    if problems:
        raise CutOverError(
            f"ANALYZE TABLE {ghost} before the cut-over failed: {'; '.join(problems)}. "
            f"Nothing was swapped: the original table {original} is untouched. Fix the "
            "cause, or run without analyze_ghost_table_before_cutover."
        )
    log.info("ANALYZE TABLE %s before the cut-over: OK", ghost)
