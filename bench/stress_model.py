"""The stress oracle's data: the table, its seed, and each writer's partition as a model.

The expected table is computed in Python, never read back from the engine: the seed
(:func:`seed_row`, the same rows :data:`SEED_SQL` makes on the server) replayed with every
committed transaction of every writer. Each writer owns a :class:`Partition`: the seed
rows with ``id % writers == index`` and every value it creates later (``fresh`` values
carry the writer's residue, so two writers never make the same id, ``u``, ``s`` or ``n``).
All values of a partition stay in it (unique-value swaps pair two rows of one partition),
so the partitions are disjoint and each writer can replay its own transactions alone.

A writer changes its model *before* sending each statement (the statement generators in
stress_shapes.py), with an undo log: a rollback, a ROLLBACK TO SAVEPOINT, an XA ROLLBACK
or a failed transaction undoes the model to a mark; a commit clears the log.
"""

from __future__ import annotations

import dataclasses
import random
from typing import NamedTuple

TABLE = "t"
MARKERS = "stress_txn"
"""Every committing transaction also inserts (writer, seq) here: after a lost connection
at COMMIT, the marker says whether it committed (this table is never migrated)."""

CREATE_TABLE = f"""CREATE TABLE {TABLE} (
  id BIGINT NOT NULL,
  u BIGINT NOT NULL,
  s VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  n BIGINT NOT NULL,
  v INT NOT NULL,
  w VARCHAR(40) CHARACTER SET utf8mb4 NOT NULL,
  z INT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY uu (u),
  UNIQUE KEY us (s),
  KEY kn (n)
) ENGINE=InnoDB"""

CREATE_MARKERS = (
    f"CREATE TABLE {MARKERS} (writer INT NOT NULL, seq BIGINT NOT NULL, "
    "PRIMARY KEY (writer, seq)) ENGINE=InnoDB"
)

SEED_U, SEED_N = 1_000_000_000, 2_000_000_000
FRESH = 1_000_000_000_000
"""Fresh ids, ``u`` and ``n`` start here: far above every seed value."""
CASES = ("ab", "Ab", "aB", "AB")

SEED_SQL = (
    f"INSERT INTO {TABLE} (id, u, s, n, v, w, z) SELECT seq, {SEED_U} + seq, "
    "CONCAT(ELT(1 + seq % 4, 'ab', 'Ab', 'aB', 'AB'), '-', seq), "
    f"{SEED_N} + seq, seq % 1000, CONCAT('seed', seq), 1 + seq % 97 FROM seq_1_to_{{rows}}"
)


class Row(NamedTuple):
    """One row of ``t`` without its key; ``z`` is never written, so a REPLACE or an
    INSERT gives it the default 0."""

    u: int
    s: str
    n: int
    v: int
    w: str
    z: int


COLUMNS = Row._fields


def seed_row(i: int) -> Row:
    return Row(SEED_U + i, f"{CASES[i % 4]}-{i}", SEED_N + i, i % 1000, f"seed{i}", 1 + i % 97)


def flip_case(text: str, rng: random.Random) -> str:
    """``text`` with the case of at least one letter changed (equal under ``_ci``)."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    chars = list(text)
    flips = rng.sample(letters, rng.randint(1, len(letters)))
    for i in flips:
        chars[i] = chars[i].swapcase()
    return "".join(chars)


class KeySet:
    """A set of ints with O(1) add, remove and uniform random pick."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.where: dict[int, int] = {}

    def add(self, key: int) -> None:
        self.where[key] = len(self.items)
        self.items.append(key)

    def remove(self, key: int) -> None:
        i = self.where.pop(key)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.where[last] = i

    def pick(self, rng: random.Random) -> int:
        return self.items[rng.randrange(len(self.items))]

    def __len__(self) -> int:
        return len(self.items)


class ModelError(AssertionError):
    """The model was asked for something the table would refuse: a harness bug."""


@dataclasses.dataclass
class Partition:
    """Writer ``index`` of ``count``'s rows, its unique indexes and its undo log."""

    index: int
    count: int
    rows: dict[int, Row] = dataclasses.field(default_factory=dict)
    keys: KeySet = dataclasses.field(default_factory=KeySet)
    u_of: dict[int, int] = dataclasses.field(default_factory=dict)
    s_of: dict[str, int] = dataclasses.field(default_factory=dict)
    undo: list[tuple[int, Row | None]] = dataclasses.field(default_factory=list)
    counter: int = 0
    # Values this partition once used and gave up: picked again to re-insert a deleted
    # key, move a row into the copied range, or reuse a freed unique value.
    old_ids: list[int] = dataclasses.field(default_factory=list)
    old_u: list[int] = dataclasses.field(default_factory=list)
    old_s: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def seeded(cls, index: int, count: int, rows: int) -> Partition:
        part = cls(index, count)
        for i in range(index or count, rows + 1, count):
            part._set(i, seed_row(i))
        return part

    # -- fresh and reused values ---------------------------------------------------------

    def fresh(self) -> int:
        self.counter += 1
        return FRESH + self.counter * self.count + self.index

    def fresh_s(self, rng: random.Random) -> str:
        return flip_case("fsx", rng) + f"-{self.fresh()}"

    def new_id(self, rng: random.Random) -> int:
        """A key no row of the table has: fresh above the range, fresh below it
        (negative), or a key this partition deleted or moved away (inside the range)."""
        roll = rng.random()
        if roll < 0.3 and self.old_ids:
            key = self.old_ids[rng.randrange(len(self.old_ids))]
            if key not in self.rows:
                return key
        if roll < 0.45:
            return -self.fresh()
        return self.fresh()

    def new_u(self, rng: random.Random) -> int:
        if self.old_u and rng.random() < 0.3:
            u = self.old_u[rng.randrange(len(self.old_u))]
            if u not in self.u_of:
                return u
        return self.fresh()

    def new_s(self, rng: random.Random) -> str:
        if self.old_s and rng.random() < 0.3:
            s = flip_case(self.old_s[rng.randrange(len(self.old_s))], rng)
            if s.lower() not in self.s_of:
                return s
        return self.fresh_s(rng)

    def new_row(self, rng: random.Random, w: str) -> Row:
        return Row(self.new_u(rng), self.new_s(rng), self.fresh(), rng.randrange(1000), w, 0)

    def pick(self, rng: random.Random) -> int | None:
        return self.keys.pick(rng) if len(self.keys) else None

    def pick_two(self, rng: random.Random) -> tuple[int, int] | None:
        if len(self.keys) < 2:
            return None
        a = self.keys.pick(rng)
        b = self.keys.pick(rng)
        while b == a:
            b = self.keys.pick(rng)
        return a, b

    # -- changes, with undo --------------------------------------------------------------

    def mark(self) -> int:
        return len(self.undo)

    def undo_to(self, mark: int) -> None:
        while len(self.undo) > mark:
            key, row = self.undo.pop()
            self._set(key, row)

    def commit(self) -> None:
        self.undo.clear()
        for pool in (self.old_ids, self.old_u, self.old_s):
            if len(pool) > 2000:
                del pool[:1000]

    def put(self, key: int, row: Row | None) -> None:
        self.undo.append((key, self.rows.get(key)))
        self._set(key, row)

    def conflicts(self, key: int, row: Row) -> list[int]:
        """Rows a REPLACE or an upsert of (key, row) collides with, in key order of the
        table's unique indexes (PRIMARY, uu, us)."""
        found: list[int] = []
        for other in (
            key if key in self.rows else None,
            self.u_of.get(row.u),
            self.s_of.get(row.s.lower()),
        ):
            if other is not None and other not in found:
                found.append(other)
        return found

    def _set(self, key: int, row: Row | None) -> None:
        old = self.rows.get(key)
        if old is not None:
            del self.u_of[old.u]
            del self.s_of[old.s.lower()]
            self.keys.remove(key)
            del self.rows[key]
        if row is None:
            if old is not None:
                self.old_ids.append(key)
                self.old_u.append(old.u)
                self.old_s.append(old.s)
            return
        if row.u in self.u_of or row.s.lower() in self.s_of:
            raise ModelError(f"writer {self.index}: {key} {row} breaks a unique key")
        self.rows[key] = row
        self.u_of[row.u] = key
        self.s_of[row.s.lower()] = key
        self.keys.add(key)


def expected_table(partitions: list[Partition]) -> dict[int, Row]:
    table: dict[int, Row] = {}
    for part in partitions:
        overlap = table.keys() & part.rows.keys()
        if overlap:
            raise ModelError(f"partitions share keys {sorted(overlap)[:5]}")
        table.update(part.rows)
    return table
