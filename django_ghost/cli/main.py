"""``django-ghost``'s entry point: run a migration (or its noop), the clean-up mode, and
the exit codes.

Without ``--execute`` the engine validates, builds the ghost table, prints the new table
structure and drops it again (gh-ost's noop). Exit codes: 0 success, 1 the migration
failed (the engine's message names cause and remedy), 2 the command line is wrong.
SIGTERM and Ctrl-C stop the engine, which leaves the original table untouched (exit 1).
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from django_ghost import __version__
from django_ghost.cli.args import UsageError, notices, parse_args, resolve
from django_ghost.cli.flags import PASSWORD_ENVIRONMENT, PROG, flag_name, render_help
from django_ghost.cli.output import (
    Console,
    StatusPrinter,
    format_summary,
    new_table_structure,
    show_config,
    start_logging,
    stop_logging,
)
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError, GhostError
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import ConnectionSpec, connect
from django_ghost.engine.revert import Reverter
from django_ghost.engine.state.cleanup import (
    NOT_CONFIRMED,
    carry_out,
    confirmed,
    list_leftovers,
    plan_cleanup,
    refuse_if_running,
)
from django_ghost.engine.state.leftovers import format_leftovers

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


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
    if not inv.switches.get("quiet"):
        for notice in notices(inv):
            console.err(f"{PROG}: {notice}")
    if inv.switches.get("show-config"):
        console.out(show_config(resolved))
        return EXIT_OK
    if inv.switches.get("cleanup"):
        return _cleanup(config, console, inv.switches, confirm)
    try:
        config.validate_target()
    except ConfigError as exc:
        raise UsageError(
            f"{exc} Give --database, --table and --alter (or ALTER TABLE db.table ... in --alter); "
            "a --revert gives --database, --table and --old-table."
        ) from None
    logs = start_logging(console, inv.switches)
    try:
        return _run(config, console, quiet=bool(inv.switches.get("quiet")), stack=stack)
    finally:
        stop_logging(logs)


def _run(config: GhostConfig, console: Console, *, quiet: bool, stack: bool) -> int:
    target = f"{config.database}.{config.table}"
    longest = float(getattr(config, "status_interval_seconds", 10))
    printer = None if quiet else StatusPrinter(console, longest)
    stop = threading.Event()
    what = f"revert to {config.old_table}" if config.revert else config.alter
    if config.execute:
        console.out(f"{'Reverting' if config.revert else 'Migrating'} {target}: {what}")
    else:
        console.out(f"Validating {target} (noop; pass --execute to migrate): {what}")
    runner = Reverter if config.revert else Migrator
    try:
        with _StopOnSignal(stop):
            result = runner(config, on_progress=printer, stop=stop).run()
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
    """--cleanup: list the leftovers of --database; with --table, drop that table's.

    What is listed, kept and asked is the engine's clean-up policy (state/cleanup.py).
    """
    if not config.database:
        raise UsageError("--cleanup needs --database (and --table to drop anything).")
    spec = ConnectionSpec.from_config(config)
    try:
        conn = connect(spec)
    except Exception as exc:  # noqa: BLE001 - MySQLdb errors, reported like the engine's
        return _failed(console, GhostError(f"Cannot connect to {spec.describe()}: {exc}"), False)
    try:
        if config.table:
            refuse_if_running(conn, config.database, config.table)
        found = list_leftovers(conn, config)
        if not found:
            console.out(f"No leftovers in {config.database}.")
            return EXIT_OK
        console.out(format_leftovers(found))
        if not config.table:
            console.out("Give --table to drop one table's leftovers.")
            return EXIT_OK
        drop_old = bool(switches.get("drop-old"))
        # A run with --force-table-names left tables named after that name.
        owner = config.force_table_names or config.table
        plan = plan_cleanup(found, owner, drop_old=drop_old)
        for notice in plan.notices():
            console.out(notice)
        if not plan.drop:
            return EXIT_OK
        if not confirmed(plan, yes=bool(switches.get("yes")), ask=confirm):
            console.out(NOT_CONFIRMED)
            return EXIT_FAILED
        removed = carry_out(conn, config, plan, drop_old=drop_old)
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
