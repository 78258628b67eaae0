"""Classify the SQL a schema editor emits, with sqlparse (never regexes).

Every statement that reaches ``SchemaEditor.execute()`` is turned into a
:class:`Classified`: what kind of statement it is, which table it touches and, for
``ALTER TABLE`` and index DDL, a normalised ``ALTER TABLE `t` <clauses>`` that the
router can batch and hand to the engine. ``CREATE INDEX``/``DROP INDEX ... ON t`` are
rewritten into the table's ALTER form because the engine only takes ALTERs (ghost_adapter
silently ran them blocking).

The module is pure: it performs no I/O and never imports Django, so the classification
rules are unit-tested as strings.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator

import sqlparse
from sqlparse import tokens as T


class Kind(str, enum.Enum):
    """What a statement is, as far as routing cares."""

    ALTER = "alter"
    CREATE_TABLE = "create_table"
    DROP_TABLE = "drop_table"
    RENAME_TABLE = "rename_table"
    DML = "dml"
    OTHER = "other"
    MULTI = "multi"
    EMPTY = "empty"


class ClauseKind(str, enum.Enum):
    """One comma-separated clause of an ALTER TABLE."""

    DEFAULT_ONLY = "default_only"  # ALTER COLUMN c SET DEFAULT / DROP DEFAULT
    RENAME_COLUMN = "rename_column"
    RENAME_INDEX = "rename_index"
    RENAME_TABLE = "rename_table"
    COMMENT = "comment"
    DROP_INDEX = "drop_index"
    DROP_CHECK = "drop_check"
    FOREIGN_KEY = "foreign_key"
    ALGORITHM = "algorithm"  # ALGORITHM= / LOCK= options written by the user
    COPY = "copy"  # anything that rebuilds the table: ADD/MODIFY/DROP COLUMN, ADD INDEX...


# Clauses the server applies without touching rows (metadata only on MariaDB 10.3+ and
# MySQL 8): running them directly is cheaper than any online copy.
METADATA_CLAUSES = frozenset(
    {
        ClauseKind.DEFAULT_ONLY,
        ClauseKind.RENAME_COLUMN,
        ClauseKind.RENAME_INDEX,
        ClauseKind.RENAME_TABLE,
        ClauseKind.COMMENT,
        ClauseKind.DROP_INDEX,
        ClauseKind.DROP_CHECK,
    }
)


@dataclasses.dataclass(frozen=True)
class Classified:
    """One statement, classified."""

    original: str
    kind: Kind
    table: str = ""
    schema: str = ""
    alter: str = ""  # normalised "ALTER TABLE `t` ..." (no trailing ';') for Kind.ALTER
    clauses: tuple[str, ...] = ()
    clause_kinds: tuple[ClauseKind, ...] = ()
    rewritten_from: str = ""  # "CREATE INDEX" / "DROP INDEX" when rewritten to ALTER form

    @property
    def metadata_only(self) -> bool:
        """True when every clause only changes metadata (no table rebuild)."""
        return bool(self.clause_kinds) and all(k in METADATA_CLAUSES for k in self.clause_kinds)

    @property
    def default_only(self) -> bool:
        """True for ``ALTER COLUMN ... SET/DROP DEFAULT`` statements (instant everywhere)."""
        return bool(self.clause_kinds) and all(
            k is ClauseKind.DEFAULT_ONLY for k in self.clause_kinds
        )

    @property
    def touches_foreign_keys(self) -> bool:
        return ClauseKind.FOREIGN_KEY in self.clause_kinds

    @property
    def renames_table(self) -> bool:
        return ClauseKind.RENAME_TABLE in self.clause_kinds

    @property
    def renames_column(self) -> bool:
        return ClauseKind.RENAME_COLUMN in self.clause_kinds


@dataclasses.dataclass(frozen=True)
class _Tok:
    ttype: object
    value: str
    start: int

    @property
    def upper(self) -> str:
        return self.value.upper()

    @property
    def is_keyword(self) -> bool:
        return self.ttype in T.Keyword


def unquote(name: str) -> str:
    """Strip MySQL backticks (or ANSI double quotes) from an identifier."""
    if len(name) >= 2 and name[0] == name[-1] and name[0] in '`"':
        return name[1:-1].replace(name[0] * 2, name[0])
    return name


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _tokens(statement: sqlparse.sql.Statement) -> list[_Tok]:
    """Significant tokens with their offsets in the statement text."""
    out: list[_Tok] = []
    pos = 0
    for token in statement.flatten():
        if not (token.is_whitespace or token.ttype in T.Comment):
            out.append(_Tok(token.ttype, token.value, pos))
        pos += len(token.value)
    return out


def split_statements(sql: str) -> list[str]:
    """Non-empty statements of a script (comments alone do not count)."""
    parts = []
    for stmt in sqlparse.parse(sql):
        if _tokens(stmt) and not all(t.value == ";" for t in _tokens(stmt)):
            parts.append(str(stmt))
    return parts


def _read_name(toks: list[_Tok], i: int) -> tuple[str, str, int]:
    """Read ``name`` or ``schema.name`` at ``toks[i]``; return (schema, name, next index)."""
    if i >= len(toks):
        raise ValueError("name expected")
    first = unquote(toks[i].value)
    if i + 2 < len(toks) and toks[i + 1].value == ".":
        return first, unquote(toks[i + 2].value), i + 3
    return "", first, i + 1


def split_clauses(text: str) -> list[str]:
    """Split an ALTER's clause list on top-level commas (not inside parentheses/strings)."""
    stmt = sqlparse.parse(text)[0] if text.strip() else None
    if stmt is None:
        return []
    clauses: list[str] = []
    depth = 0
    start = 0
    pos = 0
    for token in stmt.flatten():
        if token.ttype in T.Punctuation:
            if token.value == "(":
                depth += 1
            elif token.value == ")":
                depth -= 1
            elif token.value == "," and depth == 0:
                clauses.append(text[start:pos].strip())
                start = pos + 1
        pos += len(token.value)
    clauses.append(text[start:].strip())
    return [c for c in clauses if c]


def classify_clause(clause: str) -> ClauseKind:
    """Classify one ALTER clause by its leading keywords."""
    stmt = sqlparse.parse(clause)[0]
    words = [t.upper for t in _tokens(stmt)]
    if not words:
        return ClauseKind.COPY
    joined = " ".join(words)
    if "FOREIGN" in words or "REFERENCES" in words:
        return ClauseKind.FOREIGN_KEY
    head = words[0]
    if head in ("ALGORITHM", "LOCK"):
        return ClauseKind.ALGORITHM
    if head == "RENAME":
        second = words[1] if len(words) > 1 else ""
        if second == "COLUMN":
            return ClauseKind.RENAME_COLUMN
        if second in ("INDEX", "KEY"):
            return ClauseKind.RENAME_INDEX
        return ClauseKind.RENAME_TABLE
    if head == "COMMENT":
        return ClauseKind.COMMENT
    if head == "ALTER":
        # ALTER [COLUMN] c SET DEFAULT x | DROP DEFAULT
        if "DEFAULT" in words and ("SET" in words or "DROP" in words):
            return ClauseKind.DEFAULT_ONLY
        return ClauseKind.COPY
    if head == "DROP":
        second = words[1] if len(words) > 1 else ""
        if second in ("INDEX", "KEY"):
            return ClauseKind.DROP_INDEX
        if second == "CHECK" or joined.startswith("DROP CONSTRAINT"):
            # Django drops unique constraints with DROP INDEX, so DROP CONSTRAINT is a CHECK.
            return ClauseKind.DROP_CHECK
    return ClauseKind.COPY


def _alter(
    original: str, schema: str, table: str, clauses_text: str, rewritten_from: str = ""
) -> Classified:
    text = clauses_text.strip().rstrip(";").strip()
    clauses = tuple(split_clauses(text))
    return Classified(
        original=original,
        kind=Kind.ALTER,
        table=table,
        schema=schema,
        alter=f"ALTER TABLE {quote(table)} {text}",
        clauses=clauses,
        clause_kinds=tuple(classify_clause(c) for c in clauses),
        rewritten_from=rewritten_from,
    )


def classify(sql: str) -> Classified:
    """Classify one SQL string as sent to ``SchemaEditor.execute()``."""
    statements = split_statements(sql)
    if not statements:
        return Classified(sql, Kind.EMPTY)
    if len(statements) > 1:
        return Classified(sql, Kind.MULTI)
    stmt = sqlparse.parse(statements[0])[0]
    text = str(stmt)
    toks = _tokens(stmt)
    words = [t.upper for t in toks]
    try:
        return _classify_tokens(sql, text, toks, words)
    except (ValueError, IndexError):
        return Classified(sql, Kind.OTHER)


def _skip_if_exists(words: list[str], i: int) -> int:
    # sqlparse yields "IF NOT EXISTS" either as one keyword or as separate words.
    while words[i] in ("IF", "NOT", "EXISTS", "IF NOT EXISTS", "IF EXISTS"):
        i += 1
    return i


def _classify_tokens(sql: str, text: str, toks: list[_Tok], words: list[str]) -> Classified:
    head = words[0]
    if head in ("UPDATE", "INSERT", "DELETE", "REPLACE"):
        return Classified(sql, Kind.DML)
    if head == "ALTER":
        i = 1
        while words[i] in ("ONLINE", "IGNORE"):
            i += 1
        if words[i] != "TABLE":
            return Classified(sql, Kind.OTHER)
        schema, table, j = _read_name(toks, i + 1)
        if j >= len(toks):
            return Classified(sql, Kind.OTHER)
        return _alter(sql, schema, table, text[toks[j].start :])
    if head == "CREATE":
        i = 1
        while words[i] in ("OR", "REPLACE", "TEMPORARY"):
            i += 1
        if words[i] == "TABLE":
            i = _skip_if_exists(words, i + 1)
            schema, table, _ = _read_name(toks, i)
            return Classified(sql, Kind.CREATE_TABLE, table=table, schema=schema)
        kind = ""
        if words[i] in ("UNIQUE", "FULLTEXT", "SPATIAL"):
            kind = words[i] + " "
            i += 1
        if words[i] != "INDEX":
            return Classified(sql, Kind.OTHER)
        index = toks[i + 1].value
        j = i + 2
        if words[j] == "USING":
            j += 2
        if words[j] != "ON":
            return Classified(sql, Kind.OTHER)
        schema, table, k = _read_name(toks, j + 1)
        clause = f"ADD {kind}INDEX {index} {text[toks[k].start :].strip()}"
        return _alter(sql, schema, table, clause, rewritten_from=f"CREATE {kind}INDEX")
    if head == "DROP":
        if words[1] == "TABLE":
            i = _skip_if_exists(words, 2)
            schema, table, _ = _read_name(toks, i)
            return Classified(sql, Kind.DROP_TABLE, table=table, schema=schema)
        if words[1] == "INDEX":
            index = toks[2].value
            if words[3] != "ON":
                return Classified(sql, Kind.OTHER)
            schema, table, _ = _read_name(toks, 4)
            return _alter(sql, schema, table, f"DROP INDEX {index}", rewritten_from="DROP INDEX")
    if head == "RENAME":
        return Classified(sql, Kind.RENAME_TABLE)
    return Classified(sql, Kind.OTHER)


def iter_alter_clauses(statements: list[Classified]) -> Iterator[tuple[str, ClauseKind]]:
    for statement in statements:
        yield from zip(statement.clauses, statement.clause_kinds, strict=True)
