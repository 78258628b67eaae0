"""What every cut-over attempt shares, whatever its variant: the errors, the steps under
the lock, and the retries.

Under its lock an attempt (atomic.py, two_step.py) does the same four things:

1. It writes a sentinel state row to the changelog and the writer applies every binlog
   change queued before it; the ghost now equals the frozen original.
2. It carries AUTO_INCREMENT over, so ids deleted at the top of the original are never
   handed out again; unless the ALTER sets ``AUTO_INCREMENT=N`` itself (``carry_counter``
   false): the ghost got N with the ALTER, and the copy and the apply raised it past
   the highest key they wrote, which is what the server's own ALTER gives.
3. It verifies by key every key applied since the background verification last saw
   it (verify/keyed.py), the final drain's included; a key that differs is re-applied
   and compared again. A key that still differs fails the migration, not the attempt
   (retrying cannot fix a divergence): nothing is renamed, and the ghost is kept for
   inspection.
4. It creates the original's triggers on the ghost (cutover/triggers.py), last, once
   nothing writes the ghost any more; a failed attempt drops them again.

Each attempt is bounded by the lock timeout T; a failed attempt leaves the original
intact and is retried with a (optionally exponential) backoff, up to ``default_retries``.
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb

from ..apply.applier import Applier
from ..apply.streamer import Streamer
from ..config import GhostConfig
from ..context import MigrationContext
from ..errors import CutOverError, DataError, GhostError
from ..metrics.emitter import milliseconds, record_sleep
from ..mysql.connection import Connection, ConnectionSpec, execute, query, scalar
from ..sql.quote import quote_identifier as q
from ..table.changelog import Changelog
from ..verify.keyed import KeysDiffer, KeyVerifier, describe_keys
from .triggers import carry_triggers, drop_triggers_on

log = logging.getLogger("django_ghost")

SESSIONS_HINT = "cut-over-sessions"
"""The changelog row holding the connection ids of the last attempt's sessions."""


class CutOverAttemptFailed(GhostError):
    """One attempt failed; the original is intact and the attempt may be retried."""


class CutOverVerificationFailed(CutOverError):
    """Under the cut-over lock, keys of the ghost still differed from the frozen
    original's after being re-applied; nothing was renamed. Not retried: another attempt
    would find the same divergence."""

    def __init__(self, message: str, *, keys: list[tuple[Any, ...]], compared: int):
        super().__init__(message)
        self.keys = keys
        self.compared = compared


class Attempt(abc.ABC):
    """One cut-over variant: :meth:`run` makes one attempt with the steps shared here."""

    lock_phase = "original_table_lock"
    """The name of the lock phase in the metrics, gh-ost's for the variant."""

    def __init__(
        self,
        spec: ConnectionSpec,
        connect: Callable[..., Connection],
        context: MigrationContext,
        *,
        original: str,
        ghost: str,
        old: str,
        applier: Applier,
        streamer: Streamer,
        changelog: Changelog,
        main_conn: Connection,
        verifier: KeyVerifier | None = None,
        position_under_lock: Callable[[], Any] | None = None,
    ):
        self.spec = spec
        self.connect = connect
        self.context = context
        self.original = original
        self.ghost = ghost
        self.old = old
        self.applier = applier
        self.streamer = streamer
        self.changelog = changelog
        self.main = main_conn
        self.verifier = verifier
        self.timeout = context.config.cut_over_lock_timeout_seconds
        self.ghost_may_have_triggers = False
        self.carry_counter = True
        self.position_under_lock = position_under_lock
        self.position: Any = None
        """The binlog position read under the lock of the attempt that swapped the
        tables (None unless ``position_under_lock`` is given): a revert streams from it."""

    def own_ddl_of(self, conn: Connection) -> int:
        """Let ``conn``'s DDL rename the original without stopping the migration (the
        streamer tells it by the session that ran it); returns its connection id. Every
        other session's DDL on the original still stops it, between attempts and after
        a failed one too."""
        connection_id = int(scalar(conn, "SELECT CONNECTION_ID()"))
        self.streamer.own_sessions.add(connection_id)
        return connection_id

    def record_sessions(self, *connection_ids: int) -> None:
        """Note this attempt's sessions in the changelog: if the engine dies, a RENAME
        they sent may still wait on the server, and a resume ends them first
        (state/sessions.py)."""
        self.changelog.write(SESSIONS_HINT, json.dumps(list(connection_ids)))

    @abc.abstractmethod
    def run(self) -> None:
        """Swap the ghost in, or raise CutOverAttemptFailed (or a MySQL OperationalError)
        with the original intact, or KeysDiffer."""

    def lock_tables(self, lock_conn: Connection, tables: str) -> float:
        """``LOCK TABLES`` on the lock session; the attempt fails (and is retried) when the
        lock wait times out. Returns when the lock was taken (the stall starts there)."""
        with self.phase(self.lock_phase):
            try:
                execute(lock_conn, f"LOCK TABLES {tables}")
            except MySQLdb.OperationalError as exc:
                raise CutOverAttemptFailed(f"could not lock {self.original}: {exc}") from exc
        return time.monotonic()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Times one phase of the attempt for gh-ost's
        ``cut_over.phase_duration_milliseconds`` (outcome abort when it raises)."""
        started, outcome = time.monotonic(), "abort"
        try:
            yield
            outcome = "success"
        finally:
            self.record_phase(name, started, outcome)

    def record_phase(self, name: str, started: float, outcome: str) -> None:
        self.context.metrics.histogram(
            "cut_over.phase_duration_milliseconds",
            milliseconds(time.monotonic() - started),
            {"phase": name, "outcome": outcome},
        )

    def apply_up_to_lock(self, lock_conn: Connection | None) -> None:
        """Apply every change committed before the lock (on the lock session when it
        holds the ghost too, as in the two-step cut-over)."""
        marker = f"cutover-sentinel:{uuid.uuid4().hex}"
        self.changelog.state(marker)
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                if self.context.aborted:
                    raise CutOverAttemptFailed(f"aborted: {self.context.abort_reason}")
                markers = self.applier.drain(
                    self.streamer.queue, max_events=100_000, wait=0.05, locked_conn=lock_conn
                )
                if marker in markers:
                    # An abort raised by an event before the sentinel (another session's
                    # ALTER of the original just before the lock) must stop this swap.
                    if self.context.aborted:
                        raise CutOverAttemptFailed(f"aborted: {self.context.abort_reason}")
                    # Read while no write reaches the original and before the RENAME:
                    # every write to the new table is logged after it (docs/revert.md).
                    if self.position_under_lock is not None:
                        self.position = self.position_under_lock()
                    return
        except DataError:
            self.context.request_abort("the data does not fit the new schema")
            raise
        except MySQLdb.Error as exc:
            # Keys taken off the queue but not applied would be lost: stop the migration.
            self.context.request_abort(f"applying the final changes failed: {exc}")
            raise
        raise CutOverAttemptFailed(
            f"the binlog did not deliver the cut-over sentinel within {self.timeout} s "
            "(the stream is lagging)"
        )

    def carry_auto_increment(self, lock_conn: Connection) -> None:
        if not self.carry_counter:
            return
        rows = query(
            lock_conn,
            "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (%s, %s)",
            (self.original, self.ghost),
        )
        values: dict[str, Any] = {str(name): value for name, value in rows}
        source, target = values.get(self.original), values.get(self.ghost)
        if source is not None and (target is None or int(source) > int(target)):
            execute(lock_conn, f"ALTER TABLE {q(self.ghost)} AUTO_INCREMENT = {int(source)}")

    def verify_applied_keys(self, lock_conn: Connection | None) -> None:
        """Raise KeysDiffer unless every key applied since it was last verified equals
        the frozen original's row, after one re-apply of those that differ (run under
        the lock, after the final apply; on the lock session when it holds the ghost,
        as in the two-step cut-over, else on the verifier's own session)."""
        if self.verifier is None:
            return
        started = time.monotonic()
        background, reapplied = self.verifier.verified, self.verifier.reapplied
        compared = self.verifier.verify_under_lock(lock_conn)
        log.info(
            "cut-over verification by key: %d keys compared, %d re-applied (%.3f s under "
            "the lock; before it, in the background: %d keys verified, %d re-applied)",
            compared,
            self.verifier.reapplied - reapplied,
            time.monotonic() - started,
            background,
            reapplied,
        )

    def carry_triggers(self, conn: Connection) -> None:
        """Give the ghost the original's triggers, on ``conn`` (the lock session when it
        holds the ghost, as in the two-step cut-over); after the final apply."""
        # Set first: a failure half-way leaves some triggers on the ghost, to be dropped.
        self.ghost_may_have_triggers = True
        carry_triggers(
            conn,
            self.context.config,
            original=self.original,
            ghost=self.ghost,
            timeout=self.timeout,
        )

    def drop_carried_triggers(self) -> None:
        """After a failed attempt, before anything is applied to the ghost again: a
        trigger left on it would fire on the apply's writes. If they cannot be dropped,
        the migration stops rather than apply through them."""
        if not self.ghost_may_have_triggers:
            return
        try:
            drop_triggers_on(self.main, self.ghost)
        except MySQLdb.Error as exc:
            self.context.request_abort(f"could not drop the triggers from {self.ghost}: {exc}")
            raise CutOverError(
                f"The cut-over attempt failed after creating triggers on the ghost table "
                f"{self.ghost}, and dropping them failed ({exc}); the migration stops so "
                "that they never fire on the migration's own writes. The original table "
                f"{self.original} is intact."
            ) from exc
        finally:
            self.ghost_may_have_triggers = False

    def exists(self, table: str) -> bool:
        return bool(
            query(
                self.main,
                "SELECT 1 FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (table,),
            )
        )


def retry(
    attempt: Attempt,
    *,
    sleep: Callable[[float], None],
    before_attempt: Callable[[], None] | None,
) -> None:
    """Run ``attempt`` until it succeeds or ``default_retries`` attempts failed;
    ``before_attempt`` (the catch-up) runs before each. Records gh-ost's cut-over metrics:
    each attempt's outcome, and the whole cut-over's duration."""
    metrics = attempt.context.metrics
    started = time.monotonic()
    outcome = "abort"
    try:
        _retry(attempt, sleep=sleep, before_attempt=before_attempt)
        outcome = "success"
    finally:
        if outcome == "abort":
            metrics.count("cut_over.attempts_total", 1, {"outcome": "abort"})
        metrics.histogram(
            "cut_over.total_duration_milliseconds",
            milliseconds(time.monotonic() - started),
            {"outcome": outcome},
        )


def _retry(
    attempt: Attempt,
    *,
    sleep: Callable[[float], None],
    before_attempt: Callable[[], None] | None,
) -> None:
    context = attempt.context
    config = context.config
    last_error: Exception | None = None
    for number in range(1, config.default_retries + 1):
        if context.aborted:
            raise CutOverError(f"cut-over abandoned: {context.abort_reason}")
        if before_attempt is not None:
            before_attempt()
        context.cut_over_attempts = number
        try:
            attempt.run()
            context.metrics.count("cut_over.attempts_total", 1, {"outcome": "success"})
            return
        except (CutOverAttemptFailed, MySQLdb.OperationalError) as exc:
            last_error = exc
            context.throttle_reason = f"cut-over attempt {number} failed: {exc}"
            context.metrics.count("cut_over.attempts_total", 1, {"outcome": "retry"})
        except KeysDiffer as exc:
            raise _verification_failed(
                exc, original=attempt.original, ghost=attempt.ghost
            ) from None
        pause = backoff(config, number)
        record_sleep(context.metrics, "retry_backoff", pause)
        sleep(pause)
    raise CutOverError(
        f"Cut-over did not succeed after {config.default_retries} attempts (last error: "
        f"{last_error}). The original table {attempt.original} is intact. Find what holds "
        f"locks on {attempt.original} (long transactions, SHOW PROCESSLIST) and run again, "
        "or raise cut_over_lock_timeout_seconds."
    )


def backoff(config: GhostConfig, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt``."""
    if config.cut_over_exponential_backoff:
        return float(min(config.exponential_backoff_max_interval, 2 ** (attempt - 1)))
    return 1.0


def _verification_failed(
    differ: KeysDiffer, *, original: str, ghost: str
) -> CutOverVerificationFailed:
    where = (
        f"The ghost table {ghost} is kept for inspection (compare it with "
        f"{original}; django-ghost --cleanup or DROP TABLE removes it)."
    )
    return CutOverVerificationFailed(
        f"Cut-over refused: under the cut-over lock, after the final changes were "
        f"applied, {len(differ.keys)} of the {differ.compared} keys verified still "
        f"differ between the original table {original} and the ghost table after being "
        f"re-applied (keys: {describe_keys(differ.keys)}). Nothing was renamed: the "
        f"original table {original} is untouched. {where} The migration failed rather "
        "than retried, since another attempt would swap in the same divergence. This is "
        "a django_ghost bug: please report it with those keys, the ALTER and this run's "
        "log.",
        keys=differ.keys,
        compared=differ.compared,
    )
