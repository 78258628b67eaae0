"""The triggers of a table, as the server keeps them, and the statement that re-creates
one on another table under another name.

Read from information_schema.TRIGGERS (gh-ost reads the same view): the body, timing and
event, and what gh-ost drops but the trigger's behaviour depends on: its DEFINER (whose
privileges the body runs with), the sql_mode it was created under (it governs the body's
casts and strictness) and its collation_connection (its string literals' collation).
Triggers of one timing and event are listed in ACTION_ORDER, so creating them one after
the other in that order reproduces their order without FOLLOWS/PRECEDES.
"""

from __future__ import annotations

import dataclasses

from ..mysql.connection import Connection, query_dicts
from ..sql.quote import quote_identifier as q


@dataclasses.dataclass(frozen=True)
class Trigger:
    """One trigger of a table."""

    name: str
    timing: str  # BEFORE or AFTER
    event: str  # INSERT, UPDATE or DELETE
    statement: str  # the body, as written: one statement or BEGIN ... END
    definer: str  # user@host (or a role's name on MariaDB)
    sql_mode: str
    collation_connection: str
    action_order: int = 0


def read_triggers(conn: Connection, schema: str, table: str) -> tuple[Trigger, ...]:
    """The triggers of ``schema.table``, in the order the server fires them per timing
    and event."""
    rows = query_dicts(
        conn,
        "SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT, DEFINER, "
        "SQL_MODE, COLLATION_CONNECTION, ACTION_ORDER FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s "
        "ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, TRIGGER_NAME",
        (schema, table),
    )
    return tuple(
        Trigger(
            name=str(r["TRIGGER_NAME"]),
            timing=str(r["ACTION_TIMING"]).upper(),
            event=str(r["EVENT_MANIPULATION"]).upper(),
            statement=_text(r["ACTION_STATEMENT"]),
            definer=str(r["DEFINER"] or ""),
            sql_mode=str(r["SQL_MODE"] or ""),
            collation_connection=str(r["COLLATION_CONNECTION"] or ""),
            action_order=int(r["ACTION_ORDER"] or 0),
        )
        for r in rows
    )


def triggers_named(conn: Connection, schema: str, names: list[str]) -> dict[str, str]:
    """Of ``names``, those a trigger anywhere in ``schema`` already has (trigger names are
    unique per schema, whatever the table), lowercased, with that trigger's table."""
    if not names:
        return {}
    marks = ", ".join(["%s"] * len(names))
    rows = query_dicts(
        conn,
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
        f"WHERE TRIGGER_SCHEMA = %s AND LOWER(TRIGGER_NAME) IN ({marks})",
        (schema, *[n.lower() for n in names]),
    )
    return {str(r["TRIGGER_NAME"]).lower(): str(r["EVENT_OBJECT_TABLE"]) for r in rows}


def definer_clause(definer: str) -> str:
    """``DEFINER=`user`@`host``` from information_schema's ``user@host`` (the host part
    never holds an ``@``, the user part may); a MariaDB role has no host part."""
    if not definer:
        return ""
    user, at, host = definer.rpartition("@")
    if not at:
        return f"DEFINER={_account_part(definer)}"
    return f"DEFINER={_account_part(user)}@{_account_part(host)}"


def _account_part(text: str) -> str:
    # Not quote_identifier: account names and hosts may be longer than 64 characters.
    return "`" + text.replace("`", "``") + "`"


def create_trigger_sql(trigger: Trigger, *, name: str, table: str) -> str:
    """The CREATE TRIGGER statement that gives ``table`` the trigger ``trigger`` under
    ``name`` (run it under the trigger's sql_mode and collation_connection)."""
    definer = definer_clause(trigger.definer)
    return (
        f"CREATE {definer + ' ' if definer else ''}TRIGGER {q(name)} "
        f"{trigger.timing} {trigger.event} ON {q(table)} FOR EACH ROW {trigger.statement}"
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)
