"""The throttle-http source: a HEAD request to ``throttle_http`` (freno, or any checker);
anything but 200 throttles. Asked at most once per ``throttle_http_interval_millis``, and
at once when the URL changes."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable

from ..context import LiveKnobs
from .check import Cached, ThrottleCheck

logger = logging.getLogger("django_ghost")

HttpChecker = Callable[[str, float], int]


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


class ThrottleHttp(ThrottleCheck):
    """A status other than 200 throttles; no answer throttles unless ``ignore_errors``."""

    name = "throttle-http"

    def __init__(
        self,
        checker: HttpChecker,
        *,
        interval_millis: int,
        timeout_millis: int,
        ignore_errors: bool,
    ):
        self.checker = checker
        self.interval_millis = interval_millis
        self.timeout_millis = timeout_millis
        self.ignore_errors = ignore_errors
        self._cached = Cached()

    def check(self, now: float, knobs: LiveKnobs) -> str | None:
        url = knobs.throttle_http
        if not url.strip():
            return None
        interval = self.interval_millis / 1000.0
        if self._cached.key != url or now - self._cached.at >= interval:
            try:
                status = self.checker(url, self.timeout_millis / 1000)
            except OSError as exc:
                logger.warning("throttle-http %s: %s", url, exc)
                status = -1
            self._cached = Cached(url, now, status)
        status = self._cached.value
        if status == 200:
            return None
        label = "freno" if "freno" in url else "throttle-http"
        if status == -1:
            return None if self.ignore_errors else f"{label}: connection error"
        return f"{label}: status {status}"
