"""Leftovers of interrupted migrations: find them, classify them, describe them.

A migration that is killed (SIGKILL, a lost host, a server restart) cannot run its own
clean-up, so it may leave behind, in the migrated schema:

- the ghost table (``_<t>_gho``) and the changelog table (``_<t>_ghc``): useless once no
  migration of ``t`` runs, and safe to drop;
- an old table (``_<t>_del``): either the previous original table of a *successful*
  migration kept on purpose (``ok_to_drop_table`` off), which holds data and is dropped
  only when asked (``drop_old``), or an empty cut-over *sentry* (its comment says so),
  which is always safe to drop;
- the names the atomic cut-over uses while an attempt runs (see ``AtomicAttempt.run``):
  ``<t>~g``, the ghost table renamed for the attempt (kind ghost, safe to drop), and
  ``<t>~d``, either the attempt's empty sentry (its comment says so; kind sentry) or,
  when the process died after the RENAME but before renaming it to ``_<t>_del``, the old
  table with the previous data (kind old, dropped only with ``drop_old``);
- a control socket ``/tmp/django-ghost.<db>.<t>.sock`` nobody answers on.

The cut-over's names are ordinary names a user may own too (a table ``a~g`` next to
``a``), so they are claimed for ``t`` only with evidence that a migration of ``t`` was
interrupted, and only while a base table ``t`` exists:

- ``<t>~d`` carrying the sentry comment is an empty sentry on its own;
- ``<t>~g``, and a ``<t>~d`` without the sentry comment, count only while the changelog
  table of ``t`` (by the changelog template, shortened names included) exists too. The
  engine creates the changelog before the ghost and drops it only in its clean-up after
  a successful cut-over, once ``<t>~d`` is renamed to the old table's name, so a cut-over
  attempt killed mid-way always leaves it; without it, these are the user's tables and
  are never listed nor dropped.

Tables are recognised by the name templates (:func:`..sql.names.match_helper_table`),
so shortened names of 64-character tables are traced back to their table when it still
exists, and by the cut-over's ``~g``/``~d`` suffixes under the rule above
(:func:`classify_table`, :func:`changelog_owners`). The original table is never a
candidate: a name is only dropped when it matches a helper template or a cut-over name
*and* is not the name of the table being cleaned.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import stat
import time
from collections.abc import Callable, Collection, Sequence

from ..control.socket import default_socket_path, socket_is_live
from ..errors import ConfigError
from ..mysql.connection import Connection, query
from ..sql.names import (
    CUTOVER_SUFFIXES,
    DEFAULT_TEMPLATES,
    SENTRY_COMMENT,
    match_helper_table,
)

KINDS = ("ghost", "changelog", "old")
"""Kind of a helper table, by the position of its template in ``templates``."""

SOCKET_KIND = "socket"
SENTRY_KIND = "sentry"
FLAG_KIND = "flag-file"
"""A postpone flag file, found by a front end through its own path template."""


@dataclasses.dataclass(frozen=True)
class Leftover:
    """One helper table or control socket left behind by a migration."""

    kind: str
    """ghost, changelog, old, sentry (an empty cut-over sentry) or socket."""
    name: str
    """The table name, or the socket's path."""
    table: str | None
    """The table the leftover belongs to; None when a shortened name cannot be traced."""
    age_seconds: float | None
    """Since CREATE_TIME for tables, since the last change for sockets."""
    size_bytes: int | None
    """Data plus index length (information_schema); None for sockets."""
    rows: int | None = None
    """The row estimate of information_schema (exact for empty tables)."""

    @property
    def droppable_without_asking(self) -> bool:
        """Everything except an old table, which may hold the previous data on purpose."""
        return self.kind != "old"


def _kinds(templates: Sequence[str]) -> dict[str, str]:
    if len(templates) != len(KINDS):
        raise ConfigError(
            f"Give the ghost, changelog and old table templates, in that order "
            f"({len(templates)} were given)."
        )
    return dict(zip(templates, KINDS, strict=True))


def changelog_owners(
    tables: Collection[str], *, templates: Sequence[str] = DEFAULT_TEMPLATES
) -> frozenset[str]:
    """The tables among ``tables`` whose changelog table (by the changelog template of
    ``templates``, shortened names traced back) is among ``tables`` too.

    A migration of such a table was interrupted (or runs): the engine drops the changelog
    only after a successful cut-over and clean-up.
    """
    kinds = _kinds(templates)
    owners: set[str] = set()
    for name in tables:
        # Cheap shape check first; tracing the owner compares with every table.
        shape = match_helper_table(name, templates)
        if shape is None or kinds[shape.template] != "changelog":
            continue
        match = match_helper_table(name, templates, tables=tables)
        if match is not None and match.table is not None and match.table != name:
            owners.add(match.table)
    return frozenset(owners)


def classify_table(
    name: str,
    comment: object = None,
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    tables: Collection[str] = (),
    changelogs: Collection[str] | None = None,
) -> tuple[str, str | None] | None:
    """The kind of leftover base table ``name`` is and the table it belongs to, or None.

    ``comment`` is the table's TABLE_COMMENT (an old table carrying the cut-over's sentry
    comment is a sentry); ``tables`` are the schema's base tables. A name made by one of
    ``templates`` (ghost, changelog, old, in that order) is matched first; otherwise
    ``<t>~g`` and ``<t>~d`` are the atomic cut-over's names, recognised only when ``t``
    is one of ``tables`` and, unless ``<t>~d`` carries the sentry comment, the changelog
    table of ``t`` exists: a user may own tables with these names. ``changelogs`` are
    the tables whose changelog exists (:func:`changelog_owners`; computed from
    ``tables`` when None). A name is never its own owner.
    """
    kinds = _kinds(templates)
    kind: str | None = None
    owner: str | None = None
    match = match_helper_table(name, templates, tables=tables)
    if match is not None:
        kind, owner = kinds[match.template], match.table
    else:
        for suffix, suffix_kind in CUTOVER_SUFFIXES:
            base = name[: -len(suffix)]
            if not (name.endswith(suffix) and base and base in tables):
                continue
            if not (suffix_kind == "old" and comment == SENTRY_COMMENT):
                if changelogs is None:
                    changelogs = changelog_owners(tables, templates=templates)
                if base not in changelogs:
                    break
            kind, owner = suffix_kind, base
            break
    if kind is None or owner == name:
        return None
    if kind == "old" and comment == SENTRY_COMMENT:
        kind = SENTRY_KIND
    return kind, owner


def find_leftovers(
    conn: Connection,
    database: str,
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    socket_glob_dir: str | None = None,
    is_live: Callable[[str], bool] | None = None,
) -> list[Leftover]:
    """Helper tables of ``database`` and its stale control sockets, oldest first.

    ``templates`` are the ghost, changelog and old table templates in that order.
    ``socket_glob_dir`` overrides the directory searched for default socket paths (tests).
    """
    _kinds(templates)  # a ConfigError before any query
    rows = query(
        conn,
        "SELECT TABLE_NAME, TIMESTAMPDIFF(SECOND, CREATE_TIME, NOW()), "
        "DATA_LENGTH + INDEX_LENGTH, TABLE_ROWS, TABLE_COMMENT, TABLE_TYPE "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        (database,),
    )
    tables = [str(r[0]) for r in rows if r[5] == "BASE TABLE"]
    changelogs = changelog_owners(tables, templates=templates)
    found: list[Leftover] = []
    for name, age, size, count, comment, table_type in rows:
        if table_type != "BASE TABLE":
            continue
        classified = classify_table(
            str(name), comment, templates=templates, tables=tables, changelogs=changelogs
        )
        if classified is None:
            continue
        kind, owner = classified
        found.append(
            Leftover(
                kind=kind,
                name=str(name),
                table=owner,
                age_seconds=None if age is None else float(age),
                size_bytes=None if size is None else int(size),
                rows=None if count is None else int(count),
            )
        )
    found += stale_sockets(database, directory=socket_glob_dir, is_live=is_live)
    found.sort(key=lambda item: (-(item.age_seconds or 0.0), item.kind, item.name))
    return found


def stale_sockets(
    database: str,
    *,
    directory: str | None = None,
    is_live: Callable[[str], bool] | None = None,
) -> list[Leftover]:
    """Default-path control sockets of ``database`` that nobody answers on."""
    probe = is_live or socket_is_live
    template = default_socket_path(database, "\x00")
    prefix, suffix = template.split("\x00")
    if directory is not None:
        prefix = os.path.join(directory, os.path.basename(prefix))
    found = []
    for path in sorted(glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix))):
        if not is_own_socket(path) or probe(path):
            continue
        found.append(file_leftover(SOCKET_KIND, path, path[len(prefix) : len(path) - len(suffix)]))
    return found


def is_own_socket(path: str) -> bool:
    """A unix socket file of this user: the only sockets clean-up ever removes."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid()


def file_leftover(kind: str, path: str, table: str | None) -> Leftover:
    """A socket or flag file left behind, aged since its last change."""
    try:
        age: float | None = max(0.0, time.time() - os.lstat(path).st_mtime)
    except OSError:
        age = None
    return Leftover(kind=kind, name=path, table=table, age_seconds=age, size_bytes=None)


def remove_stale_socket(path: str) -> bool:
    """Remove our socket at ``path`` unless somebody answers on it; True if removed.

    Probed right before removing: a migration may just have started serving it.
    """
    return is_own_socket(path) and not socket_is_live(path) and unlink(path)


def unlink(path: str) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def format_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172_800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def format_leftovers(items: Sequence[Leftover]) -> str:
    """A table of leftovers for people: kind, name, table, age, size, rows."""
    header = ("KIND", "NAME", "TABLE", "AGE", "SIZE", "ROWS")
    lines = [header] + [
        (
            item.kind,
            item.name,
            item.table if item.table is not None else "?",
            format_age(item.age_seconds),
            format_size(item.size_bytes),
            "-" if item.rows is None else str(item.rows),
        )
        for item in items
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
