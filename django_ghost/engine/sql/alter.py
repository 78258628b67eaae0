"""Parsing of the ALTER TABLE text a migration asks for, without a server.

:func:`parse_alter` accepts a bare clause list (``ADD COLUMN x INT, DROP COLUMN y``), one
full ``ALTER TABLE [db.]t ...`` statement, or several of them on the same table separated
by ``;`` (Django emits up to five for one field change). It returns a :class:`ParsedAlter`:
the clause list of each statement, ready to be applied in order to the empty ghost table,
plus what the copy needs to know about columns: renames (both ``CHANGE old new`` and
``RENAME COLUMN old TO new``, which gh-ost misses and so loses the column's data, its issue
#1034), drops, additions, modifications, key changes and the engine.

The text goes through a real tokenizer (strings with both escape styles, backtick
identifiers, the three comment styles, parenthesis depth) and clauses are split at
top-level commas only. No regular expression ever runs over the raw text, so a column
named ``exchange``, a ``COMMENT 'we change a b'`` or a ``DEFAULT 'a,b'`` is never misread
(gh-ost localtests ``rename-none-column`` and ``rename-none-comment``).

What cannot be migrated online is refused with :class:`UnsupportedAlterError`, whose
message names the cause and the remedy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from ..errors import UnsupportedAlterError
from .alter_clauses import StatementFacts, read_clause
from .alter_statements import Statement, read_statement, split_clauses, split_statements
from .alter_tokens import tokenize


@dataclasses.dataclass(frozen=True)
class ParsedAlter:
    """What an ALTER does, as far as the online migration needs to know.

    Column names are unquoted and lower-cased (MySQL column names are case-insensitive).
    ``renamed_columns`` and ``dropped_columns`` name columns of the original table;
    ``added_columns`` and ``modified_columns`` name columns of the altered table.
    """

    statements: tuple[str, ...]
    """Each statement's clause list, without ``ALTER TABLE name``, ``;``, ALGORITHM, LOCK."""
    database: str | None = None
    table: str | None = None
    """The table named in the statements; None for a bare clause list."""
    renamed_columns: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    dropped_columns: frozenset[str] = frozenset()
    added_columns: frozenset[str] = frozenset()
    modified_columns: frozenset[str] = frozenset()
    drops_primary_key: bool = False
    adds_unique_or_primary: bool = False
    engine: str | None = None
    auto_increment: int | None = None
    """The last table option ``AUTO_INCREMENT=N`` given: the new table's counter starts
    at N, or above the highest key when N is below it (as the server's own ALTER)."""
    algorithm: str | None = None
    """The last ``ALGORITHM=`` given (upper-cased), stripped from ``statements``."""
    lock: str | None = None
    """The last ``LOCK=`` given (upper-cased), stripped from ``statements``."""

    def alter_statements(self, quoted_table: str) -> tuple[str, ...]:
        """The statements to run, in order, against ``quoted_table`` (already quoted)."""
        return tuple(f"ALTER TABLE {quoted_table} {clauses}" for clauses in self.statements)


# -- column bookkeeping across clauses and statements ----------------------------------------


@dataclasses.dataclass
class _Column:
    origin: str | None  # the original table's column it carries data from; None when added
    modified: bool = False


class _Columns:
    """Follows columns through the statements, so chained renames and drops resolve.

    Within one statement every clause names the columns as they were before the statement
    (``CHANGE b a ..., DROP a`` drops the original ``a``), so each statement's changes are
    collected first and applied together.
    """

    def __init__(self) -> None:
        self.current: dict[str, _Column] = {}  # columns the statements touched, by name now
        self.dropped: set[str] = set()

    def lookup(self, name: str) -> _Column:
        # A column no statement has touched yet is still the original column of that name.
        return self.current.get(name, _Column(origin=name))

    def apply(
        self,
        drops: list[str],
        renames: list[tuple[str, str, bool]],
        adds: list[str],
        modifies: list[str],
    ) -> None:
        before = {name: self.lookup(name) for name in drops + [old for old, _, _ in renames]}
        for name in modifies:
            self.current[name] = dataclasses.replace(self.lookup(name), modified=True)
        for name in list(before):
            self.current.pop(name, None)
        for name in drops:
            origin = before[name].origin
            if origin is not None:
                self.dropped.add(origin)
        for old, new, modified in renames:
            column = before[old]
            self.current[new] = _Column(column.origin, column.modified or modified)
        for name in adds:
            self.current[name] = _Column(origin=None)

    def renamed(self) -> dict[str, str]:
        return {
            column.origin: name
            for name, column in self.current.items()
            if column.origin is not None and column.origin != name
        }

    def added(self) -> frozenset[str]:
        return frozenset(name for name, column in self.current.items() if column.origin is None)

    def modified(self) -> frozenset[str]:
        return frozenset(name for name, column in self.current.items() if column.modified)


def _analyse(statement: Statement, text: str, columns: _Columns) -> tuple[str, StatementFacts]:
    facts = StatementFacts()
    kept: list[str] = []
    for clause_tokens in split_clauses(statement.tokens, text):
        if read_clause(clause_tokens, text, facts):
            kept.append(text[clause_tokens[0].start : clause_tokens[-1].end])
    columns.apply(facts.drops, facts.renames, facts.adds, facts.modifies)
    return ", ".join(kept), facts


def _one_table(statements: list[Statement], table: str | None) -> tuple[str | None, str | None]:
    """The database and table the statements name, refusing a mix or another table."""
    if not statements:
        raise UnsupportedAlterError(
            "The ALTER is empty; give clauses (ADD COLUMN x INT) or ALTER TABLE statements."
        )
    if len(statements) > 1 and any(s.table is None for s in statements):
        raise UnsupportedAlterError(
            "Several statements were given but not all start with ALTER TABLE <name>; give "
            "either one bare clause list or full ALTER TABLE statements separated by ';'."
        )
    tables = {s.table for s in statements}
    if len(tables) > 1:
        raise UnsupportedAlterError(
            f"The statements alter different tables ({', '.join(sorted(map(str, tables)))}); "
            "migrate one table at a time."
        )
    databases = {s.database for s in statements if s.database is not None}
    if len(databases) > 1:
        raise UnsupportedAlterError(
            f"The statements name different databases ({', '.join(sorted(databases))}); "
            "migrate one table at a time."
        )
    statement_table = statements[0].table
    if table is not None and statement_table is not None and statement_table != table:
        raise UnsupportedAlterError(
            f"The ALTER names table {statement_table!r} but the migration is for {table!r}; "
            "fix the statement or the table option."
        )
    return (databases.pop() if databases else None), statement_table


# -- entry point -----------------------------------------------------------------------------


def parse_alter(text: str, *, table: str | None = None) -> ParsedAlter:
    """Parse ``text`` (see the module docstring for the accepted forms) into a ParsedAlter.

    ``table``, when given, is the table being migrated: a statement naming another table is
    refused. Raises :class:`UnsupportedAlterError` for anything that cannot run online.
    """
    statements = [read_statement(tokens, text) for tokens in split_statements(tokenize(text))]
    database, statement_table = _one_table(statements, table)

    columns = _Columns()
    clause_lists: list[str] = []
    merged = StatementFacts()
    for statement in statements:
        clauses, facts = _analyse(statement, text, columns)
        if clauses:
            clause_lists.append(clauses)
        merged.drops_primary_key |= facts.drops_primary_key
        merged.adds_unique_or_primary |= facts.adds_unique_or_primary
        merged.engine = facts.engine or merged.engine
        if facts.auto_increment is not None:
            merged.auto_increment = facts.auto_increment
        merged.algorithm = facts.algorithm or merged.algorithm
        merged.lock = facts.lock or merged.lock
    if not clause_lists:
        raise UnsupportedAlterError(
            "The ALTER only gives ALGORITHM/LOCK, so there is nothing to change; to rebuild "
            "the table use ENGINE=InnoDB or FORCE."
        )
    return ParsedAlter(
        statements=tuple(clause_lists),
        database=database,
        table=statement_table,
        renamed_columns=MappingProxyType(columns.renamed()),
        dropped_columns=frozenset(columns.dropped),
        added_columns=columns.added(),
        modified_columns=columns.modified(),
        drops_primary_key=merged.drops_primary_key,
        adds_unique_or_primary=merged.adds_unique_or_primary,
        engine=merged.engine,
        auto_increment=merged.auto_increment,
        algorithm=merged.algorithm,
        lock=merged.lock,
    )
