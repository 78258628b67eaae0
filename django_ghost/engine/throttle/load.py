"""The load sources, read from ``SHOW GLOBAL STATUS`` on the applier: max-load (throttles),
critical-load (aborts, re-checks after an interval, or hibernates) and the hibernation
that critical-load starts.

The three share one status read per general interval (gh-ost's "general metrics"), so a
max-load check right after a critical-load check costs no second query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..context import LiveKnobs, MigrationContext
from ..errors import ConfigError
from ..option_syntax import parse_load
from .check import Cached, ThrottleCheck

logger = logging.getLogger("django_ghost")

StatusReader = Callable[[], Mapping[str, Any]]


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


class LoadStatus:
    """The status variables, read at most once per general interval, and the parsed
    thresholds; shared by hibernation, critical-load and max-load."""

    def __init__(self, reader: StatusReader | None, interval_seconds: float):
        self.reader = reader
        self.interval_seconds = interval_seconds
        self._cached = Cached()
        self._loads: dict[tuple[str, str], dict[str, int]] = {}

    @property
    def read_at(self) -> float:
        """When the cached values were read (-inf when there are none)."""
        return self._cached.at

    def forget(self) -> None:
        """Drop the cached values: the next check reads them afresh."""
        self._cached = Cached()

    def values(self, now: float) -> Mapping[str, Any]:
        """SHOW GLOBAL STATUS, at most once per general interval; keys lower-cased."""
        if self.reader is None:
            raise ConfigError("max-load/critical-load are set but no status reader was given")
        if now - self._cached.at >= self.interval_seconds:
            values = self.reader()
            self._cached = Cached(None, now, {str(k).lower(): v for k, v in values.items()})
        values_now: Mapping[str, Any] = self._cached.value
        return values_now

    def met(self, now: float, text: str, name: str) -> tuple[bool, str] | None:
        """None when no threshold is met; else (met, text): met=True with
        ``"Var=value >= threshold"``, met=False when the values could not be read."""
        load = self._parse(text, name)
        if not load:
            return None
        try:
            values = self.values(now)
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

    def _parse(self, text: str, name: str) -> dict[str, int]:
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


class Hibernation(ThrottleCheck):
    """After critical-load with ``critical_load_hibernate_seconds``: no reads, no queries
    and no heartbeats until the time is up; then the status is read afresh."""

    name = "critical-load-hibernate"

    def __init__(self, status: LoadStatus):
        self.status = status
        self.until: float | None = None

    def begin(self, now: float, seconds: float) -> None:
        self.until = now + seconds

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        if self.until is None:
            return None
        if now < self.until:
            return f"critical-load-hibernate for another {self.until - now:.0f}s"
        logger.info("leaving hibernation")
        self.until = None
        self.status.forget()  # re-read the status variables at once
        return None

    def heartbeat_allowed(self, now: float) -> bool:
        return self.until is None or now >= self.until


class CriticalLoad(ThrottleCheck):
    """``critical_load`` met: abort; or throttle and re-check once ``interval_millis`` has
    passed; or hibernate for ``hibernate_seconds`` instead of aborting. An unreadable
    status throttles (fail safe) but never aborts."""

    name = "critical-load"

    def __init__(
        self,
        context: MigrationContext,
        status: LoadStatus,
        hibernation: Hibernation,
        *,
        interval_millis: int,
        hibernate_seconds: int,
    ):
        self.context = context
        self.status = status
        self.hibernation = hibernation
        self.interval_millis = interval_millis
        self.hibernate_seconds = hibernate_seconds
        self._since: float | None = None

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        interval = self.interval_millis / 1000.0
        since = self._since
        if since is not None and now - since >= interval and self.status.read_at < since + interval:
            self.status.forget()  # the second check must see values read after the interval
        result = self.status.met(now, knobs.critical_load, "critical-load")
        if result is None or not result[0]:
            self._since = None
            return None if result is None else result[1]
        met = result[1]
        if interval > 0:
            # Second chance (gh-ost --critical-load-interval-millis): a spike that is gone
            # when the interval has passed does not abort. Throttle meanwhile.
            if self._since is None:
                self._since = now
            if now - self._since < interval:
                return f"critical-load {met}, re-checking"
            self._since = None
        hibernate = self.hibernate_seconds
        if hibernate > 0:
            self.hibernation.begin(now, hibernate)
            logger.error("critical-load met: %s; hibernating for %ss", met, hibernate)
            return f"critical-load-hibernate for {hibernate}s ({met})"
        self.context.request_abort(f"critical-load met: {met}")
        return f"critical-load met: {met}"


class MaxLoad(ThrottleCheck):
    """``max_load`` met: throttle, naming the variable, its value and the threshold."""

    name = "max-load"

    def __init__(self, status: LoadStatus):
        self.status = status

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        result = self.status.met(now, knobs.max_load, "max-load")
        if result is None:
            return None
        met, message = result
        return f"max-load {message}" if met else message
