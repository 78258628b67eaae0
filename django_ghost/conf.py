"""The one place that reads Django settings and the environment and builds a GhostConfig.

Layers, lowest priority first, each overriding only the keys it sets:

1. engine defaults (``GhostConfig`` field defaults) and :class:`DjangoOptions` defaults;
   connection options (host, port, user, password, database, TLS, init_command) from the
   alias's ``DATABASES`` entry and its ``OPTIONS`` (db_options.py);
2. ``settings.GHOST`` (a dict keyed by option name);
3. ``DATABASES[alias]["GHOST"]`` (never inside ``OPTIONS``: Django passes ``OPTIONS`` to
   the driver's ``connect()``);
4. the environment, read through django-environ: ``GHOST_<OPTION>`` then
   ``GHOST_<ALIAS>__<OPTION>``, parsed by the option's declared type;
5. ``ghost_migrate`` flags.

Unknown keys are errors (with a "did you mean"). The merge runs once, when a command
starts; everything after that receives frozen objects and never reads settings again.
``GHOST_MIGRATE`` (the switch for plain ``migrate``) is parsed here too, strictly.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import os
import re
import string
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

import environ

from django_ghost.db_options import connection_options
from django_ghost.engine.config import (
    SECRET_OPTIONS,
    GhostConfig,
    merge_layers,
    option_names,
    parse_bool,
)
from django_ghost.engine.errors import ConfigError

BATCH_CHOICES = ("operation", "migration")
UNSAFE_TABLE_CHOICES = ("refuse", "direct")
# Chosen per run by the router: setting them in a layer would be a mistake. ``resume``
# is decided per table from what an interrupted run left (``resume_interrupted``).
PER_RUN_OPTIONS = frozenset({"table", "alter", "execute", "resume"})
# Engine options whose default differs under Django. Migrations run one after another
# on the same tables; a kept `_<t>_del` table would make the next run on that table
# refuse to start. The cut-over only happens after the checksum verified the copy.
DJANGO_ENGINE_DEFAULTS: Mapping[str, Any] = {"ok_to_drop_table": True}
# Where a running migration serves its control socket and keeps its postpone flag file.
# ``manage.py ghost_ctl`` finds running migrations by rendering the same templates.
DEFAULT_SOCKET_PATH_TEMPLATE = "{tmpdir}/django-ghost.{alias}.{database}.{table}.sock"
DEFAULT_POSTPONE_FLAG_FILE_TEMPLATE = "{tmpdir}/django-ghost.{alias}.{database}.{table}.postpone"
PATH_PLACEHOLDERS = ("tmpdir", "alias", "database", "table")
# sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107
HASHED_NAME_PREFIX = "django-ghost."
HASH_HEX_DIGITS = 16
GHOST_MIGRATE_TRUE = ("true", "1")
GHOST_MIGRATE_FALSE = ("false", "0")


@dataclasses.dataclass(frozen=True)
class DjangoOptions:
    """Options of the Django side (routing and recording), layered like engine options."""

    # Whether this alias may go online at all (read replicas: set False).
    enabled: bool = True
    # Tables whose estimated row count is below this are altered directly.
    min_table_rows: int = 10_000
    # Try ALGORITHM=INSTANT first; alters the server does instantly never go online.
    instant_ddl: bool = True
    # lock_wait_timeout (seconds) of the instant probe, so it never queues behind traffic.
    instant_lock_wait_timeout: int = 2
    # Combine alters of one table per "operation" (safe default) or per "migration".
    batch: str = "operation"
    # Tables with foreign keys, triggers or no usable unique key: "refuse" or "direct".
    unsafe_tables: str = "refuse"
    # Record every online run in the django_ghost history table.
    history: bool = True
    # Resume an interrupted online run of the same ALTER from its checkpoint; False drops
    # its leftovers and starts over (``ghost_migrate --no-resume``).
    resume_interrupted: bool = True
    # Control socket of each online run ({tmpdir}, {alias}, {database}, {table}).
    socket_path_template: str = DEFAULT_SOCKET_PATH_TEMPLATE
    # Postpone flag file of ``ghost_migrate --postpone-cut-over`` (same placeholders).
    postpone_flag_file_template: str = DEFAULT_POSTPONE_FLAG_FILE_TEMPLATE

    def validate(self) -> DjangoOptions:
        problems = []
        if self.batch not in BATCH_CHOICES:
            problems.append(f"batch={self.batch!r} is unknown; use one of {BATCH_CHOICES}.")
        if self.unsafe_tables not in UNSAFE_TABLE_CHOICES:
            problems.append(
                f"unsafe_tables={self.unsafe_tables!r} is unknown; "
                f"use one of {UNSAFE_TABLE_CHOICES}."
            )
        if self.min_table_rows < 0:
            problems.append(f"min_table_rows={self.min_table_rows} must be >= 0.")
        if not 1 <= self.instant_lock_wait_timeout <= 60:
            problems.append(
                f"instant_lock_wait_timeout={self.instant_lock_wait_timeout} is out of range; "
                "allowed 1..60."
            )
        for name in ("socket_path_template", "postpone_flag_file_template"):
            problems += _path_template_problems(name, getattr(self, name))
        if problems:
            raise ConfigError("Invalid django_ghost options:\n- " + "\n- ".join(problems))
        return self


def _path_template_problems(name: str, template: str) -> list[str]:
    try:
        fields = [f[1] for f in string.Formatter().parse(template) if f[1] is not None]
    except ValueError as exc:
        return [f"{name}={template!r} is malformed ({exc}); write literal braces as {{{{ }}}}."]
    unknown = sorted(set(fields) - set(PATH_PLACEHOLDERS))
    if unknown:
        return [
            f"{name}={template!r} uses {{{unknown[0]}}}; allowed placeholders: "
            + ", ".join("{" + p + "}" for p in PATH_PLACEHOLDERS)
            + "."
        ]
    if "table" not in fields:
        # Every table's migration would share one path: the second could not start.
        return [f"{name}={template!r} must contain {{table}}."]
    return []


def render_path_template(template: str, *, alias: str, database: str, table: str) -> str:
    """A path template with its placeholders filled; ``{tmpdir}`` is the system's."""
    return template.format(
        tmpdir=tempfile.gettempdir().rstrip("/") or "/",
        alias=alias,
        database=database,
        table=table,
    )


def hashed_socket_path(path: str) -> str:
    """A short stand-in for a socket path over the unix limit: same directory if it fits
    (else the temp directory), named by a hash of the long path."""
    digest = hashlib.sha1(path.encode("utf-8")).hexdigest()[:HASH_HEX_DIGITS]
    name = f"{HASHED_NAME_PREFIX}{digest}.sock"
    short = os.path.join(os.path.dirname(path), name)
    if len(os.fsencode(short)) <= MAX_SOCKET_PATH_BYTES:
        return short
    return os.path.join(tempfile.gettempdir(), name)


def control_socket_path(config: ResolvedConfig, table: str) -> str:
    """The control socket of a migration of ``table`` on ``config``'s alias.

    ``serve_socket_file`` set in a layer wins (used as given); otherwise the
    ``socket_path_template`` rendered, replaced by a hashed name when over 107 bytes.
    """
    if config.provenance.get("serve_socket_file", "default") != "default" and (
        config.engine.serve_socket_file
    ):
        return config.engine.serve_socket_file
    path = render_path_template(
        config.options.socket_path_template,
        alias=config.alias,
        database=config.engine.database,
        table=table,
    )
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        return hashed_socket_path(path)
    return path


def postpone_flag_path(config: ResolvedConfig, table: str) -> str:
    """The postpone flag file of a migration of ``table`` (``postpone_cut_over_flag_file``
    set in a layer wins)."""
    if config.provenance.get("postpone_cut_over_flag_file", "default") != "default" and (
        config.engine.postpone_cut_over_flag_file
    ):
        return config.engine.postpone_cut_over_flag_file
    return render_path_template(
        config.options.postpone_flag_file_template,
        alias=config.alias,
        database=config.engine.database,
        table=table,
    )


def django_option_types() -> dict[str, type]:
    kinds = {"bool": bool, "int": int, "str": str}
    return {f.name: kinds[str(f.type)] for f in dataclasses.fields(DjangoOptions)}


def all_option_names() -> tuple[str, ...]:
    """Every option a settings layer may set: engine options, then Django-side ones."""
    return option_names() + tuple(django_option_types())


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    """The effective configuration of one alias, with where each value came from."""

    alias: str
    engine: GhostConfig
    options: DjangoOptions
    provenance: Mapping[str, str]

    def rows(self) -> list[tuple[str, Any, str]]:
        """(name, value with secrets redacted, source) for every option."""
        values = {**self.engine.redacted(), **dataclasses.asdict(self.options)}
        return [(name, values[name], self.provenance[name]) for name in all_option_names()]


# -- GHOST_MIGRATE ---------------------------------------------------------------------


def parse_ghost_migrate(raw: str | None) -> bool | None:
    """Strict tri-state: unset/empty -> None, true/1 -> True, false/0 -> False."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in GHOST_MIGRATE_TRUE:
        return True
    if value in GHOST_MIGRATE_FALSE:
        return False
    raise ConfigError(
        f"GHOST_MIGRATE={raw!r} is not valid: use true or 1 (online migrations on for "
        "`migrate`), false or 0 (off), or leave it unset."
    )


def ghost_migrate_from_env(environ_: Mapping[str, str] | None = None) -> bool | None:
    """Read and parse ``GHOST_MIGRATE`` (through django-environ)."""
    env = _env(environ_)
    return parse_ghost_migrate(env.str("GHOST_MIGRATE", default=None))


# -- layering --------------------------------------------------------------------------


def _env(environ_: Mapping[str, str] | None) -> environ.Env:
    env = environ.Env()
    env.ENVIRON = os.environ if environ_ is None else environ_
    return env


def env_var_names(option: str, alias: str) -> tuple[str, str]:
    """The two environment variables of an option: global and per-alias."""
    alias_part = re.sub(r"[^A-Z0-9]", "_", alias.upper())
    return f"GHOST_{option.upper()}", f"GHOST_{alias_part}__{option.upper()}"


def _unknown(name: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(name, all_option_names(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"Unknown django_ghost option {name!r} in {where}.{hint} "
        "See docs/settings.md for every option."
    )


def _check_layer(where: str, mapping: Any) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{where} must be a dict of option names to values.")
    out: dict[str, Any] = {}
    known = set(all_option_names())
    for key, value in mapping.items():
        name = str(key).lower().replace("-", "_")
        if name not in known:
            raise _unknown(str(key), where)
        if name in PER_RUN_OPTIONS:
            raise ConfigError(
                f"{where} sets {name!r}, which django_ghost chooses for each table it "
                "migrates; remove it."
            )
        out[name] = value
    return out


def connection_layer(settings_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Connection options taken from a ``DATABASES`` entry, its ``OPTIONS`` included
    (TLS, read_default_file, init_command: db_options.py)."""
    return connection_options(settings_dict)


def _env_layers(alias: str, environ_: Mapping[str, str] | None) -> list[tuple[str, dict]]:
    env = _env(environ_)
    global_layer: list[tuple[str, dict]] = []
    alias_layer: list[tuple[str, dict]] = []
    for name in all_option_names():
        if name in PER_RUN_OPTIONS:
            continue
        global_var, alias_var = env_var_names(name, alias)
        for var, target in ((global_var, global_layer), (alias_var, alias_layer)):
            raw = env.str(var, default=None)
            if raw is not None:
                target.append((f"env {var}", {name: raw}))
    # A misspelt per-alias variable is clearly meant for us: refuse it. Unknown global
    # GHOST_* variables are left alone (GHOST_MIGRATE, GHOST_TEST_DSN, tools' own ones).
    prefix = env_var_names("x", alias)[1][:-1]
    for var in env.ENVIRON:
        if var.startswith(prefix):
            name = var[len(prefix) :].lower()
            if name not in all_option_names() or name in PER_RUN_OPTIONS:
                raise _unknown(name, f"environment variable {var}")
    return global_layer + alias_layer


def resolve_layers(
    alias: str,
    layers: Iterable[tuple[str, Mapping[str, Any]]],
) -> ResolvedConfig:
    """Merge named layers (lowest first) into engine config and Django options."""
    engine_names = set(option_names())
    engine_layers: list[tuple[str, dict[str, Any]]] = []
    django_values: dict[str, Any] = {}
    django_origin = dict.fromkeys(django_option_types(), "default")
    types = django_option_types()
    for where, mapping in layers:
        engine_part = {k: v for k, v in mapping.items() if k in engine_names}
        engine_layers.append((where, engine_part))
        for key, raw in mapping.items():
            if key in engine_names:
                continue
            django_values[key] = _parse_django_value(key, raw, types[key])
            django_origin[key] = where
    engine, engine_origin = merge_layers(engine_layers)
    options = DjangoOptions(**django_values).validate()
    return ResolvedConfig(alias, engine, options, {**engine_origin, **django_origin})


def _parse_django_value(name: str, raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            return parse_bool(raw, name=name)
        raise ConfigError(f"{name}={raw!r} must be a boolean.")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{name}={raw!r} must be an integer, not a boolean.")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={raw!r} must be an integer.") from None
    if not isinstance(raw, str):
        raise ConfigError(f"{name}={raw!r} must be a string.")
    return raw


def resolve(
    alias: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    settings_dict: Mapping[str, Any] | None = None,
    environ_: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """The effective configuration of ``alias``, every layer applied."""
    from django.conf import settings
    from django.db import connections

    if settings_dict is None:
        settings_dict = connections[alias].settings_dict
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("django_ghost default", DJANGO_ENGINE_DEFAULTS),
        (f"DATABASES[{alias!r}]", connection_layer(settings_dict)),
        ("settings.GHOST", _check_layer("settings.GHOST", getattr(settings, "GHOST", None))),
        (
            f"DATABASES[{alias!r}]['GHOST']",
            _check_layer(f"DATABASES[{alias!r}]['GHOST']", settings_dict.get("GHOST")),
        ),
        *_env_layers(alias, environ_),
        ("ghost_migrate flags", _check_layer("ghost_migrate flags", overrides or {})),
    ]
    return resolve_layers(alias, layers)


def merge_settings(base: Mapping[str, Any] | None, *overrides: Mapping[str, Any]) -> dict:
    """Deep-merge dicts for per-environment settings modules; inputs are not modified.

    ``production.py`` can change two keys without restating the rest::

        from django_ghost.conf import merge_settings
        GHOST = merge_settings(GHOST, {"max_lag_millis": 3000})
        DATABASES = merge_settings(DATABASES, {"default": {"GHOST": {"chunk_size": 5000}}})

    Nested dicts merge key by key; any other value (lists included) replaces the old one.
    """
    result: dict[str, Any] = copy.deepcopy(dict(base or {}))
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
                result[key] = merge_settings(result[key], value)
            else:
                result[key] = copy.deepcopy(value)
    return result


def is_secret(name: str) -> bool:
    return name in SECRET_OPTIONS
