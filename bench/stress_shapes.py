"""The hostile mix: what a stress writer's transactions do, and their effect on the model.

Each statement function changes the writer's :class:`~bench.stress_model.Partition`
first, then returns the statement with the number of rows the server must report
(MySQL's affected rows: changed rows for UPDATE, 1 + rows deleted for REPLACE, 2 for an
upsert that updated). A transaction shape is a body (a generator of statements) and how
it ends: ``commit``, ``rollback`` (must leave no trace), or XA (``xa-commit`` through
XA END/PREPARE/COMMIT, ``xa-rollback`` after PREPARE, ``xa-one-phase``).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from typing import Any

from .stress_model import TABLE, Partition, Row, flip_case


@dataclasses.dataclass(frozen=True)
class Stmt:
    sql: str
    params: tuple[Any, ...] = ()
    rows: int | None = None
    """Affected rows the server must report; None: not checked."""


Body = Callable[[Partition, random.Random], Iterator[Stmt]]


@dataclasses.dataclass(frozen=True)
class TxShape:
    name: str
    weight: float
    body: Body
    end: str = "commit"

    @property
    def xa(self) -> bool:
        return self.end.startswith("xa")


COLS = "(id, u, s, n, v, w)"
MARKS = "(%s, %s, %s, %s, %s, %s)"


def label(p: Partition) -> str:
    """A ``w`` value no row had before, so every UPDATE that sets it changes the row."""
    p.fresh()
    return f"w{p.index}.{p.counter}"


def _values(key: int, row: Row) -> tuple[Any, ...]:
    return (key, row.u, row.s, row.n, row.v, row.w)


def picks(p: Partition, rng: random.Random, count: int) -> set[int]:
    """Up to ``count`` distinct keys of the partition."""
    return {k for k in (p.pick(rng) for _ in range(count)) if k is not None}


# -- single statements (model first, then the statement) ---------------------------------


def insert(p: Partition, rng: random.Random, count: int = 1) -> Stmt:
    params: list[Any] = []
    for _ in range(count):
        key, row = p.new_id(rng), p.new_row(rng, label(p))
        p.put(key, row)
        params += _values(key, row)
    marks = ", ".join([MARKS] * count)
    return Stmt(f"INSERT INTO {TABLE} {COLS} VALUES {marks}", tuple(params), count)


def insert_multi(p: Partition, rng: random.Random) -> Stmt:
    return insert(p, rng, rng.randint(2, 10))


def update(p: Partition, rng: random.Random) -> Stmt:
    key = p.pick(rng)
    step, text = rng.randint(1, 9), label(p)
    sql = f"UPDATE {TABLE} SET v = v + %s, w = %s WHERE id = %s"
    if key is None or rng.random() < 0.05:
        return Stmt(sql, (step, text, p.new_id(rng)), 0)  # no such row
    row = p.rows[key]
    p.put(key, row._replace(v=row.v + step, w=text))
    return Stmt(sql, (step, text, key), 1)


def update_multi(p: Partition, rng: random.Random) -> Stmt | None:
    keys = picks(p, rng, rng.randint(2, 5))
    if not keys:
        return None
    text = label(p)
    for key in keys:
        row = p.rows[key]
        p.put(key, row._replace(v=row.v + 1, w=text))
    marks = ", ".join(["%s"] * len(keys))
    sql = f"UPDATE {TABLE} SET v = v + 1, w = %s WHERE id IN ({marks})"
    return Stmt(sql, (text, *keys), len(keys))


def update_keys(p: Partition, rng: random.Random) -> Stmt | None:
    """New values of the unique ``u`` (maybe a freed one) and of ``n``."""
    key = p.pick(rng)
    if key is None:
        return None
    row = p.rows[key]
    new = row._replace(u=p.new_u(rng), n=p.fresh())
    p.put(key, new)
    return Stmt(f"UPDATE {TABLE} SET u = %s, n = %s WHERE id = %s", (new.u, new.n, key), 1)


def move(p: Partition, rng: random.Random) -> Stmt | None:
    """A primary-key move: above, below or into the copied range."""
    key = p.pick(rng)
    if key is None:
        return None
    row, new = p.rows[key], p.new_id(rng)
    p.put(key, None)
    p.put(new, row)
    return Stmt(f"UPDATE {TABLE} SET id = %s WHERE id = %s", (new, key), 1)


def case_change(p: Partition, rng: random.Random) -> Stmt | None:
    """Only the case of the ``_ci`` unique string changes: equal to the collation."""
    key = p.pick(rng)
    if key is None:
        return None
    row = p.rows[key]
    new = row._replace(s=flip_case(row.s, rng))
    p.put(key, new)
    return Stmt(f"UPDATE {TABLE} SET s = %s WHERE id = %s", (new.s, key), 1)


def delete(p: Partition, rng: random.Random) -> Stmt | None:
    keys = picks(p, rng, rng.randint(1, 3))
    if not keys:
        return None
    for key in keys:
        p.put(key, None)
    marks = ", ".join(["%s"] * len(keys))
    return Stmt(f"DELETE FROM {TABLE} WHERE id IN ({marks})", tuple(keys), len(keys))


def _clash(p: Partition, rng: random.Random, variant: str) -> tuple[int, Row] | None:
    """The (key, row) of a REPLACE or upsert colliding as ``variant`` says."""
    pair = p.pick_two(rng)
    if pair is None:
        return None
    a, b = pair
    row = p.new_row(rng, label(p))
    if variant in ("same-id", "id-clash"):
        return a, row
    if variant in ("u-clash", "u-clash-move"):
        return p.new_id(rng), row._replace(u=p.rows[b].u)
    if variant == "id-u-clash":
        return a, row._replace(u=p.rows[b].u)
    if variant in ("s-case-clash", "s-clash"):
        return p.new_id(rng), row._replace(s=flip_case(p.rows[b].s, rng))
    return p.new_id(rng), row


def replace(p: Partition, rng: random.Random) -> Stmt | None:
    variant = rng.choice(("same-id", "new", "u-clash", "id-u-clash", "s-case-clash"))
    clash = _clash(p, rng, variant)
    if clash is None:
        return None
    key, row = clash
    gone = p.conflicts(key, row)
    for other in gone:
        p.put(other, None)
    p.put(key, row)
    return Stmt(f"REPLACE INTO {TABLE} {COLS} VALUES {MARKS}", _values(key, row), 1 + len(gone))


def upsert(p: Partition, rng: random.Random) -> Stmt | None:
    """INSERT ... ON DUPLICATE KEY UPDATE colliding with at most one row, on the key,
    ``u`` or ``s`` (in another case); one variant moves the row it collides with."""
    variant = rng.choice(("new", "id-clash", "u-clash", "s-clash", "u-clash-move"))
    clash = _clash(p, rng, variant)
    if clash is None:
        return None
    key, row = clash
    sql = f"INSERT INTO {TABLE} {COLS} VALUES {MARKS} ON DUPLICATE KEY UPDATE "
    params = _values(key, row)
    hit = p.conflicts(key, row)
    if not hit:
        p.put(key, row)
        return Stmt(sql + "v = v + 1, w = VALUES(w)", params, 1)
    (other,) = hit
    old = p.rows[other]
    target = other
    if variant == "u-clash-move":
        target = p.new_id(rng)
        while target == key:
            target = p.new_id(rng)
        sql += "id = %s, "
        params = (*params, target)
        p.put(other, None)
    p.put(target, old._replace(v=old.v + 1, w=row.w))
    return Stmt(sql + "v = v + 1, w = VALUES(w)", params, 2)


SIMPLE: tuple[Callable[[Partition, random.Random], Stmt | None], ...] = (
    insert,
    insert_multi,
    update,
    update,
    update_keys,
    move,
    case_change,
    delete,
    replace,
    upsert,
)


# -- transaction bodies ------------------------------------------------------------------


def one(fn: Callable[[Partition, random.Random], Stmt | None]) -> Body:
    def body(p: Partition, rng: random.Random) -> Iterator[Stmt]:
        stmt = fn(p, rng)
        if stmt is not None:
            yield stmt

    return body


def some(low: int, high: int) -> Body:
    def body(p: Partition, rng: random.Random) -> Iterator[Stmt]:
        for _ in range(rng.randint(low, high)):
            stmt = rng.choice(SIMPLE)(p, rng)
            if stmt is not None:
                yield stmt

    return body


def swap(column: str) -> Body:
    """Swap the unique values of two rows in three UPDATEs (through a fresh value)."""

    def body(p: Partition, rng: random.Random) -> Iterator[Stmt]:
        pair = p.pick_two(rng)
        if pair is None:
            return
        a, b = pair
        va, vb = getattr(p.rows[a], column), getattr(p.rows[b], column)
        temp = p.fresh() if column == "u" else p.fresh_s(rng)
        steps: tuple[tuple[int, Any], ...] = ((a, temp), (b, va), (a, vb))
        for key, value in steps:
            p.put(key, p.rows[key]._replace(**{column: value}))
            yield Stmt(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", (value, key), 1)

    return body


def savepoint(p: Partition, rng: random.Random) -> Iterator[Stmt]:
    """Writes, a savepoint, writes rolled back to it, more writes; then COMMIT."""
    yield from some(1, 4)(p, rng)
    mark = p.mark()
    yield Stmt("SAVEPOINT sp")
    yield from some(1, 5)(p, rng)
    p.undo_to(mark)
    yield Stmt("ROLLBACK TO SAVEPOINT sp")
    yield from some(0, 3)(p, rng)


SHAPES = (
    TxShape("insert", 10, one(insert)),
    TxShape("insert-multi", 6, one(insert_multi)),
    TxShape("update", 12, one(update)),
    TxShape("update-multi", 4, one(update_multi)),
    TxShape("update-keys", 4, one(update_keys)),
    TxShape("pk-move", 6, one(move)),
    TxShape("swap-u", 4, swap("u")),
    TxShape("swap-s", 3, swap("s")),
    TxShape("case", 5, one(case_change)),
    TxShape("delete", 6, one(delete)),
    TxShape("replace", 6, one(replace)),
    TxShape("upsert", 8, one(upsert)),
    TxShape("txn50", 1.5, some(50, 50)),
    TxShape("rollback", 4, some(1, 10), end="rollback"),
    TxShape("savepoint", 3, savepoint),
)
XA_SHAPES = (
    TxShape("xa-commit", 6, some(1, 8), end="xa-commit"),
    TxShape("xa-rollback", 2, some(1, 8), end="xa-rollback"),
    TxShape("xa-one-phase", 2, some(1, 8), end="xa-one-phase"),
)


def mix(xa: bool) -> tuple[list[TxShape], list[float]]:
    shapes = list(SHAPES + XA_SHAPES) if xa else list(SHAPES)
    return shapes, [s.weight for s in shapes]
