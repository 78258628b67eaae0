"""The ``django-ghost`` flag table: every flag, gh-ost's flags refused with the reason, --help.

Which flags are *supported* is never listed here: every :class:`GhostConfig` field is a
flag (``chunk_size`` → ``--chunk-size``), read from the dataclass at run time so an option
added to the engine becomes a flag without touching the CLI. This module holds what the
fields cannot say:

- ``OPTION_HELP``: one line of help per option (a field's ``metadata["help"]`` wins);
- ``GHOST_FLAGS``: the gh-ost flags django-ghost refuses, each with the reason and what
  to do instead. A flag whose option the engine gains leaves it (a test checks that no
  entry is shadowed by an option);
- ``NO_EFFECT_FLAGS``: gh-ost flags accepted although they change nothing for this
  engine, each with why (said in a notice when given);
- ``CLI_ONLY_FLAGS``: flags of the command itself (help, password prompt, option file,
  clean-up mode).

Every flag of gh-ost's own ``--help`` is one of these or an option (tests/unit/cli).

From these it builds the flag table (:func:`all_flags`, :func:`rejected_flags`), the help
text (:func:`render_help`) and the rows of docs/cli.md's tables (:func:`iter_flag_rows`).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import textwrap
from collections.abc import Iterator
from typing import Any

from django_ghost.engine.config import GhostConfig

PROG = "django-ghost"
NO_EFFECT_GROUP = "gh-ost flags that change nothing here"

# Reasons shared by several gh-ost flags.
_MDL_CHECK = (
    "the atomic cut-over confirms that its RENAME waits for the table's metadata lock "
    "through information_schema.PROCESSLIST and never reads "
    "performance_schema.metadata_locks"
)

GHOST_FLAGS: dict[str, str] = {
    # -- ALTER analysis --------------------------------------------------------------------
    "skip-renamed-columns": (
        "it leaves the renamed column without data; use --approve-renamed-columns, which "
        "carries the data over"
    ),
    "skip-strict-mode": (
        "the copy and the apply always run in strict SQL mode, so that a value the new "
        "table cannot hold stops the migration instead of being truncated into it; fix "
        "those values or widen the new column (for zero dates use --allow-zero-in-date)"
    ),
}
"""The gh-ost flags django-ghost refuses, with why and what to do instead.

gh-ost's own command-line flags that django-ghost implements in the CLI itself
(``--conf``, ``--ask-pass``, ``--help`` ...) are in ``CLI_ONLY_FLAGS``, and those it
accepts without effect in ``NO_EFFECT_FLAGS``, not here. An entry whose flag the engine
gains must go (a test checks that every reason here can be shown)."""


NO_EFFECT_FLAGS: dict[str, tuple[str, str]] = {
    # flag: (kind, why it changes nothing). Accepted so that gh-ost command lines run
    # unchanged; a one-line notice on stderr says so.
    "assume-rbr": (
        "bool",
        "django-ghost never restarts replication to make sure it logs rows: it reads "
        "@@binlog_format, which must already be ROW (or use --switch-to-rbr)",
    ),
    "skip-port-validation": (
        "bool",
        "django-ghost does not compare @@port with --port, so there is nothing to skip",
    ),
    "skip-metadata-lock-check": ("bool", _MDL_CHECK),
    "allow-setup-metadata-lock-instruments": ("bool", _MDL_CHECK),
    "checkpoint": (
        "bool",
        "checkpoints are always written, every --checkpoint-seconds; continue a killed "
        "run with --resume",
    ),
    "replication-lag-query": (
        "str",
        "deprecated in gh-ost, which ignores it too: the lag is read from the changelog "
        "heartbeat and compared with --max-lag-millis",
    ),
}


CLI_ONLY_FLAGS: dict[str, tuple[str, str]] = {
    # flag: (kind, help). kind "bool" is a bare switch; "str" takes a value.
    "help": ("bool", "Show this help and exit."),
    "version": ("bool", "Print the version and exit."),
    "check-flag": (
        "bool",
        "Only check that every other flag given exists and is supported (give dummy values "
        "to flags that take one); exit 0 if so, 2 otherwise.",
    ),
    "show-config": (
        "bool",
        "Print the resolved options (password redacted) with where each came from, and exit.",
    ),
    "ask-pass": ("bool", "Prompt for the password (not echoed). The preferred way."),
    "conf": (
        "str",
        "Option file with a [client] section: user, password, host, port, socket. "
        "${VAR} is expanded from the environment. Keep it chmod 600.",
    ),
    "verbose": ("bool", "Log the engine's progress messages (INFO) to stderr."),
    "debug": ("bool", "Log debug messages to stderr."),
    "quiet": ("bool", "Print no status lines; log errors only."),
    "stack": ("bool", "On an error, also print the Python traceback."),
    # The clean-up mode (docs/reliability.md).
    "cleanup": (
        "bool",
        "List the leftovers of interrupted migrations in --database (ghost, changelog and "
        "old tables, stale control sockets); with --table, offer to drop that table's.",
    ),
    "drop-old": ("bool", "With --cleanup: also drop the old (_del) table, which holds data."),
    "yes": ("bool", "With --cleanup: drop without asking for confirmation."),
}

PASSWORD_ENVIRONMENT = ("GHOST_PASSWORD", "MYSQL_PWD")
"""Environment variables holding the password, the first one set wins."""


OPTION_HELP: dict[str, str] = {
    "switch_to_rbr": "Switch a server logging in STATEMENT/MIXED format to ROW before starting.",
    "checkpoint_seconds": "Seconds between checkpoints (copy bound and applied binlog position).",
    "resume": "Continue an earlier run of the same ALTER from its last checkpoint.",
    "auto_resume_attempts": "Resume by itself this many times after a lost connection.",
    "revert": (
        "Put the kept old table (--old-table) back with the changes made since the "
        "cut-over, no row copy (docs/revert.md); excludes --resume."
    ),
    "old_table": "The old table a --revert puts back (e.g. _mytable_del).",
    "host": "Server to connect to; the migration runs on it.",
    "port": "Server TCP port.",
    "socket": "Unix socket path; used instead of host and port when given.",
    "user": "MySQL/MariaDB user.",
    "password": (
        "Password. Visible in the process list: prefer --ask-pass, GHOST_PASSWORD, "
        "MYSQL_PWD or --conf."
    ),
    "database": "Database of the table (may come from ALTER TABLE db.table in --alter).",
    "table": "Table to migrate (may come from ALTER TABLE db.table in --alter).",
    "alter": (
        "The change: clauses ('ADD COLUMN c INT, ADD INDEX (c)') or a full "
        "'ALTER TABLE [db.]table ...' statement."
    ),
    "execute": "Really migrate. Without it, only validate and print the new table (noop).",
    "allow_on_master": "Allow migrating when --host is a primary (default); false: refuse.",
    "charset": (
        "Connection character set(s), comma-separated, the first the server accepts "
        "(gh-ost: utf8mb4,utf8,latin1); a collation names its charset."
    ),
    "mysql_timeout": "Connect, read and write timeout of each connection, s (0: driver defaults).",
    "storage_engine": "Storage engine of the table: only innodb (gh-ost's rocksdb is refused).",
    "assume_master_host": "--host is a replica: migrate on this primary (host[:port]).",
    "master_user": "User for the primary given with --assume-master-host.",
    "master_password": "Password for the primary given with --assume-master-host.",
    "migrate_on_replica": "Migrate (and cut over) on the replica --host; primary untouched.",
    "test_on_replica": (
        "As --migrate-on-replica, but stop replication, swap and swap back: both tables stay."
    ),
    "test_on_replica_skip_replica_stop": "With --test-on-replica, keep replication running.",
    "allow_master_master": (
        "Allow a master-master (active-passive) topology: the co-master nearest to --host "
        "is migrated on."
    ),
    "tungsten": (
        "Tungsten replication: do not require log_slave_updates; with --assume-master-host "
        "inspect --host as its replica."
    ),
    "aliyun_rds": "On Aliyun RDS: name the server by --host:--port, not @@hostname:@@port.",
    "gcp": "On Google Cloud SQL: name the server by --host:--port, not @@hostname:@@port.",
    "azure": "On Azure Database for MySQL: name the server by --host:--port, not @@hostname.",
    "ghost_table_template": "Name of the ghost table; {table} and {timestamp} are replaced.",
    "changelog_table_template": "Name of the changelog table.",
    "old_table_template": "Name the original table gets after the cut-over.",
    "initially_drop_ghost_table": "Drop a ghost table left by an earlier run first.",
    "initially_drop_old_table": "Drop an old table left by an earlier run first.",
    "ok_to_drop_table": "Drop the old table after a successful cut-over.",
    "force_table_names": (
        "Base name of the ghost, changelog and old tables instead of the table's name "
        "(_<name>_gho, ...)."
    ),
    "timestamp_old_table": "Name the old table _<table>_<YYYYMMDDhhmmss>_del (start time).",
    "approve_renamed_columns": (
        "Accept column renames (CHANGE old new, RENAME COLUMN); their data is carried over."
    ),
    "skip_foreign_key_checks": "Do not look for foreign keys (you know there are none).",
    "discard_foreign_keys": "Migrate a child table; the new table has no foreign keys.",
    "allow_nullable_unique_key": "Accept a unique key with NULLable columns as the copy key.",
    "allow_zero_in_date": "Allow zero dates (0000-00-00) while copying and applying.",
    "include_triggers": (
        "Migrate a table with triggers: they are created on the new table, renamed with "
        "--trigger-suffix, at the cut-over."
    ),
    "trigger_suffix": "Suffix of the new table's trigger names (letters, digits, _; e.g. _new).",
    "remove_trigger_suffix_if_exists": (
        "A trigger whose name already ends with --trigger-suffix loses it instead."
    ),
    "attempt_instant_ddl": (
        "First try the ALTER with ALGORITHM=INSTANT on the table itself; if the server "
        "does it, nothing is copied. Otherwise the online migration runs."
    ),
    "chunk_size": "Rows per copy chunk.",
    "chunk_time_target_millis": "Size chunks to take about this long (0: fixed chunk size).",
    "defer_secondary_indexes": "Build the new table's plain indexes after the copy (faster).",
    "early_index_build_events_per_second": (
        "Build deferred indexes during the copy once the table takes this many row "
        "events/s (0: always after the copy)."
    ),
    "nice_ratio": "Sleep this many times each chunk's duration after it (0: no sleep).",
    "max_latency_millis": (
        "Pace the copy (smaller chunks, pauses) to keep the p95 latency of a write-like "
        "probe on the table (a locking read and a commit) within this many ms (0: off)."
    ),
    "dml_batch_size": "Binlog events applied per transaction.",
    "default_retries": "Attempts for retried operations (chunk copy, cut-over).",
    "replica_server_id": "server_id used to read the binlog; unique per running migration.",
    "gtid": (
        "Position the binlog stream, checkpoints and resume by GTID instead of file:pos; "
        "a resume may then read another server of the same replication domains."
    ),
    "heartbeat_interval_millis": "How often the heartbeat is written to the changelog.",
    "max_lag_millis": "Lag above which the copy throttles; also gates the cut-over.",
    "panic_on_warnings": (
        "Abort when a copy or apply statement raises a warning or note (a value rounded "
        "or truncated by the new column type); the original stays untouched."
    ),
    "binlogsyncer_max_reconnect_attempts": (
        "Reconnects of the binlog stream in a row before the migration fails (0: unlimited)."
    ),
    "cut_over": "Cut-over algorithm: atomic (default) or two-step.",
    "cut_over_lock_timeout_seconds": "Lock wait timeout of each cut-over attempt.",
    "cut_over_exponential_backoff": "Wait exponentially longer between cut-over attempts.",
    "exponential_backoff_max_interval": "Longest wait between cut-over attempts (seconds).",
    "checksum": "Verify the new table against the original before the cut-over.",
    "checksum_chunk_size": "Rows per checksum chunk.",
    "verify_applied_keys": (
        "Verify every key the apply writes against the original, in the background and "
        "under the cut-over lock."
    ),
    "postpone_cut_over_flag_file": "While this file exists the cut-over waits.",
    "analyze_ghost_table_before_cutover": (
        "Run ANALYZE TABLE on the new table before the cut-over, so its index statistics "
        "are fresh when it takes the traffic."
    ),
    "exact_rowcount": "Count the rows with COUNT(*) for an exact progress figure.",
    "concurrent_rowcount": "With --exact-rowcount, count while copying; false: count first.",
    "status_interval_seconds": "Longest gap between two status lines.",
    "max_load": "Throttle while a status variable reaches its limit: 'Threads_running=25,...'.",
    "critical_load": "Abort when a status variable reaches its limit: 'Threads_running=200'.",
    "critical_load_interval_millis": "Re-check critical load after this delay before aborting.",
    "critical_load_hibernate_seconds": "Pause this long instead of aborting on critical load.",
    "throttle_query": "Throttle while this query returns a value > 0.",
    "throttle_http": "Throttle while this URL does not answer 200.",
    "throttle_http_interval_millis": "How often the throttle URL is checked.",
    "throttle_http_timeout_millis": "Timeout of one throttle URL check.",
    "ignore_http_errors": "Do not throttle when the throttle URL cannot be reached.",
    "throttle_control_replicas": "Replicas whose lag throttles the copy: 'host:port,...'.",
    "throttle_flag_file": "Throttle while this file exists.",
    "throttle_additional_flag_file": "Throttle while this file exists as well.",
    "panic_flag_file": "Abort (leaving the original untouched) when this file appears.",
    "serve_socket_file": "Unix socket for interactive commands (status, throttle, panic ...).",
    "initially_drop_socket_file": "Remove a stale control socket file first.",
    "serve_tcp_port": "TCP port for interactive commands (0: off).",
    "serve_tcp_host": "Address the TCP control port binds to.",
    "force_named_cut_over": "The 'unpostpone' command must name the table.",
    "force_named_panic": "The 'panic' command must name the table.",
    "hooks_path": "Directory of hook executables (gh-ost-on-<event>*).",
    "hooks_status_interval": "Seconds between two status hooks.",
    "hooks_callables": "Python hook callables, dotted paths separated by commas.",
    "hooks_hint": "Free text passed to hooks.",
    "hooks_hint_owner": "Owner name passed to hooks.",
    "hooks_hint_token": "Token passed to hooks.",
    "statsd_addr": (
        "Send gh-ost's metrics to this DogStatsD address: host:port (UDP) or "
        "unix:///path; empty: off."
    ),
    "statsd_tags": (
        "Tags added to every metric, key:value,...; the flag may be repeated "
        "(e.g. --statsd-tags=env:prod --statsd-tags=service:shop)."
    ),
    "runtime_metrics_interval": (
        "Seconds between the process's runtime gauges (python_runtime.*); 0: off."
    ),
    "prometheus_file": (
        "Write every metric in the Prometheus text format to this file "
        "(e.g. for node_exporter's textfile collector); empty: off."
    ),
    "prometheus_file_interval_seconds": "Seconds between two writes of --prometheus-file.",
}
"""One line of help per GhostConfig option; options missing here get a generic line."""

REPEATABLE_OPTIONS: dict[str, str] = {"statsd_tags": ","}
"""Options whose flag may be given more than once (as gh-ost's): the values are joined
with the separator; any other flag given twice keeps the last value."""


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
    notice: str = ""
    """For a gh-ost flag that changes nothing here: why (said when it is given)."""

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
    for name, (kind, why) in NO_EFFECT_FLAGS.items():
        text = f"Accepted for gh-ost's command lines; changes nothing: {why}."
        flags.setdefault(name, Flag(name, kind, text, NO_EFFECT_GROUP, notice=why))
    return flags


def rejected_flags() -> dict[str, str]:
    """gh-ost flags django-ghost refuses, with the reason; supported ones drop out."""
    accepted = all_flags()
    return {name: why for name, why in GHOST_FLAGS.items() if name not in accepted}


def rejection_message(name: str, why: str) -> str:
    return f"gh-ost flag --{name} is not supported by django-ghost: {why}."


def notice_message(name: str, why: str) -> str:
    return f"notice: --{name} changes nothing here: {why}."


def unknown_message(name: str) -> str:
    candidates = list(all_flags()) + list(rejected_flags())
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f" Did you mean --{close[0]}?" if close else ""
    return f"unknown flag --{name}.{hint}"


# -- help -----------------------------------------------------------------------------------


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
        "gh-ost flags not supported (refused with the reason):",
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


def iter_flag_rows() -> Iterator[tuple[str, str, str]]:
    """(flag, status, note) rows: the flag tables of docs/cli.md are generated from these
    (cli/docs.py). Status: option, command, no effect or rejected."""
    for flag in all_flags().values():
        if flag.option is not None:
            yield f"--{flag.name}", "option", flag.help
        elif flag.notice:
            yield f"--{flag.name}", "no effect", flag.notice
        else:
            yield f"--{flag.name}", "command", flag.help
    for name, why in sorted(rejected_flags().items()):
        yield f"--{name}", "rejected", why
