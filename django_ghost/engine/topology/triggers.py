"""Preflight of the triggers ``include_triggers`` carries to the new table (gh-ost's
validateTableTriggers, validateGhostTriggersDontExist and validateGhostTriggersLength,
plus the privileges creating them takes).

Every check only reads, before anything is written: the new names (the original's plus
``trigger_suffix``, or without it with ``remove_trigger_suffix_if_exists``; see
sql/names.py) must fit in 64 characters, differ from each other and from every trigger
already in the schema (trigger names are unique per schema, and the original's keep
theirs until the old table is dropped); the migration user needs the TRIGGER privilege,
and, to keep another account as a trigger's DEFINER, SUPER or SET USER. The cut-over
(cutover/triggers.py) runs the name checks again under its lock, on the triggers the
original has then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..config import GhostConfig
from ..errors import PreflightError
from ..mysql.connection import Connection, scalar
from ..sql.names import cutover_names, ghost_trigger_name, original_table_of
from ..sql.quote import MAX_IDENTIFIER_LENGTH
from ..table.triggers import Trigger, read_triggers, triggers_named
from .inspector import grant_privileges

# Privileges that let an account create objects with another account as DEFINER.
_DEFINER_PRIVILEGES = frozenset({"ALL PRIVILEGES", "SUPER", "SET USER", "SET_USER_ID"})


def new_trigger_names(triggers: Iterable[Trigger], config: GhostConfig) -> dict[str, str]:
    """Original trigger name -> the name it takes on the new table."""
    return {
        t.name: ghost_trigger_name(
            t.name, config.trigger_suffix, remove_suffix=config.remove_trigger_suffix_if_exists
        )
        for t in triggers
    }


def name_problems(
    names: Mapping[str, str], taken: Mapping[str, str], *, table: str, ghost: str = ""
) -> list[str]:
    """What is wrong with the new names ``names`` (original -> new), given ``taken``
    (lowercased names of triggers already in the schema -> their table). A trigger of
    ``ghost`` does not count: it is one a failed cut-over attempt left (and drops)."""
    problems = []
    empty = [old for old, new in names.items() if not new]
    if empty:
        problems.append(
            f"trigger(s) {', '.join(empty)} would have an empty name once the suffix is "
            "removed; rename them or use another trigger_suffix"
        )
    long = [new for new in names.values() if len(new) > MAX_IDENTIFIER_LENGTH]
    if long:
        problems.append(
            f"new trigger name(s) {', '.join(long)} are longer than "
            f"{MAX_IDENTIFIER_LENGTH} characters; use a shorter trigger_suffix (or "
            "remove_trigger_suffix_if_exists) or rename those triggers"
        )
    seen: dict[str, str] = {}
    for old, new in names.items():
        if new.lower() in seen:
            problems.append(
                f"triggers {seen[new.lower()]} and {old} would both be named {new} on the "
                "new table; use another trigger_suffix or rename one of them"
            )
        seen[new.lower()] = old
    clashes = [
        f"{new} (on table {taken[new.lower()]})"
        for new in names.values()
        if new.lower() in taken and taken[new.lower()] != ghost
    ]
    if clashes:
        problems.append(
            f"the schema already has trigger(s) named {', '.join(clashes)}, names the new "
            f"table's triggers would take; use another trigger_suffix, or drop them (after "
            f"an earlier migration of {table}: drop its old table, whose triggers they are, "
            "or set remove_trigger_suffix_if_exists)"
        )
    return problems


def definer_problems(
    triggers: Iterable[Trigger], grants: Sequence[str], current_user: str, database: str
) -> list[str]:
    """Privileges the migration user lacks to create ``triggers`` as they are."""
    global_privs, db_privs = grant_privileges(grants, database)
    problems = []
    if not {"ALL PRIVILEGES", "TRIGGER"} & (global_privs | db_privs):
        problems.append(
            f"the migration user lacks the TRIGGER privilege; GRANT TRIGGER ON `{database}`.* "
            "TO <user>"
        )
    others = sorted({t.definer for t in triggers if t.definer and t.definer != current_user})
    if others and not _DEFINER_PRIVILEGES & global_privs:
        problems.append(
            f"the triggers' DEFINER ({', '.join(others)}) is not the migration user "
            f"({current_user}), and only SUPER or SET USER lets it create them with their "
            "DEFINER kept; grant one of those, or run the migration as that account"
        )
    return problems


def check_triggers(conn: Connection, config: GhostConfig, grants: Sequence[str]) -> None:
    """Raise PreflightError unless the original's triggers can be carried over."""
    triggers = read_triggers(conn, config.database, config.table)
    if not triggers:
        return
    names = new_trigger_names(triggers, config)
    taken = {
        name: table
        for name, table in triggers_named(conn, config.database, list(names.values())).items()
        if not _is_our_ghost(table, config)
    }
    problems = name_problems(names, taken, table=config.table)
    current_user = str(scalar(conn, "SELECT CURRENT_USER()"))
    problems += definer_problems(triggers, grants, current_user, config.database)
    if problems:
        raise PreflightError(
            f"The triggers of `{config.database}`.`{config.table}` cannot be carried to the "
            "new table: " + "; ".join(problems) + ". Nothing was changed."
        )


def _is_our_ghost(table: str, config: GhostConfig) -> bool:
    """Whether ``table`` is a ghost of this migration's table (under its own name or the
    atomic cut-over's): triggers on it are an interrupted run's, which a resume or
    initially_drop_ghost_table drops, and a fresh run refuses anyway while it exists."""
    if table == cutover_names(config.table)[0]:
        return True
    owner = original_table_of(table, [config.ghost_table_template], tables=[config.table])
    return owner == config.table
