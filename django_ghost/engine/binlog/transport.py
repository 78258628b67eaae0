"""The replication connection: COM_BINLOG_DUMP over a PyMySQL session, raw event bytes out.

Why not ``pymysqlreplication.BinLogStreamReader`` for the connection: it only exposes a
decoded-event iterator. Its connect step is a name-mangled private method
(``_BinLogStreamReader__connect_to_stream``) that also opens a second "ctl" connection
and logs; driving it from outside and then pulling packets off its private PyMySQL
connection would be a hack that breaks on any refactor. The dump protocol itself is
three session variables and one 11-byte command, so it is done here directly over
PyMySQL (which mysql-replication depends on and whose handshake and auth we reuse).
pymysqlreplication stays the source of the protocol constants (event and field type
codes) used by the decoder.

After the handshake, packets are read straight from the socket into our own buffer:
``select`` gives ``read(timeout)`` a real deadline without ever interrupting a packet
half-way (a socket timeout would), and a 1 MiB ``recv`` batches hundreds of events per
system call. Each MySQL packet is a 3-byte length, a sequence byte and the payload; a
payload of exactly 0xFFFFFF bytes continues in the next packet (events over 16 MiB).
A replication payload starts with 0x00 followed by one event, 0xFF for an error, 0xFE
for end-of-stream.

Session variables sent before the dump (the server reads them from the dump thread):
``@master_binlog_checksum`` announces that we understand the CRC32 trailer (otherwise
MySQL refuses to stream a checksummed binlog), ``@master_heartbeat_period`` (ns) makes
an idle server send heartbeats so a dead link is noticed, and
``@mariadb_slave_capability=4`` avoids MariaDB's "Failed to replace GTID event with
backwards-compatible event" on file/position dumps (and lets MariaDB send its GTID
events). A dump from a GTID position (config ``gtid``) sends the statements and the
packet gtidtrack.py builds instead of the file and position.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import time
from typing import Any

import pymysql
import pymysql.charset

from ..charsets import parse_charsets
from ..mysql.connection import ConnectionSpec, require_encrypted
from .events import BinlogPosition
from .gtidtrack import COM_BINLOG_DUMP, dump_request

RECV_SIZE = 1 << 20
MAX_PACKET = 0xFFFFFF

# Errors after which a new dump connection may succeed.
RETRYABLE_ERRNOS = frozenset(
    (
        1040,  # too many connections
        1053,  # server shutdown in progress
        1317,  # query execution was interrupted
        1927,  # connection was killed (MariaDB)
        2003,  # can't connect
        2006,  # server has gone away
        2013,  # lost connection
    )
)
ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236


def tls_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a TLS handshake refused (a certificate not trusted, a name that
    does not match): PyMySQL reports it as error 2003, like a server that is down, but
    reconnecting cannot help and it must not pass for a lost connection."""
    return isinstance(exc, ssl.SSLError) or isinstance(
        getattr(exc, "original_exception", None), ssl.SSLError
    )


class ServerError(Exception):
    """An error packet from the server on the dump connection."""

    def __init__(self, errno: int, message: str):
        super().__init__(errno, message)
        self.errno = errno
        self.message = message

    def __str__(self) -> str:
        return f"({self.errno}) {self.message}"


class StreamLost(Exception):
    """The dump connection closed, ended or went silent; reconnecting may help."""


def _error_from_payload(payload: bytes) -> ServerError:
    errno = int.from_bytes(payload[1:3], "little")
    rest = payload[3:]
    if rest[:1] == b"#":
        rest = rest[6:]
    return ServerError(errno, rest.decode("utf-8", "replace"))


def dump_charset(charsets: str) -> str:
    """The first of the ``charset`` option's character sets the driver knows; the dump
    itself carries bytes, so only the few statements before it use it."""
    for charset, _collation in parse_charsets(charsets):
        if pymysql.charset.charset_by_name(charset) is not None:
            return charset
    return "utf8mb4"


class DumpConnection:
    """One COM_BINLOG_DUMP session; :meth:`next_event` yields raw event bytes."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        server_id: int,
        heartbeat: float = 1.0,
        connect_timeout: float = 10.0,
    ):
        self.spec = spec
        self.server_id = server_id
        self.heartbeat = heartbeat
        self.connect_timeout = connect_timeout
        self.checksum_len = 0
        self.server_version = ""
        self._conn: Any = None
        self._sock: socket.socket | None = None
        self._buf = b""
        self._pos = 0
        self._last_data = 0.0
        # Silence for longer than this means the link is dead: the server sends a
        # heartbeat every ``heartbeat`` seconds when it has nothing else to send.
        self.dead_after = max(5.0, heartbeat * 5)

    def open(self, start: BinlogPosition, *, by_gtid: bool = False) -> None:
        """Connect and ask for the binlog from ``start`` (its GTID position when
        ``by_gtid``). Raises pymysql / OS errors."""
        spec = self.spec
        kwargs: dict[str, Any] = {
            "host": spec.host,
            "port": spec.port,
            "user": spec.user,
            "password": spec.password,
            "charset": dump_charset(spec.charset),
            "autocommit": True,
            "connect_timeout": spec.timeout or self.connect_timeout,
        }
        if spec.socket:
            kwargs["unix_socket"] = spec.socket
        if spec.init_command:
            kwargs["init_command"] = spec.init_command
        # The same transport as the engine's other sessions: PyMySQL's own default would
        # try TLS without verifying anything whenever the server offers it.
        if spec.tls is None:
            kwargs["ssl_disabled"] = True
        else:
            kwargs["ssl"] = spec.tls.ssl_context()
        conn = pymysql.connect(**kwargs)
        self._conn = conn
        try:
            if spec.tls is not None:
                require_encrypted(conn, spec, pymysql.err.OperationalError)
            cur = conn.cursor()
            cur.execute("SELECT @@GLOBAL.binlog_checksum, VERSION()")
            checksum, version = cur.fetchone()
            self.server_version = str(version)
            self.checksum_len = 0 if str(checksum).upper() == "NONE" else 4
            cur.execute("SET @master_binlog_checksum = @@GLOBAL.binlog_checksum")
            cur.execute("SET @master_heartbeat_period = %s", (int(self.heartbeat * 1e9),))
            cur.execute("SET @mariadb_slave_capability = 4")
            if by_gtid:
                payload = self._gtid_request(cur, start)
            else:
                payload = (
                    bytes((COM_BINLOG_DUMP,))
                    + struct.pack("<IHI", start.pos, 0, self.server_id)
                    + start.file.encode()
                )
            cur.close()
            sock: socket.socket = conn._sock
            sock.settimeout(None)
            sock.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)
        except BaseException:
            self.close()
            raise
        self._sock = sock
        self._buf = b""
        self._pos = 0
        self._last_data = time.monotonic()

    def _gtid_request(self, cur: Any, start: BinlogPosition) -> bytes:
        mariadb = "mariadb" in self.server_version.lower()
        server_gtid = ""
        if mariadb:
            cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
            server_gtid = str(cur.fetchone()[0] or "")
        statements, payload = dump_request(
            start, server_id=self.server_id, mariadb=mariadb, server_gtid=server_gtid
        )
        for sql, params in statements:
            cur.execute(sql, params or None)
        return payload

    def _fill(self, deadline: float) -> bool:
        """Receive more bytes; False when ``deadline`` passed with nothing new."""
        sock = self._sock
        if sock is None:
            raise StreamLost("the dump connection is closed")
        ready, _, _ = select.select([sock], [], [], max(deadline - time.monotonic(), 0.0))
        if not ready:
            silent = time.monotonic() - self._last_data
            if silent > self.dead_after:
                raise StreamLost(
                    f"no data (not even a heartbeat) from the server for {silent:.0f}s"
                )
            return False
        try:
            chunk = sock.recv(RECV_SIZE)
        except OSError as exc:
            raise StreamLost(f"reading the binlog failed: {exc}") from exc
        if not chunk:
            raise StreamLost("the server closed the binlog connection")
        self._last_data = time.monotonic()
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def next_events(self, deadline: float) -> list[bytes]:
        """Every complete event already received (waiting until ``deadline`` for one).

        The batch form of :meth:`next_event`: one call per received chunk rather than per
        event. An error or end packet after good events is raised on the next call.
        """
        first = self.next_event(deadline)
        if first is None:
            return []
        out = [first]
        append = out.append
        buf = self._buf
        pos = self._pos
        end = len(buf)
        while end - pos >= 4:
            n = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            if end - pos < n + 4 or n >= MAX_PACKET or buf[pos + 4]:
                break
            append(buf[pos + 5 : pos + 4 + n])
            pos += 4 + n
        self._pos = pos
        return out

    def next_event(self, deadline: float) -> bytes | None:
        """The next event (header + body + checksum), or None once ``deadline`` passed.

        A ``deadline`` in the past means "only what is already available".
        """
        while True:
            buf = self._buf
            pos = self._pos
            avail = len(buf) - pos
            if avail >= 4:
                n = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
                if avail >= n + 4 and n < MAX_PACKET:
                    self._pos = pos + 4 + n
                    kind = buf[pos + 4]
                    if kind == 0:
                        return buf[pos + 5 : pos + 4 + n]
                    return self._special(buf[pos + 4 : pos + 4 + n])
                if n == MAX_PACKET:
                    payload = self._long_payload(deadline)
                    if payload is None:
                        return None
                    if payload[0] == 0:
                        return payload[1:]
                    return self._special(payload)
            if not self._fill(deadline):
                return None

    def _long_payload(self, deadline: float) -> bytes | None:
        """Join a payload split over several 16 MiB packets, once all have arrived.

        Offsets are kept relative to ``self._pos`` because :meth:`_fill` compacts the
        buffer; on a timeout nothing is consumed and the next call scans again.
        """
        parts: list[bytes] = []
        rel = 0
        while True:
            buf, base = self._buf, self._pos
            pos = base + rel
            if len(buf) - pos >= 4:
                n = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
                if len(buf) - pos >= n + 4:
                    parts.append(buf[pos + 4 : pos + 4 + n])
                    rel += 4 + n
                    if n < MAX_PACKET:
                        self._pos = base + rel
                        return b"".join(parts)
                    continue
            if not self._fill(deadline):
                return None

    def _special(self, payload: bytes) -> bytes | None:
        if payload[0] == 0xFF:
            raise _error_from_payload(payload)
        if payload[0] == 0xFE:
            raise StreamLost("the server ended the binlog stream")
        raise StreamLost(f"unexpected replication packet type 0x{payload[0]:02x}")

    def shutdown(self) -> None:
        """Wake a thread blocked on this connection (it will see the link closed)."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        conn, self._conn, self._sock = self._conn, None, None
        if conn is not None:
            sock = getattr(conn, "_sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
            conn._sock = None
            conn._rfile = None
