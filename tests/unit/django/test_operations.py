"""GhostBatch: the migration operation that sets the batching granularity."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.migrations.writer import OperationWriter

from django_ghost.operations import GhostBatch


class _Editor:
    def __init__(self) -> None:
        self.modes: list[str] = []

    def ghost_set_batch(self, mode: str) -> None:
        self.modes.append(mode)


def test_ghost_batch__serialized__imports_django_ghost_operations() -> None:
    text, imports = OperationWriter(GhostBatch("migration"), indentation=0).serialize()
    assert "import django_ghost.operations" in imports
    assert text.startswith("django_ghost.operations.GhostBatch(")


def test_ghost_batch__unknown_mode__refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        GhostBatch("table")


def test_ghost_batch__forwards_and_backwards__sets_the_mode_on_a_ghost_editor() -> None:
    editor = _Editor()
    operation = GhostBatch("migration")
    operation.database_forwards("app", editor, None, None)
    operation.database_backwards("app", editor, None, None)
    assert editor.modes == ["migration", "migration"]


def test_ghost_batch__plain_editor__ignored() -> None:
    plain: Any = object()
    GhostBatch("operation").database_forwards("app", plain, None, None)
