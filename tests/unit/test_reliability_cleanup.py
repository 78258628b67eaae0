"""engine.cleanup without a server: lock names, socket discovery, formatting."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from django_ghost.engine.errors import ConfigError
from django_ghost.engine.sql.names import migration_lock_name
from django_ghost.engine.state.cleanup import Leftover, format_leftovers, stale_sockets


def test_migration_lock_name__short__readable() -> None:
    assert migration_lock_name("shop", "orders") == "django-ghost.shop.orders"


def test_migration_lock_name__over_64__hashed_like_the_migrator() -> None:
    name = migration_lock_name("d" * 30, "t" * 40)
    full = f"django-ghost.{'d' * 30}.{'t' * 40}"
    assert name == "django-ghost." + hashlib.sha1(full.encode()).hexdigest()
    assert len(name) <= 64


def test_stale_sockets__dead_and_live__only_dead_listed(tmp_path: Path) -> None:
    dead = tmp_path / "django-ghost.shop.orders.sock"
    live = tmp_path / "django-ghost.shop.items.sock"
    other = tmp_path / "django-ghost.other.x.sock"
    for path in (dead, live, other):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(path))
        s.close()
    (tmp_path / "django-ghost.shop.plain.sock").write_text("not a socket")
    found = stale_sockets("shop", directory=str(tmp_path), is_live=lambda p: p == str(live))
    assert [(f.kind, f.name, f.table) for f in found] == [("socket", str(dead), "orders")]


def test_format_leftovers__rows__aligned_with_units() -> None:
    text = format_leftovers(
        [
            Leftover("ghost", "_t_gho", "t", 30.0, 2048, 10),
            Leftover("socket", "/tmp/x.sock", None, 9000.0, None),
        ]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "TABLE", "AGE", "SIZE", "ROWS"]
    assert lines[1].split() == ["ghost", "_t_gho", "t", "30s", "2.0", "KiB", "10"]
    assert lines[2].split() == ["socket", "/tmp/x.sock", "?", "2h", "-", "-"]


def test_leftover__old_table__needs_asking() -> None:
    assert not Leftover("old", "_t_del", "t", None, None).droppable_without_asking
    assert Leftover("sentry", "_t_del", "t", None, None).droppable_without_asking


def test_find_leftovers__two_templates__config_error() -> None:
    from django_ghost.engine.state.cleanup import find_leftovers

    with pytest.raises(ConfigError, match="ghost, changelog and old"):
        find_leftovers(None, "db", templates=("_{table}_gho", "_{table}_ghc"))
