"""``django-ghost``: the standalone command line, taking gh-ost's flag names.

An existing gh-ost command line should run unchanged::

    django-ghost --host=db1 --user=ghost --ask-pass --database=shop --table=orders \\
        --alter="ADD COLUMN note VARCHAR(100)" --chunk-size=2000 --execute

Every :class:`GhostConfig` field is a flag (``cut_over_lock_timeout_seconds`` →
``--cut-over-lock-timeout-seconds``), read from the dataclass at run time so new engine
options need no change here. Flags are parsed the way gh-ost's Go ``flag`` package does:
``--flag=value``, ``--flag value``, ``-flag`` with one dash, booleans as bare switches or
``--flag=true|false`` (a boolean never takes the next word). gh-ost flags the engine
lacks are refused by name with the reason (:mod:`django_ghost.cli_flags`), so a command
line never half-works.

Without ``--execute`` the engine validates, builds the ghost table, prints the new table
structure and drops it again (gh-ost's noop). Exit codes: 0 success, 1 the migration
failed (the engine's message names cause and remedy), 2 the command line is wrong.

Passwords: ``--password`` works but warns (it is visible in ``ps``); ``--ask-pass``,
``GHOST_PASSWORD`` / ``MYSQL_PWD`` and ``--conf`` (a ``[client]`` option file) keep it off
the command line. Precedence follows the MySQL clients: command line (``--password``,
``--ask-pass``) > ``--conf`` file > ``GHOST_PASSWORD`` > ``MYSQL_PWD``. Nothing printed,
including log records, ever contains it.

This module must not import Django: it is the engine's own front end.
"""

from __future__ import annotations

import dataclasses
import difflib
import getpass
import inspect
import logging
import os
import re
import signal
import stat
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from django_ghost import __version__
from django_ghost.cli_flags import CLI_ONLY_FLAGS, GHOST_FLAGS, OPTION_HELP, PASSWORD_ENVIRONMENT
from django_ghost.engine.config import GhostConfig, merge_layers, parse_bool, parse_value
from django_ghost.engine.errors import ConfigError, GhostError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import ConnectionSpec, connect
from django_ghost.engine.progress import ProgressSnapshot
from django_ghost.engine.result import MigrationResult
from django_ghost.engine.sql.alter import parse_alter
from django_ghost.engine.state.cleanup import drop_leftovers, find_leftovers, format_leftovers

PROG = "django-ghost"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

REDACTED = "********"
MIN_SCRUB_LENGTH = 4
"""Shorter passwords are not scrubbed from output: replacing every "ab" would garble it."""

CUT_OVER_ALIASES = {"": "atomic", "default": "atomic"}
"""gh-ost treats an empty --cut-over and "default" as atomic."""

CONF_KEYS = ("user", "password", "host", "port", "socket")
"""Keys read from an option file's [client] section; the rest of it is for mysql clients."""

CLEANUP_FLAGS: dict[str, tuple[str, str]] = {
    "cleanup": (
        "bool",
        "List the leftovers of interrupted migrations in --database (ghost, changelog and "
        "old tables, stale control sockets); with --table, offer to drop that table's.",
    ),
    "drop-old": ("bool", "With --cleanup: also drop the old (_del) table, which holds data."),
    "yes": ("bool", "With --cleanup: drop without asking for confirmation."),
}
"""Flags of the clean-up mode (docs/reliability.md)."""


class UsageError(Exception):
    """The command line is wrong (exit 2)."""


# -- the flag table -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Flag:
    """One flag: either an engine option or a flag of the command itself."""

    name: str
    kind: str
    """bool, int, float or str."""
    help: str
    group: str
    option: str | None = None
    """The GhostConfig field, None for flags of the command itself."""
    default: Any = None

    @property
    def takes_value(self) -> bool:
        return self.kind != "bool"


def flag_name(option: str) -> str:
    return option.replace("_", "-")


def _field_kind(field: dataclasses.Field[Any]) -> str:
    # Fields are declared under `from __future__ import annotations`, so types are strings.
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    return kind if kind in ("bool", "int", "float") else "str"


def _field_groups() -> dict[str, str]:
    """Option → section title, read from the ``# -- title ---`` comments in config.py.

    The dataclass has no other record of its sections, and reading them here keeps the
    help grouped the way the engine's authors grouped the options, new ones included.
    """
    groups: dict[str, str] = {}
    try:
        source = inspect.getsource(GhostConfig)
    except (OSError, TypeError):
        return groups
    current = "options"
    for line in source.splitlines():
        header = re.match(r"\s*# -- (.+?) -+\s*$", line)
        if header:
            current = header.group(1)
            continue
        declared = re.match(r"\s*(\w+)\s*:", line)
        if declared:
            groups.setdefault(declared.group(1), current)
    return groups


def option_flags() -> dict[str, Flag]:
    """Flag name → Flag for every GhostConfig field."""
    groups = _field_groups()
    flags = {}
    for field in dataclasses.fields(GhostConfig):
        name = flag_name(field.name)
        flags[name] = Flag(
            name=name,
            kind=_field_kind(field),
            help=str(field.metadata.get("help") or OPTION_HELP.get(field.name, "")),
            group=groups.get(field.name, "options"),
            option=field.name,
            default=field.default,
        )
    return flags


def all_flags() -> dict[str, Flag]:
    """Every flag the command accepts: engine options, then the command's own."""
    flags = option_flags()
    for name, (kind, text) in CLI_ONLY_FLAGS.items():
        flags.setdefault(name, Flag(name=name, kind=kind, help=text, group=PROG))
    for name, (kind, text) in CLEANUP_FLAGS.items():
        flags.setdefault(name, Flag(name=name, kind=kind, help=text, group=PROG))
    return flags


def rejected_flags() -> dict[str, str]:
    """gh-ost flags django-ghost refuses, with the reason; supported ones drop out."""
    accepted = all_flags()
    return {name: why for name, why in GHOST_FLAGS.items() if name not in accepted}


def rejection_message(name: str, why: str) -> str:
    return f"gh-ost flag --{name} is not supported by django-ghost yet: {why}."


def unknown_message(name: str) -> str:
    candidates = list(all_flags()) + list(rejected_flags())
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f" Did you mean --{close[0]}?" if close else ""
    return f"unknown flag --{name}.{hint}"


# -- parsing --------------------------------------------------------------------------------


@dataclasses.dataclass
class Invocation:
    """What the command line says, before any layer is merged."""

    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    """GhostConfig field → parsed value, for the option flags given."""
    switches: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The command's own flags given (help, conf, ask-pass ...)."""
    given: list[str] = dataclasses.field(default_factory=list)
    """Flag names in command-line order (for --check-flag and the --password warning)."""
    problems: list[str] = dataclasses.field(default_factory=list)
    """Unknown and rejected flags; with --check-flag they are collected, not raised."""


def _split(token: str) -> tuple[str, str | None] | None:
    """``--name=value`` / ``-name`` → (name, value or None); None if not a flag at all."""
    if not token.startswith("-") or token in ("-", "--"):
        return None
    body = token[2:] if token.startswith("--") else token[1:]
    name, sep, value = body.partition("=")
    if not name or name[0] == "-" or (token[1] != "-" and name[0].isdigit()):
        return None  # "---x" or a negative number such as -1
    return name, (value if sep else None)


def parse_args(argv: Sequence[str]) -> Invocation:
    """Parse gh-ost style flags. Raises UsageError unless --check-flag asks to collect."""
    flags = all_flags()
    rejected = rejected_flags()
    known = set(flags) | set(rejected)
    check_only = any((_split(t) or ("", None))[0] == "check-flag" for t in argv)
    inv = Invocation()
    tokens = list(argv)
    i = 0
    previous: Flag | None = None
    while i < len(tokens):
        token = tokens[i]
        i += 1
        split = _split(token)
        if token == "--" or split is None:
            if token == "--":
                raise UsageError("django-ghost takes no arguments after '--'.")
            hint = ""
            if previous is not None and not previous.takes_value:
                hint = (
                    f" --{previous.name} is a switch and takes no separate value; write "
                    f"--{previous.name}={token} instead."
                )
            raise UsageError(f"unexpected argument {token!r}.{hint}")
        name, value = split
        if name == "h":
            name = "help"
        if name not in flags:
            if name in rejected:
                problem = rejection_message(name, rejected[name])
            else:
                problem = unknown_message(name)
            if not check_only:
                raise UsageError(problem)
            inv.problems.append(problem)
            # Skip a dummy value so it is not taken for a stray argument.
            if value is None and i < len(tokens) and _split(tokens[i]) is None:
                i += 1
            previous = None
            continue
        flag = flags[name]
        previous = flag
        if value is None:
            if not flag.takes_value:
                value = "true"
            elif i < len(tokens) and not _looks_like_flag(tokens[i], known):
                value = tokens[i]
                i += 1
            elif check_only:
                value = None
            else:
                raise UsageError(
                    f"--{name} needs a value: --{name}=VALUE or --{name} VALUE (a value "
                    "starting with '-' needs the = form)."
                )
        inv.given.append(name)
        if check_only:
            continue
        parsed = _parse_flag_value(flag, value)
        if flag.option is None:
            inv.switches[name] = parsed
        else:
            inv.options[flag.option] = parsed
    return inv


def _looks_like_flag(token: str, known: set[str]) -> bool:
    split = _split(token)
    return split is not None and (token.startswith("--") or split[0] in known)


def _parse_flag_value(flag: Flag, raw: str | None) -> Any:
    assert raw is not None
    if flag.option == "cut_over":
        raw = CUT_OVER_ALIASES.get(raw.strip().lower(), raw)
    try:
        if flag.option is not None:
            return parse_value(flag.option, raw)
        if flag.kind == "bool":
            return parse_bool(raw, name=f"--{flag.name}")  # the engine's strict booleans
        return raw
    except ConfigError as exc:
        raise UsageError(f"--{flag.name}: {exc}") from None


# -- option file and password ----------------------------------------------------------------


_ENV_REFERENCE = re.compile(r"\$\{(\w+)\}")


def read_option_file(path: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The [client] user/password/host/port/socket of a MySQL option file.

    Written by hand rather than with configparser: option files allow bare keys
    (``skip-ssl``), ``!include`` lines and quoted values that configparser mangles.
    ``${VAR}`` is expanded from the environment, as gh-ost does; an unset variable is
    an error rather than an empty password.
    """
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--conf: cannot read {path}: {exc.strerror or exc}") from None
    values: dict[str, str] = {}
    section = ""
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line[0] in "#;" or line.startswith("!"):
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise UsageError(f"--conf: {path} line {number}: malformed section header.")
            section = line[1:-1].strip().lower()
            continue
        if section != "client":
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or key not in CONF_KEYS:
            continue
        values[key] = _expand(_unquote(value.strip()), environ, path, number)
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    # An unquoted value ends at a comment, as in the MySQL clients.
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def _expand(value: str, environ: Mapping[str, str], path: str, number: int) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise UsageError(f"--conf: {path} line {number} uses ${{{name}}}, which is not set.")
        return environ[name]

    return _ENV_REFERENCE.sub(replace, value)


def _warn_if_readable(path: str, warn: Callable[[str], None]) -> None:
    try:
        mode = Path(path).expanduser().stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warn(f"{path} is readable by other users; protect the password in it: chmod 600 {path}")


@dataclasses.dataclass
class Resolved:
    config: GhostConfig
    origin: dict[str, str]
    warnings: list[str]


def resolve(
    inv: Invocation,
    environ: Mapping[str, str],
    ask: Callable[[str], str] = getpass.getpass,
) -> Resolved:
    """Merge option file, environment, alter-derived names and flags into a config."""
    warnings: list[str] = []
    if "password" in inv.options:
        if inv.switches.get("ask-pass"):
            raise UsageError("give either --password or --ask-pass, not both.")
        warnings.append(
            "--password is visible to other users in the process list; prefer --ask-pass, "
            "the GHOST_PASSWORD or MYSQL_PWD environment variable, or --conf FILE."
        )
    layers: list[tuple[str, Mapping[str, Any]]] = []
    # Lowest priority first.
    for variable in reversed(PASSWORD_ENVIRONMENT):
        if environ.get(variable):
            layers.append((f"environment {variable}", {"password": environ[variable]}))
    conf = inv.switches.get("conf")
    if conf:
        _warn_if_readable(conf, warnings.append)
        layers.append((f"--conf {conf}", read_option_file(conf, environ)))
    derived = _names_from_alter(inv.options)
    if derived:
        layers.append(("--alter", derived))
    layers.append(("command line", inv.options))
    if inv.switches.get("ask-pass"):
        layers.append(("--ask-pass", {"password": ask("Password: ")}))
    try:
        config, origin = merge_layers(layers)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return Resolved(config, origin, warnings)


def _names_from_alter(options: Mapping[str, Any]) -> dict[str, str]:
    """database/table named by ``ALTER TABLE db.t ...`` in --alter, when not given."""
    alter = str(options.get("alter") or "")
    if not alter.strip() or (options.get("database") and options.get("table")):
        return {}
    parsed = parse_alter(alter)  # a malformed ALTER is a migration error: exit 1
    derived = {}
    if parsed.table and not options.get("table"):
        derived["table"] = parsed.table
    if parsed.database and not options.get("database"):
        derived["database"] = parsed.database
    return derived


# -- output ---------------------------------------------------------------------------------


class Console:
    """stdout/stderr writers that never let the password through."""

    def __init__(self, out: TextIO, err: TextIO):
        self.out_stream = out
        self.err_stream = err
        self.secrets: set[str] = set()

    def add_secret(self, secret: object) -> None:
        if isinstance(secret, str) and len(secret) >= MIN_SCRUB_LENGTH:
            self.secrets.add(secret)

    def scrub(self, text: str) -> str:
        # Longest first, so a password containing another is replaced whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def out(self, text: str) -> None:
        self.out_stream.write(self.scrub(text) + "\n")
        self.out_stream.flush()

    def err(self, text: str) -> None:
        self.err_stream.write(self.scrub(text) + "\n")
        self.err_stream.flush()


class _ScrubFilter(logging.Filter):
    def __init__(self, console: Console):
        super().__init__()
        self.console = console

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.console.scrub(record.getMessage())
        record.args = None
        return True


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "N/A"
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_status(s: ProgressSnapshot) -> str:
    """One status line, in the spirit of gh-ost's ``Copy: ...; Applied: ...`` line."""
    if s.eta_seconds is None:
        eta = "N/A"
    elif s.eta_seconds <= 0 or s.phase != "copying":
        eta = "due"
    else:
        eta = format_duration(s.eta_seconds)
    lag = "N/A" if s.lag_seconds is None else f"{s.lag_seconds:.2f}s"
    state = s.phase if not s.throttle_reason else f"{s.phase}, throttled: {s.throttle_reason}"
    return (
        f"Copy: {s.rows_copied:,}/{s.rows_estimate:,} {s.percent:.1f}%; "
        f"Rate: {s.rows_per_second:,.0f} rows/s; ETA: {eta}; "
        f"Applied: {s.events_applied:,}; Backlog: {s.backlog:,}; Lag: {lag}; "
        f"State: {state}; Time: {format_duration(s.elapsed_seconds)}"
    )


def status_interval(elapsed: float, longest: float) -> float:
    """gh-ost's cadence (every second at first, then less often), capped at ``longest``."""
    if elapsed < 60:
        cadence = 1.0
    elif elapsed < 180:
        cadence = 5.0
    else:
        cadence = 30.0
    return min(cadence, longest)


class StatusPrinter:
    """The engine's progress callback: a status line every few seconds and on each new phase.

    The engine calls it about twice a second; this decides which calls print. The gap
    never exceeds ``--status-interval-seconds``.
    """

    def __init__(
        self,
        console: Console,
        longest_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.console = console
        self.longest_interval = longest_interval
        self.clock = clock
        self.last_printed: float | None = None
        self.last_phase = ""
        self.lines = 0

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        now = self.clock()
        phase_changed = snapshot.phase != self.last_phase
        due = self.last_printed is None or now - self.last_printed >= status_interval(
            snapshot.elapsed_seconds, self.longest_interval
        )
        if not (due or phase_changed):
            return
        self.last_printed = now
        self.last_phase = snapshot.phase
        self.lines += 1
        self.console.out(format_status(snapshot))


def format_summary(result: MigrationResult, config: GhostConfig) -> str:
    if config.checksum:
        checksum = "verified" if result.checksum_verified else "NOT verified"
    else:
        checksum = "skipped (--checksum=false)"
    if config.ok_to_drop_table:
        old = f"{result.old_table} dropped"
    else:
        old = f"{result.old_table} kept (drop it when no longer needed, or use --ok-to-drop-table)"
    lines = [
        f"Migration of {result.database}.{result.table} complete in {result.wall_seconds:.1f}s.",
        f"  rows copied:    {result.rows_copied:,} (copy {result.copy_seconds:.1f}s)",
        f"  events applied: {result.events_applied:,}",
        f"  cut-over:       stall {result.cut_over_stall_seconds:.3f}s, "
        f"{result.cut_over_attempts} attempt(s)",
        f"  checksum:       {checksum}",
        f"  old table:      {old}",
    ]
    return "\n".join(lines)


def new_table_structure(result: MigrationResult) -> str:
    """The ghost's CREATE TABLE, shown under the original table's name."""

    def quoted(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    prefix = f"CREATE TABLE {quoted(result.ghost_table)}"
    text = result.new_create_table
    if text.startswith(prefix):
        text = f"CREATE TABLE {quoted(result.table)}" + text[len(prefix) :]
    return text


def render_help() -> str:
    """--help, generated from the flag table and grouped as config.py groups options."""
    lines = [
        f"usage: {PROG} --database=DB --table=T --alter='ADD COLUMN ...' [flags] [--execute]",
        "",
        "Online ALTER for MySQL/MariaDB, taking gh-ost's flag names. Without --execute it",
        "validates and prints the new table structure (noop). Flags: --flag=value,",
        "--flag value, or -flag; switches: --flag or --flag=true|false.",
        "Exit codes: 0 success, 1 migration failed, 2 usage error.",
    ]
    by_group: dict[str, list[Flag]] = {}
    for flag in all_flags().values():
        by_group.setdefault(flag.group, []).append(flag)
    for group, flags in by_group.items():
        lines += ["", f"{group}:"]
        for flag in flags:
            left = f"  --{flag.name}" + (f" {flag.kind.upper()}" if flag.takes_value else "")
            text = flag.help or f"gh-ost's --{flag.name}."
            if flag.option is not None and flag.option != "password":
                text += f" [default: {flag.default!r}]"
            lines.append(_help_entry(left, text))
    rejected = rejected_flags()
    lines += [
        "",
        "gh-ost flags not supported yet (refused with the reason):",
        _wrap(", ".join(f"--{n}" for n in sorted(rejected)), indent="  "),
        "",
        "Password sources, first found wins: --password or --ask-pass, --conf FILE,",
        "GHOST_PASSWORD, MYSQL_PWD. See docs/cli.md.",
    ]
    return "\n".join(lines)


HELP_WIDTH = 100
HELP_COLUMN = 42


def _help_entry(left: str, text: str) -> str:
    body = textwrap.wrap(text, width=HELP_WIDTH - HELP_COLUMN)
    if len(left) >= HELP_COLUMN:
        body_lines = body
        head = [left]
    else:
        head = [f"{left:<{HELP_COLUMN}}{body[0] if body else ''}"]
        body_lines = body[1:]
    return "\n".join(head + [" " * HELP_COLUMN + line for line in body_lines])


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(
        text,
        width=HELP_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def show_config(resolved: Resolved) -> str:
    redacted = resolved.config.redacted()
    width = max(len(flag_name(k)) for k in redacted) + 2
    return "\n".join(
        f"--{flag_name(name):<{width}} {value!r:<30} ({resolved.origin.get(name, 'default')})"
        for name, value in redacted.items()
    )


# -- running --------------------------------------------------------------------------------


@dataclasses.dataclass
class _LogSetup:
    logger: logging.Logger
    handler: logging.Handler
    level: int


def _start_logging(console: Console, switches: Mapping[str, Any]) -> _LogSetup:
    logger = logging.getLogger("django_ghost")
    if switches.get("quiet"):
        level = logging.ERROR
    elif switches.get("debug"):
        level = logging.DEBUG
    elif switches.get("verbose"):
        level = logging.INFO
    else:
        level = logging.ERROR  # gh-ost's default
    handler = logging.StreamHandler(console.err_stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_ScrubFilter(console))
    setup = _LogSetup(logger, handler, logger.level)
    logger.addHandler(handler)
    logger.setLevel(level)
    return setup


def _stop_logging(setup: _LogSetup) -> None:
    setup.logger.removeHandler(setup.handler)
    setup.logger.setLevel(setup.level)


@dataclasses.dataclass
class _StopOnSignal:
    """SIGTERM sets the engine's stop event, so the engine cleans up and exits 1."""

    stop: threading.Event
    previous: Any = None

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
    confirm: Callable[[str], str] | None = None,
) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    console = Console(stdout or sys.stdout, stderr or sys.stderr)
    env = os.environ if environ is None else environ
    try:
        return _main(
            list(sys.argv[1:] if argv is None else argv), env, console, ask, confirm or input
        )
    except UsageError as exc:
        console.err(f"{PROG}: error: {exc}")
        console.err(f"Run '{PROG} --help' for the flags.")
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.err(f"{PROG}: interrupted.")
        return EXIT_FAILED


def _main(
    argv: list[str],
    env: Mapping[str, str],
    console: Console,
    ask: Callable[[str], str] | None,
    confirm: Callable[[str], str] = input,
) -> int:
    inv = parse_args(argv)
    console.add_secret(inv.options.get("password"))
    for variable in PASSWORD_ENVIRONMENT:
        console.add_secret(env.get(variable))
    if "check-flag" in inv.given:
        for problem in inv.problems:
            console.err(f"{PROG}: {problem}")
        return EXIT_USAGE if inv.problems else EXIT_OK
    if inv.switches.get("help"):
        console.out(render_help())
        return EXIT_OK
    if inv.switches.get("version"):
        console.out(f"{PROG} {__version__} (gh-ost compatible command line)")
        return EXIT_OK
    stack = bool(inv.switches.get("stack"))
    try:
        resolved = resolve(inv, env, ask or getpass.getpass)
    except GhostError as exc:  # a malformed --alter that names the table
        return _failed(console, exc, stack)
    config = resolved.config
    console.add_secret(config.password)
    for warning in resolved.warnings:
        console.err(f"{PROG}: warning: {warning}")
    if inv.switches.get("show-config"):
        console.out(show_config(resolved))
        return EXIT_OK
    if inv.switches.get("cleanup"):
        return _cleanup(config, console, inv.switches, confirm)
    try:
        config.validate_target()
    except ConfigError as exc:
        raise UsageError(
            f"{exc} Give --database, --table and --alter (or ALTER TABLE db.table ... in --alter)."
        ) from None
    logs = _start_logging(console, inv.switches)
    try:
        return _run(config, console, quiet=bool(inv.switches.get("quiet")), stack=stack)
    finally:
        _stop_logging(logs)


def _run(config: GhostConfig, console: Console, *, quiet: bool, stack: bool) -> int:
    target = f"{config.database}.{config.table}"
    longest = float(getattr(config, "status_interval_seconds", 10))
    printer = None if quiet else StatusPrinter(console, longest)
    stop = threading.Event()
    if config.execute:
        console.out(f"Migrating {target}: {config.alter}")
    else:
        console.out(f"Validating {target} (noop; pass --execute to migrate): {config.alter}")
    try:
        with _StopOnSignal(stop):
            result = Migrator(config, on_progress=printer, stop=stop).run()
    except GhostError as exc:
        return _failed(console, exc, stack)
    except Exception as exc:  # noqa: BLE001 - anything else is still reported, not raised
        console.err(f"{PROG}: unexpected error: {type(exc).__name__}: {exc}")
        if stack:
            console.err(traceback.format_exc())
        else:
            console.err("Run again with --stack for the traceback; please report it.")
        return EXIT_FAILED
    if result.noop:
        console.out("New table structure follows")
        console.out(new_table_structure(result))
        console.out(
            f"Validation of {target} passed; nothing was changed. "
            "Run again with --execute to migrate."
        )
    else:
        console.out(format_summary(result, config))
    return EXIT_OK


def _cleanup(
    config: GhostConfig,
    console: Console,
    switches: Mapping[str, Any],
    confirm: Callable[[str], str],
) -> int:
    """--cleanup: list the leftovers of --database; with --table, drop that table's."""
    if not config.database:
        raise UsageError("--cleanup needs --database (and --table to drop anything).")
    templates = (
        config.ghost_table_template,
        config.changelog_table_template,
        config.old_table_template,
    )
    spec = ConnectionSpec.from_config(config)
    try:
        conn = connect(spec)
    except Exception as exc:  # noqa: BLE001 - MySQLdb errors, reported like the engine's
        return _failed(console, GhostError(f"Cannot connect to {spec.describe()}: {exc}"), False)
    try:
        found = find_leftovers(conn, config.database, templates=templates)
        if not found:
            console.out(f"No leftovers in {config.database}.")
            return EXIT_OK
        console.out(format_leftovers(found))
        if not config.table:
            console.out("Give --table to drop one table's leftovers.")
            return EXIT_OK
        drop_old = bool(switches.get("drop-old"))
        mine = [
            item
            for item in found
            if item.table == config.table and (drop_old or item.kind != "old")
        ]
        if not mine:
            console.out(f"Nothing to drop for {config.table}.")
            return EXIT_OK
        listed = ", ".join(item.name for item in mine)
        if not switches.get("yes"):
            try:
                answer = confirm(f"Drop {listed}? [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in ("y", "yes"):
                console.out("Nothing dropped (answer y, or pass --yes).")
                return EXIT_FAILED
        removed = drop_leftovers(
            conn, config.database, config.table, drop_old=drop_old, templates=templates
        )
        console.out("Dropped: " + (", ".join(item.name for item in removed) or "nothing"))
        return EXIT_OK
    except GhostError as exc:
        return _failed(console, exc, False)
    finally:
        conn.close()


def _failed(console: Console, exc: BaseException, stack: bool) -> int:
    console.err(f"{PROG}: error: {exc}")
    hint = flag_hint(str(exc))
    if hint:
        console.err(hint)
    if stack:
        console.err("".join(traceback.format_exception(exc)))
    return EXIT_FAILED


def flag_hint(message: str) -> str:
    """Engine messages name options as ``chunk_size``; say which flag that is here.

    Only names with an underscore are matched: single words such as ``table`` or
    ``alter`` occur in ordinary prose.
    """
    names = [f.name for f in dataclasses.fields(GhostConfig) if "_" in f.name]
    found = [n for n in names if re.search(rf"(?<![\w-]){n}(?!\w)", message)]
    if not found:
        return ""
    return "On the command line: " + ", ".join(f"{n} is --{flag_name(n)}" for n in found) + "."


def iter_flag_rows() -> Iterator[tuple[str, str, str]]:
    """(flag, status, note) rows: the flag table of docs/cli.md is generated from these."""
    for flag in all_flags().values():
        status = "supported" if flag.option is not None else f"{PROG} only"
        yield f"--{flag.name}", status, flag.help
    for name, why in sorted(rejected_flags().items()):
        yield f"--{name}", "rejected", why


if __name__ == "__main__":
    sys.exit(main())
