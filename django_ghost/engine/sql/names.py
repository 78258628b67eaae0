"""Names of the helper tables of a migration: ghost, changelog and old (sentry) table;
and the names the original's triggers take on the new table (:func:`ghost_trigger_name`).

Names come from templates holding ``{table}`` and optionally ``{timestamp}``
(gh-ost's ``_{table}_gho``, or Bytebase's ``~{table}_{timestamp}_gho``). MySQL limits
table names to 64 characters: when a rendered name would be longer, the ``{table}`` part
is cut and followed by ``_`` and the first 8 hex digits of the SHA-1 of the full table
name, so two long tables sharing a prefix still get different helper tables. gh-ost only
truncates, which lets such tables collide.

The reverse direction (:func:`match_helper_table`) lets a cleanup command recognise
leftover helper tables and, when possible, the table they belong to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import string
from collections.abc import Iterable

from ..errors import ConfigError
from .quote import MAX_IDENTIFIER_LENGTH

DEFAULT_GHOST_TEMPLATE = "_{table}_gho"
DEFAULT_CHANGELOG_TEMPLATE = "_{table}_ghc"
DEFAULT_OLD_TEMPLATE = "_{table}_del"
DEFAULT_TEMPLATES = (DEFAULT_GHOST_TEMPLATE, DEFAULT_CHANGELOG_TEMPLATE, DEFAULT_OLD_TEMPLATE)

SENTRY_COMMENT = "django-ghost-cut-over-sentry"
"""The table comment of the atomic cut-over's sentry (the empty table that holds the old
table's name while the original is locked): how cleanup and resume tell it from a user's."""
CUTOVER_SUFFIXES = (("~g", "ghost"), ("~d", "old"))
"""Suffixes the atomic cut-over appends to the table's name for the ghost and the sentry
(later the old table) while an attempt runs, and the kind of leftover each one is."""
LOCK_PREFIX = "django-ghost."
MAX_LOCK_NAME = 64
"""MySQL and MariaDB refuse GET_LOCK names over 64 characters."""

HASH_LENGTH = 8
_PLACEHOLDERS = ("table", "timestamp")
# Timestamps hold no '_' so that a name like _a_b_20240101_del splits only one way.
_TIMESTAMP = re.compile(r"[0-9A-Za-z]*")
_TIMESTAMP_PATTERN = "[0-9A-Za-z]+"
_SHORTENED = re.compile(rf"(?:.+_)?[0-9a-f]{{{HASH_LENGTH}}}")


@dataclasses.dataclass(frozen=True)
class TableNames:
    """The original table and the three helper tables of one migration."""

    original: str
    ghost: str
    changelog: str
    old: str

    @property
    def helpers(self) -> tuple[str, str, str]:
        return (self.ghost, self.changelog, self.old)


def _placeholders(template: str) -> list[str]:
    """The placeholders of ``template`` in order; ConfigError for anything else."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(
            f"Table name template {template!r} is malformed ({error}); write literal braces "
            "as {{ and }}."
        ) from None
    found = []
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in _PLACEHOLDERS or spec or conversion:
            raise ConfigError(
                f"Table name template {template!r} uses {{{name}}}; only {{table}} and "
                "{timestamp} are allowed, without format specs."
            )
        found.append(name)
    if "table" not in found:
        raise ConfigError(
            f"Table name template {template!r} must contain {{table}}, or every table's "
            "migration would use the same helper table."
        )
    return found


def _table_hash(table: str) -> str:
    return hashlib.sha1(table.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def _render(template: str, table: str, timestamp: str) -> str:
    name = template.format(table=table, timestamp=timestamp)
    if len(name) <= MAX_IDENTIFIER_LENGTH:
        return name
    occurrences = _placeholders(template).count("table")
    fixed = len(template.format(table="", timestamp=timestamp))
    budget = (MAX_IDENTIFIER_LENGTH - fixed) // occurrences
    digest = _table_hash(table)
    if budget >= HASH_LENGTH + 2:
        part = f"{table[: budget - HASH_LENGTH - 1]}_{digest}"
    elif budget >= HASH_LENGTH:
        part = digest
    else:
        raise ConfigError(
            f"Table name template {template!r} leaves {max(budget, 0)} of "
            f"{MAX_IDENTIFIER_LENGTH} characters for the table name, fewer than the "
            f"{HASH_LENGTH} a shortened name needs; use a shorter template or timestamp."
        )
    return template.format(table=part, timestamp=timestamp)


def table_names(
    table: str,
    *,
    ghost_template: str = DEFAULT_GHOST_TEMPLATE,
    changelog_template: str = DEFAULT_CHANGELOG_TEMPLATE,
    old_template: str = DEFAULT_OLD_TEMPLATE,
    timestamp: str = "",
) -> TableNames:
    """Render the helper table names of ``table``; ConfigError if they cannot be distinct."""
    if not table or len(table) > MAX_IDENTIFIER_LENGTH or "\x00" in table:
        raise ConfigError(
            f"{table!r} is not a valid table name (1 to {MAX_IDENTIFIER_LENGTH} characters, "
            "no NUL); pass the table's real name."
        )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise ConfigError(
            f"Timestamp {timestamp!r} for table names may only hold letters and digits "
            "(e.g. 20240131120000), so that leftover tables can be recognised."
        )
    templates = (ghost_template, changelog_template, old_template)
    for template in templates:
        if "timestamp" in _placeholders(template) and not timestamp:
            raise ConfigError(
                f"Table name template {template!r} uses {{timestamp}} but no timestamp was "
                "given; pass the migration's start time."
            )
    names = TableNames(table, *(_render(t, table, timestamp) for t in templates))
    # Compared case-insensitively: with lower_case_table_names=1 (macOS, Windows) names
    # that differ only in case are the same table.
    folded = [name.casefold() for name in (names.original, *names.helpers)]
    if len(set(folded)) != len(folded):
        raise ConfigError(
            f"Helper table names {names.helpers} for {table!r} are not all distinct from each "
            "other and from the table; make the ghost, changelog and old templates differ."
        )
    return names


@dataclasses.dataclass(frozen=True)
class HelperTable:
    """A table recognised as a helper table from one of the templates."""

    name: str
    template: str
    table: str | None
    """The original table, or None when the name was shortened and no candidate matched."""
    timestamp: str | None


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    seen_table = False
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name == "table":
            parts.append("(?P=table)" if seen_table else "(?P<table>.+)")
            seen_table = True
        elif name == "timestamp":
            parts.append(f"(?P<timestamp>{_TIMESTAMP_PATTERN})")
    return re.compile("".join(parts), re.DOTALL)


def match_helper_table(
    name: str, templates: Iterable[str] = DEFAULT_TEMPLATES, *, tables: Iterable[str] = ()
) -> HelperTable | None:
    """Recognise ``name`` as a helper table of one of ``templates``, or return None.

    ``tables`` (the schema's other tables) lets a shortened name be traced back to its
    table; without a matching candidate a shortened name is still recognised, with
    ``table=None``. A timestamp placeholder matches letters and digits only.
    """
    candidates = list(tables)
    for template in templates:
        _placeholders(template)
        match = _pattern(template).fullmatch(name)
        if match is None:
            continue
        timestamp = match.groupdict().get("timestamp")
        owner: str | None = None
        for candidate in candidates:
            if candidate == name or len(candidate) > MAX_IDENTIFIER_LENGTH:
                continue
            try:
                rendered = _render(template, candidate, timestamp or "")
            except ConfigError:
                continue
            if rendered == name:
                owner = candidate
                break
        part = match.group("table")
        shortened = len(name) >= MAX_IDENTIFIER_LENGTH - 1 and _SHORTENED.fullmatch(part)
        if owner is None and not shortened:
            owner = part
        return HelperTable(name=name, template=template, table=owner, timestamp=timestamp)
    return None


def is_helper_table(name: str, templates: Iterable[str] = DEFAULT_TEMPLATES) -> bool:
    """Whether ``name`` has the shape of a helper table made from one of ``templates``."""
    return match_helper_table(name, templates) is not None


def original_table_of(
    name: str, templates: Iterable[str] = DEFAULT_TEMPLATES, *, tables: Iterable[str] = ()
) -> str | None:
    """The table a helper table belongs to, or None if not a helper table or not knowable."""
    match = match_helper_table(name, templates, tables=tables)
    return match.table if match else None


def cutover_names(original: str) -> tuple[str, str]:
    """The names the atomic cut-over gives the ghost and the sentry during an attempt."""
    (ghost_suffix, _), (old_suffix, _) = CUTOVER_SUFFIXES
    return f"{original}{ghost_suffix}", f"{original}{old_suffix}"


def migration_lock_name(database: str, table: str) -> str:
    """The named lock a migration of ``database.table`` holds while it runs."""
    name = f"{LOCK_PREFIX}{database}.{table}"
    if len(name) > MAX_LOCK_NAME:
        name = LOCK_PREFIX + hashlib.sha1(name.encode()).hexdigest()
    return name


def cutover_lock_name(connection_id: int) -> str:
    """The liveness lock the cut-over's locking session holds during an attempt."""
    return f"{LOCK_PREFIX}cutover.{connection_id}"


def ghost_trigger_name(name: str, suffix: str, *, remove_suffix: bool) -> str:
    """The name a trigger of the original takes on the new table (gh-ost's
    GetGhostTriggerName): ``name`` plus ``suffix``, or, with ``remove_suffix``, ``name``
    without it when it already ends with it, so that migrating the same table again and
    again alternates between two names instead of growing one."""
    if remove_suffix and suffix and name.endswith(suffix):
        return name[: -len(suffix)]
    return name + suffix
