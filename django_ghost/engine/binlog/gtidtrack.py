"""The GTID position a stream read by GTID has reached, and the dump request that starts it.

:class:`GtidTracker` follows the GTID events of the stream: a GTID event opens a group
(its GTID is *pending*); the group is done at its transaction end, or when the next
group starts (a DDL or other standalone group has no XID). ``commit()`` folds the
pending GTID in and returns the position text a transaction end carries, so a resume
or a reconnect from it continues right after that transaction.

- MariaDB GTID event (type 162): body ``seq_no`` 8, ``domain_id`` 4, ``flags2`` 1; the
  server id is the event header's. The position is the last GTID per domain.
- MySQL GTID event (type 33): body flags 1, source uuid 16, ``gno`` 8. The position is
  the executed set, kept as per-source interval lists that grow in place (a stream sees
  consecutive numbers, so the last interval almost always just extends). MySQL 8.4's
  tagged GTID events (type 42) are refused: they cannot be put in a dump request here.

:func:`dump_request` is the session variables and the COM_BINLOG_DUMP(_GTID) packet
that start a dump at a GTID position; transport.py sends them.
"""

from __future__ import annotations

import struct
import uuid

from ..errors import BinlogError
from ..mysql.gtid import GtidSet, MariaGtidPos
from .events import BinlogPosition

MARIADB_GTID_EVENT = 0xA2
MYSQL_GTID_EVENT = 33
MYSQL_GTID_TAGGED_EVENT = 42
GTID_EVENTS = frozenset((MARIADB_GTID_EVENT, MYSQL_GTID_EVENT, MYSQL_GTID_TAGGED_EVENT))

COM_BINLOG_DUMP = 0x12
COM_BINLOG_DUMP_GTID = 0x1E
BINLOG_THROUGH_GTID = 0x04


class GtidTracker:
    """The GTID position after the last transaction end of a stream."""

    def __init__(self, start: str):
        self.reset(start)

    def reset(self, start: str) -> None:
        """Continue from ``start`` (a reconnect drops what a cut-short group brought)."""
        self._start = start
        self._maria: dict[int, tuple[int, int]] | None = None
        self._mysql: dict[str, list[list[int]]] | None = None
        self._pending_maria: tuple[int, int, int] | None = None
        self._pending_mysql: tuple[str, int] | None = None
        self._text = start

    def on_event(self, etype: int, ev: bytes, header: int) -> None:
        """A GTID event (type ``etype``, raw bytes ``ev``, body at ``header``)."""
        self._fold()
        if etype == MARIADB_GTID_EVENT:
            if self._maria is None:
                self._maria = {
                    g.domain: (g.server_id, g.seq) for g in MariaGtidPos.parse(self._start).gtids
                }
            seq, domain = struct.unpack_from("<QI", ev, header)
            server_id = struct.unpack_from("<I", ev, 5)[0]
            self._pending_maria = (domain, server_id, seq)
        elif etype == MYSQL_GTID_EVENT:
            if self._mysql is None:
                self._mysql = {
                    sid: [[lo, hi] for lo, hi in intervals]
                    for (sid, _), intervals in GtidSet.parse(self._start).sources
                }
            sid = str(uuid.UUID(bytes=bytes(ev[header + 1 : header + 17])))
            self._pending_mysql = (sid, struct.unpack_from("<Q", ev, header + 17)[0])
        else:
            raise BinlogError(
                "the binlog holds a tagged GTID (MySQL 8.4 gtid tags), which a stream "
                "positioned by GTID cannot resume from; run without gtid"
            )

    def commit(self) -> str:
        """The position once the pending group (if any) is done."""
        self._fold()
        return self._text

    def _fold(self) -> None:
        maria, mysql = self._pending_maria, self._pending_mysql
        self._pending_maria = self._pending_mysql = None
        if maria is not None and self._maria is not None:
            domain, server_id, seq = maria
            self._maria[domain] = (server_id, seq)
            self._text = ",".join(f"{d}-{s}-{n}" for d, (s, n) in sorted(self._maria.items()))
        elif mysql is not None and self._mysql is not None:
            sid, gno = mysql
            self._add_mysql(self._mysql.setdefault(sid, []), gno)
            self._text = ",".join(
                f"{s}:" + ":".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in iv)
                for s, iv in sorted(self._mysql.items())
                if iv
            )

    @staticmethod
    def _add_mysql(intervals: list[list[int]], gno: int) -> None:
        if intervals and intervals[-1][1] + 1 == gno:
            intervals[-1][1] = gno
        elif not any(lo <= gno <= hi for lo, hi in intervals):
            intervals.append([gno, gno])
            intervals.sort()


def dump_request(
    start: BinlogPosition, *, server_id: int, mariadb: bool, server_gtid: str = ""
) -> tuple[list[tuple[str, tuple[str | int, ...]]], bytes]:
    """The session statements to run and the command payload that start a dump at
    ``start.gtid``.

    MariaDB: ``@slave_connect_state`` is the position to continue after, adapted to
    ``server_gtid`` (the server's ``@@gtid_binlog_pos``, see
    :meth:`~..mysql.gtid.MariaGtidPos.start_on`), then an ordinary COM_BINLOG_DUMP with
    no file name: the server finds the file itself and skips every group up to that
    position. MySQL: COM_BINLOG_DUMP_GTID with ``BINLOG_THROUGH_GTID`` and the encoded
    set of GTIDs already read; the server sends every transaction not in it.
    """
    if mariadb:
        state = MariaGtidPos.parse(start.gtid)
        if server_gtid:
            state = state.start_on(MariaGtidPos.parse(server_gtid))
        statements: list[tuple[str, tuple[str | int, ...]]] = [
            ("SET @slave_connect_state = %s", (str(state),)),
            ("SET @slave_gtid_strict_mode = 0", ()),
            ("SET @slave_gtid_ignore_duplicates = 0", ()),
        ]
        payload = bytes((COM_BINLOG_DUMP,)) + struct.pack("<IHI", 4, 0, server_id)
        return statements, payload
    data = GtidSet.parse(start.gtid).encode()
    payload = (
        bytes((COM_BINLOG_DUMP_GTID,))
        + struct.pack("<HII", BINLOG_THROUGH_GTID, server_id, 0)
        + struct.pack("<QI", 4, len(data))
        + data
    )
    return [], payload
