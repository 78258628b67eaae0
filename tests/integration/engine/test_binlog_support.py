"""Shared helpers of the binlog integration tests (no tests here): open, drain a stream."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django_ghost.engine.binlog.coordinates import current_position
from django_ghost.engine.binlog.events import BinlogEvent, BinlogPosition, RowChange
from django_ghost.engine.binlog.reader import WatchSpec
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.mysql.connection import ConnectionSpec

# Every dump connection needs its own server id: the server kills an older dump thread
# that registered with the same id.
_server_ids = itertools.count(10_000 + (os.getpid() % 5_000) * 100)


def spec_of(db: Any) -> ConnectionSpec:
    s = db.server
    return ConnectionSpec(host=s.host, port=s.port, user=s.user, password=s.password)


def position(db: Any) -> BinlogPosition:
    conn = db.connect()
    try:
        return current_position(conn)
    finally:
        conn.close()


def open_stream(
    db: Any,
    watch: Mapping[str, Sequence[str] | WatchSpec],
    start: BinlogPosition,
    **kwargs: Any,
) -> BinlogStream:
    specs = {
        name: w if isinstance(w, WatchSpec) else WatchSpec(tuple(w)) for name, w in watch.items()
    }
    return BinlogStream(
        spec_of(db),
        server_id=next(_server_ids),
        schema=db.name,
        watch=specs,
        start=start,
        **kwargs,
    )


def drain(stream: BinlogStream, end: BinlogPosition, timeout: float = 20.0) -> list[BinlogEvent]:
    """Read until the stream has returned the event that ends at ``end``."""
    events: list[BinlogEvent] = []
    deadline = time.monotonic() + timeout
    while stream.position < end:
        assert time.monotonic() < deadline, f"stream stuck at {stream.position}, wanted {end}"
        events += stream.read(1000, 0.5)
    return events


def read_all(
    db: Any,
    watch: Mapping[str, Sequence[str] | WatchSpec],
    start: BinlogPosition,
    **kwargs: Any,
) -> list[BinlogEvent]:
    """Every event from ``start`` to the server's current position."""
    end = position(db)
    stream = open_stream(db, watch, start, **kwargs)
    try:
        return drain(stream, end)
    finally:
        stream.close()


def row_changes(events: Sequence[BinlogEvent]) -> list[RowChange]:
    return [e for e in events if isinstance(e, RowChange)]
