"""The keys the apply has written to the ghost since they were last verified.

The applier adds every key it re-read or deleted (a by-key batch, a refresh), with the
binlog position it had consumed when it did: a verification of that key is conclusive
only on a snapshot that includes every transaction up to that position
(verify/keyed.py). Keys only, never row values, so the memory is bounded by the number
of distinct keys changed since the last verification; the verifier takes the oldest
first and keeps the set under :data:`SOFT_CAP` by verifying sooner when it grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..binlog.events import BinlogPosition
from .fence import binlog_order

Key = tuple[Any, ...]
Entry = tuple[Key, BinlogPosition | None]

SOFT_CAP = 100_000
"""Above this many keys the verifier verifies batch after batch at its next turn (a key
is a tuple of a few values: about 100 bytes each, so some 10 MB at the cap)."""


class TouchedKeys:
    """An insertion-ordered set of keys, each with the position it was applied up to.

    Adding a key already present moves it to the end with the new position: it was just
    re-read, so it is the last one worth verifying again.
    """

    def __init__(self) -> None:
        self._keys: dict[Key, BinlogPosition | None] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, keys: Iterable[Key], position: BinlogPosition | None) -> None:
        for key in keys:
            self._keys.pop(key, None)
            self._keys[key] = position

    def put_back(self, entries: Iterable[Entry]) -> None:
        """Return taken keys (not verified after all) with their own positions; a key
        added again meanwhile keeps its newer entry."""
        for key, position in entries:
            if key not in self._keys:
                self._keys[key] = position

    def take(self, count: int) -> list[Entry]:
        """Remove and return the ``count`` oldest keys."""
        taken: list[Entry] = []
        for key in self._keys:
            if len(taken) >= count:
                break
            taken.append((key, self._keys[key]))
        for key, _ in taken:
            del self._keys[key]
        return taken

    def take_all(self) -> list[Entry]:
        taken = list(self._keys.items())
        self._keys.clear()
        return taken

    def discard(self, keys: Sequence[Key]) -> None:
        for key in keys:
            self._keys.pop(key, None)

    def clear(self) -> None:
        """Forget every key: a full comparison has verified them all (the checksum)."""
        self._keys.clear()

    @property
    def over_cap(self) -> bool:
        return len(self._keys) > SOFT_CAP


class NewestEvents:
    """The position of the newest row event the stream has read for each key of the
    migrated table, written by the streamer's thread only.

    An applied key whose newest event is past the position it was applied up to has a
    change still queued: verifying it now would find it different (the original is
    ahead) and re-apply it for nothing, since the queued event re-applies it anyway and
    records it again. Two generations of :data:`GENERATION` keys each bound the memory;
    a key forgotten with the older one is verified as before, which costs a comparison,
    never a check.
    """

    GENERATION = 200_000

    def __init__(self) -> None:
        self._current: dict[Key, BinlogPosition] = {}
        self._previous: dict[Key, BinlogPosition] = {}

    def note(self, keys: Iterable[Key], position: BinlogPosition) -> None:
        current = self._current
        for key in keys:
            current[key] = position
        if len(current) > self.GENERATION:
            # Two assignments, each atomic for the verifier's reads on the other thread.
            self._previous = current
            self._current = {}

    def newer_than(self, key: Key, position: BinlogPosition) -> bool:
        """Whether a row event of ``key`` past ``position`` has been read."""
        found = self._current.get(key) or self._previous.get(key)
        return found is not None and binlog_order(found) > binlog_order(position)
