"""Throttler: decides whether the copy and apply loops may work right now.

The checks run in gh-ost's order (``Throttler.shouldThrottle``); the first that applies
gives the reason, which is always stored in ``context.throttle_reason`` so the status
line, ``status-json`` and hooks show it:

 1. hibernation after critical-load (no reads at all until it ends)
 2. panic flag file -> ``context.request_abort`` (aborts, never just throttles)
 3. critical-load -> abort, or a second check after an interval, or hibernation
 4. forced throttle from the control socket (``knobs.forced_throttle``)
 5. throttle flag file, 6. additional throttle flag file
 7. max-load (``SHOW GLOBAL STATUS`` values >= thresholds)
 8. throttle-query (a scalar > 0 throttles; errors are ignored)
 9. throttle-http (HEAD; anything but 200 throttles)
10. own replication lag, 11. control-replica lag (both against ``max_lag_millis``)

Every threshold is read from ``context.knobs`` at each evaluation, so values changed
over the control socket take effect at the next tick. Costly checks (status variables,
the throttle query, HTTP, control replicas) are cached for their own interval, like
gh-ost's one-second "general metrics" collection; the cheap ones (files, knobs, lag)
run every tick. A changed query, URL or replica list invalidates its cache at once.

The throttler only decides. The migrator's copy and apply loops call
:meth:`RealThrottler.wait_while_throttled` before each chunk / batch; heartbeats keep
going while throttled (except while hibernating), and nothing throttles inside the
cut-over critical section because the cut-over never calls it.

The readers, parsers, static options and the Protocol/no-op throttler live in their own
``throttle_*`` modules; they are re-exported here, where callers import them from.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..config import parse_load
from ..context import MigrationContext
from ..errors import AbortedError, ConfigError
from .options import ThrottleOptions
from .sources import (
    Clock,
    HttpChecker,
    LagReader,
    ReplicaLagReader,
    ScalarQuery,
    StatusReader,
    http_head_status,
)

logger = logging.getLogger("django_ghost")


@dataclasses.dataclass
class _Cached:
    """The last result of a costly check, the input it was computed for, and when."""

    key: object = None
    at: float = float("-inf")
    value: Any = None


class RealThrottler:
    """Evaluates the throttle checks on a background thread (or on demand, in tests)."""

    def __init__(
        self,
        context: MigrationContext,
        *,
        options: ThrottleOptions | None = None,
        status_reader: StatusReader | None = None,
        scalar_query: ScalarQuery | None = None,
        http_checker: HttpChecker = http_head_status,
        lag_reader: LagReader | None = None,
        replica_lag_reader: ReplicaLagReader | None = None,
        clock: Clock = time.monotonic,
        on_change: Callable[[str | None], None] | None = None,
        file_exists: Callable[[str], bool] = os.path.exists,
    ):
        self.context = context
        self.options = options or ThrottleOptions()
        self.status_reader = status_reader
        self.scalar_query = scalar_query
        self.http_checker = http_checker
        self.lag_reader = lag_reader
        self.replica_lag_reader = replica_lag_reader
        self.clock = clock
        self.on_change = on_change
        self.file_exists = file_exists
        self._status = _Cached()
        self._query = _Cached()
        self._http = _Cached()
        self._replicas = _Cached()
        self._loads: dict[tuple[str, str], dict[str, int]] = {}
        self._critical_since: float | None = None
        self._hibernate_until: float | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background evaluation thread (idempotent)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        # Evaluate once before any loop can ask: a waiter must never see the reason left
        # over from before the thread ran (None would let a chunk through unchecked).
        self.check()
        self._thread = threading.Thread(target=self._run, name="ghost-throttler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and wait for it; waiters are woken."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set() and not self.context.aborted:
            self.check()
            self._stopping.wait(self.options.tick_seconds)
        with self._changed:
            self._changed.notify_all()

    # -- the loops' side -------------------------------------------------------------------

    def wait_while_throttled(self) -> bool:
        """Block until not throttled. Raises AbortedError if the migration aborts meanwhile.

        Without the background thread (never started, or stopped) each wake-up
        re-evaluates the checks itself, so a caller is throttled correctly either way.
        """
        waited = False
        while True:
            if self.context.aborted:
                raise AbortedError(self.context.abort_reason or "migration aborted")
            reason = self.context.throttle_reason if self._thread else self.check()
            if self.context.aborted:
                raise AbortedError(self.context.abort_reason or "migration aborted")
            if reason is None:
                return waited
            waited = True
            with self._changed:
                self._changed.wait(self.options.tick_seconds)

    def heartbeat_allowed(self) -> bool:
        return self._hibernate_until is None or self.clock() >= self._hibernate_until

    def nice(self, busy_seconds: float) -> float:
        """gh-ost's nice-ratio: sleep ratio x the time the last chunk took (0 = never)."""
        pause = max(0.0, float(self.context.knobs.nice_ratio) * busy_seconds)
        if pause > 0:
            self.context.stop.wait(pause)
        return pause

    # -- evaluation ------------------------------------------------------------------------

    def check(self) -> str | None:
        """Run the checks in gh-ost's order; store and return the reason (None = go)."""
        try:
            reason = self._evaluate(self.clock())
        except Exception as exc:  # a check that breaks unexpectedly must fail safe: throttle
            logger.exception("throttle check failed")
            reason = f"throttle check failed: {exc}"
        self._publish(reason)
        return reason

    def _publish(self, reason: str | None) -> None:
        previous = self.context.throttle_reason
        self.context.throttle_reason = reason
        if reason == previous:
            return
        if reason is None:
            logger.info("throttling lifted")
        else:
            logger.info("throttled: %s", reason)
        if self.on_change is not None:
            try:
                self.on_change(reason)
            except Exception:  # reporting the change must not stop the throttler
                logger.exception("throttle on_change callback failed")
        with self._changed:
            self._changed.notify_all()

    def _evaluate(self, now: float) -> str | None:
        knobs = self.context.knobs
        hibernating = self._hibernation(now)
        if hibernating:
            return hibernating
        if self._panic_file():
            return "panic flag file found"
        critical = self._critical_load(now, knobs.critical_load)
        if critical:
            return critical
        if knobs.forced_throttle:
            return "commanded by user"
        for path in (self.options.throttle_flag_file, self.options.throttle_additional_flag_file):
            if path and self.file_exists(path):
                return f"flag-file {path}"
        return (
            self._max_load(now, knobs.max_load)
            or self._throttle_query(now, knobs.throttle_query)
            or self._throttle_http(now, knobs.throttle_http)
            or self._own_lag(knobs.max_lag_millis)
            or self._replica_lag(now, knobs.throttle_control_replicas, knobs.max_lag_millis)
        )

    def _hibernation(self, now: float) -> str | None:
        if self._hibernate_until is None:
            return None
        if now < self._hibernate_until:
            left = self._hibernate_until - now
            return f"critical-load-hibernate for another {left:.0f}s"
        logger.info("leaving hibernation")
        self._hibernate_until = None
        self._status = _Cached()  # re-read the status variables at once
        return None

    def _panic_file(self) -> bool:
        path = self.options.panic_flag_file
        if not path or not self.file_exists(path):
            return False
        self.context.request_abort(f"found panic flag file {path}; aborting without cleanup")
        return True

    def _status_values(self, now: float) -> Mapping[str, Any]:
        """SHOW GLOBAL STATUS, at most once per general interval; keys lower-cased."""
        if self.status_reader is None:
            raise ConfigError("max-load/critical-load are set but no status reader was given")
        if now - self._status.at >= self.options.general_interval_seconds:
            values = self.status_reader()
            self._status = _Cached(None, now, {str(k).lower(): v for k, v in values.items()})
        values_now: Mapping[str, Any] = self._status.value
        return values_now

    def _load_met(self, now: float, text: str, name: str) -> tuple[bool, str] | None:
        """None when no threshold is met; else (met, text): met=True with
        ``"Var=value >= threshold"``, met=False when the values could not be read."""
        load = self._parse_load(text, name)
        if not load:
            return None
        try:
            values = self._status_values(now)
        except Exception as exc:
            return False, f"{name}: cannot read status variables: {exc}"
        for var, threshold in load.items():
            raw = values.get(var.lower())
            if raw is None:
                return False, f"{name}: unknown status variable {var}"
            try:
                value = int(float(str(raw)))
            except ValueError:
                return False, f"{name}: status variable {var}={raw!r} is not a number"
            if value >= threshold:
                return True, f"{var}={value} >= {threshold}"
        return None

    def _parse_load(self, text: str, name: str) -> dict[str, int]:
        """parse_load, cached per text. A value that does not parse is logged and ignored:
        the control socket and config validation reject such values before they get here."""
        key = (text, name)
        if key not in self._loads:
            try:
                self._loads[key] = parse_load(text, name=name)
            except ConfigError as exc:
                logger.error("%s (ignored)", exc)
                self._loads[key] = {}
        return self._loads[key]

    def _critical_load(self, now: float, text: str) -> str | None:
        interval = self.options.critical_load_interval_millis / 1000.0
        since = self._critical_since
        if since is not None and now - since >= interval and self._status.at < since + interval:
            self._status = _Cached()  # the second check must see values read after the interval
        result = self._load_met(now, text, "critical-load")
        if result is None or not result[0]:
            # Not met, or unreadable: unreadable throttles (fail safe) but never aborts.
            self._critical_since = None
            return None if result is None else result[1]
        met = result[1]
        if interval > 0:
            # Second chance (gh-ost --critical-load-interval-millis): a spike that is gone
            # when the interval has passed does not abort. Throttle meanwhile.
            if self._critical_since is None:
                self._critical_since = now
            if now - self._critical_since < interval:
                return f"critical-load {met}, re-checking"
            self._critical_since = None
        hibernate = self.options.critical_load_hibernate_seconds
        if hibernate > 0:
            self._hibernate_until = now + hibernate
            logger.error("critical-load met: %s; hibernating for %ss", met, hibernate)
            return f"critical-load-hibernate for {hibernate}s ({met})"
        self.context.request_abort(f"critical-load met: {met}")
        return f"critical-load met: {met}"

    def _max_load(self, now: float, text: str) -> str | None:
        result = self._load_met(now, text, "max-load")
        if result is None:
            return None
        met, message = result
        return f"max-load {message}" if met else message

    def _throttle_query(self, now: float, sql: str) -> str | None:
        if not sql.strip() or self.scalar_query is None:
            return None
        if self._query.key != sql or now - self._query.at >= self.options.general_interval_seconds:
            try:
                value = self.scalar_query(sql)
                throttle = float(str(value)) > 0 if value is not None else False
            except Exception as exc:  # gh-ost: errors count as 0 (no throttling)
                logger.warning("throttle-query failed (ignored): %s", exc)
                throttle = False
            self._query = _Cached(sql, now, throttle)
        return "throttle-query" if self._query.value else None

    def _throttle_http(self, now: float, url: str) -> str | None:
        if not url.strip():
            return None
        interval = self.options.throttle_http_interval_millis / 1000.0
        if self._http.key != url or now - self._http.at >= interval:
            try:
                status = self.http_checker(url, self.options.throttle_http_timeout_millis / 1000)
            except OSError as exc:
                logger.warning("throttle-http %s: %s", url, exc)
                status = -1
            self._http = _Cached(url, now, status)
        status = self._http.value
        if status == 200:
            return None
        label = "freno" if "freno" in url else "throttle-http"
        if status == -1:
            return None if self.options.ignore_http_errors else f"{label}: connection error"
        return f"{label}: status {status}"

    def _own_lag(self, max_lag_millis: int) -> str | None:
        if self.lag_reader is None:
            return None
        lag = self.lag_reader()
        if lag is None or lag * 1000 <= max_lag_millis:
            return None
        return f"lag={lag:.3f}s"

    def _replica_lag(self, now: float, replicas: str, max_lag_millis: int) -> str | None:
        if not replicas.strip() or self.replica_lag_reader is None:
            return None
        # gh-ost polls control replicas every 100 ms when max-lag-millis < 1 s, else 1 s.
        interval = 0.1 if max_lag_millis < 1000 else 1.0
        if self._replicas.key != replicas or now - self._replicas.at >= interval:
            try:
                lags: Mapping[str, float | None] | str = dict(self.replica_lag_reader(replicas))
            except Exception as exc:  # a read error is a throttle reason (gh-ost)
                lags = f"control replicas: cannot read lag: {exc}"
            self._replicas = _Cached(replicas, now, lags)
        lags = self._replicas.value
        if isinstance(lags, str):
            return lags
        for host, lag in sorted(lags.items()):
            if lag is None:
                return f"{host} replica-lag unknown"
            if lag * 1000 > max_lag_millis:
                return f"{host} replica-lag={lag:.3f}s"
        return None
