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
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .context import MigrationContext
from .errors import AbortedError, ConfigError

logger = logging.getLogger("django_ghost")

# Longer than our ~500-line guideline: the eleven checks share the caches and the
# hibernation state of one class, and the load/replica parsers next to them are what the
# control socket validates with. Split the parsers out if the module grows further.

StatusReader = Callable[[], Mapping[str, Any]]
ScalarQuery = Callable[[str], object]
HttpChecker = Callable[[str, float], int]
LagReader = Callable[[], "float | None"]
ReplicaLagReader = Callable[[str], Mapping[str, "float | None"]]
Clock = Callable[[], float]

# Options the lead adds to GhostConfig for throttling (name, type, default, validation).
# ThrottleOptions.from_config reads them with these defaults until they exist.
THROTTLE_OPTIONS = """
max_load: str = ""                          # "Var=N,Var2=M"; must parse with parse_load()
critical_load: str = ""                     # same syntax; met -> abort (or hibernate)
critical_load_interval_millis: int = 0      # 0..3_600_000; >0: re-check after it
critical_load_hibernate_seconds: int = 0    # 0..86_400; >0: hibernate instead of aborting
throttle_query: str = ""                    # scalar SQL run on the applier; > 0 throttles
throttle_http: str = ""                     # http(s) URL; "" = off; must start with http:// or https://
throttle_http_interval_millis: int = 100    # 10..3_600_000
throttle_http_timeout_millis: int = 1000    # 10..60_000
ignore_http_errors: bool = False            # connection errors do not throttle
throttle_control_replicas: str = ""         # "host[:port],..." ; each port 1..65535
throttle_flag_file: str = ""                # throttle while this file exists
throttle_additional_flag_file: str = ""   # gh-ost defaults to /tmp/gh-ost.throttle
panic_flag_file: str = ""                   # abort without cleanup when this file appears
"""

# gh-ost evaluates general metrics once a second and decides every 100 ms.
GENERAL_INTERVAL_SECONDS = 1.0
TICK_SECONDS = 0.1


@dataclasses.dataclass(frozen=True)
class ThrottleOptions:
    """The static (not live) throttle settings: file paths, intervals, HTTP behaviour."""

    panic_flag_file: str = ""
    throttle_flag_file: str = ""
    throttle_additional_flag_file: str = ""
    critical_load_interval_millis: int = 0
    critical_load_hibernate_seconds: int = 0
    throttle_http_interval_millis: int = 100
    throttle_http_timeout_millis: int = 1000
    ignore_http_errors: bool = False
    tick_seconds: float = TICK_SECONDS
    general_interval_seconds: float = GENERAL_INTERVAL_SECONDS

    @classmethod
    def from_config(cls, config: object) -> ThrottleOptions:
        """Take every field the config has; the rest keep their defaults (see THROTTLE_OPTIONS)."""
        values = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(cls)
            if hasattr(config, f.name)
        }
        return cls(**values)


class Throttler(Protocol):
    """What the copy and apply loops need from a throttler."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def check(self) -> str | None:
        """Evaluate now; return the throttle reason, or None when work may proceed."""
        ...

    def wait_while_throttled(self) -> bool:
        """Block while throttled; True if it had to wait. Raises AbortedError on abort."""
        ...

    def heartbeat_allowed(self) -> bool:
        """False while hibernating: then not even heartbeats are written."""
        ...

    def nice(self, busy_seconds: float) -> float:
        """Sleep ``nice_ratio`` x ``busy_seconds`` after a chunk; return the time slept."""
        ...


class NoopThrottler:
    """Never throttles. For tests and for callers that want no throttling at all."""

    def __init__(self, context: MigrationContext | None = None):
        self.context = context

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def check(self) -> str | None:
        return None

    def wait_while_throttled(self) -> bool:
        if self.context is not None and self.context.aborted:
            raise AbortedError(self.context.abort_reason or "aborted")
        return False

    def heartbeat_allowed(self) -> bool:
        return True

    def nice(self, busy_seconds: float) -> float:
        return 0.0


def parse_load(text: str, *, name: str = "max-load") -> dict[str, int]:
    """Parse ``"Threads_running=25,Threads_connected=500"`` into ``{name: threshold}``.

    Empty text means no thresholds. Raises ConfigError naming the bad part.
    """
    result: dict[str, int] = {}
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        var, sep, value = part.partition("=")
        var, value = var.strip(), value.strip()
        if not sep or not var or not value:
            raise ConfigError(
                f"{name}: {part!r} is not Variable=Threshold; e.g. {name}=Threads_running=25."
            )
        if not var.replace("_", "").isalnum():
            raise ConfigError(f"{name}: {var!r} is not a status variable name.")
        try:
            threshold = int(value)
        except ValueError:
            raise ConfigError(f"{name}: threshold {value!r} of {var} is not an integer.") from None
        if threshold < 0:
            raise ConfigError(f"{name}: threshold of {var} must not be negative.")
        result[var] = threshold
    return result


def format_load(load: Mapping[str, int]) -> str:
    """The inverse of parse_load, in a canonical form."""
    return ",".join(f"{k}={v}" for k, v in load.items())


def parse_replicas(text: str) -> list[tuple[str, int]]:
    """Parse ``"host1,host2:3307"`` into ``[(host, port)]`` (port defaults to 3306)."""
    result = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        host, sep, port_text = part.rpartition(":")
        if not sep:
            host, port_text = part, "3306"
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"throttle-control-replicas: bad port in {part!r}.") from None
        if not host or not 1 <= port <= 65535:
            raise ConfigError(f"throttle-control-replicas: {part!r} is not host[:port].")
        result.append((host, port))
    return result


def http_head_status(url: str, timeout_seconds: float) -> int:
    """HEAD ``url`` and return the status code; raise OSError when there is no answer."""
    try:
        request = urllib.request.Request(url, method="HEAD")
    except ValueError as exc:  # no scheme: gh-ost also counts this as a connection error
        raise OSError(str(exc)) from None
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except ValueError as exc:
        raise OSError(str(exc)) from None


def connection_status_reader(conn: Any) -> StatusReader:
    """A StatusReader running SHOW GLOBAL STATUS on ``conn`` (one owned by the throttler)."""

    def read() -> dict[str, Any]:
        cur = conn.cursor()
        try:
            cur.execute("SHOW GLOBAL STATUS")
            return {str(name): value for name, value in cur.fetchall()}
        finally:
            cur.close()

    return read


def connection_scalar_query(conn: Any) -> ScalarQuery:
    """A ScalarQuery returning the first column of the first row (None when empty).

    ``conn`` must be in autocommit mode: inside one REPEATABLE READ transaction every
    run of the query would see the same snapshot and never stop throttling.
    """

    def run(sql: str) -> object:
        cur = conn.cursor()
        try:
            cur.execute(sql)
            row = cur.fetchone()
            while cur.nextset():  # a multi-result query must not leave the connection busy
                pass
            return None if row is None else row[0]
        finally:
            cur.close()

    return run


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
