"""RealThrottler: decides whether the copy and apply loops may work right now.

It runs the throttle checks (``order.py``: gh-ost's order, one source per module) on a
background thread every tick; the first check that gives a reason wins, and the reason is
always stored in ``context.throttle_reason`` so the status line, ``status-json`` and
hooks show it. A check that raises unexpectedly makes it throttle (fail safe).

Every threshold is read from ``context.knobs`` at each evaluation, so values changed
over the control socket take effect at the next tick; the costly checks cache their
answers for their own interval.

The throttler only decides. The migrator's copy and apply loops call
:meth:`RealThrottler.wait_while_throttled` before each chunk / batch; heartbeats keep
going while throttled (except while a check forbids them: hibernation), and nothing
throttles inside the cut-over critical section because the cut-over never calls it.

With ``max_latency_millis`` the throttler also owns the latency pacer (latency.py); the
copy loop spends the pause the controller chose applying (apply/streaming.py,
``Streaming.apply_through_pause``) and copies chunks of the paced size.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..context import MigrationContext
from ..errors import AbortedError
from .latency import LatencyPacer
from .options import ThrottleOptions
from .order import ThrottleReaders, gh_ost_checks

logger = logging.getLogger("django_ghost")

Clock = Callable[[], float]


class RealThrottler:
    """Evaluates the throttle checks on a background thread (or on demand, in tests)."""

    def __init__(
        self,
        context: MigrationContext,
        *,
        options: ThrottleOptions | None = None,
        readers: ThrottleReaders | None = None,
        clock: Clock = time.monotonic,
        on_change: Callable[[str | None], None] | None = None,
        pacer: LatencyPacer | None = None,
    ):
        self.context = context
        self.options = options or ThrottleOptions()
        self.readers = readers or ThrottleReaders()
        self.checks = gh_ost_checks(context, self.options, self.readers)
        self.clock = clock
        self.on_change = on_change
        self.pacer = pacer
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.source: str | None = None
        """The name of the check that gave the current reason (metrics label it so)."""

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
        if self.pacer is not None:
            self.pacer.start()

    def stop(self) -> None:
        """Stop the background thread and wait for it; waiters are woken."""
        self._stopping.set()
        if self.pacer is not None:
            self.pacer.stop()
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

    def wait_while_throttled(self, on_wait: Callable[[], None] | None = None) -> bool:
        """Block until not throttled. Raises AbortedError if the migration aborts meanwhile.

        Without the background thread (never started, or stopped) each wake-up
        re-evaluates the checks itself, so a caller is throttled correctly either way.
        ``on_wait`` runs at each wake-up while throttled: the migrator's status line,
        status hook and progress go on being reported (a long throttle is exactly when an
        operator watches them).
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
            if on_wait is not None:
                on_wait()

    def heartbeat_allowed(self) -> bool:
        now = self.clock()
        return all(check.heartbeat_allowed(now) for check in self.checks)

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
            self.source = "throttle-check-failed"
        self._publish(reason)
        return reason

    def _evaluate(self, now: float) -> str | None:
        """The first check that gives a reason wins; the later ones are not evaluated."""
        knobs = self.context.knobs
        for check in self.checks:
            reason = check.check(now, knobs)
            if reason:
                self.source = check.name
                return reason
        self.source = None
        return None

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
