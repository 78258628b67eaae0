"""The visibility fence: before the writer re-reads the original table (a by-key apply
batch, a copy chunk), every transaction up to the binlog position the applier has
consumed is committed in InnoDB's read-view sense, so the re-read sees it.

A row event can reach us before its transaction is visible: the server writes the binlog,
lets the dump thread send it, and only then commits in the engine. The fence waits, on
its own session, until the server says the commit of everything up to that position has
completed; every read view created afterwards (each READ COMMITTED statement of the
writer) sees those transactions, since InnoDB visibility only grows. The argument and
the server-source references are in docs/cut-over.md ("Why the re-read sees every change
up to its position"). Per flavour (``ServerFacts.visibility_fence``):

- MariaDB (:class:`SnapshotProbe`): ``Binlog_snapshot_file``/``_position`` is the end of
  the last group whose ``commit_ordered`` (InnoDB's in-memory commit) has completed; wait
  until it is at or past the consumed position. When the binlog is read on a replica
  (split topology) its positions mean nothing on the primary: the target is then the
  primary's own binlog end, read at fence time, which is past every transaction the
  replica could have delivered.
- MySQL with ``gtid_mode=ON`` (:class:`GtidProbe`): a GTID joins ``gtid_executed`` after
  its engine commit; every transaction already in the binlog owns its GTID until then.
  The target is the set of GTIDs owned now; wait until ``gtid_executed`` contains it.

The wait backs off from 1 ms to 50 ms, stops when the migration is aborted, and gives up
after ``FENCE_TIMEOUT_FACTOR`` × ``cut_over_lock_timeout_seconds`` with an error naming
the cause: the migration then stops and the original table is untouched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..binlog.coordinates import current_position
from ..binlog.events import BinlogPosition
from ..context import MigrationContext
from ..errors import AbortedError, GhostError
from ..mysql.connection import Connection, query
from ..mysql.server import FENCE_BINLOG_SNAPSHOT, FENCE_GTID_EXECUTED, ServerFacts

FIRST_BACKOFF = 0.001
MAX_BACKOFF = 0.05
FENCE_TIMEOUT_FACTOR = 10
"""The fence gives up after this many cut-over lock timeouts (30 s by default): a
transaction already written to the binlog that is not committed by then means the
server's commit pipeline is stalled (a semi-sync wait, a stuck disk)."""

SNAPSHOT_STATUS = "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'"
GTID_OWNED = "SELECT @@GLOBAL.gtid_owned"
GTID_EXECUTED_CONTAINS = "SELECT GTID_SUBSET(%s, @@GLOBAL.gtid_executed)"

_SOURCE = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?=:)"
)
_OWNED_ONE = re.compile(r":(?:([A-Za-z_][A-Za-z0-9_]*):)?(\d+)#\d+,? ?")


class VisibilityFenceTimeout(GhostError):
    """Transactions already in the binlog did not become visible within the bound."""


def binlog_order(position: BinlogPosition) -> tuple[int, int]:
    """Sort key of a binlog position: the file's sequence number, then the offset.

    File names compare by their numeric extension, not as text: after ``binlog.999999``
    comes ``binlog.1000000``, which sorts first as a string. A start by GTID whose file
    is not known yet (empty ``file``) sorts before every position the server sends.
    """
    if not position.file:
        return -1, position.pos
    stem, _, number = position.file.rpartition(".")
    if not stem or not number.isdigit():
        raise GhostError(
            f"Cannot order the binlog position {position}: the file name has no numeric "
            "extension. Report this with the server's log_bin_basename."
        )
    return int(number), position.pos


def reached(current: BinlogPosition, target: BinlogPosition) -> bool:
    """Whether ``current`` is at or past ``target`` (binlog order)."""
    return binlog_order(current) >= binlog_order(target)


class FenceProbe(Protocol):
    """One flavour's way to name a target and to see whether it is visible yet."""

    def target(self, conn: Connection, consumed: BinlogPosition) -> Any:
        """What must be committed for everything up to ``consumed`` to be visible."""
        ...

    def visible(self, conn: Connection, target: Any) -> bool:
        """Whether ``target`` is committed now (one round trip)."""
        ...

    def covers(self, consumed: BinlogPosition) -> bool:
        """Whether an earlier wait already made everything up to ``consumed`` visible
        (no round trip)."""
        ...

    def passed(self, consumed: BinlogPosition) -> None:
        """A wait for ``consumed`` has succeeded."""
        ...


class SnapshotProbe:
    """MariaDB: the binlog position of the last group whose commit_ordered completed."""

    def __init__(self, *, same_server: bool):
        self.same_server = same_server
        self.visible_through: BinlogPosition | None = None
        self._fenced: BinlogPosition | None = None

    def target(self, conn: Connection, consumed: BinlogPosition) -> BinlogPosition:
        if self.same_server:
            return consumed
        # The consumed position is the replica's; everything the replica delivered was
        # in the primary's binlog before now.
        return current_position(conn)

    def visible(self, conn: Connection, target: BinlogPosition) -> bool:
        now = snapshot_position(conn)
        if self.visible_through is None or reached(now, self.visible_through):
            self.visible_through = now
        return reached(now, target)

    def covers(self, consumed: BinlogPosition) -> bool:
        if self.same_server:
            return self.visible_through is not None and reached(self.visible_through, consumed)
        return self._fenced is not None and reached(self._fenced, consumed)

    def passed(self, consumed: BinlogPosition) -> None:
        self._fenced = consumed


class GtidProbe:
    """MySQL with gtid_mode=ON: the GTIDs owned now must all be in gtid_executed."""

    def __init__(self) -> None:
        self._fenced: BinlogPosition | None = None

    def target(self, conn: Connection, consumed: BinlogPosition) -> str:
        return owned_gtid_set(_text(query(conn, GTID_OWNED)[0][0]))

    def visible(self, conn: Connection, target: str) -> bool:
        if not target:
            return True
        return int(query(conn, GTID_EXECUTED_CONTAINS, [target])[0][0]) == 1

    def covers(self, consumed: BinlogPosition) -> bool:
        return self._fenced is not None and reached(self._fenced, consumed)

    def passed(self, consumed: BinlogPosition) -> None:
        self._fenced = consumed


def probe_for(facts: ServerFacts, *, same_server: bool) -> FenceProbe:
    """The fence of the applier's server (PreflightError when it has none)."""
    kind = facts.visibility_fence()
    if kind == FENCE_BINLOG_SNAPSHOT:
        return SnapshotProbe(same_server=same_server)
    assert kind == FENCE_GTID_EXECUTED
    return GtidProbe()


def snapshot_position(conn: Connection) -> BinlogPosition:
    """MariaDB's ``Binlog_snapshot_file``/``_position``. Read outside a consistent-snapshot
    transaction, they are ``last_commit_pos`` read under ``LOCK_commit_ordered``."""
    values = {_text(name).lower(): _text(value) for name, value in query(conn, SNAPSHOT_STATUS)}
    try:
        return BinlogPosition(
            values["binlog_snapshot_file"], int(values["binlog_snapshot_position"])
        )
    except (KeyError, ValueError):
        raise GhostError(
            "The server did not report Binlog_snapshot_file/Binlog_snapshot_position "
            f"({values!r}); the apply cannot tell when a change is visible. Binary "
            "logging must be on (log_bin)."
        ) from None


def owned_gtid_set(owned: str) -> str:
    """``@@GLOBAL.gtid_owned`` (``uuid:5#12:6#13uuid2:7#3``: each GTID with its owning
    thread, the source UUIDs run together) as a GTID set (``uuid:5,uuid:6,uuid2:7``).

    A thread id can run into the next UUID's leading digits; a UUID is found by its
    fixed shape followed by ``:``. Anything unreadable is refused, never skipped.
    """
    text = owned.strip()
    sources = list(_SOURCE.finditer(text))
    gtids: list[str] = []
    readable = not text or (bool(sources) and sources[0].start() == 0)
    for i, source in enumerate(sources):
        end = sources[i + 1].start() if i + 1 < len(sources) else len(text)
        owned_here = text[source.end() : end].rstrip(", \n")
        parts = _OWNED_ONE.findall(owned_here)
        readable = readable and bool(parts) and not _OWNED_ONE.sub("", owned_here)
        gtids += [f"{source.group(0)}:{tag + ':' if tag else ''}{gno}" for tag, gno in parts]
    if not readable:
        raise GhostError(
            f"Cannot read @@GLOBAL.gtid_owned ({owned[:200]!r}); the apply cannot tell "
            "when a change is visible. Report this with the server version."
        )
    return ",".join(gtids)


class VisibilityFence:
    """Waits, on its own session, until the changes consumed so far are visible."""

    def __init__(
        self,
        conn: Connection,
        probe: FenceProbe,
        context: MigrationContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.conn = conn
        self.probe = probe
        self.context = context
        self.timeout = FENCE_TIMEOUT_FACTOR * context.config.cut_over_lock_timeout_seconds
        self._clock = clock
        self._sleep = sleep
        self.waits = 0
        """Fences that needed at least one round trip (for tests and the bench)."""

    def wait(self, consumed: BinlogPosition) -> None:
        """Return once every transaction up to ``consumed`` is visible to new reads."""
        if self.probe.covers(consumed):
            return
        self.waits += 1
        target = self.probe.target(self.conn, consumed)
        deadline = self._clock() + self.timeout
        backoff = FIRST_BACKOFF
        while not self.probe.visible(self.conn, target):
            if self.context.aborted:
                raise AbortedError(
                    f"Migration of {self.context.config.table} aborted: "
                    f"{self.context.abort_reason}. The original table is untouched."
                )
            if self._clock() >= deadline:
                raise VisibilityFenceTimeout(
                    f"Transactions written to the binlog up to {_describe(target)} did not "
                    f"become visible within {self.timeout:g} s (the server writes the binlog "
                    "before it commits in InnoDB; something holds the commit back: a "
                    "semi-synchronous replica that does not acknowledge, a stalled disk, "
                    "or on MySQL a session that owns a GTID in a long transaction). The "
                    "migration stopped; the original table is untouched. Fix the server's "
                    "commit stall and run the migration again (a larger "
                    "cut_over_lock_timeout_seconds waits longer)."
                )
            self._sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)
        self.probe.passed(consumed)


def _describe(target: Any) -> str:
    if isinstance(target, BinlogPosition):
        return str(target)
    return f"the GTIDs {str(target)[:200]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)
