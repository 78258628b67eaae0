"""The statement level of the ALTER reader: statements, their ``ALTER TABLE`` header, clauses.

Splits the token stream at top-level ``;`` into statements, reads (or refuses) each
statement's header, and splits its clause list at top-level commas.
"""

from __future__ import annotations

import dataclasses

from ..errors import UnsupportedAlterError
from .alter_tokens import Cursor, Token

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


def _has_on(tokens: list[Token]) -> bool:
    return any(token.word == "ON" for token in tokens)


@dataclasses.dataclass
class Statement:
    """One statement: the table it names (None for a bare clause list) and its clause list."""

    database: str | None
    table: str | None
    tokens: list[Token]  # the clause list


def split_statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.depth == 0 and token.is_punct(";"):
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _not_alter_table(tokens: list[Token], text: str) -> UnsupportedAlterError:
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


def read_statement(tokens: list[Token], text: str) -> Statement:
    cursor = Cursor(tokens)
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
        return Statement(database=None, table=None, tokens=tokens)

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
    return Statement(database=database, table=name, tokens=clauses)


def split_clauses(tokens: list[Token], text: str) -> list[list[Token]]:
    clauses: list[list[Token]] = [[]]
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
