"""Migration operations that tune django_ghost for one migration.

``GhostBatch("migration")`` placed first in a migration's ``operations`` makes the
editor combine every ALTER of a table in that migration (deferred index statements
included) into as few online copies as possible, instead of one per operation. It has no
state and emits no SQL, so ``migrate`` without django_ghost and ``sqlmigrate`` ignore it.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation

from django_ghost.conf import BATCH_CHOICES


class GhostBatch(Operation):
    """Choose the batching granularity ("operation" or "migration") from here on."""

    reversible = True
    reduces_to_sql = True
    elidable = True

    def __init__(self, mode: str = "migration"):
        if mode not in BATCH_CHOICES:
            raise ValueError(f"GhostBatch mode {mode!r} is unknown; use one of {BATCH_CHOICES}.")
        self.mode = mode

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [self.mode], {}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        setter = getattr(schema_editor, "ghost_set_batch", None)
        if setter is not None:
            setter(self.mode)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"django_ghost: batch online alters per {self.mode}"
