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

This module is the dispatcher and the command handlers; the socket plumbing
(``socket.py``), the command language (``commands.py``) and the status texts
(``status.py``) live next to it; ``client.py`` is the other end of the socket.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from ..context import MigrationContext
from ..errors import ConfigError
from ..hooks import Hooks, NoopHooks
from ..option_syntax import format_load, parse_load
from ..progress import ProgressSnapshot
from .commands import (
    KNOB_RANGES,
    Command,
    CommandRefused,
    Handler,
    any_text,
    article,
    check_replicas,
    check_url,
    parse_command_line,
)
from .socket import (
    SocketListeners,
)
from .status import format_hint_block, format_status_json, format_status_line, position_text, yes_no

logger = logging.getLogger("django_ghost")


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
        metrics_text: Callable[[], str] | None = None,
    ):
        self.context = context
        self.snapshot = snapshot
        self.hooks: Hooks = hooks or NoopHooks()
        self.applier_info = applier_info or (lambda: "unknown")
        self.inspector_info = inspector_info or (lambda: "unknown")
        self.status_line = status_line
        self.flag_files = dict(flag_files or {})
        self.postpone_flag_file = postpone_flag_file
        self.force_named_cut_over = force_named_cut_over
        self.force_named_panic = force_named_panic
        self.metrics_text = metrics_text
        self.commands = self._command_table()
        self._by_name = {name: cmd for cmd in self.commands for name in cmd.names}
        self.listeners = SocketListeners(
            socket_path,
            self.handle,
            tcp_port=tcp_port,
            tcp_host=tcp_host,
            drop_stale_socket=drop_stale_socket,
            read_timeout_seconds=read_timeout_seconds,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the unix socket (and TCP port if asked) and serve on a daemon thread."""
        self.listeners.start()

    def close(self) -> None:
        """Stop serving and remove the socket file (only if it is still ours)."""
        self.listeners.close()

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        """(host, port) actually bound, or None without a TCP listener."""
        return self.listeners.tcp_address

    def describe_listeners(self) -> str:
        return self.listeners.describe_listeners()

    # -- dispatching -----------------------------------------------------------------------

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
            Command(("metrics",), self._metrics, "every metric, in the Prometheus text format"),
            Command(("coordinates",), self._coordinates, "binlog coordinates read and applied"),
            Command(("applier",), self._server_info(self.applier_info), "the applier server"),
            Command(("inspector",), self._server_info(self.inspector_info), "the inspector"),
            knob("chunk-size", "chunk_size", int, "rows per copy chunk"),
            knob("dml-batch-size", "dml_batch_size", int, "binlog events per apply batch"),
            knob("max-lag-millis", "max_lag_millis", int, "throttle above this lag"),
            knob("nice-ratio", "nice_ratio", float, "sleep this x chunk time after each chunk"),
            load("max-load", "max_load", "throttle when status Var>=N (Var=N,...)"),
            load("critical-load", "critical_load", "abort when status Var>=N (Var=N,...)"),
            text("throttle-query", "throttle_query", any_text, "SQL; a result > 0 throttles"),
            text("throttle-http", "throttle_http", check_url, "URL; a non-200 HEAD throttles"),
            text(
                "throttle-control-replicas",
                "throttle_control_replicas",
                check_replicas,
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
        return format_hint_block(
            self.context,
            applier=self.applier_info(),
            inspector=self.inspector_info(),
            flag_files=self.flag_files,
            postpone_flag_file=self.postpone_flag_file,
            listeners=self.describe_listeners(),
        )

    def _status_json(self, arg: str | None) -> str:
        return format_status_json(self.snapshot(), self.context)

    def _metrics(self, arg: str | None) -> str:
        if arg not in (None, "?"):
            raise CommandRefused("metrics are read-only")
        if self.metrics_text is None:
            raise CommandRefused("no metrics are kept for this migration")
        return self.metrics_text()

    def _coordinates(self, arg: str | None) -> str:
        if arg not in (None, "?"):
            raise CommandRefused("coordinates are read-only")
        ctx = self.context
        streamer = position_text(ctx.streamer_position)
        applied = position_text(ctx.applied_position)
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
                raise CommandRefused(f"{name}={arg!r} is not {article(kind)}") from None
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
            return yes_no(self.context.knobs.forced_throttle)
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
        self.context.request_abort(
            "user commanded 'panic'; aborting (helper tables dropped, original untouched)"
        )
        return "ok: panic; the migration is aborting (helper tables dropped, original untouched)"

    def _deprecated(self, arg: str | None) -> str:
        raise CommandRefused("replication-lag-query is deprecated: lag is measured by heartbeat")
