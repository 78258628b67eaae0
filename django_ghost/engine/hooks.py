"""Hooks: let operators run their own code at named points of a migration.

Two kinds exist, both behind the one-method :class:`Hooks` protocol, so the migrator
fires an event by name and never knows who listens:

* :class:`ExecutableHooks` runs the executables in a hooks directory whose names start
  with ``gh-ost-on-<event>`` or ``ghost-on-<event>`` (gh-ost's naming is kept so existing
  hook directories work unchanged). They run synchronously, in file-name order, with a
  minimal environment: ``PATH`` and a few locale variables from our own environment, plus
  ``GHOST_*`` variables describing the migration and the same values under gh-ost's
  ``GH_OST_*`` names. Output goes to the ``django_ghost`` logger.
* :class:`CallableHooks` calls Python callables (given as dotted paths in the config)
  with ``(event, env)``.

A failing hook raises :class:`HookError`; the migrator decides which events abort the
migration (gh-ost: all of them before cut-over). Failures of the ``status`` hook are only
logged, as in gh-ost, because a status hook runs every N seconds and a broken monitoring
script must not kill a long copy.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from .config import GhostConfig
from .errors import GhostError
from .progress import ProgressSnapshot

logger = logging.getLogger("django_ghost")

HOOK_EVENTS: tuple[str, ...] = (
    "startup",
    "validated",
    "rowcount-complete",
    "before-row-copy",
    "batch-copy-retry",
    "status",
    "interactive-command",
    "row-copy-complete",
    "begin-postponed",
    "before-cut-over",
    "success",
    "failure",
    "stop-replication",
    "start-replication",
)

# Events whose hook failures are logged, never raised (gh-ost ignores the errors of its
# on-status and on-batch-copy-retry hooks).
NON_FATAL_EVENTS = frozenset({"status", "batch-copy-retry"})

# File-name prefixes searched in the hooks directory: gh-ost's own, then ours.
HOOK_PREFIXES: tuple[str, ...] = ("gh-ost-on-", "ghost-on-")

# gh-ost passes these two values wrapped in literal single quotes
# (``GH_OST_COMMAND='chunk-size=10'``); the GH_OST_* copies keep that quirk so that
# scripts written for gh-ost see exactly what they expect. The GHOST_* names are plain.
_QUOTED_IN_GH_OST = frozenset({"COMMAND", "STATUS"})

# The only variables taken from our own environment: enough to find programs and decode
# text, nothing that might hold a secret (DSNs, passwords, tokens live elsewhere in it).
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")

# Lines of hook output kept in a HookError message.
_OUTPUT_TAIL_LINES = 20

EnvProvider = Callable[[], Mapping[str, str]]
HookCallable = Callable[[str, dict[str, str]], object]


class HookError(GhostError):
    """A hook failed: an executable exited non-zero or a callable raised."""

    def __init__(self, event: str, hook: str, detail: str, output: str = ""):
        self.event = event
        self.hook = hook
        self.output = output
        tail = "\n".join(output.rstrip().splitlines()[-_OUTPUT_TAIL_LINES:])
        message = f"Hook {hook!r} for event {event!r} failed: {detail}."
        if tail:
            message += f" Last output:\n{tail}"
        message += "\nFix or remove the hook (see docs/hooks.md) and run again."
        super().__init__(message)


class Hooks(Protocol):
    """Something that reacts to migration events. Raises HookError on failure."""

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None: ...


class NoopHooks:
    """No hooks configured: firing an event does nothing (but still checks its name)."""

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        check_event(event)


def check_event(event: str) -> None:
    """Refuse an event name that is not in HOOK_EVENTS (a typo would silently never fire)."""
    if event not in HOOK_EVENTS:
        raise ValueError(f"unknown hook event {event!r}; known: {', '.join(HOOK_EVENTS)}")


def with_gh_ost_names(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus a ``GH_OST_<X>`` copy of every ``GHOST_<X>`` variable."""
    result = dict(env)
    for key, value in env.items():
        if key.startswith("GHOST_"):
            suffix = key[len("GHOST_") :]
            result[f"GH_OST_{suffix}"] = f"'{value}'" if suffix in _QUOTED_IN_GH_OST else value
    return result


class ExecutableHooks:
    """Runs ``gh-ost-on-<event>*`` and ``ghost-on-<event>*`` executables from a directory."""

    def __init__(
        self,
        hooks_path: str | os.PathLike[str],
        base_env_provider: EnvProvider,
        *,
        timeout_seconds: float | None = None,
    ):
        self.hooks_path = Path(hooks_path)
        self.base_env_provider = base_env_provider
        self.timeout_seconds = timeout_seconds

    def hooks_for(self, event: str) -> list[Path]:
        """The executables that handle ``event``, in the order they run."""
        check_event(event)
        found: list[Path] = []
        for prefix in HOOK_PREFIXES:
            found.extend(self.hooks_path.glob(f"{prefix}{event}*"))
        runnable = []
        for path in sorted(set(found), key=lambda p: p.name):
            if path.is_file() and os.access(path, os.X_OK):
                runnable.append(path)
            else:
                logger.warning("hook %s is not an executable file; skipped", path)
        return runnable

    def environment(self, event: str, extra_env: Mapping[str, str] | None) -> dict[str, str]:
        """The complete environment a hook process gets."""
        env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
        env.setdefault("PATH", os.defpath)
        ours = dict(self.base_env_provider())
        ours["GHOST_HOOK_EVENT"] = event
        ours.update(extra_env or {})
        env.update(with_gh_ost_names(ours))
        return env

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        hooks = self.hooks_for(event)
        if not hooks:
            return
        env = self.environment(event, extra_env)
        for path in hooks:
            try:
                self._run(event, path, env)
            except HookError as exc:
                if event not in NON_FATAL_EVENTS:
                    raise
                logger.error("%s (ignored for event %r)", exc, event)

    def _run(self, event: str, path: Path, env: Mapping[str, str]) -> None:
        logger.info("running hook %s", path.name)
        try:
            # A new session so that a timeout kills the hook's children too, not only the
            # shell: an orphaned grandchild would otherwise keep the output pipe open.
            proc = subprocess.Popen(
                [str(path)],
                env=dict(env),
                cwd=self.hooks_path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise HookError(event, path.name, f"could not be started: {exc}") from None
        with proc:
            try:
                raw, _ = proc.communicate(timeout=self.timeout_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raw, _ = proc.communicate()
                output = _decode(raw)
                _log_output(path.name, output)
                detail = f"still running after {self.timeout_seconds}s; killed"
                raise HookError(event, path.name, detail, output) from None
        output = _decode(raw)
        _log_output(path.name, output)
        if proc.returncode != 0:
            raise HookError(event, path.name, f"exit code {proc.returncode}", output)


class CallableHooks:
    """Calls Python callables ``f(event, env)`` for every event, in the order given."""

    def __init__(self, callables: Sequence[HookCallable], base_env_provider: EnvProvider):
        self.callables = list(callables)
        self.base_env_provider = base_env_provider

    @classmethod
    def from_dotted_paths(
        cls, paths: str | Sequence[str], base_env_provider: EnvProvider
    ) -> CallableHooks:
        """Build from ``"pkg.mod.func,pkg.mod.other"`` or a list of dotted paths."""
        if isinstance(paths, str):
            paths = [p for p in (part.strip() for part in paths.split(",")) if p]
        return cls([import_callable(p) for p in paths], base_env_provider)

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        check_event(event)
        if not self.callables:
            return
        env = dict(self.base_env_provider())
        env["GHOST_HOOK_EVENT"] = event
        env.update(extra_env or {})
        for func in self.callables:
            name = _callable_name(func)
            try:
                func(event, dict(env))
            except Exception as exc:
                error = HookError(event, name, f"raised {type(exc).__name__}: {exc}")
                if event not in NON_FATAL_EVENTS:
                    raise error from exc
                logger.error("%s (ignored for event %r)", error, event)


class CompositeHooks:
    """Fires each event on several Hooks in turn; the first failure stops the rest."""

    def __init__(self, hooks: Sequence[Hooks]):
        self.hooks = list(hooks)

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        check_event(event)
        for hooks in self.hooks:
            hooks.fire(event, extra_env)


def import_callable(dotted: str) -> HookCallable:
    """Import ``pkg.module.attr`` (or ``pkg.module:attr``) and check it is callable."""
    from .errors import ConfigError

    module_name, sep, attr = dotted.replace(":", ".").rpartition(".")
    if not sep or not module_name or not attr:
        raise ConfigError(f"hooks_callables entry {dotted!r} is not a dotted path (pkg.mod.func).")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"hooks_callables entry {dotted!r}: cannot import: {exc}.") from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise ConfigError(f"hooks_callables entry {dotted!r}: no callable {attr!r} there.")
    result: HookCallable = func
    return result


def build_hook_environment(
    config: GhostConfig,
    snapshot: ProgressSnapshot,
    *,
    ghost_table: str,
    old_table: str,
    migrated_host: str = "",
    inspected_host: str = "",
    heartbeat_lag_seconds: float | None = None,
    elapsed_copy_seconds: float = 0.0,
    hint: str = "",
    hint_owner: str = "",
    hint_token: str = "",
) -> dict[str, str]:
    """The GHOST_* variables every hook gets. Built field by field: never a password."""
    return {
        "GHOST_DATABASE_NAME": snapshot.database or config.database,
        "GHOST_TABLE_NAME": snapshot.table or config.table,
        "GHOST_GHOST_TABLE_NAME": ghost_table,
        "GHOST_OLD_TABLE_NAME": old_table,
        "GHOST_DDL": config.alter,
        "GHOST_ELAPSED_SECONDS": f"{snapshot.elapsed_seconds:.0f}",
        "GHOST_ELAPSED_COPY_SECONDS": f"{elapsed_copy_seconds:.0f}",
        "GHOST_ESTIMATED_ROWS": str(snapshot.rows_estimate),
        "GHOST_COPIED_ROWS": str(snapshot.rows_copied),
        "GHOST_EVENTS_APPLIED": str(snapshot.events_applied),
        "GHOST_PROGRESS": f"{snapshot.percent:.2f}",
        "GHOST_ETA_SECONDS": "" if snapshot.eta_seconds is None else f"{snapshot.eta_seconds:.0f}",
        "GHOST_INSPECTED_LAG": _seconds(snapshot.lag_seconds),
        "GHOST_HEARTBEAT_LAG": _seconds(heartbeat_lag_seconds),
        "GHOST_PHASE": snapshot.phase,
        "GHOST_THROTTLE_REASON": snapshot.throttle_reason or "",
        "GHOST_MIGRATED_HOST": migrated_host,
        "GHOST_INSPECTED_HOST": inspected_host,
        "GHOST_EXECUTING_HOST": socket.gethostname(),
        "GHOST_DRY_RUN": "false" if config.execute else "true",
        "GHOST_HOOKS_HINT": hint,
        "GHOST_HOOKS_HINT_OWNER": hint_owner,
        "GHOST_HOOKS_HINT_TOKEN": hint_token,
    }


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def _log_output(name: str, output: str) -> None:
    for line in output.splitlines():
        logger.info("[hook %s] %s", name, line)


def _callable_name(func: object) -> str:
    module = getattr(func, "__module__", "")
    qualname = getattr(func, "__qualname__", repr(func))
    return f"{module}.{qualname}" if module else str(qualname)
