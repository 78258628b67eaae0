"""History of online migration runs, one row per engine run.

Rows are written by :mod:`django_ghost.backends.mysql.history` on a connection of their
own (so they survive a failed migration); this model exists to create the table and to
show the rows in the admin.
"""

from __future__ import annotations

from django.db import models


class OnlineRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "running"
        # ghost_migrate --postpone-cut-over: in sync, the cut-over waits for `ghost_ctl approve`.
        WAITING = "waiting", "waiting for cut-over approval"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        ABORTED = "aborted", "aborted"
        # The process was killed mid-run; closed by the next ghost_migrate of the table.
        INTERRUPTED = "interrupted", "interrupted"

    alias = models.CharField(max_length=100)
    migration = models.CharField(max_length=255, blank=True)
    table_name = models.CharField(max_length=64)
    statements = models.TextField()
    route = models.CharField(max_length=20)
    status = models.CharField(max_length=40, choices=Status.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_copied = models.BigIntegerField(default=0)
    events_applied = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    # Filled in by ghost_migrate from the engine's result once the cut-over is done
    # (NULL for runs that did not get there, and for rows written before these existed).
    cut_over_stall_seconds = models.FloatField(null=True, blank=True)
    checksum_verified = models.BooleanField(null=True, blank=True)
    # The binlog position of the checkpoint this run resumed an interrupted one from
    # (NULL for a run that started from scratch).
    resumed_from = models.CharField(max_length=255, null=True, blank=True)
    # An online run: the old table it kept, with a cut-over checkpoint, for a revert
    # (docs/revert.md). A revert run (route "revert"): the old table it put back.
    old_table = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "online migration run"

    def __str__(self) -> str:
        return f"{self.alias}.{self.table_name} ({self.status})"
