"""When the catch-up ends (apply/streaming.py): a small lag, a short queue (or a lag
within CLOSE_LAG_SECONDS), and every ``settled`` condition (the verification by key's
set small enough for the lock)."""

from __future__ import annotations

import queue
from typing import Any

from django_ghost.engine.apply.streaming import CLOSE_LAG_SECONDS, Streaming
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext


class Streamer:
    error = None

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()


class Applier:
    def drain(self, items: Any, *, max_events: int, wait: float = 0.0) -> list[str]:
        return []


def streaming(settled_after: int) -> tuple[Streaming, list[int]]:
    context = MigrationContext(GhostConfig(database="d", table="t", alter="FORCE"))
    context.lag_seconds = 0.0
    asked: list[int] = []

    def settled() -> bool:
        asked.append(1)
        return len(asked) > settled_after

    s = Streaming(
        context,
        Streamer(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        Applier(),  # type: ignore[arg-type]
        None,
        throttle_wait=lambda tick: None,
        report=lambda: None,
    )
    s.settled.append(settled)
    return s, asked


def test_catch_up__not_settled_yet__goes_on_until_settled() -> None:
    s, asked = streaming(settled_after=3)
    s.catch_up()
    assert len(asked) == 4


def test_catch_up__settled__ends_at_once() -> None:
    s, asked = streaming(settled_after=0)
    s.catch_up()
    assert len(asked) == 1


def test_catch_up__long_queue_but_apply_within_close_lag__ends() -> None:
    s, asked = streaming(settled_after=0)
    for i in range(1500):
        s.streamer.queue.put(i)
    s.context.lag_seconds = CLOSE_LAG_SECONDS / 2
    s.catch_up()
    assert len(asked) == 1


def test_catch_up__long_queue_and_lag_past_close_lag__goes_on() -> None:
    s, asked = streaming(settled_after=0)
    for i in range(1500):
        s.streamer.queue.put(i)
    s.context.lag_seconds = CLOSE_LAG_SECONDS * 2  # still under max_lag_millis
    s.catch_up(max_wait=0.3)  # ends by its deadline only
    assert asked == []
