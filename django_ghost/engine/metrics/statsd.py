"""The StatsD sender: DogStatsD lines over UDP or a unix datagram socket, as gh-ost sends.

A line is ``gh_ost.<name>:<value>|<g|c|h>|#<tag>:<value>,...``: gh-ost's namespace and
names (catalogue.py), then the global tags (``statsd_tags``, the database and the table)
and the record's own. Lines are buffered and sent at each :meth:`StatsdClient.flush`
(every second, by control/metrics.py) packed into as few datagrams as fit. Sending never
fails the migration: a StatsD daemon that is down loses the metrics, nothing else.
"""

from __future__ import annotations

import collections
import logging
import math
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..errors import ConfigError
from .emitter import Tags

log = logging.getLogger("django_ghost")

UDP_PAYLOAD = 1432
"""Bytes per UDP datagram: fits an Ethernet MTU unfragmented (DogStatsD's default)."""
UNIX_PAYLOAD = 8192
MAX_BUFFERED_LINES = 10_000

KIND_SUFFIX = {"gauge": "g", "counter": "c", "histogram": "h"}
_RESERVED = str.maketrans({c: "_" for c in "|,#\n\r"})


def format_value(value: float) -> str | None:
    """A number as StatsD reads it: no exponent; None for NaN and infinities."""
    number = float(value)
    if not math.isfinite(number):
        return None
    if number.is_integer():
        return str(int(number))
    text = f"{number:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def format_tags(tags: Iterable[tuple[str, str]]) -> str:
    """``k:v,k:v``; characters the line format reserves become ``_``."""
    return ",".join(f"{k}:{v}".translate(_RESERVED) for k, v in tags)


def format_line(
    namespace: str,
    name: str,
    value: float,
    kind: str,
    tags: Iterable[tuple[str, str]] = (),
) -> str | None:
    """One DogStatsD line, or None when the value cannot be sent."""
    text = format_value(value)
    if text is None:
        return None
    line = f"{namespace}{name}:{text}|{KIND_SUFFIX[kind]}"
    tag_text = format_tags(tags)
    return f"{line}|#{tag_text}" if tag_text else line


def pack(lines: Iterable[str], limit: int) -> Iterator[bytes]:
    """Newline-separated payloads of at most ``limit`` bytes (a longer line goes alone)."""
    payload = b""
    for line in lines:
        data = line.encode()
        if payload and len(payload) + 1 + len(data) > limit:
            yield payload
            payload = b""
        payload = payload + b"\n" + data if payload else data
    if payload:
        yield payload


Destination = tuple[Any, ...] | str


def resolve(address: tuple[str, int] | str) -> tuple[int, Destination]:
    """(socket family, destination) of a parsed ``statsd_addr``; ConfigError when the host
    does not resolve."""
    if isinstance(address, str):
        return socket.AF_UNIX, address
    host, port = address
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise ConfigError(
            f"statsd-addr {host}:{port}: cannot resolve {host!r} ({exc}); give an address "
            "that resolves, or leave statsd_addr empty to turn StatsD off."
        ) from None
    family, _, _, _, sockaddr = info[0]
    return family, tuple(sockaddr)


class StatsdClient:
    """Buffers DogStatsD lines and sends them on :meth:`flush`."""

    def __init__(
        self,
        address: tuple[str, int] | str,
        *,
        tags: Sequence[tuple[str, str]] = (),
        namespace: str,
    ):
        self.family, self.destination = resolve(address)
        self.namespace = namespace
        self.tags = tuple(tags)
        self.limit = UNIX_PAYLOAD if self.family == socket.AF_UNIX else UDP_PAYLOAD
        # Opened at the first flush: a client that never sends holds no socket.
        self._sock: socket.socket | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=MAX_BUFFERED_LINES)
        self._lock = threading.Lock()
        self._warned = False
        self.sent = 0
        """Datagrams sent."""

    def _add(self, name: str, value: float, kind: str, tags: Tags | None) -> None:
        line = format_line(
            self.namespace, name, value, kind, self.tags + tuple((tags or {}).items())
        )
        if line is not None:
            with self._lock:
                self._lines.append(line)

    def gauge(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._add(name, value, "gauge", tags)

    def count(self, name: str, value: float = 1, tags: Tags | None = None) -> None:
        self._add(name, value, "counter", tags)

    def histogram(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._add(name, value, "histogram", tags)

    def flush(self) -> None:
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
        for payload in pack(lines, self.limit):
            try:
                if self._sock is None:
                    self._sock = socket.socket(self.family, socket.SOCK_DGRAM)
                    self._sock.setblocking(False)
                self._sock.sendto(payload, self.destination)
                self.sent += 1
            except OSError as exc:
                # Down or full: the metrics are lost, the migration goes on.
                if not self._warned:
                    self._warned = True
                    log.warning("statsd: cannot send to %s: %s", self.destination, exc)

    def close(self) -> None:
        self.flush()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
