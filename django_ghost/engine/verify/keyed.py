"""Verification by key: every key the apply writes to the ghost is compared with the
original's row, in the background while the migration runs and, for the keys left,
under the cut-over lock before anything is renamed.

The applier records each key it re-read or deleted, with the binlog position it had
consumed (apply/touched.py). A *turn* (run after each stretch of applying: between copy
chunks, while an index builds or the checksum compares, while catching up and while the
cut-over is postponed) takes the oldest keys, up to :data:`BATCH`, and compares them on
a session of its own, in one statement per batch: row count, BIT_XOR and SUM of the
checksum's row hash over the shared columns (checksum.py, ``row_digests``), on each
table, restricted to the keys of the batch.

**Background turns** read both tables in one ``START TRANSACTION WITH CONSISTENT
SNAPSHOT``, opened after the visibility fence has passed the newest position of the
batch (apply/fence.py). On MariaDB, with the binlog read on the same server, the
snapshot's own binlog position (``Binlog_snapshot_position`` inside that transaction,
taken under the same mutex as its read view) is checked too: a key applied up to a
position past it is put back, never judged on a snapshot that may predate its change.
A key whose change is still queued (the stream has read an event of it past the position
it was applied up to: ``NewestEvents``, apply/touched.py) is put back without a
comparison: its queued event re-applies it and records it again. Once the snapshot is
open, the turn waits (briefly) until the stream has read up to the snapshot's position,
and checks again: a change committed between a key's re-read and the snapshot is then
known, instead of making the key differ.
A key equal on such a snapshot leaves the set: if it changes later, its binlog event
makes the apply write it again, and it is recorded again. A key that differs is not an
error yet: the application may have changed it after its re-read (its event is then
still to come). The differing keys of a batch are found by bisection (halves compared
the same way, in the same snapshot), re-applied (``Applier.refresh``, which records
them again) and verified at a later turn. While the copy runs, both sides are limited
to the keys the ghost may hold (``builder.written_range``, the bounds read from the
writer's session): keys ahead of the copy are left to the chunk that reaches them, and
the checksum compares the copy.

**Under the cut-over lock**, after the final drain, the original is frozen and every
transaction that wrote it has completed its commit (docs/cut-over.md), so no snapshot is
needed: every key still in the set is compared. Any that differ are re-applied on the
locked path and compared again; if they still differ the attempt raises
:class:`KeysDiffer`, the migration fails with the original untouched and the ghost kept
for inspection (cutover/attempts.py).

A full checksum verifies every key at its snapshot, so it empties the set
(verification.py): from there on, only the keys applied since are verified by key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..apply.applier import Applier
from ..apply.fence import SnapshotProbe, binlog_order, snapshot_position
from ..apply.streaming import Streaming
from ..apply.touched import Entry, Key, NewestEvents, TouchedKeys
from ..binlog.events import BinlogPosition
from ..copy.bounds import read_bounds, restore_bounds
from ..mysql.connection import Connection, execute, query
from ..sql import builder
from ..sql.quote import quote_identifier as q
from .checksum import row_digests

log = logging.getLogger("django_ghost")

BATCH = 1000
"""Keys compared by one statement (the applier's KEYS_PER_STATEMENT)."""
MIN_TURN_INTERVAL = 0.2
"""Seconds between two background turns while fewer than BATCH keys wait."""
TURN_BUDGET = 0.5
"""Seconds one turn goes on verifying batches while BATCH or more keys wait."""
OVER_CAP_BUDGET = 5.0
"""Seconds one turn may spend bringing the set back under its cap (TURN_BUDGET while the
apply lags more than DEFER_LAG_SECONDS behind)."""
DEFER_LAG_SECONDS = 1.0
"""The apply's lag from which background turns wait (unless the set is over its cap).
A snapshot is as new as the server, the ghost only as new as the apply: far behind,
every key whose later events are still queued differs, is bisected and re-applied for
nothing (those events re-apply it anyway). Measured under 2 unthrottled writers: turns
took half the catch-up's time, and the apply fell further behind. The lag, not the
queue's length, is the measure: at a high write rate a queue of thousands of events is
a fraction of a second. (At 3 s, sysbench at 2,000 tps on 1M rows kept the lag near
3 s for good: always-on turns left the apply too little time.)"""
SETTLED_STALL_SECONDS = 1.0
"""The catch-up ends only when the keys left to verify take about this long to compare
under the cut-over lock, at the rate the comparisons have run so far (a set left large by
deferred turns would otherwise stall the application for seconds). Not a count of keys:
under a steady write load a lag of a fraction of a second keeps thousands of keys
waiting, and a fixed count let the catch-up never end."""
DEFAULT_KEYS_PER_SECOND = 20_000.0
"""The comparison rate assumed before any was measured: one BATCH statement in 50 ms."""
SHOWN_KEYS = 5
"""Keys named in an error."""
STREAM_WAIT_SECONDS = 0.1
"""How long a background turn waits, its snapshot open, for the stream to read up to the
snapshot's position (it usually trails the commits by milliseconds). Without it, a key
changed between its re-read and the snapshot, its event not yet read, differed; under
sysbench at 2,000 tps bisecting such keys (about 16 comparisons each) took 14.6 s of a
27.5 s copy, and re-applied 354 keys for nothing."""


class KeysDiffer(Exception):
    """Under the cut-over lock, keys still differed after being re-applied; the attempt
    turns it into a CutOverError once everything is released."""

    def __init__(self, keys: Sequence[Key], *, compared: int):
        super().__init__(describe_keys(keys))
        self.keys = list(keys)
        self.compared = compared


def describe_keys(keys: Sequence[Key], shown: int = SHOWN_KEYS) -> str:
    """The first ``shown`` keys (a one-column key as its value), and how many more."""
    text = ", ".join(_key_text(key) for key in keys[:shown])
    if len(keys) > shown:
        text += f" and {len(keys) - shown} more"
    return text


def _key_text(key: Key) -> str:
    values = [v.decode(errors="replace") if isinstance(v, bytes) else v for v in key]
    return repr(values[0]) if len(values) == 1 else repr(tuple(values))


def narrow(keys: Sequence[Key], equal: Callable[[Sequence[Key]], bool]) -> list[Key]:
    """The keys that differ, found by bisection: ``equal(keys)`` compares a group; a
    differing group is split in halves until single keys remain. With ``m`` differing
    keys among ``n`` it costs at most about ``2m log2(n/m) + 1`` comparisons."""
    if not keys or equal(keys):
        return []
    if len(keys) == 1:
        return [keys[0]]
    middle = len(keys) // 2
    return narrow(keys[:middle], equal) + narrow(keys[middle:], equal)


def newest(entries: Sequence[Entry]) -> BinlogPosition | None:
    """The furthest position among ``entries`` (positions only grow, except when the
    stream reconnects and delivers part of a transaction again)."""
    found: BinlogPosition | None = None
    for _, position in entries:
        if position is not None and (found is None or binlog_order(position) > binlog_order(found)):
            found = position
    return found


class KeyVerifier:
    """Verifies the keys ``applier`` writes (see the module docstring), on ``conn``: a
    session set up like the checksum's (verification.py, ``open_compare_session``)."""

    def __init__(
        self,
        conn: Connection,
        applier: Applier,
        *,
        newest: NewestEvents | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.conn = conn
        self.applier = applier
        self.newest = newest
        self.plan = applier.plan
        self.context = applier.context
        self.keys = TouchedKeys()
        applier.touched = self.keys
        self._orig_row, self._ghost_row = row_digests(self.plan)
        key = applier.key
        self._orig_names = [q(c.name) for c in key]
        self._ghost_names = [q(c.ghost_name) for c in key]
        self._placeholders = [c.placeholder() for c in key]
        probe = applier.fence.probe if applier.fence is not None else None
        # Snapshot positions are comparable with the stream's only on the same server.
        self._snapshot_positions = isinstance(probe, SnapshotProbe) and probe.same_server
        self._clock = clock
        self._last_turn = float("-inf")
        self.verified = 0
        """Keys found equal (background and under the lock)."""
        self.reapplied = 0
        """Keys found different and re-applied."""
        self._compared_keys = 0
        self._compare_seconds = 0.0
        self.stream_waits_missed = 0
        """Batches whose snapshot the stream had not reached within the wait (none while
        the apply lags): compared without knowing the changes read since."""

    # -- background ----------------------------------------------------------------------

    def turn(self) -> None:
        """Verify the oldest keys when due: at most every MIN_TURN_INTERVAL while fewer
        than BATCH wait, batch after batch (for up to TURN_BUDGET) when more do, and
        until the set is back under its cap when it grew past it."""
        if self.context.aborted or not self.keys:
            return
        lag = self.context.lag_seconds
        lagging = lag is not None and lag > DEFER_LAG_SECONDS
        if lagging and not self.keys.over_cap:
            return
        now = self._clock()
        if len(self.keys) < BATCH and now - self._last_turn < MIN_TURN_INTERVAL:
            return
        self._last_turn = now
        # One pass at most: the keys put back (changes still queued) go to the end.
        left = len(self.keys)
        while self.keys and left > 0:
            batch = self.keys.take(BATCH)
            left -= len(batch)
            if self.newest is not None:
                batch, queued = self._split_queued(batch)
                self.keys.put_back(queued)
                if not batch:
                    # Even the oldest keys wait for their queued changes, so do the newer
                    # ones: a pass over a set of 100,000 such keys took about 0.4 s after
                    # every stretch of applying, and a resumed run under 4 unthrottled
                    # writers never caught up.
                    return
            verified = self.verified
            if not self.verify_batch(batch) and self.verified == verified:
                # The whole batch was put back (a change of each key read by the time of
                # the snapshot): the newer keys would fare no better. Going on spun an
                # over-cap turn for its whole budget while the apply, far behind, waited.
                return
            elapsed = self._clock() - now
            if self.keys.over_cap:
                # Lagging, the apply goes first: a 5 s turn after every 0.2 s of applying
                # let a resumed run under 4 unthrottled writers fall ever further behind
                # (its apply slowed from 6,000 to 1,000 events/s once over the cap).
                if elapsed > (TURN_BUDGET if lagging else OVER_CAP_BUDGET):
                    return
            elif len(self.keys) < BATCH or elapsed > TURN_BUDGET:
                return

    def verify_batch(self, entries: Sequence[Entry]) -> list[Key]:
        """Compare ``entries`` on one consistent snapshot; the keys equal leave the set,
        the differing ones are re-applied (and so recorded again), the ones the snapshot
        may predate are put back. Returns the differing keys. (``turn`` leaves out the
        keys with a change still queued: the stream has read an event of theirs past the
        position they were applied up to.)"""
        target = newest(entries)
        if target is not None and self.applier.fence is not None:
            self.applier.fence.wait(target)
        try:
            written = self._copy_bounds()
            execute(self.conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
            try:
                decided, later = self._split_by_snapshot(entries)
                keys = [key for key, _ in decided]
                differing = narrow(keys, lambda group: self._timed_equal(group, written))
            finally:
                execute(self.conn, "COMMIT")
        except BaseException:
            self.keys.put_back(entries)
            raise
        self.keys.put_back(later)
        self.verified += len(keys) - len(differing)
        if differing:
            log.debug("verification by key: %d keys differ, re-applied", len(differing))
            self.reapplied += len(differing)
            self.applier.refresh(differing)
        return differing

    def _split_queued(self, entries: Sequence[Entry]) -> tuple[list[Entry], list[Entry]]:
        """(entries to verify now, entries whose key has a change still queued)."""
        assert self.newest is not None
        now: list[Entry] = []
        queued: list[Entry] = []
        for key, at in entries:
            later = at is not None and self.newest.newer_than(key, at)
            (queued if later else now).append((key, at))
        return now, queued

    def _timed_equal(self, keys: Sequence[Key], written: bool | None) -> bool:
        started = self._clock()
        try:
            return self.equal(self.conn, keys, written)
        finally:
            self._compare_seconds += self._clock() - started
            self._compared_keys += len(keys)

    def settled(self) -> bool:
        """Whether the keys left can be compared within SETTLED_STALL_SECONDS."""
        rate = DEFAULT_KEYS_PER_SECOND
        if self._compared_keys >= BATCH and self._compare_seconds > 0:
            rate = self._compared_keys / self._compare_seconds
        return len(self.keys) <= max(BATCH, rate * SETTLED_STALL_SECONDS)

    def _split_by_snapshot(self, entries: Sequence[Entry]) -> tuple[list[Entry], list[Entry]]:
        """(entries the open snapshot includes, entries applied past it)."""
        if not self._snapshot_positions:
            return list(entries), []
        seen = binlog_order(snapshot_position(self.conn))
        decided: list[Entry] = []
        later: list[Entry] = []
        for key, position in entries:
            past = position is not None and binlog_order(position) > seen
            (later if past else decided).append((key, position))
        # Far behind, the stream is blocked on a full queue and would not get there: only
        # a stream near real time is waited for (else every over-cap batch of a lagging
        # apply would wait in vain).
        lag = self.context.lag_seconds
        wait = STREAM_WAIT_SECONDS if lag is not None and lag <= DEFER_LAG_SECONDS else 0.0
        if self.newest is not None and self._stream_reached(seen, wait):
            # Every change the snapshot sees has been read from the stream: a key with
            # one past the position it was applied up to would differ only because its
            # event is still queued (the apply brings it level).
            decided, queued = self._split_queued(decided)
            later += queued
        return decided, later

    def _stream_reached(self, seen: tuple[int, int], wait: float) -> bool:
        """Wait, up to ``wait`` seconds, until the stream has read every transaction up
        to the snapshot's position ``seen``; False when it has not."""
        deadline = time.monotonic() + wait
        while True:
            position = self.context.streamer_position
            if position is not None and binlog_order(position) >= seen:
                return True
            if time.monotonic() >= deadline:
                self.stream_waits_missed += 1
                return False
            time.sleep(0.001)

    def _copy_bounds(self) -> bool | None:
        """While the copy runs, put its bounds (``@ghost_lo``, ``@ghost_max``) from the
        writer's session into ours; returns ``copied_through_lo``, or None once the copy
        is over (every key may then be in the ghost)."""
        if not self.applier.copying:
            return None
        key = self.applier.key
        for prefix in ("lo", "max"):
            restore_bounds(self.conn, key, prefix, read_bounds(self.applier.conn, key, prefix))
        return self.applier.copied_through_lo

    # -- under the cut-over lock ---------------------------------------------------------

    def verify_under_lock(self, lock_conn: Connection | None) -> int:
        """Compare every key still in the set; re-apply the differing ones (on
        ``lock_conn`` when the lock session holds the ghost, as in the two-step
        cut-over) and compare them again. Returns how many keys were compared; raises
        KeysDiffer when some still differ."""
        entries = self.keys.take_all()
        try:
            return self._verify_locked([key for key, _ in entries], lock_conn)
        except BaseException:
            # Not verified: a retried attempt must see these keys again.
            self.keys.put_back(entries)
            raise

    def _verify_locked(self, keys: list[Key], lock_conn: Connection | None) -> int:
        conn = lock_conn or self.conn
        differing = self._differing(conn, keys)
        self.verified += len(keys) - len(differing)
        if differing:
            log.warning(
                "cut-over verification by key: %d of %d keys differ (%s); re-applying them",
                len(differing),
                len(keys),
                describe_keys(differing),
            )
            self.reapplied += len(differing)
            self.applier.refresh(differing, lock_conn)
            # The refresh recorded them again, with any ghost rows they collided with on
            # another unique key (refreshed along): compare all of those.
            again = [key for key, _ in self.keys.take_all()]
            still = self._differing(conn, again)
            if still:
                raise KeysDiffer(still, compared=len(keys))
            self.verified += len(again)
        return len(keys)

    def _differing(self, conn: Connection, keys: Sequence[Key]) -> list[Key]:
        found: list[Key] = []
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            found += narrow(batch, lambda group: self.equal(conn, group, None))
        return found

    # -- the comparison ------------------------------------------------------------------

    def equal(self, conn: Connection, keys: Sequence[Key], written: bool | None) -> bool:
        """Whether the original's and the ghost's rows of ``keys`` have the same count
        and digests; ``written`` (``copied_through_lo``, None after the copy) limits both
        sides to the keys the ghost may hold while the copy runs."""
        params: list[Any] = [value for key in keys for value in key]
        original = self._side(
            self._orig_names,
            self.plan.original.name,
            self.plan.key.name,
            self._orig_row,
            len(keys),
            written,
        )
        ghost = self._side(
            self._ghost_names,
            self.applier.ghost_table,
            self.plan.ghost_key_name,
            self._ghost_row,
            len(keys),
            written,
        )
        row = query(conn, builder.compare_checksums(original, ghost), params + params)[0]
        return tuple(row[:3]) == tuple(row[3:])

    def _side(
        self,
        names: list[str],
        table: str,
        index: str,
        row_exprs: list[str],
        rows: int,
        written: bool | None,
    ) -> str:
        cond = builder.key_list_condition(names, self._placeholders, rows)
        if written is not None:
            cond = f"{cond} AND {builder.written_range(names, copied_through_lo=written)}"
        return builder.checksum_chunk(table, index, row_exprs, cond)


def start_key_verification(conn: Connection, streaming: Streaming) -> KeyVerifier:
    """A verifier of the keys ``streaming``'s applier writes, on ``conn``, whose turns
    run after each stretch of applying (``Streaming.apply_pending``)."""
    verifier = KeyVerifier(conn, streaming.applier, newest=streaming.streamer.newest)
    streaming.after_apply.append(verifier.turn)
    streaming.settled.append(verifier.settled)
    return verifier
