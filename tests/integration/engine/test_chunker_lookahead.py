"""The chunker's lookahead (copy/chunker.py): the end of the next chunk, looked up on a
session of its own while the current chunk copies, splits the key range exactly as the
writer's own lookup does, also when the chunk size changes between chunks (the lookup
ahead is then dropped), on a single-column key with gaps and on a composite key."""

from __future__ import annotations

from typing import Any

import pytest

from django_ghost.engine.copy.chunker import Chunker
from django_ghost.engine.mysql.connection import query
from django_ghost.engine.sql import builder
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.table.info import read_table
from tests.integration.helpers import engine_conn
from tests.plugins.mariadb import TestDatabase

# Sizes that change now and then, as the latency pacing or the time target change them.
SIZES = [100, 100, 37, 37, 37, 250, 1, 1, 100]

TABLES = {
    "gaps": (
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT)",
        "INSERT INTO t SELECT seq * 3, seq FROM seq_1_to_1000",
        ("id",),
    ),
    "composite": (
        "CREATE TABLE t (a INT NOT NULL, b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b))",
        "INSERT INTO t SELECT seq DIV 7, CONCAT('k', seq MOD 7), seq FROM seq_1_to_1000",
        ("a", "b"),
    ),
}


def walk(db: TestDatabase, key_names: tuple[str, ...], *, ahead: bool) -> list[tuple[Any, ...]]:
    """(lower bound, upper bound, rows in the chunk) of every chunk, in order."""
    writer = engine_conn(db)
    lookahead = engine_conn(db) if ahead else None
    info = read_table(writer, db.name, "t")
    assert info is not None
    key = tuple(KeyColumn(n, n, info.column(n)) for n in key_names)
    names = [f"`{n}`" for n in key_names]
    chunker = Chunker(writer, "t", "PRIMARY", key, lookahead=lookahead)
    chunks = []
    try:
        assert chunker.capture_range()
        i = 0
        while chunker.next_chunk(SIZES[i % len(SIZES)]):
            cond = builder.range_condition(names, first=chunker.first, lower="lo", upper="hi")
            lo = tuple(
                query(writer, "SELECT " + ", ".join(builder.var("lo", j) for j in range(len(key))))[
                    0
                ]
            )
            hi = tuple(
                query(writer, "SELECT " + ", ".join(builder.var("hi", j) for j in range(len(key))))[
                    0
                ]
            )
            rows = query(writer, f"SELECT COUNT(*) FROM t WHERE {cond}")[0][0]
            chunks.append((lo, hi, rows))
            chunker.advance()
            i += 1
    finally:
        chunker.close()
        writer.close()
        if lookahead is not None:
            lookahead.close()
    return chunks


@pytest.mark.parametrize("shape", sorted(TABLES))
def test_chunks__looked_up_ahead__same_split_as_the_writers_own(
    db: TestDatabase, shape: str
) -> None:
    create, fill, key_names = TABLES[shape]
    db.execute(create)
    db.execute(fill)

    ahead = walk(db, key_names, ahead=True)
    alone = walk(db, key_names, ahead=False)

    assert ahead == alone
    assert sum(rows for _, _, rows in ahead) == 1000  # every row in exactly one chunk
    sizes = [SIZES[i % len(SIZES)] for i in range(len(ahead))]
    assert [rows for _, _, rows in ahead][:-1] == sizes[:-1]
    assert all(ahead[i][1] == ahead[i + 1][0] for i in range(len(ahead) - 1))
