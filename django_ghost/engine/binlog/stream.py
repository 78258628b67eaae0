"""BinlogStream: the engine's BinlogReader over a real server.

Per event (see transport.py for how the bytes arrive):

- TABLE_MAP: looked up by its exact bytes in a cache. A hit costs one dict lookup; a
  miss reads only the id and names (:func:`tablemap.peek_names`) and, for a watched
  table, parses the whole map and compiles its row decoder (rows.py). The result is
  bound to the table id. Table ids are reused after a restart, which always starts a
  new binlog file, so the id bindings are dropped on ROTATE; a changed definition has
  different bytes, so it can never hit a stale cache entry.
- WRITE/UPDATE/DELETE rows (v1 23-25 from MariaDB, v2 30-32 from MySQL): the table id
  is looked up; rows of tables that are not watched are skipped without reading more.
- XID, and QUERY ``COMMIT``/``ROLLBACK`` (MyISAM/Aria changes end that way): a
  :class:`TransactionEnd`, and the position a reconnect resumes from.
- other QUERY events in the watched schema (default database, or naming it in the
  text): :class:`SchemaChange`.
- XA transactions (xa.py): the rows of an ``XA PREPARE`` group are held back and come
  out at its ``XA COMMIT``, stamped with the commit's position, or are dropped at its
  ``XA ROLLBACK``; a commit of a transaction prepared before the start position stops
  the stream with a :class:`~..errors.BinlogError` saying why.
- ROTATE: the file name; FORMAT_DESCRIPTION: checksum algorithm, post-header sizes and
  whether MariaDB wrote the binlog (which changes how TABLE_MAP numbers collations).
- compressed events (MariaDB ``log_bin_compress``, MySQL
  ``binlog_transaction_compression``) raise: skipping them would lose changes.
- GTID events: with ``by_gtid`` (config ``gtid``) they move the GTID position
  (gtidtrack.py) that each transaction end carries, and the dump starts and reconnects
  from that position instead of the file and offset; MariaDB's also mark XA groups.
- everything else (annotate, checkpoint, heartbeat, ...) is ignored.

Event header (19 bytes): timestamp 4, type 1, server id 4, event size 4, log_pos 4 (the
end of this event in its file, 0 for artificial events), flags 2. With
``binlog_checksum=CRC32`` a 4-byte CRC32 of everything before it ends each event.

Reconnect: when the link drops (the server KILLs the dump thread, a restart, silence
past the heartbeat), the stream reconnects a few times with backoff at the position of
the last TransactionEnd it produced. Rows of a partly delivered transaction come again;
the engine applies by key, so that is harmless. A purged file is fatal. By GTID, the
server names the file it starts in with a ROTATE, so positions are its own.

One thread at a time may call :meth:`BinlogStream.read`; :meth:`close` may be called
from another thread to stop it.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
import zlib
from collections.abc import Mapping
from typing import Any

import pymysql
from pymysqlreplication.constants import BINLOG as B

from ..errors import BinlogConnectionLost, BinlogError
from ..mysql.connection import ConnectionSpec
from .events import BinlogEvent, BinlogPosition, RowChange, SchemaChange, TransactionEnd
from .gtidtrack import GTID_EVENTS, GtidTracker
from .reader import WatchSpec
from .rows import CompiledTable, compile_table
from .tablemap import parse_table_map, peek_names, read_packed_int
from .transport import (
    ER_MASTER_FATAL_ERROR_READING_BINLOG,
    RETRYABLE_ERRNOS,
    DumpConnection,
    ServerError,
    StreamLost,
    tls_failure,
)
from .xa import (
    MARIADB_GTID_EVENT,
    XA_PREPARE_EVENT,
    UnknownXaCommit,
    XaGroups,
    describe,
    gtid_starts_prepared_xa,
    parse_prepare,
    xid_from_text,
)

log = logging.getLogger(__name__)

_HEADER = 19
_u32 = struct.Struct("<I").unpack_from
_u16 = struct.Struct("<H").unpack_from

WRITE_TYPES = frozenset((B.WRITE_ROWS_EVENT_V1, B.WRITE_ROWS_EVENT_V2))
UPDATE_TYPES = frozenset((B.UPDATE_ROWS_EVENT_V1, B.UPDATE_ROWS_EVENT_V2))
DELETE_TYPES = frozenset((B.DELETE_ROWS_EVENT_V1, B.DELETE_ROWS_EVENT_V2))
ROWS_TYPES = WRITE_TYPES | UPDATE_TYPES | DELETE_TYPES
V2_ROWS_TYPES = frozenset((B.WRITE_ROWS_EVENT_V2, B.UPDATE_ROWS_EVENT_V2, B.DELETE_ROWS_EVENT_V2))
TRANSACTION_PAYLOAD_EVENT = 40
MARIADB_COMPRESSED_TYPES = frozenset(range(165, 172))
"""QUERY_COMPRESSED (165), WRITE/UPDATE/DELETE_ROWS_COMPRESSED v1 (166-168) and v0
(169-171)."""

_IGNORED_QUERIES = (b"BEGIN", b"SAVEPOINT", b"RELEASE")
_MAP_CACHE_LIMIT = 10_000
MAX_RECONNECT_SLEEP = 5.0
"""Longest wait between two reconnects (the backoff doubles up to it)."""
_MISSING: Any = object()


class BinlogStream:
    """A :class:`~.reader.BinlogReader` decoding the watched tables of one schema."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        server_id: int,
        schema: str,
        watch: Mapping[str, WatchSpec],
        start: BinlogPosition,
        heartbeat: float = 1.0,
        reconnect_attempts: int = 5,
        reconnect_backoff: float = 0.2,
        verify_checksum: bool = True,
        by_gtid: bool = False,
    ):
        self._spec = spec
        self._server_id = server_id
        self._schema = schema
        self._watch = dict(watch)
        self._watch_lower = {name.lower(): name for name in watch}
        self._heartbeat = heartbeat
        self._attempts = reconnect_attempts
        self._backoff = reconnect_backoff
        self._verify = verify_checksum

        self._start = start
        self._position = start  # after the last event returned by read()
        self._resume = start  # after the last TransactionEnd produced
        self._file = start.file  # file of the events now arriving
        self._out: list[BinlogEvent] = []  # decoded, not yet returned
        self._raw: list[bytes] = []  # received, not yet decoded (from self._raw_i on)
        self._raw_i = 0
        self._by_id: dict[int, CompiledTable | None] = {}
        self._maps: dict[bytes, tuple[int, CompiledTable | None]] = {}
        self._conn: DumpConnection | None = None
        self._checksum_len = 0
        self._id_len = 6
        self._mariadb = True  # the binlog's writer, from its FORMAT_DESCRIPTION
        self._closed = threading.Event()
        self._xa = XaGroups()
        self._gtid = GtidTracker(start.gtid) if by_gtid else None
        self.reconnects = 0

    # -- BinlogReader -------------------------------------------------------------------

    @property
    def position(self) -> BinlogPosition:
        return self._position

    def read(self, max_events: int, timeout: float) -> list[BinlogEvent]:
        """Up to ``max_events`` events, waiting at most ``timeout`` s for the first."""
        if self._closed.is_set():
            raise BinlogError("the binlog stream is closed")
        deadline = time.monotonic() + timeout
        out = self._out
        raw, i = self._raw, self._raw_i
        handle = self._handle
        while len(out) < max_events:
            if i < len(raw):
                handle(raw[i])
                i += 1
                continue
            # Block only until the first event; after that take only what has arrived.
            raw = self._fetch(deadline if not out else 0.0)
            i = 0
            if not raw:
                break
        self._raw, self._raw_i = raw, i
        if len(out) > max_events:
            self._out = out[max_events:]
            del out[max_events:]
        else:
            self._out = []
        if out:
            self._position = out[-1].position
        return out

    def close(self) -> None:
        self._closed.set()
        conn = self._conn
        if conn is not None:
            conn.shutdown()
            conn.close()

    # -- connection ---------------------------------------------------------------------

    def _fetch(self, deadline: float) -> list[bytes]:
        """The next batch of raw events, reconnecting when the link drops."""
        failures = 0
        while True:
            if self._closed.is_set():
                return []
            try:
                if self._conn is None:
                    self._connect()
                assert self._conn is not None
                return self._conn.next_events(deadline)
            except ServerError as exc:
                self._drop()
                if exc.errno == ER_MASTER_FATAL_ERROR_READING_BINLOG:
                    raise self._fatal(exc) from exc
                if exc.errno not in RETRYABLE_ERRNOS:
                    raise BinlogError(f"the binlog dump failed: {exc}") from exc
                error: Exception = exc
            except (StreamLost, OSError, pymysql.err.OperationalError) as exc:
                self._drop()
                if tls_failure(exc):
                    raise BinlogError(f"the binlog connection's TLS failed: {exc}") from exc
                if isinstance(exc, pymysql.err.OperationalError) and (
                    exc.args and exc.args[0] not in RETRYABLE_ERRNOS
                ):
                    raise BinlogError(f"cannot open the binlog connection: {exc}") from exc
                error = exc
            if self._closed.is_set():
                return []
            failures += 1
            # 0 means unlimited, as gh-ost's --binlogsyncer-max-reconnect-attempts=0.
            if 0 < self._attempts < failures:
                raise BinlogConnectionLost(
                    f"lost the binlog connection to {self._spec.describe()} and could not "
                    f"reconnect after {self._attempts} attempts: {error}"
                ) from error
            log.warning(
                "binlog connection lost (%s); reconnecting at %s (attempt %d)",
                error,
                self._resume,
                failures,
            )
            time.sleep(min(MAX_RECONNECT_SLEEP, self._backoff * 2 ** min(failures - 1, 16)))
            self.reconnects += 1

    def _connect(self) -> None:
        conn = DumpConnection(self._spec, server_id=self._server_id, heartbeat=self._heartbeat)
        conn.open(self._resume, by_gtid=self._gtid is not None)
        self._conn = conn
        self._checksum_len = conn.checksum_len
        self._file = self._resume.file
        # The next transaction brings its own TABLE_MAPs; a prepared XA group cut short
        # comes again from its start.
        self._by_id.clear()
        self._xa.reset()
        if self._gtid is not None:
            self._gtid.reset(self._resume.gtid)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _fatal(self, exc: ServerError) -> BinlogError:
        text, at = exc.message, self._resume
        if "could not find first log file" in text.lower() or "purged" in text.lower():
            needed = f"binlog file {at.file}" if not at.gtid else "binlog after that GTID"
            return BinlogError(
                f"the {needed} needed to continue from {at} "
                "was purged from the server before it was read. Keep binlogs longer than a "
                "migration runs (binlog_expire_logs_seconds / expire_logs_days) and do not "
                "PURGE BINARY LOGS during a migration; the migration must restart. "
                f"Server said: {text}"
            )
        return BinlogError(f"the server cannot stream the binlog from {self._resume}: {text}")

    # -- events -------------------------------------------------------------------------

    def _check(self, ev: bytes, end: int) -> None:
        """Verify the CRC32 trailer of an event we act on (skipped events are not worth it)."""
        if self._verify and self._checksum_len and zlib.crc32(ev[:end]) != _u32(ev, end)[0]:
            raise BinlogError(
                f"binlog event at {self._file}:{_u32(ev, 13)[0]} fails its CRC32 checksum"
            )

    def _handle(self, ev: bytes) -> None:
        etype = ev[4]
        end = len(ev) - self._checksum_len
        if etype in ROWS_TYPES:
            table = self._by_id.get(int.from_bytes(ev[19 : 19 + self._id_len], "little"), _MISSING)
            if table is None:
                return
            if table is _MISSING:
                raise BinlogError(
                    f"rows event at {self._file}:{_u32(ev, 13)[0]} for a table id with no "
                    "TABLE_MAP before it: the stream did not start at a transaction boundary"
                )
            self._check(ev, end)
            self._rows(ev, etype, table, end)
        elif etype == B.TABLE_MAP_EVENT:
            body = ev[_HEADER:end]
            hit = self._maps.get(body)
            if hit is None:
                self._check(ev, end)
                hit = self._compile(body)
                if len(self._maps) >= _MAP_CACHE_LIMIT:
                    self._maps.clear()
                self._maps[body] = hit
            self._by_id[hit[0]] = hit[1]
        elif etype == B.XID_EVENT:
            self._check(ev, end)
            self._end_transaction(ev)
        elif etype == B.QUERY_EVENT:
            self._check(ev, end)
            self._query(ev, end)
        elif etype in GTID_EVENTS:
            if self._gtid is not None:
                self._gtid.on_event(etype, ev, _HEADER)
            if etype == MARIADB_GTID_EVENT and gtid_starts_prepared_xa(ev[_HEADER:end]):
                self._xa.begin()
        elif etype == XA_PREPARE_EVENT:
            self._check(ev, end)
            self._xa_prepare(ev, end)
        elif etype == B.ROTATE_EVENT:
            self._check(ev, end)
            self._file = ev[_HEADER + 8 : end].decode()
            self._by_id.clear()
        elif etype == B.FORMAT_DESCRIPTION_EVENT:
            self._format_description(ev)
        elif etype in MARIADB_COMPRESSED_TYPES:
            raise BinlogError(
                f"the binlog holds a compressed event (type {etype}, MariaDB log_bin_compress) "
                f"at {self._file}:{_u32(ev, 13)[0]}, which django_ghost cannot decode: "
                "SET GLOBAL log_bin_compress=OFF (and in my.cnf), then restart the migration"
            )
        elif etype == TRANSACTION_PAYLOAD_EVENT:
            raise BinlogError(
                "the binlog holds a compressed transaction (MySQL "
                f"binlog_transaction_compression) at {self._file}:{_u32(ev, 13)[0]}, which "
                "django_ghost cannot decode: SET GLOBAL binlog_transaction_compression=OFF "
                "(and in my.cnf), then restart the migration"
            )
        elif etype == B.PARTIAL_UPDATE_ROWS_EVENT:
            tid = int.from_bytes(ev[19 : 19 + self._id_len], "little")
            if self._by_id.get(tid) is not None:
                raise BinlogError(
                    "a watched table has partial JSON updates in the binlog: SET GLOBAL "
                    "binlog_row_value_options='' (and in my.cnf), then restart the migration"
                )

    def _format_description(self, ev: bytes) -> None:
        # The algorithm byte and a 4-byte checksum always end this event; the table-id
        # size follows from the TABLE_MAP post-header length (6 → 4-byte ids). The
        # server version (50 bytes after the 2-byte binlog version) names MariaDB.
        self._checksum_len = 4 if ev[-5] == 1 else 0
        self._mariadb = b"mariadb" in ev[_HEADER + 2 : _HEADER + 52].lower()
        header_lengths = _HEADER + 2 + 50 + 4 + 1
        table_map_post = ev[header_lengths + B.TABLE_MAP_EVENT - 1]
        self._id_len = 4 if table_map_post == 6 else 6

    def _compile(self, body: bytes) -> tuple[int, CompiledTable | None]:
        table_id, schema, table = peek_names(body, self._id_len)
        if schema != self._schema and schema.lower() != self._schema.lower():
            return table_id, None
        name = table if table in self._watch else self._watch_lower.get(table.lower())
        if name is None:
            return table_id, None
        spec = self._watch[name]
        table_map = parse_table_map(body, self._id_len, mariadb=self._mariadb)
        return table_id, compile_table(name, table_map, spec.columns)

    def _end_transaction(self, ev: bytes) -> None:
        log_pos = _u32(ev, 13)[0]
        if log_pos:
            gtid = self._gtid.commit() if self._gtid is not None else ""
            position = BinlogPosition(self._file, log_pos, gtid)
            self._resume = position
            self._out.append(TransactionEnd(position))

    def _query(self, ev: bytes, end: int) -> None:
        # Post-header: thread id 4, exec time 4, db length 1, error code 2, status vars
        # length 2; then the status vars, the db name and a NUL, then the statement.
        db_len = ev[_HEADER + 8]
        p = _HEADER + 13 + _u16(ev, _HEADER + 11)[0]
        sql = ev[p + db_len + 1 : end]
        head = sql[:12].lstrip().upper()
        if head.startswith(b"XA "):
            self._xa_query(ev, head, sql)
            return
        if head.startswith(_IGNORED_QUERIES) or head.startswith(b"ROLLBACK TO"):
            return
        if head.startswith((b"COMMIT", b"ROLLBACK")):
            self._end_transaction(ev)
            return
        db = ev[p : p + db_len].decode("utf-8", "replace")
        text = sql.decode("utf-8", "replace")
        if db.lower() == self._schema.lower() or self._schema.lower() in text.lower():
            log_pos = _u32(ev, 13)[0]
            thread_id = _u32(ev, _HEADER)[0]
            position = BinlogPosition(self._file, log_pos)
            self._out.append(SchemaChange(db, text, position, thread_id))

    def _xa_prepare(self, ev: bytes, end: int) -> None:
        one_phase, xid = parse_prepare(ev[_HEADER:end])
        position = BinlogPosition(self._file, _u32(ev, 13)[0])
        self._out += self._xa.prepare(xid, one_phase=one_phase, position=position)
        self._end_transaction(ev)

    def _xa_query(self, ev: bytes, head: bytes, sql: bytes) -> None:
        """XA START opens a prepared group (MySQL); XA COMMIT/ROLLBACK end a transaction
        prepared earlier; XA END changes nothing."""
        if head.startswith(b"XA START"):
            self._xa.begin()
            return
        if not head.startswith((b"XA COMMIT", b"XA ROLLBACK")):
            return
        position = BinlogPosition(self._file, _u32(ev, 13)[0])
        xid = xid_from_text(sql)
        if xid is None:
            raise BinlogError(
                f"cannot read the xid of {sql[:200]!r} at {position}; this is a "
                "django_ghost bug, please report it with the statement"
            )
        if head.startswith(b"XA ROLLBACK"):
            self._xa.rollback(xid)
        else:
            try:
                self._out += self._xa.commit(xid, position)
            except UnknownXaCommit:
                raise self._unknown_xa(xid, position) from None
        self._end_transaction(ev)

    def _unknown_xa(self, xid: tuple[int, bytes, bytes], position: BinlogPosition) -> BinlogError:
        return BinlogError(
            f"the XA transaction {describe(xid)} committed at {position} was prepared "
            f"before the migration started reading the binlog at {self._start}: its row "
            "changes were logged at its XA PREPARE, which this migration never read, so "
            "they cannot be applied to the new table. The migration stops; the original "
            "table is untouched. Finish every prepared XA transaction (XA RECOVER lists "
            "them; XA COMMIT or XA ROLLBACK each) before starting or resuming the "
            "migration, then run it again."
        )

    def _rows(self, ev: bytes, etype: int, table: CompiledTable, end: int) -> None:
        p = _HEADER + self._id_len + 2
        if etype in V2_ROWS_TYPES:
            p += _u16(ev, p)[0]  # the extra-data length counts its own 2 bytes
        ncols, p = read_packed_int(ev, p)
        if ncols != len(table.table_map.columns):
            raise BinlogError(
                f"rows event for {table.name} has {ncols} columns but its TABLE_MAP has "
                f"{len(table.table_map.columns)}"
            )
        nbytes = (ncols + 7) >> 3
        present = ev[p : p + nbytes]
        p += nbytes
        position = BinlogPosition(self._file, _u32(ev, 13)[0])
        name = table.name
        held = self._xa.current
        append = self._out.append if held is None else held.append
        image = table.image if present == table.full_bitmap else None
        try:
            if etype in UPDATE_TYPES:
                present_after = ev[p : p + nbytes]
                p += nbytes
                if image is not None and present_after == table.full_bitmap:
                    while p < end:
                        before, p = image(ev, p)
                        after, p = image(ev, p)
                        append(RowChange(name, "update", before, after, position))
                else:
                    while p < end:
                        before, p = table.decode_image(ev, p, present)
                        after, p = table.decode_image(ev, p, present_after)
                        append(RowChange(name, "update", before, after, position))
            elif etype in WRITE_TYPES:
                if image is not None:
                    while p < end:
                        after, p = image(ev, p)
                        append(RowChange(name, "insert", None, after, position))
                else:
                    while p < end:
                        after, p = table.decode_image(ev, p, present)
                        append(RowChange(name, "insert", None, after, position))
            elif image is not None:
                while p < end:
                    before, p = image(ev, p)
                    append(RowChange(name, "delete", before, None, position))
            else:
                while p < end:
                    before, p = table.decode_image(ev, p, present)
                    append(RowChange(name, "delete", before, None, position))
        except (IndexError, struct.error, ValueError) as exc:
            raise self._misdecoded(table, position) from exc
        if p != end:
            raise self._misdecoded(table, position)

    def _misdecoded(self, table: CompiledTable, position: BinlogPosition) -> BinlogError:
        return BinlogError(
            f"the rows event for {table.table_map.schema}.{table.table_map.table} ending at "
            f"{position} did not decode to its exact length: a column type is not "
            "understood; this is a django_ghost bug, please report it with the table's "
            "SHOW CREATE TABLE"
        )
