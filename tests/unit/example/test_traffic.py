"""simulate_traffic's pacing and counting, with fake cursors and a fake clock."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from shop import traffic


class FakeCursor:
    """Records statements; raises on the statement kinds listed in ``fail``."""

    def __init__(self, log: list[str], fail: frozenset[str] = frozenset()):
        self.log = log
        self.fail = fail
        self.rowcount = 0
        self.lastrowid = 0

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: Any = None) -> None:
        kind = sql.split()[0].lower()
        if kind in self.fail:
            raise RuntimeError(f"{kind} refused")
        self.log.append(kind)
        self.rowcount = 1
        self.lastrowid = 1000 + len(self.log)


def make_worker(fail: frozenset[str] = frozenset()) -> tuple[traffic.Worker, list[str], list[int]]:
    log: list[str] = []
    errors: list[int] = []
    worker = traffic.Worker(
        cursor=lambda: FakeCursor(log, fail),
        on_error=lambda: errors.append(1),
        id_range=(1, 100),
        customers=10,
        seed=3,
    )
    return worker, log, errors


def test_every_write_is_counted_once() -> None:
    worker, log, errors = make_worker()
    for _ in range(500):
        worker.write_once()
    tally = worker.tally
    assert tally.writes == 500 == len(log)
    assert tally.failed == 0 and not errors
    kinds = {"insert": tally.inserts, "update": tally.updates, "delete": tally.deletes}
    assert Counter(log) == kinds
    # The ids it created and removed are kept for row-by-row checks.
    assert len(tally.inserted_ids) == tally.rows_inserted == tally.inserts
    assert len(tally.deleted_ids) == tally.rows_deleted == tally.deletes
    # All three kinds occur, roughly in the MIX proportions.
    assert 150 < tally.inserts < 300 and 120 < tally.updates < 280 and 30 < tally.deletes < 130


def test_failures_are_counted_with_their_message_and_reconnect() -> None:
    worker, log, errors = make_worker(fail=frozenset({"insert"}))
    for _ in range(200):
        worker.write_once()
    tally = worker.tally
    assert tally.inserts == 0
    assert tally.failed == len(errors) > 0
    assert tally.writes + tally.failed == 200
    assert list(tally.errors) == ["insert: RuntimeError: insert refused"]


def test_summary_adds_up() -> None:
    a = traffic.Tally(inserts=3, updates=2, deletes=1, failed=1, rows_deleted=1)
    a.latencies = [0.001] * 6
    b = traffic.Tally(inserts=1, failed=2, errors=Counter({"x": 2}), latencies=[0.5])
    summary = a.merge(b).summary(seconds=2.0, tps_target=5, threads=2)
    assert summary["writes"] == 7
    assert summary["failed"] == 3
    assert summary["tps_actual"] == 5.0
    assert summary["latency_max_ms"] == 500.0
    assert summary["errors"] == {"x": 2}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SteppingEvent(threading.Event):
    """An Event whose wait() advances the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock):
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self.clock.now += timeout or 0.0
        return self.is_set()


def test_pacer_keeps_the_rate() -> None:
    clock = FakeClock()
    pacer = traffic.Pacer(10.0, SteppingEvent(clock), clock)
    for _ in range(11):
        assert pacer.wait()
    assert clock.now == pytest.approx(1.0)


def test_pacer_skips_slots_after_a_long_stall() -> None:
    clock = FakeClock()
    pacer = traffic.Pacer(10.0, SteppingEvent(clock), clock)
    pacer.wait()
    clock.now = 5.0  # a write blocked for five seconds
    assert pacer.wait()
    assert pacer.next_at == pytest.approx(5.1)  # no burst of 50 catch-up writes


def test_pacer_stops() -> None:
    clock = FakeClock()
    stop = SteppingEvent(clock)
    pacer = traffic.Pacer(10.0, stop, clock)
    stop.set()
    assert not pacer.wait()
