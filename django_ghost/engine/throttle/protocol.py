"""What the copy and apply loops need from a throttler, and the throttler that never
throttles (for tests and for callers that want no throttling at all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..context import MigrationContext
from ..errors import AbortedError


class Throttler(Protocol):
    """What the copy and apply loops need from a throttler."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def check(self) -> str | None:
        """Evaluate now; return the throttle reason, or None when work may proceed."""
        ...

    def wait_while_throttled(self, on_wait: Callable[[], None] | None = None) -> bool:
        """Block while throttled, calling ``on_wait`` at each wake-up; True if it had to
        wait. Raises AbortedError on abort."""
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

    def wait_while_throttled(self, on_wait: Callable[[], None] | None = None) -> bool:
        if self.context is not None and self.context.aborted:
            raise AbortedError(self.context.abort_reason or "aborted")
        return False

    def heartbeat_allowed(self) -> bool:
        return True

    def nice(self, busy_seconds: float) -> float:
        return 0.0
