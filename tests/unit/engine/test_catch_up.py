"""When the catch-up ends (apply/streaming.py): the apply's lag under the limit, however
long the queue, and every ``settled`` condition (the verification by key's set small
enough for the lock). And the latency target's pause before a copy chunk, which is
spent applying."""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest

import django_ghost.engine.apply.streaming as streaming_module
from django_ghost.engine.apply.streaming import Streaming
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.metrics.registry import Registry, Series


class Streamer:
    error = None

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()


class Applier:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def drain(self, items: Any, *, max_events: int, wait: float = 0.0) -> list[str]:
        self.waits.append(wait)
        time.sleep(wait)  # an empty queue: the real drain waits this long for an event
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
    s.catch_up(settle=True)
    assert len(asked) == 4


def test_catch_up__settled__ends_at_once() -> None:
    s, asked = streaming(settled_after=0)
    s.catch_up(settle=True)
    assert len(asked) == 1


def test_catch_up__long_queue_but_lag_under_the_limit__ends() -> None:
    s, asked = streaming(settled_after=0)
    for i in range(20_000):
        s.streamer.queue.put(i)
    s.context.lag_seconds = 0.9  # max_lag_millis is 1,500 by default
    s.catch_up(settle=True)
    assert len(asked) == 1


def test_catch_up__lag_over_the_limit__goes_on() -> None:
    s, asked = streaming(settled_after=0)
    s.context.lag_seconds = 2.0
    s.catch_up(max_wait=0.3)  # ends by its deadline only
    assert asked == []


def test_catch_up__never_settled__ends_after_the_settle_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming_module, "SETTLE_WAIT_SECONDS", 0.2)
    s, asked = streaming(settled_after=10**9)
    s.catch_up(settle=True)
    assert len(asked) >= 1


def test_catch_up__without_settle__ends_on_the_lag_alone() -> None:
    s, asked = streaming(settled_after=10**9)
    s.catch_up()
    assert asked == []


def test_catch_up__second_settling_attempt__shares_the_first_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming_module, "SETTLE_WAIT_SECONDS", 0.3)
    s, asked = streaming(settled_after=10**9)
    s.catch_up(settle=True)
    first = len(asked)
    s.catch_up(settle=True)
    assert first >= 1
    assert len(asked) == first  # the wait is over: not asked again


def test_catch_up__caught_up_already__returns_without_waiting_for_events() -> None:
    s, _ = streaming(settled_after=0)
    s.catch_up()
    assert s.applier.waits == [0.0]  # type: ignore[attr-defined]


def test_catch_up__lag_over_the_limit__later_rounds_wait_for_events() -> None:
    s, _ = streaming(settled_after=0)
    s.context.lag_seconds = 2.0
    s.catch_up(max_wait=0.2)
    waits = s.applier.waits  # type: ignore[attr-defined]
    assert waits[0] == 0.0
    assert len(waits) > 1 and set(waits[1:]) == {0.05}


def test_apply_through_pause__pause_set__spent_applying_and_recorded() -> None:
    s, _ = streaming(settled_after=0)
    registry = s.context.metrics = Registry()
    s.context.pacing.pause_seconds = 0.3
    s.apply_through_pause()
    waits = s.applier.waits  # type: ignore[attr-defined]
    # The applier was asked for events all through the pause, never longer than the poll
    # (slept, the pause would have asked it nothing).
    assert len(waits) >= 4 and max(waits) <= streaming_module.PAUSE_POLL_SECONDS
    pacing = (("stage", "latency_pacing"),)
    assert Series("sleep.duration_milliseconds", "histogram", pacing, 300, 1) in registry.series()


def test_apply_through_pause__no_pause__returns_at_once() -> None:
    s, _ = streaming(settled_after=0)
    s.apply_through_pause()
    assert s.applier.waits == []  # type: ignore[attr-defined]


def test_apply_through_pause__aborted_meanwhile__raises() -> None:
    s, _ = streaming(settled_after=0)
    s.context.pacing.pause_seconds = 5.0
    s.context.request_abort("panic")
    with pytest.raises(streaming_module.AbortedError, match="panic"):
        s.apply_through_pause()
