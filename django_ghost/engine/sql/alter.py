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

__all__ = ["ParsedAlter", "parse_alter"]

_WORD = "word"
_IDENT = "ident"  # a backtick-quoted identifier; the value is unquoted
_STRING = "string"  # '...' or "..."; the value is the raw text with its quotes
_PUNCT = "punct"


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    value: str
    start: int
    end: int
    depth: int  # parenthesis depth the token sits at; a '(' or ')' has the outer depth

    @property
    def word(self) -> str:
        """The upper-cased keyword, or "" for anything that is not a bare word."""
        return self.value.upper() if self.kind == _WORD else ""

    def is_punct(self, char: str) -> bool:
        return self.kind == _PUNCT and self.value == char


def _is_word_char(char: str) -> bool:
    # Unquoted MySQL identifiers: ASCII letters, digits, '$', '_' and any non-ASCII letter.
    return char.isalnum() or char in "_$" or ord(char) >= 0x80


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#" or (
            # MySQL only treats "--" as a comment when a space or control character follows.
            text.startswith("--", i) and (i + 2 == n or text[i + 2].isspace() or text[i + 2] < " ")
        ):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            if text.startswith(("/*!", "/*M!"), i):
                raise UnsupportedAlterError(
                    "The ALTER contains an executable comment (/*! ... */), whose content the "
                    "server runs; write its content as plain SQL or remove it."
                )
            close = text.find("*/", i + 2)
            if close < 0:
                raise UnsupportedAlterError(
                    "The ALTER has a /* comment that is never closed; add the closing */."
                )
            i = close + 2
        elif char in "'\"":
            end = _string_end(text, i)
            tokens.append(_Token(_STRING, text[i:end], i, end, depth))
            i = end
        elif char == "`":
            end, name = _backtick_end(text, i)
            tokens.append(_Token(_IDENT, name, i, end, depth))
            i = end
        elif _is_word_char(char):
            end = i + 1
            while end < n and _is_word_char(text[end]):
                end += 1
            tokens.append(_Token(_WORD, text[i:end], i, end, depth))
            i = end
        else:
            if char == ")":
                depth -= 1
                if depth < 0:
                    raise UnsupportedAlterError(
                        f"The ALTER has a ')' without a matching '(' at offset {i}; "
                        "fix the parentheses."
                    )
            tokens.append(_Token(_PUNCT, char, i, i + 1, depth))
            if char == "(":
                depth += 1
            i += 1
    if depth:
        raise UnsupportedAlterError(f"The ALTER has {depth} unclosed '('; fix the parentheses.")
    return tokens


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
        elif char == quote:
            if text.startswith(quote, i + 1):  # a doubled quote stands for one quote
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise UnsupportedAlterError(
        f"The ALTER has a string starting at offset {start} ({text[start : start + 20]!r}) "
        f"that is never closed; add the closing {quote}."
    )


def _backtick_end(text: str, start: int) -> tuple[int, str]:
    i = start + 1
    while True:
        close = text.find("`", i)
        if close < 0:
            raise UnsupportedAlterError(
                f"The ALTER has a `quoted identifier starting at offset {start} that is "
                "never closed; add the closing backtick."
            )
        if text.startswith("`", close + 1):  # a doubled backtick stands for one backtick
            i = close + 2
            continue
        return close + 1, text[start + 1 : close].replace("``", "`")


class _Cursor:
    """Reads one clause (or statement header) token by token."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.word if token else ""

    def accept(self, *words: str) -> bool:
        """Consume the given keywords if they come next, in that order."""
        if all(self.word(k) == word for k, word in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def accept_punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.is_punct(char):
            self.pos += 1
            return True
        return False

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def identifier(self, what: str, clause: str) -> str:
        token = self.peek()
        if token is None or token.kind not in (_WORD, _IDENT):
            raise UnsupportedAlterError(
                f"Expected {what} in {clause!r}; write it as a plain or `quoted` name."
            )
        self.pos += 1
        return token.value


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
    algorithm: str | None = None
    """The last ``ALGORITHM=`` given (upper-cased), stripped from ``statements``."""
    lock: str | None = None
    """The last ``LOCK=`` given (upper-cased), stripped from ``statements``."""

    def alter_statements(self, quoted_table: str) -> tuple[str, ...]:
        """The statements to run, in order, against ``quoted_table`` (already quoted)."""
        return tuple(f"ALTER TABLE {quoted_table} {clauses}" for clauses in self.statements)


# -- statement level -------------------------------------------------------------------------

# Words that, after DROP/ALTER/RENAME/CREATE, make a statement other than ALTER TABLE.
_OTHER_OBJECTS = frozenset(
    {
        "DATABASE", "SCHEMA", "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "USER",
        "ROLE", "SERVER", "SEQUENCE", "TEMPORARY", "TABLESPACE", "LOGFILE", "INSTANCE",
        "RESOURCE", "UNDO", "TABLE", "TABLES",
    }
)  # fmt: skip
# Statement verbs that never start an ALTER TABLE clause (LOCK, CHECK, ANALYZE, ... do, as
# LOCK=NONE or CHECK PARTITION, so they are only statements when TABLE follows).
_OTHER_VERBS = frozenset(
    {
        "CREATE", "INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "SET", "GRANT", "REVOKE",
        "CALL", "LOAD", "USE", "SHOW", "FLUSH", "UNLOCK", "START", "BEGIN", "COMMIT",
        "ROLLBACK", "HANDLER", "DO", "EXPLAIN", "DESCRIBE",
    }
)  # fmt: skip


_TABLE_VERBS = frozenset(
    {"LOCK", "TRUNCATE", "CHECK", "CHECKSUM", "ANALYZE", "OPTIMIZE", "REPAIR", "FLUSH"}
)


def _has_on(tokens: list[_Token]) -> bool:
    return any(token.word == "ON" for token in tokens)


@dataclasses.dataclass
class _Statement:
    database: str | None
    table: str | None
    tokens: list[_Token]  # the clause list


def _split_statements(tokens: list[_Token]) -> list[list[_Token]]:
    statements: list[list[_Token]] = [[]]
    for token in tokens:
        if token.depth == 0 and token.is_punct(";"):
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _not_alter_table(tokens: list[_Token], text: str) -> UnsupportedAlterError:
    head = text[tokens[0].start : tokens[min(len(tokens), 3) - 1].end]
    if any(t.word in ("INDEX", "KEY") for t in tokens[1:3]):
        return UnsupportedAlterError(
            f"{head!r} is not an ALTER TABLE statement. Index DDL is rewritten as "
            "ALTER TABLE ... ADD/DROP INDEX by the Django layer; pass that form instead."
        )
    return UnsupportedAlterError(
        f"{head!r} is not an ALTER TABLE statement; only ALTER TABLE can run online. "
        "Run other statements directly."
    )


def _read_statement(tokens: list[_Token], text: str) -> _Statement:
    cursor = _Cursor(tokens)
    first = cursor.word()
    is_alter_table = first == "ALTER" and (
        cursor.word(1) == "TABLE"
        or (cursor.word(1) in ("ONLINE", "IGNORE") and cursor.word(2) == "TABLE")
    )
    if not is_alter_table:
        second = cursor.word(1)
        if (
            first in _OTHER_VERBS
            or (first in ("DROP", "ALTER", "RENAME") and second in _OTHER_OBJECTS)
            or (first in _TABLE_VERBS and second in ("TABLE", "TABLES", "NO_WRITE_TO_BINLOG"))
            or (first == "TRUNCATE" and second != "PARTITION")
            # DROP INDEX i ON t is a statement; DROP INDEX i (no ON) is an ALTER clause.
            or (first == "DROP" and second in ("INDEX", "KEY") and _has_on(tokens[2:6]))
        ):
            raise _not_alter_table(tokens, text)
        return _Statement(database=None, table=None, tokens=tokens)

    cursor.accept("ALTER")
    # MariaDB's ALTER ONLINE TABLE only asks for LOCK=NONE, meaningless on the ghost table.
    cursor.accept("ONLINE")
    if cursor.accept("IGNORE"):
        raise UnsupportedAlterError(
            "ALTER IGNORE TABLE silently deletes rows that collide on a new unique key, which "
            "the online copy cannot reproduce; remove the duplicates first, then drop IGNORE."
        )
    cursor.accept("TABLE")
    cursor.accept("IF", "EXISTS")
    name = cursor.identifier(
        "a table name after ALTER TABLE", text[tokens[0].start : tokens[-1].end]
    )
    database: str | None = None
    if cursor.accept_punct("."):
        database = name
        name = cursor.identifier("a table name after the database name", name + ".")
    # MariaDB's WAIT n / NOWAIT bound the metadata-lock wait of this one statement; the
    # engine sets its own lock timeouts, so they are dropped.
    if not cursor.accept("NOWAIT") and cursor.accept("WAIT"):
        cursor.pos += 1
    clauses = tokens[cursor.pos :]
    if not clauses:
        raise UnsupportedAlterError(
            f"ALTER TABLE {name} has no clauses; say what to change (ADD COLUMN, MODIFY, ...)."
        )
    return _Statement(database=database, table=name, tokens=clauses)


def _split_clauses(tokens: list[_Token], text: str) -> list[list[_Token]]:
    clauses: list[list[_Token]] = [[]]
    for token in tokens:
        if token.depth == 0 and token.is_punct(","):
            clauses.append([])
        else:
            clauses[-1].append(token)
    for clause in clauses:
        if not clause:
            raise UnsupportedAlterError(
                f"The ALTER {text[tokens[0].start : tokens[-1].end]!r} has an empty clause "
                "(two commas in a row, or a trailing comma); remove the extra comma."
            )
    return clauses


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


# -- clause level ----------------------------------------------------------------------------

_KEY_WORDS = frozenset({"INDEX", "KEY", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK", "PERIOD"})
_CONSTRAINT_KINDS = frozenset({"UNIQUE", "PRIMARY", "FOREIGN", "CHECK"})
_PARTITION_OPS = frozenset(
    {
        "ADD", "DROP", "DISCARD", "IMPORT", "TRUNCATE", "COALESCE", "REORGANIZE", "EXCHANGE",
        "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "CONVERT",
    }
)  # fmt: skip


@dataclasses.dataclass
class _StatementFacts:
    drops: list[str] = dataclasses.field(default_factory=list)
    renames: list[tuple[str, str, bool]] = dataclasses.field(default_factory=list)
    adds: list[str] = dataclasses.field(default_factory=list)
    modifies: list[str] = dataclasses.field(default_factory=list)
    drops_primary_key: bool = False
    adds_unique_or_primary: bool = False
    engine: str | None = None
    algorithm: str | None = None
    lock: str | None = None


def _refuse_partitioning(clause: str) -> UnsupportedAlterError:
    return UnsupportedAlterError(
        f"{clause!r} changes or maintains partitions, which the online copy does not do; "
        "run partition operations directly (most are in-place), separately from column changes."
    )


def _check_partitioning(tokens: list[_Token], clause: str) -> None:
    # partition_options may follow the last clause without a comma: scan every clause.
    for index, token in enumerate(tokens[:-1]):
        if token.depth != 0:
            continue
        following = tokens[index + 1].word
        if (token.word == "PARTITION" and following == "BY") or (
            token.word == "REMOVE" and following == "PARTITIONING"
        ):
            raise _refuse_partitioning(clause)
    if (
        tokens[0].word in _PARTITION_OPS
        and len(tokens) > 1
        and tokens[1].word
        in (
            "PARTITION",
            "PARTITIONS",
        )
    ):
        raise _refuse_partitioning(clause)


def _has_inline_unique(tokens: list[_Token], depth: int) -> bool:
    """A column definition declaring UNIQUE [KEY] or PRIMARY KEY (strings are not words)."""
    # A bare KEY in a column definition means PRIMARY KEY.
    return any(t.depth == depth and t.word in ("UNIQUE", "PRIMARY", "KEY") for t in tokens)


def _read_added_columns(cursor: _Cursor, facts: _StatementFacts, clause: str) -> None:
    """``ADD [COLUMN] (a INT, b INT, [INDEX ...])``: the cursor is on the '('."""
    inner = cursor.tokens[cursor.pos + 1 : -1]
    if not cursor.tokens[-1].is_punct(")"):
        raise UnsupportedAlterError(
            f"Cannot read the column list of {clause!r}; write one ADD COLUMN per column."
        )
    element: list[_Token] = []
    for token in [*inner, None]:
        if token is not None and not (token.depth == 1 and token.is_punct(",")):
            element.append(token)
            continue
        if not element:
            raise UnsupportedAlterError(
                f"The column list of {clause!r} has an empty element; remove the extra comma."
            )
        first = element[0].word
        if first in _KEY_WORDS:
            pass
        elif first in ("UNIQUE", "PRIMARY"):
            facts.adds_unique_or_primary = True
        elif first == "CONSTRAINT":
            if any(t.depth == 1 and t.word in ("UNIQUE", "PRIMARY") for t in element[1:3]):
                facts.adds_unique_or_primary = True
        else:
            name = _Cursor(element).identifier("a column name", clause)
            facts.adds.append(name.lower())
            facts.adds_unique_or_primary |= _has_inline_unique(element, 1)
        element = []


def _read_clause(tokens: list[_Token], text: str, facts: _StatementFacts) -> bool:
    """Record what one clause does; return False when it must not reach the ghost table."""
    clause = text[tokens[0].start : tokens[-1].end]
    _check_partitioning(tokens, clause)
    cursor = _Cursor(tokens)
    first = cursor.word()
    if not first:
        raise UnsupportedAlterError(
            f"Cannot read the clause {clause!r}: a clause starts with a keyword such as ADD, "
            "DROP, MODIFY, CHANGE or a table option."
        )
    cursor.pos += 1

    if first == "ADD":
        if cursor.accept("COLUMN") or cursor.word() not in (
            _KEY_WORDS | _CONSTRAINT_KINDS | {"CONSTRAINT", "SYSTEM"}
        ):
            next_token = cursor.peek()
            if next_token is not None and next_token.is_punct("("):
                _read_added_columns(cursor, facts, clause)
                return True
            cursor.accept("IF", "NOT", "EXISTS")
            facts.adds.append(cursor.identifier("a column name", clause).lower())
            facts.adds_unique_or_primary |= _has_inline_unique(tokens[cursor.pos :], 0)
        elif cursor.word() in ("UNIQUE", "PRIMARY"):
            facts.adds_unique_or_primary = True
        elif cursor.accept("CONSTRAINT"):
            cursor.accept("IF", "NOT", "EXISTS")
            if cursor.word() not in _CONSTRAINT_KINDS:
                cursor.identifier("a constraint name", clause)
            facts.adds_unique_or_primary |= cursor.word() in ("UNIQUE", "PRIMARY")
        return True

    if first == "DROP":
        if cursor.accept("PRIMARY"):
            facts.drops_primary_key = True
        elif cursor.word() in ("INDEX", "KEY", "CONSTRAINT", "CHECK", "FOREIGN"):
            kind = cursor.word()
            cursor.pos += 1
            cursor.accept("KEY")
            cursor.accept("IF", "EXISTS")
            name = cursor.identifier("an index or constraint name", clause)
            if kind in ("INDEX", "KEY", "CONSTRAINT") and name.upper() == "PRIMARY":
                facts.drops_primary_key = True
        elif cursor.word() in ("SYSTEM", "PERIOD"):
            pass
        else:
            cursor.accept("COLUMN")
            cursor.accept("IF", "EXISTS")
            facts.drops.append(cursor.identifier("a column name", clause).lower())
        return True

    if first in ("CHANGE", "MODIFY"):
        cursor.accept("COLUMN")
        cursor.accept("IF", "EXISTS")
        name = cursor.identifier("a column name", clause).lower()
        if first == "CHANGE":
            new = cursor.identifier("the new column name", clause).lower()
            # CHANGE a a (or a A) only redefines or reorders the column; it is no rename.
            facts.renames.append((name, new, True))
        else:
            facts.modifies.append(name)
        facts.adds_unique_or_primary |= _has_inline_unique(tokens[cursor.pos :], 0)
        return True

    if first == "RENAME":
        if cursor.accept("COLUMN"):
            old = cursor.identifier("the column to rename", clause).lower()
            if not cursor.accept("TO"):
                raise UnsupportedAlterError(
                    f"Cannot read {clause!r}; write RENAME COLUMN old TO new."
                )
            facts.renames.append(
                (old, cursor.identifier("the new column name", clause).lower(), False)
            )
            return True
        if cursor.word() in ("INDEX", "KEY"):
            return True
        raise UnsupportedAlterError(
            f"{clause!r} renames the table, which an online migration cannot do (the cut-over "
            "itself renames tables); use RENAME TABLE directly, it is instant."
        )

    if first in ("ALGORITHM", "LOCK"):
        cursor.accept_punct("=")
        value = cursor.identifier(f"a value for {first}", clause).upper()
        if not cursor.at_end():
            raise UnsupportedAlterError(
                f"Cannot read {clause!r}; give {first}=value as its own comma-separated clause."
            )
        if first == "ALGORITHM":
            facts.algorithm = value
        else:
            facts.lock = value
        return False

    if first in ("DISCARD", "IMPORT"):
        raise UnsupportedAlterError(
            f"{clause!r} detaches or attaches the tablespace file, which is not a schema change "
            "and cannot run online; run it directly."
        )

    # Anything else is a table option list (ENGINE=..., COMMENT=..., CHARSET ...) or a clause
    # without column effects (ALTER COLUMN, CONVERT TO, FORCE, ORDER BY, ...). Table options
    # may be separated by spaces only, so look for ENGINE and ALGORITHM/LOCK in option position.
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else None
        if token.depth or (previous is not None and previous.is_punct("=")):
            continue
        if index and token.word in ("ALGORITHM", "LOCK") and first not in ("ALTER", "ORDER"):
            raise UnsupportedAlterError(
                f"Cannot read {clause!r}; give {token.word}=value as its own comma-separated "
                "clause."
            )
        if token.word == "ENGINE" and first not in ("ALTER", "ORDER"):
            option = _Cursor(tokens[index + 1 :])
            option.accept_punct("=")
            value_token = option.peek()
            if value_token is None:
                raise UnsupportedAlterError(f"ENGINE has no value in {clause!r}; add one.")
            facts.engine = value_token.value.strip("'\"")
    return True


def _analyse(statement: _Statement, text: str, columns: _Columns) -> tuple[str, _StatementFacts]:
    facts = _StatementFacts()
    kept: list[str] = []
    for clause_tokens in _split_clauses(statement.tokens, text):
        if _read_clause(clause_tokens, text, facts):
            kept.append(text[clause_tokens[0].start : clause_tokens[-1].end])
    columns.apply(facts.drops, facts.renames, facts.adds, facts.modifies)
    return ", ".join(kept), facts


# -- entry point -----------------------------------------------------------------------------


def parse_alter(text: str, *, table: str | None = None) -> ParsedAlter:
    """Parse ``text`` (see the module docstring for the accepted forms) into a ParsedAlter.

    ``table``, when given, is the table being migrated: a statement naming another table is
    refused. Raises :class:`UnsupportedAlterError` for anything that cannot run online.
    """
    statements = [_read_statement(tokens, text) for tokens in _split_statements(_tokenize(text))]
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

    columns = _Columns()
    clause_lists: list[str] = []
    merged = _StatementFacts()
    for statement in statements:
        clauses, facts = _analyse(statement, text, columns)
        if clauses:
            clause_lists.append(clauses)
        merged.drops_primary_key |= facts.drops_primary_key
        merged.adds_unique_or_primary |= facts.adds_unique_or_primary
        merged.engine = facts.engine or merged.engine
        merged.algorithm = facts.algorithm or merged.algorithm
        merged.lock = facts.lock or merged.lock
    if not clause_lists:
        raise UnsupportedAlterError(
            "The ALTER only gives ALGORITHM/LOCK, so there is nothing to change; to rebuild "
            "the table use ENGINE=InnoDB or FORCE."
        )
    return ParsedAlter(
        statements=tuple(clause_lists),
        database=databases.pop() if databases else None,
        table=statement_table,
        renamed_columns=MappingProxyType(columns.renamed()),
        dropped_columns=frozenset(columns.dropped),
        added_columns=columns.added(),
        modified_columns=columns.modified(),
        drops_primary_key=merged.drops_primary_key,
        adds_unique_or_primary=merged.adds_unique_or_primary,
        engine=merged.engine,
        algorithm=merged.algorithm,
        lock=merged.lock,
    )
