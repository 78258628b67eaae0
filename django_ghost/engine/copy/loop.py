"""The copy steps: open the copy over the key range (:func:`open_copy`), then copy chunk
after chunk until the range is done, with the queued binlog changes applied between
chunks, the deferred indexes built as soon as the table turns out to be busy
(copy/deferred.py), and a checkpoint saved every few seconds (:func:`copy_rows`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from ..apply.streaming import Streaming
from ..mysql.connection import Connection
from ..table.plan import CopyPlan
from .chunker import Chunker
from .copier import Copier
from .deferred import EarlyBuild, IndexBuild

MIN_APPLY_SLICE = 0.05
"""Seconds the copy loop gives the apply at least between two chunks."""


class CheckpointSaver(Protocol):
    """Saves where the copy and the apply are (state/resume.py)."""

    def save(self, *, force: bool = False) -> None: ...


def open_copy(
    streaming: Streaming,
    plan: CopyPlan,
    *,
    ghost: str,
    restore: Callable[[Chunker], None] | None,
    ahead: Connection | None = None,
) -> Copier:
    """The copier of the key range read now, after the stream started (see apply/applier.py),
    or, on resume, of what is left where ``restore`` puts the chunker back; chunk ends are
    looked up ahead on the ``ahead`` session (copy/chunker.py)."""
    key = plan.shared_key
    chunker = Chunker(streaming.writer, plan.original.name, plan.key.name, key, lookahead=ahead)
    if restore is not None:
        restore(chunker)
    elif not chunker.capture_range():
        streaming.applier.copying = False
    return Copier(
        streaming.writer,
        plan,
        chunker,
        streaming.context,
        ghost_table=ghost,
        key=key,
        lock_clause="",
        resolve_conflicts=streaming.applier.resolve_chunk_conflicts,
        before_chunk=streaming.applier.make_visible,
        on_retry=streaming.copy_retry,
    )


def copy_rows(
    copier: Copier,
    streaming: Streaming,
    checkpoints: CheckpointSaver,
    *,
    build_indexes: Callable[[], IndexBuild | None] | None = None,
) -> None:
    """Copy chunk after chunk; queued binlog changes always go first. ``build_indexes``
    gives the build of the deferred indexes, which runs early if the table is busy."""
    context = streaming.context
    context.set_phase("copying")
    context.copy_started_at = time.monotonic()
    # A resumed run starts with the checkpoint's rows counted: they are not this run's.
    context.rows_copied_before = context.rows_copied
    early = EarlyBuild(context, build_indexes, streaming.tend) if build_indexes else None
    try:
        while not copier.done:
            streaming.check_abort()
            streaming.wait_while_throttled()
            streaming.apply_through_pause()
            # Queued changes go first, but for no longer than the last chunk took: under
            # a write load the apply cannot keep up with, the copy still gets half of the
            # writer's time and finishes; the backlog waits in the bounded queue (and the
            # binlog) and is drained before the checksum and the cut-over.
            streaming.apply_pending(budget_seconds=max(MIN_APPLY_SLICE, copier.last_seconds))
            if early is not None:
                early.check()
            if not copier.copy_next():
                break
            streaming.applier.copied_through_lo = True
            checkpoints.save()
            streaming.report()
    finally:
        copier.chunker.close()
    context.copy_finished_at = time.monotonic()
    context.rows_estimate = max(context.rows_copied, 1)
    streaming.applier.copying = False
    checkpoints.save(force=True)
