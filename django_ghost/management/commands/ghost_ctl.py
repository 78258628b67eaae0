"""``manage.py ghost_ctl``: find this project's running online migrations and steer them.

Running migrations are found through their control sockets, whose paths come from the
alias's ``socket_path_template`` (the same rendering ``ghost_migrate`` uses), so no
``nc`` and no path has to be known::

    manage.py ghost_ctl status [TABLE]          # every running migration, or one
    manage.py ghost_ctl throttle TABLE          # and no-throttle
    manage.py ghost_ctl set TABLE chunk-size=2000 [max-lag-millis=3000 ...]
    manage.py ghost_ctl approve TABLE           # a postponed cut-over proceeds
    manage.py ghost_ctl panic TABLE             # abort now (original table intact)
    manage.py ghost_ctl leftovers               # helper tables, stale sockets, flag files
    manage.py ghost_ctl cleanup TABLE [--yes] [--drop-old]

Commands that name a table send it along (``throttle=TABLE``): the engine refuses a
command meant for another table, so a socket reused by a different migration is never
steered by mistake. What is listed, kept, asked and dropped is the engine's clean-up
policy (:mod:`django_ghost.engine.state.cleanup`, shared with ``django-ghost --cleanup``);
this command adds the Django side: aliases, templates from settings, and the socket and
flag file paths rendered from their path templates.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from django_ghost.conf import (
    HASH_HEX_DIGITS,
    HASHED_NAME_PREFIX,
    ResolvedConfig,
    control_socket_path,
    render_path_template,
    resolve,
)
from django_ghost.engine.control.client import send
from django_ghost.engine.errors import GhostError
from django_ghost.engine.mysql.connection import Connection, ConnectionSpec, connect, query
from django_ghost.engine.state.cleanup import (
    NOT_CONFIRMED,
    carry_out,
    confirmed,
    list_leftovers,
    plan_cleanup,
    refuse_if_running,
)
from django_ghost.engine.state.leftovers import (
    FLAG_KIND,
    SOCKET_KIND,
    Leftover,
    file_leftover,
    format_leftovers,
    is_own_socket,
    remove_stale_socket,
)

ACTIONS = ("status", "throttle", "no-throttle", "set", "approve", "panic", "leftovers", "cleanup")

_HASHED = re.compile(re.escape(HASHED_NAME_PREFIX) + f"[0-9a-f]{{{HASH_HEX_DIGITS}}}" + r"\.sock")


@dataclasses.dataclass(frozen=True)
class Target:
    """A control socket of this project: where, for which alias and table, and whether
    a migration answers on it."""

    alias: str
    database: str
    table: str | None
    path: str
    live: bool

    def label(self) -> str:
        return f"{self.alias}: {self.database}.{self.table or '?'}"


def _glob_template(config: ResolvedConfig, template: str) -> list[tuple[str, str]]:
    """(path, table) of files matching ``template`` for ``config``'s alias."""
    marker = "\x00"
    rendered = render_path_template(
        template, alias=config.alias, database=config.engine.database, table=marker
    )
    pattern = glob.escape(rendered).replace(marker, "*")
    before, _, after = rendered.partition(marker)
    regex = re.compile(re.escape(before) + "(?P<table>.+)" + re.escape(after))
    out = []
    for path in sorted(glob.glob(pattern)):
        match = regex.fullmatch(path)
        if match:
            out.append((path, match.group("table")))
    return out


class Command(BaseCommand):
    help = (
        "Control this project's running online migrations through their control sockets "
        "(status, throttle, no-throttle, set, approve, panic) and list or clean up what "
        "interrupted ones left (leftovers, cleanup)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=ACTIONS, help="What to do.")
        parser.add_argument(
            "args",
            nargs="*",
            metavar="TABLE / KNOB=VALUE",
            help="The table (status: optional); for `set`, then one or more knob=value "
            "(chunk-size, dml-batch-size, max-lag-millis, nice-ratio, max-load, ...).",
        )
        parser.add_argument(
            "--database",
            action="append",
            default=None,
            metavar="ALIAS",
            help="Only this database alias (repeatable); default: every MySQL alias.",
        )
        parser.add_argument("--json", action="store_true", help="status: print status-json.")
        parser.add_argument(
            "--remove-stale",
            action="store_true",
            help="Remove control sockets nobody answers on (killed migrations).",
        )
        parser.add_argument(
            "--yes", action="store_true", help="cleanup: do not ask for confirmation."
        )
        parser.add_argument(
            "--drop-old",
            action="store_true",
            help="cleanup: also drop old (_del) tables, which may hold the previous data.",
        )

    # -- entry ---------------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        self.options = options
        action: str = options["action"]
        # Django hands the "args" positionals to handle() as *args (call_command too).
        rest: list[str] = [str(a) for a in args]
        try:
            self.configs = self._configs(options.get("database"))
            handler = getattr(self, "_" + action.replace("-", "_"))
            handler(rest)
        except GhostError as exc:
            raise CommandError(str(exc)) from exc

    def _configs(self, aliases: Sequence[str] | None) -> list[ResolvedConfig]:
        if aliases:
            unknown = sorted(set(aliases) - set(settings.DATABASES))
            if unknown:
                raise CommandError(f"Unknown database alias {unknown[0]!r}.")
            chosen = list(dict.fromkeys(aliases))
        else:
            chosen = [
                alias
                for alias, entry in settings.DATABASES.items()
                if "mysql" in str(entry.get("ENGINE", ""))
            ]
        return [resolve(alias) for alias in chosen]

    # -- discovery -----------------------------------------------------------------------

    def discover(self) -> list[Target]:
        """Every control socket of this project's aliases, live or stale (probed once per
        command: a second call returns the same answer)."""
        cached: list[Target] | None = self.__dict__.get("_discovered")
        if cached is None:
            cached = self.__dict__["_discovered"] = self._discover()
        return cached

    def _discover(self) -> list[Target]:
        found: dict[tuple[str, str], Target] = {}
        for config in self.configs:
            database = config.engine.database
            candidates: dict[str, str | None] = {}
            for path, table in _glob_template(config, config.options.socket_path_template):
                candidates[path] = table
            if config.provenance.get("serve_socket_file") != "default" and (
                config.engine.serve_socket_file
            ):
                candidates.setdefault(config.engine.serve_socket_file, None)
            # Hashed names (paths over 107 bytes) carry no table: ask the socket.
            directory = os.path.dirname(control_socket_path(config, "x" * 200))
            for path in glob.glob(os.path.join(glob.escape(directory), HASHED_NAME_PREFIX + "*")):
                if _HASHED.fullmatch(os.path.basename(path)):
                    candidates.setdefault(path, None)
            for path, table in candidates.items():
                if not is_own_socket(path):
                    continue
                target = self._identify(config, database, path, table)
                if target is not None:
                    found[(config.alias, path)] = target
        return sorted(found.values(), key=lambda t: (t.table or "", t.alias, t.path))

    def _identify(
        self, config: ResolvedConfig, database: str, path: str, table: str | None
    ) -> Target | None:
        try:
            data = json.loads(send(path, "status-json"))
        except (OSError, ValueError):
            if table is None and not self._hashed_is_ours(config, path):
                return None
            return Target(config.alias, database, table, path, live=False)
        live_db, live_table = str(data.get("database", "")), str(data.get("table", ""))
        # A live socket belongs to this alias only if this alias would have put the
        # migration of that database and table exactly there.
        if live_db != database or control_socket_path(config, live_table) != path:
            return None
        return Target(config.alias, database, live_table, path, live=True)

    def _hashed_is_ours(self, config: ResolvedConfig, path: str) -> bool:
        # A stale hashed socket says nothing; it is ours if some table of the alias's
        # database renders to it.
        return path in self._table_paths(config)

    def _table_paths(self, config: ResolvedConfig) -> dict[str, str]:
        """Socket path -> table for every table of the alias's database (cached)."""
        cache: dict[str, dict[str, str]] = self.__dict__.setdefault("_paths_cache", {})
        if config.alias not in cache:
            paths: dict[str, str] = {}
            try:
                conn = self._connect(config)
            except GhostError:
                cache[config.alias] = paths
                return paths
            try:
                for (name,) in query(conn, "SHOW TABLES"):
                    paths[control_socket_path(config, str(name))] = str(name)
            finally:
                conn.close()
            cache[config.alias] = paths
        return cache[config.alias]

    def _connect(self, config: ResolvedConfig) -> Connection:
        engine = config.engine
        spec = ConnectionSpec.from_config(engine)
        try:
            return connect(spec, connect_timeout=5)
        except Exception as exc:  # MySQLdb.Error and friends: say which alias
            raise GhostError(
                f"Cannot connect to database alias {config.alias!r} ({spec.describe()}): {exc}"
            ) from None

    def _remove_stale(self, targets: Iterable[Target]) -> list[str]:
        return [t.path for t in targets if not t.live and remove_stale_socket(t.path)]

    def _report_stale(self, stale: Sequence[Target]) -> None:
        if not stale:
            return
        if self.options["remove_stale"]:
            for path in self._remove_stale(stale):
                self.stdout.write(f"Removed stale control socket {path}")
            return
        for target in stale:
            self.stderr.write(
                f"Stale control socket {target.path} ({target.label()}): nobody answers; the "
                "migration that served it is gone. Remove it with --remove-stale."
            )

    def _nothing_running(self, table: str | None) -> CommandError:
        patterns = sorted(
            {
                render_path_template(
                    c.options.socket_path_template,
                    alias=c.alias,
                    database=c.engine.database,
                    table=table or "*",
                )
                for c in self.configs
            }
        )
        what = f"of table {table!r} " if table else ""
        return CommandError(
            f"No online migration {what}of this project is running (no control socket answers "
            f"at {', '.join(patterns)})."
        )

    def target(self, table: str) -> Target:
        """The one live migration of ``table``; clear errors otherwise."""
        targets = [t for t in self.discover() if t.table == table]
        live = [t for t in targets if t.live]
        stale = [t for t in targets if not t.live]
        if len(live) > 1:
            aliases = ", ".join(t.alias for t in live)
            raise CommandError(
                f"Table {table!r} is being migrated on several database aliases ({aliases}); "
                "choose one with --database ALIAS."
            )
        if live:
            return live[0]
        if stale:
            if self.options["remove_stale"]:
                for path in self._remove_stale(stale):
                    self.stdout.write(f"Removed stale control socket {path}")
                raise self._nothing_running(table)
            paths = ", ".join(t.path for t in stale)
            raise CommandError(
                f"The control socket of {table!r} ({paths}) is stale: nobody answers, the "
                "migration is no longer running. Run again with --remove-stale to remove it, "
                f"and `ghost_ctl leftovers` / `ghost_ctl cleanup {table}` for its tables."
            )
        raise self._nothing_running(table)

    def command(self, target: Target, line: str) -> str:
        try:
            reply = send(target.path, line).strip()
        except OSError as exc:
            raise CommandError(
                f"{target.label()}: the control socket {target.path} stopped answering "
                f"({exc}); the migration may just have ended."
            ) from None
        if reply.startswith("error:"):
            raise CommandError(f"{target.label()}: {reply}")
        return reply

    # -- actions: running migrations -----------------------------------------------------

    def _table_arg(self, rest: list[str], action: str) -> str:
        if not rest:
            raise CommandError(f"`ghost_ctl {action}` needs the table: ghost_ctl {action} TABLE")
        return rest[0]

    def _status(self, rest: list[str]) -> None:
        table = rest[0] if rest else None
        if table is not None:
            targets = [self.target(table)]
        else:
            found = self.discover()
            self._report_stale([t for t in found if not t.live])
            targets = [t for t in found if t.live]
            if not targets:
                raise self._nothing_running(None)
        for target in targets:
            if self.options["json"]:
                data = json.loads(self.command(target, "status-json"))
                data["alias"] = target.alias
                data["socket"] = target.path
                self.stdout.write(json.dumps(data, sort_keys=True))
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {target.label()} ({target.path})"))
            self.stdout.write(self.command(target, "status"))
            phase = str(json.loads(self.command(target, "status-json")).get("phase", ""))
            if phase.startswith("postponed"):
                self.stdout.write(
                    self.style.WARNING(
                        f"Waiting for cut-over approval: `manage.py ghost_ctl approve "
                        f"{target.table}` lets it cut over."
                    )
                )

    def _send_naming_table(self, rest: list[str], action: str, command: str) -> str:
        """Send ``command=TABLE`` to the migration of the table ``rest`` names; the table."""
        table = self._table_arg(rest, action)
        target = self.target(table)
        self.stdout.write(f"{target.label()}: {self.command(target, f'{command}={table}')}")
        return table

    def _throttle(self, rest: list[str]) -> None:
        self._send_naming_table(rest, "throttle", "throttle")

    def _no_throttle(self, rest: list[str]) -> None:
        self._send_naming_table(rest, "no-throttle", "no-throttle")

    def _set(self, rest: list[str]) -> None:
        table = self._table_arg(rest, "set")
        pairs = rest[1:]
        if not pairs or any("=" not in p or p.endswith("=?") for p in pairs):
            raise CommandError(
                "`ghost_ctl set TABLE knob=value [knob=value ...]`, e.g. chunk-size=2000 "
                "(knobs: chunk-size, dml-batch-size, max-lag-millis, nice-ratio, max-load, "
                "critical-load, throttle-query, throttle-http, throttle-control-replicas)."
            )
        target = self.target(table)
        for pair in pairs:
            self.stdout.write(f"{target.label()}: {self.command(target, pair)}")

    def _approve(self, rest: list[str]) -> None:
        self._send_naming_table(rest, "approve", "unpostpone")

    def _panic(self, rest: list[str]) -> None:
        table = self._send_naming_table(rest, "panic", "panic")
        self.stdout.write(
            f"The original table {table!r} is untouched and the migration is not recorded; "
            f"`manage.py ghost_ctl cleanup {table}` drops its ghost and changelog tables."
        )

    # -- actions: leftovers --------------------------------------------------------------

    def leftovers(self, config: ResolvedConfig, conn: Connection) -> list[Leftover]:
        """What the clean-up policy lists for the alias, plus the stale sockets and flag
        files of its path templates."""
        return list_leftovers(conn, config.engine, files=self._path_leftovers(config))

    def _path_leftovers(self, config: ResolvedConfig) -> list[Leftover]:
        found = []
        for target in self.discover():
            if target.alias == config.alias and not target.live:
                found.append(file_leftover(SOCKET_KIND, target.path, target.table))
        live_tables = {t.table for t in self.discover() if t.live and t.alias == config.alias}
        for path, table in _glob_template(config, config.options.postpone_flag_file_template):
            if table not in live_tables and os.path.isfile(path):
                found.append(file_leftover(FLAG_KIND, path, table))
        return found

    def _leftovers(self, rest: list[str]) -> None:
        table = rest[0] if rest else None
        any_found = False
        for config in self.configs:
            try:
                conn = self._connect(config)
            except GhostError as exc:
                self.stderr.write(f"Skipped: {exc}")
                continue
            try:
                items = [i for i in self.leftovers(config, conn) if table in (None, i.table)]
            finally:
                conn.close()
            if not items:
                continue
            any_found = True
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"Leftovers of alias {config.alias!r} (database {config.engine.database}):"
                )
            )
            self.stdout.write(format_leftovers(items))
        if not any_found:
            self.stdout.write("No leftovers: no helper tables, stale sockets or flag files.")
        else:
            self.stdout.write(
                "`manage.py ghost_ctl cleanup TABLE` drops a table's ghost and changelog "
                "tables and removes its files; add --drop-old for old (_del) tables."
            )

    def _cleanup(self, rest: list[str]) -> None:
        table = self._table_arg(rest, "cleanup")
        drop_old = bool(self.options["drop_old"])
        found: list[tuple[ResolvedConfig, list[Leftover]]] = []
        for config in self.configs:
            conn = self._connect(config)
            try:
                refuse_if_running(conn, config.engine.database, table)
                items = [i for i in self.leftovers(config, conn) if i.table == table]
            finally:
                conn.close()
            if items:
                found.append((config, items))
        if len(found) > 1:
            aliases = ", ".join(c.alias for c, _ in found)
            raise CommandError(
                f"{table!r} has leftovers on several database aliases ({aliases}); choose one "
                "with --database ALIAS."
            )
        config, items = found[0] if found else (None, [])
        plan = plan_cleanup(items, table, drop_old=drop_old)
        for notice in plan.notices():
            self.stdout.write(notice)
        if config is None or not plan.drop:
            return
        self.stdout.write(f"Will remove, on alias {config.alias!r} ({config.engine.database}):")
        self.stdout.write(format_leftovers(plan.drop))
        if not confirmed(plan, yes=bool(self.options["yes"]), ask=self._ask):
            raise CommandError(NOT_CONFIRMED)
        conn = self._connect(config)
        try:
            # Takes the table's migration lock: refused if a migration started since.
            removed = carry_out(conn, config.engine, plan, drop_old=drop_old)
        finally:
            conn.close()
        for item in removed:
            self.stdout.write(f"Removed {item.kind} {item.name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Cleaned up {len(removed)} leftover(s) of {table!r}; "
                f"the table {table!r} itself was not touched."
            )
        )

    @staticmethod
    def _ask(prompt: str) -> str:
        if not sys.stdin.isatty():
            raise CommandError("Not confirmed: stdin is not a terminal; pass --yes to drop.")
        return input(prompt)
