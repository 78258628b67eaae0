"""Cleaning up leftovers (leftovers.py finds them): the one policy of both front ends.

:func:`drop_leftovers` takes the same server-side named lock a migration of the table
holds for its whole run (see ``Migrator.take_migration_lock``): while a migration runs,
clean-up is refused, and no migration can start while clean-up drops its tables.

The policy of both front ends (``django-ghost --cleanup``, ``ghost_ctl leftovers/cleanup``)
is here with its texts: what is listed (:func:`list_leftovers`), refusing while a migration
runs (:func:`refuse_if_running`), what is dropped and what needs ``--drop-old``
(:func:`plan_cleanup`), confirmation unless ``--yes`` (:func:`confirmed`), and dropping
(:func:`carry_out`). Front ends add only their files (ghost_ctl: sockets and flag files
of its path templates) and their report of what was removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from ..config import GhostConfig
from ..errors import PreflightError
from ..mysql.connection import Connection, execute, scalar
from ..sql.names import DEFAULT_TEMPLATES, migration_lock_name, templates_of
from ..sql.quote import quote_identifier as q
from . import revert_checkpoint
from .leftovers import (
    FLAG_KIND,
    SOCKET_KIND,
    Leftover,
    find_leftovers,
    remove_stale_socket,
    unlink,
)

NOT_CONFIRMED = "Nothing dropped (answer y, or pass --yes)."


def running_migration(conn: Connection, database: str, table: str) -> int | None:
    """The connection id of a migration of ``database.table`` now running, if any."""
    holder = scalar(conn, "SELECT IS_USED_LOCK(%s)", (migration_lock_name(database, table),))
    return None if holder is None else int(holder)


def refuse_if_running(conn: Connection, database: str, table: str) -> None:
    """PreflightError while a migration of ``database.table`` runs: its tables are in use."""
    holder = running_migration(conn, database, table)
    if holder is not None:
        raise _running_error(database, table, holder)


def _running_error(database: str, table: str, holder: object) -> PreflightError:
    lock = migration_lock_name(database, table)
    return PreflightError(
        f"A migration of {database}.{table} is running (connection id {holder} holds the "
        f"lock {lock!r}); its helper tables are in use. Stop it (the panic command on its "
        "control socket, or SIGTERM) or wait for it to finish, then clean up."
    )


def drop_leftovers(
    conn: Connection,
    database: str,
    table: str,
    *,
    drop_old: bool,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    socket_glob_dir: str | None = None,
) -> list[Leftover]:
    """Drop the ghost, changelog and sentry tables of ``table`` (and old tables if
    ``drop_old``) and its stale control socket; returns what was removed.

    Refused with PreflightError while a migration of the table runs. The original table
    is never dropped, whatever the templates say. The changelog is dropped last, and kept
    while ``<table>~d`` holding the old data is (``drop_old`` off): it is what marks that
    table as a leftover (see the module docstring).
    """
    lock = migration_lock_name(database, table)
    if scalar(conn, "SELECT GET_LOCK(%s, 0)", (lock,)) != 1:
        raise _running_error(database, table, scalar(conn, "SELECT IS_USED_LOCK(%s)", (lock,)))
    removed: list[Leftover] = []
    try:
        mine = [
            item
            for item in find_leftovers(
                conn, database, templates=templates, socket_glob_dir=socket_glob_dir
            )
            if item.table == table and item.name != table
        ]
        # The changelog is what marks <t>~g and an old <t>~d as the engine's: it goes
        # last (a failed DROP leaves the rest recognisable), and stays while <t>~d with
        # the old data is kept, so that a later clean-up with drop_old still finds it.
        keeps_cutover_old = not drop_old and any(
            item.kind == "old" and item.name == f"{table}~d" for item in mine
        )
        mine.sort(key=lambda item: item.kind == "changelog")
        for item in mine:
            kept = (item.kind == "old" and not drop_old) or (
                item.kind == "changelog" and keeps_cutover_old
            )
            if kept:
                continue
            if item.kind == SOCKET_KIND:
                if not unlink(item.name):
                    continue
            else:
                execute(conn, f"DROP TABLE IF EXISTS {q(database)}.{q(item.name)}")
            removed.append(item)
    finally:
        execute(conn, "DO RELEASE_LOCK(%s)", (lock,))
    return removed


# -- the clean-up policy of both front ends ----------------------------------------------


def template_sets(config: GhostConfig) -> list[tuple[str, ...]]:
    """The configured helper-table templates, then the defaults: a run under other
    settings may have left default names."""
    return list(dict.fromkeys((templates_of(config), DEFAULT_TEMPLATES)))


def list_leftovers(
    conn: Connection, config: GhostConfig, *, files: Iterable[Leftover] = ()
) -> list[Leftover]:
    """What a clean-up lists in ``config.database``: helper tables by every template set,
    stale default-path sockets and the front end's ``files``, oldest first; nothing of a
    migration that is running (its tables are in use, not left over)."""
    items: dict[str, Leftover] = {}
    for templates in template_sets(config):
        for item in find_leftovers(conn, config.database, templates=templates):
            items.setdefault(item.name, item)
    for item in files:
        items.setdefault(item.name, item)
    owners = dict.fromkeys(item.table for item in items.values() if item.table is not None)
    running = {t for t in owners if running_migration(conn, config.database, t) is not None}
    listed = [item for item in items.values() if item.table not in running]
    listed.sort(key=lambda item: (-(item.age_seconds or 0.0), item.kind, item.name))
    return listed


@dataclasses.dataclass(frozen=True)
class CleanupPlan:
    """What cleaning up one table does: ``drop`` goes once confirmed, ``keep`` stays."""

    table: str
    drop: tuple[Leftover, ...]
    keep: tuple[Leftover, ...]
    """Old tables, which may hold the previous data: dropped only with --drop-old."""

    def notices(self) -> list[str]:
        """What is kept and why, and whether anything is left to drop."""
        lines = [
            f"Keeping old table {item.name} (it may hold the previous data); --drop-old drops it."
            for item in self.keep
        ]
        if not self.drop:
            lines.append(f"Nothing {'else ' if self.keep else ''}to clean up for {self.table!r}.")
        return lines

    def prompt(self) -> str:
        return f"Drop {', '.join(item.name for item in self.drop)}? [y/N] "


def plan_cleanup(items: Iterable[Leftover], table: str, *, drop_old: bool) -> CleanupPlan:
    """The leftovers of ``table`` among ``items``; old tables only with ``drop_old``."""
    mine = [item for item in items if item.table == table and item.name != table]
    return CleanupPlan(
        table=table,
        drop=tuple(item for item in mine if drop_old or item.droppable_without_asking),
        keep=tuple(item for item in mine if not (drop_old or item.droppable_without_asking)),
    )


def confirmed(plan: CleanupPlan, *, yes: bool, ask: Callable[[str], str]) -> bool:
    """--yes, or the answer y to the plan's prompt (end of input is no)."""
    if yes:
        return True
    try:
        answer = ask(plan.prompt())
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def carry_out(
    conn: Connection, config: GhostConfig, plan: CleanupPlan, *, drop_old: bool
) -> list[Leftover]:
    """Drop the plan's table's leftovers (under its migration lock, by every template
    set) and remove the plan's files; returns what was removed.

    Refused with PreflightError if a migration of the table started since the listing.
    """
    removed: dict[str, Leftover] = {}
    for templates in template_sets(config):
        for item in drop_leftovers(
            conn, config.database, plan.table, drop_old=drop_old, templates=templates
        ):
            removed[item.name] = item
    # The cut-over checkpoints of old tables dropped now or earlier cannot be reverted to.
    revert_checkpoint.prune(conn, config.database, plan.table)
    for item in plan.drop:
        if item.name in removed or item.kind not in (SOCKET_KIND, FLAG_KIND):
            continue
        stale = item.kind == SOCKET_KIND
        if remove_stale_socket(item.name) if stale else unlink(item.name):
            removed[item.name] = item
    return list(removed.values())
