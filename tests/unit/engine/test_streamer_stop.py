"""Stopping the streamer: the reader is closed first, which ends a read still waiting
for events, and what that read raises is not the migration's error
(apply/streamer.py ``Streamer.stop``)."""

from __future__ import annotations

import threading

from django_ghost.engine.apply.streamer import Streamer
from django_ghost.engine.binlog.events import BinlogEvent, BinlogPosition
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import BinlogError

AT = BinlogPosition("binlog.000001", 100)


class _BlockingReader:
    """Waits in read() until closed, then raises as a closed stream does."""

    def __init__(self) -> None:
        self.reading = threading.Event()
        self._closed = threading.Event()

    def read(self, max_events: int, timeout: float) -> list[BinlogEvent]:
        self.reading.set()
        # No timeout of its own: only close() can end this read.
        self._closed.wait()
        raise BinlogError("the binlog stream is closed")

    @property
    def position(self) -> BinlogPosition:
        return AT

    def close(self) -> None:
        self._closed.set()


def _reading() -> tuple[MigrationContext, _BlockingReader, Streamer]:
    """A started streamer whose reader waits in read()."""
    context = MigrationContext(GhostConfig(database="app", table="t", alter="ADD x INT"))
    reader = _BlockingReader()
    streamer = Streamer(reader, context, table="t", changelog_table="_t_ghc")
    streamer.start()
    assert reader.reading.wait(5)
    return context, reader, streamer


def test_stop__read_waiting_for_events__read_ended_and_no_error() -> None:
    context, _, streamer = _reading()
    streamer.stop()
    assert not streamer._thread.is_alive()
    assert streamer.error is None
    assert not context.aborted


def test_stream_error__while_running__handed_to_the_migration() -> None:
    context, reader, streamer = _reading()
    reader.close()  # the stream fails on its own, no stop requested
    streamer._thread.join(5)
    assert isinstance(streamer.error, BinlogError)
    assert context.aborted
