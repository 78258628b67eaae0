"""The control socket's client: send one command line, read the whole reply.

The server answers one line per connection and closes it (server.py), so the reply ends
where the stream does. Used by ``manage.py ghost_ctl``, the tests and ``bench/``.
"""

from __future__ import annotations

import socket

REPLY_TIMEOUT_SECONDS = 5.0


def send(path: str, line: str, timeout: float = REPLY_TIMEOUT_SECONDS) -> str:
    """Send ``line`` to the unix socket at ``path`` and return the reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(line.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")
