"""GhostConfig: every engine option with its default, typed, frozen and validated.

Option names follow gh-ost's flag names with ``-`` replaced by ``_`` so that existing
gh-ost command lines map one to one. Layers (defaults, Django settings, environment,
command-line flags) are merged by :func:`merge_layers`, which also records where each
value came from; values given as strings (environment, ``KEY=VALUE`` flags) are parsed
by the field's declared type in :func:`parse_value`. Runtime changes made while a
migration runs (chunk size over the control socket, ...) never touch this object: they
live in :class:`django_ghost.engine.context.MigrationContext`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .charsets import parse_charsets
from .errors import ConfigError
from .option_syntax import (
    parse_host_port,
    parse_load,
    parse_replicas,
    parse_statsd_addr,
    parse_tags,
)

SECRET_OPTIONS = frozenset({"password", "master_password"})
CUT_OVER_ALGORITHMS = ("atomic", "two-step")
NAME_PLACEHOLDERS = ("{table}", "{timestamp}")

# Allowed values of the numeric options, inclusive. GhostConfig.validate checks them and
# the control socket's setters of live knobs check the same ranges.
OPTION_RANGES: dict[str, tuple[int, int]] = {
    "port": (1, 65535),
    "chunk_size": (10, 100_000),
    "dml_batch_size": (1, 10_000),
    "default_retries": (1, 10_000),
    "heartbeat_interval_millis": (100, 1000),
    "max_lag_millis": (100, 3_600_000),
    "cut_over_lock_timeout_seconds": (1, 10),
    "exponential_backoff_max_interval": (2, 3600),
    "checksum_chunk_size": (100, 1_000_000),
    "chunk_time_target_millis": (0, 60_000),
    "early_index_build_events_per_second": (0, 10_000_000),
    "replica_server_id": (0, 2**32 - 1),
    "status_interval_seconds": (1, 3600),
    "checkpoint_seconds": (1, 3600),
    "auto_resume_attempts": (0, 100),
    "critical_load_interval_millis": (0, 3_600_000),
    "critical_load_hibernate_seconds": (0, 86_400),
    "throttle_http_interval_millis": (10, 3_600_000),
    "throttle_http_timeout_millis": (10, 60_000),
    "serve_tcp_port": (0, 65535),
    "hooks_status_interval": (1, 86_400),
    "nice_ratio": (0, 100),
    "max_latency_millis": (0, 60_000),
    "mysql_timeout": (0, 86_400),
    "binlogsyncer_max_reconnect_attempts": (0, 1_000_000),
    "runtime_metrics_interval": (0, 3600),
    "prometheus_file_interval_seconds": (1, 3600),
}


def _help(default: Any, text: str) -> Any:
    """A field with its help line (cli/flags.py shows it)."""
    return dataclasses.field(default=default, metadata={"help": text})


@dataclasses.dataclass(frozen=True)
class GhostConfig:
    """Options of one online migration. Defaults are the safe choice."""

    # -- connection ------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 3306
    socket: str = ""
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    database: str = ""
    # TLS for every session, the binlog dump's too (gh-ost's --ssl*; docs/settings.md).
    ssl: bool = _help(False, "Use TLS on every connection (verifying the server's certificate).")
    ssl_ca: str = _help("", "CA certificate file (PEM) for --ssl; default: the system's CAs.")
    ssl_cert: str = _help("", "Client certificate file (PEM) for --ssl; needs --ssl-key.")
    ssl_key: str = _help("", "Client private key file (PEM) for --ssl; needs --ssl-cert.")
    ssl_allow_insecure: bool = _help(
        False, "With --ssl: skip verifying the server's certificate and host name."
    )
    init_command: str = _help("", "SQL run first on every engine connection (as mysqlclient's).")
    table: str = ""
    alter: str = ""
    execute: bool = False
    allow_on_master: bool = True
    charset: str = "utf8mb4"
    mysql_timeout: float = 0.0
    storage_engine: str = "innodb"
    # -- replication topology (docs/topologies.md) -----------------------------------------
    assume_master_host: str = ""
    master_user: str = ""
    master_password: str = dataclasses.field(default="", repr=False)
    migrate_on_replica: bool = False
    test_on_replica: bool = False
    test_on_replica_skip_replica_stop: bool = False
    allow_master_master: bool = False
    tungsten: bool = False
    aliyun_rds: bool = False
    gcp: bool = False
    azure: bool = False
    # -- tables ----------------------------------------------------------------------------
    ghost_table_template: str = "_{table}_gho"
    changelog_table_template: str = "_{table}_ghc"
    old_table_template: str = "_{table}_del"
    initially_drop_ghost_table: bool = False
    initially_drop_old_table: bool = False
    ok_to_drop_table: bool = False
    force_table_names: str = ""
    timestamp_old_table: bool = False
    # -- what the ALTER may do -------------------------------------------------------------
    approve_renamed_columns: bool = False
    skip_foreign_key_checks: bool = False
    discard_foreign_keys: bool = False
    allow_nullable_unique_key: bool = False
    allow_zero_in_date: bool = False
    switch_to_rbr: bool = False
    # -- triggers (docs/triggers.md) -------------------------------------------------------
    include_triggers: bool = False
    trigger_suffix: str = ""
    remove_trigger_suffix_if_exists: bool = False
    attempt_instant_ddl: bool = False
    # -- row copy and binlog apply ---------------------------------------------------------
    chunk_size: int = 5000
    chunk_time_target_millis: int = 0
    defer_secondary_indexes: bool = True
    early_index_build_events_per_second: int = 1000
    nice_ratio: float = 0.0
    dml_batch_size: int = 500
    default_retries: int = 60
    checkpoint_seconds: int = 10
    resume: bool = False
    revert: bool = False
    old_table: str = ""
    auto_resume_attempts: int = 3
    replica_server_id: int = 0
    gtid: bool = False
    heartbeat_interval_millis: int = 100
    max_lag_millis: int = 1500
    panic_on_warnings: bool = False
    binlogsyncer_max_reconnect_attempts: int = 5
    # -- cut-over --------------------------------------------------------------------------
    cut_over: str = "atomic"
    cut_over_lock_timeout_seconds: int = 3
    cut_over_exponential_backoff: bool = False
    exponential_backoff_max_interval: int = 64
    checksum: bool = True
    checksum_chunk_size: int = 10000
    verify_applied_keys: bool = True
    postpone_cut_over_flag_file: str = ""
    analyze_ghost_table_before_cutover: bool = False
    # -- progress --------------------------------------------------------------------------
    exact_rowcount: bool = False
    concurrent_rowcount: bool = True
    status_interval_seconds: int = 10
    # -- throttling ------------------------------------------------------------------------
    max_load: str = ""
    critical_load: str = ""
    critical_load_interval_millis: int = 0
    critical_load_hibernate_seconds: int = 0
    throttle_query: str = ""
    throttle_http: str = ""
    throttle_http_interval_millis: int = 100
    throttle_http_timeout_millis: int = 1000
    ignore_http_errors: bool = False
    throttle_control_replicas: str = ""
    throttle_flag_file: str = ""
    throttle_additional_flag_file: str = ""
    panic_flag_file: str = ""
    # Ours: pace the copy and the apply to keep the application's p95 (docs/throttling.md).
    max_latency_millis: int = 0
    # -- control socket --------------------------------------------------------------------
    serve_socket_file: str = ""
    initially_drop_socket_file: bool = False
    serve_tcp_port: int = 0
    serve_tcp_host: str = "127.0.0.1"
    force_named_cut_over: bool = False
    force_named_panic: bool = False
    # -- hooks -----------------------------------------------------------------------------
    hooks_path: str = ""
    hooks_status_interval: int = 60
    hooks_callables: str = ""
    hooks_hint: str = ""
    hooks_hint_owner: str = ""
    hooks_hint_token: str = ""
    # -- metrics ---------------------------------------------------------------------------
    statsd_addr: str = ""
    statsd_tags: str = ""
    runtime_metrics_interval: int = 10
    prometheus_file: str = ""
    prometheus_file_interval_seconds: int = 10

    # -- validation ------------------------------------------------------------------------

    def validate(self) -> GhostConfig:
        """Raise ConfigError listing every problem; return self when all is well."""
        problems = list(self._problems())
        if problems:
            raise ConfigError("Invalid django_ghost options:\n- " + "\n- ".join(problems))
        return self

    def validate_target(self) -> GhostConfig:
        """Also require what a run needs: a database, a table and an ALTER."""
        self.validate()
        required = ("database", "table") if self.revert else ("database", "table", "alter")
        missing = [n for n in required if not getattr(self, n).strip()]
        if missing:
            raise ConfigError(f"Missing required option(s): {', '.join(missing)}.")
        return self

    def _problems(self) -> Iterable[str]:
        for name, (low, high) in OPTION_RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                yield f"{name}={value} is out of range; allowed {low}..{high}."
        if self.cut_over not in CUT_OVER_ALGORITHMS:
            yield f"cut_over={self.cut_over!r} is unknown; use one of {CUT_OVER_ALGORITHMS}."
        for name in ("ghost_table_template", "changelog_table_template", "old_table_template"):
            template = getattr(self, name)
            if "{table}" not in template:
                yield f"{name}={template!r} must contain the {{table}} placeholder."
        templates = {
            self.ghost_table_template,
            self.changelog_table_template,
            self.old_table_template,
        }
        if len(templates) != 3:
            yield "ghost, changelog and old table templates must all differ."
        if self.discard_foreign_keys and self.skip_foreign_key_checks:
            yield "discard_foreign_keys and skip_foreign_key_checks exclude each other."
        if self.resume and (self.initially_drop_ghost_table or not self.execute):
            yield (
                "resume continues an earlier run: it needs execute and excludes "
                "initially_drop_ghost_table."
            )
        if self.revert and self.resume:
            yield "revert and resume exclude each other (a revert starts from the cut-over)."
        if self.revert != bool(self.old_table):
            yield "revert and old_table go together: revert=true needs the kept old table's name."
        if self.revert and (self.gtid or self.include_triggers):
            yield (
                "revert streams from the cut-over's file position (without gtid) and does not "
                "carry triggers (without include_triggers)."
            )
        yield from self._throttle_problems()
        yield from self._tls_problems()
        yield from _compatibility_problems(self)
        yield from self._topology_problems()
        yield from self._metrics_problems()
        yield from self._trigger_problems()
        if self.throttle_http and not self.throttle_http.startswith(("http://", "https://")):
            yield f"throttle_http={self.throttle_http!r} must start with http:// or https://."
        if len(self.serve_socket_file.encode()) > 107:
            yield "serve_socket_file is longer than a unix socket path may be (107 bytes)."

    def _topology_problems(self) -> Iterable[str]:
        # allow_on_master stays allowed with the replica modes (its default is true here,
        # unlike gh-ost): those modes refuse a host that is not a replica anyway.
        if self.migrate_on_replica and self.test_on_replica:
            yield "migrate_on_replica and test_on_replica exclude each other."
        if self.test_on_replica_skip_replica_stop and not self.test_on_replica:
            yield "test_on_replica_skip_replica_stop needs test_on_replica."
        if self.assume_master_host:
            try:
                parse_host_port(self.assume_master_host)
            except ValueError:
                yield f"assume_master_host={self.assume_master_host!r} is not host[:port]."
            if self.migrate_on_replica or self.test_on_replica:
                yield (
                    "assume_master_host names the primary to migrate on; migrate_on_replica and "
                    "test_on_replica migrate on the replica itself: use one or the other."
                )
        elif self.master_user or self.master_password:
            yield "master_user and master_password need assume_master_host."

    def _tls_problems(self) -> Iterable[str]:
        # gh-ost: every --ssl-* flag requires --ssl; a client certificate needs its key.
        for name in ("ssl_ca", "ssl_cert", "ssl_key", "ssl_allow_insecure"):
            if getattr(self, name) and not self.ssl:
                yield f"{name} needs ssl (--ssl): TLS is off, so it would be ignored."
        if bool(self.ssl_cert) != bool(self.ssl_key):
            yield "ssl_cert and ssl_key go together: give both, or neither."

    def _trigger_problems(self) -> Iterable[str]:
        # gh-ost's rules (go/cmd/gh-ost/main.go): the new table's triggers need names of
        # their own, since the original's stay taken until the old table is dropped.
        if self.include_triggers and not self.trigger_suffix:
            yield (
                "include_triggers needs trigger_suffix (flag --trigger-suffix, e.g. _new): "
                "the new table's triggers are created under their names plus that suffix."
            )
        if self.trigger_suffix and not self.include_triggers:
            yield "trigger_suffix is only used with include_triggers; set both or neither."
        if self.remove_trigger_suffix_if_exists and not self.include_triggers:
            yield (
                "remove_trigger_suffix_if_exists is only used with include_triggers and "
                "trigger_suffix; set them too, or drop it."
            )
        if self.trigger_suffix and not re.fullmatch(r"[0-9A-Za-z_]+", self.trigger_suffix):
            yield (
                f"trigger_suffix={self.trigger_suffix!r} may hold only letters, digits and "
                "underscores (0-9, a-z, A-Z, _)."
            )

    def _throttle_problems(self) -> Iterable[str]:
        # The throttler and the control socket parse with the same functions.
        for name in ("max_load", "critical_load"):
            try:
                parse_load(getattr(self, name), name=name.replace("_", "-"))
            except ConfigError as exc:
                yield str(exc)
        try:
            parse_replicas(self.throttle_control_replicas)
        except ConfigError as exc:
            yield str(exc)

    def _metrics_problems(self) -> Iterable[str]:
        for parse, value in ((parse_statsd_addr, self.statsd_addr), (parse_tags, self.statsd_tags)):
            try:
                parse(value)
            except ConfigError as exc:
                yield str(exc)

    def redacted(self) -> dict[str, Any]:
        """The options as a dict with secrets replaced, safe to log or print."""
        return {
            k: ("********" if k in SECRET_OPTIONS and v else v)
            for k, v in dataclasses.asdict(self).items()
        }


STORAGE_ENGINES = ("innodb",)
CLOUD_OPTIONS = ("aliyun_rds", "gcp", "azure")


def _compatibility_problems(config: GhostConfig) -> Iterable[str]:
    """gh-ost's options whose values this engine cannot honour."""
    if config.storage_engine.strip().lower() not in STORAGE_ENGINES:
        yield (
            f"storage_engine={config.storage_engine!r}: django_ghost migrates InnoDB tables "
            "only (gh-ost's experimental rocksdb mode is not implemented); convert the "
            "table with ALTER TABLE ... ENGINE=InnoDB, or use gh-ost itself for it."
        )
    try:
        parse_charsets(config.charset)
    except ConfigError as exc:
        yield str(exc)
    prefix = config.force_table_names
    if prefix and ("\x00" in prefix or len(prefix) > 64 or prefix.strip() != prefix):
        yield (
            f"force_table_names={prefix!r} must be a table name (1 to 64 characters, no "
            "NUL, no surrounding spaces)."
        )
    old = config.old_table_template
    if config.timestamp_old_table and "{timestamp}" not in old and old != "_{table}_del":
        yield (
            f"timestamp_old_table renames the old table _{{table}}_<timestamp>_del, but "
            f"old_table_template={old!r} gives it another name: put {{timestamp}} in the "
            "template instead (e.g. '_{table}_{timestamp}_old')."
        )


def option_names() -> tuple[str, ...]:
    """Every option name, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(GhostConfig))


def option_types() -> dict[str, type]:
    """Option name -> Python type (bool, int, float or str)."""
    kinds = {"bool": bool, "int": int, "float": float, "str": str}
    return {f.name: kinds[str(f.type)] for f in dataclasses.fields(GhostConfig)}


_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


def parse_bool(raw: str, *, name: str) -> bool:
    """Strictly parse a boolean; anything not clearly true or false is an error."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use one of: true, false, 1, 0, yes, no.")


def parse_value(name: str, value: Any) -> Any:
    """Coerce ``value`` (often a string from the environment) to option ``name``'s type."""
    types = option_types()
    if name not in types:
        raise ConfigError(_unknown_option_message(name))
    kind = types[name]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return parse_bool(value, name=name)
        raise ConfigError(f"{name}={value!r} must be a boolean.")
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}={value!r} must be an integer, not a boolean.")
        try:
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={value!r} must be an integer.") from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={value!r} must be a number.") from None
    if not isinstance(value, str):
        raise ConfigError(f"{name}={value!r} must be a string.")
    return value


def _unknown_option_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, option_names(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown django_ghost option {name!r}.{hint} See docs/settings.md for every option."


def merge_layers(
    layers: Iterable[tuple[str, Mapping[str, Any]]],
) -> tuple[GhostConfig, dict[str, str]]:
    """Merge named layers, lowest priority first, into a validated config.

    Returns the config and, per option, the name of the layer its value came from
    ("default" when no layer set it). Unknown keys are errors.
    """
    values: dict[str, Any] = {}
    origin = dict.fromkeys(option_names(), "default")
    for layer_name, mapping in layers:
        for key, raw in mapping.items():
            name = key.lower().replace("-", "_")
            values[name] = parse_value(name, raw)
            origin[name] = layer_name
    return GhostConfig(**values).validate(), origin
