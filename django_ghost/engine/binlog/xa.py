"""XA transactions in the binlog: their rows are held until the transaction commits.

An XA transaction is binlogged in two groups. ``XA PREPARE`` writes the first: the row
events, a QUERY ``XA END <xid>`` and an XA_PREPARE event (type 38) holding the xid.
``XA COMMIT <xid>`` (or ``XA ROLLBACK <xid>``), possibly much later and from another
session, writes the second: one QUERY event and no rows at all. So the rows must be
taken from the first group but may only count once the second one says COMMIT:

- re-reading the keys at the PREPARE reads the rows as they were before the
  transaction (a prepared transaction is not visible yet), and nothing comes at the
  COMMIT to read them again: the new values would be lost;
- a delete taken at the PREPARE of a transaction later rolled back would remove a row
  that still exists.

How a prepared group starts: on MariaDB its GTID event (type 162) has the
``FL_PREPARED_XA`` flag (64) in ``flags2``; on MySQL a QUERY ``XA START <xid>`` opens it.
The XA_PREPARE event's ``one_phase`` byte marks MySQL's ``XA COMMIT ... ONE PHASE``,
which commits right there (MariaDB logs that as an ordinary transaction).
Every statement names the xid as ``X'<gtrid hex>',X'<bqual hex>',<formatID>``, the form
both servers log, whatever the client typed.

A COMMIT whose PREPARE this stream never saw (it was logged before the stream's start
position) cannot be applied: :class:`UnknownXaCommit` stops the migration rather than
losing its changes silently.
"""

from __future__ import annotations

import re
import struct

from .events import BinlogPosition, RowChange

MARIADB_GTID_EVENT = 0xA2
XA_PREPARE_EVENT = 0x26
FL_GROUP_COMMIT_ID = 0x02
FL_PREPARED_XA = 0x40

Xid = tuple[int, bytes, bytes]
"""formatID, gtrid, bqual."""

_XID_TEXT = re.compile(rb"X'([0-9A-Fa-f]*)'\s*,\s*X'([0-9A-Fa-f]*)'\s*,\s*(\d+)")
_u32 = struct.Struct("<I").unpack_from


class UnknownXaCommit(Exception):
    """An ``XA COMMIT`` of a transaction prepared before the stream's start."""

    def __init__(self, xid: Xid):
        super().__init__(describe(xid))
        self.xid = xid


def describe(xid: Xid) -> str:
    """The xid as the server writes it: ``X'7831',X'',1``."""
    format_id, gtrid, bqual = xid
    return f"X'{gtrid.hex()}',X'{bqual.hex()}',{format_id}"


def xid_from_text(sql: bytes) -> Xid | None:
    """The xid an ``XA COMMIT``/``XA ROLLBACK``/``XA START`` statement names."""
    match = _XID_TEXT.search(sql)
    if match is None:
        return None
    gtrid, bqual, format_id = match.groups()
    return int(format_id), bytes.fromhex(gtrid.decode()), bytes.fromhex(bqual.decode())


def gtid_starts_prepared_xa(body: bytes) -> bool:
    """Whether a MariaDB GTID event body (seq_no 8, domain_id 4, flags2 1, ...) opens
    the group an ``XA PREPARE`` wrote."""
    return len(body) > 12 and bool(body[12] & FL_PREPARED_XA)


def parse_prepare(body: bytes) -> tuple[bool, Xid]:
    """``one_phase`` and the xid of an XA_PREPARE event body: one_phase 1, formatID 4,
    gtrid length 4, bqual length 4, then gtrid and bqual."""
    one_phase = body[0] != 0
    format_id = _u32(body, 1)[0]
    gtrid_len, bqual_len = _u32(body, 5)[0], _u32(body, 9)[0]
    data = body[13 : 13 + gtrid_len + bqual_len]
    return one_phase, (format_id, bytes(data[:gtrid_len]), bytes(data[gtrid_len:]))


class XaGroups:
    """The rows of the prepared XA group being read, and of every XA transaction
    prepared in this stream and not finished yet, by xid."""

    def __init__(self) -> None:
        self.current: list[RowChange] | None = None
        """Rows of the open prepared group; None outside one (rows go out directly)."""
        self.prepared: dict[Xid, list[RowChange]] = {}

    def begin(self) -> None:
        self.current = []

    def reset(self) -> None:
        """Forget a group cut short: after a reconnect it is delivered again."""
        self.current = None

    def prepare(self, xid: Xid, *, one_phase: bool, position: BinlogPosition) -> list[RowChange]:
        """End the open group; the rows that count now (a one-phase commit), if any."""
        rows, self.current = self.current or [], None
        if one_phase:
            return _at(rows, position)
        self.prepared[xid] = rows
        return []

    def commit(self, xid: Xid, position: BinlogPosition) -> list[RowChange]:
        """The rows of a committed XA transaction, as changes made at ``position`` (the
        commit's: they are visible from there on, never before)."""
        rows = self.prepared.pop(xid, None)
        if rows is None:
            raise UnknownXaCommit(xid)
        return _at(rows, position)

    def rollback(self, xid: Xid) -> None:
        self.prepared.pop(xid, None)


def _at(rows: list[RowChange], position: BinlogPosition) -> list[RowChange]:
    return [RowChange(r.table, r.kind, r.before, r.after, position) for r in rows]
