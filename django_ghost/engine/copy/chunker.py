"""Walks the chosen unique key of the original table in chunks.

The range is captured once, after the binlog stream has started: rows committed later
above the captured maximum reach the ghost table through the binlog apply, everything at
or below it through the copy. Bounds are kept in session variables of the writer
connection (see sql/builder.py), so the chunker, copier and applier must share it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..mysql.connection import Connection, execute, scalar
from ..sql import builder
from ..sql.builder import KeyColumn


class Chunker:
    """Computes ``@ghost_lo`` .. ``@ghost_hi`` for each chunk on the writer connection."""

    def __init__(self, conn: Connection, table: str, index: str, key: Sequence[KeyColumn]):
        self.conn = conn
        self.table = table
        self.index = index
        self.key = tuple(key)
        self.has_range = False
        self.first = True
        self.done = False

    def capture_range(self) -> bool:
        """Read min and max of the key; False (and done) when the table is empty."""
        execute(self.conn, "SET @ghost_found = 0")
        execute(
            self.conn,
            builder.select_bound(self.table, self.index, self.key, descending=False, into="lo"),
        )
        if not scalar(self.conn, "SELECT @ghost_found"):
            self.done = True
            return False
        execute(
            self.conn,
            builder.select_bound(self.table, self.index, self.key, descending=True, into="max"),
        )
        self.has_range = True
        return True

    def next_chunk(self, size: int) -> bool:
        """Set ``@ghost_hi`` to the end of the next chunk; False when the copy is done."""
        if self.done:
            return False
        execute(self.conn, "SET @ghost_found = 0")
        execute(
            self.conn,
            builder.select_chunk_end(
                self.table, self.index, self.key, first=self.first, offset=max(size, 1) - 1
            ),
        )
        if not scalar(self.conn, "SELECT @ghost_found"):
            # Fewer than `size` rows remain: this chunk runs up to the captured maximum.
            execute(self.conn, builder.assign_vars("hi", "max", len(self.key)))
        return True

    def advance(self) -> None:
        """After the chunk committed: its end becomes the next chunk's exclusive start."""
        execute(self.conn, builder.assign_vars("lo", "hi", len(self.key)))
        self.first = False
        if scalar(self.conn, self._vars_at_max()):
            self.done = True

    def _vars_at_max(self) -> str:
        same = " AND ".join(
            f"{builder.var('lo', i)} <=> {builder.var('max', i)}" for i in range(len(self.key))
        )
        return f"SELECT {same}"

    def position(self) -> tuple[object, ...]:
        """The copy's current lower bound, for display and checkpoints."""
        row = scalar(
            self.conn,
            "SELECT CONCAT_WS(',', "
            + ", ".join(f"QUOTE({builder.var('lo', i)})" for i in range(len(self.key)))
            + ")",
        )
        return (row,)
