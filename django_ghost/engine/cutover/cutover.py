"""The cut-over: swap the ghost table in for the original, atomically, under a short lock.

:class:`CutOver` picks the variant named by ``config.cut_over`` from :data:`VARIANTS` and
retries its attempts (attempts.py) until one succeeds:

- ``atomic`` (atomic.py, the default): gh-ost's two-connection RENAME behind a sentry
  table; the original's name always exists.
- ``two-step`` (two_step.py): LOCK TABLES and two ALTER ... RENAME, with a short gap
  where the name does not exist.

A new variant is an :class:`~.attempts.Attempt` subclass in a module of its own, listed
in VARIANTS here and its name in ``config.CUT_OVER_ALGORITHMS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..apply.streaming import Streaming
from ..context import MigrationContext
from ..mysql.connection import Connection, ConnectionSpec
from ..sql.names import TableNames
from ..table.changelog import Changelog
from ..verify.keyed import KeyVerifier
from .atomic import AtomicAttempt
from .attempts import Attempt, retry
from .two_step import TwoStepAttempt

VARIANTS: dict[str, type[Attempt]] = {"atomic": AtomicAttempt, "two-step": TwoStepAttempt}
"""Cut-over variants by their ``cut_over`` option value."""


class CutOver:
    """Runs cut-over attempts of the configured variant until one succeeds or the retries
    run out; ``before_attempt`` (the catch-up) runs before each; ``verifier`` verifies by
    key under the lock (None: verify_applied_keys is off)."""

    def __init__(
        self,
        spec: ConnectionSpec,
        connect: Callable[..., Connection],
        context: MigrationContext,
        names: TableNames,
        *,
        streaming: Streaming,
        changelog: Changelog,
        main_conn: Connection,
        sleep: Callable[[float], None] = time.sleep,
        before_attempt: Callable[[], None] | None = None,
        verifier: KeyVerifier | None = None,
        position_under_lock: Callable[[], Any] | None = None,
    ):
        variant = VARIANTS[context.config.cut_over]
        self.attempt = variant(
            spec,
            connect,
            context,
            original=names.original,
            ghost=names.ghost,
            old=names.old,
            applier=streaming.applier,
            streamer=streaming.streamer,
            changelog=changelog,
            main_conn=main_conn,
            verifier=verifier,
            position_under_lock=position_under_lock,
        )
        self.sleep = sleep
        self.before_attempt = before_attempt

    def run(self) -> None:
        retry(self.attempt, sleep=self.sleep, before_attempt=self.before_attempt)

    @property
    def position(self) -> Any:
        """The binlog position read under the lock of the swap (``position_under_lock``)."""
        return self.attempt.position
