"""Where the throttle checks read their inputs: the reader types the throttler takes, and
the readers built on a database connection or on HTTP.

The throttler is given these as plain callables so tests can pass fakes; the ones here
are what a real migration wires in.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

StatusReader = Callable[[], Mapping[str, Any]]
ScalarQuery = Callable[[str], object]
HttpChecker = Callable[[str, float], int]
LagReader = Callable[[], "float | None"]
ReplicaLagReader = Callable[[str], Mapping[str, "float | None"]]
Clock = Callable[[], float]


def http_head_status(url: str, timeout_seconds: float) -> int:
    """HEAD ``url`` and return the status code; raise OSError when there is no answer."""
    try:
        request = urllib.request.Request(url, method="HEAD")
    except ValueError as exc:  # no scheme: gh-ost also counts this as a connection error
        raise OSError(str(exc)) from None
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except ValueError as exc:
        raise OSError(str(exc)) from None


def connection_status_reader(conn: Any) -> StatusReader:
    """A StatusReader running SHOW GLOBAL STATUS on ``conn`` (one owned by the throttler)."""

    def read() -> dict[str, Any]:
        cur = conn.cursor()
        try:
            cur.execute("SHOW GLOBAL STATUS")
            return {str(name): value for name, value in cur.fetchall()}
        finally:
            cur.close()

    return read


def connection_scalar_query(conn: Any) -> ScalarQuery:
    """A ScalarQuery returning the first column of the first row (None when empty).

    ``conn`` must be in autocommit mode: inside one REPEATABLE READ transaction every
    run of the query would see the same snapshot and never stop throttling.
    """

    def run(sql: str) -> object:
        cur = conn.cursor()
        try:
            cur.execute(sql)
            row = cur.fetchone()
            while cur.nextset():  # a multi-result query must not leave the connection busy
                pass
            return None if row is None else row[0]
        finally:
            cur.close()

    return run
