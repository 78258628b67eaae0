"""The clause level of the ALTER reader: what one clause does to columns, keys and options.

Each clause is read into :class:`StatementFacts`; partition maintenance, table renames,
tablespace operations and ALTER IGNORE are refused with the remedy in the message.
"""

from __future__ import annotations

import dataclasses

from ..errors import UnsupportedAlterError
from .alter_tokens import Cursor, Token

_KEY_WORDS = frozenset({"INDEX", "KEY", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK", "PERIOD"})
_CONSTRAINT_KINDS = frozenset({"UNIQUE", "PRIMARY", "FOREIGN", "CHECK"})
_PARTITION_OPS = frozenset(
    {
        "ADD", "DROP", "DISCARD", "IMPORT", "TRUNCATE", "COALESCE", "REORGANIZE", "EXCHANGE",
        "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "CONVERT",
    }
)  # fmt: skip


@dataclasses.dataclass
class StatementFacts:
    """What the clauses of one statement do, collected clause by clause."""

    drops: list[str] = dataclasses.field(default_factory=list)
    renames: list[tuple[str, str, bool]] = dataclasses.field(default_factory=list)
    adds: list[str] = dataclasses.field(default_factory=list)
    modifies: list[str] = dataclasses.field(default_factory=list)
    drops_primary_key: bool = False
    adds_unique_or_primary: bool = False
    engine: str | None = None
    auto_increment: int | None = None
    algorithm: str | None = None
    lock: str | None = None


def _refuse_partitioning(clause: str) -> UnsupportedAlterError:
    return UnsupportedAlterError(
        f"{clause!r} changes or maintains partitions, which the online copy does not do; "
        "run partition operations directly (most are in-place), separately from column changes."
    )


def _check_partitioning(tokens: list[Token], clause: str) -> None:
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


def _has_inline_unique(tokens: list[Token], depth: int) -> bool:
    """A column definition declaring UNIQUE [KEY] or PRIMARY KEY (strings are not words)."""
    # A bare KEY in a column definition means PRIMARY KEY.
    return any(t.depth == depth and t.word in ("UNIQUE", "PRIMARY", "KEY") for t in tokens)


def _read_added_columns(cursor: Cursor, facts: StatementFacts, clause: str) -> None:
    """``ADD [COLUMN] (a INT, b INT, [INDEX ...])``: the cursor is on the '('."""
    inner = cursor.tokens[cursor.pos + 1 : -1]
    if not cursor.tokens[-1].is_punct(")"):
        raise UnsupportedAlterError(
            f"Cannot read the column list of {clause!r}; write one ADD COLUMN per column."
        )
    element: list[Token] = []
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
            name = Cursor(element).identifier("a column name", clause)
            facts.adds.append(name.lower())
            facts.adds_unique_or_primary |= _has_inline_unique(element, 1)
        element = []


def read_clause(tokens: list[Token], text: str, facts: StatementFacts) -> bool:
    """Record what one clause does; return False when it must not reach the ghost table."""
    clause = text[tokens[0].start : tokens[-1].end]
    _check_partitioning(tokens, clause)
    cursor = Cursor(tokens)
    first = cursor.word()
    if not first:
        raise UnsupportedAlterError(
            f"Cannot read the clause {clause!r}: a clause starts with a keyword such as ADD, "
            "DROP, MODIFY, CHANGE or a table option."
        )
    cursor.pos += 1
    if first == "ADD":
        _read_add(cursor, facts, clause)
    elif first == "DROP":
        _read_drop(cursor, facts, clause)
    elif first in ("CHANGE", "MODIFY"):
        _read_change_or_modify(first, cursor, facts, clause)
    elif first == "RENAME":
        _read_rename(cursor, facts, clause)
    elif first in ("ALGORITHM", "LOCK"):
        _read_algorithm_or_lock(first, cursor, facts, clause)
        return False
    elif first in ("DISCARD", "IMPORT"):
        raise UnsupportedAlterError(
            f"{clause!r} detaches or attaches the tablespace file, which is not a schema change "
            "and cannot run online; run it directly."
        )
    else:
        _read_table_options(first, tokens, facts, clause)
    return True


def _read_add(cursor: Cursor, facts: StatementFacts, clause: str) -> None:
    """``ADD ...``: a column (or a parenthesised list of them), a key or a constraint."""
    if cursor.accept("COLUMN") or cursor.word() not in (
        _KEY_WORDS | _CONSTRAINT_KINDS | {"CONSTRAINT", "SYSTEM"}
    ):
        next_token = cursor.peek()
        if next_token is not None and next_token.is_punct("("):
            _read_added_columns(cursor, facts, clause)
            return
        cursor.accept("IF", "NOT", "EXISTS")
        facts.adds.append(cursor.identifier("a column name", clause).lower())
        facts.adds_unique_or_primary |= _has_inline_unique(cursor.tokens[cursor.pos :], 0)
    elif cursor.word() in ("UNIQUE", "PRIMARY"):
        facts.adds_unique_or_primary = True
    elif cursor.accept("CONSTRAINT"):
        cursor.accept("IF", "NOT", "EXISTS")
        if cursor.word() not in _CONSTRAINT_KINDS:
            cursor.identifier("a constraint name", clause)
        facts.adds_unique_or_primary |= cursor.word() in ("UNIQUE", "PRIMARY")


def _read_drop(cursor: Cursor, facts: StatementFacts, clause: str) -> None:
    """``DROP ...``: the primary key, an index or constraint, system versioning, or a column."""
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


def _read_change_or_modify(verb: str, cursor: Cursor, facts: StatementFacts, clause: str) -> None:
    """``CHANGE old new definition`` or ``MODIFY name definition``."""
    cursor.accept("COLUMN")
    cursor.accept("IF", "EXISTS")
    name = cursor.identifier("a column name", clause).lower()
    if verb == "CHANGE":
        new = cursor.identifier("the new column name", clause).lower()
        # CHANGE a a (or a A) only redefines or reorders the column; it is no rename.
        facts.renames.append((name, new, True))
    else:
        facts.modifies.append(name)
    facts.adds_unique_or_primary |= _has_inline_unique(cursor.tokens[cursor.pos :], 0)


def _read_rename(cursor: Cursor, facts: StatementFacts, clause: str) -> None:
    """``RENAME COLUMN old TO new`` or ``RENAME INDEX``; renaming the table is refused."""
    if cursor.accept("COLUMN"):
        old = cursor.identifier("the column to rename", clause).lower()
        if not cursor.accept("TO"):
            raise UnsupportedAlterError(f"Cannot read {clause!r}; write RENAME COLUMN old TO new.")
        facts.renames.append((old, cursor.identifier("the new column name", clause).lower(), False))
        return
    if cursor.word() in ("INDEX", "KEY"):
        return
    raise UnsupportedAlterError(
        f"{clause!r} renames the table, which an online migration cannot do (the cut-over "
        "itself renames tables); use RENAME TABLE directly, it is instant."
    )


def _read_algorithm_or_lock(
    option: str, cursor: Cursor, facts: StatementFacts, clause: str
) -> None:
    """``ALGORITHM=x`` or ``LOCK=x``, recorded and kept off the ghost table."""
    cursor.accept_punct("=")
    value = cursor.identifier(f"a value for {option}", clause).upper()
    if not cursor.at_end():
        raise UnsupportedAlterError(
            f"Cannot read {clause!r}; give {option}=value as its own comma-separated clause."
        )
    if option == "ALGORITHM":
        facts.algorithm = value
    else:
        facts.lock = value


def _read_table_options(
    first: str, tokens: list[Token], facts: StatementFacts, clause: str
) -> None:
    """A table option list (ENGINE=..., COMMENT=..., CHARSET ...) or a clause without column
    effects (ALTER COLUMN, CONVERT TO, FORCE, ORDER BY, ...)."""
    # Table options may be separated by spaces only, so look for ENGINE and ALGORITHM/LOCK in
    # option position.
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
            option = Cursor(tokens[index + 1 :])
            option.accept_punct("=")
            value_token = option.peek()
            if value_token is None:
                raise UnsupportedAlterError(f"ENGINE has no value in {clause!r}; add one.")
            facts.engine = value_token.value.strip("'\"")
        if token.word == "AUTO_INCREMENT" and first not in ("ALTER", "ORDER"):
            facts.auto_increment = _option_number(tokens[index + 1 :], clause)


def _option_number(tokens: list[Token], clause: str) -> int:
    """The value of a numeric table option (``AUTO_INCREMENT[=]N``), from its tokens."""
    option = Cursor(tokens)
    option.accept_punct("=")
    value_token = option.peek()
    if value_token is None or not value_token.value.isdigit():
        raise UnsupportedAlterError(f"AUTO_INCREMENT needs a number in {clause!r}; add one.")
    return int(value_token.value)
