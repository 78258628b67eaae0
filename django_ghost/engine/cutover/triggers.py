"""The original's triggers, carried to the ghost under the cut-over lock (gh-ost creates
them there too: after the final apply, before the RENAME).

Not earlier, because a trigger on the ghost fires on the migration's own writes: the
copy's INSERT ... SELECT and the apply's DELETE + INSERT ... SELECT by key would run the
trigger bodies a second time (an audit row per copied row, a counter bumped twice),
while the original's triggers have already done that work once for the application's
write, and copied the values a BEFORE trigger computed into the rows the copy and the
apply read. Under the lock nothing writes the ghost any more and nothing writes the
original, so the triggers the original has then are exactly those the new table must
have, and from the RENAME on every write to the table fires them.

A failed attempt drops them from the ghost again before the catch-up applies more
changes to it; a resumed run drops any an interrupted attempt left (state/resume.py).
Without include_triggers, a trigger created on the original during the migration stops
the cut-over: swapping would silently lose it.
"""

from __future__ import annotations

import logging

from ..config import GhostConfig
from ..errors import CutOverError
from ..mysql.connection import Connection, execute, query
from ..sql.quote import quote_identifier as q
from ..table.triggers import create_trigger_sql, read_triggers, triggers_named
from ..topology.triggers import name_problems, new_trigger_names

log = logging.getLogger("django_ghost")


def carry_triggers(
    conn: Connection, config: GhostConfig, *, original: str, ghost: str, timeout: int
) -> list[str]:
    """Create the original's triggers on ``ghost`` (run under the cut-over lock); returns
    the names created. Raises CutOverError, not retried, when they cannot be."""
    triggers = read_triggers(conn, config.database, original)
    if not triggers:
        return []
    if not config.include_triggers:
        raise CutOverError(
            f"The original table {original} got triggers during the migration "
            f"({', '.join(t.name for t in triggers)}); the new table would not have them. "
            "Nothing was renamed. Run again with include_triggers and trigger_suffix to "
            "carry them over."
        )
    names = new_trigger_names(triggers, config)
    taken = triggers_named(conn, config.database, list(names.values()))
    problems = name_problems(names, taken, table=original, ghost=ghost)
    if problems:
        raise CutOverError(
            f"The triggers of {original} cannot be carried to the new table: "
            + "; ".join(problems)
            + ". Nothing was renamed."
        )
    drop_triggers_on(conn, ghost)  # an earlier attempt's, if its clean-up failed
    (mode, collation, wait), *_ = query(
        conn,
        "SELECT @@SESSION.sql_mode, @@SESSION.collation_connection, @@SESSION.lock_wait_timeout",
    )
    execute(conn, f"SET SESSION lock_wait_timeout = {int(timeout)}")
    created = []
    try:
        for trigger in triggers:
            # The body is parsed, and later runs, under the sql_mode and collation of the
            # session that creates it: the original's, not the engine's strict one.
            execute(
                conn,
                "SET SESSION sql_mode = %s, collation_connection = %s",
                (trigger.sql_mode, trigger.collation_connection or collation),
            )
            name = names[trigger.name]
            execute(conn, create_trigger_sql(trigger, name=name, table=ghost))
            created.append(name)
    finally:
        execute(
            conn,
            "SET SESSION sql_mode = %s, collation_connection = %s, lock_wait_timeout = %s",
            (mode, collation, int(wait)),
        )
    log.info("triggers created on %s: %s", ghost, ", ".join(created))
    return created


def drop_triggers_on(conn: Connection, table: str) -> list[str]:
    """Drop every trigger of ``table`` (a ghost: its triggers are ours); returns their
    names."""
    names = [
        str(r[0])
        for r in query(
            conn,
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = %s",
            (table,),
        )
    ]
    for name in names:
        execute(conn, f"DROP TRIGGER IF EXISTS {q(name)}")
    if names:
        log.info("triggers dropped from %s: %s", table, ", ".join(names))
    return names
