"""The BinlogReader protocol the streamer consumes, and an in-memory fake for tests."""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from .events import BinlogEvent, BinlogPosition


@dataclasses.dataclass(frozen=True)
class WatchSpec:
    """Which columns of one watched table to decode, by name, in this order."""

    columns: tuple[str, ...]


class BinlogReader(Protocol):
    """A stream of decoded events for the watched tables of one schema."""

    def read(self, max_events: int, timeout: float) -> list[BinlogEvent]:
        """Up to ``max_events`` events; waits at most ``timeout`` seconds for the first."""
        ...

    @property
    def position(self) -> BinlogPosition:
        """Position just after the last event returned by :meth:`read`."""
        ...

    def close(self) -> None: ...


class FakeBinlogReader:
    """A BinlogReader over a list of events fed by the test."""

    def __init__(self, start: BinlogPosition, events: Iterable[BinlogEvent] = ()):
        self._events: deque[BinlogEvent] = deque(events)
        self._position = start
        self.closed = False

    def feed(self, *events: BinlogEvent) -> None:
        self._events.extend(events)

    def read(self, max_events: int, timeout: float) -> list[BinlogEvent]:
        if not self._events:
            time.sleep(min(timeout, 0.01))
        out: list[BinlogEvent] = []
        while self._events and len(out) < max_events:
            event = self._events.popleft()
            out.append(event)
            self._position = event.position
        return out

    @property
    def position(self) -> BinlogPosition:
        return self._position

    def close(self) -> None:
        self.closed = True
