"""The copy plan: which columns carry over to the ghost table and which key drives it.

Built from the original and ghost TableInfo plus the parsed ALTER, with no I/O:
- shared columns are the original's non-generated columns that exist (directly or
  through an approved rename) as non-generated columns of the ghost, excluding columns
  the ALTER drops (a column dropped and re-added carries no data, as in gh-ost);
- the chosen key is a non-NULL unique key of the original whose (renamed) columns are
  all shared and form a unique key of the ghost, or a prefix of one (gh-ost's shared-uk
  case: ``DROP PRIMARY KEY, ADD PRIMARY KEY (id, i)``), so rows can be found by key in
  both tables with an index. PRIMARY is preferred, then integer keys, then fewer columns.
  With a prefix the ghost's key is wider than the shared key, so one shared key may
  match several ghost rows: the apply then never uses REPLACE
  (:attr:`CopyPlan.replaces_by_shared_key`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..errors import PreflightError
from ..sql.alter import ParsedAlter
from ..sql.builder import KeyColumn
from ..sql.columns import INTEGER_TYPES, Column
from .info import TableInfo, UniqueKey

# Keys on these types cannot be compared exactly (FLOAT) or are not indexable as a
# whole (JSON/blobs), so they never drive the copy.
UNUSABLE_KEY_TYPES = frozenset(
    {
        "float",
        "double",
        "json",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
    }
)


@dataclasses.dataclass(frozen=True)
class ColumnPair:
    source: Column
    target: Column


@dataclasses.dataclass(frozen=True)
class CopyPlan:
    """Everything the copier, applier and checksum need to know about the two tables."""

    original: TableInfo
    ghost: TableInfo
    columns: tuple[ColumnPair, ...]
    key: UniqueKey
    ghost_key_name: str
    renamed: Mapping[str, str]

    @property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(self.original.column(name) for name in self.key.columns)

    @property
    def shared_key(self) -> tuple[KeyColumn, ...]:
        """The chosen key as the copy, the apply and the checksum walk it in both tables."""
        return tuple(
            KeyColumn(name=c.name, ghost_name=self.target_name(c.name), column=c)
            for c in self.key_columns
        )

    @property
    def ghost_key_columns(self) -> tuple[str, ...]:
        return tuple(self.target_name(name) for name in self.key.columns)

    @property
    def replaces_by_shared_key(self) -> bool:
        """Whether ``REPLACE INTO ghost`` by the shared key replaces exactly the ghost row
        of that key: the ghost's only unique key has exactly the shared key's columns.
        Not when another unique key exists (REPLACE would delete the row holding its
        value), nor when the ghost's key merely starts with the shared key (gh-ost's
        shared-uk case, ``ADD PRIMARY KEY (id, a)``: an update of ``a`` would insert
        ``(id, new a)`` beside ``(id, old a)``)."""
        if len(self.ghost.unique_keys) != 1:
            return False
        (unique,) = self.ghost.unique_keys
        shared = sorted(c.lower() for c in self.ghost_key_columns)
        return (
            unique.name == self.ghost_key_name
            and sorted(c.lower() for c in unique.columns) == shared
        )

    def target_name(self, source_name: str) -> str:
        for pair in self.columns:
            if pair.source.name.lower() == source_name.lower():
                return pair.target.name
        raise KeyError(source_name)

    @property
    def converts_datetime_timestamp(self) -> bool:
        """True when a shared column changes between DATETIME and TIMESTAMP: such values
        are converted with the session time zone, so copies must use the server's."""
        kinds = {"datetime", "timestamp"}
        return any(
            p.source.data_type in kinds
            and p.target.data_type in kinds
            and p.source.data_type != p.target.data_type
            for p in self.columns
        )


def plan_alter(
    original: TableInfo, ghost: TableInfo, parsed: ParsedAlter, *, allow_nullable_unique_key: bool
) -> CopyPlan:
    """The plan for copying ``original`` into ``ghost``, the ALTER ``parsed`` applied."""
    return build_plan(
        original,
        ghost,
        renamed={k.lower(): v for k, v in parsed.renamed_columns.items()},
        dropped=frozenset(c.lower() for c in parsed.dropped_columns),
        allow_nullable_unique_key=allow_nullable_unique_key,
    )


def build_plan(
    original: TableInfo,
    ghost: TableInfo,
    *,
    renamed: Mapping[str, str],
    dropped: frozenset[str],
    allow_nullable_unique_key: bool = False,
) -> CopyPlan:
    """Pair the columns and choose the key, or raise PreflightError saying why not."""
    pairs = []
    for column in original.columns:
        if column.generated:
            continue
        lowered = column.name.lower()
        target_name = renamed.get(lowered, column.name)
        if lowered in dropped and lowered not in renamed:
            continue
        if not ghost.has_column(target_name):
            continue
        target = ghost.column(target_name)
        if target.generated:
            continue
        pairs.append(ColumnPair(column, target))
    if not pairs:
        raise PreflightError(
            f"No column of {original.name} survives the ALTER; nothing could be copied. "
            "Create a new table instead."
        )
    shared = {p.source.name.lower(): p.target.name for p in pairs}
    key, ghost_key = _choose_key(original, ghost, shared, allow_nullable_unique_key)
    plan = CopyPlan(
        original=original,
        ghost=ghost,
        columns=tuple(pairs),
        key=key,
        ghost_key_name=ghost_key.name,
        renamed=dict(renamed),
    )
    for column in plan.key_columns:
        target = ghost.column(shared[column.name.lower()])
        if column.data_type == "datetime" and target.data_type == "timestamp":
            raise PreflightError(
                f"Column {column.name} of the chosen key {key.name} changes from DATETIME to "
                "TIMESTAMP; rows could not be matched by key across time zones. Change the "
                "type in a separate migration after adding another unique key."
            )
    return plan


def _rank(key: UniqueKey, table: TableInfo) -> tuple[int, int, int, int]:
    first = table.column(key.columns[0])
    type_rank = INTEGER_TYPES.index(first.data_type) if first.data_type in INTEGER_TYPES else 9
    return (0 if key.is_primary else 1, 1 if key.has_nullable else 0, type_rank, len(key.columns))


def _choose_key(
    original: TableInfo,
    ghost: TableInfo,
    shared: Mapping[str, str],
    allow_nullable: bool,
) -> tuple[UniqueKey, UniqueKey]:
    if not original.unique_keys:
        raise PreflightError(
            f"Table {original.name} has no PRIMARY KEY or UNIQUE key; rows cannot be copied "
            "and matched online. Add a primary key first (a plain ALTER on a small table, or "
            "an online migration that only adds an auto-increment primary key column)."
        )
    reasons = []
    for key in sorted(original.unique_keys, key=lambda k: _rank(k, original)):
        columns = [original.column(c) for c in key.columns]
        unusable = [c.name for c in columns if c.data_type in UNUSABLE_KEY_TYPES]
        if unusable:
            reasons.append(f"{key.name}: column(s) {', '.join(unusable)} cannot drive a copy")
            continue
        if key.has_nullable and not allow_nullable:
            reasons.append(f"{key.name}: has NULLable column(s)")
            continue
        missing = [c for c in key.columns if c.lower() not in shared]
        if missing:
            reasons.append(f"{key.name}: column(s) {', '.join(missing)} dropped by the ALTER")
            continue
        mapped = [shared[c.lower()].lower() for c in key.columns]
        for ghost_key in sorted(ghost.unique_keys, key=lambda k: _rank(k, ghost)):
            prefix = [c.lower() for c in ghost_key.columns[: len(mapped)]]
            if sorted(prefix) == sorted(mapped) and len(ghost_key.columns) >= len(mapped):
                return key, ghost_key
        reasons.append(f"{key.name}: not a unique key (or key prefix) of the new table")
    raise PreflightError(
        f"No shared unique key between {original.name} and its new schema: "
        + "; ".join(reasons)
        + ". Keep the primary key (or another non-NULL unique key) in the ALTER, or add the "
        "new key before dropping the old one in a separate migration."
    )
