"""The streamer's schema-change watch: DDL naming the migrated table stops the migration
unless one of the engine's own sessions ran it (apply/streamer.py ``own_sessions``)."""

from __future__ import annotations

from django_ghost.engine.apply.streamer import Streamer
from django_ghost.engine.binlog.events import BinlogPosition, SchemaChange
from django_ghost.engine.binlog.reader import FakeBinlogReader
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext

AT = BinlogPosition("binlog.000001", 100)


def _streamer() -> Streamer:
    context = MigrationContext(GhostConfig(database="app", table="t", alter="ADD x INT"))
    return Streamer(
        FakeBinlogReader(AT),
        context,
        table="t",
        changelog_table="_t_ghc",
        own_tables=("_t_gho", "_t_ghc", "_t_del", "t~g", "t~d"),
    )


def test_schema_change__another_session_alters_the_table__aborted() -> None:
    streamer = _streamer()
    streamer.own_sessions.add(7)
    streamer._handle(SchemaChange("app", "ALTER TABLE t ADD COLUMN z INT", AT, thread_id=8))
    assert streamer.context.aborted
    assert "changed by another statement" in (streamer.context.abort_reason or "")


def test_schema_change__own_session_renames_the_table__not_aborted() -> None:
    streamer = _streamer()
    streamer.own_sessions.add(7)
    rename = "RENAME TABLE `t` TO `_t_del`, `t~g` TO `t`"
    streamer._handle(SchemaChange("app", rename, AT, thread_id=7))
    assert not streamer.context.aborted


def test_schema_change__ddl_on_helper_tables_only__not_aborted() -> None:
    streamer = _streamer()
    streamer._handle(SchemaChange("app", "RENAME TABLE `_t_gho` TO `t~g`", AT, thread_id=9))
    assert not streamer.context.aborted
