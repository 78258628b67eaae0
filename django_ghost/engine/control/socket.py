"""The control socket's plumbing: binding the unix socket (and optional TCP port) safely,
serving one line per connection on a daemon thread, and removing the socket file after.

What a line means is not decided here: every line goes to the ``handle`` callable given,
and its reply is sent back. Connections are served one at a time on one daemon thread:
commands never race each other, and a slow client is cut off by the read timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import os
import selectors
import socket
import stat
import threading
from collections.abc import Callable

from ..errors import GhostError

logger = logging.getLogger("django_ghost")

# sun_path is 108 bytes on Linux including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107
MAX_LINE_BYTES = 64 * 1024

# os.umask is process-wide: two threads binding sockets at once must not interleave.
_UMASK_LOCK = threading.Lock()


class ControlSocketError(GhostError):
    """The control socket cannot be served at the requested path or port."""


def default_socket_path(database: str, table: str) -> str:
    """``/tmp/django-ghost.<db>.<table>.sock`` (gh-ost uses ``/tmp/gh-ost.<db>.<table>.sock``).

    Names too long for a unix socket path (107 bytes) become a stable hash of both names.
    """
    path = f"/tmp/django-ghost.{database}.{table}.sock"
    if len(path.encode()) <= MAX_SOCKET_PATH_BYTES:
        return path
    digest = hashlib.sha1(f"{database}.{table}".encode()).hexdigest()[:16]
    return f"/tmp/django-ghost.{digest}.sock"


class SocketListeners:
    """The unix socket (always) and TCP listener (optional) of one control server."""

    def __init__(
        self,
        socket_path: str,
        handle: Callable[[str], str],
        *,
        tcp_port: int = 0,
        tcp_host: str = "127.0.0.1",
        drop_stale_socket: bool = False,
        read_timeout_seconds: float = 2.0,
    ):
        self.socket_path = socket_path
        self.handle = handle
        self.tcp_port = tcp_port
        self.tcp_host = tcp_host
        self.drop_stale_socket = drop_stale_socket
        self.read_timeout_seconds = read_timeout_seconds
        self._listeners: list[socket.socket] = []
        self._socket_identity: tuple[int, int] | None = None
        self._closing = threading.Event()
        # Wakes the serving thread's select at close: without it a run's clean-up
        # waited out the select's timeout.
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the unix socket (and TCP port if asked) and serve on a daemon thread."""
        try:
            self._listeners.append(self._bind_unix())
            if self.tcp_port:
                self._listeners.append(self._bind_tcp())
        except BaseException:
            self.close()
            raise
        self._thread = threading.Thread(target=self._serve, name="ghost-control", daemon=True)
        self._thread.start()
        logger.info("serving interactive commands on %s", self.describe_listeners())

    def close(self) -> None:
        """Stop serving and remove the socket file (only if it is still ours)."""
        self._closing.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._wake_r.close()
        self._wake_w.close()
        for listener in self._listeners:
            listener.close()
        self._listeners.clear()
        if self._socket_identity is not None:
            try:
                st = os.lstat(self.socket_path)
                if (st.st_dev, st.st_ino) == self._socket_identity:
                    os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
            self._socket_identity = None

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        """(host, port) actually bound, or None without a TCP listener."""
        for listener in self._listeners:
            if listener.family in (socket.AF_INET, socket.AF_INET6):
                host, port = listener.getsockname()[:2]
                return str(host), int(port)
        return None

    def describe_listeners(self) -> str:
        tcp = self.tcp_address
        return f"unix socket {self.socket_path}" + (f", TCP {tcp[0]}:{tcp[1]}" if tcp else "")

    def _bind_unix(self) -> socket.socket:
        path = self.socket_path
        if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
            raise ControlSocketError(
                f"Socket path {path!r} is longer than {MAX_SOCKET_PATH_BYTES} bytes, the limit"
                " for unix sockets; choose a shorter serve_socket_file."
            )
        self._clear_path(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # bind() creates the file with the process umask: make it 0600 from the first
            # instant rather than chmod-ing a world-writable socket afterwards.
            with _UMASK_LOCK:
                old = os.umask(0o177)
                try:
                    sock.bind(path)
                finally:
                    os.umask(old)
            os.chmod(path, 0o600)
            st = os.lstat(path)
            if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
                raise ControlSocketError(f"{path!r} was replaced while binding; refusing it.")
            self._socket_identity = (st.st_dev, st.st_ino)
            sock.listen(16)
        except OSError as exc:
            sock.close()
            raise ControlSocketError(f"Cannot serve the control socket {path!r}: {exc}.") from exc
        except BaseException:
            sock.close()
            raise
        return sock

    def _clear_path(self, path: str) -> None:
        """Refuse symlinks and non-sockets; remove a stale socket only when asked to."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise ControlSocketError(
                f"{path!r} is a symbolic link; refusing to follow it. Remove it or choose"
                " another serve_socket_file."
            )
        if not stat.S_ISSOCK(st.st_mode):
            raise ControlSocketError(
                f"{path!r} exists and is not a socket; refusing to remove it. Choose another"
                " serve_socket_file."
            )
        if not self.drop_stale_socket:
            raise ControlSocketError(
                f"Socket {path!r} already exists: another migration may be serving it. If it"
                " is stale, remove it or set initially_drop_socket_file."
            )
        if socket_is_live(path):
            raise ControlSocketError(
                f"Socket {path!r} is served by a running process (another migration of this"
                " table?); it is not stale and was left alone."
            )
        try:
            os.unlink(path)
        except OSError as exc:
            raise ControlSocketError(f"Cannot remove the stale socket {path!r}: {exc}.") from exc
        logger.info("removed stale control socket %s", path)

    def _bind_tcp(self) -> socket.socket:
        host, port = self.tcp_host, self.tcp_port
        if not _is_loopback(host):
            logger.warning(
                "control port %s:%s is reachable from the network: anyone who can connect"
                " can throttle, reconfigure or panic this migration",
                host,
                port,
            )
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            return socket.create_server((host, port), family=family, backlog=16)
        except OSError as exc:
            raise ControlSocketError(f"Cannot listen on TCP {host}:{port}: {exc}.") from exc

    # -- serving ---------------------------------------------------------------------------

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            for listener in self._listeners:
                selector.register(listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._closing.is_set():
                for key, _ in selector.select(timeout=1.0):
                    if key.fileobj is self._wake_r:
                        continue
                    try:
                        conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                    except OSError:
                        continue
                    with conn:
                        self._serve_connection(conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self.read_timeout_seconds)
            data = b""
            while b"\n" not in data and len(data) < MAX_LINE_BYTES:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
            conn.sendall(self.handle(line).encode())
        except OSError as exc:  # client went away or timed out: nothing to answer
            logger.debug("control connection dropped: %s", exc)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def socket_is_live(path: str) -> bool:
    """True when something accepts connections on the unix socket at ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        return False
    else:
        return True
    finally:
        probe.close()
