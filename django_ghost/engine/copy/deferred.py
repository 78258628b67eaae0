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

:func:`build_deferred` runs that ALTER on a session of its own, in a thread (:func:`build`),
while the migrator keeps applying changes; aborting the migration kills the statement.

The build ends before the checksum starts. Overlapping them (tried) deadlocks on metadata
locks: the ALTER's final exclusive lock waits for the checksum session that already read
the ghost, while the other checksum session's first read of the ghost queues behind that
exclusive lock, and the first session waits for the second in Python, where the server
cannot see the cycle.

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


def build_deferred(
    conn: Connection,
    open_session: Callable[[], Connection],
    context: MigrationContext,
    *,
    ghost: str,
    changelog: str,
    tend: Callable[[], None],
) -> bool:
    """Add back the indexes dropped before the copy, online, on a session of their own
    (``open_session``) while ``tend`` keeps applying changes to the ghost. Returns whether
    any index was built."""
    statement = build_statement(conn, ghost, changelog)
    if statement is None:
        return False
    context.set_phase("building indexes")
    started = time.monotonic()
    while statement is not None:
        try:
            build(conn, open_session(), statement, tend)
            break
        except MySQLdb.Error as exc:
            # A resumed run: the killed run's ALTER went on in the server and added
            # some of the indexes meanwhile (the server does not stop a DDL whose
            # client died). Build what is still missing, if that is less.
            if not exc.args or exc.args[0] != ER_DUP_KEYNAME:
                raise
            remaining = build_statement(conn, ghost, changelog)
            if remaining == statement:
                raise
            statement = remaining
    log.info("built the deferred secondary indexes in %.1f s", time.monotonic() - started)
    return True


def build(conn: Connection, session: Connection, statement: str, tend: Callable[[], None]) -> None:
    """Run ``statement`` (see :func:`build_statement`) on ``session``, in a thread, and
    call ``tend`` (one turn of applying changes) until it ends. If ``tend`` raises (an
    abort), the statement is killed from ``conn``. ``session`` is closed either way."""
    builder_id = int(scalar(session, "SELECT CONNECTION_ID()"))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            execute(session, statement)
        except BaseException as exc:  # noqa: BLE001 - raised by the migrator thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="ghost-index-build", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            tend()
    finally:
        if thread.is_alive():
            with contextlib.suppress(MySQLdb.Error):
                execute(conn, f"KILL QUERY {builder_id}")
        thread.join()
        session.close()
    if failure:
        raise failure[0]


def _name(definition: str) -> str:
    match = _PLAIN_KEY.match(definition)
    assert match is not None
    return match.group(1).replace("``", "`")
