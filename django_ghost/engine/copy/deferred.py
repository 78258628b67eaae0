"""Plain secondary indexes of the ghost table: dropped before the copy, built after it.

Inserting rows maintains every secondary index row by row, in random key order. For a
sysbench-shaped table (one secondary index) that nearly doubles the copy: 1,000,000 rows
took 6.2 s with the index and 3.2 s without it plus 1.0 s to build it afterwards, which
InnoDB does by sorting (MariaDB 10.11 on this project's 2-core machine). So the ghost is
copied without its plain secondary indexes and gets them back online (``ALGORITHM=INPLACE,
LOCK=NONE``: the apply goes on writing meanwhile) once the copy is complete, before the
checksum and the cut-over.

Only plain (non-unique B-tree) indexes are deferred. Unique keys stay, because they must
reject duplicates while rows arrive; FULLTEXT and SPATIAL indexes stay, because InnoDB
may need a rebuild to add them (and keys are listed in creation order within each kind,
so a table holding them keeps exactly the same SHOW CREATE TABLE only if nothing moves).
Each definition is taken verbatim from the ghost's SHOW CREATE TABLE, so the rebuilt
indexes are identical (names, columns, prefixes, order, comments), and it is saved in the
changelog so a resumed run knows what to build.

:class:`IndexBuild` runs that ALTER on a session of its own, in a thread, while the
migrator keeps applying changes; aborting the migration kills the statement.

It starts once the checksum's snapshot is open and runs beside the original's half of the
checksum (verify/checksum.py): on the 2-core machine the build takes one core and the
original's sums the other, instead of one after the other. The checksum reads the ghost
only after the build has ended. An earlier overlap, where the checksum read the ghost
meanwhile, deadlocked on metadata locks: the ALTER's final exclusive lock waited for the
checksum session that had read the ghost, the other checksum session's first read of the
ghost queued behind that exclusive lock, and the first session waited for the second in
Python, where the server cannot see the cycle.

While the application writes to the table, though, the build after the copy is what
its latency feels most: under sysbench at 1,000 tps (4,000 row events/s) on the 2-core
machine, every run with the build after the copy had one to four seconds of p95 at
0.5-1.5 s while the build ran (the load's throughput halved for a second), and runs that
maintained the index during the copy had none. So :class:`EarlyBuild` watches the
application's write rate during the first half of the copy and, once it is at least
``early_index_build_events_per_second``, builds the indexes at once on the rows copied
so far (a short build: 0.2-0.3 s for the 80,000-100,000 rows of those runs) and lets
the copy maintain them from there.

On a replica the ``ALTER TABLE ... ADD KEY`` replicates as one statement and delays
replication while it runs (about one second per million rows per index here).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable

import MySQLdb

from ..context import MigrationContext
from ..mysql.connection import Connection, execute, query, scalar
from ..sql.names import TableNames
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog

log = logging.getLogger("django_ghost")

HINT = "deferred-indexes"
ER_DUP_KEYNAME = 1061
_PLAIN_KEY = re.compile(r"^\s*KEY `((?:[^`]|``)+)` \(")
_KEPT_KINDS = re.compile(r"^\s*(FULLTEXT|SPATIAL) KEY ")


def plain_index_definitions(create_table: str) -> list[tuple[str, str]]:
    """``(name, definition)`` of each plain secondary index in a SHOW CREATE TABLE text,
    in order; empty when the table also has FULLTEXT or SPATIAL indexes (see above)."""
    found: list[tuple[str, str]] = []
    for line in create_table.splitlines():
        if _KEPT_KINDS.match(line):
            return []
        match = _PLAIN_KEY.match(line)
        if match:
            found.append((match.group(1).replace("``", "`"), line.strip().rstrip(",")))
    return found


def defer(conn: Connection, ghost: str, changelog: Changelog) -> list[str]:
    """Drop the ghost's plain secondary indexes, remembering them in the changelog.

    Returns the definitions dropped; none when dropping is refused (an index that a
    foreign key needs, for example): the copy then simply maintains them.
    """
    create = str(query(conn, f"SHOW CREATE TABLE {q(ghost)}")[0][1])
    indexes = plain_index_definitions(create)
    if not indexes:
        return []
    definitions = [definition for _, definition in indexes]
    # Saved first: a run killed right after the DROP still knows what to build.
    changelog.write(HINT, json.dumps(definitions))
    drops = ", ".join(f"DROP INDEX {q(name)}" for name, _ in indexes)
    try:
        execute(conn, f"ALTER TABLE {q(ghost)} {drops}")
    except MySQLdb.OperationalError:
        changelog.write(HINT, "[]")
        return []
    return definitions


def build_statement(conn: Connection, ghost: str, changelog: str) -> str | None:
    """The ALTER that adds back every deferred index the ghost lacks; None when none."""
    rows = query(conn, f"SELECT value FROM {q(changelog)} WHERE hint = %s", (HINT,))
    if not rows:
        return None
    definitions: list[str] = json.loads(str(rows[0][0]))
    create = str(query(conn, f"SHOW CREATE TABLE {q(ghost)}")[0][1])
    present = {name for name, _ in plain_index_definitions(create)}
    missing = [d for d in definitions if _name(d) not in present]
    if not missing:
        return None
    adds = ", ".join(f"ADD {definition}" for definition in missing)
    return f"ALTER TABLE {q(ghost)} {adds}, ALGORITHM=INPLACE, LOCK=NONE"


def index_build(
    conn: Connection,
    open_session: Callable[[], Connection],
    context: MigrationContext,
    names: TableNames,
) -> IndexBuild | None:
    """The build of the indexes dropped before the copy, not started yet; None when the
    ghost lacks none of them."""
    ghost, changelog = names.ghost, names.changelog
    statement = build_statement(conn, ghost, changelog)
    if statement is None:
        return None
    return IndexBuild(conn, open_session, context, statement, ghost=ghost, changelog=changelog)


class IndexBuild:
    """The ALTER that adds back the deferred indexes, online, on a session of its own
    (``open_session``) in a thread, while the migrator goes on applying changes to the
    ghost and, when on, comparing the checksum (verify/checksum.py says how the two keep
    clear of each other's metadata locks). ``finished`` is set when the statement ends,
    however it ends; :meth:`stop` kills it (an abort: the server does not stop a DDL
    whose client went away)."""

    def __init__(
        self,
        conn: Connection,
        open_session: Callable[[], Connection],
        context: MigrationContext,
        statement: str,
        *,
        ghost: str,
        changelog: str,
    ):
        self.conn = conn
        self.open_session = open_session
        self.context = context
        self.statement = statement
        self.ghost = ghost
        self.changelog = changelog
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: Connection | None = None
        self._builder_id = 0
        self._failure: list[BaseException] = []
        self._started = 0.0

    def start(self) -> None:
        self.context.set_phase("building indexes")
        self._started = time.monotonic()
        self._run(self.statement)

    def _run(self, statement: str) -> None:
        session = self._session = self.open_session()
        self._builder_id = int(scalar(session, "SELECT CONNECTION_ID()"))
        self.finished.clear()

        def run() -> None:
            try:
                execute(session, statement)
            except BaseException as exc:  # noqa: BLE001 - raised by the migrator thread
                self._failure.append(exc)
            finally:
                self.finished.set()

        self._thread = threading.Thread(target=run, name="ghost-index-build", daemon=True)
        self._thread.start()

    def finish(self, tend: Callable[[], None]) -> None:
        """Call ``tend`` (one turn of applying changes) until the build ends (starting it
        if nobody did), then raise its error. A resumed run may find some of the indexes
        added meanwhile: the killed run's ALTER went on in the server. Then it builds what
        is still missing, if that is less."""
        if self._thread is None:
            self.start()
        while True:
            try:
                while not self.finished.is_set():
                    tend()
            finally:
                self.stop()
            if not self._failure:
                break
            failure = self._failure.pop()
            if not isinstance(failure, MySQLdb.Error) or failure.args[:1] != (ER_DUP_KEYNAME,):
                raise failure
            remaining = build_statement(self.conn, self.ghost, self.changelog)
            if remaining is None:
                break
            if remaining == self.statement:
                raise failure
            self.statement = remaining
            self._run(remaining)
        log.info("built the deferred secondary indexes in %.1f s", time.monotonic() - self._started)

    def stop(self) -> None:
        """Kill the statement if it still runs, wait for its thread, close its session."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            with contextlib.suppress(MySQLdb.Error):
                execute(self.conn, f"KILL QUERY {self._builder_id}")
        self._thread.join()
        if self._session is not None:
            with contextlib.suppress(MySQLdb.Error):
                self._session.close()
            self._session = None


EARLY_BUILD_AFTER_SECONDS = 1.0
"""The write rate is judged over at least this much of the copy: one burst of writes is
not a busy table."""
EARLY_BUILD_UNTIL = 0.5
"""Past this share of the rows, building at once would cost about as much as building
after the copy, and the copy with the index is the slower one: defer to the end."""


class EarlyBuild:
    """Builds the deferred indexes during the copy once the table turns out to be busy
    (see the module docstring). :meth:`check` runs between two chunks; the build runs on
    its session of its own while ``tend`` keeps applying, and the copy waits for it. It
    decides once: built, or the copy past ``EARLY_BUILD_UNTIL``, or the option at 0."""

    def __init__(
        self,
        context: MigrationContext,
        build: Callable[[], IndexBuild | None],
        tend: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.context = context
        self.build = build
        self.tend = tend
        self.clock = clock
        self.events_per_second = context.config.early_index_build_events_per_second
        self.decided = self.events_per_second <= 0
        self._since: tuple[float, int] | None = None

    def check(self) -> bool:
        """Build now if the table is busy; True when it did."""
        if self.decided:
            return False
        c = self.context
        now = self.clock()
        if self._since is None:
            self._since = (now, c.events_applied)
            return False
        if c.rows_copied > EARLY_BUILD_UNTIL * max(c.rows_estimate, 1):
            self.decided = True
            return False
        started, events = self._since
        if now - started < EARLY_BUILD_AFTER_SECONDS:
            return False
        rate = (c.events_applied - events) / (now - started)
        if rate < self.events_per_second:
            return False
        self.decided = True
        build = self.build()
        if build is None:
            return False
        log.info(
            "the table takes %.0f row events/s: building its deferred indexes now, on the "
            "%d rows copied so far, and maintaining them for the rest of the copy",
            rate,
            c.rows_copied,
        )
        build.finish(self.tend)
        c.set_phase("copying")
        return True


def _name(definition: str) -> str:
    match = _PLAIN_KEY.match(definition)
    assert match is not None
    return match.group(1).replace("``", "`")
