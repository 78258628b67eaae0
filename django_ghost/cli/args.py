"""The ``django-ghost`` command line read into a :class:`GhostConfig`.

Flags are parsed the way gh-ost's Go ``flag`` package does: ``--flag=value``,
``--flag value``, ``-flag`` with one dash, booleans as bare switches or
``--flag=true|false`` (a boolean never takes the next word). Unknown flags and gh-ost
flags the engine lacks are refused by name (:mod:`django_ghost.cli.flags`).

The layers are then merged, lowest first: ``MYSQL_PWD``, ``GHOST_PASSWORD``, the
``--conf`` option file's ``[client]`` section, database and table named by
``ALTER TABLE db.t`` in ``--alter``, the command line, ``--ask-pass``.
"""

from __future__ import annotations

import dataclasses
import getpass
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django_ghost.cli.flags import (
    NO_EFFECT_FLAGS,
    PASSWORD_ENVIRONMENT,
    REPEATABLE_OPTIONS,
    Flag,
    all_flags,
    notice_message,
    rejected_flags,
    rejection_message,
    unknown_message,
)
from django_ghost.engine.config import GhostConfig, merge_layers, parse_bool, parse_value
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.alter import parse_alter

CUT_OVER_ALIASES = {"": "atomic", "default": "atomic"}
"""gh-ost treats an empty --cut-over and "default" as atomic."""

CONF_KEYS = ("user", "password", "host", "port", "socket")
"""Keys read from an option file's [client] section; the rest of it is for mysql clients."""


class UsageError(Exception):
    """The command line is wrong (exit 2)."""


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
        elif flag.option in REPEATABLE_OPTIONS and inv.options.get(flag.option):
            separator = REPEATABLE_OPTIONS[flag.option]
            inv.options[flag.option] = f"{inv.options[flag.option]}{separator}{parsed}"
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


# -- option file and password ---------------------------------------------------------------


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
    if inv.switches.get("assume-rbr") and inv.options.get("switch_to_rbr"):
        raise UsageError(
            "--switch-to-rbr and --assume-rbr are mutually exclusive (as in gh-ost): "
            "--assume-rbr says the server already logs rows; drop one of them."
        )
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


def notices(inv: Invocation) -> list[str]:
    """One line per gh-ost flag given that changes nothing here, saying why."""
    return [
        notice_message(name, NO_EFFECT_FLAGS[name][1])
        for name in dict.fromkeys(inv.given)
        if name in NO_EFFECT_FLAGS and inv.switches.get(name)
    ]


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
