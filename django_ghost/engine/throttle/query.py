"""The throttle-query source: a scalar SQL query run on the applier; a result > 0
throttles. Run at most once per general interval, and at once when the query changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..context import LiveKnobs
from .check import Cached, ThrottleCheck

logger = logging.getLogger("django_ghost")

ScalarQuery = Callable[[str], object]


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


class ThrottleQuery(ThrottleCheck):
    """``throttle_query`` returns a value > 0: throttle. NULL, 0 and errors do not."""

    name = "throttle-query"

    def __init__(self, query: ScalarQuery | None, interval_seconds: float):
        self.query = query
        self.interval_seconds = interval_seconds
        self._cached = Cached()

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        sql = knobs.throttle_query
        if not sql.strip() or self.query is None:
            return None
        cached = self._cached
        if cached.key != sql or now - cached.at >= self.interval_seconds:
            try:
                value = self.query(sql)
                throttle = float(str(value)) > 0 if value is not None else False
            except Exception as exc:  # gh-ost: errors count as 0 (no throttling)
                logger.warning("throttle-query failed (ignored): %s", exc)
                throttle = False
            self._cached = Cached(sql, now, throttle)
        return "throttle-query" if self._cached.value else None
