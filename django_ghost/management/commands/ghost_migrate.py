"""``manage.py ghost_migrate``: Django's ``migrate`` with ALTERs routed online.

Accepts every ``migrate`` argument, plus configuration flags (``--ghost-set KEY=VALUE``,
``--chunk-size``, ``--max-lag-millis``, ``--postpone-cut-over``... see ``--help``), and:

- ``--plan`` / ``--dry-run``: no writes at all; per migration, each statement with its
  route and why, merged batches, row estimates and preflight results;
- ``--show-config``: the effective options of the alias and where each came from;
- ``--no-ghost``: run exactly like ``migrate``;
- ``--no-resume``: start interrupted online runs over instead of resuming them.

While it runs, a progress bar per online table is drawn with rich, fed by the engine's
progress snapshots. Ctrl-C asks the engine to stop; the original table stays intact and
the migration stays unrecorded. A re-run after a crash resumes each interrupted online
run of the same ALTER from its checkpoint and says so (backends/mysql/interrupted.py).
Errors become ``CommandError`` (exit status 1; 130 after
Ctrl-C), following Django's conventions.

Every online run serves its control socket at the path ``socket_path_template`` gives
(per alias, database and table), which is how ``manage.py ghost_ctl`` finds it. With
``--postpone-cut-over`` the run copies and keeps applying changes, then waits for
``ghost_ctl approve TABLE`` (or the removal of its postpone flag file); while it waits,
its progress bar, its history row and ``status-json`` say so.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from django_ghost.backends.mysql.history import (
    POSTPONED_PHASE_PREFIX,
    RunTracker,
    TrackedMigrator,
)
from django_ghost.backends.mysql.router import INSTANT, ONLINE, Step
from django_ghost.backends.mysql.state import GhostSession, activated
from django_ghost.conf import (
    ResolvedConfig,
    all_option_names,
    control_socket_path,
    ghost_migrate_from_env,
    postpone_flag_path,
    resolve,
)
from django_ghost.engine.errors import AbortedError, GhostError

logger = logging.getLogger("django_ghost")

# Flags that map one to one onto options (dest name == option name).
OPTION_FLAGS: dict[str, tuple[type, str]] = {
    "chunk_size": (int, "Rows per copy chunk."),
    "max_lag_millis": (int, "Throttle when replication lag exceeds this."),
    "cut_over_lock_timeout_seconds": (int, "Lock wait timeout of each cut-over attempt."),
    "min_table_rows": (int, "Tables with fewer estimated rows are altered directly."),
    "batch": (str, 'Combine alters per "operation" (default) or per "migration".'),
}
GHOST_DEFAULTS: dict[str, Any] = {
    "ghost_set": [],
    "no_ghost": False,
    "dry_run": False,
    "show_config": False,
    "postpone_cut_over": False,
    "postpone_flag_file": None,
    "no_resume": False,
    **dict.fromkeys(OPTION_FLAGS),
}


class Command(migrate.Command):
    help = (
        "Apply migrations like `migrate`, routing ALTER TABLEs of big tables through the "
        "online engine (ghost table, row copy, binlog apply, atomic cut-over)."
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        group = parser.add_argument_group("django_ghost")
        group.add_argument(
            "--ghost-set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Set any option (see docs/settings.md); repeatable; highest priority.",
        )
        for name, (kind, text) in OPTION_FLAGS.items():
            group.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=text)
        group.add_argument(
            "--postpone-cut-over",
            action="store_true",
            help="Copy and keep applying changes, then wait before the cut-over until "
            "`manage.py ghost_ctl approve TABLE` (or the flag file of "
            "postpone_flag_file_template is removed).",
        )
        group.add_argument(
            "--postpone-flag-file",
            metavar="PATH",
            default=None,
            help="With --postpone-cut-over: this flag file instead of the template's "
            "(one file for every table of the run: removing it approves them all).",
        )
        group.add_argument(
            "--no-resume",
            action="store_true",
            help="Do not resume online runs a crash interrupted: drop their ghost and "
            "changelog tables and start over (option resume_interrupted=false).",
        )
        group.add_argument(
            "--dry-run",
            action="store_true",
            help="Same as --plan: print statements, routes and preflight; write nothing.",
        )
        group.add_argument(
            "--show-config",
            action="store_true",
            help="Print the effective options of the alias with their source, then exit.",
        )
        group.add_argument(
            "--no-ghost",
            action="store_true",
            help="Run exactly like `migrate` (no online routing).",
        )

    # -- entry -------------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> Any:
        options = {**GHOST_DEFAULTS, **options}
        alias = options.get("database") or DEFAULT_DB_ALIAS
        try:
            from_env = ghost_migrate_from_env()
            overrides = self._overrides(options)
            config = resolve(alias, overrides=overrides)
        except GhostError as exc:
            raise CommandError(str(exc)) from exc
        if options["show_config"]:
            self._show_config(config)
            return None
        enabled = not options["no_ghost"] and from_env is not False and config.options.enabled
        if not enabled:
            return super().handle(*args, **options)
        if not options["skip_checks"]:
            self.check(databases=[alias], tags=["django_ghost"])
        session = GhostSession(aliases=frozenset({alias}), overrides=overrides)
        if options["plan"] or options["dry_run"]:
            session.mode = "plan"
            with activated(session):
                self._plan(alias, options, session)
            return None
        self._session = session
        session.notify = self._notifier(options["verbosity"])
        session.migrator_factory = self._migrator_factory(
            alias,
            postpone=bool(options["postpone_cut_over"]),
            flag_file=options["postpone_flag_file"],
            factory=session.migrator_factory,
        )
        with self._progress(session, options["verbosity"]), activated(session):
            try:
                result = super().handle(*args, **options)
            except GhostError as exc:
                raise self._failure(session, exc) from exc
        self._summary(session, options["verbosity"])
        return result

    def _overrides(self, options: dict[str, Any]) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        for name in OPTION_FLAGS:
            if options.get(name) is not None:
                overrides[name] = options[name]
        if options.get("no_resume"):
            overrides["resume_interrupted"] = False
        if options.get("postpone_flag_file") and not options.get("postpone_cut_over"):
            raise CommandError("--postpone-flag-file only makes sense with --postpone-cut-over.")
        if options.get("postpone_cut_over") and (
            "postpone_cut_over_flag_file" not in all_option_names()
        ):
            raise CommandError("--postpone-cut-over is not supported by this engine yet.")
        for item in options.get("ghost_set") or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--ghost-set expects KEY=VALUE, got {item!r}.")
            overrides[key.strip()] = value
        return overrides

    def _migrator_factory(
        self,
        alias: str,
        *,
        postpone: bool,
        flag_file: str | None,
        factory: Callable[..., Any] | None,
    ) -> Callable[..., Any]:
        """Build each table's engine with its control socket (and postpone flag file)
        paths, and keep its history row in step with the phase (waiting, stall, checksum).

        The router resolves the alias's configuration and chooses the table; the paths
        depend on both, so they are filled in here, where the engine is built.

        An approval covers the rest of that table's online work in this command: a
        migration whose operations each copy the table (AddField, then AddIndex) waits
        once, not once per copy. ``--batch migration`` makes it a single copy anyway.
        """
        approved: set[str] = set()

        def build(engine_config: Any, **kwargs: Any) -> Any:
            config = resolve(alias, overrides=self._session.overrides)
            table = engine_config.table
            changes: dict[str, Any] = {"serve_socket_file": control_socket_path(config, table)}
            if postpone and table not in approved:
                changes["postpone_cut_over_flag_file"] = flag_file or postpone_flag_path(
                    config, table
                )
            engine_config = dataclasses.replace(engine_config, **changes)
            tracker = RunTracker(alias, table) if config.options.history else None
            on_progress = kwargs.pop("on_progress", None)

            def progress(snapshot: Any) -> None:
                if tracker is not None:
                    tracker.phase(str(snapshot.phase))
                if on_progress is not None:
                    on_progress(snapshot)

            if factory is not None:
                migrator = factory(engine_config, on_progress=progress, **kwargs)
            else:
                from django_ghost.engine.migrator import Migrator

                migrator = Migrator(engine_config, on_progress=progress, **kwargs)
            return TrackedMigrator(migrator, tracker, on_success=lambda: approved.add(table))

        return build

    def migration_progress_callback(self, action: str, migration: Any = None, fake: bool = False):
        session: GhostSession | None = getattr(self, "_session", None)
        if session is not None and migration is not None and action.endswith("_start"):
            session.current_migration = f"{migration.app_label}.{migration.name}"
        return super().migration_progress_callback(action, migration, fake)

    # -- reporting ---------------------------------------------------------------------

    def _notifier(self, verbosity: int) -> Callable[[str], None]:
        def notify(text: str) -> None:
            if verbosity >= 1:
                # On its own line: Django's "Applying <migration>..." awaits its " OK".
                self.stdout.write(self.style.WARNING(f"\n  {text}"))

        return notify

    def _show_config(self, config: ResolvedConfig) -> None:
        self.stdout.write(f"Effective django_ghost options for alias {config.alias!r}:")
        rows = config.rows()
        width = max(len(name) for name, _, _ in rows)
        for name, value, source in rows:
            self.stdout.write(f"  {name.ljust(width)}  {value!r:<28}  ({source})")

    def _failure(self, session: GhostSession, exc: GhostError) -> CommandError:
        migration = session.current_migration or "the current migration"
        done = [s for s in session.events if s.done and s.migration == session.current_migration]
        lines = [
            f"{type(exc).__name__}: {exc}",
            f"{migration} was NOT recorded as applied.",
        ]
        if done:
            lines.append("Statements of it that already ran (MySQL cannot roll DDL back):")
            lines += [f"  [{s.route}] {stmt}" for s in done for stmt in s.statements]
        else:
            lines.append("None of its statements ran.")
        code = 130 if isinstance(exc, AbortedError) and session.stop.is_set() else 1
        return CommandError("\n".join(lines), returncode=code)

    def _summary(self, session: GhostSession, verbosity: int) -> None:
        """One line per table changed online or with ALGORITHM=INSTANT (direct
        statements are Django's own, reported by its "Applying ... OK")."""
        steps = [
            s
            for s in session.events
            if s.done and (s.route == INSTANT or (s.route == ONLINE and s.result is not None))
        ]
        if verbosity < 1 or not steps:
            return
        self.stdout.write(self.style.MIGRATE_HEADING("Online migrations:"))
        for step in steps:
            self.stdout.write(f"  {step.migration} `{step.table}`: {_outcome(step)}")

    @contextmanager
    def _progress(self, session: GhostSession, verbosity: int) -> Iterator[None]:
        if verbosity < 1:
            yield
            return
        console = Console(file=sys.stderr)
        progress = Progress(
            TextColumn("[bold]{task.fields[table]}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeRemainingColumn(),
            TextColumn("lag {task.fields[lag]}"),
            TextColumn("{task.fields[state]}"),
            console=console,
            transient=False,
        )
        tasks: dict[str, TaskID] = {}

        def on_progress(snapshot: Any) -> None:
            key = f"{snapshot.database}.{snapshot.table}"
            fields = {
                "table": snapshot.table,
                "rate": f"{snapshot.rows_per_second:,.0f}",
                "lag": "-" if snapshot.lag_seconds is None else f"{snapshot.lag_seconds:.1f}s",
                "state": _state(snapshot),
            }
            total = max(snapshot.rows_estimate, snapshot.rows_copied, 1)
            if key not in tasks:
                tasks[key] = progress.add_task(snapshot.table, total=total, **fields)
            progress.update(tasks[key], completed=snapshot.rows_copied, total=total, **fields)

        session.progress = on_progress
        with progress:
            yield

    # -- plan --------------------------------------------------------------------------

    def _plan(self, alias: str, options: dict[str, Any], session: GhostSession) -> None:
        connection = connections[alias]
        executor = MigrationExecutor(connection)
        targets = self._targets(executor, options)
        plan = executor.migration_plan(targets)
        write = self.stdout.write
        write(self.style.MIGRATE_HEADING(f"django_ghost plan for database alias {alias!r}"))
        write("Nothing will be written: no DDL, no data change, nothing recorded.")
        if len(plan) > 1:
            write(
                "Note: migrations after the first are planned against the current schema; "
                "statements that depend on introspection may differ when they really run."
            )
        if not plan:
            write("  No migrations to apply.")
            return
        state = None
        for migration, backwards in plan:
            label = f"{migration.app_label}.{migration.name}"
            session.current_migration = label
            start = len(session.events)
            with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                if state is None:
                    state = executor.loader.project_state(
                        (migration.app_label, migration.name), at_end=False
                    )
                if backwards:
                    state = migration.unapply(state, editor, collect_sql=True)
                else:
                    state = migration.apply(state, editor, collect_sql=True)
            write(self.style.MIGRATE_LABEL(f"{label}{' (backwards)' if backwards else ''}"))
            steps: list[Step] = session.events[start:]
            if not steps:
                write("    no SQL (state only, or RunPython)")
            for step in steps:
                self._write_step(step)

    def _write_step(self, step: Step) -> None:
        write = self.stdout.write
        merged = f", {len(step.statements)} statements merged" if len(step.statements) > 1 else ""
        table = f"`{step.table}` " if step.table else ""
        write(f"  {table}-> {step.route.upper()}{merged}: {step.reason}")
        for statement in step.statements:
            write(f"      {statement}")
        if step.rows_estimate is not None:
            write(f"      rows (estimate): {step.rows_estimate}")
        for line in step.preflight:
            write(f"      preflight: {line}")

    def _targets(self, executor: MigrationExecutor, options: dict[str, Any]) -> list[Any]:
        app_label = options.get("app_label")
        name = options.get("migration_name")
        if app_label and name:
            if name == "zero":
                return [(app_label, None)]
            migration = executor.loader.get_migration_by_prefix(app_label, name)
            return [(app_label, migration.name)]
        if app_label:
            return [key for key in executor.loader.graph.leaf_nodes() if key[0] == app_label]
        return executor.loader.graph.leaf_nodes()


def _outcome(step: Step) -> str:
    """What an instant or online step did, for the summary."""
    r = step.result
    if step.route == INSTANT or getattr(r, "instant", False):
        count = len(step.statements)
        return f"done with ALGORITHM=INSTANT ({count} statement(s)): nothing copied"
    resumed = f" (resumed from its checkpoint at {step.resumed_from})" if step.resumed_from else ""
    return (
        f"{r.rows_copied} rows copied, {r.events_applied} binlog events applied, "
        f"{r.wall_seconds:.1f}s, checksum {'verified' if r.checksum_verified else 'skipped'}"
        f"{resumed}"
    )


def _state(snapshot: Any) -> str:
    """The progress bar's state column: throttling wins, a waiting cut-over is loud."""
    if snapshot.throttle_reason:
        return f"throttled: {snapshot.throttle_reason}"
    phase = str(snapshot.phase)
    if phase.startswith(POSTPONED_PHASE_PREFIX):
        return f"[bold yellow]{phase}[/] (ghost_ctl approve {snapshot.table})"
    return phase
