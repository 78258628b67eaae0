"""Write traffic against ``shop_order`` for the demo and the tests: pacing and counting.

The statements name only the columns that exist both before and after the pending
migrations (``0002``..``0004``), the way the application code already deployed keeps
running while a migration is under way: it must not notice the migration at all. The
column added by ``0002`` has a database default (``db_default``) precisely so that these
inserts, which do not name it, keep working after the cut-over.

Nothing here is Django-specific except the connection each worker is handed, so the
pacing and tallying are unit-testable without a server.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# Shares of each kind of write: mostly inserts and updates, some deletes.
MIX = (("insert", 45), ("update", 40), ("delete", 15))
STATUSES = ("new", "paid", "shipped", "cancelled")
# A worker that falls this far behind its schedule (a blocked write) skips the missed
# slots instead of bursting to catch up, so a stall shows as lower throughput, not as a
# spike of writes right after the cut-over.
MAX_BEHIND_SECONDS = 1.0

INSERT_SQL = (
    "INSERT INTO shop_order (customer_id, status, total_cents, note, created_at) "
    "VALUES (%s, %s, %s, %s, UTC_TIMESTAMP(6))"
)
UPDATE_SQL = "UPDATE shop_order SET status = %s, total_cents = total_cents + %s WHERE id = %s"
DELETE_SQL = "DELETE FROM shop_order WHERE id = %s"


@dataclasses.dataclass
class Tally:
    """What one worker (or, merged, all workers) did. Thread-confined until merged."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    failed: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    latencies: list[float] = dataclasses.field(default_factory=list)
    # Ids of rows this traffic created and removed, so a caller can check the table row
    # by row (demo.py does), not only by count.
    inserted_ids: list[int] = dataclasses.field(default_factory=list)
    deleted_ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def writes(self) -> int:
        """Successful write statements (a statement matching no row still succeeded)."""
        return self.inserts + self.updates + self.deletes

    def merge(self, other: Tally) -> Tally:
        return Tally(
            inserts=self.inserts + other.inserts,
            updates=self.updates + other.updates,
            deletes=self.deletes + other.deletes,
            failed=self.failed + other.failed,
            rows_inserted=self.rows_inserted + other.rows_inserted,
            rows_updated=self.rows_updated + other.rows_updated,
            rows_deleted=self.rows_deleted + other.rows_deleted,
            errors=self.errors + other.errors,
            latencies=self.latencies + other.latencies,
            inserted_ids=self.inserted_ids + other.inserted_ids,
            deleted_ids=self.deleted_ids + other.deleted_ids,
        )

    def summary(self, *, seconds: float, tps_target: float, threads: int) -> dict[str, Any]:
        """The machine-readable summary ``simulate_traffic`` prints as its last line."""
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
        return {
            "writes": self.writes,
            "failed": self.failed,
            "inserts": self.inserts,
            "updates": self.updates,
            "deletes": self.deletes,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "rows_deleted": self.rows_deleted,
            "seconds": round(seconds, 3),
            "threads": threads,
            "tps_target": tps_target,
            "tps_actual": round((self.writes + self.failed) / seconds, 1) if seconds else 0.0,
            "latency_p99_ms": round(p99 * 1000, 1),
            "latency_max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 1),
            "errors": dict(self.errors.most_common(10)),
        }


def pick(rng: random.Random) -> str:
    """Draw the kind of the next write according to MIX."""
    return rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]


class Pacer:
    """Slots at a fixed rate; ``wait()`` sleeps until the next one (or until stopped)."""

    def __init__(self, rate: float, stop: threading.Event, clock: Callable[[], float]):
        self.interval = 1.0 / rate
        self.stop = stop
        self.clock = clock
        self.next_at = clock()

    def wait(self) -> bool:
        """True when it is time for the next write; False once stopped."""
        now = self.clock()
        if now - self.next_at > MAX_BEHIND_SECONDS:
            self.next_at = now
        delay = self.next_at - now
        self.next_at += self.interval
        if delay > 0:
            return not self.stop.wait(delay)
        return not self.stop.is_set()


class Worker:
    """One thread's writes over one connection (a DB-API cursor factory)."""

    def __init__(
        self,
        *,
        cursor: Callable[[], Any],
        on_error: Callable[[], None],
        id_range: tuple[int, int],
        customers: int,
        seed: int | None,
    ):
        self.cursor = cursor
        self.on_error = on_error
        self.low, self.high = id_range
        self.customers = max(1, customers)
        self.rng = random.Random(seed)
        self.tally = Tally()

    def run(self, pacer: Pacer, deadline: float | None) -> Tally:
        while pacer.wait():
            if deadline is not None and pacer.clock() >= deadline:
                break
            self.write_once()
        return self.tally

    def write_once(self) -> None:
        kind = pick(self.rng)
        began = time.monotonic()
        try:
            with self.cursor() as cur:
                if kind == "insert":
                    cur.execute(INSERT_SQL, self._insert_values())
                    self.tally.rows_inserted += cur.rowcount
                    self.tally.inserted_ids.append(int(cur.lastrowid or 0))
                    self.high = max(self.high, int(cur.lastrowid or 0))
                elif kind == "update":
                    status = self.rng.choice(STATUSES)
                    cur.execute(UPDATE_SQL, (status, self.rng.randint(1, 99), self._some_id()))
                    self.tally.rows_updated += cur.rowcount
                else:
                    target = self._some_id()
                    cur.execute(DELETE_SQL, (target,))
                    self.tally.rows_deleted += cur.rowcount
                    if cur.rowcount:
                        self.tally.deleted_ids.append(target)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, never hidden
            self.tally.failed += 1
            self.tally.errors[f"{kind}: {type(exc).__name__}: {exc}"[:200]] += 1
            self.on_error()
            return
        self.tally.latencies.append(time.monotonic() - began)
        setattr(self.tally, kind + "s", getattr(self.tally, kind + "s") + 1)

    def _insert_values(self) -> tuple[Any, ...]:
        note = "traffic" if self.rng.random() < 0.1 else ""
        return (self.rng.randint(1, self.customers), "new", self.rng.randint(100, 50_000), note)

    def _some_id(self) -> int:
        return self.rng.randint(self.low, max(self.low, self.high))
