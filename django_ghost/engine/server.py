"""The control socket: operators inspect and steer a running migration (gh-ost's
interactive commands).

A unix socket is always served (mode 0600: only our user may steer the migration); a TCP
listener is optional and binds to loopback unless told otherwise. Each connection sends
one line, ``command`` or ``command=argument`` (``argument`` may be quoted; ``?`` reads
the current value), gets a reply and is closed: ``echo 'chunk-size=500' | nc -U sock``.

Commands live in one dispatch table (names, handler, help line). Setters validate their
argument with the same ranges as GhostConfig, change ``context.knobs`` and reply with
the new value; the copy, apply and throttle loops read the knobs at each step. Anything
unknown or malformed gets an ``error: ...`` line, never an exception escaping the server.
The ``interactive-command`` hook runs before every command and vetoes it by failing.

Connections are served one at a time on one daemon thread: commands never race each
other, and a slow client is cut off by the read timeout.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import logging
import os
import selectors
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .context import MigrationContext
from .errors import ConfigError, GhostError
from .hooks import Hooks, NoopHooks
from .progress import ProgressSnapshot
from .throttler import format_load, parse_load, parse_replicas

logger = logging.getLogger("django_ghost")

# Longer than our ~500-line guideline: most of it is the dispatch table and one small
# handler per command, which read best side by side; the socket code is the rest.

# Options the lead adds to GhostConfig for the control socket (name, type, default, check):
SERVER_OPTIONS = """
serve_socket_file: str = ""            # "" = default_socket_path(database, table); < 108 bytes
initially_drop_socket_file: bool = False   # remove a stale socket (never a live one) at start
serve_tcp_port: int = 0                # 0 = no TCP listener; 0..65535
serve_tcp_host: str = "127.0.0.1"      # loopback by default; anything else is logged as a risk
force_named_cut_over: bool = False     # unpostpone/cut-over must say =<table>
force_named_panic: bool = False        # panic must say =<table>
postpone_cut_over_flag_file: str = ""  # removed by `unpostpone` (see docs/interactive-commands.md)
"""

# Same ranges as GhostConfig.validate (chunk_size, dml_batch_size, max_lag_millis, nice_ratio).
KNOB_RANGES: dict[str, tuple[float, float]] = {
    "chunk_size": (10, 100_000),
    "dml_batch_size": (1, 10_000),
    "max_lag_millis": (100, 3_600_000),
    "nice_ratio": (0.0, 100.0),
}

# sun_path is 108 bytes on Linux including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107
MAX_LINE_BYTES = 64 * 1024

# os.umask is process-wide: two threads binding sockets at once must not interleave.
_UMASK_LOCK = threading.Lock()


class ControlSocketError(GhostError):
    """The control socket cannot be served at the requested path or port."""


class CommandRefused(Exception):
    """A command was malformed or not allowed now; the text is sent back after 'error: '."""


Handler = Callable[[str | None], str]


@dataclasses.dataclass(frozen=True)
class Command:
    """One entry of the dispatch table: every name it answers to, its handler, its help."""

    names: tuple[str, ...]
    handler: Handler
    help: str


def default_socket_path(database: str, table: str) -> str:
    """``/tmp/django-ghost.<db>.<table>.sock`` (gh-ost uses ``/tmp/gh-ost.<db>.<table>.sock``).

    Names too long for a unix socket path (107 bytes) become a stable hash of both names.
    """
    path = f"/tmp/django-ghost.{database}.{table}.sock"
    if len(path.encode()) <= MAX_SOCKET_PATH_BYTES:
        return path
    digest = hashlib.sha1(f"{database}.{table}".encode()).hexdigest()[:16]
    return f"/tmp/django-ghost.{digest}.sock"


def format_status_line(snap: ProgressSnapshot) -> str:
    """gh-ost's one-line status: copy progress, applied events, lag, state and ETA."""
    state = f"throttled, {snap.throttle_reason}" if snap.throttle_reason else snap.phase
    lag = "n/a" if snap.lag_seconds is None else f"{snap.lag_seconds:.2f}s"
    eta = "n/a" if snap.eta_seconds is None else f"{snap.eta_seconds:.0f}s"
    return (
        f"Copy: {snap.rows_copied}/{snap.rows_estimate} {snap.percent:.1f}%; "
        f"Applied: {snap.events_applied}; Backlog: {snap.backlog}; "
        f"Time: {snap.elapsed_seconds:.0f}s; Rate: {snap.rows_per_second:.0f} rows/s; "
        f"Lag: {lag}; State: {state}; ETA: {eta}"
    )


def unquote(arg: str) -> str:
    """Strip one pair of matching quotes, as gh-ost unquotes a quoted argument."""
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'`":
        return arg[1:-1]
    return arg


def parse_command_line(line: str) -> tuple[str, str | None]:
    """``"chunk-size = 500"`` -> ``("chunk-size", "500")``; no ``=`` -> argument None."""
    name, sep, arg = line.strip().partition("=")
    return name.strip().lower(), (unquote(arg.strip()) if sep else None)


class ControlServer:
    """Serves the interactive commands for one migration."""

    def __init__(
        self,
        context: MigrationContext,
        snapshot: Callable[[], ProgressSnapshot],
        *,
        socket_path: str,
        tcp_port: int = 0,
        tcp_host: str = "127.0.0.1",
        drop_stale_socket: bool = False,
        hooks: Hooks | None = None,
        applier_info: Callable[[], str] | None = None,
        inspector_info: Callable[[], str] | None = None,
        status_line: Callable[[ProgressSnapshot], str] = format_status_line,
        flag_files: Mapping[str, str] | None = None,
        postpone_flag_file: str = "",
        force_named_cut_over: bool = False,
        force_named_panic: bool = False,
        read_timeout_seconds: float = 2.0,
    ):
        self.context = context
        self.snapshot = snapshot
        self.socket_path = socket_path
        self.tcp_port = tcp_port
        self.tcp_host = tcp_host
        self.drop_stale_socket = drop_stale_socket
        self.hooks: Hooks = hooks or NoopHooks()
        self.applier_info = applier_info or (lambda: "unknown")
        self.inspector_info = inspector_info or (lambda: "unknown")
        self.status_line = status_line
        self.flag_files = dict(flag_files or {})
        self.postpone_flag_file = postpone_flag_file
        self.force_named_cut_over = force_named_cut_over
        self.force_named_panic = force_named_panic
        self.read_timeout_seconds = read_timeout_seconds
        self.commands = self._command_table()
        self._by_name = {name: cmd for cmd in self.commands for name in cmd.names}
        self._listeners: list[socket.socket] = []
        self._socket_identity: tuple[int, int] | None = None
        self._closing = threading.Event()
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
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
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
            while not self._closing.is_set():
                for key, _ in selector.select(timeout=0.1):
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

    def handle(self, line: str) -> str:
        """Answer one command line; always returns text ending in a newline."""
        try:
            reply = self._dispatch(line.strip().rstrip("\r"))
        except CommandRefused as exc:
            reply = f"error: {exc}"
        except Exception as exc:  # a bug must not take the control socket down
            logger.exception("control command %r failed", line)
            reply = f"error: internal error: {exc}"
        return reply if reply.endswith("\n") else reply + "\n"

    def _dispatch(self, line: str) -> str:
        if not line:
            raise CommandRefused("empty command; try 'help'")
        name, arg = parse_command_line(line)
        try:
            self.hooks.fire("interactive-command", {"GHOST_COMMAND": line})
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CommandRefused(f"refused by the interactive-command hook: {first}") from None
        command = self._by_name.get(name)
        if command is None:
            raise CommandRefused(f"unknown command: {name!r}; try 'help'")
        logger.info("control command: %s", line)
        return command.handler(arg)

    # -- the dispatch table ----------------------------------------------------------------

    def _command_table(self) -> list[Command]:
        knob = self._knob_command
        load = self._load_command
        text = self._text_command
        return [
            Command(("help",), self._help, "this list"),
            Command(("status", "info"), self._status, "settings and the status line"),
            Command(("sup",), self._sup, "the status line only"),
            Command(("status-json",), self._status_json, "status as one JSON object"),
            Command(("coordinates",), self._coordinates, "binlog coordinates read and applied"),
            Command(("applier",), self._server_info(self.applier_info), "the applier server"),
            Command(("inspector",), self._server_info(self.inspector_info), "the inspector"),
            knob("chunk-size", "chunk_size", int, "rows per copy chunk"),
            knob("dml-batch-size", "dml_batch_size", int, "binlog events per apply batch"),
            knob("max-lag-millis", "max_lag_millis", int, "throttle above this lag"),
            knob("nice-ratio", "nice_ratio", float, "sleep this x chunk time after each chunk"),
            load("max-load", "max_load", "throttle when status Var>=N (Var=N,...)"),
            load("critical-load", "critical_load", "abort when status Var>=N (Var=N,...)"),
            text("throttle-query", "throttle_query", _any_text, "SQL; a result > 0 throttles"),
            text("throttle-http", "throttle_http", _check_url, "URL; a non-200 HEAD throttles"),
            text(
                "throttle-control-replicas",
                "throttle_control_replicas",
                _check_replicas,
                "host[:port],... whose lag throttles",
            ),
            Command(("throttle", "pause", "suspend"), self._throttle, "force throttling"),
            Command(
                ("no-throttle", "unthrottle", "resume", "continue"),
                self._no_throttle,
                "end forced throttling",
            ),
            Command(
                ("unpostpone", "no-postpone", "cut-over"),
                self._unpostpone,
                "let the cut-over proceed (removes the postpone flag file)",
            ),
            Command(("panic",), self._panic, "abort now, leaving the ghost tables in place"),
            Command(("replication-lag-query",), self._deprecated, "deprecated (always an error)"),
        ]

    def _help(self, arg: str | None) -> str:
        lines = ["available commands (command, command=value, command=? reads):"]
        for cmd in self.commands:
            lines.append(f"  {', '.join(cmd.names):<40} {cmd.help}")
        return "\n".join(lines)

    def _sup(self, arg: str | None) -> str:
        return self.status_line(self.snapshot())

    def _status(self, arg: str | None) -> str:
        return self.hint_block() + "\n" + self.status_line(self.snapshot())

    def hint_block(self) -> str:
        """gh-ost's "hint" block: what is migrated where, and every live setting."""
        config, knobs = self.context.config, self.context.knobs
        lines = [
            f"# Migrating `{config.database}`.`{config.table}`",
            f"# Applier: {self.applier_info()}; inspector: {self.inspector_info()}",
            f"# Running for {self.context.elapsed():.0f}s; phase: {self.context.phase}",
            f"# chunk-size: {knobs.chunk_size}; max-lag-millis: {knobs.max_lag_millis}ms;"
            f" dml-batch-size: {knobs.dml_batch_size}; nice-ratio: {knobs.nice_ratio:g}",
            f"# max-load: {knobs.max_load or '-'}; critical-load: {knobs.critical_load or '-'}",
            f"# throttle-query: {knobs.throttle_query or '-'};"
            f" throttle-http: {knobs.throttle_http or '-'};"
            f" throttle-control-replicas: {knobs.throttle_control_replicas or '-'}",
            f"# forced throttle: {_yes_no(knobs.forced_throttle)};"
            f" postpone cut-over: {_yes_no(knobs.postpone_cut_over)}",
        ]
        files = dict(self.flag_files)
        if self.postpone_flag_file:
            files["postpone-cut-over-flag-file"] = self.postpone_flag_file
        for label, path in files.items():
            if path:
                lines.append(f"# {label}: {path}{' [set]' if os.path.exists(path) else ''}")
        lines.append(f"# Serving on {self.describe_listeners()}")
        return "\n".join(lines)

    def _status_json(self, arg: str | None) -> str:
        data = self.snapshot().as_dict()
        ctx = self.context
        data["knobs"] = dataclasses.asdict(ctx.knobs)
        data["throttled"] = data.get("throttle_reason") is not None
        data["abort_reason"] = ctx.abort_reason
        data["streamer_position"] = _position(ctx.streamer_position)
        data["applied_position"] = _position(ctx.applied_position)
        data["cut_over_attempts"] = ctx.cut_over_attempts
        return json.dumps(data, sort_keys=True, default=str)

    def _coordinates(self, arg: str | None) -> str:
        if arg not in (None, "?"):
            raise CommandRefused("coordinates are read-only")
        ctx = self.context
        streamer, applied = _position(ctx.streamer_position), _position(ctx.applied_position)
        return f"streamer: {streamer or 'n/a'}; applied: {applied or 'n/a'}"

    def _server_info(self, describe: Callable[[], str]) -> Handler:
        def handler(arg: str | None) -> str:
            if arg not in (None, "?"):
                raise CommandRefused("this command is read-only")
            return describe()

        return handler

    def _knob_command(
        self, name: str, attr: str, kind: type[int] | type[float], help_text: str
    ) -> Command:
        low, high = KNOB_RANGES[attr]

        def handler(arg: str | None) -> str:
            if arg == "?":
                return f"{getattr(self.context.knobs, attr):g}"
            if not arg:
                raise CommandRefused(f"{name} needs a value: {name}=<value> or {name}=?")
            try:
                value = kind(arg)
            except ValueError:
                raise CommandRefused(f"{name}={arg!r} is not {_article(kind)}") from None
            if not low <= value <= high:
                raise CommandRefused(f"{name}={arg} is out of range; allowed {low:g}..{high:g}")
            self._set_knob(attr, value)
            return f"ok: {name}={value:g}"

        return Command((name,), handler, f"{help_text} ({low:g}..{high:g})")

    def _load_command(self, name: str, attr: str, help_text: str) -> Command:
        def check(value: str) -> str:
            try:
                return format_load(parse_load(value, name=name))
            except ConfigError as exc:
                raise CommandRefused(str(exc)) from None

        return self._text_command(name, attr, check, help_text)

    def _text_command(
        self, name: str, attr: str, check: Callable[[str], str], help_text: str
    ) -> Command:
        def handler(arg: str | None) -> str:
            if arg == "?":
                return str(getattr(self.context.knobs, attr))
            if arg is None:
                raise CommandRefused(f"{name} needs a value: {name}=<value>, {name}= or {name}=?")
            value = check(arg)
            self._set_knob(attr, value)
            return f"ok: {name}={value}" if value else f"ok: {name} cleared"

        return Command((name,), handler, help_text)

    def _set_knob(self, attr: str, value: object) -> None:
        with self.context.lock:
            setattr(self.context.knobs, attr, value)

    def _check_table(self, command: str, arg: str | None, required: bool) -> None:
        table = self.context.config.table
        if arg is None or arg == "":
            if required:
                raise CommandRefused(f"{command} must name the table: {command}={table}")
            return
        if arg != table:
            raise CommandRefused(f"{command}={arg}: this migration is of table {table!r}")

    def _throttle(self, arg: str | None) -> str:
        if arg == "?":
            return _yes_no(self.context.knobs.forced_throttle)
        self._check_table("throttle", arg, required=False)
        self._set_knob("forced_throttle", True)
        return "ok: throttled by user command"

    def _no_throttle(self, arg: str | None) -> str:
        self._check_table("no-throttle", arg, required=False)
        self._set_knob("forced_throttle", False)
        return "ok: forced throttling ended"

    def _unpostpone(self, arg: str | None) -> str:
        self._check_table("unpostpone", arg, required=self.force_named_cut_over)
        self._set_knob("postpone_cut_over", False)
        path = self.postpone_flag_file
        if path and os.path.lexists(path):
            if not os.path.isfile(path) or os.path.islink(path):
                raise CommandRefused(f"postpone flag file {path!r} is not a regular file")
            os.unlink(path)
            return f"ok: cut-over no longer postponed; removed {path}"
        return "ok: cut-over no longer postponed"

    def _panic(self, arg: str | None) -> str:
        self._check_table("panic", arg, required=self.force_named_panic)
        self.context.request_abort("user commanded 'panic'; aborting without cleanup")
        return "ok: panic; the migration is aborting without cleanup"

    def _deprecated(self, arg: str | None) -> str:
        raise CommandRefused("replication-lag-query is deprecated: lag is measured by heartbeat")


def _any_text(value: str) -> str:
    return value


def _check_url(value: str) -> str:
    if value and not value.lower().startswith(("http://", "https://")):
        raise CommandRefused(f"throttle-http={value!r} must start with http:// or https://")
    return value


def _check_replicas(value: str) -> str:
    try:
        replicas = parse_replicas(value)
    except ConfigError as exc:
        raise CommandRefused(str(exc)) from None
    return ",".join(f"{host}:{port}" for host, port in replicas)


def _position(position: Any) -> str | None:
    return None if position is None else str(position)


def _yes_no(flag: bool) -> str:
    return "true" if flag else "false"


def _article(kind: type) -> str:
    return "an integer" if kind is int else "a number"


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
