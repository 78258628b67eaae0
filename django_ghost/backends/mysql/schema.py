"""The schema editor: capture ALTERs, batch them per table, flush them to the router.

:class:`GhostSchemaEditorMixin` does all the work, so a project with its own MySQL
backend can compose it in front of its editor class. When online migrations are off
(the default: no ``ghost_migrate`` running, or ``GHOST_MIGRATE`` not true under
``migrate``, or the alias not enabled, or test-database creation) every method goes
straight to Django's implementation and nothing else runs: the stock editor, byte for
byte.

When on, ``execute()`` classifies each statement. ALTERs (and index DDL rewritten to
ALTER form) join the pending batch of their table; anything else first *flushes* the
batch and then runs as written. The batch is also flushed

- when a statement for another table arrives (order across tables is preserved);
- before any other query on the connection: introspection, RunPython's ORM queries and
  the migration recorder's INSERT all go through an ``execute_wrapper`` that flushes
  first, so introspection never sees a stale schema and a migration is never recorded
  before its online work has cut over;
- at the end of each editor operation (the default ``batch="operation"``), or only at
  the end of the migration with ``batch="migration"`` (setting, or the
  :class:`~django_ghost.operations.GhostBatch` operation);
- at editor exit, after Django's deferred statements were captured.

An exception discards the pending batch, like Django discards deferred SQL.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLSchemaEditor
from django.db.transaction import TransactionManagementError

from django_ghost.conf import resolve

from .router import Captured, Router
from .sql import Kind, classify, unquote
from .state import GhostSession, current_session


class _Interceptor:
    """Per-editor capture state; exists only while online migrations are on."""

    def __init__(self, editor: Any, session: GhostSession, config: Any):
        self.editor = editor
        self.session = session
        self.config = config
        self.plan = session.mode == "plan"
        self.batch_mode = config.options.batch
        self.pending: list[Captured] = []
        self.pending_table = ""
        self.depth = 0
        self.flushing = False
        self.operation_name = ""
        self._wrapper_cm: Any = None
        self.router = Router(
            connection=editor.connection,
            config=config,
            session=session,
            run_direct=self._run_direct,
            query=self._query,
            plan=self.plan,
        )

    # -- connection hooks ----------------------------------------------------------------

    def open(self) -> None:
        self._wrapper_cm = self.editor.connection.execute_wrapper(self._guard)
        self._wrapper_cm.__enter__()

    def close(self) -> None:
        if self._wrapper_cm is not None:
            self._wrapper_cm.__exit__(None, None, None)
            self._wrapper_cm = None

    def _guard(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.pending and not self.flushing:
            self.flush()
        return execute(sql, params, many, context)

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.editor.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _run_direct(self, item: Captured) -> None:
        super(GhostSchemaEditorMixin, self.editor).execute(item.sql, item.params)

    # -- capture -------------------------------------------------------------------------

    @contextlib.contextmanager
    def operation(self, name: str) -> Iterator[None]:
        if self.depth == 0:
            self.operation_name = name
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        # Only reached without an exception: a failed operation's batch is discarded.
        if self.depth == 0 and self.batch_mode == "operation":
            self.flush()

    def capture(self, sql: Any, params: Sequence[Any] | None) -> None:
        text = str(sql)
        rendered = text % tuple(map(self.editor.quote_value, params)) if params else text
        classified = classify(rendered)
        item = Captured(sql, params, rendered, classified, self.operation_name)
        database = str(self.editor.connection.settings_dict.get("NAME") or "")
        batchable = (
            classified.kind is Kind.ALTER
            and not classified.renames_table
            and classified.schema in ("", database)
        )
        if not batchable:
            self.flush()
            self._passthrough(item)
            return
        if self.pending and self.pending_table != classified.table:
            self.flush()
        self.pending.append(item)
        self.pending_table = classified.table
        if self.depth == 0 and self.batch_mode == "operation":
            self.flush()  # RunSQL and other statements outside an editor operation

    def _passthrough(self, item: Captured) -> None:
        kind = item.classified.kind
        table = item.classified.table
        if kind is Kind.CREATE_TABLE:
            self.router.created_tables.add(table)
        reasons = {
            Kind.CREATE_TABLE: "new table",
            Kind.DROP_TABLE: "drop table",
            Kind.DML: "data change, run before any later online copy",
            Kind.MULTI: "several statements: run as written",
            Kind.RENAME_TABLE: "table rename (metadata only)",
            Kind.ALTER: "table rename or other schema: run as written",
        }
        self.flushing = True
        try:
            self.router.direct([item], table, reasons.get(kind, "not an ALTER: run as written"))
        finally:
            self.flushing = False
        if kind is Kind.DROP_TABLE:
            self.router.created_tables.discard(table)

    def flush(self) -> None:
        if not self.pending or self.flushing:
            return
        batch, table = self.pending, self.pending_table
        self.pending, self.pending_table = [], ""
        self.router.migration = self.session.current_migration
        self.flushing = True
        try:
            for part in defaults_after_copy(batch):
                self.router.route(table, part)
        finally:
            self.flushing = False


def defaults_after_copy(batch: list[Captured]) -> list[list[Captured]]:
    """The batch in the parts the router gets, ``SET/DROP DEFAULT`` moved past the copy.

    Django's AddField adds a column with its default, then drops the default. Merged with
    later ALTERs (``batch="migration"``) that ``DROP DEFAULT`` would sit inside the online
    copy, and the ghost table's new NOT NULL column would have no value for the copied
    rows. The router runs *trailing* default changes direct after the copy, so a default
    change that follows a copying statement moves to the end of its part. A later
    statement that names its column starts a new part (a second copy), so the change
    still runs before it.
    """
    parts: list[list[Captured]] = []
    current: list[Captured] = []
    deferred: list[Captured] = []
    copying = False
    for item in batch:
        if copying and item.classified.default_only:
            deferred.append(item)
            continue
        if any(_names_column(item, _default_column(d)) for d in deferred):
            parts.append(current + deferred)
            current, deferred, copying = [], [], False
        current.append(item)
        copying = copying or not item.classified.metadata_only
    parts.append(current + deferred)
    return [part for part in parts if part]


def _default_column(item: Captured) -> str:
    """The column of an ``ALTER [COLUMN] c SET/DROP DEFAULT`` statement ("" if unsure)."""
    match = re.match(
        r"ALTER\s+(?:COLUMN\s+)?(`(?:[^`]|``)+`|\w+)", item.classified.clauses[0], re.I
    )
    return unquote(match.group(1)) if match else ""


def _names_column(item: Captured, column: str) -> bool:
    """Whether the statement may touch ``column`` (a textual, conservative test)."""
    if not column:
        return True
    text = item.classified.alter or item.rendered
    return re.search(rf"(?<![\w$]){re.escape(column)}(?![\w$])", text, re.I) is not None


def _interceptor_for(editor: Any) -> _Interceptor | None:
    """The interceptor when online migrations are on for this editor, else None."""
    session = current_session()
    if session is None:
        return None
    connection = editor.connection
    if not session.allows(connection.alias):
        return None
    if (session.mode == "plan") != bool(editor.collect_sql):
        # sqlmigrate under ghost_migrate, or a real editor during --plan: stay stock.
        return None
    if (connection.settings_dict.get("TEST") or {}).get("MIRROR"):
        return None
    config = resolve(connection.alias, overrides=session.overrides)
    if not config.options.enabled:
        return None
    return _Interceptor(editor, session, config)


def _operation(name: str) -> Callable[..., Any]:
    """An editor method that runs Django's, marking an operation boundary when on."""

    def method(self: GhostSchemaEditorMixin, *args: Any, **kwargs: Any) -> Any:
        parent = getattr(super(GhostSchemaEditorMixin, self), name)
        ghost = self._ghost
        if ghost is None:
            return parent(*args, **kwargs)
        with ghost.operation(name):
            return parent(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Django's ``{name}``; with online migrations on, one batch boundary."
    return method


class GhostSchemaEditorMixin:
    """Compose in front of a MySQL schema editor to route its ALTERs online.

    ``class SchemaEditor(GhostSchemaEditorMixin, MyMySQLSchemaEditor): ...``
    """

    _ghost: _Interceptor | None = None
    connection: Any
    collect_sql: bool

    def __init__(self, connection: Any, collect_sql: bool = False, atomic: bool = True):
        super().__init__(connection, collect_sql=collect_sql, atomic=atomic)  # type: ignore[call-arg]
        self._ghost = _interceptor_for(self)

    def __enter__(self) -> Any:
        result = super().__enter__()  # type: ignore[misc]
        if self._ghost is not None:
            self._ghost.open()
        return result

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        ghost = self._ghost
        if ghost is None:
            return super().__exit__(exc_type, exc_value, traceback)  # type: ignore[misc]
        try:
            # Django runs its deferred statements through execute(): they are captured.
            result = super().__exit__(exc_type, exc_value, traceback)  # type: ignore[misc]
            if exc_type is None:
                ghost.flush()
        finally:
            ghost.close()
        return result

    def execute(self, sql: Any, params: Sequence[Any] | None = ()) -> Any:
        ghost = self._ghost
        if ghost is None or ghost.flushing:
            return super().execute(sql, params)  # type: ignore[misc]
        if ghost.plan:
            super().execute(sql, params)  # type: ignore[misc]  # collect as sqlmigrate does
            ghost.capture(sql, params)
            return None
        if self.connection.in_atomic_block and not self.connection.features.can_rollback_ddl:
            raise TransactionManagementError(
                "Executing DDL statements while in a transaction on databases "
                "that can't perform a rollback is prohibited."
            )
        ghost.capture(sql, params)
        return None

    def ghost_set_batch(self, mode: str) -> None:
        """Batch per "operation" or per "migration" from here on (GhostBatch operation)."""
        if self._ghost is not None:
            self._ghost.flush()
            self._ghost.batch_mode = mode

    create_model = _operation("create_model")
    delete_model = _operation("delete_model")
    add_field = _operation("add_field")
    remove_field = _operation("remove_field")
    alter_field = _operation("alter_field")
    alter_unique_together = _operation("alter_unique_together")
    alter_index_together = _operation("alter_index_together")
    alter_db_table = _operation("alter_db_table")
    alter_db_table_comment = _operation("alter_db_table_comment")
    alter_db_tablespace = _operation("alter_db_tablespace")
    add_index = _operation("add_index")
    remove_index = _operation("remove_index")
    rename_index = _operation("rename_index")
    add_constraint = _operation("add_constraint")
    remove_constraint = _operation("remove_constraint")


class DatabaseSchemaEditor(GhostSchemaEditorMixin, MySQLSchemaEditor):
    """Django's MySQL schema editor with online ALTERs when enabled."""
